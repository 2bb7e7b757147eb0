"""The lab's private namespaces: one mount, network and PID namespace (`unshare --mount --net --pid
--fork --propagation private`) whose first process, the holder, lays the unpacked Debian tree over the
host's /usr, /etc and /var with overlayfs, gives the namespace its own /run and a /sys of its network
namespace, then waits (reaping orphans, as the PID namespace's init).

Everything of the lab runs in there (`Sandbox.argv` wraps a command in `nsenter`): nothing it mounts is
seen by the host, nothing it listens on is reachable from outside, and killing the holder kills every
process of the PID namespace, those the services started themselves included (the DHCP agent's dnsmasq,
libvirt's QEMU).  The network namespaces the DHCP agent makes (`ip netns add`) are bind mounts below the
namespace's own /run/netns: they go with the mount namespace.

Layers, top first: the generated configuration (`layers/<dir>`), the cached QEMU wrapper layer, the
unpacked packages, the host's directory; writes go to `upper/<dir>` in the run directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

OVERLAID = ("usr", "etc", "var")


class SandboxError(RuntimeError):
    """A namespace or mount step failed; the message names it."""


@dataclass(frozen=True)
class Layout:
    """Where the holder finds its layers: the unpacked tree, generated layers, and per-run writable dirs."""
    tree_root: Path            # .../trees/<key>/root (usr/, etc/, var/)
    layers: tuple[Path, ...]   # generated files, top first: <layer>/<dir>/... lie over the tree
    run_dir: Path              # upper/<dir>, work/<dir>
    overlaid: tuple[str, ...] = OVERLAID
    binds: tuple[tuple[str, str], ...] = ()   # (host directory, path in the namespace), after the rest

    def overlay_options(self, name: str) -> str:
        lowers = [layer / name for layer in self.layers] + [self.tree_root / name, Path("/") / name]
        lowers = [str(p) for p in lowers if p == Path("/") / name or p.is_dir()]
        return "lowerdir={},upperdir={},workdir={}".format(
            ":".join(lowers), self.run_dir / "upper" / name, self.run_dir / "work" / name)

    def to_json(self) -> str:
        return json.dumps({"tree_root": str(self.tree_root), "layers": [str(p) for p in self.layers],
                           "run_dir": str(self.run_dir), "overlaid": list(self.overlaid),
                           "binds": [list(b) for b in self.binds]})

    @classmethod
    def from_json(cls, text: str) -> "Layout":
        d = json.loads(text)
        return cls(Path(d["tree_root"]), tuple(Path(p) for p in d["layers"]), Path(d["run_dir"]), tuple(d["overlaid"]),
                   tuple(tuple(b) for b in d["binds"]))


def mount_plan(layout: Layout) -> list[list[str]]:
    """The mount commands the holder runs, in order (a pure function: the tests read it)."""
    plan = []
    for name in layout.overlaid:
        plan.append(["mount", "-t", "overlay", "overlay", "-o", layout.overlay_options(name), f"/{name}"])
    plan += [
        ["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run"],
        # A sysfs of this network namespace: the agents look up the devices they bridge in /sys/class/net.
        ["mount", "-t", "sysfs", "sysfs", "/sys"],
        ["mount", "-t", "cgroup2", "cgroup2", "/sys/fs/cgroup"],
    ]
    plan += [["mount", "--bind", src, dest] for src, dest in layout.binds]
    return plan


def hold(layout: Layout, ready: Path) -> None:
    """The holder (PID 1 of the namespace): mounts, then reaps children until it is killed."""
    for name in layout.overlaid:
        for part in ("upper", "work"):
            (layout.run_dir / part / name).mkdir(parents=True, exist_ok=True)
    for argv in mount_plan(layout):
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0 and argv[2] != "cgroup2":
            ready.write_text(json.dumps({"error": f"{' '.join(argv)}: {done.stderr.strip()}"}))
            sys.exit(1)
    for d in ("/run/netns", "/run/lock"):
        os.makedirs(d, exist_ok=True)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    ready.write_text(json.dumps({"ok": True, "mnt": os.readlink("/proc/self/ns/mnt")}))
    while True:
        try:
            os.wait()
        except ChildProcessError:
            time.sleep(1)


@dataclass
class Sandbox:
    """Start with :meth:`up`, remove with :meth:`down`.  `holder_pid` is the holder's PID on the host."""
    layout: Layout
    nice: int = 10
    unshare: subprocess.Popen | None = None
    holder_pid: int | None = None
    namespaces: dict = field(default_factory=dict)

    def up(self, timeout: float = 60.0) -> None:
        remove_stale(self.layout.run_dir)
        ready = self.layout.run_dir / "holder.ready"
        ready.unlink(missing_ok=True)
        self.layout.run_dir.mkdir(parents=True, exist_ok=True)
        argv = ["unshare", "--mount", "--net", "--pid", "--fork", "--propagation", "private",
                "--mount-proc", sys.executable, "-m", "mecpool.reallab.sandbox", "hold",
                self.layout.to_json(), str(ready)]
        env = {**os.environ, "PYTHONPATH": _package_root()}
        log = open(self.layout.run_dir / "holder.log", "ab")
        try:
            self.unshare = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                            start_new_session=True,
                                            preexec_fn=lambda: os.setpriority(os.PRIO_PROCESS, 0, self.nice))
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready.is_file() and ready.read_text():
                state = json.loads(ready.read_text())
                if "error" in state:
                    self.down()
                    raise SandboxError(f"namespace set-up failed: {state['error']}")
                break
            if self.unshare.poll() is not None:
                raise SandboxError(f"unshare exited ({self.unshare.returncode}); see "
                                   f"{self.layout.run_dir / 'holder.log'}")
            time.sleep(0.1)
        else:
            self.down()
            raise SandboxError("the namespace holder did not get ready in time")
        self.holder_pid = _only_child(self.unshare.pid)
        self.namespaces = {ns: os.readlink(f"/proc/{self.holder_pid}/ns/{ns}") for ns in ("mnt", "net", "pid")}

    def argv(self, argv: list[str]) -> list[str]:
        """`argv` run inside the namespaces (root and working directory as in the namespace)."""
        if self.holder_pid is None:
            raise SandboxError("the sandbox is not up")
        return ["nsenter", f"--target={self.holder_pid}", "--mount", "--net", "--pid", "--", *argv]

    def run(self, argv: list[str], check: bool = True, timeout: float | None = 600, **kwargs):
        kwargs.setdefault("env", clean_env())
        done = subprocess.run(self.argv(argv), capture_output=True, text=True, timeout=timeout,
                              preexec_fn=lambda: os.setpriority(os.PRIO_PROCESS, 0, self.nice), **kwargs)
        if check and done.returncode != 0:
            raise SandboxError(f"{' '.join(argv)} exited {done.returncode}: "
                               f"{(done.stderr or done.stdout).strip()[-3000:]}")
        return done

    def members(self) -> list[int]:
        """Host PIDs of every process in the lab's PID or mount namespace."""
        return processes_in(self.namespaces)

    def down(self, timeout: float = 20.0) -> list[int]:
        """Kill the holder (the kernel kills the whole PID namespace); returns the PIDs left (none)."""
        if self.unshare is not None and self.unshare.poll() is None:
            if self.holder_pid is not None:
                _kill(self.holder_pid, signal.SIGKILL)
            _kill(self.unshare.pid, signal.SIGKILL)
            try:
                self.unshare.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        left = []
        deadline = time.monotonic() + timeout
        while self.namespaces and time.monotonic() < deadline:
            left = processes_in(self.namespaces)
            if not left:
                break
            for pid in left:
                _kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        self.holder_pid = None
        return left


SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def clean_env(extra: dict | None = None) -> dict:
    """The environment of what runs in the namespace: the system's PATH (not pyenv's or a venv's), no
    PYTHONPATH, no OS_* of the caller's cloud, a UTF-8 locale."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYENV_VERSION") and not k.startswith("OS_")}
    env.update({"PATH": SYSTEM_PATH, "LC_ALL": "C.UTF-8"})
    env.update(extra or {})
    return env


def processes_in(namespaces: dict) -> list[int]:
    """PIDs on the host whose mount or PID namespace is one of `namespaces` (as readlink shows them)."""
    wanted = {v for k, v in namespaces.items() if k in ("mnt", "pid")}
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            mine = {os.readlink(f"/proc/{entry}/ns/mnt"), os.readlink(f"/proc/{entry}/ns/pid")}
        except OSError:
            continue
        if mine & wanted:
            found.append(int(entry))
    return sorted(found)


def stale_holders(run_dir: Path, cmdlines: dict[int, list[str]]) -> list[int]:
    """Of `cmdlines` (pid -> argv), the holders (or their unshare) of a lab on `run_dir`: a run killed
    without its teardown leaves them, with overlays on that run directory's layers."""
    found = []
    for pid, argv in cmdlines.items():
        if "mecpool.reallab.sandbox" in argv and "hold" in argv:
            try:
                layout = Layout.from_json(argv[argv.index("hold") + 1])
            except (ValueError, IndexError, KeyError):
                continue
            if Path(layout.run_dir) == Path(run_dir):
                found.append(pid)
    return sorted(found)


def remove_stale(run_dir: Path) -> list[int]:
    """Kill what a killed run on `run_dir` left (its PID namespace goes with its holder)."""
    cmdlines = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                raw = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            cmdlines[int(entry)] = raw.decode(errors="replace").split("\0")
    stale = stale_holders(run_dir, cmdlines)
    for pid in stale:
        _kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while stale and time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in stale):
        time.sleep(0.1)
    return stale


def _only_child(pid: int) -> int:
    for _ in range(50):
        try:
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            kids = []
        if kids:
            return int(kids[0])
        time.sleep(0.1)
    raise SandboxError(f"unshare ({pid}) has no child")


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[2])


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "hold":
    hold(Layout.from_json(sys.argv[2]), Path(sys.argv[3]))
