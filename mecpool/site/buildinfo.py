"""What a build was made from, so that deploy commands can refuse a stale build.

``mecpool build`` writes ``build/build-info.json``: a digest of the site as
the build read it (the validated model, so comments and formatting do not
count, and secrets are left out: the packages never hold them) and a digest
of the package sources the build renders (descriptor templates, charms, and
the mecpool modules that generate descriptors, cloud-init and charm code).
Every deploy command that reads build/ compares both with the site it is
given and the sources it runs from, and names what changed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .model import Site

BUILD_INFO = "build-info.json"
# What the packager reads besides the site (relative to the source root).
SOURCE_TREES = ("vnf-packages", "ns-packages", "charms", "mecpool/descriptors", "mecpool/packaging",
                "mecpool/rserpool")
SKIP_PARTS = {"__pycache__", ".pytest_cache"}
REBUILD = "run mecpool build --site {site} (or make build SITE={site})"


def site_digest(site: Site) -> str:
    """SHA-256 of the validated site (secrets masked by pydantic's JSON dump)."""
    text = json.dumps(site.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sources_digest(source_root: Path) -> str:
    """SHA-256 over the path and content of every source file the build reads."""
    digest = hashlib.sha256()
    for tree in SOURCE_TREES:
        root = Path(source_root) / tree
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if SKIP_PARTS & set(path.parts) or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(source_root)).encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def write_build_info(out_dir: Path, site: Site, source_root: Path) -> Path:
    path = Path(out_dir) / BUILD_INFO
    info = {"site_name": site.name, "site_sha256": site_digest(site),
            "sources_sha256": sources_digest(source_root)}
    path.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def stale_reason(build_dir: Path, site: Site, site_file: str, source_root: Path) -> str | None:
    """Why build_dir does not match ``site`` and the sources (None when it does)."""
    rebuild = REBUILD.format(site=site_file)
    path = Path(build_dir) / BUILD_INFO
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"{path} is missing (no build, or one made by an older mecpool): {rebuild}"
    except (OSError, ValueError) as error:
        return f"{path} is unreadable ({error}): {rebuild}"
    if info.get("site_sha256") != site_digest(site):
        return (f"the build in {build_dir}/ was made from another site (or {site_file} changed since; "
                f"built for site {info.get('site_name')!r}): {rebuild}")
    if info.get("sources_sha256") != sources_digest(source_root):
        return f"the package sources (templates, charms) changed since the build in {build_dir}: {rebuild}"
    return None
