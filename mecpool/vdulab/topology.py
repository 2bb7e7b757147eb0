"""The VDU lab's networks and VMs, derived from a site file (no side effects).

What OpenStack would create for the NS, reduced to what one machine can boot:
- the management network (one for both VIMs, as OSM reaches every VDU there);
- the pool networks of the registrars' VIMs, joined by one router whose
  addresses are the site's pool gateways (so ``pool_routes`` are used);
- the EPC networks (s6a, s11, sxab, s1c, s1u, sgi) with the site's addresses;
- one VM per registrar, ``count`` VMs per PE group on those VIMs and one
  scale-out VM of the first such group, and one VM per EPC VDU.

Addresses are fixed per port and handed out by DHCP, as Neutron does.  MACs
use OpenStack's ``fa:16:3e`` prefix.
"""

import hashlib
import ipaddress
from dataclasses import dataclass

from mecpool.descriptors.context import EPC_NICS, nic_name
from mecpool.descriptors.members import EPC, PE_GROUP, REGISTRAR, members

MGMT = "mgmt"
MGMT_SUBNET = ipaddress.IPv4Network("10.200.0.0/24")
# The lab host's side of the management network: router, package mirror, SSH client.
LAB_HOST = ipaddress.IPv4Address("10.200.0.1")
MIRROR_URL = "http://{}/debian".format(LAB_HOST)
FIRST_VM_HOST = 10      # mgmt addresses 10.200.0.10, .11, ...
FIRST_PE_HOST = 100     # PE pool addresses .100, .101, ... (Neutron would pick any free one)


@dataclass(frozen=True)
class LabNetwork:
    name: str           # site name: mgmt, the pool network's name, s6a, ...
    bridge: str         # Linux bridge in the lab's namespace (<= 15 characters)
    subnet: ipaddress.IPv4Network
    host_address: ipaddress.IPv4Address   # the namespace's address: router or DHCP port
    gateway: object     # ipaddress.IPv4Address or None: the DHCP router option
    vim: str            # the site VIM it belongs to ("" for the shared mgmt network)


@dataclass(frozen=True)
class Port:
    network: str        # LabNetwork.name
    nic: str            # the guest's interface name (ens3, ens4, ...)
    mac: str
    address: ipaddress.IPv4Address


@dataclass(frozen=True)
class LabVm:
    name: str           # lab name, also the instance's hostname on the config drive
    kind: str           # members' kind: epc | registrar | pe-group
    member: str         # member-vnf-index whose user data the VM gets
    vnfd_id: str
    role: str           # registrar name, PE group name, or EPC VDU id
    vdu_id: str
    ports: tuple        # (Port, ...) in NIC order, mgmt first
    scale_out: bool = False

    @property
    def mgmt_address(self):
        return self.ports[0].address

    def port(self, network):
        return next(p for p in self.ports if p.network == network)


@dataclass(frozen=True)
class Topology:
    networks: tuple     # (LabNetwork, ...)
    vms: tuple          # (LabVm, ...)

    def network(self, name):
        return next(n for n in self.networks if n.name == name)

    def vm(self, name):
        return next(v for v in self.vms if v.name == name)

    def of_kind(self, kind):
        return [v for v in self.vms if v.kind == kind]


def mac_for(vm_name, network):
    digest = hashlib.sha256("{}/{}".format(vm_name, network).encode()).digest()
    return "fa:16:3e:{:02x}:{:02x}:{:02x}".format(*digest[:3])


def _bridge(name):
    return ("br-" + name)[:15]


def _host_address(subnet, gateway, reserved):
    """The router (the gateway) where the site names one, else the highest free
    host address for the DHCP server, as Neutron's DHCP port takes one."""
    if gateway is not None:
        return gateway
    taken = set(reserved)
    for host in reversed(list(subnet.hosts())):
        if host not in taken:
            return host
    raise ValueError("{} has no address left for the lab's DHCP server".format(subnet))


def lab_vims(site):
    """The registrars' VIMs, in site order (two in the example: mec, stavanger)."""
    used = {r.vim for r in site.pool.registrars}
    return [name for name in site.vims if name in used]


def build_topology(site):
    vims = lab_vims(site)
    mgmt_hosts = iter(MGMT_SUBNET.hosts())
    for _ in range(FIRST_VM_HOST - 1):
        next(mgmt_hosts)
    vms = []

    def add(name, member, vdu_id, extra_ports, scale_out=False):
        ports = [Port(MGMT, nic_name(1), mac_for(name, MGMT), next(mgmt_hosts))]
        for position, (network, address) in enumerate(extra_ports, start=2):
            ports.append(Port(network, nic_name(position), mac_for(name, network), address))
        role = vdu_id if member.kind == EPC else member.role
        vms.append(LabVm(name, member.kind, member.index, member.vnfd_id, role, vdu_id, tuple(ports), scale_out))

    by_role = {(m.kind, m.role): m for m in members(site)}
    for registrar in site.pool.registrars:
        pool = site.vims[registrar.vim].pool_network
        add(registrar.name, by_role[(REGISTRAR, registrar.name)], "registrar",
            [(pool.name, ipaddress.IPv4Address(registrar.address))])
    groups = [(name, group) for name, group in site.pool.pe_groups.items() if group.vim in vims]
    if not groups:
        raise ValueError("pool.pe_groups: no PE group runs on a registrar's VIM ({}); the lab boots "
                         "PEs only there".format(", ".join(vims)))
    next_pe = {}
    for number, (name, group) in enumerate(groups):
        extra = 1 if number == 0 else 0   # the first group also gets the scale-out VM
        for instance in range(1, group.count + extra + 1):
            pool = site.vims[group.vim].pool_network
            host = next_pe.get(pool.name, FIRST_PE_HOST)
            next_pe[pool.name] = host + 1
            address = ipaddress.IPv4Network(pool.subnet).network_address + host
            add("pe-{}-{}".format(name, instance), by_role[(PE_GROUP, name)], "pool-element",
                [(pool.name, address)], scale_out=instance > group.count)
    epc_member = by_role[(EPC, "epc")]
    addresses = site.epc.addresses
    for vdu_id, nics in EPC_NICS.items():
        ports = [(network, ipaddress.IPv4Address(getattr(getattr(addresses, vdu_id), network)))
                 for network, _external in nics]
        add(vdu_id, epc_member, vdu_id, ports)

    networks = [LabNetwork(MGMT, _bridge(MGMT), MGMT_SUBNET, LAB_HOST, LAB_HOST, "")]
    for vim in vims:
        pool = site.vims[vim].pool_network
        gateway = ipaddress.IPv4Address(pool.gateway) if pool.gateway else None
        subnet = ipaddress.IPv4Network(pool.subnet)
        taken = [p.address for v in vms for p in v.ports if p.network == pool.name]
        networks.append(LabNetwork(pool.name, _bridge(pool.name), subnet,
                                   _host_address(subnet, gateway, taken), gateway, vim))
    for name in ("s6a", "s11", "sxab", "s1c", "s1u", "sgi"):
        net = getattr(site.networks, name)
        gateway = ipaddress.IPv4Address(net.gateway) if net.gateway else None
        subnet = ipaddress.IPv4Network(net.subnet)
        taken = [p.address for v in vms for p in v.ports if p.network == name]
        networks.append(LabNetwork(name, _bridge(name), subnet, _host_address(subnet, gateway, taken),
                                   gateway, site.epc.vim))
    return Topology(tuple(networks), tuple(vms))
