"""Which MAC address the cloud gave the port holding an address (OpenStack metadata).

Used when an extra port's address is not configured in the guest yet (no DHCP
on that network): network_data.json maps each network's ip_address to a link
and each link to its MAC, so the charm can configure the right interface.
"""

import json

try:
    from urllib.request import urlopen
except ImportError:  # pragma: no cover - Python 2 is not supported
    raise

METADATA_URL = "http://169.254.169.254/openstack/latest/network_data.json"


def mac_for_address(network_data, address):
    """The MAC of the link whose network has ``address``, or None."""
    links = dict((link.get("id"), link) for link in network_data.get("links", []))
    for net in network_data.get("networks", []):
        if net.get("ip_address") == address:
            link = links.get(net.get("link"))
            if link and link.get("ethernet_mac_address"):
                return link["ethernet_mac_address"].lower()
    return None


def fetch_network_data(url=METADATA_URL, timeout=10, opener=urlopen):
    with opener(url, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def metadata_mac_lookup(fetch=fetch_network_data):
    """A mac_lookup for netplan.Network.ensure_address; None when metadata is unreachable."""
    def lookup(address):
        try:
            data = fetch()
        except (OSError, ValueError):
            return None
        return mac_for_address(data, address)
    return lookup
