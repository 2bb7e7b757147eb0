"""The real OpenStack of the lab, up and down: package tree, generated layer, namespaces, network,
databases (created cold, restored warm), services in stages, and the wait until Nova's compute host
and Neutron's agents are registered.

    with Stack(run_dir, cache_root, log=print) as stack:
        stack.openstack("server", "list")

Leaving the `with` (also on an error or Ctrl-C) stops every service, kills the namespace's PID 1
(everything the services started dies with it) and checks that no process of the lab is left.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable

from . import configs, database, packages, services, unpack
from .configs import Settings
from .sandbox import Layout, Sandbox, clean_env, remove_stale

LogFn = Callable[[str], None]
# The real binary beside the wrapper.  QEMU looks for its modules (TCG itself is one in Debian's build)
# only in <its directory>/../lib/x86_64-linux-gnu/qemu: the binary must sit one level below /usr.
QEMU_REAL = "usr/libexec/qemu-system-x86_64.real"


class StackError(RuntimeError):
    """The stack did not come up; the message says which step and why."""


def write_layer(layers: Path, tree_root: Path, s: Settings, host_etc: Path = Path("/etc")) -> None:
    """The generated layer: configs, the packages' samples copied to /etc, alternatives links."""
    if layers.exists():
        shutil.rmtree(layers)
    for rel, text in configs.files(s, (host_etc / "passwd").read_text(), (host_etc / "group").read_text()).items():
        path = layers / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for src, dest in configs.COPIES:
        (layers / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tree_root / src, layers / dest)
    for link, target in configs.LINKS:
        (layers / link).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, layers / link)
    (layers / "etc/sudoers.d/reallab").chmod(0o440)


def qemu_layer(cache_root: Path, tree_root: Path, s: Settings,
               host_qemu: Path = Path("/usr/bin/qemu-system-x86_64")) -> Path:
    """The QEMU wrapper over the real binary (linked beside it), in a layer cached by its content: libvirt
    keeps its probe of QEMU's capabilities (a minute of TCG work) only while the binary's ctime holds."""
    real = tree_root / "usr/bin/qemu-system-x86_64"
    real = real if real.is_file() else host_qemu
    text = configs.qemu_wrapper(s, "/" + QEMU_REAL)
    st = real.stat()
    key = hashlib.sha256(json.dumps([text, str(real), st.st_size, st.st_mtime_ns]).encode()).hexdigest()
    layer = cache_root / "reallab" / "qemu-layers" / key
    if layer.is_dir():
        return layer
    tmp = layer.with_name(f".tmp-{key[:16]}-{os.getpid()}")
    dest = tmp / QEMU_REAL
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(real, dest)
    except OSError:
        shutil.copy2(real, dest)
    wrapper = tmp / "usr/bin/qemu-system-x86_64"
    wrapper.parent.mkdir(parents=True, exist_ok=True)
    wrapper.write_text(text)
    wrapper.chmod(0o755)
    try:
        os.rename(tmp, layer)
    except OSError:        # another run made it meanwhile
        shutil.rmtree(tmp)
    return layer


class Stack:
    def __init__(self, run_dir: Path, cache_root: Path, settings: Settings | None = None,
                 log: LogFn = print, nice: int = services.NICE, keep_layers: bool = False):
        self.run_dir = Path(run_dir).resolve()
        self.cache_root = Path(cache_root)
        self.settings = settings or Settings()
        self.log = log
        self.nice = nice
        self.keep_layers = keep_layers   # else down() removes upper/ and work/ (Glance's and Nova's copies
        self.timings: dict[str, float] = {}
        self.warm = None
        self.sandbox: Sandbox | None = None
        self.launcher: services.Launcher | None = None
        self.plan = services.plan(self.settings)
        self.tree = None

    # -- up --------------------------------------------------------------------------------------
    def __enter__(self) -> "Stack":
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.down()

    def _timed(self, name: str, started: float) -> None:
        self.timings[name] = round(time.monotonic() - started, 1)
        self.log(f"reallab: {name}: {self.timings[name]:.0f} s")

    def up(self) -> None:
        t0 = time.monotonic()
        started = time.monotonic()
        resolved = packages.resolve_cached(self.cache_root)
        self._timed("resolve packages", started)
        started = time.monotonic()
        self.tree = unpack.unpacked_tree(resolved, self.cache_root, self.log)
        self._timed("package tree", started)
        remove_stale(self.run_dir)     # before the run directory's layers are made anew
        self._prepare_run_dir()
        started = time.monotonic()
        libvirt_cache = self.cache_root / "reallab" / "libvirt-cache" / self.tree.key
        libvirt_cache.mkdir(parents=True, exist_ok=True)
        layout = Layout(self.tree.root, (self.run_dir / "layers",
                                         qemu_layer(self.cache_root, self.tree.root, self.settings)),
                        self.run_dir, binds=((str(libvirt_cache), "/var/cache/libvirt"),))
        write_layer(layout.layers[0], self.tree.root, self.settings)
        self.sandbox = Sandbox(layout, nice=self.nice)
        self.sandbox.up()
        self.launcher = services.Launcher(self.sandbox, self.run_dir / "logs", nice=self.nice)
        self._network()
        self._timed("namespaces and network", started)
        self._databases()
        started = time.monotonic()
        self._start("identity")        # started already on a cold start (the identity set-up needs it)
        self._start("control")
        self._timed("control plane APIs", started)
        started = time.monotonic()
        self._start("compute")
        self._start("agents")
        self._wait_compute()
        self._timed("compute and agents registered", started)
        self.timings["stack up"] = round(time.monotonic() - t0, 1)
        self.log(f"reallab: stack up ({'warm' if self.warm else 'cold'}) in {self.timings['stack up']:.0f} s")

    def _prepare_run_dir(self) -> None:
        for name in ("upper", "work", "layers", "logs"):
            path = self.run_dir / name
            if path.exists():
                shutil.rmtree(path)
        for rel in configs.STATE_DIRS:
            (self.run_dir / "upper" / rel).mkdir(parents=True, exist_ok=True)
        (self.run_dir / "upper/var/lib/rabbitmq/.erlang.cookie").write_text("MECPOOLREALLABCOOKIE")
        os.chmod(self.run_dir / "upper/var/lib/rabbitmq/.erlang.cookie", 0o400)

    def _network(self) -> None:
        s = self.settings
        prefix = s.lab_cidr.split("/")[1]
        for argv in (["ip", "link", "add", s.physnet_interface, "type", "veth", "peer", "name", "labhost"],
                     ["ip", "addr", "add", f"{s.lab_host}/{prefix}", "dev", "labhost"],
                     ["ip", "link", "set", "labhost", "up"], ["ip", "link", "set", s.physnet_interface, "up"],
                     ["sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=1"],
                     ["sysctl", "-q", "-w", "net.bridge.bridge-nf-call-ip6tables=1"]):
            self.sandbox.run(argv)

    def _databases(self) -> None:
        s = self.settings
        dumps = database.Dumps(self.cache_root, database.dump_key(self.tree.key, s))
        self.warm = dumps.present
        started = time.monotonic()
        database.install_db(self.sandbox)
        self._start("backend")
        self._timed("MariaDB, RabbitMQ, memcached", started)
        started = time.monotonic()
        database.sql(self.sandbox, database.grants_sql(s))
        if self.warm:
            dumps.restore(self.sandbox)
            self._timed("databases restored from the cached dump", started)
            return
        database.create(self.sandbox, s, self.log)
        self._start("identity")
        self.identity_setup()
        dumps.save(self.sandbox)
        self._timed("databases created (cold) and dumped", started)

    def identity_setup(self) -> None:
        s = self.settings
        cfg = {"auth_url": s.url("keystone"), "admin_password": s.admin_password, "password": s.password,
               "region": s.region, "urls": {name: s.url(name) for name in configs.SERVICES}}
        script = Path(__file__).with_name("identity_setup.py")
        self.sandbox.run(["python3", str(script), json.dumps(cfg)], timeout=600)

    def _start(self, group: str) -> None:
        stage = tuple(x for x in services.stage(self.plan, group) if x.name not in self.launcher.processes)
        if group == "compute":
            self.sandbox.run(["mkdir", "-p", "/run/libvirt"])
        for service in stage:
            self.launcher.start(service)
        for name, secs in self.launcher.wait_ready(stage, timeout=600).items():
            self.timings[f"ready: {name}"] = round(secs, 1)

    def _wait_compute(self, timeout: float = 600.0) -> None:
        """nova-compute up with its hypervisor mapped to cell1, both Neutron agents alive."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for name in ("nova-compute", "neutron-linuxbridge-agent", "neutron-dhcp-agent"):
                self.launcher.is_ready(services.Service(name, ()))   # raises if it died
            hv = self.openstack("hypervisor", "list", "-f", "json", check=False, timeout=180)
            agents = self.openstack("network", "agent", "list", "-f", "json", check=False, timeout=180)
            try:
                hypervisors = json.loads(hv.stdout or "[]")
                alive = [a for a in json.loads(agents.stdout or "[]") if a.get("Alive") in (True, ":-)")]
            except ValueError:
                hypervisors, alive = [], []
            if hypervisors and len(alive) >= 2:
                return
            last = f"hypervisors {len(hypervisors)}, live agents {len(alive)}; {hv.stderr.strip()[-300:]}"
            time.sleep(10)
        raise StackError(f"compute host or agents not registered in {timeout:.0f} s ({last}); see "
                         f"{self.launcher.log_dir}")

    # -- use ---------------------------------------------------------------------------------------
    def env(self, project: str = "admin", user: str = "admin", password: str | None = None) -> dict:
        s = self.settings
        return {"OS_AUTH_URL": s.url("keystone"), "OS_USERNAME": user, "OS_PASSWORD": password or s.admin_password,
                "OS_PROJECT_NAME": project, "OS_USER_DOMAIN_NAME": "Default",
                "OS_PROJECT_DOMAIN_NAME": "Default", "OS_REGION_NAME": s.region, "OS_IDENTITY_API_VERSION": "3",
                "OS_INTERFACE": "public"}

    def openstack(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        """Debian's `openstack` CLI inside the namespace, as the cloud's admin."""
        return self.sandbox.run(["openstack", *args], check=check, timeout=timeout,
                                env=clean_env(self.env()))

    # -- down --------------------------------------------------------------------------------------
    def down(self) -> dict:
        """Stop everything; returns what was stopped and what is left (must be nothing)."""
        result = {}
        if self.launcher is not None:
            result["services"] = self.launcher.stop_all()
        if self.sandbox is not None:
            result["left"] = self.sandbox.down()
            if result["left"]:
                self.log(f"reallab: processes left after teardown: {result['left']}")
        self.sandbox = None
        self.launcher = None
        if not self.keep_layers and not result.get("left"):
            # What the services wrote (Glance's store, Nova's image cache: about 1.2 GB after the smoke
            # path); the services' logs are in logs/, not there.  Only once no process of the lab is left.
            for name in ("upper", "work"):
                if (self.run_dir / name).exists():
                    shutil.rmtree(self.run_dir / name)
        return result
