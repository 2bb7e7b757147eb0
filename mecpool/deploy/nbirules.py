"""Check an instantiation config against the NBI of OSM Release EIGHT before
anything is sent: the keys the NBI schema (``ns_instantiate``) allows, the
cross-checks of its instantiate operation (vld names, member indexes, internal
VLDs and their connection points), the additionalParams key pattern, and that
every ``<param>`` the built descriptors use is provided.  osmclient v8.0
turns ``vim_account`` (a name) into ``vimAccountId`` and the account names of
a ``vim-network-name`` mapping into ids; both forms are accepted here."""

from __future__ import annotations

import difflib
import ipaddress
import re

from mecpool.descriptors import OSM_PROVIDED, required_params

from .packages import BuiltPackages

PARAM_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
TOP_KEYS = {"vld", "vnf", "additionalParamsForNs", "additionalParamsForVnf", "timeout_ns_deploy", "ssh_keys",
            "wim_account", "placement-engine", "placement-constraints", "k8s-namespace", "config-units",
            "vduImage", "nsDescription"}
VNF_KEYS = {"member-vnf-index", "vimAccountId", "vim_account", "vdu", "internal-vld"}
VLD_KEYS = {"name", "vim-network-name", "vim-network-id", "ns-net", "wimAccountId", "wim_account", "ip-profile",
            "provider-network", "vnfd-connection-point-ref"}
CP_REF_KEYS = {"member-vnf-index-ref", "vnfd-connection-point-ref", "ip-address"}
IVLD_KEYS = {"name", "vim-network-name", "vim-network-id", "ip-profile", "provider-network",
             "internal-connection-point"}
ICP_KEYS = {"id-ref", "ip-address"}
APV_KEYS = {"member-vnf-index", "additionalParams", "k8s-namespace", "config-units", "additionalParamsForVdu",
            "additionalParamsForKdu"}


def _is_ip(value) -> bool:
    try:
        ipaddress.IPv4Address(value)
        return True
    except (ValueError, TypeError):
        return False


def _unknown(keys, allowed, where) -> list[str]:
    return [f"{where}: unknown key {key!r} (the NBI accepts {', '.join(sorted(allowed))})"
            for key in sorted(set(keys) - allowed)]


def check(config: dict, packages: BuiltPackages, osm_accounts: set[str]) -> list[str]:
    """Every problem found, each naming its place in the config; [] when the NBI would accept it."""
    problems: list[str] = []
    nsd = packages.ns.descriptor
    if not isinstance(config, dict):
        return ["the config must be a mapping"]
    problems += _unknown(config, TOP_KEYS, "config")
    members = {m["member-vnf-index"]: m["vnfd-id-ref"] for m in nsd.get("constituent-vnfd") or []}
    vnfds = {}
    for index, vnfd_id in members.items():
        if vnfd_id in packages.by_id:
            vnfds[index] = packages.by_id[vnfd_id].descriptor
        else:
            problems.append(f"NSD member {index}: VNFD {vnfd_id!r} is not among the built packages")
    nsd_vlds = {}
    for vld in nsd.get("vld") or []:
        nsd_vlds[vld["id"]] = vld
        nsd_vlds[vld.get("name", vld["id"])] = vld

    timeout = config.get("timeout_ns_deploy")
    if timeout is not None and not (isinstance(timeout, int) and not isinstance(timeout, bool) and timeout >= 1):
        problems.append(f"timeout_ns_deploy: must be an integer >= 1, got {timeout!r}")

    for i, vld in enumerate(config.get("vld") or []):
        where = f"vld[{i}]"
        problems += _unknown(vld, VLD_KEYS, where)
        name = vld.get("name")
        if name not in nsd_vlds:
            problems.append(f"{where}.name: {name!r} is not a vld of NSD {nsd['id']} "
                            f"({', '.join(sorted(v['id'] for v in nsd.get('vld') or []))})")
            continue
        where = f"vld[name={name}]"
        net = vld.get("vim-network-name")
        if isinstance(net, dict):
            for account in net:
                if account not in osm_accounts:
                    problems.append(f"{where}.vim-network-name: {account!r} is not a VIM account of the site")
        elif net is not None and not isinstance(net, str):
            problems.append(f"{where}.vim-network-name: must be a name or a mapping VIM account -> name")
        linked = {(r["member-vnf-index-ref"], r["vnfd-connection-point-ref"])
                  for r in nsd_vlds[name].get("vnfd-connection-point-ref") or []}
        for j, ref in enumerate(vld.get("vnfd-connection-point-ref") or []):
            here = f"{where}.vnfd-connection-point-ref[{j}]"
            problems += _unknown(ref, CP_REF_KEYS, here)
            index, cp = ref.get("member-vnf-index-ref"), ref.get("vnfd-connection-point-ref")
            if index not in members:
                problems.append(f"{here}.member-vnf-index-ref: {index!r} is not a member of the NSD")
            elif (index, cp) not in linked:
                problems.append(f"{here}: member {index} cp {cp!r} is not connected to vld {name} in the NSD")
            if "ip-address" in ref and not _is_ip(ref["ip-address"]):
                problems.append(f"{here}.ip-address: {ref['ip-address']!r} is not an IPv4 address")

    placed = set()
    for i, vnf in enumerate(config.get("vnf") or []):
        where = f"vnf[{i}]"
        problems += _unknown(vnf, VNF_KEYS, where)
        index = vnf.get("member-vnf-index")
        if index not in members:
            problems.append(f"{where}.member-vnf-index: {index!r} is not a member of the NSD ({', '.join(members)})")
            continue
        placed.add(index)
        where = f"vnf[member-vnf-index={index}]"
        account = vnf.get("vim_account")
        if account is not None and account not in osm_accounts:
            problems.append(f"{where}.vim_account: {account!r} is not a VIM account of the site")
        vnfd = vnfds.get(index)
        if vnfd is None:
            continue
        ivlds = {}
        for ivld in vnfd.get("internal-vld") or []:
            ivlds[ivld["id"]] = ivld
            ivlds[ivld.get("name", ivld["id"])] = ivld
        for j, ivld in enumerate(vnf.get("internal-vld") or []):
            here = f"{where}.internal-vld[{j}]"
            problems += _unknown(ivld, IVLD_KEYS, here)
            if ivld.get("name") not in ivlds:
                problems.append(f"{here}.name: {ivld.get('name')!r} is not an internal-vld of VNFD {vnfd['id']}")
                continue
            refs = {icp["id-ref"] for icp in ivlds[ivld["name"]].get("internal-connection-point") or []}
            for k, icp in enumerate(ivld.get("internal-connection-point") or []):
                there = f"{here}.internal-connection-point[{k}]"
                problems += _unknown(icp, ICP_KEYS, there)
                if icp.get("id-ref") not in refs:
                    problems.append(f"{there}.id-ref: {icp.get('id-ref')!r} is not on internal-vld {ivld['name']}")
                if "ip-address" in icp and not _is_ip(icp["ip-address"]):
                    problems.append(f"{there}.ip-address: {icp['ip-address']!r} is not an IPv4 address")
    for index in members:
        if index not in placed:
            problems.append(f"vnf: member {index} has no entry (every member is placed on a VIM explicitly)")

    given: dict[str, dict] = {}
    for i, item in enumerate(config.get("additionalParamsForVnf") or []):
        where = f"additionalParamsForVnf[{i}]"
        problems += _unknown(item, APV_KEYS, where)
        index = item.get("member-vnf-index")
        if index not in members:
            problems.append(f"{where}.member-vnf-index: {index!r} is not a member of the NSD")
            continue
        params = item.get("additionalParams") or {}
        given[index] = params
        for key in params:
            if not isinstance(key, str) or not PARAM_KEY.match(key):
                problems.append(f"additionalParamsForVnf[member-vnf-index={index}].additionalParams: key {key!r} "
                                "must match ^[a-zA-Z_][a-zA-Z0-9_]*$ (letters, digits, underscores)")
    for index, vnfd in vnfds.items():
        params = given.get(index, {})
        day1 = required_params(vnfd)
        needed = day1 | packages.needed_params(vnfd["id"])
        for name in sorted(needed - OSM_PROVIDED - set(params)):
            use = "an initial-config-primitive" if name in day1 else "a config-primitive default or cloud-init"
            hint = difflib.get_close_matches(name, [k for k in params if k not in needed], n=1)
            problems.append(f"additionalParamsForVnf[member-vnf-index={index}]: missing {name!r}, used by "
                            f"{use} of VNFD {vnfd['id']}" + (f" (misspelt as {hint[0]!r}?)" if hint else ""))
    return problems
