"""Find interfaces by the address (or MAC) they hold; configure extra ones with netplan.

OSM attaches the VDU's ports in descriptor order, but the guest's interface
names (ens3.., eth0..) depend on the image and hypervisor, so the charms never
hard-code a name: they look up the interface that holds the address the
descriptor gave (or the MAC the cloud reports for that address).
"""

import json
import os
import re
import time

import yaml

from . import files, process
from .errors import NotFound, WaitTimeout

NETPLAN_DIR = "/etc/netplan"


def parse_ip_json(text):
    """[{ifname, mac, addresses: [cidr...], up}] from ``ip -j addr show``."""
    result = []
    for link in json.loads(text):
        addrs = []
        for info in link.get("addr_info", []):
            if info.get("family") == "inet":
                addrs.append("{}/{}".format(info["local"], info["prefixlen"]))
        result.append({"ifname": link["ifname"], "mac": (link.get("address") or "").lower(),
                       "addresses": addrs, "up": "UP" in link.get("flags", [])})
    return result


_O_LINK = re.compile(r"^\d+:\s+([^:@\s]+)[^<]*<([^>]*)>.*?link/\S+\s+([0-9a-fA-F:]+)")
_O_ADDR = re.compile(r"^\d+:\s+([^:@\s]+)\s+inet\s+(\S+)")


def parse_ip_oneline(link_text, addr_text):
    """The same as parse_ip_json from ``ip -o link`` and ``ip -o -4 addr`` (older iproute2)."""
    links = []
    for line in link_text.splitlines():
        match = _O_LINK.match(line)
        if match:
            links.append({"ifname": match.group(1), "mac": match.group(3).lower(),
                          "addresses": [], "up": "UP" in match.group(2).split(",")})
    by_name = dict((link["ifname"], link) for link in links)
    for line in addr_text.splitlines():
        match = _O_ADDR.match(line)
        if match and match.group(1) in by_name:
            by_name[match.group(1)]["addresses"].append(match.group(2))
    return links


class Network(object):
    def __init__(self, run=process.run, netplan_dir=NETPLAN_DIR, sleep=time.sleep,
                 clock=time.monotonic):
        self.run = run
        self.netplan_dir = netplan_dir
        self.sleep = sleep
        self.clock = clock

    def interfaces(self):
        result = self.run(["ip", "-j", "addr", "show"], check=False)
        if result.returncode == 0:
            try:
                return parse_ip_json(result.stdout)
            except (ValueError, KeyError, TypeError):
                pass  # iproute2 4.15 (bionic) emits broken JSON for some links
        links = self.run(["ip", "-o", "link", "show"]).stdout
        addrs = self.run(["ip", "-o", "-4", "addr", "show"]).stdout
        return parse_ip_oneline(links, addrs)

    def interface_with_address(self, address):
        """Name of the interface holding IPv4 ``address``; NotFound otherwise."""
        for link in self.interfaces():
            if any(a.split("/")[0] == address for a in link["addresses"]):
                return link["ifname"]
        raise NotFound("no interface holds {}".format(address))

    def interface_by_mac(self, mac):
        mac = mac.lower()
        for link in self.interfaces():
            if link["mac"] == mac:
                return link["ifname"]
        raise NotFound("no interface has MAC {}".format(mac))

    def netplan_path(self, ifname):
        return os.path.join(self.netplan_dir, "60-mecpool-{}.yaml".format(ifname))

    @staticmethod
    def netplan_config(ifname, mac=None, address=None, dhcp=False, mtu=None):
        """Netplan YAML text for one extra interface.

        ``address`` is ADDRESS/PREFIX (static); ``dhcp=True`` uses DHCPv4 but
        ignores its routes, so the management interface keeps the default route.
        """
        if bool(address) == bool(dhcp):
            raise ValueError("exactly one of address or dhcp is required")
        entry = {}
        if mac:
            entry["match"] = {"macaddress": mac.lower()}
            entry["set-name"] = ifname
        if address:
            entry["dhcp4"] = False
            entry["addresses"] = [str(address)]
        else:
            entry["dhcp4"] = True
            entry["dhcp4-overrides"] = {"use-routes": False, "use-dns": False}
        if mtu:
            entry["mtu"] = int(mtu)
        doc = {"network": {"version": 2, "ethernets": {ifname: entry}}}
        return "# Written by the MEC-Pool charm; changes are overwritten.\n" + yaml.safe_dump(
            doc, default_flow_style=False)

    def configure_interface(self, ifname, mac=None, address=None, dhcp=False, mtu=None):
        """Write the netplan file (mode 0600, netplan warns otherwise) and apply it if changed."""
        text = self.netplan_config(ifname, mac=mac, address=address, dhcp=dhcp, mtu=mtu)
        changed = files.write_file(self.netplan_path(ifname), text, mode=0o600)
        if changed:
            self.run(["netplan", "apply"], timeout=120)
        return changed

    def ensure_address(self, address, prefixlen=None, mac_lookup=None, timeout=60):
        """Return the name of the interface holding IPv4 ``address``.

        If no interface holds it yet, ``mac_lookup(address)`` (for example the
        OpenStack metadata) names the MAC of the port with that address; that
        interface gets a netplan config -- static ADDRESS/``prefixlen`` when the
        prefix is known, else DHCPv4 without its routes -- and we wait until
        the address is up.
        """
        try:
            return self.interface_with_address(address)
        except NotFound:
            if mac_lookup is None:
                raise
        mac = mac_lookup(address)
        if not mac:
            raise NotFound("no interface holds {} and the cloud names no port for it".format(
                address))
        ifname = self.interface_by_mac(mac)
        if prefixlen is None:
            self.configure_interface(ifname, mac=mac, dhcp=True)
        else:
            self.configure_interface(ifname, mac=mac,
                                     address="{}/{}".format(address, prefixlen))
        deadline = self.clock() + timeout
        while True:
            try:
                return self.interface_with_address(address)
            except NotFound:
                if self.clock() >= deadline:
                    raise WaitTimeout("{} did not come up on {} within {} s".format(
                        address, ifname, timeout))
                self.sleep(1)

    @staticmethod
    def bridge_config(name, addresses):
        """Netplan YAML for a port-less bridge holding ``addresses`` (an internal-only
        endpoint such as OAI's S5/S8-C or S10, which need an interface to read)."""
        doc = {"network": {"version": 2, "bridges": {name: {
            "interfaces": [], "dhcp4": False, "addresses": [str(a) for a in addresses]}}}}
        return "# Written by the MEC-Pool charm; changes are overwritten.\n" + yaml.safe_dump(
            doc, default_flow_style=False)

    def ensure_bridge(self, name, addresses):
        """Write and apply the bridge config if it changed.  Returns changed."""
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$", name):
            raise ValueError("invalid interface name {!r}".format(name))
        changed = files.write_file(self.netplan_path(name), self.bridge_config(name, addresses),
                                   mode=0o600)
        if changed:
            self.run(["netplan", "apply"], timeout=120)
        return changed
