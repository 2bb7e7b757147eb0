"""Where a plan runs: directly on a host with SCTP, or in a QEMU guest.

Both executors run the same batch script (``plan/plan.sh`` in the run
directory) and hand every console line to ``on_line``; the run scripts write
their results into ``$MECPOOL_OUT`` (the run directory itself: on a host
directly, in the guest through the 9p shared folder).
"""

import os
import shutil
import socket
import subprocess
import time

from mecpool import rsplibfix

from .initramfs import ensure_image


class ModeError(RuntimeError):
    """The chosen mode cannot run on this machine."""


def host_has_sctp():
    """True when the kernel can open an SCTP socket (module loaded or loadable)."""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    except OSError:
        return False
    sock.close()
    return True


def choose_mode(requested):
    if requested not in ("auto", "host", "vm"):
        raise ModeError("--mode: {!r} is not auto, host or vm".format(requested))
    if requested == "auto":
        return "host" if host_has_sctp() else "vm"
    if requested == "host" and not host_has_sctp():
        raise ModeError("--mode host: this kernel has no SCTP (socket(AF_INET, SOCK_STREAM, "
                        "IPPROTO_SCTP) fails); use --mode vm or load the sctp module")
    return requested


def host_tools():
    """Full paths of ip and tc on this host (plans never rely on PATH for them)."""
    tools = {}
    for name, package in (("ip", "iproute2"), ("tc", "iproute2"), ("nsenter", "util-linux")):
        found = shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
        if not found:
            raise ModeError("{} not found; install {}".format(name, package))
        tools[name] = found
    # The fixed RSPLIB variant's library, where this host built it (the guest has it
    # at rsplibfix.INSTALL_PATH, see initramfs.py).
    tools["rspfix"] = str(rsplibfix.ensure_built().resolve())
    return tools


GUEST_TOOLS = {"ip": "/usr/bin/ip", "tc": "/usr/bin/tc", "nsenter": "/usr/bin/nsenter",
               "rspfix": rsplibfix.INSTALL_PATH}


def _stream(process, on_line, deadline):
    """Feed the process's output lines to on_line; kill it at the deadline."""
    buffer = b""
    os.set_blocking(process.stdout.fileno(), False)
    while True:
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise ModeError("the testbed did not finish in time (killed)")
        chunk = None
        try:
            chunk = process.stdout.read(65536)
        except BlockingIOError:
            chunk = None
        if chunk:
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                on_line(line.decode("utf-8", "replace").rstrip("\r"))
            continue
        if process.poll() is not None:
            rest = process.stdout.read() or b""
            for line in (buffer + rest).split(b"\n"):
                if line:
                    on_line(line.decode("utf-8", "replace").rstrip("\r"))
            return process.returncode
        time.sleep(0.05)


def run_on_host(run_dir, on_line, timeout_s, need_root=True):
    """Run plan/plan.sh with /bin/sh on this host (as root for namespaces)."""
    if need_root and os.geteuid() != 0:
        raise ModeError("--mode host needs root (network namespaces)")
    env = dict(os.environ, MECPOOL_OUT=str(run_dir))
    process = subprocess.Popen(["/bin/sh", str(run_dir / "plan" / "plan.sh")], env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    return _stream(process, on_line, time.monotonic() + timeout_s)


def qemu_argv(image, share, cpus=2, memory_mb=2048):
    """QEMU/TCG: no network device, serial console on stdio, the run directory as 9p."""
    return ["qemu-system-x86_64", "-accel", "tcg", "-smp", str(cpus), "-m", str(memory_mb),
            "-nographic", "-nic", "none", "-no-reboot",
            "-kernel", str(image.kernel), "-initrd", str(image.initrd),
            "-append", "console=ttyS0 quiet panic=-1",
            "-virtfs", "local,path={},mount_tag=share,security_model=none,id=share".format(share)]


def run_in_vm(run_dir, on_line, timeout_s, cache_root, cpus=2, memory_mb=2048):
    """Boot the guest on the run directory; returns (exit code, timing dict)."""
    if not shutil.which("qemu-system-x86_64"):
        raise ModeError("qemu-system-x86_64 not found; run scripts/install-deps.sh "
                        "(package qemu-system-x86)")
    started = time.monotonic()
    image = ensure_image(cache_root)
    timing = {"image_s": round(time.monotonic() - started, 3), "image_built": image.built,
              "image_key": image.key, "kernel_version": image.kernel_version}
    exit_code = {"guest": None}
    boot_start = time.monotonic()

    def watch(line):
        if "MECPOOL-READY" in line and "boot_s" not in timing:
            timing["boot_s"] = round(time.monotonic() - boot_start, 3)
            timing["guest_uptime_at_ready_s"] = float(line.split("MECPOOL-READY", 1)[1].split()[0])
        if "MECPOOL-EXIT" in line:
            exit_code["guest"] = int(line.split("MECPOOL-EXIT", 1)[1].split()[0])
        on_line(line)

    process = subprocess.Popen(qemu_argv(image, run_dir, cpus, memory_mb),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    code = _stream(process, watch, time.monotonic() + timeout_s)
    timing["vm_total_s"] = round(time.monotonic() - boot_start, 3)
    if code != 0:
        raise ModeError("qemu exited with status {}".format(code))
    if exit_code["guest"] is None:
        raise ModeError("the guest stopped without running the plan (no MECPOOL-EXIT on "
                        "its console; see {}/console.log)".format(run_dir))
    return exit_code["guest"], timing
