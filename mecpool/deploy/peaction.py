"""``mecpool pe-action NS --group G ACTION [KEY=VALUE ...]``: a day-2 primitive
of the PE charm (reconfigure, restart, pe-status) on a PE group, and a plain
report of which PE VDUs it reached.

``osm ns-action NS --vnf_name <member> --vdu_id <PE VDU> --vdu_count <N>
--action_name ACTION --params YAML --wait`` once per PE VDU with a charm
(mecpool.deploy.pevdus); in Release EIGHT these are the VDUs OSM
instantiated, never the scaled-out ones, which are named as not reached."""

from __future__ import annotations

import json

import yaml

from .errors import InputError

NOT_REACHED = "not reached (scaled out: OSM Release EIGHT deployed no charm on it)"


def parse_params(primitives: dict[str, list[dict]], action: str, words: tuple[str, ...]) -> dict:
    """KEY=VALUE words as the primitive's parameters, checked against the VNFD (INTEGER parameters
    become numbers); a wrong name or value is an InputError naming it."""
    if action not in primitives:
        raise InputError(f"ACTION: the PE charm has no day-2 primitive {action!r} "
                         f"(the VNFD offers: {', '.join(primitives) or 'none'})")
    declared = {p["name"]: p for p in primitives[action]}
    params = {}
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise InputError(f"parameter {word!r}: write KEY=VALUE (e.g. capacity=2000)")
        if key not in declared:
            allowed = ", ".join(declared) or f"none: {action} takes no parameters"
            raise InputError(f"parameter {key!r}: {action} has no such parameter ({allowed})")
        if key in params:
            raise InputError(f"parameter {key!r} given twice")
        if str(declared[key].get("data-type", "STRING")).upper() == "INTEGER":
            try:
                params[key] = int(value)
            except ValueError:
                raise InputError(f"parameter {key!r}: {value!r} is not a whole number") from None
        else:
            params[key] = value
    return params


def action_args(ns: str, member: str, vdu_id: str, count_index: int, action: str, params: dict,
                timeout: int) -> list[str]:
    args = ["ns-action", ns, "--vnf_name", member, "--vdu_id", vdu_id, "--vdu_count", str(count_index),
            "--action_name", action]
    if params:
        args += ["--params", yaml.safe_dump(params, default_flow_style=True, sort_keys=True, width=1000).strip()]
    return args + ["--timeout", str(timeout), "--wait"]


def result_lines(detailed) -> list[str]:
    """The action's results (an op's detailed-status) as "key: value" lines."""
    if isinstance(detailed, str):
        try:
            detailed = json.loads(detailed)
        except ValueError:
            try:
                detailed = yaml.safe_load(detailed)
            except yaml.YAMLError:
                pass
    if isinstance(detailed, dict):
        return [f"{key}: {value}" for key, value in sorted(detailed.items())]
    return [str(detailed)] if detailed not in (None, "") else []


def select(pes: list, vdu_name: str | None, count_index: int | None, group: str) -> list:
    """The one PE VDU --vdu (its name) or --index (its count-index) names; an InputError listing the
    group's PE VDUs when none matches."""
    found = [pe for pe in pes if (vdu_name is not None and pe.name == vdu_name)
             or (count_index is not None and pe.count_index == count_index)]
    if not found:
        known = ", ".join(f"{pe.name} (index {pe.count_index})" for pe in pes)
        given = f"--vdu {vdu_name}" if vdu_name is not None else f"--index {count_index}"
        raise InputError(f"{given}: no such PE VDU in group {group} (it has: {known})")
    return found
