"""OSM Release EIGHT's RO, NBI and LCM, up inside the lab's namespaces on a running `Stack`.

    osm = Osm(stack, venvs, log=print)
    osm.up()                       # RO's database, RO, then NBI+LCM (one process), LCM connected to RO
    osm.osm("vim-list")            # osmclient v8 against the NBI, inside the namespace

RO runs on the stack's MariaDB: its database `mano_db` and user are made as RO's own
`install-db-server.sh` would, the schema by RO's `init_mano_db.sh` (which runs its
`migrate_mano_db.sh`) from the venv's unpacked source.  The processes are the stack's Launcher's
(nice 10, one log each under <run>/logs, stopped with the stack).  Config files, storage, the local
message bus and HOME are under <run>/osm.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from . import database, osm_configs
from .smoke import pss_kib
from .osm_configs import OsmPaths, OsmSettings
from .osm_venvs import Venv
from .sandbox import clean_env
from .services import Service

LogFn = Callable[[str], None]
LAUNCH = Path(__file__).with_name("osm_launch.py")
LCM_CONNECTED = "Connected to RO version"


class OsmError(RuntimeError):
    """OSM did not come up or answered wrong; the message says which step and where its log is."""


def ro_grants_sql(s: OsmSettings) -> str:
    """RO's database and user (what RO's install-db-server.sh creates), reachable over TCP."""
    s.validate()
    return (f"CREATE DATABASE IF NOT EXISTS {s.ro_db};\n"
            f"CREATE USER IF NOT EXISTS '{s.ro_db_user}'@'%' IDENTIFIED BY '{s.ro_db_password}';\n"
            f"GRANT ALL PRIVILEGES ON {s.ro_db}.* TO '{s.ro_db_user}'@'%';\n"
            "FLUSH PRIVILEGES;\n")


def ro_init_argv(script: Path, s: OsmSettings) -> list[str]:
    """RO's init_mano_db.sh, quiet (it prompts for credentials otherwise), against the stack's MariaDB."""
    return ["bash", str(script), "-u", s.ro_db_user, "-p", s.ro_db_password, "-h", s.db_host, "-P", "3306",
            "-d", s.ro_db, "-q"]


def services(venvs: dict[str, Venv], s: OsmSettings, paths: OsmPaths) -> tuple[Service, Service]:
    """RO, and NBI with LCM in one process (osm_launch.py, with the lab's SSH VCA), as the stack's Launcher
    starts them."""
    env = (("HOME", str(paths.home)), ("PYTHONUNBUFFERED", "1"))
    ro = Service("osm-ro", (str(venvs["ro"].python), str(LAUNCH), "ro", "-c", str(paths.config("ro")),
                            f"--create-tenant={s.ro_tenant}"), env=env, port=s.ro_port, group="osm")
    nbi_lcm = Service("osm-nbi-lcm", (str(venvs["lcm"].python), str(LAUNCH), "nbi-lcm",
                                      "--nbi-config", str(paths.config("nbi")),
                                      "--lcm-config", str(paths.config("lcm")), "--ssh-vca"),
                      env=env, port=s.nbi_port, group="osm")
    return ro, nbi_lcm


def nbi_package(venv: Venv) -> Path:
    return venv.root / "venv" / "lib" / "python3.6" / "site-packages" / "osm_nbi"


def client_env(s: OsmSettings, paths: OsmPaths) -> dict:
    """osmclient's environment: the NBI in the namespace, OSM's default admin (created by NBI)."""
    return clean_env({"OSM_HOSTNAME": f"{s.address}:{s.nbi_port}", "OSM_USER": "admin", "OSM_PASSWORD": "admin",
                      "OSM_PROJECT": "admin", "HOME": str(paths.home)})


def make_vca_key(path: Path) -> str:
    """The lab VCA's key pair (OSM's N2VC makes ~/.ssh/id_n2vc_rsa on first use; the lab makes one per run
    and names it in lcm.cfg); returns the public line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in (path, path.with_name(path.name + ".pub")):
        old.unlink(missing_ok=True)
    done = subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mecpool-reallab-vca", "-f", str(path)],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise OsmError(f"ssh-keygen for the lab's VCA key exited {done.returncode}: {done.stderr.strip()}")
    return path.with_name(path.name + ".pub").read_text().strip()


class Osm:
    def __init__(self, stack, venvs: dict[str, Venv], settings: OsmSettings | None = None, log: LogFn = print):
        self.stack = stack
        self.venvs = venvs
        self.settings = settings or OsmSettings()
        self.settings.validate()
        self.paths = OsmPaths(Path(stack.run_dir) / "osm")
        self.log = log
        self.timings: dict[str, float] = {}

    def _timed(self, name: str, started: float) -> None:
        self.timings[name] = round(time.monotonic() - started, 1)
        self.log(f"reallab osm: {name}: {self.timings[name]:.0f} s")

    def write_files(self) -> None:
        """A fresh <run>/osm: what a run before left (bus files, packages, configs) is removed."""
        p, s = self.paths, self.settings
        if p.base.exists():
            shutil.rmtree(p.base)
        for d in (p.storage, p.bus, p.home, p.tools):
            d.mkdir(parents=True, exist_ok=True)
        for tool in osm_configs.TOOLS:
            (p.tools / tool).write_text(osm_configs.tool_standin(tool))
            (p.tools / tool).chmod(0o755)
        p.config("ro").write_text(osm_configs.ro_config(s))
        public_key = make_vca_key(p.vca_key)
        p.config("lcm").write_text(osm_configs.lcm_config(s, p, self.stack.launcher.log_path("osm-lcm"), public_key))
        p.config("nbi").write_text(osm_configs.nbi_config(s, p, nbi_package(self.venvs["lcm"])))

    def up(self) -> None:
        s, sandbox, launcher = self.settings, self.stack.sandbox, self.stack.launcher
        started = time.monotonic()
        self.write_files()
        database.sql(sandbox, ro_grants_sql(s))
        script = self.venvs["ro"].source("ro", "RO") / "osm_ro" / "database_utils" / "init_mano_db.sh"
        done = sandbox.run(ro_init_argv(script, s), check=False, timeout=300)
        (self.paths.base / "init_mano_db.log").write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            raise OsmError(f"RO's init_mano_db.sh exited {done.returncode}: {(done.stderr or done.stdout)[-2000:]}")
        self._timed("RO database (init_mano_db.sh)", started)
        ro, nbi_lcm = services(self.venvs, s, self.paths)
        for service in (ro, nbi_lcm):
            started = time.monotonic()
            launcher.start(service)
            launcher.wait_ready((service,), timeout=300)
            self._timed(f"{service.name} listening", started)
        started = time.monotonic()
        self.wait_log("osm-lcm", LCM_CONNECTED, timeout=300)
        self._timed("LCM connected to RO", started)

    def wait_log(self, name: str, text: str, timeout: float) -> None:
        """Until `text` is in service log `name`; the NBI+LCM process must stay up meanwhile."""
        path = self.stack.launcher.log_path(name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.is_file() and text in path.read_text(errors="replace"):
                return
            self.stack.launcher.is_ready(Service("osm-nbi-lcm", ()))    # raises if it died
            time.sleep(1)
        raise OsmError(f"'{text}' not in {path} after {timeout:.0f} s")

    def mecpool(self, *args: str, timeout: float = 900, env: dict | None = None) -> subprocess.CompletedProcess:
        """Our own CLI inside the namespace (the runbook's commands), with osmclient v8 as its `osm`;
        `env` adds to its environment (the site's secrets)."""
        extra = env or {}
        env = client_env(self.settings, self.paths)
        env.update({"OSM_CLI": str(self.venvs["client"].bin / "osm"), "PYTHONPATH": str(LAUNCH.parents[2])})
        env.update(extra)
        done = self.stack.sandbox.run([sys.executable, "-c", "from mecpool.cli import main; main()", *args],
                                      check=False, timeout=timeout, env=env)
        with open(self.paths.base / "mecpool-commands.log", "a") as f:
            f.write(f"$ mecpool {shlex.join(args)}\n[{done.returncode}]\n{done.stdout}{done.stderr}\n")
        return done

    def osm(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        """osmclient v8's `osm` inside the namespace, as OSM's admin."""
        argv = [str(self.venvs["client"].bin / "osm"), *args]
        done = self.stack.sandbox.run(argv, check=False, timeout=timeout,
                                      env=client_env(self.settings, self.paths))
        with open(self.paths.base / "osm-commands.log", "a") as f:
            f.write(f"$ osm {shlex.join(args)}\n[{done.returncode}]\n{done.stdout}{done.stderr}\n")
        if check and done.returncode != 0:
            raise OsmError(f"osm {' '.join(args[:2])} exited {done.returncode}: "
                           f"{(done.stderr or done.stdout).strip()[-2000:]}")
        return done


def memory_mib(sandbox) -> dict[str, int]:
    """PSS (MiB) of the OSM processes in the lab (by our launcher's first argument: ro, nbi-lcm)."""
    found: dict[str, int] = {}
    for pid in sandbox.members():
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        if str(LAUNCH) in argv and argv[0] != "nsenter" and len(argv) > argv.index(str(LAUNCH)) + 1:
            name = "osm-" + argv[argv.index(str(LAUNCH)) + 1]
            found[name] = found.get(name, 0) + pss_kib(rollup) // 1024
    return found
