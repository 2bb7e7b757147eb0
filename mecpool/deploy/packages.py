"""The built packages under build/ (made by ``mecpool build``), read the way
osmclient v8.0 reads them: the descriptor is the one YAML file at depth 2."""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from mecpool.descriptors import NSD_ID, POOL_ELEMENT_VNFD, REGISTRAR_VNFD, package_params

from .errors import DeployError

BUILD_HINT = "build them first: mecpool build --site SITE (or make build)"


@dataclass
class Package:
    path: Path
    kind: str            # "vnfd" | "nsd"
    descriptor: dict     # the inner descriptor (no catalog envelope)

    @property
    def id(self) -> str:
        return self.descriptor["id"]

    @property
    def name(self) -> str:
        return self.descriptor.get("name", self.descriptor["id"])


def read_package(path: Path) -> Package:
    try:
        with tarfile.open(path, "r:gz") as archive:
            names = [m.name for m in archive.getmembers() if m.isfile()]
            candidates = [n for n in names if n.count("/") == 1 and n.endswith((".yaml", ".yml"))]
            if len(candidates) != 1:
                raise DeployError(f"{path}: expected one descriptor YAML at depth 2, found {candidates or 'none'}")
            document = yaml.safe_load(archive.extractfile(candidates[0]).read())
    except (tarfile.TarError, OSError) as error:
        raise DeployError(f"{path}: not a readable .tar.gz package ({error})") from None
    for envelope, key, kind in (("vnfd:vnfd-catalog", "vnfd", "vnfd"), ("nsd:nsd-catalog", "nsd", "nsd")):
        if isinstance(document, dict) and envelope in document:
            entries = document[envelope].get(key) or []
            if len(entries) != 1:
                raise DeployError(f"{path}: {envelope}.{key} must hold exactly one descriptor")
            return Package(path, kind, entries[0])
    raise DeployError(f"{path}: no vnfd:vnfd-catalog or nsd:nsd-catalog at the top of {candidates[0]}")


class BuiltPackages:
    """build/vnf-packages/*.tar.gz and build/ns-packages/<NSD>.tar.gz."""

    def __init__(self, build_dir: Path) -> None:
        self.build_dir = build_dir
        vnf_dir, ns_dir = build_dir / "vnf-packages", build_dir / "ns-packages"
        vnf_paths = sorted(vnf_dir.glob("*.tar.gz"))
        ns_path = ns_dir / f"{NSD_ID}.tar.gz"
        if not vnf_paths:
            raise DeployError(f"no VNF packages in {vnf_dir}: {BUILD_HINT}")
        if not ns_path.is_file():
            raise DeployError(f"no NS package {ns_path}: {BUILD_HINT}")
        self.vnfs = [read_package(p) for p in vnf_paths]
        self.ns = read_package(ns_path)
        for pkg in self.vnfs:
            if pkg.kind != "vnfd":
                raise DeployError(f"{pkg.path}: holds an NSD, expected a VNFD")
        if self.ns.kind != "nsd":
            raise DeployError(f"{ns_path}: holds a VNFD, expected the NSD")
        self.by_id = {pkg.id: pkg for pkg in self.vnfs}

    def vnfd(self, vnfd_id: str) -> dict:
        if vnfd_id not in self.by_id:
            raise DeployError(f"VNFD {vnfd_id!r} is not among the built packages ({', '.join(self.by_id)}): {BUILD_HINT}")
        return self.by_id[vnfd_id].descriptor

    def needed_params(self, vnfd_id: str) -> set[str]:
        """Every additionalParam the VNF package uses (primitives, day-2 defaults, cloud-init)."""
        return set(package_params(self.by_id[vnfd_id].path).get(vnfd_id, set()))

    def pe_scaling_group(self) -> dict:
        groups = self.vnfd(POOL_ELEMENT_VNFD).get("scaling-group-descriptor") or []
        if len(groups) != 1:
            raise DeployError(f"VNFD {POOL_ELEMENT_VNFD}: expected one scaling-group-descriptor, found {len(groups)}")
        group = groups[0]
        if len(group.get("vdu") or []) != 1:
            raise DeployError(f"VNFD {POOL_ELEMENT_VNFD}: scaling group {group['name']} must scale one VDU")
        return group

    def pe_vdu(self) -> dict:
        """The PE VDU (the one the scaling group scales) of the pool-element VNFD."""
        vdu_id = self.pe_scaling_group()["vdu"][0]["vdu-id-ref"]
        for vdu in self.vnfd(POOL_ELEMENT_VNFD).get("vdu") or []:
            if vdu["id"] == vdu_id:
                return vdu
        raise DeployError(f"VNFD {POOL_ELEMENT_VNFD}: the scaling group names VDU {vdu_id!r}, which it lacks")

    def pe_primitives(self) -> dict[str, list[dict]]:
        """The PE VDU's day-2 primitives (vdu-configuration config-primitive): name -> parameters."""
        config = self.pe_vdu().get("vdu-configuration") or {}
        return {p["name"]: list(p.get("parameter") or []) for p in config.get("config-primitive") or []}

    def registrar_vdu(self) -> str:
        vdus = self.vnfd(REGISTRAR_VNFD).get("vdu") or []
        if len(vdus) != 1:
            raise DeployError(f"VNFD {REGISTRAR_VNFD}: expected one VDU, found {len(vdus)}")
        return vdus[0]["id"]
