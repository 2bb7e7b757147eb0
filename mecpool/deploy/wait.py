"""Wait for an OSM operation (an nslcmop): poll ``osm ns-op-show ID --literal``
with a timeout, show a progress line (rich), and turn a FAILED operation into
an error carrying OSM's detail.  A poll that fails (the NBI restarting, a
dropped connection) is retried, up to POLL_RETRIES in a row, and said; Ctrl-C
says what OSM goes on with."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from .errors import CommandFailed, DeployError, Interrupted, PollsLost
from .osmcli import Osm

DONE = ("COMPLETED", "PARTIALLY_COMPLETED")
FAILED = ("FAILED", "FAILED_TEMP")
POLL_RETRIES = 5


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
        """Poll until the op ends; return its record; raise DeployError on failure or timeout,
        PollsLost when OSM stops answering, Interrupted on Ctrl-C."""
        try:
            return self._wait(op_id, label)
        except KeyboardInterrupt:
            raise Interrupted(f"interrupted while waiting for {label}: OSM goes on with it (operation {op_id}); "
                              f"nothing was cancelled (osm ns-op-show {op_id})") from None

    def poll(self, op_id: str, label: str, failures: int) -> dict | None:
        """One poll; None when it failed and may be retried (said on the way)."""
        try:
            return self.osm.literal("ns-op-show", op_id)
        except CommandFailed as error:
            said = (error.stdout.strip() or error.stderr.strip() or "(no output)").splitlines()[0]
            if "not found" in said or failures + 1 > POLL_RETRIES:
                raise PollsLost(f"{label}: OSM did not answer {failures + 1} poll(s) in a row (last: {said}); the "
                                f"operation may be going on: osm ns-op-show {op_id}") from None
            self.echo(f"  {label}: a poll of OSM failed ({said}); retrying ({failures + 1} of {POLL_RETRIES})")
            return None

    def _wait(self, op_id: str, label: str) -> dict:
        start = time.monotonic()
        last = None
        failures = 0
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=self.console, transient=True) as progress:
            task = progress.add_task(f"{label}: waiting for OSM", total=None)
            while True:
                op = self.poll(op_id, label, failures)
                if op is None:
                    failures += 1
                    time.sleep(self.interval)
                    continue
                failures = 0
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
