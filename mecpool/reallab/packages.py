"""The Debian package set of the real-stack lab: the top-level packages, their closure as apt resolves it
on this host (name, version, architecture), and the cache key made from that resolved list.

apt resolves against the host's installed packages (what the host already has is not fetched; the
overlay lays the rest over it), so the list records exactly what is laid over the host.  Debian's
security updates move versions between runs: the key changes with them and a new tree is unpacked.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Bump when the unpack/post-install steps change in a way the package list does not show.
FORMAT = "1"

# The packages that pull the working set in (docs/real-lab.md): OpenStack Zed's services, their
# databases and bus, libvirt with QEMU (nova-compute-qemu), the CLI for the smoke path.
TOP_LEVEL = (
    "keystone", "glance-api", "placement-api",
    "nova-api", "nova-conductor", "nova-scheduler", "nova-compute-qemu",
    "neutron-server", "neutron-linuxbridge-agent", "neutron-dhcp-agent",
    "mariadb-server", "rabbitmq-server", "memcached",
    "python3-openstackclient", "python3-osc-placement", "genisoimage",
)


class PackageError(RuntimeError):
    """apt could not resolve or fetch the set; the message has apt's words."""


@dataclass(frozen=True, order=True)
class Package:
    name: str
    version: str
    arch: str

    @property
    def spec(self) -> str:
        """name=version, as apt-get download takes it."""
        return f"{self.name}={self.version}"

    @property
    def deb_name(self) -> str:
        """The file name apt-get download gives it (the epoch's colon becomes %3a)."""
        return f"{self.name}_{self.version.replace(':', '%3a')}_{self.arch}.deb"


# apt-get -s: "Inst name [old version] (new version archive[, archive] [arch])"; the "[old]" part only
# for upgrades, a trailing "[...]" for broken reverse dependencies.
_INST = re.compile(r"^Inst (?P<name>\S+)(?: \[(?P<old>[^\]]*)\])? \((?P<version>\S+) (?P<rest>.*)\)")


def parse_simulation(text: str) -> tuple[Package, ...]:
    """The packages an `apt-get install -s` output would install or upgrade, sorted by name."""
    found = {}
    for line in text.splitlines():
        m = _INST.match(line)
        if not m:
            continue
        arch = re.search(r"\[(?P<arch>[a-z0-9]+)\]\s*$", m.group("rest"))
        if arch is None:
            raise PackageError(f"no architecture in apt's line: {line!r}")
        found[m.group("name")] = Package(m.group("name"), m.group("version"), arch.group("arch"))
    if not found:
        raise PackageError("apt resolved nothing to install: is the output an apt-get -s of the set?")
    return tuple(sorted(found.values()))


def resolve(top_level: tuple[str, ...] = TOP_LEVEL) -> tuple[Package, ...]:
    """The closure of `top_level` that is not yet on this host, as apt resolves it (no Recommends)."""
    argv = ["apt-get", "install", "-s", "-y", "--no-install-recommends", *top_level]
    done = subprocess.run(argv, capture_output=True, text=True,
                          env={**os.environ, "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"})
    if done.returncode != 0:
        raise PackageError("apt-get -s failed (run `apt-get update` first?): "
                           + (done.stderr or done.stdout).strip()[-2000:])
    return parse_simulation(done.stdout)


def apt_state(lists: Path = Path("/var/lib/apt/lists"), status: Path = Path("/var/lib/dpkg/status")) -> dict:
    """What apt's resolution depends on besides the top-level names: the package indexes and the host's
    installed set (names, sizes and mtimes: an `apt-get update` or an install changes them)."""
    state = {"status": _stat(status)}
    if lists.is_dir():
        state["lists"] = {p.name: _stat(p) for p in sorted(lists.iterdir())
                          if p.is_file() and p.name.endswith(("Packages", "Packages.lz4", "Release", "InRelease"))}
    return state


def _stat(path: Path) -> list:
    try:
        st = path.stat()
    except OSError:
        return []
    return [st.st_size, st.st_mtime_ns]


def resolve_cached(cache_root: Path, top_level: tuple[str, ...] = TOP_LEVEL) -> tuple[Package, ...]:
    """resolve(), remembered under <cache>/reallab/resolved/ while apt's state is the same (apt's
    resolution costs 10-30 s on a busy host; a warm start should not pay it)."""
    key = hashlib.sha256(json.dumps({"top": list(top_level), "apt": apt_state()},
                                    sort_keys=True).encode()).hexdigest()
    path = cache_root / "reallab" / "resolved" / f"{key}.txt"
    if path.is_file():
        return parse_manifest(path.read_text())
    resolved = resolve(top_level)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(manifest(resolved))
    os.rename(tmp, path)
    return resolved


def manifest(packages: tuple[Package, ...]) -> str:
    """The resolved list as a text file, one `name version arch` a line (kept beside the tree)."""
    return "".join(f"{p.name} {p.version} {p.arch}\n" for p in sorted(packages))


def parse_manifest(text: str) -> tuple[Package, ...]:
    return tuple(sorted(Package(*line.split()) for line in text.splitlines() if line.strip()))


def cache_key(packages: tuple[Package, ...], extra: dict | None = None) -> str:
    """sha256 of the resolved list (names, versions, architectures), FORMAT and `extra` inputs."""
    text = json.dumps({"format": FORMAT, "packages": [list(dataclass_tuple(p)) for p in sorted(packages)],
                       "extra": extra or {}}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def dataclass_tuple(p: Package) -> tuple[str, str, str]:
    return (p.name, p.version, p.arch)
