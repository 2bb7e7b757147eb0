"""What the lab reads off its VMs: cloud-init's own verdict, the registrars'
handlespaces (hsdump), the pool users' results and the services' state."""

import json
import re
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mecpool.rserpool import hsdump
from mecpool.rserpool.commands import ENRP_PORT, PoolUserConfig, hsdump_argv, pool_user_argv
from mecpool.testbed.calcapp_files import read_pu_scalars

HSDUMP_TIMEOUT_S = 20
# rspserver prints this for every job it accepts (mecpool.testbed.ledger reads the same).
ACCEPTED_LINE = re.compile(r"^Job \d+/\d+ of size \S+ accepted$", re.M)


@dataclass(frozen=True)
class CloudInitResult:
    status: str             # "done" when every stage finished
    datasource: str
    errors: tuple
    recoverable: dict       # {level: [messages]} of cloud-init >= 23.4
    schema_valid: bool
    schema_output: str

    @property
    def clean(self):
        return self.status == "done" and not self.errors and not self.recoverable and self.schema_valid

    def summary(self):
        if self.clean:
            return "done, schema valid"
        parts = [self.status]
        if self.errors:
            parts.append("{} error(s)".format(len(self.errors)))
        if self.recoverable:
            parts.append("recoverable: " + ", ".join("{} {}".format(len(v), k) for k, v in
                                                      sorted(self.recoverable.items())))
        if not self.schema_valid:
            parts.append("schema invalid")
        return "; ".join(parts)


def cloud_init_result(guest, timeout=900):
    """``cloud-init status --wait --long --format json`` and
    ``cloud-init schema --system`` on the VM."""
    done = guest.sudo("cloud-init status --wait --long --format json", check=False, timeout=timeout)
    try:
        status = json.loads(done.stdout)
    except ValueError:
        raise RuntimeError("{}: cloud-init status is no JSON (exit {}): {}".format(
            guest.name, done.returncode, (done.stdout + done.stderr)[-500:])) from None
    schema = guest.sudo("cloud-init schema --system", check=False, timeout=300)
    recoverable = {level: list(messages) for level, messages in (status.get("recoverable_errors") or {}).items()
                   if messages}
    return CloudInitResult(
        status=status.get("extended_status", status.get("status", "")).split()[0] or "unknown",
        datasource=status.get("datasource", ""),
        errors=tuple(status.get("errors") or ()),
        recoverable=recoverable,
        schema_valid=schema.returncode == 0,
        schema_output=(schema.stdout + schema.stderr).strip(),
    )


def handlespace(guest, registrar_address):
    """The registrar's handlespace, asked with hsdump from ``guest``."""
    argv = hsdump_argv(registrar_address, ENRP_PORT)
    done = guest.run("timeout {} {}".format(HSDUMP_TIMEOUT_S, " ".join(shlex.quote(a) for a in argv)),
                     check=False, timeout=HSDUMP_TIMEOUT_S + 30)
    try:
        return hsdump.parse(done.stdout)
    except hsdump.HsdumpError as error:
        raise RuntimeError("{}: hsdump {}: {} ({})".format(guest.name, argv[1], error,
                                                          done.stderr.strip()[-300:])) from None


def element_at(parsed, pool_handle, address, port):
    """The PE serving at ``address:port`` in pool ``pool_handle``, else None."""
    pool, element = hsdump.find_element(parsed, str(address), port)
    if element is None or pool["handle"] != pool_handle:
        return None
    return element


@dataclass(frozen=True)
class PoolUserResult:
    name: str
    queued: int
    started: int
    completed: int


def run_pool_users(guest, pool_handle, registrars, count, runtime_s, job_interval_s, job_size):
    """``count`` calcappclients on ``guest`` for ``runtime_s``; their scalars.
    Argv from mecpool.rserpool (the testbed's generator)."""
    names, lines = [], []
    for number in range(1, count + 1):
        name = "pu-{}".format(number)
        config = PoolUserConfig(pool_handle, registrars, job_interval_s=job_interval_s, job_size=job_size,
                                runtime_s=runtime_s, object_name=name, scalar_file="/tmp/{}.sca".format(name),
                                vector_file="/tmp/{}.vec".format(name), logfile="/tmp/{}.log".format(name))
        lines.append(" ".join(shlex.quote(a) for a in pool_user_argv(config)) + " &")
        names.append(name)
    # An idle PU checks -runtime only while a job runs: bound it from outside.
    script = "cd /tmp && rm -f pu-*.sca pu-*.vec pu-*.log\n" + "\n".join(
        "timeout {} {}".format(int(runtime_s * 3 + 60), line) for line in lines) + "\nwait\n"
    guest.run("sh -c {}".format(shlex.quote(script)), timeout=runtime_s * 3 + 120)
    results = []
    for name in names:
        text = guest.run("cat /tmp/{}.sca".format(name)).stdout
        scalars = _pu_scalars(text)
        results.append(PoolUserResult(name, scalars.jobs_queued, scalars.jobs_started, scalars.jobs_completed))
    return results


def _pu_scalars(text):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "pu.sca"
        path.write_text(text)
        return read_pu_scalars(path)


def accepted_jobs(guest, unit):
    """Jobs the PE accepted since its unit started (its journal)."""
    text = guest.sudo("journalctl -u {} -o cat --no-pager".format(shlex.quote(unit)), timeout=120).stdout
    return len(ACCEPTED_LINE.findall(text))


def service_state(guest, unit):
    """{"ActiveState", "MainPID", "ExecMainStartTimestampMonotonic", "ExecStart"...} of a unit."""
    done = guest.run("systemctl show {} --property=ActiveState,MainPID,ExecMainStartTimestampMonotonic,"
                     "NRestarts,ExecStart".format(shlex.quote(unit)))
    out = {}
    for line in done.stdout.splitlines():
        key, _, value = line.partition("=")
        out[key] = value
    return out
