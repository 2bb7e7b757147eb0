"""An OpenStack config drive as Nova writes it, and the meta_data.json / network_data.json it holds.

Nova (nova/virt/configdrive.py) writes the metadata tree into an ISO 9660 image with genisoimage,
volume label config-2; nova/api/metadata/base.py puts meta_data.json, user_data, vendor_data.json,
network_data.json (and vendor_data2.json) under openstack/<version>/ for every metadata version it
knows and under openstack/latest/; nova/virt/netutils.py (get_network_metadata) makes
network_data.json from the instance's Neutron ports.  The versions below are the ones of Nova
Rocky..Ussuri, the OpenStack releases OSM Release EIGHT ran on (cloud-init knows the same list).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
import subprocess
import tempfile
import uuid as uuidlib
from dataclasses import dataclass
from pathlib import Path

from .image import VdulabError, require_tool

# nova/api/metadata/base.py OPENSTACK_VERSIONS, oldest first, with what each one added.
FOLSOM, GRIZZLY, HAVANA, LIBERTY = "2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15"
NEWTON_ONE, NEWTON_TWO, OCATA, ROCKY = "2016-06-30", "2016-10-06", "2017-02-22", "2018-08-27"
OPENSTACK_VERSIONS = (FOLSOM, GRIZZLY, HAVANA, LIBERTY, NEWTON_ONE, NEWTON_TWO, OCATA, ROCKY)

# Nova's [api] dhcp_domain default: meta_data.json's hostname is "<name>.novalocal".
DHCP_DOMAIN = "novalocal"
# Nova's publisher string (version.product_string() + version); only informative.
PUBLISHER = "OpenStack Compute 20.0.0"


@dataclass(frozen=True)
class Nic:
    """One Neutron port of the VM, in the order Nova attaches them (ens3, ens4, ...)."""
    mac: str
    network_name: str
    network_id: str
    address: str | None        # the port's fixed IPv4 (Neutron assigns one even on DHCP subnets)
    prefix: int = 24
    gateway: str | None = None
    dhcp: bool = True          # Neutron subnets have DHCP enabled unless created with --no-dhcp
    mtu: int = 1500            # the Neutron network's MTU: 1450 on VXLAN tenant networks
    dns: tuple[str, ...] = ()
    routes: tuple[tuple[str, str], ...] = ()   # host routes: (destination CIDR, next hop)
    port_id: str = ""          # Neutron port UUID; derived from the MAC when empty
    vif_type: str = "ovs"      # binding:vif_type of an Open vSwitch ML2 deployment

    @property
    def port_uuid(self) -> str:
        return self.port_id or str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"port:{self.mac.lower()}"))

    @property
    def devname(self) -> str:
        """The host-side tap name Nova gives the port: "tap" + port UUID, cut to 14 characters."""
        return ("tap" + self.port_uuid)[:14]


# vif types Nova shows as they are (nova/network/model.py LEGACY_EXPOSED_VIF_TYPES); others are "phy".
_LEGACY_EXPOSED_VIF_TYPES = ("bridge", "dvs", "hw_veb", "hyperv", "ovs", "tap", "vhostuser", "vif")


def nova_network_data(nics: list[Nic]) -> dict:
    """network_data.json as nova.virt.netutils.get_network_metadata makes it (IPv4 only)."""
    links, networks, services = [], [], []
    for nic in nics:
        if not nic.address:
            continue   # a port without fixed IPs has no subnets: Nova leaves it out entirely
        link = {
            "id": nic.devname,
            "vif_id": nic.port_uuid,
            "type": nic.vif_type if nic.vif_type in _LEGACY_EXPOSED_VIF_TYPES else "phy",
            "mtu": nic.mtu,
            "ethernet_mac_address": nic.mac.lower(),
        }
        links.append(link)
        net_id = f"network{len(networks)}"
        dns = [{"type": "dns", "address": a} for a in nic.dns]
        if nic.dhcp:
            networks.append({"id": net_id, "type": "ipv4_dhcp", "link": link["id"],
                             "network_id": nic.network_id})
        else:
            iface = ipaddress.IPv4Interface(f"{nic.address}/{nic.prefix}")
            routes = []
            if nic.gateway:
                routes.append({"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": nic.gateway})
            for cidr, via in nic.routes:
                net = ipaddress.IPv4Network(cidr)
                routes.append({"network": str(net.network_address), "netmask": str(net.netmask),
                               "gateway": via})
            networks.append({"id": net_id, "type": "ipv4", "link": link["id"],
                             "ip_address": str(iface.ip), "netmask": str(iface.netmask),
                             "routes": routes, "network_id": nic.network_id, "services": dns})
        services += [s for s in dns if s not in services]
    return {"links": links, "networks": networks, "services": services}


def sanitize_hostname(name: str) -> str:
    """Nova's utils.sanitize_hostname: the instance hostname made from its display name."""
    host = re.sub(r"[ _]", "-", name[:63])
    host = re.sub(r"[^\w.-]+", "", host, flags=re.ASCII).lower().strip(".-")
    return host or "server"


def nova_meta_data(uuid: str, name: str, public_keys: dict[str, str] | None = None,
                   availability_zone: str = "nova", launch_index: int = 0,
                   project_id: str = "", hostname: str | None = None,
                   meta: dict[str, str] | None = None) -> dict:
    """meta_data.json (latest version) as nova.api.metadata.base.InstanceMetadata makes it."""
    md: dict = {"uuid": uuid}
    if meta:
        md["meta"] = dict(meta)    # the server's properties, only when it has any
    if public_keys:
        md["public_keys"] = dict(public_keys)
        md["keys"] = [{"name": k, "type": "ssh", "data": v} for k, v in public_keys.items()]
    md["hostname"] = hostname or f"{sanitize_hostname(name)}.{DHCP_DOMAIN}"
    md["name"] = name
    md["launch_index"] = launch_index
    md["availability_zone"] = availability_zone
    md["random_seed"] = base64.b64encode(os.urandom(512)).decode()
    md["project_id"] = project_id or uuidlib.uuid5(uuidlib.NAMESPACE_URL, "mecpool-vdulab").hex
    md["devices"] = []
    return md


def _meta_data_for(version: str, md: dict) -> dict:
    """The keys older metadata versions lack (Nova checks the version before adding each)."""
    latest = version == "latest"
    md = dict(md)
    if not latest and version < GRIZZLY:
        md.pop("random_seed", None)
    if not latest and version < LIBERTY:
        md.pop("project_id", None)
    if not latest and version < NEWTON_ONE:
        md.pop("devices", None)
    return md


def drive_files(meta: dict, network: dict, user_data: bytes | None,
                vendor_data: dict | None = None) -> dict[str, bytes]:
    """Every file of the drive (path inside the ISO, contents), per Nova's metadata_for_config_drive."""
    files: dict[str, bytes] = {}
    for version in OPENSTACK_VERSIONS + ("latest",):
        base = f"openstack/{version}"
        at_least = (lambda v: version == "latest" or version >= v)
        files[f"{base}/meta_data.json"] = _json(_meta_data_for(version, meta))
        if user_data is not None:
            files[f"{base}/user_data"] = user_data
        if at_least(HAVANA):
            files[f"{base}/vendor_data.json"] = _json(vendor_data or {})
        if at_least(LIBERTY):
            files[f"{base}/network_data.json"] = _json(network)
        if at_least(NEWTON_TWO):
            files[f"{base}/vendor_data2.json"] = _json({})
    return files


def write_config_drive(path: Path, meta_data: dict, network_data: dict, user_data: bytes,
                       vendor_data: dict | None = None) -> Path:
    """Write the config drive ISO (label config-2) to `path` with genisoimage, as Nova does."""
    genisoimage = require_tool("genisoimage", "genisoimage")
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="configdrive-") as tmp:
        for rel, data in drive_files(meta_data, network_data, user_data, vendor_data).items():
            target = Path(tmp) / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        part = path.with_name(path.name + ".part")
        result = subprocess.run(
            [genisoimage, "-o", str(part), "-ldots", "-allow-lowercase", "-allow-multidot", "-l",
             "-publisher", PUBLISHER, "-quiet", "-J", "-r", "-V", "config-2", tmp],
            capture_output=True, text=True)
        if result.returncode != 0:
            part.unlink(missing_ok=True)
            raise VdulabError(f"genisoimage failed for {path}: {result.stderr.strip()}")
        os.replace(part, path)
    return path


def _json(data: dict) -> bytes:
    return json.dumps(data).encode()
