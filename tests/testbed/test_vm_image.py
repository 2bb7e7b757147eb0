"""The guest image: initramfs contents, module order, cache, PVH kernel; the cpio writer."""

import os
import stat
import subprocess
from pathlib import Path

import pytest

from mecpool.testbed import initramfs
from mecpool.testbed.cpio import CpioWriter


def _listing(path):
    """(name, mode string) of every archive member, via GNU cpio."""
    out = subprocess.run(["cpio", "-itv", "--quiet"], stdin=open(path, "rb"), capture_output=True,
                         text=True, check=True).stdout
    entries = {}
    for line in out.splitlines():
        parts = line.split()
        name = parts[-3] if "->" in parts else parts[-1]
        entries[name] = parts[0]
    return entries


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    return initramfs.ensure_image(tmp_path_factory.mktemp("vm-cache"))


def test_modules_load_after_their_dependencies():
    inputs = initramfs.Inputs()
    names = [initramfs._module_name(m) for m in inputs.modules]
    deps = {}
    for line in (inputs.modules_dir / "modules.dep").read_text().splitlines():
        target, _, rest = line.partition(":")
        deps[initramfs._module_name(target)] = [initramfs._module_name(d) for d in rest.split()]
    for position, name in enumerate(names):
        for dep in deps[name]:
            assert names.index(dep) < position, (dep, name)
    for wanted in ("sctp", "crc32c_generic", "bridge", "veth", "sch_netem", "sch_prio", "cls_u32",
                   "9p", "9pnet_virtio", "virtio_pci"):
        assert wanted in names
    # crc32c is requested by name at run time (no modprobe in the guest): loaded before sctp
    assert names.index("crc32c_generic") < names.index("sctp")


def test_image_holds_tools_libraries_and_modules(image):
    entries = _listing(image.initrd)
    assert entries["init"].startswith("-rwx")
    assert entries["dev/console"].startswith("c")
    for program in ("ip", "tc", "rspregistrar", "rspserver", "calcappclient", "hsdump", "busybox"):
        assert entries["usr/bin/" + program].startswith("-rwx"), program
    assert entries["usr/bin/sh"].startswith("l")  # busybox applet
    assert entries["usr/lib/mecpool/librspfreshload.so"].startswith("-rwx")   # the fixed variant's preload
    assert "usr/lib/x86_64-linux-gnu/libdl.so.2" in entries                  # which it needs
    inputs = initramfs.Inputs()
    for lib in inputs.libraries:
        assert "usr/lib/x86_64-linux-gnu/" + os.path.basename(lib) in entries
    assert "usr/lib64/ld-linux-x86-64.so.2" in entries
    for top in ("bin", "lib", "lib64", "sbin"):
        assert entries[top].startswith("l")
    # every module uncompressed (busybox insmod cannot decompress), in the listed order
    modules = [name for name in entries if name.startswith("usr/lib/modules/")]
    assert modules and all(name.endswith(".ko") for name in modules)
    extracted = subprocess.run(["cpio", "-i", "--quiet", "--to-stdout", "etc/mecpool/modules"],
                               stdin=open(image.initrd, "rb"), capture_output=True, text=True).stdout
    assert extracted.split() == [os.path.basename(m).split(".ko")[0] + ".ko" for m in inputs.modules]


def test_image_is_cached_by_its_inputs(image, monkeypatch):
    again = initramfs.ensure_image(image.directory.parent)
    assert (again.key, again.built) == (image.key, False)
    assert again.initrd.read_bytes() == image.initrd.read_bytes()
    monkeypatch.setattr(initramfs, "BUILDER_VERSION", "changed-for-test")
    rebuilt = initramfs.ensure_image(image.directory.parent)
    assert rebuilt.key != image.key and rebuilt.built
    # reproducible: same inputs, same bytes
    assert rebuilt.initrd.read_bytes() == image.initrd.read_bytes()


def test_kernel_is_booted_as_pvh_elf(image):
    data = image.kernel.read_bytes()[:4]
    assert data == b"\x7fELF"
    assert initramfs._has_pvh_note(image.kernel.read_bytes())
    assert initramfs.extract_vmlinux(Path("/etc/hostname")) is None  # not a bzImage


def test_cpio_writer_round_trip(tmp_path):
    archive = CpioWriter()
    archive.file("etc/a.txt", b"hello\n")
    archive.file("usr/bin/tool", b"#!/bin/sh\n", 0o755)
    archive.symlink("bin", "usr/bin")
    archive.char_device("dev/null", 1, 3, 0o666)
    path = tmp_path / "x.cpio"
    path.write_bytes(archive.getvalue())
    entries = _listing(path)
    assert entries["dev/null"].startswith("crw-rw-rw-")
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(["cpio", "-idm", "--quiet", "--no-absolute-filenames", "--nonmatching", "dev/*"],
                   stdin=open(path, "rb"), cwd=out, check=True)
    assert (out / "etc/a.txt").read_bytes() == b"hello\n"
    assert stat.S_IMODE((out / "usr/bin/tool").stat().st_mode) == 0o755
    assert os.readlink(out / "bin") == "usr/bin"
    with pytest.raises(ValueError):
        archive.file("../escape", b"")
