"""Wait for an OSM operation (an nslcmop): poll ``osm ns-op-show ID --literal``
with a timeout, show a progress line (rich), and turn a FAILED operation into
an error carrying OSM's detail."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from .errors import DeployError
from .osmcli import Osm

DONE = ("COMPLETED", "PARTIALLY_COMPLETED")
FAILED = ("FAILED", "FAILED_TEMP")


def op_detail(op: dict) -> str:
    """What OSM says about an operation: its error, else its detailed status."""
    for key in ("errorMessage", "detailed-status"):
        value = op.get(key)
        if value:
            return value if isinstance(value, str) else str(value)
    return "(OSM gave no detail)"


def find_op(osm: Osm, ns: str, operation: str, action: str | None = None, not_in: set[str] = frozenset()) -> str:
    """The id of the newest ``operation`` (and action name) of NS ``ns`` in ``osm ns-op-list``."""
    rows = [row for row in osm.table("ns-op-list", ns)
            if row["operation"] == operation and (action is None or row["action_name"] == action)
            and row["id"] not in not_in]
    if not rows:
        raise DeployError(f"no {operation} operation of NS {ns} in osm ns-op-list")
    return rows[-1]["id"]


class Waiter:
    def __init__(self, osm: Osm, timeout: float, interval: float, echo: Callable[[str], None],
                 console: Console | None = None) -> None:
        self.osm, self.timeout, self.interval, self.echo = osm, timeout, interval, echo
        self.console = console or Console(stderr=True)

    def wait(self, op_id: str, label: str) -> dict:
        """Poll until the op ends; return its record; raise DeployError on failure or timeout."""
        start = time.monotonic()
        last = None
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=self.console, transient=True) as progress:
            task = progress.add_task(f"{label}: waiting for OSM", total=None)
            while True:
                op = self.osm.literal("ns-op-show", op_id)
                state = op.get("operationState", "?")
                stage = op.get("detailed-status") or op.get("stage") or ""
                queue = op.get("queuePosition")
                text = f"{label}: {state}" + (f" (queue position {queue})" if queue else "") + (
                    f" - {stage}" if isinstance(stage, str) and stage else "")
                progress.update(task, description=text)
                if (state, stage) != last and state not in DONE + FAILED:
                    self.echo(f"  {label}: {state}" + (f" - {stage}" if isinstance(stage, str) and stage else ""))
                    last = (state, stage)
                if state in DONE:
                    self.echo(f"  {label}: {state} after {time.monotonic() - start:.0f} s")
                    return op
                if state in FAILED:
                    raise DeployError(f"{label} {state} in OSM (operation {op_id}):\n  {op_detail(op)}\n"
                                      f"  (details: osm ns-op-show {op_id})")
                if time.monotonic() - start >= self.timeout:
                    raise DeployError(f"{label}: still {state} after {self.timeout:g} s (timeout); OSM goes on "
                                      f"with it: follow it with osm ns-op-show {op_id}")
                time.sleep(self.interval)
