"""Build the testbed guest's initramfs from the packages installed on this host.

The guest is Debian's own kernel (linux-image-amd64) booted by QEMU/TCG; the
initramfs holds only what a testbed run needs: busybox (shell and applets),
iproute2's ip and tc, the RSPLIB binaries, the shared libraries ldd lists for
them and the kernel modules below.  The result is cached under
build/testbed/vm/<key>/ where the key hashes every input file, so it is rebuilt
only when a package, the kernel or this builder changes.
"""

import hashlib
import json
import lzma
import os
import threading
import re
import shutil
import subprocess
from pathlib import Path

from mecpool import rsplibfix

from .cpio import CpioWriter

# Bump when the layout of the image changes, so cached images are rebuilt.
BUILDER_VERSION = "5"

# Kernel modules, in load order (dependencies are added from modules.dep too).
# The guest has no modprobe/udev, so anything the kernel would request on its
# own (crc32c for SCTP checksums) must be loaded explicitly.
MODULES = (
    "crc32c_generic",  # the crc32c algorithm SCTP checksums use (requested by name)
    "libcrc32c",       # crc32c library, a dependency of sctp
    "udp_tunnel",      # sctp depends on it (SCTP over UDP encapsulation)
    "ip6_udp_tunnel",  # ditto, for IPv6
    "sctp",            # the transport of every RSerPool protocol (ASAP, ENRP, CalcApp)
    "llc", "stp",      # dependencies of bridge
    "bridge",          # one bridge per namespace set joins the sites
    "veth",            # one veth pair per site, site namespace <-> bridge
    "sch_netem",       # link delays and the coverage-loss fault (loss 100 %)
    "sch_prio",        # one band per distinct delay: pairwise RTTs from one veth end
    "cls_u32",         # puts packets into the band of their destination address
    "virtio_pci",      # the PCI transport of the shared folder device
    "9pnet_virtio",    # 9p over virtio: results and the plan pass through it
    "9p",              # the 9p file system itself (needs netfs, fscache)
)

# Programs the plans run; ip and tc go to /usr/bin so plans call them by full
# path (busybox's own ip/tc applets lack netns and netem).
PROGRAMS = {
    "ip": "/usr/bin/ip",
    "tc": "/usr/bin/tc",
    "rspregistrar": "/usr/bin/rspregistrar",
    "rspserver": "/usr/bin/rspserver",
    "calcappclient": "/usr/bin/calcappclient",
    "hsdump": "/usr/bin/hsdump",
}

# Small configuration files RSPLIB or the C library may read.
ETC_FILES = ("/etc/protocols", "/etc/services")

LIB_DIR = "usr/lib/x86_64-linux-gnu"
APT_HINT = ("install them with scripts/install-deps.sh (packages linux-image-amd64, "
            "busybox-static, iproute2, rsplib-registrar, rsplib-services, rsplib-tools)")


class InitramfsError(RuntimeError):
    """Something the image needs is missing on this host."""


def find_kernel(boot="/boot", modules_root="/lib/modules"):
    """(version, vmlinuz path) of the newest kernel that has its modules installed."""
    candidates = []
    for path in Path(boot).glob("vmlinuz-*"):
        version = path.name[len("vmlinuz-"):]
        if (Path(modules_root) / version / "modules.dep").is_file():
            candidates.append((_version_key(version), version, path))
    if not candidates:
        raise InitramfsError("no /boot/vmlinuz-* with matching /lib/modules/<version>; " + APT_HINT)
    candidates.sort()
    _, version, path = candidates[-1]
    return version, path


def _version_key(version):
    return [int(part) if part.isdigit() else part for part in re.split(r"[.-]", version)]


def which(name, extra=("/usr/sbin", "/sbin", "/usr/bin", "/bin")):
    found = shutil.which(name) or next(
        (os.path.join(d, name) for d in extra if os.access(os.path.join(d, name), os.X_OK)), None)
    if not found:
        raise InitramfsError("program {!r} not found; {}".format(name, APT_HINT))
    return os.path.realpath(found)


def module_order(names, modules_dir):
    """Module files (relative to modules_dir) in load order, dependencies first."""
    deps = {}
    files = {}
    for line in (Path(modules_dir) / "modules.dep").read_text().splitlines():
        if ":" not in line:
            continue
        target, rest = line.split(":", 1)
        name = _module_name(target)
        files[name] = target
        deps[name] = [_module_name(item) for item in rest.split()]
    order = []

    def visit(name, chain):
        if name in order:
            return
        if name not in files:
            raise InitramfsError("kernel module {} not in {}/modules.dep (needed by {})".format(
                name, modules_dir, " <- ".join(chain) or "the testbed"))
        # modules.dep lists the dependencies in the reverse of their load order.
        for dep in reversed(deps[name]):
            visit(dep, chain + [name])
        order.append(name)

    for name in names:
        visit(name.replace("-", "_"), [])
    return [files[name] for name in order]


def _module_name(path):
    base = os.path.basename(path)
    base = re.sub(r"\.ko(\.xz|\.zst|\.gz)?$", "", base)
    return base.replace("-", "_")


def _read_module(path):
    """A module's bytes, uncompressed: busybox insmod does not decompress."""
    path = str(path)
    if path.endswith(".xz"):
        with lzma.open(path) as handle:
            return handle.read()
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout
    if path.endswith(".gz"):
        import gzip
        with gzip.open(path) as handle:
            return handle.read()
    return Path(path).read_bytes()


def shared_libraries(binaries):
    """Every shared library (real path) ldd lists for the binaries, plus the loader."""
    libs = set()
    for binary in binaries:
        result = subprocess.run(["ldd", binary], capture_output=True, text=True)
        if result.returncode != 0:
            continue  # static binary (busybox)
        for line in result.stdout.splitlines():
            match = re.search(r"=>\s*(/\S+)", line) or re.match(r"\s*(/\S+)", line)
            if match:
                libs.add(match.group(1))
    return sorted(libs)


class Inputs:
    """Everything the image is made of, resolved on this host."""

    def __init__(self, kernel_version=None):
        if kernel_version:
            self.kernel_version = kernel_version
            self.kernel = Path("/boot") / ("vmlinuz-" + kernel_version)
            if not self.kernel.is_file():
                raise InitramfsError("{} not found; {}".format(self.kernel, APT_HINT))
        else:
            self.kernel_version, self.kernel = find_kernel()
        self.modules_dir = Path("/lib/modules") / self.kernel_version
        self.modules = module_order(MODULES, self.modules_dir)
        self.busybox = which("busybox")
        if subprocess.run(["ldd", self.busybox], capture_output=True).returncode == 0:
            raise InitramfsError("{} is not static; install busybox-static".format(self.busybox))
        self.programs = {target: which(name) for name, target in PROGRAMS.items()}
        # Our fix for the stock PEs, in every image; a run's variant decides whether
        # its PEs load it (mecpool.rsplibfix).  Its libraries come along (libdl.so.2).
        self.preload = rsplibfix.ensure_built()
        self.libraries = shared_libraries(sorted(self.programs.values()) + [str(self.preload)])
        self.init = Path(__file__).with_name("guest_init.sh")

    def files(self):
        """Every input file, for the cache key."""
        paths = [self.kernel, self.busybox, self.init, self.preload]
        paths += sorted(self.programs.values())
        paths += self.libraries
        paths += [self.modules_dir / module for module in self.modules]
        paths += list(ETC_FILES)
        return [str(p) for p in paths]

    def key(self):
        digest = hashlib.sha256(BUILDER_VERSION.encode())
        for path in self.files():
            digest.update(path.encode() + b"\0")
            with open(path, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        return digest.hexdigest()[:16]


def build_archive(inputs):
    """The initramfs (uncompressed cpio: unpacking is faster than gunzip under TCG)."""
    archive = CpioWriter()
    # Merged /usr, as on Debian 12; the loader's path /lib64/... must resolve.
    for top in ("bin", "sbin", "lib", "lib64"):
        archive.symlink(top, "usr/" + top)
    for directory in ("usr/bin", "usr/sbin", LIB_DIR, "usr/lib64", "usr/lib/mecpool", "proc", "sys", "dev",
                      "tmp", "run", "share", "etc/mecpool", "var/run"):
        archive.directory(directory)
    archive.char_device("dev/console", 5, 1)
    archive.char_device("dev/null", 1, 3, 0o666)
    archive.file("init", inputs.init.read_bytes(), 0o755)
    archive.file("usr/bin/busybox", Path(inputs.busybox).read_bytes(), 0o755)
    applets = subprocess.run([inputs.busybox, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for applet in applets:
        if applet not in ("ip", "tc", "busybox"):
            archive.symlink("usr/bin/" + applet, "busybox")
    for target, source in inputs.programs.items():
        archive.file(target, Path(source).read_bytes(), 0o755)
    archive.file(rsplibfix.INSTALL_PATH.lstrip("/"), Path(inputs.preload).read_bytes(), 0o755)
    for lib in inputs.libraries:
        name = os.path.basename(lib)
        real = os.path.realpath(lib)
        archive.file(LIB_DIR + "/" + name, Path(real).read_bytes(), 0o755)
        if name.startswith("ld-linux"):
            archive.symlink("usr/lib64/" + name, "../lib/x86_64-linux-gnu/" + name)
    module_lines = []
    for module in inputs.modules:
        name = re.sub(r"\.(xz|zst|gz)$", "", os.path.basename(module))
        archive.file("usr/lib/modules/" + name,
                     _read_module(inputs.modules_dir / module), 0o644)
        module_lines.append(name)
    archive.file("etc/mecpool/modules", ("\n".join(module_lines) + "\n").encode())
    for path in ETC_FILES:
        if os.path.exists(path):
            archive.file(path, Path(path).read_bytes())
    archive.file("etc/passwd", b"root:x:0:0:root:/:/bin/sh\n")
    archive.file("etc/group", b"root:x:0:\n")
    return archive.getvalue()


XEN_ELFNOTE_PHYS32_ENTRY = 18  # the PVH entry point QEMU boots an ELF kernel through


def extract_vmlinux(bzimage):
    """The uncompressed ELF kernel inside an xz-compressed bzImage, or None.

    Under TCG the kernel's own xz decompression takes about 6 s; QEMU boots the
    ELF directly through its PVH entry, which halves the boot time.
    """
    data = Path(bzimage).read_bytes()
    start = data.find(b"\xfd7zXZ\x00")
    if start < 0:
        return None
    try:
        elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[start:])
    except lzma.LZMAError:
        return None
    if elf[:4] != b"\x7fELF" or not _has_pvh_note(elf):
        return None
    return elf


def _has_pvh_note(elf):
    import struct
    if elf[4] != 2:  # ELFCLASS64 only
        return False
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for index in range(phnum):
        base = phoff + index * phentsize
        p_type, = struct.unpack_from("<I", elf, base)
        if p_type != 4:  # PT_NOTE
            continue
        offset, = struct.unpack_from("<Q", elf, base + 8)
        size, = struct.unpack_from("<Q", elf, base + 32)
        pos, end = offset, offset + size
        while pos + 12 <= end:
            namesz, descsz, note_type = struct.unpack_from("<III", elf, pos)
            name = elf[pos + 12:pos + 12 + namesz].rstrip(b"\0")
            if name == b"Xen" and note_type == XEN_ELFNOTE_PHYS32_ENTRY:
                return True
            pos += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3)
    return False


class Image:
    """A built guest: kernel path and initramfs path."""

    def __init__(self, directory, kernel, initrd, kernel_version, key, built):
        self.directory = Path(directory)
        self.kernel = Path(kernel)
        self.initrd = Path(initrd)
        self.kernel_version = kernel_version
        self.key = key
        self.built = built  # False when taken from the cache


def ensure_image(cache_root, kernel_version=None):
    """Return the cached image for the current inputs, building it if needed."""
    inputs = Inputs(kernel_version)
    key = inputs.key()
    directory = Path(cache_root) / key
    initrd = directory / "initrd.cpio"
    manifest = directory / "manifest.json"
    if initrd.is_file() and manifest.is_file():
        kernel = json.loads(manifest.read_text())["boot_kernel"]
        return Image(directory, kernel, initrd, inputs.kernel_version, key, False)
    directory.mkdir(parents=True, exist_ok=True)
    vmlinux = extract_vmlinux(inputs.kernel)
    kernel = inputs.kernel
    if vmlinux is not None:
        kernel = directory / "vmlinux"
        _write_atomic(kernel, vmlinux)
    data = build_archive(inputs)
    _write_atomic(initrd, data)
    manifest.write_text(json.dumps({
        "key": key, "builder_version": BUILDER_VERSION, "kernel": str(inputs.kernel),
        "boot_kernel": str(kernel),
        "kernel_version": inputs.kernel_version, "modules": inputs.modules,
        "programs": inputs.programs, "libraries": inputs.libraries, "size": len(data),
    }, indent=2) + "\n")
    return Image(directory, kernel, initrd, inputs.kernel_version, key, True)


def _write_atomic(path, data):
    # A tmp name of its own: the fault tests build a cold image in two threads at once, and a
    # shared "path.tmp" was renamed away under the other (FileNotFoundError, 2026-12-06).
    tmp = Path("{}.tmp-{}-{}".format(path, os.getpid(), threading.get_ident()))
    tmp.write_bytes(data)
    os.replace(tmp, path)
