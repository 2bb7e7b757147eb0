"""Which site file and build an NS instance was made from.

``instantiate`` writes ``<build>/deploy/<NS>/ns.json`` (next to the instantiation config): the site
file, its name and digest, the build directory and the OSM host.  A per-user index
($XDG_DATA_HOME/mecpool/instances.json, key "<OSM host>/<NS>") points at it, so a command naming the
NS finds its site from any directory.  A site file that is not the NS's (another path *and* other
content) is refused with both paths: its members, VIMs and addresses would describe another NS."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from mecpool.site.buildinfo import site_digest
from mecpool.site.model import Site

from .errors import InputError

RECORD = "ns.json"


def osm_host(hostname: str | None) -> str:
    """The OSM host as osmclient picks it (--hostname, else OSM_HOSTNAME, else its default)."""
    return hostname or os.environ.get("OSM_HOSTNAME") or "127.0.0.1"


def record_path(build_dir: Path, ns: str) -> Path:
    return Path(build_dir) / "deploy" / ns / RECORD


def index_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mecpool" / "instances.json"


@dataclass(frozen=True)
class NsRecord:
    ns: str
    site_file: Path
    site_name: str
    site_sha256: str
    build_dir: Path
    osm: str

    def describes(self, site_file: Path, site: Site) -> bool:
        """The same site: the same file, or a file with the same content."""
        return Path(site_file).resolve() == self.site_file or site_digest(site) == self.site_sha256


def _read_index() -> dict:
    try:
        data = json.loads(index_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_index(data: dict) -> None:
    path = index_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def write(build_dir: Path, ns: str, site_file: Path, site: Site, hostname: str | None) -> Path:
    path = record_path(build_dir, ns)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"ns": ns, "site_file": str(Path(site_file).resolve()), "site_name": site.name,
              "site_sha256": site_digest(site), "build_dir": str(Path(build_dir).resolve()),
              "osm": osm_host(hostname)}
    path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    index = _read_index()
    index[f"{record['osm']}/{ns}"] = str(path.resolve())
    _write_index(index)
    return path


def forget(build_dir: Path, ns: str, hostname: str | None) -> None:
    """teardown: the NS is gone; its index entry goes (the record goes with build/deploy/<NS>/)."""
    index = _read_index()
    if index.pop(f"{osm_host(hostname)}/{ns}", None) is not None:
        _write_index(index)


def _load(path: Path) -> NsRecord | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return NsRecord(ns=data["ns"], site_file=Path(data["site_file"]), site_name=data["site_name"],
                        site_sha256=data["site_sha256"], build_dir=Path(data["build_dir"]), osm=data["osm"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def find(ns: str, build_dir: Path, hostname: str | None) -> NsRecord | None:
    """The NS's record: in this build directory, else where the index points (same OSM host)."""
    local = _load(record_path(build_dir, ns))
    if local is not None and local.osm == osm_host(hostname):
        return local
    pointer = _read_index().get(f"{osm_host(hostname)}/{ns}")
    return _load(Path(pointer)) if pointer else None


def refuse_other_site(record: NsRecord, site_file: Path, site: Site) -> None:
    if not record.describes(site_file, site):
        raise InputError(f"NS {record.ns} was instantiated from {record.site_file} (site {record.site_name!r}, build "
                         f"{record.build_dir}); {Path(site_file).resolve()} (site {site.name!r}) is another site: "
                         f"pass --site {record.site_file}, or leave --site out to use it")
