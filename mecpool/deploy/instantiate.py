"""``mecpool instantiate``: the ``--config_file`` YAML for ``osm ns-create``
from the site file and the built descriptors, checked against the NBI rules,
then ns-create, the wait, and the scale-outs that bring PE groups with
count > 1 to their size (R8 cannot set a VDU count per member at
instantiation: the PE VNFD has one PE VDU and a scaling group).

Config layout (osmclient v8.0 resolves the names to ids):
  vld: mgmt and pool map VIM account -> network name (members sit on several
       VIMs); s1c/s1u/sgi name the EPC VIM's networks; fixed addresses of the
       registrars (pool) and of the EPC's external NICs on their cps;
  vnf: every member with its ``vim_account``; the EPC's internal VLDs with
       the fixed addresses of its VDUs;
  additionalParamsForVnf: every member's additionalParams (K and OP inside:
       the file is written 0600 and never printed);
  timeout_ns_deploy."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from mecpool.descriptors import EPC, PE_GROUP, REGISTRAR, additional_params, members
from mecpool.descriptors.members import MGMT_VLD, POOL_VLD
from mecpool.site.model import Site

from .errors import DeployError
from .nbirules import check
from .packages import BuiltPackages

EXTERNAL = ("s1c", "s1u", "sgi")


def _nsd_cp(nsd: dict, vld_id: str, index: str) -> list[str]:
    for vld in nsd.get("vld") or []:
        if vld["id"] == vld_id:
            return [r["vnfd-connection-point-ref"] for r in vld.get("vnfd-connection-point-ref") or []
                    if r["member-vnf-index-ref"] == index]
    raise DeployError(f"NSD {nsd['id']} has no vld {vld_id!r} (rebuild the packages: mecpool build)")


def _vdu(vnfd: dict, vdu_id: str) -> dict:
    for vdu in vnfd.get("vdu") or []:
        if vdu["id"] == vdu_id:
            return vdu
    raise DeployError(f"VNFD {vnfd['id']} has no VDU {vdu_id!r}")


def build_config(site: Site, packages: BuiltPackages, reveal_secrets: bool, timeout: int) -> dict:
    nsd = packages.ns.descriptor
    member_list = members(site)
    epc = next(m for m in member_list if m.kind == EPC)
    epc_vnfd = packages.vnfd(epc.vnfd_id)
    used_vims = list(dict.fromkeys(m.vim for m in member_list))
    pool_vims = list(dict.fromkeys(m.vim for m in member_list if m.kind in (REGISTRAR, PE_GROUP)))

    vlds = [{"name": MGMT_VLD,
             "vim-network-name": {site.vims[v].osm_account: site.vims[v].mgmt_network for v in used_vims}}]
    external_refs: dict[str, list[dict]] = {net: [] for net in EXTERNAL}
    internal: dict[str, list[dict]] = {}
    internal_ids = {ivld["id"]: ivld for ivld in epc_vnfd.get("internal-vld") or []}
    for vdu_id, net, address in site.epc.addresses.items():
        vdu = _vdu(epc_vnfd, vdu_id)
        if net in EXTERNAL:
            cps = set(_nsd_cp(nsd, net, epc.index))
            cp = [i["external-connection-point-ref"] for i in vdu.get("interface") or []
                  if i.get("external-connection-point-ref") in cps]
            if len(cp) != 1:
                raise DeployError(f"VNFD {epc_vnfd['id']}: VDU {vdu_id} has {len(cp)} cps on vld {net}, expected 1")
            external_refs[net].append({"member-vnf-index-ref": epc.index, "vnfd-connection-point-ref": cp[0],
                                       "ip-address": address})
        else:
            if net not in internal_ids:
                raise DeployError(f"VNFD {epc_vnfd['id']} has no internal-vld {net!r}")
            own = {icp["id"] for icp in vdu.get("internal-connection-point") or []}
            refs = [icp["id-ref"] for icp in internal_ids[net].get("internal-connection-point") or []
                    if icp["id-ref"] in own]
            if len(refs) != 1:
                raise DeployError(f"VNFD {epc_vnfd['id']}: VDU {vdu_id} has {len(refs)} cps on {net}, expected 1")
            internal.setdefault(net, []).append({"id-ref": refs[0], "ip-address": address})
    for net in EXTERNAL:
        vlds.append({"name": net, "vim-network-name": getattr(site.networks, net).vim_network,
                     "vnfd-connection-point-ref": external_refs[net]})

    registrar_refs = []
    by_name = {r.name: r for r in site.pool.registrars}
    for member in member_list:
        if member.kind == REGISTRAR:
            cps = _nsd_cp(nsd, POOL_VLD, member.index)
            if len(cps) != 1:
                raise DeployError(f"NSD: member {member.index} has {len(cps)} cps on vld {POOL_VLD}, expected 1")
            registrar_refs.append({"member-vnf-index-ref": member.index, "vnfd-connection-point-ref": cps[0],
                                   "ip-address": by_name[member.role].address})
    vlds.append({"name": POOL_VLD,
                 "vim-network-name": {site.vims[v].osm_account: site.vims[v].pool_network.name for v in pool_vims},
                 "vnfd-connection-point-ref": registrar_refs})
    for vld in vlds:
        if not vld.get("vnfd-connection-point-ref"):
            vld.pop("vnfd-connection-point-ref", None)  # the NBI wants a non-empty list or none

    vnf = []
    for member in member_list:
        entry = {"member-vnf-index": member.index, "vim_account": member.osm_account}
        if member.kind == EPC and internal:
            entry["internal-vld"] = [{"name": net, "internal-connection-point": refs}
                                     for net, refs in internal.items()]
        vnf.append(entry)

    params = additional_params(site, reveal_secrets)
    return {
        "vld": vlds,
        "vnf": vnf,
        "additionalParamsForVnf": [{"member-vnf-index": index, "additionalParams": values}
                                   for index, values in params.items()],
        "timeout_ns_deploy": int(timeout),
    }


def checked_config(site: Site, packages: BuiltPackages, reveal_secrets: bool, timeout: int) -> dict:
    config = build_config(site, packages, reveal_secrets, timeout)
    problems = check(config, packages, {v.osm_account for v in site.vims.values()})
    if problems:
        raise DeployError("the instantiation config would be rejected by OSM's NBI:\n"
                          + "\n".join(f"  - {p}" for p in problems))
    return config


def config_path(build_dir: Path, ns_name: str) -> Path:
    return build_dir / "deploy" / ns_name / "instantiate-config.yaml"


def write_config(path: Path, config: dict) -> None:
    """Written 0600 from the start: it holds K and OP."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# mecpool instantiate: osm ns-create --config_file (holds secrets: keep it private)\n"
    text += yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def ns_create_args(ns_name: str, nsd_name: str, vim_account: str, path: Path) -> list[str]:
    return ["ns-create", "--ns_name", ns_name, "--nsd_name", nsd_name, "--vim_account", vim_account,
            "--config_file", str(path)]


def scale_outs(site: Site) -> list[tuple[str, str, int]]:
    """(group, member index, scale-outs) for every PE group with count > 1."""
    return [(m.role, m.index, site.pool.pe_groups[m.role].count - 1)
            for m in members(site) if m.kind == PE_GROUP and site.pool.pe_groups[m.role].count > 1]
