"""The lab's table and verdicts, as text (printed) and as JSON (kept in the run dir)."""

import json


def _seconds(run, stamp):
    value = getattr(run, stamp)
    return "" if value is None or run.started is None else "{:.0f}".format(value - run.started)


def vm_rows(lab):
    rows = []
    for name, run in lab.runs.items():
        if run.started is None:
            continue
        rows.append({
            "vm": name,
            "vdu": "{}/{}".format(run.vm.vnfd_id, run.vm.vdu_id) + (" (scale-out)" if run.vm.scale_out else ""),
            "user_data_bytes": run.user_data_bytes,
            "boot_to_ssh_s": _seconds(run, "ssh_ready"),
            "boot_to_cloud_init_done_s": _seconds(run, "cloud_init_done"),
            "boot_to_registered_s": _seconds(run, "registered"),
            "cloud_init": run.failure or (run.cloud_init.summary() if run.cloud_init else ""),
        })
    return rows


def table(lab):
    header = ("VM", "VDU", "user data (B)", "boot to SSH (s)", "boot to cloud-init done (s)",
              "boot to registered (s)", "cloud-init result")
    rows = [(r["vm"], r["vdu"], "{:,}".format(r["user_data_bytes"]), r["boot_to_ssh_s"],
             r["boot_to_cloud_init_done_s"], r["boot_to_registered_s"], r["cloud_init"]) for r in vm_rows(lab)]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip() for row in rows)
    return "\n".join(lines)


def verdicts(outcome):
    lines = []
    for check in outcome.checks:
        lines.append("{} {}{}".format("PASS" if check.ok else "FAIL", check.name,
                                      ": " + check.detail if check.detail and not check.ok else ""))
    return "\n".join(lines)


def as_json(lab, outcome, wall_s):
    return json.dumps({
        "ok": outcome.ok,
        "wall_s": round(wall_s, 1),
        "setup_s": {k: round(v, 1) for k, v in lab.timings.items()},
        "steps_s": {k: round(v, 1) for k, v in outcome.steps.items()},
        "facts": outcome.facts,
        "vms": vm_rows(lab),
        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in outcome.checks],
    }, indent=2)
