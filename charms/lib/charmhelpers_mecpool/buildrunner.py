"""Run an OAI build as a systemd service, so that no hook or action holds it.

OSM R8 gives a primitive 30 minutes (10 without progress); a first OAI build
can take longer.  So an action only *starts* the build: the service
``mecpool-build-<name>.service`` runs the build steps from a script the charm
writes, and the script records its progress in a state file (JSON) that any
later hook or action reads.  A state that says "running" while the service is
not active means the build was cut off (reboot, killed): "interrupted".

The runner is the seam the tests replace: ``start(commit, steps, src_dir)`` and
``status()`` -> BuildStatus.
"""

import collections
import json
import os
import shlex
import time

from . import files, process

# state: none | running | succeeded | failed | interrupted
BuildStatus = collections.namedtuple(
    "BuildStatus", "state commit step steps command started finished exit_code")
NO_BUILD = BuildStatus("none", None, 0, 0, "", None, None, None)

_SCRIPT = """\
#!/bin/sh
# Written by the MEC-Pool {name} charm: the OAI build of {commit},
# run by {unit}; each step's progress goes to {state}.
log={log}
state={state}
exec >>"$log" 2>&1
started=$(date +%s)
record() {{ # state step command exit-code
    printf '{{"state": "%s", "commit": "{commit}", "step": %s, "steps": {steps}, "command": "%s", "started": %s, "finished": %s, "exit_code": %s}}\\n' \\
        "$1" "$2" "$3" "$started" "$5" "$4" > "$state.tmp" && mv -f "$state.tmp" "$state"
}}
step() {{ # number directory argv...
    number=$1; directory=$2; shift 2
    record running "$number" "$*" null null
    echo "== mecpool: step $number/{steps} in $directory: $*"
    (cd "$directory" && "$@")
    code=$?
    if [ "$code" -ne 0 ]; then
        echo "== mecpool: step $number/{steps} failed with exit code $code"
        record failed "$number" "$*" "$code" "$(date +%s)"
        exit "$code"
    fi
}}
echo "== mecpool: building {commit} at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
{step_lines}
record succeeded {steps} "" 0 "$(date +%s)"
echo "== mecpool: build of {commit} finished"
"""

_UNIT = """\
# Written by the MEC-Pool {name} charm; changes are overwritten.
[Unit]
Description=MEC-Pool: build OpenAirInterface sources for {name}
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
Environment=HOME=/root MAKEFLAGS=-j{jobs} DEBIAN_FRONTEND=noninteractive
ExecStart=/bin/sh {script}
Restart=no
KillMode=control-group
"""


def _safe(text):
    """The state file is JSON written by printf: keep its strings plain."""
    return "".join(c for c in text if c.isalnum() or c in " ._/+-=:")


class SystemdBuildRunner(object):
    def __init__(self, name, systemd, state_dir, log_path, jobs=None, clock=time.time):
        self.name = name
        self.systemd = systemd
        self.unit = "mecpool-build-{}.service".format(name)
        self.script_path = os.path.join(state_dir, "{}-build.sh".format(name))
        self.state_path = os.path.join(state_dir, "{}-build.state".format(name))
        self.log_path = log_path
        self.jobs = jobs or os.cpu_count() or 1
        self.clock = clock

    def script(self, commit, steps, src_dir):
        lines = []
        for number, step in enumerate(steps, 1):
            process.check_argv(step.argv)
            lines.append("step {} {} {}".format(number, shlex.quote(os.path.join(src_dir, step.cwd)),
                                                " ".join(shlex.quote(a) for a in step.argv)))
        return _SCRIPT.format(name=self.name, commit=_safe(commit), unit=self.unit,
                              log=shlex.quote(self.log_path), state=shlex.quote(self.state_path),
                              steps=len(steps), step_lines="\n".join(lines))

    def start(self, commit, steps, src_dir):
        """(Re)start the build of ``commit``; returns at once."""
        files.ensure_dir(os.path.dirname(self.state_path), 0o700)
        files.ensure_dir(os.path.dirname(self.log_path), 0o750)
        files.write_file(self.script_path, self.script(commit, steps, src_dir), mode=0o700)
        # A fresh state first: an old "failed" must not be read as this build's result.
        files.write_file(self.state_path, json.dumps(
            {"state": "running", "commit": _safe(commit), "step": 0, "steps": len(steps),
             "command": "", "started": int(self.clock()), "finished": None,
             "exit_code": None}) + "\n", mode=0o600)
        self.systemd.install_unit(self.unit, _UNIT.format(name=self.name, jobs=self.jobs,
                                                          script=shlex.quote(self.script_path)))
        self.systemd.restart(self.unit)

    def stop(self):
        self.systemd.stop(self.unit)

    def status(self):
        text = files.read_text(self.state_path)
        if not text:
            return NO_BUILD
        try:
            data = json.loads(text)
        except ValueError:
            return NO_BUILD
        fields = dict((f, data.get(f)) for f in BuildStatus._fields)
        if fields["state"] == "running" and not self.systemd.is_active(self.unit):
            fields["state"] = "interrupted"
        return BuildStatus(**fields)

    def log_tail(self, lines=8):
        text = files.read_text(self.log_path, "") or ""
        return text.splitlines()[-lines:]
