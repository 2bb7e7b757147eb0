"""The stack's services as processes (no systemd here): what each runs, in which order, how we know it
is up, and the bookkeeping of the processes we started.

`plan(settings)` is pure: every service with its command line, environment and readiness probe.
`Launcher` starts them inside the sandbox at a fixed niceness (the host is shared with other QEMU work,
so every service and every QEMU that libvirt starts for Nova runs at nice 10), keeps one log per
service, and stops them in reverse order.  What a service starts by itself (the DHCP agent's dnsmasq,
libvirt's QEMU, privsep helpers) is not in the bookkeeping: the PID namespace takes it down
(sandbox.Sandbox.down).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .configs import PORTS, Settings, rabbitmq_env
from .sandbox import clean_env

NICE = 10


@dataclass(frozen=True)
class Service:
    name: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    port: int | None = None          # ready when this TCP port accepts (inside the namespace)
    path: str | None = None          # ready when this path exists (inside the namespace)
    settle: float = 0.0              # else: ready when still running after this many seconds
    group: str = "control"           # "backend", "control", "compute": the start-up stages


def _uwsgi(name: str, wsgi_file: str, port: int, s: Settings) -> tuple[str, ...]:
    # Debian serves keystone and placement with uWSGI (its ini files want users and AppArmor we have
    # not).  Two processes of one thread each: with several threads in one process keystone hung for
    # good ("greenlet.error: cannot switch to a different thread" from an eventlet semaphore) and every
    # client of it with it (1 run in 6).
    return ("uwsgi_python311", "--http-socket", f"{s.address}:{port}", "--wsgi-file", wsgi_file,
            "--master", "--processes", "2", "--threads", "1", "--enable-threads", "--lazy-apps",
            "--die-on-term", "--buffer-size", "65535", "--need-app", "--procname-prefix", f"{name}-",
            # uWSGI's http-socket closes after each response without saying so: a client reusing the
            # connection (keystoneauth's session) gets "connection reset" on its next request.
            "--add-header", "Connection: close")


def plan(s: Settings) -> tuple[Service, ...]:
    a = s.address
    nova = ("--config-file", "/etc/nova/nova.conf")
    neutron = ("--config-file", "/etc/neutron/neutron.conf")
    return (
        Service("mariadb", ("mariadbd", "--no-defaults", "--user=root", "--datadir=/var/lib/mysql",
                            "--socket=/run/mysqld/mysqld.sock", f"--bind-address={a}", "--port=3306",
                            "--skip-name-resolve", "--innodb-buffer-pool-size=64M", "--max-connections=400",
                            "--innodb-flush-log-at-trx-commit=0", "--pid-file=/run/mysqld/mysqld.pid"),
                port=PORTS["mysql"], group="backend"),
        Service("rabbitmq", ("/usr/lib/rabbitmq/bin/rabbitmq-server",), env=tuple(rabbitmq_env(s).items()),
                port=PORTS["rabbitmq"], group="backend"),
        Service("memcached", ("memcached", "-u", "root", "-l", a, "-p", "11211", "-m", "64"),
                port=PORTS["memcached"], group="backend"),
        Service("keystone", _uwsgi("keystone", "/usr/bin/keystone-wsgi-public", PORTS["keystone"], s),
                port=PORTS["keystone"], group="identity"),
        Service("placement", _uwsgi("placement", "/usr/bin/placement-api", PORTS["placement"], s),
                port=PORTS["placement"]),
        Service("glance-api", ("glance-api", "--config-file", "/etc/glance/glance-api.conf"),
                port=PORTS["glance"]),
        Service("nova-api", ("nova-api", *nova), port=PORTS["nova"]),
        Service("nova-conductor", ("nova-conductor", *nova), settle=3),
        Service("nova-scheduler", ("nova-scheduler", *nova), settle=3),
        Service("neutron-server", ("neutron-server", *neutron, "--config-file",
                                   "/etc/neutron/plugins/ml2/ml2_conf.ini"), port=PORTS["neutron"]),
        Service("virtlogd", ("virtlogd",), path="/run/libvirt/virtlogd-sock", group="compute"),
        Service("libvirtd", ("libvirtd",), path="/run/libvirt/libvirt-sock", group="compute"),
        Service("nova-compute", ("nova-compute", "--config-file", "/etc/nova/nova-compute.conf"),
                settle=3, group="agents"),
        Service("neutron-linuxbridge-agent", ("neutron-linuxbridge-agent", *neutron, "--config-file",
                                              "/etc/neutron/plugins/ml2/linuxbridge_agent.ini"),
                settle=3, group="agents"),
        Service("neutron-dhcp-agent", ("neutron-dhcp-agent", *neutron, "--config-file",
                                       "/etc/neutron/dhcp_agent.ini"), settle=3, group="agents"),
    )


def stage(services: tuple[Service, ...], group: str) -> tuple[Service, ...]:
    return tuple(x for x in services if x.group == group)


class LaunchError(RuntimeError):
    """A service did not start; the message has the end of its log."""


@dataclass
class Launcher:
    """Starts services in the sandbox and remembers them; `stop_all` stops them newest first."""
    sandbox: object                  # sandbox.Sandbox (argv, run)
    log_dir: Path
    nice: int = NICE
    processes: dict = field(default_factory=dict)   # name -> Popen, in start order
    started: dict = field(default_factory=dict)     # name -> monotonic start time

    def start(self, service: Service) -> subprocess.Popen:
        if service.name in self.processes and self.processes[service.name].poll() is None:
            raise LaunchError(f"{service.name} is already running")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = clean_env(dict(service.env))
        with open(self.log_path(service.name), "ab") as log:
            proc = subprocess.Popen(self.sandbox.argv(list(service.argv)), stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, env=env, cwd="/",
                                    start_new_session=True, preexec_fn=self._renice)
        self.processes[service.name] = proc
        self.started[service.name] = time.monotonic()
        return proc

    def _renice(self) -> None:
        os.setpriority(os.PRIO_PROCESS, 0, self.nice)

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def tail(self, name: str, lines: int = 30) -> str:
        try:
            return "".join(self.log_path(name).read_text(errors="replace").splitlines(True)[-lines:])
        except OSError:
            return ""

    def is_ready(self, service: Service) -> bool:
        proc = self.processes.get(service.name)
        if proc is None or proc.poll() is not None:
            raise LaunchError(f"{service.name} exited ({proc.returncode if proc else 'never started'}); "
                              f"end of {self.log_path(service.name)}:\n{self.tail(service.name)}")
        if service.port is not None:
            probe = f"exec 3<>/dev/tcp/127.0.0.1/{service.port}"
            return self.sandbox.run(["bash", "-c", probe], check=False, timeout=20).returncode == 0
        if service.path is not None:
            return self.sandbox.run(["test", "-e", service.path], check=False, timeout=20).returncode == 0
        return time.monotonic() - self.started[service.name] >= service.settle

    def wait_ready(self, services: tuple[Service, ...], timeout: float = 300.0) -> dict[str, float]:
        """Until every service is ready; returns each one's seconds from its start to ready."""
        waiting = list(services)
        ready = {}
        deadline = time.monotonic() + timeout
        while waiting:
            for service in list(waiting):
                if self.is_ready(service):
                    ready[service.name] = time.monotonic() - self.started[service.name]
                    waiting.remove(service)
            if not waiting:
                break
            if time.monotonic() > deadline:
                raise LaunchError("not ready in {:.0f} s: {}; end of {}'s log:\n{}".format(
                    timeout, ", ".join(x.name for x in waiting), waiting[0].name, self.tail(waiting[0].name)))
            time.sleep(1)
        return ready

    def stop(self, name: str, timeout: float = 15.0) -> str:
        proc = self.processes.pop(name, None)
        if proc is None or proc.poll() is not None:
            return "not running"
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return "stopped"
            try:
                proc.wait(wait)
                return "stopped" if sig == signal.SIGTERM else "killed"
            except subprocess.TimeoutExpired:
                continue
        return "killed"

    def stop_all(self) -> dict[str, str]:
        return {name: self.stop(name) for name in reversed(list(self.processes))}

    def running(self) -> list[str]:
        return [n for n, p in self.processes.items() if p.poll() is None]
