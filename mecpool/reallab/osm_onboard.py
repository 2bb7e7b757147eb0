"""Our built packages (`mecpool build`: build/vnf-packages, build/ns-packages) onboarded through OSM
Release EIGHT's real NBI with osmclient v8, VNF packages first (the NSD references them): what the NBI
says about each, and what it then lists.  A package the NBI refuses is a fault the real stack found in
our product; the answer is kept word for word in result.json and <run>/osm/osm-commands.log.

Then the runbook's own step, `mecpool onboard --site SITE --build-dir BUILD` (inside the namespace, the
real `osm` as its OSM_CLI): with the packages already there it takes its update path (nfpkg-list
--filter, nfpkg-show --literal for the site mark, nfpkg-update/nspkg-update), so our parsing of the real
osmclient's tables and YAML is exercised too.
"""

from __future__ import annotations

import time
from pathlib import Path


class OnboardError(RuntimeError):
    """The packages to onboard are missing; the message says where they were looked for."""


def packages(build_dir: Path) -> tuple[list[Path], list[Path]]:
    """The VNF and NS package archives of a `mecpool build` output directory."""
    vnfs = sorted((build_dir / "vnf-packages").glob("*.tar.gz"))
    nss = sorted((build_dir / "ns-packages").glob("*.tar.gz"))
    if not vnfs or not nss:
        raise OnboardError(f"no built packages in {build_dir}/vnf-packages and {build_dir}/ns-packages: "
                           "run `mecpool build` (or make build) first")
    return vnfs, nss


def run(osm, build_dir: Path, log, site_file: Path | None = None) -> dict:
    """nfpkg-create of every VNF package, then nspkg-create of every NS package; then both lists; then
    `mecpool onboard` of the same packages when a site file is given."""
    vnfs, nss = packages(build_dir)
    answers: dict[str, dict] = {}
    for command, archives in (("nfpkg-create", vnfs), ("nspkg-create", nss)):
        for archive in archives:
            started = time.monotonic()
            done = osm.osm(command, str(archive.resolve()), check=False, timeout=600)
            answers[archive.name] = {"command": command, "exit": done.returncode,
                                     "said": (done.stdout + done.stderr).strip()[-3000:],
                                     "seconds": round(time.monotonic() - started, 1)}
            log(f"reallab osm onboard: osm {command} {archive.name}: exit {done.returncode}")
    result = {"packages": answers,
              "accepted": sorted(name for name, a in answers.items() if a["exit"] == 0),
              "refused": sorted(name for name, a in answers.items() if a["exit"] != 0),
              "nfpkg_list": osm.osm("nfpkg-list", check=False).stdout,
              "nspkg_list": osm.osm("nspkg-list", check=False).stdout}
    if site_file is not None:
        started = time.monotonic()
        done = osm.mecpool("onboard", "--site", str(site_file.resolve()), "--build-dir", str(build_dir.resolve()))
        result["mecpool_onboard"] = {"exit": done.returncode, "said": (done.stdout + done.stderr).strip()[-3000:],
                                     "seconds": round(time.monotonic() - started, 1)}
        log(f"reallab osm onboard: mecpool onboard: exit {done.returncode}")
    return result
