"""``mecpool onboard``: put the built packages into OSM, VNFs first, then the NS.

Idempotent without duplicates: each package is looked up by its descriptor id
(``osm nfpkg-list --filter id=X``); a missing one is created, an existing one
gets the new content with ``nfpkg-update <_id> --content PKG`` (osmclient v8.0
has nfpkg-update/nspkg-update: a PUT of the package content).  Delete and
create would not work once the NSD is onboarded: the NBI refuses to delete a
VNFD that an NSD references (409).

Package ids are the same for every site, their content per site: before any
write, each onboarded package's descriptor (``nfpkg-show --literal``) must
carry this site's mark (or none, from an older mecpool); a package of another
site is never overwritten (that site's NS runs on it)."""

from __future__ import annotations

from mecpool.descriptors import marked_site

from .errors import DeployError, InputError
from .osmcli import Osm
from .packages import BuiltPackages, Package

KINDS = {"vnfd": "nfpkg", "nsd": "nspkg"}


def print_plan(packages: BuiltPackages, osm: Osm) -> None:
    for pkg in packages.vnfs + [packages.ns]:
        prefix = KINDS[pkg.kind]
        osm.show(f"{prefix}-list", "--filter", f"id={pkg.id}", note="check")
        osm.show(f"{prefix}-show", f"<_id of {pkg.id}>", "--literal", note="if onboarded: of this site? (else refused)")
        osm.show(f"{prefix}-create", str(pkg.path), note=f"if {pkg.id} is not onboarded")
        osm.show(f"{prefix}-update", f"<_id of {pkg.id}>", "--content", str(pkg.path), note="if it is")


def onboard_one(pkg: Package, osm: Osm, echo, rows: list[dict]) -> tuple[str, str]:
    """Create or update one package (``rows``: OSM's packages with its id); returns (action, OSM _id)."""
    prefix = KINDS[pkg.kind]
    if len(rows) > 1:
        ids = ", ".join(row["id"] for row in rows)
        raise DeployError(f"OSM holds {len(rows)} {pkg.kind}s with id {pkg.id} ({ids}); "
                          f"delete the extras with osm {prefix}-delete <_id>")
    if rows:
        osm_id = rows[0]["id"]
        osm.call(f"{prefix}-update", osm_id, "--content", str(pkg.path))
        echo(f"  ~ {pkg.id} updated ({osm_id}) from {pkg.path}")
        return "updated", osm_id
    osm_id = osm.last_line(f"{prefix}-create", str(pkg.path))
    echo(f"  + {pkg.id} onboarded ({osm_id}) from {pkg.path}")
    return "created", osm_id


def onboarded(packages: BuiltPackages, osm: Osm, site_name: str) -> dict[str, list[dict]]:
    """OSM's packages with our ids ({id: rows}); each must be of this site, checked before the first write."""
    found, others = {}, []
    for pkg in packages.vnfs + [packages.ns]:
        prefix = KINDS[pkg.kind]
        found[pkg.id] = osm.table(f"{prefix}-list", "--filter", f"id={pkg.id}")
        for row in found[pkg.id]:
            owner = marked_site(osm.literal(f"{prefix}-show", row["id"]).get("description"))
            if owner is not None and owner != site_name:
                others.append(f"{pkg.id} (site {owner}, {row['id']})")
    if others:
        raise InputError(f"OSM holds packages of another site under the same ids: {', '.join(others)}; onboarding "
                         f"site {site_name} would overwrite them under that site's NS. Give each site its own OSM "
                         "project (--project / OSM_PROJECT), or remove the other site's packages first "
                         "(mecpool teardown NS --all with its site file)")
    return found


def onboard(packages: BuiltPackages, osm: Osm, echo, site_name: str) -> list[tuple[str, str, str]]:
    existing = onboarded(packages, osm, site_name)
    done: list[tuple[str, str, str]] = []
    for pkg in packages.vnfs + [packages.ns]:
        try:
            action, osm_id = onboard_one(pkg, osm, echo, existing[pkg.id])
        except DeployError as error:
            # Only VNF packages can precede a failure (the NS package is the last one).
            raise error.with_progress(
                [f"{pkg_id} {action} ({osm_id})" for pkg_id, action, osm_id in done],
                [f"osm nfpkg-delete {osm_id}" for _, action, osm_id in done if action == "created"],
            ) from None
        done.append((pkg.id, action, osm_id))
    return done
