"""What the lab reads off its VMs: cloud-init's own verdict, the registrars'
handlespaces (hsdump), the pool users' results and the services' state."""

import email
import json
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mecpool.rserpool import configure, hsdump, preload
from mecpool.rserpool.units import POOL_ELEMENT_SERVICE
from mecpool.rserpool.commands import ENRP_PORT, PoolUserConfig, hsdump_argv, pool_user_argv
from mecpool.testbed.calcapp_files import read_pu_scalars
from mecpool.testbed.ledger import ACCEPTED_LINE  # what rspserver prints per accepted job

HSDUMP_TIMEOUT_S = 20


# cloud-init's recoverable warning when the merged cloud-config fails its schema.
SCHEMA_WARNING = "cloud-config failed schema validation"


@dataclass(frozen=True)
class Schema:
    valid: bool
    output: str


@dataclass(frozen=True)
class CloudInitResult:
    """cloud-init's verdict on one VM.  OSM R8's own key part (RO's top-level
    ``ssh-authorized-keys`` and ``users: [{default: null, ...}]``) fails
    cloud-init's schema although cloud-init applies it; so our part (the
    package's cloud-init file) and R8's part are validated apart, and the only
    warning tolerated is the schema warning that R8's part causes."""
    status: str             # "done" when every stage finished
    datasource: str
    errors: tuple
    recoverable: dict       # {level: [messages]} (cloud-init >= 23.4)
    system_schema: Schema   # cloud-init schema --system: the merged user data
    own_schema: Schema      # the package's cloud-init file alone
    r8_schema: Schema       # RO's key part alone (None when the VDU has none)

    @property
    def other_warnings(self):
        """Recoverable errors other than the schema warning R8's part explains."""
        explained = self.r8_schema is not None and not self.r8_schema.valid
        return {level: [m for m in messages if not (explained and SCHEMA_WARNING in m)]
                for level, messages in self.recoverable.items()
                if [m for m in messages if not (explained and SCHEMA_WARNING in m)]}

    @property
    def clean(self):
        merged_ok = self.system_schema.valid or (self.r8_schema is not None and not self.r8_schema.valid)
        return (self.status == "done" and not self.errors and not self.other_warnings
                and self.own_schema.valid and merged_ok)

    def summary(self):
        parts = [self.status]
        parts.append("our part: schema {}".format("valid" if self.own_schema.valid else "INVALID"))
        if self.r8_schema is not None and not self.r8_schema.valid:
            parts.append("R8 key part: schema invalid (OSM RO v8.0), applied")
        elif not self.system_schema.valid:
            parts.append("merged: schema INVALID")
        if self.errors:
            parts.append("{} error(s)".format(len(self.errors)))
        if self.other_warnings:
            parts.append("recoverable: " + ", ".join("{} {}".format(len(v), k) for k, v in
                                                      sorted(self.other_warnings.items())))
        return "; ".join(parts)


def _schema(guest, text=None):
    """``cloud-init schema`` on the merged user data (``text`` None) or on ``text``."""
    if text is None:
        done = guest.sudo("cloud-init schema --system", check=False, timeout=300)
    else:
        done = guest.run("f=$(mktemp) && cat > $f && cloud-init schema -c $f; r=$?; rm -f $f; exit $r",
                         check=False, timeout=300, stdin=text.encode("utf-8"))
    return Schema(done.returncode == 0, (done.stdout + done.stderr).strip())


def user_data_parts(user_data):
    """The parts of the user data as cloud-init splits them (one part when no MIME)."""
    message = email.message_from_string(user_data)
    if not message.is_multipart():
        return [user_data]
    return [part.get_payload(decode=True).decode("utf-8") for part in message.get_payload()]


def cloud_init_result(guest, user_data, timeout=900, schema_cache=None):
    """cloud-init's status once it finished, and the schema of each part.

    ``schema_cache`` ({part text: Schema}) validates each distinct part once
    (VMs of one group share theirs; R8's key part is the same everywhere):
    cloud-init's schema check costs seconds of CPU under emulation."""
    cache = {} if schema_cache is None else schema_cache

    def part_schema(text):
        if text not in cache:
            cache[text] = _schema(guest, text)
        return cache[text]

    done = guest.sudo("cloud-init status --wait --long --format json", check=False, timeout=timeout)
    try:
        status = json.loads(done.stdout)
    except ValueError:
        raise RuntimeError("{}: cloud-init status is no JSON (exit {}): {}".format(
            guest.name, done.returncode, (done.stdout + done.stderr)[-500:])) from None
    parts = user_data_parts(user_data)
    recoverable = {level: list(messages) for level, messages in (status.get("recoverable_errors") or {}).items()
                   if messages}
    return CloudInitResult(
        status=status.get("extended_status", status.get("status", "")).split()[-1] or "unknown",
        datasource=status.get("datasource", ""),
        errors=tuple(status.get("errors") or ()),
        recoverable=recoverable,
        system_schema=_schema(guest),
        own_schema=part_schema(parts[0]),
        r8_schema=part_schema(parts[1]) if len(parts) > 1 else None,
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


def install_pool_user(guest, directory="/tmp/rsplib-services"):
    """calcappclient without rsplib-services' Qt dependencies (160 packages): the
    binary from the mirror's .deb; its libraries come with rsplib-tools/-registrar."""
    guest.run("cd /tmp && rm -f rsplib-services_*.deb && apt-get download -q rsplib-services "
              "&& dpkg-deb -x rsplib-services_*.deb {}".format(shlex.quote(directory)), timeout=600)
    return directory + "/usr/bin/calcappclient"


def run_pool_users(guest, binary, pool_handle, registrars, count, runtime_s, job_interval_s, job_size):
    """``count`` calcappclients on ``guest`` for ``runtime_s``; their scalars.
    Argv from mecpool.rserpool (the testbed's generator)."""
    names, lines = [], []
    for number in range(1, count + 1):
        name = "pu-{}".format(number)
        config = PoolUserConfig(pool_handle, registrars, job_interval_s=job_interval_s, job_size=job_size,
                                runtime_s=runtime_s, object_name=name, scalar_file="/tmp/{}.sca".format(name),
                                vector_file="/tmp/{}.vec".format(name), logfile="/tmp/{}.log".format(name))
        lines.append(" ".join(shlex.quote(a) for a in pool_user_argv(config, binary=binary)) + " &")
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


def rspserver_preload(guest, unit=POOL_ELEMENT_SERVICE):
    """("yes" | "no" | "off" | "unknown", text, the settings' preload) of the PE on ``guest``:
    whether its running rspserver has librspfreshload mapped (its /proc/<pid>/maps, read
    as the charm's pe-status reads them)."""
    settings = json.loads(guest.read(configure.SETTINGS_FILES["pool-element"]))
    pid = int(service_state(guest, unit).get("MainPID") or 0)
    maps = None
    if pid:
        done = guest.sudo("cat /proc/{}/maps".format(pid), check=False)
        maps = done.stdout if done.returncode == 0 else None
    kind, text = preload.verdict(settings.get("preload"), pid, maps)
    return kind, text, settings.get("preload")


def service_state(guest, unit):
    """{"ActiveState", "MainPID", "ExecMainStartTimestampMonotonic", "ExecStart"...} of a unit."""
    done = guest.run("systemctl show {} --property=ActiveState,MainPID,ExecMainStartTimestampMonotonic,"
                     "NRestarts,ExecStart".format(shlex.quote(unit)))
    out = {}
    for line in done.stdout.splitlines():
        key, _, value = line.partition("=")
        out[key] = value
    return out
