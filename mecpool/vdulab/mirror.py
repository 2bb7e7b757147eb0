"""The package mirror the lab serves to its VMs: the .debs `packages` need on top of the lab image.

The dependency closure is computed by this host's apt against Debian's real archive, but with the
image's dpkg status as the "installed" database and a private apt configuration (APT_CONFIG), so
nothing on the host or in the image changes: apt downloads exactly what `apt-get install` in a fresh
VM would fetch.  Recommends are included (cloud-init's `packages:` installs them; the charms'
`apt-get install --no-install-recommends` needs a subset).  The indexes are made by apt-ftparchive;
the VMs trust the mirror by their sources file (Trusted: yes), so it is not signed.

Cached under <cache_root>/mirrors/<key>/ (key: image key + package list), built in a temp
directory and renamed into place.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from .image import ARCH, DEBIAN_ARCHIVE, LabImage, LogFn, VdulabError, cache_lock, require_tool

# Bump when the mirror's layout or the way it is computed changes.
FORMAT = "1"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
COMPONENT = "main"


def mirror_key(image: LabImage, packages: list[str]) -> str:
    text = json.dumps({"format": FORMAT, "image": image.key, "archive": DEBIAN_ARCHIVE,
                       "packages": sorted(set(packages))}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def ensure_mirror(image: LabImage, packages: list[str], cache_root: Path, log: LogFn = print) -> Path:
    """The mirror directory for `packages` on `image` (serve it at the image's mirror_url)."""
    if not packages:
        raise VdulabError("ensure_mirror: no packages given")
    key = mirror_key(image, packages)
    mirrors = Path(cache_root) / "mirrors"
    final = mirrors / key
    if (final / "mirror.json").is_file():
        return final
    mirrors.mkdir(parents=True, exist_ok=True)
    with cache_lock(mirrors / ".lock"):
        if (final / "mirror.json").is_file():
            return final
        for stale in mirrors.glob(".tmp-*"):
            shutil.rmtree(stale)
        tmp = mirrors / f".tmp-{key[:16]}-{os.getpid()}"
        try:
            _build(image, sorted(set(packages)), tmp, log)
            os.rename(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
    return final


def _build(image: LabImage, packages: list[str], tmp: Path, log: LogFn) -> None:
    require_tool("apt-get", "apt")
    require_tool("apt-ftparchive", "apt-utils")
    if not Path(KEYRING).is_file():
        raise VdulabError(f"{KEYRING} missing; install Debian package debian-archive-keyring")
    started = time.monotonic()
    log(f"vdulab mirror: resolving {' '.join(packages)} against image {image.key[:12]} ...")
    work = tmp / "apt"
    env = _apt_env(image, work)
    _apt(["apt-get", "-q", "update"], env, work)
    _apt(["apt-get", "-q", "-y", "--download-only", "install", *packages], env, work)
    debs = sorted((work / "cache/archives").glob("*.deb"))
    log(f"vdulab mirror: {len(debs)} packages downloaded in {time.monotonic() - started:.0f} s")
    pool = tmp / "pool" / COMPONENT
    pool.mkdir(parents=True)
    for deb in debs:
        shutil.move(str(deb), pool / deb.name)
    shutil.rmtree(work)
    _index(tmp, image.release)
    (tmp / "mirror.json").write_text(json.dumps(
        {"image": image.key, "release": image.release, "packages": packages,
         "debs": [d.name for d in debs]}, indent=2) + "\n")
    log(f"vdulab mirror: built in {time.monotonic() - started:.0f} s")


def _apt_env(image: LabImage, work: Path) -> dict[str, str]:
    """A private apt: the image's dpkg status, Debian's archive, no host configuration."""
    etc = work / "etc"
    for sub in ("apt.conf.d", "sources.list.d", "preferences.d", "trusted.gpg.d"):
        (etc / sub).mkdir(parents=True)
    for sub in ("state/lists/partial", "cache/archives/partial", "log"):
        (work / sub).mkdir(parents=True)
    shutil.copyfile(image.dpkg_status, work / "state/status")
    (etc / "sources.list").write_text(
        f"deb [signed-by={KEYRING}] {DEBIAN_ARCHIVE} {image.release} {COMPONENT}\n")
    conf = f"""\
Dir::State "{work}/state/";
Dir::State::status "{work}/state/status";
Dir::Cache "{work}/cache/";
Dir::Etc "{etc}/";
Dir::Log "{work}/log/";
APT::Architecture "{ARCH}";
APT::Architectures {{ "{ARCH}"; }};
APT::Install-Recommends "true";
APT::Install-Suggests "false";
APT::Sandbox::User "root";
Acquire::Languages "none";
"""
    (work / "apt.conf").write_text(conf)
    return {**os.environ, "APT_CONFIG": str(work / "apt.conf"), "DEBIAN_FRONTEND": "noninteractive",
            "LC_ALL": "C.UTF-8"}


def _apt(argv: list[str], env: dict[str, str], work: Path) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True)
    with open(work / "log" / "mirror.log", "a") as f:
        f.write(f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}")
    if result.returncode != 0:
        raise VdulabError(f"{' '.join(argv[:3])} ... failed (exit {result.returncode}):\n"
                          f"{result.stderr.strip()[-2000:]}")


def _index(root: Path, release: str) -> None:
    """dists/<release>/main/binary-amd64/Packages(.gz) and dists/<release>/Release."""
    binary = root / "dists" / release / COMPONENT / f"binary-{ARCH}"
    binary.mkdir(parents=True)
    packages = subprocess.run(["apt-ftparchive", "packages", f"pool/{COMPONENT}"], cwd=root,
                              capture_output=True, text=True)
    if packages.returncode != 0:
        raise VdulabError(f"apt-ftparchive packages failed: {packages.stderr.strip()}")
    (binary / "Packages").write_text(packages.stdout)
    with gzip.open(binary / "Packages.gz", "wt") as f:
        f.write(packages.stdout)
    fields = {"Origin": "MEC-Pool VDU lab", "Label": "MEC-Pool VDU lab", "Suite": release,
              "Codename": release, "Architectures": ARCH, "Components": COMPONENT,
              "Description": "Packages the lab's VMs install, and their dependencies"}
    opts = [f"-oAPT::FTPArchive::Release::{k}={v}" for k, v in fields.items()]
    rel = subprocess.run(["apt-ftparchive", *opts, "release", f"dists/{release}"], cwd=root,
                         capture_output=True, text=True)
    if rel.returncode != 0:
        raise VdulabError(f"apt-ftparchive release failed: {rel.stderr.strip()}")
    (root / "dists" / release / "Release").write_text(rel.stdout)
