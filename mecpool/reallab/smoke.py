"""The stack's smoke path: a Keystone token, the VDU lab's image in Glance, a flavor, a Neutron provider
network with its subnet and a security group, a key pair, and a Nova server booted from them with a
config drive and user data; ACTIVE, then SSH from the lab host (inside the namespace) as the image's
default user with the key Nova put in the metadata, `cloud-init status` done, the user data's marker
written.  Then the server is deleted and must be gone.

The image is mecpool.vdulab.image's (the same cache, the same key); Glance gets its kernel (aki), initrd
(ari) and the disk as qcow2 with kernel_id/ramdisk_id/os_command_line, which Nova's libvirt driver
boots directly, as the VDU lab's QEMU does.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from mecpool.vdulab.guest import Guest
from mecpool.vdulab.image import LabImage, cache_lock, ensure_image, require_tool

MIRROR_URL = "http://10.200.0.1/debian"   # the VDU lab's (mecpool.vdulab.topology.MIRROR_URL): same image key
FLAVOR = ("reallab.smoke", 1, 768, 2)     # name, vCPUs, MiB, GB: 1 vCPU / 768 MiB, the host is shared
SERVER = "reallab-smoke"
MARKER = "/var/lib/reallab-smoke"
LogFn = Callable[[str], None]


def user_data(marker: str = MARKER) -> str:
    return ("#cloud-config\n"
            "write_files:\n"
            f"  - path: {marker}\n"
            "    content: written by the real-stack lab's user data\n")


def qcow2_of(image: LabImage, cache_root: Path, log: LogFn) -> Path:
    """The image's disk as qcow2 (Glance stores it, Nova uses it as its base without conversion); cached
    beside the real-lab cache, keyed by the image's key."""
    out_dir = cache_root / "reallab" / "glance-images"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{image.key}.qcow2"
    with cache_lock(out_dir / ".lock"):
        if not out.is_file():
            tmp = out.with_suffix(".tmp")
            subprocess.run([require_tool("qemu-img", "qemu-utils"), "convert", "-O", "qcow2",
                            str(image.disk), str(tmp)], check=True)
            tmp.rename(out)
            log(f"reallab: {out.name}: qcow2 of the VDU lab image")
    return out


@dataclass
class LabMonitor:
    """Samples every process of the lab (the sandbox's members) every few seconds.  Memory: the
    proportional set size (shared pages split between their users, so the sum is what the lab costs);
    `peak` is the largest sum seen, in KiB.  CPU: each process's user+system time as last seen, summed by
    name (`cpu_seconds_by_name`), against the whole machine's busy time over the same window
    (`machine_busy_s`): where the two cores went, QEMU's guests or the services.  A process that lived
    and died between two samples is not counted, so the sums are a lower bound."""
    sandbox: object
    interval: float = 5.0
    peak: int = 0
    peak_by_name: dict = field(default_factory=dict)
    cpu_ticks: dict = field(default_factory=dict)        # (pid, start time) -> (name, user+system ticks)
    busy_at_start: int | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self.busy_at_start = machine_busy_ticks(Path("/proc/stat").read_text())
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)

    def sample(self) -> int:
        total, names = 0, {}
        for pid in self.sandbox.members():
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                name = Path(f"/proc/{pid}/comm").read_text().strip()
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            kb = pss_kib(rollup)
            total += kb
            names[name] = names.get(name, 0) + kb
            started, ticks = process_ticks(stat)
            self.cpu_ticks[pid, started] = (name, ticks)
        if total > self.peak:
            self.peak, self.peak_by_name = total, names
        return total

    def cpu_seconds_by_name(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, ticks in self.cpu_ticks.values():
            out[name] = out.get(name, 0.0) + ticks / CLOCK_TICKS
        return {k: round(v) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}

    def machine_busy_s(self) -> float | None:
        if self.busy_at_start is None:
            return None
        return round((machine_busy_ticks(Path("/proc/stat").read_text()) - self.busy_at_start) / CLOCK_TICKS)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sample()
            except Exception:   # a sample lost while the namespace goes away
                pass


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_ticks(stat: str) -> tuple[int, int]:
    """(start time, user+system time) in clock ticks from /proc/PID/stat (fields 22, 14 and 15; the
    name in parentheses may hold spaces, so count from its closing parenthesis)."""
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[19]), int(fields[11]) + int(fields[12])


def machine_busy_ticks(proc_stat: str) -> int:
    """Every CPU's busy time in clock ticks (/proc/stat's `cpu` line, all but idle and iowait)."""
    values = [int(v) for v in proc_stat.splitlines()[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (values + [0] * 8)[:8]
    return user + nice + system + irq + softirq + steal


def pss_kib(smaps_rollup: str) -> int:
    for line in smaps_rollup.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def run(stack, cache_root: Path, log: LogFn) -> dict[str, float]:
    """The smoke path on a running stack; returns its step times (raises on the first failure)."""
    t: dict[str, float] = {}
    s = stack.settings
    work = stack.run_dir / "smoke"
    work.mkdir(parents=True, exist_ok=True)

    def step(name, started):
        t[name] = round(time.monotonic() - started, 1)
        log(f"reallab smoke: {name}: {t[name]:.0f} s")

    def osc(*args, timeout=600):
        return stack.openstack(*args, timeout=timeout)

    def osj(*args, timeout=600):
        return json.loads(osc(*args, "-f", "json", timeout=timeout).stdout)

    started = time.monotonic()
    token = osj("token", "issue")
    if not token.get("id"):
        raise RuntimeError(f"Keystone gave no token: {token}")
    step("keystone token", started)

    started = time.monotonic()
    image = ensure_image(cache_root, MIRROR_URL, log)
    disk = qcow2_of(image, cache_root, log)
    step("VDU lab image (mecpool.vdulab.image) and its qcow2", started)
    started = time.monotonic()
    glance_image = upload_image(osj, image, disk, "reallab-trixie")
    step("glance upload (kernel, initrd, disk)", started)

    started = time.monotonic()
    name, vcpus, ram, disk_gb = FLAVOR
    osj("flavor", "create", "--vcpus", str(vcpus), "--ram", str(ram), "--disk", str(disk_gb), name)
    prefix = s.lab_cidr.split("/")[1]
    net = osj("network", "create", "--provider-network-type", "flat", "--provider-physical-network",
              s.physnet, "--share", "reallab-net")
    base = s.lab_cidr.rsplit(".", 1)[0]
    osj("subnet", "create", "--network", net["id"], "--subnet-range", s.lab_cidr, "--gateway", s.lab_host,
        "--allocation-pool", f"start={base}.100,end={base}.199", "--dhcp", "reallab-subnet")
    sg = osj("security", "group", "create", "reallab-smoke")
    osj("security", "group", "rule", "create", "--ingress", "--protocol", "tcp", "--dst-port", "22",
        "--remote-ip", f"{s.lab_host}/32", sg["id"])
    osj("security", "group", "rule", "create", "--ingress", "--protocol", "icmp", sg["id"])
    key = work / "id_rsa"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "reallab-smoke", "-f", str(key)],
                       check=True)
    osj("keypair", "create", "--public-key", str(key) + ".pub", "reallab-smoke")
    (work / "user-data").write_text(user_data())
    step("flavor, network, subnet, security group, key pair", started)

    started = time.monotonic()
    server = osj("server", "create", "--flavor", name, "--image", glance_image["id"], "--network", net["id"],
                 "--security-group", sg["id"], "--key-name", "reallab-smoke", "--config-drive", "True",
                 "--user-data", str(work / "user-data"), "--wait", SERVER, timeout=1200)
    if server.get("status") != "ACTIVE":
        raise RuntimeError(f"server {SERVER} is {server.get('status')}: {server.get('fault')}")
    step("server ACTIVE", started)
    addresses = server.get("addresses")
    address = _address(addresses)
    log(f"reallab smoke: {SERVER} ACTIVE at {address}")

    guest = Guest(SERVER, address, key, stack.sandbox)
    guest.wait_ssh(time.monotonic() + 900)
    step("SSH with the metadata's key (from server create)", started)
    status = guest.run("cloud-init status --wait --long", check=False, timeout=900)
    (work / "cloud-init-status.txt").write_text(status.stdout + status.stderr)
    if "status: done" not in status.stdout:
        raise RuntimeError(f"cloud-init not done: {status.stdout.strip()} {status.stderr.strip()}")
    if "ConfigDrive" not in status.stdout:
        raise RuntimeError(f"cloud-init did not use the config drive: {status.stdout.strip()}")
    guest.run(f"test -s {MARKER}")
    step("cloud-init done, ConfigDrive, user data applied (from server create)", started)

    started = time.monotonic()
    osc("server", "delete", "--wait", SERVER)
    if any(x["Name"] == SERVER for x in osj("server", "list")):
        raise RuntimeError(f"{SERVER} still listed after delete")
    step("server deleted", started)
    return t


def upload_image(osj, image: LabImage, disk: Path, name: str, extra: tuple[str, ...] = ()) -> dict:
    """The VDU lab's image in Glance as Nova's libvirt driver boots it directly: kernel (aki), initrd
    (ari), the disk (qcow2) with kernel_id/ramdisk_id/os_command_line; `extra` goes on each create
    (e.g. --public); waits until all three are active (OSC prints them still queued)."""
    kernel = osj("image", "create", "--disk-format", "aki", "--container-format", "aki", *extra,
                 "--file", str(image.kernel), f"{name}-vmlinuz")
    ramdisk = osj("image", "create", "--disk-format", "ari", "--container-format", "ari", *extra,
                  "--file", str(image.initrd), f"{name}-initrd")
    disk_image = osj("image", "create", "--disk-format", "qcow2", "--container-format", "bare", *extra,
                     "--file", str(disk), "--property", f"kernel_id={kernel['id']}",
                     "--property", f"ramdisk_id={ramdisk['id']}",
                     "--property", f"os_command_line={image.cmdline}", name)
    for created in (kernel, ramdisk, disk_image):
        _wait_status(lambda: osj("image", "show", created["id"]), "active", ("killed", "deleted"), 600)
    return disk_image


def _wait_status(show, wanted: str, failed: tuple[str, ...], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        thing = show()
        status = str(thing.get("status", "")).lower()
        if status == wanted:
            return thing
        if status in failed or time.monotonic() > deadline:
            raise RuntimeError(f"{thing.get('name') or thing.get('id')} is {status}, not {wanted}")
        time.sleep(3)


def _address(addresses) -> str:
    """The server's address from `server create -f json` (a dict in newer clients, a string before)."""
    if isinstance(addresses, dict):
        for ips in addresses.values():
            return ips[0]
    return str(addresses).split("=", 1)[1].split(",")[0].strip()
