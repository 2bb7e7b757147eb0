"""Fetch the resolved Debian set with `apt-get download` and unpack it with `dpkg-deb -x` into a tree
under $MECPOOL_CACHE/reallab/trees/<key>/root, without running any maintainer script and without
touching the host's dpkg database.

The .debs are kept in $MECPOOL_CACHE/reallab/debs (named as apt names them), so a new key (a security
update) fetches only what changed.  A tree is unpacked in a temp directory and renamed into place under
the cache lock, so a half-unpacked tree is never used.  Bookworm's merged /usr: what a package ships in
/bin, /sbin or /lib is moved below usr/ (the host's /bin is a link to usr/bin), so laying usr/ over the
host's /usr shows it where the package's paths expect it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from mecpool.vdulab.image import cache_lock

from .packages import Package, PackageError, cache_key, manifest

LogFn = Callable[[str], None]
MERGED = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


@dataclass(frozen=True)
class Tree:
    """An unpacked package set: root/ holds usr/, etc/, var/ as the packages ship them."""
    key: str
    root: Path
    packages: tuple[Package, ...]

    @property
    def directory(self) -> Path:
        return self.root.parent


def fetch(packages: tuple[Package, ...], debs: Path, log: LogFn) -> list[Path]:
    """Every package's .deb in `debs`, downloading the missing ones (several per apt call)."""
    debs.mkdir(parents=True, exist_ok=True)
    missing = [p for p in packages if not (debs / p.deb_name).is_file()]
    if missing:
        started = time.monotonic()
        log(f"reallab: downloading {len(missing)} of {len(packages)} packages into {debs}")
        for i in range(0, len(missing), 100):
            chunk = missing[i:i + 100]
            done = subprocess.run(["apt-get", "download", *[p.spec for p in chunk]], cwd=debs,
                                  capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
            if done.returncode != 0:
                raise PackageError("apt-get download failed: " + (done.stderr or done.stdout).strip()[-2000:])
        log(f"reallab: downloaded in {time.monotonic() - started:.0f} s")
    paths = [debs / p.deb_name for p in packages]
    absent = [p.name for p in paths if not p.is_file()]
    if absent:
        raise PackageError(f"apt-get download left no file for: {absent[:10]}")
    return paths


def unpacked_tree(packages: tuple[Package, ...], cache_root: Path, log: LogFn) -> Tree:
    """The tree of `packages`, unpacked once per key."""
    base = cache_root / "reallab"
    trees = base / "trees"
    trees.mkdir(parents=True, exist_ok=True)
    key = cache_key(packages)
    final = trees / key
    with cache_lock(trees / ".lock"):
        if (final / "root").is_dir() and (final / "packages.txt").is_file():
            return Tree(key, final / "root", packages)
        for stale in trees.glob(".tmp-*"):
            shutil.rmtree(stale)
        debs = fetch(packages, base / "debs", log)
        tmp = trees / f".tmp-{key[:16]}-{os.getpid()}"
        started = time.monotonic()
        root = tmp / "root"
        root.mkdir(parents=True)
        for deb in debs:
            done = subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], capture_output=True, text=True)
            if done.returncode != 0:
                raise PackageError(f"dpkg-deb -x {deb.name}: {done.stderr.strip()}")
        merge_usr(root)
        (tmp / "packages.txt").write_text(manifest(packages))
        os.rename(tmp, final)
        log(f"reallab: unpacked {len(debs)} packages in {time.monotonic() - started:.0f} s into {final}")
    return Tree(key, final / "root", packages)


def merge_usr(root: Path) -> None:
    """Move root/{bin,sbin,lib,...} below root/usr (bookworm's merged /usr), merging directories."""
    for name in MERGED:
        src = root / name
        if src.is_symlink() or not src.exists():
            continue
        _merge_into(src, root / "usr" / name)
        shutil.rmtree(src)


def _merge_into(src: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        target = dest / entry.name
        if entry.is_dir() and not entry.is_symlink():
            _merge_into(entry, target)
        else:
            if target.is_symlink() or target.exists():
                target.unlink()
            os.rename(entry, target)
