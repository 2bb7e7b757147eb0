"""OSM Release EIGHT's own sources (v8.0, tag v8.0.1rc1): where the project finds the archives, and
the check that they are the ones it pins.

The archives are not on PyPI and OSM's git is not reachable here: a setting points at a folder that
holds them (`MECPOOL_OSM_SOURCES`, or the lab's `--osm-sources`), by default
`../shared/vendor/osm-release-eight` beside the clone.  Each archive is pinned by its sha256 (and named
with the commit it was cut from), so another archive of the same name is refused, not built.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

ENV = "MECPOOL_OSM_SOURCES"
TAG = "v8.0.1rc1"


@dataclass(frozen=True)
class Component:
    name: str          # as the venvs name it
    archive: str
    sha256: str
    commit: str        # the commit the archive was cut from (the vendored README's table)
    top: str           # the archive's top-level directory


COMPONENTS = {c.name: c for c in (
    Component("common", "osm-common-v8.0.1rc1.tar.gz",
              "7dc81991087153d38419e8da03ef9ea2a889dd3d67a1aa3d7933a29ba3074899", "ad8227e9cdd4",
              "osm-common-v8.0.1rc1"),
    Component("im", "osm-im-v8.0.1rc1.tar.gz",
              "7ab6ff999263d444194bcbf0a8c6894bb2c7352525043e6d5f6ee79868b8940a", "03c9aafb26f8",
              "osm-IM-v8.0.1rc1"),
    Component("lcm", "osm-lcm-v8.0.1rc1.tar.gz",
              "97eec50ea3b4420d5b33b44175695a57e56ffd9d3925f0e1d5703ef7d2a80fb4", "530e04641d5b",
              "osm-LCM-v8.0.1rc1"),
    Component("n2vc", "osm-n2vc-v8.0.1rc1.tar.gz",
              "9a2e76b1e548cb36c801a9f9d3694aa9c37c32bc0ef725e66a54c662c2c7108f", "3c063d1",
              "osm-N2VC-v8.0.1rc1"),
    Component("nbi", "osm-nbi-v8.0.1rc1.tar.gz",
              "fc1be45a687b10f5ae5057b1152292d61142290e99e23fa915d5db3ce243cc92", "9ed90df469ea",
              "osm-NBI-v8.0.1rc1"),
    Component("osmclient", "osm-osmclient-v8.0.1rc1.tar.gz",
              "417820d1743c9699e8a8fc3960533cc7364ce82e6c75fee6cc4b61a05f94143e", "c33aecf8aa5f",
              "osm-osmclient-v8.0.1rc1"),
    Component("ro", "osm-ro-v8.0.1rc1.tar.gz",
              "6c57b1ef79158fe0fe16a0533aae82d756015cf252fe64d513cde251a268da0f", "d9287d3",
              "osm-RO-v8.0.1rc1"),
)}


class SourcesError(RuntimeError):
    """The OSM sources are missing or are not the pinned ones; the message says which and where."""


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def default_dir(root: Path | None = None) -> Path:
    return (root or repo_root()).parent / "shared" / "vendor" / "osm-release-eight"


def sources_dir(option: str | None = None, environ: dict | None = None, root: Path | None = None) -> Path:
    """The folder with the archives: the option, else $MECPOOL_OSM_SOURCES, else the default."""
    env = os.environ if environ is None else environ
    if option:
        return Path(option)
    if env.get(ENV):
        return Path(env[ENV])
    return default_dir(root)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check(folder: Path, names: tuple[str, ...] | None = None) -> dict[str, Path]:
    """Each wanted component's archive in `folder`, checked against its pinned sha256; one error
    naming every archive that is missing or different (before anything is built)."""
    wanted = [COMPONENTS[n] for n in (names or tuple(COMPONENTS))]
    if not folder.is_dir():
        raise SourcesError(
            f"OSM Release EIGHT sources: no folder {folder}. Put OSM's v8.0 archives "
            f"({', '.join(c.archive for c in wanted)}) in a folder and name it with ${ENV} or --osm-sources "
            f"(default: ../shared/vendor/osm-release-eight beside the clone)")
    found, problems = {}, []
    for c in wanted:
        path = folder / c.archive
        if not path.is_file():
            problems.append(f"{c.archive} is missing")
        elif sha256_of(path) != c.sha256:
            problems.append(f"{c.archive} is not the pinned archive (sha256 {sha256_of(path)[:16]}..., "
                            f"want {c.sha256[:16]}..., OSM {c.name} {TAG} at {c.commit})")
        else:
            found[c.name] = path
    if problems:
        raise SourcesError(f"OSM Release EIGHT sources in {folder}: " + "; ".join(problems))
    return found


def unpack(archive: Path, component: Component, dest: Path) -> Path:
    """The archive unpacked below `dest`; returns its top directory.  Refuses members outside it."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            name = Path(member.name)
            if name.is_absolute() or ".." in name.parts or name.parts[0] != component.top:
                raise SourcesError(f"{archive.name}: member {member.name} is outside {component.top}/")
            if member.issym() or member.islnk():
                link = Path(member.linkname)
                if link.is_absolute() or ".." in link.parts:
                    raise SourcesError(f"{archive.name}: link {member.name} -> {member.linkname} leaves the tree")
        top = dest / component.top
        if top.exists():
            shutil.rmtree(top)
        tar.extractall(dest)
    return top
