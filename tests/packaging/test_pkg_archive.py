"""Reproducible archives: same content -> same bytes, whatever the files' times,
owners or permissions on disk; readable by GNU tar."""

import os
import subprocess

import pytest

from mecpool.packaging.archive import archive_directory, write_archive


def make_tree(root, mtime, umask_mode):
    (root / "charms" / "c" / "hooks").mkdir(parents=True)
    (root / "pkg_vnfd.yaml").write_text("a: 1\n")
    hook = root / "charms" / "c" / "hooks" / "install"
    hook.write_text("#!/bin/sh\n")
    hook.chmod(0o700)
    (root / "charms" / "c" / "z.txt").write_text("z")
    (root / "charms" / "c" / "z.txt").chmod(umask_mode)
    for path in [root] + list(root.rglob("*")):
        os.utime(str(path), (mtime, mtime))


def test_same_content_same_bytes(tmp_path):
    a, b = tmp_path / "a" / "pkg", tmp_path / "b" / "pkg"
    make_tree(a, 1_000_000, 0o600)
    make_tree(b, 1_700_000_000, 0o664)
    first = archive_directory(a, tmp_path / "a.tar.gz").read_bytes()
    second = archive_directory(b, tmp_path / "b.tar.gz").read_bytes()
    assert first == second


def test_content_change_changes_bytes(tmp_path):
    a = tmp_path / "pkg"
    make_tree(a, 1_000_000, 0o644)
    first = archive_directory(a, tmp_path / "a.tar.gz").read_bytes()
    (a / "pkg_vnfd.yaml").write_text("a: 2\n")
    assert archive_directory(a, tmp_path / "b.tar.gz").read_bytes() != first


def test_gnu_tar_lists_it(tmp_path):
    a = tmp_path / "pkg"
    make_tree(a, 1_000_000, 0o644)
    archive = archive_directory(a, tmp_path / "a.tar.gz")
    listing = subprocess.run(["tar", "-tvzf", str(archive)], capture_output=True, text=True, check=True).stdout
    lines = listing.splitlines()
    assert [line.split()[-1] for line in lines] == [
        "pkg/", "pkg/charms/", "pkg/charms/c/", "pkg/charms/c/hooks/", "pkg/charms/c/hooks/install",
        "pkg/charms/c/z.txt", "pkg/pkg_vnfd.yaml"]
    assert all(" root/root " in line for line in lines)
    assert lines[4].startswith("-rwxr-xr-x") and lines[5].startswith("-rw-r--r--")


@pytest.mark.parametrize("bad", ["/abs", "../up", "a//b", ""])
def test_unclean_names_refused(tmp_path, bad):
    with pytest.raises(ValueError):
        write_archive("pkg", {bad: (b"x", False)}, tmp_path / "x.tar.gz")


def test_links_refused(tmp_path):
    a = tmp_path / "pkg"
    a.mkdir()
    (a / "link").symlink_to("/etc/passwd")
    with pytest.raises(ValueError, match="links"):
        archive_directory(a, tmp_path / "x.tar.gz")
