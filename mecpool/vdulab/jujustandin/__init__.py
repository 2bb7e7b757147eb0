"""A stand-in for Juju 2.8's uniter and hook tools, to run the built charms in the VDU lab.

The files of STANDIN_DIR are copied into a lab VM and run there with its
python3 (stdlib only, Python 3.6+): ``runner.py`` runs one hook or action of a
built charm directory through its real ``dispatch``, ``hooktool.py`` plays
every hook tool ops 1.5.4 calls.  This module is the host side: the command
line to run over SSH and the outcome runner.py prints, as named fields.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

STANDIN_DIR = Path(__file__).resolve().parent
# Where the lab is expected to copy STANDIN_DIR in a VM (remote_command's default).
REMOTE_STANDIN_DIR = "/opt/mecpool/jujustandin"


@dataclass(frozen=True)
class Status:
    status: str
    message: str


@dataclass(frozen=True)
class LogLine:
    level: str
    message: str


@dataclass(frozen=True)
class Outcome:
    """What runner.py reports for one hook or action."""

    kind: str                   # "hook" or "action"
    name: str
    unit: str
    status: str                 # "completed" or "failed"
    exit_code: Optional[int]    # None: refused (or no entry point), nothing ran
    message: Optional[str]      # action-fail's message, Juju's refusal, 'hook failed: "x"'
    results: Dict[str, Any]     # action-set results, nested at the dots
    unit_status: Status
    application_status: Status
    logs: Tuple[LogLine, ...]   # juju-log lines of this run
    action_logs: Tuple[str, ...]
    action_id: Optional[str]
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    @property
    def dispatched(self) -> bool:
        return self.exit_code is not None

    @classmethod
    def from_json(cls, data: Union[str, bytes, Mapping[str, Any]]) -> "Outcome":
        raw = json.loads(data) if isinstance(data, (str, bytes)) else dict(data)
        return cls(
            kind=raw["kind"], name=raw["name"], unit=raw["unit"], status=raw["status"],
            exit_code=raw["exit_code"], message=raw["message"], results=raw["results"],
            unit_status=Status(**raw["unit_status"]),
            application_status=Status(**raw["application_status"]),
            logs=tuple(LogLine(**line) for line in raw["logs"]),
            action_logs=tuple(raw["action_logs"]), action_id=raw["action_id"],
            stdout=raw["stdout"], stderr=raw["stderr"])


def remote_command(charm_dir: str, state_dir: str, hook: Optional[str] = None,
                   action: Optional[str] = None, params: Optional[Mapping[str, Any]] = None,
                   *, config: Optional[Mapping[str, Any]] = None, unit: Optional[str] = None,
                   standin_dir: str = REMOTE_STANDIN_DIR, python: str = "python3") -> List[str]:
    """The runner.py argv for one hook or one action (join it with shlex.join for ssh)."""
    if (hook is None) == (action is None):
        raise ValueError("give exactly one of hook and action")
    if params is not None and action is None:
        raise ValueError("params are for actions")
    argv = [python, str(Path(standin_dir) / "runner.py"), "--charm-dir", str(charm_dir),
            "--state", str(state_dir)]
    argv += ["--hook", hook] if hook is not None else ["--action", action]
    if params is not None:
        argv += ["--params", json.dumps(dict(params), sort_keys=True)]
    if config is not None:
        argv += ["--config", json.dumps(dict(config), sort_keys=True)]
    if unit is not None:
        argv += ["--unit", unit]
    return argv
