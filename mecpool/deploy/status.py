"""``mecpool status NS``: the NS record (``osm ns-show --literal``), each VNF
with its VIM account and addresses (``vnf-list`` + ``vnf-show``) and the
operation history (``ns-op-list``)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .osmcli import Osm


def collect(osm: Osm, ns: str) -> dict:
    nsr = osm.ns_record(ns)
    return {"nsr": nsr, "vnfs": osm.vnf_records(ns), "vims": osm.vim_accounts(),
            "ops": osm.table("ns-op-list", ns)}


def vdu_lines(vnf: dict) -> list[tuple[str, str, str]]:
    out = []
    for vdur in vnf.get("vdur") or []:
        ips = [i.get("ip-address") for i in vdur.get("interfaces") or [] if i.get("ip-address")]
        out.append((vdur.get("name") or vdur.get("vdu-id-ref", "?"), vdur.get("status", "-"),
                    ", ".join(ips) or vdur.get("ip-address") or "-"))
    return out


def render(data: dict, console: Console, labels: dict[str, str] | None = None, flags: list[str] = ()) -> None:
    """``labels``: member index -> its name in the site ("PE group mec (mec)"); shown next to the index.
    ``flags``: what differs from the site (a PE group below its count), shown after the state."""
    labels = labels or {}
    nsr = data["nsr"]
    console.print(f"[bold]NS {nsr.get('name')}[/bold]  id {nsr.get('_id')}")
    console.print(f"  state: {nsr.get('nsState') or (nsr.get('_admin') or {}).get('nsState', '-')}"
                  f"   operational: {nsr.get('operational-status', '-')}   config: {nsr.get('config-status', '-')}")
    if nsr.get("currentOperation") and nsr.get("currentOperation") != "IDLE":
        console.print(f"  current operation: {nsr['currentOperation']} ({nsr.get('currentOperationID')})")
    if nsr.get("errorDescription") or nsr.get("errorDetail"):
        console.print(f"  [red]error: {nsr.get('errorDescription') or ''} {nsr.get('errorDetail') or ''}[/red]")
    if nsr.get("detailed-status"):
        console.print(f"  detail: {nsr['detailed-status']}")
    for flag in flags:
        console.print(f"  [yellow]! {flag}[/yellow]", highlight=False)
    vnfs = Table(title="VNFs")
    for column in ("member", "VNFD", "VIM account", "management IP", "VDU", "VDU status", "addresses"):
        vnfs.add_column(column)
    for vnf in data["vnfs"]:
        vim = data["vims"].get(vnf.get("vim-account-id"), vnf.get("vim-account-id") or "-")
        lines = vdu_lines(vnf) or [("-", "-", "-")]
        for n, (name, state, ips) in enumerate(lines):
            index = vnf.get("member-vnf-index-ref", "?")
            head = (f"{index} {labels[index]}" if index in labels else index, vnf.get("vnfd-ref", "?"), vim,
                    vnf.get("ip-address") or "-") if n == 0 else ("", "", "", "")
            vnfs.add_row(*head, name, state, ips)
    console.print(vnfs)
    ops = Table(title="Operations")
    for column in ("id", "operation", "action", "status", "date", "detail"):
        ops.add_column(column)
    for row in data["ops"]:
        ops.add_row(row.get("id", ""), row.get("operation", ""), row.get("action_name", ""),
                    row.get("status", ""), row.get("date", ""), row.get("detail", ""))
    console.print(ops)


def summary(data: dict, labels: dict[str, str] | None = None, flags: list[str] = ()) -> dict:
    """What ``render`` shows, as data (``-o json|yaml``)."""
    labels = labels or {}
    nsr = data["nsr"]
    vnfs = []
    for vnf in data["vnfs"]:
        index = vnf.get("member-vnf-index-ref", "?")
        vnfs.append({"member": index, "role": labels.get(index), "vnfd": vnf.get("vnfd-ref"),
                     "vim_account": data["vims"].get(vnf.get("vim-account-id"), vnf.get("vim-account-id")),
                     "management_ip": vnf.get("ip-address"),
                     "vdus": [{"name": name, "status": state, "addresses": [a for a in ips.split(", ") if a != "-"]}
                              for name, state, ips in vdu_lines(vnf)]})
    return {"name": nsr.get("name"), "id": nsr.get("_id"),
            "state": nsr.get("nsState") or (nsr.get("_admin") or {}).get("nsState"),
            "operational_status": nsr.get("operational-status"), "config_status": nsr.get("config-status"),
            "current_operation": nsr.get("currentOperation"), "error": nsr.get("errorDescription"),
            "detail": nsr.get("detailed-status"), "site_differences": list(flags), "vnfs": vnfs,
            "operations": [{k: row.get(k, "") for k in ("id", "operation", "action_name", "status", "date", "detail")}
                           for row in data["ops"]]}
