"""The lab's cloud image: Debian trixie built from Debian packages, set up for cloud-init like an Ubuntu cloud image.

Trixie because its cloud-init (25.x) has `cloud-init status --long` recoverable errors and
`cloud-init schema --system`; bookworm's 22.4 has neither.  The root file system is made by
debootstrap, configured (default user "ubuntu", ConfigDrive datasource, netplan on networkd, apt
pointing at the lab mirror only), then packed into a partitioned raw disk without loop devices or
mounts: `mkfs.ext4 -d` on a file, `sfdisk` on the disk file, `dd` at 1 MiB.  VMs boot the image's own
kernel and initrd directly (as Nova does for images with kernel_id/ramdisk_id) from a qcow2 overlay;
cloud-init's growpart/resizefs grow the partition to the overlay's size.

Cached under <cache_root>/images/<key>/, key = sha256 of every input (ImageRecipe); built in a temp
directory and renamed into place, so a half-built image is never used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

# Bump when the build steps change in a way the recipe's text does not show.
FORMAT = "1"

RELEASE = "trixie"
ARCH = "amd64"
DEBIAN_ARCHIVE = "http://deb.debian.org/debian"
ROOT_LABEL = "cloudimg-rootfs"
DEFAULT_USER = "ubuntu"
# Direct kernel boot: the root file system by label, every console message on the serial log.
CMDLINE = f"root=LABEL={ROOT_LABEL} ro console=ttyS0"

# On top of debootstrap's minbase.  debootstrap installs no Recommends, so the ones that matter
# are named here.  In trixie systemd-networkd is part of "systemd" (no package of its own);
# systemd-resolved is separate.
PACKAGES = (
    "systemd-sysv", "udev", "dbus", "libpam-systemd", "kmod", "iproute2", "linux-sysctl-defaults",
    "netplan.io", "systemd-resolved", "libnss-resolve", "libnss-myhostname",
    # systemd-resolved (257) dlopen()s libidn2 for the hostname; without it, it rejects the one
    # cloud-init sets ("Failed to escape hostname") and sudo cannot resolve the host's own name.
    "libidn2-0",
    "openssh-server", "sudo", "python3", "less", "ca-certificates",
    # The charms' ops 1.5.4 imports cgi, which Python 3.13 (trixie) dropped; focal's 3.8 and
    # bionic's 3.6 have it.  This package puts it back, so the built charms run as on the VDUs.
    "python3-legacy-cgi",
    # eatmydata: cloud-init runs apt under it when present (fewer fsyncs, faster installs).
    "cloud-init", "eatmydata", "cloud-guest-utils", "fdisk", "gdisk", "e2fsprogs",
    "linux-image-amd64", "initramfs-tools", "zstd",   # zstd: initramfs-tools' default compressor
    # networkd asks the kernel for nl80211, which loads cfg80211, which wants regulatory.db
    # (Ubuntu's images have it too; without it the console shows firmware load failures).
    "wireless-regdb",
)

# Enabled as on Ubuntu's images (Debian leaves networkd disabled).
UNITS = ("systemd-networkd.service", "systemd-resolved.service")

# systemd generators masked (symlinked to /dev/null), with the reason.  systemd 257's
# ssh-generator fails on every boot of a VM without a vsock device (as on Nova without
# hw_vsock), "Failed to query local AF_VSOCK CID"; sshd is started by ssh.service anyway.
MASKED_GENERATORS = ("systemd-ssh-generator",)

LogFn = Callable[[str], None]


class VdulabError(RuntimeError):
    """The lab cannot build or boot something; the message names what is wrong."""


def require_tool(tool: str, package: str) -> str:
    """The path of `tool`, or an error naming the Debian package that provides it."""
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")
    if path is None:
        raise VdulabError(f"{tool} not found; install Debian package {package} "
                          "(scripts/install-deps.sh installs it)")
    return path


def default_cache_root() -> Path:
    """$MECPOOL_CACHE, else ~/.cache/mecpool: outside the clone, so every clone reuses it."""
    env = os.environ.get("MECPOOL_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "mecpool"


def image_files(mirror_url: str) -> dict[str, str]:
    """The files the build writes into the root file system (path relative to /, text)."""
    return {
        "etc/cloud/cloud.cfg.d/95_lab_datasource.cfg": (
            "# MEC-Pool VDU lab: the VIM gives each VM an OpenStack config drive (label config-2).\n"
            "# None is the fallback, so a boot without one still finishes.\n"
            "datasource_list: [ConfigDrive, None]\n"),
        "etc/cloud/cloud.cfg.d/95_lab_default_user.cfg": (
            "# MEC-Pool VDU lab: the default user of Ubuntu's cloud images, which OSM's VNFDs name\n"
            "# (default-user: ubuntu): SSH keys only (no password), passwordless sudo.\n"
            "system_info:\n"
            "  default_user:\n"
            f"    name: {DEFAULT_USER}\n"
            "    gecos: Ubuntu\n"
            "    lock_passwd: true\n"
            "    groups: [adm, cdrom, dip, sudo]\n"
            "    sudo: ['ALL=(ALL) NOPASSWD:ALL']\n"
            "    shell: /bin/bash\n"),
        "etc/cloud/cloud.cfg.d/95_lab_network.cfg": (
            "# MEC-Pool VDU lab: network config goes through netplan, rendered by systemd-networkd,\n"
            "# as on Ubuntu's cloud images (the charms and user data write netplan files).\n"
            "system_info:\n"
            "  network:\n"
            "    renderers: [netplan]\n"
            "    activators: [netplan]\n"),
        "etc/cloud/cloud.cfg.d/95_lab_apt.cfg": (
            "# MEC-Pool VDU lab: keep the image's apt sources (the lab mirror only, see\n"
            "# /etc/apt/sources.list.d/lab-mirror.sources); cloud-init must not write Debian's.\n"
            "apt:\n"
            "  preserve_sources_list: true\n"),
        "etc/apt/sources.list.d/lab-mirror.sources": (
            "# MEC-Pool VDU lab: the package mirror the lab serves (nothing leaves the machine).\n"
            "# Unsigned, hence Trusted: yes.\n"
            "Types: deb\n"
            f"URIs: {mirror_url}\n"
            f"Suites: {RELEASE}\n"
            "Components: main\n"
            "Trusted: yes\n"),
        "etc/fstab": (
            "# The root file system, by the label Ubuntu's cloud images use.\n"
            f"LABEL={ROOT_LABEL}\t/\text4\tdiscard,errors=remount-ro\t0 1\n"),
        "etc/initramfs-tools/conf.d/lab-rootfs.conf": (
            "# MEC-Pool VDU lab: the root file system is built off-line, so mkinitramfs cannot probe\n"
            "# its type; naming it puts e2fsck into the initramfs (the root is checked before mounting).\n"
            "FSTYPE=ext4\n"),
        # cloud-init sets the instance's hostname; until then it is "localhost".
        "etc/hostname": "localhost\n",
        "etc/hosts": ("127.0.0.1\tlocalhost\n"
                      "::1\t\tlocalhost ip6-localhost ip6-loopback\n"
                      "ff02::1\t\tip6-allnodes\n"
                      "ff02::2\t\tip6-allrouters\n"),
    }


@dataclass(frozen=True)
class ImageRecipe:
    """Every input of an image build; its key names the cache directory."""
    release: str
    arch: str
    archive: str
    packages: tuple[str, ...]
    units: tuple[str, ...]
    masked_generators: tuple[str, ...]
    files: tuple[tuple[str, str], ...]
    cmdline: str
    mirror_url: str
    format: str = FORMAT

    @property
    def key(self) -> str:
        text = json.dumps(dataclasses.asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def recipe(mirror_url: str) -> ImageRecipe:
    """The recipe of the lab image whose apt points at `mirror_url`."""
    return ImageRecipe(release=RELEASE, arch=ARCH, archive=DEBIAN_ARCHIVE, packages=PACKAGES,
                       units=UNITS, masked_generators=MASKED_GENERATORS,
                       files=tuple(sorted(image_files(mirror_url).items())),
                       cmdline=CMDLINE, mirror_url=mirror_url)


@dataclass(frozen=True)
class LabImage:
    """A built image: base disk (raw, read-only), the kernel and initrd to boot it with."""
    disk: Path
    kernel: Path
    initrd: Path
    cmdline: str
    release: str
    key: str
    kernel_version: str
    dpkg_status: Path   # the image's /var/lib/dpkg/status: what mirror.py need not serve
    mirror_url: str


def ensure_image(cache_root: Path, mirror_url: str, log: LogFn = print) -> LabImage:
    """The cached image for `mirror_url`, built first if missing (needs root and the Debian archive)."""
    wanted = recipe(mirror_url)
    images = Path(cache_root) / "images"
    final = images / wanted.key
    image = _load(final)
    if image is not None:
        return image
    images.mkdir(parents=True, exist_ok=True)
    with cache_lock(images / ".lock"):
        image = _load(final)   # another process may have built it while we waited
        if image is not None:
            return image
        _remove_stale(images)
        tmp = images / f".tmp-{wanted.key[:16]}-{os.getpid()}"
        try:
            _build(wanted, tmp, log)
            os.rename(tmp, final)
        finally:
            if tmp.exists():
                _remove_tree(tmp)
    image = _load(final)
    if image is None:
        raise VdulabError(f"image build finished but {final} is incomplete")
    return image


def _load(directory: Path) -> LabImage | None:
    meta = directory / "image.json"
    if not meta.is_file():
        return None
    data = json.loads(meta.read_text())
    fields = {f.name for f in dataclasses.fields(LabImage)}
    image = LabImage(**{k: (directory / v if k in _PATH_FIELDS else v)
                        for k, v in data.items() if k in fields})
    if not all(getattr(image, name).is_file() for name in _PATH_FIELDS):
        return None
    return image


_PATH_FIELDS = ("disk", "kernel", "initrd", "dpkg_status")


def _build(r: ImageRecipe, tmp: Path, log: LogFn) -> None:
    if os.geteuid() != 0:
        raise VdulabError("building the lab image needs root (debootstrap, chroot)")
    require_tool("debootstrap", "debootstrap")
    require_tool("mkfs.ext4", "e2fsprogs")
    require_tool("sfdisk", "fdisk")
    tmp.mkdir(parents=True)
    rootfs = tmp / "rootfs"
    build_log = tmp / "build.log"
    started = time.monotonic()
    log(f"vdulab image {r.key[:12]}: building Debian {r.release} cloud image in {tmp}")
    with _step(log, f"debootstrap {r.release} ({len(r.packages)} packages and their dependencies)"):
        _run(["debootstrap", "--variant=minbase", f"--arch={r.arch}", "--components=main",
              "--include=" + ",".join(r.packages), r.release, str(rootfs), r.archive], build_log)
    with _step(log, "configure for cloud-init"):
        kernel_version = _configure(r, rootfs, build_log)
        shutil.copy2(rootfs / "var/lib/dpkg/status", tmp / "dpkg-status")
        manifest = _run(["chroot", str(rootfs), "dpkg-query", "-W", "-f", "${Package}\t${Version}\n"],
                        build_log, capture=True)
        (tmp / "manifest").write_text(manifest)
        for name, dest in ((f"vmlinuz-{kernel_version}", "vmlinuz"),
                           (f"initrd.img-{kernel_version}", "initrd.img")):
            shutil.copyfile(rootfs / "boot" / name, tmp / dest)
            os.chmod(tmp / dest, 0o444)
    with _step(log, "pack the root file system into a partitioned disk"):
        _make_disk(rootfs, tmp / "disk.raw", tmp, build_log)
    _remove_tree(rootfs)
    meta = {"disk": "disk.raw", "kernel": "vmlinuz", "initrd": "initrd.img", "cmdline": r.cmdline,
            "release": r.release, "key": r.key, "kernel_version": kernel_version,
            "dpkg_status": "dpkg-status", "mirror_url": r.mirror_url,
            "recipe": dataclasses.asdict(r)}
    (tmp / "image.json").write_text(json.dumps(meta, indent=2) + "\n")
    log(f"vdulab image {r.key[:12]}: built in {time.monotonic() - started:.0f} s")


def _configure(r: ImageRecipe, rootfs: Path, build_log: Path) -> str:
    """Write the recipe's files and make the tree a pristine cloud image; returns the kernel version."""
    # Only the lab mirror: debootstrap's sources.list points at the real archive.
    for stale in ("etc/apt/sources.list", "etc/resolv.conf"):
        (rootfs / stale).unlink(missing_ok=True)
    for rel, text in r.files:
        path = rootfs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.chmod(path, 0o644)
    # systemd-resolved owns resolv.conf, as on Ubuntu (the stub listener on 127.0.0.53).
    os.symlink("../run/systemd/resolve/stub-resolv.conf", rootfs / "etc/resolv.conf")
    _run(["chroot", str(rootfs), "systemctl", "enable", *r.units], build_log)
    generators = rootfs / "etc/systemd/system-generators"
    generators.mkdir(parents=True, exist_ok=True)
    for name in r.masked_generators:
        os.symlink("/dev/null", generators / name)
    # Again, now that /etc/fstab names the root file system: the initramfs then carries
    # e2fsck and checks the root before mounting it (else "fsck not present").
    _run(["chroot", str(rootfs), "update-initramfs", "-u", "-k", "all"], build_log)
    _run(["chroot", str(rootfs), "apt-get", "clean"], build_log)
    # Per-instance identity is made at first boot: SSH host keys by cloud-init, machine-id by
    # systemd (an empty file means "first boot"); the downloaded indexes are for the real archive.
    for key in (rootfs / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (rootfs / "etc/machine-id").write_text("")
    (rootfs / "var/lib/dbus/machine-id").unlink(missing_ok=True)
    for lists in (rootfs / "var/lib/apt/lists").iterdir():
        if lists.is_file():
            lists.unlink()
    for leftover in ("var/log/bootstrap.log", "var/cache/debconf/config.dat-old",
                     "var/cache/debconf/templates.dat-old"):
        (rootfs / leftover).unlink(missing_ok=True)
    versions = sorted(p.name[len("vmlinuz-"):] for p in (rootfs / "boot").glob("vmlinuz-*"))
    if len(versions) != 1 or not (rootfs / "boot" / f"initrd.img-{versions[0]}").is_file():
        raise VdulabError(f"expected one kernel and its initrd in the image's /boot, found {versions}")
    return versions[0]


def _make_disk(rootfs: Path, disk: Path, tmp: Path, build_log: Path) -> None:
    """MBR disk, one ext4 partition labelled cloudimg-rootfs from 1 MiB to the end."""
    mib = 1 << 20
    used = int(_run(["du", "-s", "-B1", "-x", str(rootfs)], build_log, capture=True).split()[0])
    # Room for ext4's metadata and journal plus some slack; growpart/resize2fs enlarge it per VM.
    fs_mib = -(-(used * 5 // 4 + 256 * mib) // (64 * mib)) * 64
    fs = tmp / "rootfs.ext4"
    _run(["mkfs.ext4", "-q", "-F", "-t", "ext4", "-b", "4096", "-L", ROOT_LABEL,
          "-E", "root_owner=0:0", "-d", str(rootfs), str(fs), f"{fs_mib}M"], build_log)
    with open(disk, "wb") as f:
        f.truncate((1 + fs_mib) * mib)
    script = f"label: dos\nstart=2048, size={fs_mib * 2048}, type=83, bootable\n"
    _run(["sfdisk", "--no-reread", "--no-tell-kernel", "-q", str(disk)], build_log, stdin=script)
    _run(["dd", f"if={fs}", f"of={disk}", "bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"],
         build_log)
    fs.unlink()
    os.chmod(disk, 0o444)   # the base of every overlay: never written


def _run(argv: list[str], build_log: Path, capture: bool = False, stdin: str | None = None) -> str:
    """Run a build command, its output appended to build.log; on failure raise with the log's tail."""
    with open(build_log, "a") as out:
        out.write(f"$ {' '.join(argv)}\n")
        out.flush()
        result = subprocess.run(argv, stdout=subprocess.PIPE if capture else out, stderr=out,
                                input=stdin, text=True, env={**os.environ, "LC_ALL": "C.UTF-8",
                                                             "DEBIAN_FRONTEND": "noninteractive"})
    if result.returncode != 0:
        tail = "".join(build_log.read_text().splitlines(keepends=True)[-25:])
        raise VdulabError(f"{argv[0]} failed (exit {result.returncode}); end of {build_log}:\n{tail}")
    return result.stdout if capture else ""


@contextlib.contextmanager
def _step(log: LogFn, what: str) -> Iterator[None]:
    started = time.monotonic()
    log(f"vdulab image: {what} ...")
    yield
    log(f"vdulab image: {what}: {time.monotonic() - started:.0f} s")


@contextlib.contextmanager
def cache_lock(path: Path) -> Iterator[None]:
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _remove_stale(images: Path) -> None:
    """Temp dirs of builds that died (we hold the lock, so none is in progress)."""
    for stale in images.glob(".tmp-*"):
        _remove_tree(stale)


def _remove_tree(path: Path) -> None:
    """rm -r that first unmounts what a failed debootstrap left mounted (proc, sys) below `path`."""
    real = os.path.realpath(path)
    with open("/proc/self/mounts") as f:
        points = [line.split()[1].replace("\\040", " ") for line in f]
    for point in sorted((p for p in points if p.startswith(real + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False)
    with open("/proc/self/mounts") as f:
        left = [line.split()[1] for line in f if line.split()[1].startswith(real + "/")]
    if left:
        raise VdulabError(f"not removing {path}: still mounted below it: {left}")
    shutil.rmtree(path)
