"""Boot a lab VM the way Nova's libvirt driver boots an instance, with plain QEMU.

What the guest sees matches a Nova/KVM instance of the OSM Release EIGHT era: i440fx machine
("pc"), SMBIOS "OpenStack Nova" with the instance UUID, virtio-net NICs at PCI slots 3, 4, ... in
port order (so they are ens3, ens4, ...), the root disk as virtio-blk right after them (vda), the
ISO 9660 config drive as an IDE cdrom (hdd, as libvirt attaches disk.config), a virtio balloon,
the serial console in a log file.  The kernel and initrd are the image's own, booted directly
(Nova does the same for images with kernel_id/ramdisk_id).  KVM when it works, else TCG.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid as uuidlib
from dataclasses import dataclass
from pathlib import Path

from . import lifetime
from .image import LabImage, VdulabError, require_tool

QEMU = "qemu-system-x86_64"
FIRST_NIC_SLOT = 3      # slot 1 is the PIIX3, slot 2 the video card on a Nova guest: NICs from 3
NOVA_VERSION = "20.0.0"
TCG_TB_MB = 256


@dataclass(frozen=True)
class VmSpec:
    """One VM: its image, per-VM files, flavor (memory, vCPUs, disk) and ports (tap, MAC)."""
    name: str
    image: LabImage
    overlay: Path              # qcow2 backed by image.disk (create_overlay)
    disk_gb: int
    memory_mb: int
    vcpus: int
    config_drive: Path         # ISO 9660, label config-2 (configdrive.write_config_drive)
    nics: tuple[tuple[str, str], ...]   # (tap name, MAC) in port order: ens3, ens4, ...
    serial_log: Path
    pidfile: Path
    qmp_socket: Path
    uuid: str = ""             # the instance UUID (SMBIOS); derived from the name when empty
    netns: str | None = None   # network namespace the taps live in; QEMU is started there
    accel: str | None = None   # "kvm" or "tcg"; None: accel() decides
    tcg_tb_mb: int = TCG_TB_MB # TCG translation cache; QEMU's default (1 GiB) fills up in one boot

    def __post_init__(self) -> None:
        object.__setattr__(self, "nics", tuple((str(t), str(m)) for t, m in self.nics))
        if not self.uuid:
            object.__setattr__(self, "uuid", str(uuidlib.uuid5(uuidlib.NAMESPACE_URL,
                                                                f"vdulab:{self.name}")))

    @property
    def qemu_log(self) -> Path:
        """QEMU's own stdout/stderr (not the guest's console)."""
        return self.serial_log.with_name(self.serial_log.name + ".qemu")


@functools.cache
def accel(kernel: Path | None = None) -> str:
    """ "kvm" when /dev/kvm is usable, else "tcg".  $MECPOOL_VDULAB_ACCEL overrides.

    Usable means a guest really runs: some hosts open /dev/kvm and create VMs, yet abort on
    `-cpu host` or hang once the kernel starts.  With `kernel`, the probe boots it to its first
    console line; without, it waits for SeaBIOS's first debug line.
    """
    forced = os.environ.get("MECPOOL_VDULAB_ACCEL")
    if forced in ("kvm", "tcg"):
        return forced
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
    except OSError:
        return "tcg"
    return "kvm" if _kvm_runs(kernel) else "tcg"


def _kvm_runs(kernel: Path | None, timeout: float = 10.0) -> bool:
    with tempfile.TemporaryDirectory(prefix="vdulab-kvm-probe-") as tmp:
        out = Path(tmp) / "out"
        argv = [QEMU, "-accel", "kvm", "-cpu", "host", "-machine", "pc", "-m", "256",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"]
        if kernel is not None:
            argv += ["-kernel", str(kernel), "-append", "console=ttyS0 panic=-1",
                     "-serial", f"file:{out}"]
            marker = b"Linux version"
        else:
            argv += ["-chardev", f"file,id=dbg,path={out}",
                     "-device", "isa-debugcon,iobase=0x402,chardev=dbg"]
            marker = b"SeaBIOS"
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if out.exists() and marker in out.read_bytes():
                    return True
                if proc.poll() is not None:
                    return out.exists() and marker in out.read_bytes()
                time.sleep(0.1)
            return False
        finally:
            proc.kill()
            proc.wait()


def create_overlay(image: LabImage, path: Path, disk_gb: int) -> Path:
    """A qcow2 of `disk_gb` GiB backed by the image's base disk (the flavor's root disk)."""
    qemu_img = require_tool("qemu-img", "qemu-utils")
    base_size = image.disk.stat().st_size
    if disk_gb * (1 << 30) < base_size:
        raise VdulabError(f"disk_gb={disk_gb} is smaller than the image ({base_size >> 20} MiB)")
    path = Path(path)
    path.unlink(missing_ok=True)
    result = subprocess.run([qemu_img, "create", "-q", "-f", "qcow2", "-F", "raw",
                             "-b", str(image.disk), str(path), f"{disk_gb}G"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise VdulabError(f"qemu-img create {path} failed: {result.stderr.strip()}")
    return path


def qemu_argv(spec: VmSpec) -> list[str]:
    """The qemu-system-x86_64 command line for `spec` (without the netns wrapper)."""
    acc = spec.accel or accel(spec.image.kernel)
    kvm = acc == "kvm"
    smbios = ",".join([
        "type=1", "manufacturer=OpenStack Foundation", "product=OpenStack Nova",
        f"version={NOVA_VERSION}", f"serial={spec.uuid}", f"uuid={spec.uuid}",
        "family=Virtual Machine"])
    argv = [
        QEMU, "-name", f"guest={_q(spec.name)},debug-threads=on",
        "-machine", "pc,hpet=off",
        "-accel", "kvm" if kvm else f"tcg,thread=multi,tb-size={spec.tcg_tb_mb}",
        "-cpu", "host" if kvm else "max",
        # Nova's default topology: one socket per vCPU.
        "-smp", f"{spec.vcpus},sockets={spec.vcpus},cores=1,threads=1",
        "-m", str(spec.memory_mb),
        "-uuid", spec.uuid, "-smbios", smbios,
        "-no-user-config", "-nodefaults", "-display", "none", "-no-reboot",
        "-rtc", "base=utc,driftfix=slew",
        "-kernel", str(spec.image.kernel), "-initrd", str(spec.image.initrd),
        "-append", spec.image.cmdline,
    ]
    if kvm:
        argv += ["-global", "kvm-pit.lost_tick_policy=delay"]
    for i, (tap, mac) in enumerate(spec.nics):
        netdev = f"tap,id=hostnet{i},ifname={tap},script=no,downscript=no"
        if kvm:
            netdev += ",vhost=on"
        argv += ["-netdev", netdev,
                 "-device", f"virtio-net-pci,netdev=hostnet{i},id=net{i},mac={mac},"
                            f"bus=pci.0,addr={FIRST_NIC_SLOT + i:#x}"]
    disk_slot = FIRST_NIC_SLOT + len(spec.nics)
    argv += [
        "-drive", f"file={_q(spec.overlay)},format=qcow2,if=none,id=drive-virtio-disk0,discard=unmap",
        "-device", f"virtio-blk-pci,drive=drive-virtio-disk0,id=virtio-disk0,bus=pci.0,"
                   f"addr={disk_slot:#x},bootindex=1",
        "-drive", f"file={_q(spec.config_drive)},format=raw,if=none,id=drive-ide0-1-1,"
                  "readonly=on,media=cdrom",
        "-device", "ide-cd,bus=ide.1,unit=1,drive=drive-ide0-1-1,id=ide0-1-1",
        "-device", f"virtio-balloon-pci,id=balloon0,bus=pci.0,addr={disk_slot + 1:#x}",
        "-chardev", f"file,id=charserial0,path={_q(spec.serial_log)}",
        "-device", "isa-serial,chardev=charserial0,id=serial0",
        "-qmp", f"unix:{_q(spec.qmp_socket)},server=on,wait=off",
        "-pidfile", str(spec.pidfile),
    ]
    return argv


def launch_argv(spec: VmSpec) -> list[str]:
    """qemu_argv, run inside the VM's network namespace when it has one (the taps are there)."""
    argv = qemu_argv(spec)
    return ["ip", "netns", "exec", spec.netns, *argv] if spec.netns else argv


def start_vm(spec: VmSpec, settle: float = 1.0) -> subprocess.Popen:
    """Start QEMU for `spec`; raises (with QEMU's message) if it exits within `settle` seconds."""
    require_tool(QEMU, "qemu-system-x86")
    for what, path in (("overlay", spec.overlay), ("config drive", spec.config_drive),
                       ("kernel", spec.image.kernel), ("initrd", spec.image.initrd)):
        if not Path(path).is_file():
            raise VdulabError(f"{spec.name}: {what} {path} does not exist")
    for stale in (spec.qmp_socket, spec.pidfile):
        Path(stale).unlink(missing_ok=True)
    spec.serial_log.parent.mkdir(parents=True, exist_ok=True)
    with open(spec.qemu_log, "wb") as log:
        proc = subprocess.Popen(launch_argv(spec), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=lifetime.die_with_parent)
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise VdulabError(f"{spec.name}: qemu exited with status {proc.returncode}: "
                              f"{spec.qemu_log.read_text().strip()}")
        time.sleep(0.05)
    return proc


def qmp(spec: VmSpec, command: str, timeout: float = 5.0, **arguments) -> dict:
    """Run one QMP command on the VM's monitor socket; returns its "return" value."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(spec.qmp_socket))
        stream = sock.makefile("rwb")
        json.loads(stream.readline())                      # the greeting
        for cmd, args in (("qmp_capabilities", {}), (command, arguments)):
            msg = {"execute": cmd, **({"arguments": args} if args else {})}
            stream.write(json.dumps(msg).encode() + b"\n")
            stream.flush()
            while True:
                reply = json.loads(stream.readline())
                if "event" in reply:
                    continue
                if "error" in reply:
                    raise VdulabError(f"{spec.name}: QMP {cmd}: {reply['error'].get('desc')}")
                break
        return reply.get("return", {})


def stop_vm(spec: VmSpec, timeout: float = 60.0) -> str:
    """ACPI power button via QMP (the guest shuts down cleanly), then kill after `timeout`.

    Returns "powerdown", "killed" or "not running".
    """
    pid = _qemu_pid(spec)
    if pid is None:
        return "not running"
    try:
        qmp(spec, "system_powerdown")
    except (OSError, ValueError, VdulabError):
        pass   # no monitor: fall through to the signals
    if _wait_gone(pid, timeout):
        return "powerdown"
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        if _wait_gone(pid, grace):
            break
    return "killed"


def _qemu_pid(spec: VmSpec) -> int | None:
    """The pid in the pidfile, if that process is still this VM's QEMU."""
    try:
        pid = int(Path(spec.pidfile).read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if str(spec.pidfile).encode() in cmdline and not _is_zombie(pid) else None


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _is_zombie(pid):
            return True
        time.sleep(0.2)
    return _is_zombie(pid)


def _q(value: object) -> str:
    """A value inside a QEMU option list: commas are doubled."""
    return str(value).replace(",", ",,")
