"""Read the pool through the registrar charm's ``pool-status`` action:
``osm ns-action NS --vnf_name <registrar member> --vdu_id <registrar VDU>
--action_name pool-status --wait``, then the result from ``osm ns-op-show``.
LCM stores a Juju action's results as the operation's ``detailed-status``;
the charm puts the whole hsdump parse under the ``json`` key."""

from __future__ import annotations

import ast
import json

import yaml
from rich.table import Table

from .errors import CommandFailed, DeployError
from .osmcli import Osm
from .wait import find_op, op_detail


def action_args(ns: str, index: str, vdu: str) -> list[str]:
    return ["ns-action", ns, "--vnf_name", index, "--vdu_id", vdu, "--action_name", "pool-status", "--wait"]


def results_of(detailed) -> dict:
    """The action results from an op's detailed-status (a mapping; older LCMs give its str())."""
    if isinstance(detailed, dict):
        return detailed
    if isinstance(detailed, str):
        for load in (json.loads, yaml.safe_load, ast.literal_eval):
            try:
                value = load(detailed)
            except (ValueError, SyntaxError, yaml.YAMLError):
                continue
            if isinstance(value, dict):
                return value
    raise DeployError(f"pool-status: unreadable action result {str(detailed)[:300]!r}")


def parse_results(results: dict) -> dict:
    """The hsdump parse (``{"home", "peers", "pools"}``) from the action results."""
    text = results.get("json")
    if not isinstance(text, str):
        raise DeployError(f"pool-status: the action result has no 'json' key (keys: {', '.join(results)})")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise DeployError(f"pool-status: the 'json' result is not JSON ({error})") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("pools"), list):
        raise DeployError("pool-status: the 'json' result has no pools list")
    return parsed


def pool_status(osm: Osm, ns: str, index: str, vdu: str) -> dict:
    try:
        op_id = osm.last_line(*action_args(ns, index, vdu))
    except CommandFailed as error:
        # With --wait a failed action exits 1 before printing its id: fetch OSM's detail.
        try:
            op = osm.literal("ns-op-show", find_op(osm, ns, "action", "pool-status"))
        except DeployError:
            raise error from None
        raise DeployError(f"pool-status action on member {index} failed: {op_detail(op)}") from None
    op = osm.literal("ns-op-show", op_id)
    return parse_results(results_of(op.get("detailed-status")))


def addresses(parsed: dict, handle: str | None = None) -> set[str]:
    return {address for pool in parsed["pools"] if handle is None or pool["handle"] == handle
            for element in pool["elements"] for address in element["addresses"]}


def table(parsed: dict, title: str, owners: dict[str, str] | None = None) -> Table:
    """``owners``: PE address -> its PE group and VDU (mecpool.deploy.pevdus.owners); an address
    no PE VDU of the NS holds shows "not of this NS"."""
    out = Table(title=title)
    columns = ["pool", "policy", "PE", "addresses"] + (["PE group: VDU"] if owners is not None else [])
    for column in columns + ["port", "load", "load increment", "home PR"]:
        out.add_column(column)
    for pool in parsed["pools"]:
        for element in pool["elements"]:
            where = []
            if owners is not None:
                where = [", ".join(owners.get(a, "not of this NS") for a in element["addresses"]) or "-"]
            out.add_row(pool["handle"], pool["policy"], element["identifier"], ", ".join(element["addresses"]),
                        *where, str(element["port"]), f"{element['load']:.0%}", f"{element['load_increment']:.0%}",
                        element.get("home_registrar", ""))
        if not pool["elements"]:
            out.add_row(pool["handle"], pool["policy"], *["-"] * (len(columns) + 2))
    return out


def disagreements(views: dict[str, dict], owners: dict[str, str] | None = None) -> list[str]:
    """Where the registrars' views differ: each PE address some registrar sees and another does not."""
    owners = owners or {}
    seen = {name: addresses(view) for name, view in views.items()}
    out = []
    for address in sorted(set().union(*seen.values()) if seen else set()):
        have = [name for name in views if address in seen[name]]
        lack = [name for name in views if address not in seen[name]]
        if lack:
            who = f" ({owners[address]})" if address in owners else ""
            out.append(f"PE {address}{who}: seen by {', '.join(have)}, not by {', '.join(lack)}")
    return out
