"""Units and failed actions of an NS's Juju model, from the JSON that
jujudebug fetches (FullStatus and ActionsByReceivers as libjuju serialises
them).  Action parameters and outputs are masked: K/OP and passwords travel
as action parameters in R8."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .runner import MASK, Masker

FAILED_STATES = ("failed", "error", "aborted")


def is_secret_key(key: str) -> bool:
    key = key.lower()
    return key in ("k", "op", "opc", "key") or "password" in key or "secret" in key


def mask_value(value, masker: Masker):
    if isinstance(value, dict):
        return {k: MASK if is_secret_key(str(k)) else mask_value(v, masker) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(v, masker) for v in value]
    if isinstance(value, str):
        return masker(value)
    return value


def vca_map(nsr: dict) -> dict[str, dict]:
    """{application: OSM's VCA record} (member-vnf-index, vdu_id) from the NS record."""
    deployed = ((nsr.get("_admin") or {}).get("deployed") or {}).get("VCA") or []
    return {entry["application"]: entry for entry in deployed if isinstance(entry, dict) and entry.get("application")}


def units(fetched: dict, nsr: dict) -> list[dict]:
    vca = vca_map(nsr)
    out = []
    for app_name, app in sorted(((fetched.get("status") or {}).get("applications") or {}).items()):
        owner = vca.get(app_name, {})
        for unit_name, unit in sorted((app.get("units") or {}).items()):
            workload = unit.get("workload-status") or {}
            agent = unit.get("agent-status") or {}
            out.append({
                "application": app_name, "unit": unit_name,
                "member": owner.get("member-vnf-index") or "-", "vdu": owner.get("vdu_id") or "-",
                "workload": workload.get("status") or "-", "message": workload.get("info") or "",
                "agent": agent.get("status") or "-", "machine": unit.get("machine") or "-",
                "address": unit.get("public-address") or unit.get("address") or "-",
            })
    return out


def failed_actions(fetched: dict, masker: Masker) -> list[dict]:
    out = []
    for receiver in (fetched.get("actions") or {}).get("actions") or []:
        for result in receiver.get("actions") or []:
            if (result.get("status") or "") not in FAILED_STATES:
                continue
            action = result.get("action") or {}
            error = result.get("error") or {}
            out.append({
                "unit": (action.get("receiver") or receiver.get("receiver") or "").replace("unit-", "", 1),
                "action": action.get("name") or "?",
                "id": (action.get("tag") or "").replace("action-", "", 1),
                "status": result.get("status"),
                "enqueued": result.get("enqueued") or "", "completed": result.get("completed") or "",
                "parameters": mask_value(action.get("parameters") or {}, masker),
                "message": masker(result.get("message") or (error.get("message") if isinstance(error, dict) else "")
                                  or ""),
                "output": mask_value(result.get("output") or {}, masker),
                "log": [masker(str(entry.get("message", entry)) if isinstance(entry, dict) else str(entry))
                        for entry in result.get("log") or []],
            })
    return sorted(out, key=lambda a: (a["enqueued"], a["unit"]))


def render_units(rows: list[dict], model: str, console: Console) -> None:
    table = Table(title=f"Juju model {model}")
    for column in ("member", "VDU", "unit", "workload", "message", "agent", "machine", "address"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row["member"]), str(row["vdu"]), row["unit"], row["workload"], row["message"],
                      row["agent"], row["machine"], row["address"])
    console.print(table)


def _dict_lines(value, indent: str = "    ") -> list[str]:
    lines = []
    for key, item in sorted(value.items()):
        if isinstance(item, dict):
            lines.append(f"{indent}{key}:")
            lines += _dict_lines(item, indent + "  ")
        else:
            text = str(item)
            if "\n" in text:
                lines.append(f"{indent}{key}: |")
                lines += [f"{indent}  {line}" for line in text.splitlines()]
            else:
                lines.append(f"{indent}{key}: {text}")
    return lines


def render_failed(actions: list[dict], console: Console) -> None:
    if not actions:
        console.print("No failed actions.")
        return
    for a in actions:
        console.print(f"[bold red]{a['action']}[/bold red] on {a['unit']} ({a['status']}, id {a['id']}, "
                      f"enqueued {a['enqueued']}, completed {a['completed']})", markup=True, highlight=False)
        console.print("  message: " + (a["message"] or "-"), markup=False, highlight=False)
        console.print("  parameters:" + ("" if a["parameters"] else " -"), markup=False)
        for line in _dict_lines(a["parameters"]):
            console.print(line, markup=False, highlight=False)
        console.print("  output:" + ("" if a["output"] else " -"), markup=False)
        for line in _dict_lines(a["output"]):
            console.print(line, markup=False, highlight=False)
        if a["log"]:
            console.print("  log:", markup=False)
            for line in a["log"]:
                console.print("    " + line, markup=False, highlight=False)
