"""Site file -> the neutral data the descriptor templates render.

Nothing here is IM-shaped: VDUs, interfaces, networks, fixed addresses,
members and primitives as plain dicts and lists.  The OSM Release EIGHT
templates (vnf-packages/, ns-packages/) give them the IM shape; a SOL006
renderer can read the same context.
"""

import ipaddress

from mecpool import __version__
from mecpool.rserpool.commands import ASAP_PORT, ENRP_PORT
from mecpool.rserpool.units import FRESHLOAD_LIBRARY

from .members import (EPC_VNFD, MGMT_VLD, NSD_ID, PE_SCALING_GROUP, POOL_CP, POOL_ELEMENT_VDU,
                      POOL_ELEMENT_VNFD, POOL_VLD, REGISTRAR_VDU, REGISTRAR_VNFD, members, site_mark)
from .params import pool_vims
from .primitives import CHARMS, CONFIG_PRIMITIVE

VENDOR = "MEC-Pool"
MGMT_CP = "mgmt-cp"

# EPC VDUs in NIC order: OAI's configs name ens3..ens6, so the order is fixed.
# (network, external?) per NIC after the management NIC.
EPC_NICS = {
    "hss": [("s6a", False)],
    "mme": [("s6a", False), ("s11", False), ("s1c", True)],
    "spgwc": [("sxab", False), ("s11", False)],
    "spgwu": [("sxab", False), ("s1u", True), ("sgi", True)],
}
EPC_DESCRIPTIONS = {
    "hss": "OAI HSS (Cassandra, S6a Diameter server)",
    "mme": "OAI MME (S1-C, S11, S6a)",
    "spgwc": "OAI SPGW-C (S11, SXab control plane)",
    "spgwu": "OAI SPGW-U (S1-U, SXab, SGi user plane)",
}
# OAI forwards UE traffic (foreign source addresses) on these: no port security.
NO_PORT_SECURITY = {"s1u", "sgi"}
INTERNAL_NETWORKS = ("s6a", "s11", "sxab")
EXTERNAL_NETWORKS = ("s1c", "s1u", "sgi")
FIRST_NIC = 3  # ens3 on the virtio NICs of an OpenStack KVM guest


def nic_name(position):
    return "ens{}".format(FIRST_NIC + position - 1)


def dhcp_range(subnet, reserved):
    """(start, count) of the longest run of host addresses that avoids the
    gateway and every fixed address, so DHCP never hands one of them out."""
    network = ipaddress.IPv4Network(subnet)
    taken = {ipaddress.IPv4Address(a) for a in reserved if a}
    best, run = (None, 0), (None, 0)
    for host in network.hosts():
        if host in taken:
            run = (None, 0)
            continue
        run = (run[0] or host, run[1] + 1)
        if run[1] > best[1]:
            best = run
    if best[0] is None:
        raise ValueError("{} has no free address for DHCP".format(subnet))
    return str(best[0]), best[1]


def _flavor(flavor):
    return {"vcpus": flavor.vcpus, "ram_mb": flavor.ram_mb, "disk_gb": flavor.disk_gb}


def _value(param):
    """A primitive parameter's value: "<additionalParams key>" or its fixed value."""
    return param.value if param.param is None else "<{}>".format(param.param)


def _primitives(charm):
    """Day-1 (with seq and <param> values) and day-2 primitives of a charm."""
    table = CHARMS[charm]
    day1 = [{"seq": seq, "name": p.name,
             "params": [{"name": q.name, "data_type": q.data_type, "value": _value(q)}
                        for q in p.params]}
            for seq, p in enumerate(table.day1, start=1)]
    # "config" is charm config, set on deployment; it is no day-2 action.
    day2 = [{"name": p.name,
             "params": [{"name": q.name, "data_type": q.data_type, "default": _value(q)}
                        for q in p.params]}
            for p in table.day2 if p.name != CONFIG_PRIMITIVE]
    return {"charm": charm, "day1": day1, "day2": day2}


def _epc(site):
    epc, nets = site.epc, site.networks
    fixed = {(vdu, net): address for vdu, net, address in epc.addresses.items()}
    vdus = []
    for vdu, nics in EPC_NICS.items():
        interfaces = [{"name": nic_name(1), "position": 1, "network": "mgmt", "external": True,
                       "cp": "{}-{}".format(vdu, MGMT_CP), "mgmt": True, "port_security": True}]
        for position, (net, external) in enumerate(nics, start=2):
            interfaces.append({
                "name": nic_name(position), "position": position, "network": net,
                "external": external, "cp": "{}-{}-cp".format(vdu, net), "mgmt": False,
                "port_security": net not in NO_PORT_SECURITY,
                "address": fixed[(vdu, net)],
            })
        vdus.append({
            "id": vdu, "name": vdu, "description": EPC_DESCRIPTIONS[vdu],
            "hostname": vdu, "flavor": _flavor(getattr(site.flavors, vdu)),
            "cloud_init": "{}.cfg".format(vdu), "primitives": _primitives("oai-" + vdu),
            "interfaces": interfaces,
        })
    internal = []
    for net in INTERNAL_NETWORKS:
        subnet = getattr(nets, net)
        members_ = [{"cp": i["cp"], "address": i["address"]}
                    for v in vdus for i in v["interfaces"] if i["network"] == net]
        start, count = dhcp_range(subnet.subnet, [subnet.gateway] + [m["address"] for m in members_])
        internal.append({"id": net, "subnet": subnet.subnet, "gateway": subnet.gateway,
                         "dhcp_start": start, "dhcp_count": count, "members": members_})
    external_cps = [i for v in vdus for i in v["interfaces"] if i["external"]]
    return {
        "vnfd_id": EPC_VNFD,
        "description": "OAI EPC (HSS, MME, SPGW-C, SPGW-U) for realm {}, PLMN {}-{} {}".format(
            epc.realm, epc.mcc, epc.mnc, site_mark(site.name)),
        "image": site.images[epc.image].name,
        "mgmt_cp": vdus[0]["interfaces"][0]["cp"],
        "vdus": vdus,
        "internal_networks": internal,
        "external_cps": external_cps,
        "networks": {net: {"subnet": getattr(nets, net).subnet, "gateway": getattr(nets, net).gateway}
                     for net in INTERNAL_NETWORKS + EXTERNAL_NETWORKS},
    }


def _pool_vdu(site, vdu_id, flavor, charm, description):
    return {
        "id": vdu_id, "name": vdu_id, "description": description, "flavor": _flavor(flavor),
        "cloud_init": "{}.cfg".format(vdu_id), "primitives": _primitives(charm),
        "interfaces": [
            {"name": nic_name(1), "position": 1, "network": "mgmt", "external": True, "cp": MGMT_CP,
             "mgmt": True, "port_security": True},
            {"name": nic_name(2), "position": 2, "network": POOL_VLD, "external": True, "cp": POOL_CP,
             "mgmt": False, "port_security": True},
        ],
    }


def _pool(site):
    pool = site.pool
    image = site.images[pool.image].name
    # LCM (R8) counts scale operations per scaling-group *name* for the whole NS, not per
    # member, so every PE group shares this limit: allow the sum of the groups' own steps
    # (mecpool scale-pe enforces each group's max_count before calling OSM).
    scale_steps = sum(group.max_count - 1 for group in pool.pe_groups.values())
    return {
        "handle": pool.handle, "policy": pool.policy, "pe_port": pool.pe_port,
        "asap_port": ASAP_PORT, "enrp_port": ENRP_PORT,
        "pool_nic": nic_name(2),
        "subnets": [{"vim": name, "subnet": site.vims[name].pool_network.subnet,
                     "gateway": site.vims[name].pool_network.gateway} for name in pool_vims(site)],
        "registrar": {
            "vnfd_id": REGISTRAR_VNFD, "image": image, "mgmt_cp": MGMT_CP, "pool_cp": POOL_CP,
            "description": "RSerPool Pool Registrar (rsplib-registrar) for pool {} {}".format(
                pool.handle, site_mark(site.name)),
            "vdu": _pool_vdu(site, REGISTRAR_VDU, site.flavors.registrar, "rsp-registrar",
                             "Pool Registrar: ASAP {} and ENRP {} on the pool network".format(
                                 ASAP_PORT, ENRP_PORT)),
        },
        "pool_element": {
            "vnfd_id": POOL_ELEMENT_VNFD, "image": image, "mgmt_cp": MGMT_CP, "pool_cp": POOL_CP,
            "description": "RSerPool CalcApp Pool Element (rspserver from rsplib-tools) of pool {} {}".format(
                pool.handle, site_mark(site.name)),
            "vdu": _pool_vdu(site, POOL_ELEMENT_VDU, site.flavors.pool_element, "rsp-pool-element",
                             "CalcApp Pool Element; joins the pool from its cloud-init"),
            "scaling_group": {"name": PE_SCALING_GROUP, "vdu": POOL_ELEMENT_VDU, "step": 1,
                              "min": 0, "max": scale_steps},
        },
    }


def _ns(site, epc, pool):
    member_list = [m._asdict() for m in members(site)]
    epc_index = member_list[0]["index"]
    mgmt_names = {vim.mgmt_network for vim in site.vims.values()}
    vlds = [{
        "id": MGMT_VLD, "mgmt": True,
        # One name for every VIM can be declared here; otherwise the
        # instantiation config maps it per VIM.
        "vim_network": mgmt_names.pop() if len(mgmt_names) == 1 else None,
        "cps": [{"index": epc_index, "vnfd_id": EPC_VNFD, "cp": v["interfaces"][0]["cp"]}
                for v in epc["vdus"]]
        + [{"index": m["index"], "vnfd_id": m["vnfd_id"], "cp": MGMT_CP} for m in member_list[1:]],
    }]
    for net in EXTERNAL_NETWORKS:
        vlds.append({
            "id": net, "mgmt": False, "vim_network": getattr(site.networks, net).vim_network,
            "cps": [{"index": epc_index, "vnfd_id": EPC_VNFD, "cp": i["cp"], "address": i["address"]}
                    for i in epc["external_cps"] if i["network"] == net],
        })
    # Pool members live on several VIMs, each with its own routed pool network:
    # the instantiation config maps this VLD per VIM account.
    vlds.append({"id": POOL_VLD, "mgmt": False, "vim_network": None,
                 "cps": [{"index": m["index"], "vnfd_id": m["vnfd_id"], "cp": POOL_CP}
                         for m in member_list[1:]]})
    return {"nsd_id": NSD_ID, "members": member_list, "vlds": vlds,
            "description": "MEC workload offloading with RSerPool: OAI EPC, {} registrar(s), "
                           "PE groups {} {}".format(len(site.pool.registrars), ", ".join(site.pool.pe_groups),
                                                    site_mark(site.name))}


def build_context(site):
    """Everything the descriptor and cloud-init templates need, from the site."""
    epc = _epc(site)
    pool = _pool(site)
    return {
        "site": site.name,
        "vendor": VENDOR,
        "version": __version__,
        "epc": epc,
        "pool": pool,
        "ns": _ns(site, epc, pool),
        # librspfreshload on the PE VDUs (their cloud-init writes it; rspserver preloads it).
        "rsplib": {"freshload": site.rsplib.freshload, "library_path": FRESHLOAD_LIBRARY},
    }
