"""``mecpool teardown NS``: ``osm ns-delete NS [--force]``; with ``--wait``
follow the terminate operation until OSM has removed the NS record."""

from __future__ import annotations

import time

from .errors import CommandFailed, DeployError
from .osmcli import Osm
from .wait import FAILED, op_detail


def ns_delete_args(ns: str, force: bool) -> list[str]:
    return ["ns-delete", ns] + (["--force"] if force else [])


def wait_deleted(osm: Osm, ns: str, timeout: float, interval: float, echo) -> None:
    """Poll ``ns-op-list`` until the NS is gone (OSM removes it after terminating)."""
    start = time.monotonic()
    last = None
    while True:
        try:
            rows = osm.table("ns-op-list", ns)
        except CommandFailed as error:
            if "not found" in (error.stdout + error.stderr):
                echo(f"  NS {ns} deleted ({time.monotonic() - start:.0f} s)")
                return
            raise
        terminate = [row for row in rows if row["operation"] == "terminate"]
        if terminate:
            row = terminate[-1]
            if row["status"] in FAILED:
                op = osm.literal("ns-op-show", row["id"])
                raise DeployError(f"terminating NS {ns} {row['status']} (operation {row['id']}):\n  {op_detail(op)}",
                                  undo=[f"mecpool teardown {ns} --force   (removes OSM's record; check the VIMs "
                                        "for leftover VMs and networks)"])
            if (row["status"], row["detail"]) != last:
                echo(f"  terminate: {row['status']}" + (f" - {row['detail']}" if row["detail"] not in ("", "-") else ""))
                last = (row["status"], row["detail"])
        if time.monotonic() - start >= timeout:
            raise DeployError(f"NS {ns} still exists after {timeout:g} s (timeout); OSM goes on terminating it: "
                              f"osm ns-op-list {ns}")
        time.sleep(interval)
