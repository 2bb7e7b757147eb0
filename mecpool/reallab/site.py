"""The lab's site file: what `mecpool openstack-prepare`, `onboard` and `instantiate` are given when the
runbook runs against the real stack.  Two VIM accounts, each a project of the lab's Keystone with its own
user: `edge` holds the EPC, a registrar and the PE group, `core` the second registrar.  Networks are
Neutron tenant networks (VXLAN here: no 8021q for VLAN); sizes are small (2 shared cores).  The image is
the VDU lab's, which the lab uploads itself (kernel, initrd, disk with kernel_id/ramdisk_id: a site's
`file` is one disk file, which this image does not boot from), so the site names it without a file.

Pure: the dict is built from `LabSite` and checked with our own site model before it is written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from mecpool.site.loader import load_site, parse_site
from mecpool.site.model import Site

IMAGE_NAME = "mecpool-vdulab"           # what the lab uploads and the site names for EPC and pool
K_HEX = "0123456789abcdef0123456789abcdef"   # the lab's EPC subscriber key and OP: test values
OP_HEX = "fedcba9876543210fedcba9876543210"


@dataclass(frozen=True)
class LabVim:
    name: str              # the site's VIM name
    project: str           # the Keystone project (and the OSM account's tenant)
    user: str
    password_env: str      # the site names the variable; the lab sets it for the runbook's commands
    pool_subnet: str       # /24
    mgmt_subnet: str       # the lab creates the mgmt network; openstack-prepare requires it


VIMS = (LabVim("edge", "mecpool-edge", "mecpool-edge", "MECPOOL_REALLAB_EDGE_PASSWORD", "10.221.1.0/24",
               "10.220.1.0/24"),
        LabVim("core", "mecpool-core", "mecpool-core", "MECPOOL_REALLAB_CORE_PASSWORD", "10.221.2.0/24",
               "10.220.2.0/24"))
# Where OSM sits in the lab's network: an address of its own outside every site subnet (an operator's OSM
# host beyond a router), so the VDUs admit its SSH by the site's `osm_sources` rule alone, not by the
# management subnet's (before, OSM reached the VDUs from the mgmt gateway, and osm_sources was 127.0.0.1,
# which is never a source on the wire).
OSM_HOST = "10.200.0.2"


def mgmt_network(vim: "LabVim") -> str:
    """Each project's management network has a name of its own: RO v8 looks a VIM network up by name
    among all the account sees, and with the admin role (which flavors need) it sees every project's:
    two projects' `mgmt` made RO fail "More than one network found" (the lab's run of 2026-12-06)."""
    return f"mgmt-{vim.name}"
# The EPC's sources as site.example.yaml pins them (only instantiate's charms use them).
EPC_GIT = {name: {"repository": f"https://github.com/simula/openairinterface-openair-{repo}.git", "commit": commit}
           for name, repo, commit in (("hss", "hss", "932f6f8d952d474349f46b550939eab370557ff4"),
                                      ("mme", "mme", "3bda02cd18a4feee537457c963216b931e217293"),
                                      ("spgwc", "spgwc", "4b4c60ac7b98f1299eea932b83f006f4dd5dfa21"),
                                      ("spgwu", "spgwu-tiny", "fa782bbf320ffe1692ad7ea48c72db2f1a309acd"))}


def _host(subnet: str, last: int) -> str:
    return subnet.rsplit(".", 1)[0] + f".{last}"


def site_dict(auth_url: str, osm_source: str, vims=VIMS) -> dict:
    """The site as data: `auth_url` the lab's Keystone, `osm_source` where OSM's VCA connects from."""
    edge, core = vims
    small = {"vcpus": 1, "ram_mb": 768, "disk_gb": 3}
    return {
        "name": "reallab",
        "vims": {v.name: {"osm_account": f"reallab-{v.name}", "mgmt_network": mgmt_network(v),
                          "pool_network": {"name": f"pool-{v.name}", "subnet": v.pool_subnet,
                                           "gateway": _host(v.pool_subnet, 1)},
                          "osm_sources": [osm_source],
                          "openstack": {"auth_url": auth_url, "project": v.project, "user": v.user,
                                        "password_env": v.password_env, "region": "RegionOne"}}
                 for v in vims},
        "images": {"vdu": {"name": IMAGE_NAME}},
        "flavors": {**{key: dict(small) for key in ("hss", "mme", "spgwc", "spgwu")},
                    "registrar": dict(small), "pool_element": dict(small)},
        "networks": {"s1c": {"vim_network": "reallab-s1c", "subnet": "192.168.247.0/24", "gateway": "192.168.247.1"},
                     "s1u": {"vim_network": "reallab-s1u", "subnet": "192.168.248.0/24", "gateway": "192.168.248.1"},
                     "sgi": {"vim_network": "reallab-sgi", "subnet": "10.254.1.0/24", "gateway": "10.254.1.1"},
                     "s6a": {"subnet": "172.16.6.0/24"}, "s11": {"subnet": "172.16.1.0/24"},
                     "sxab": {"subnet": "172.55.55.0/24"}},
        "epc": {"vim": edge.name, "image": "vdu", "realm": "reallab.mecpool", "mcc": "242", "mnc": "88",
                "tac": 600, "k_env": "MECPOOL_REALLAB_EPC_K", "op_env": "MECPOOL_REALLAB_EPC_OP",
                "imsi_first": "242881234500000", "msisdn_first": "24288880000000", "users": 16,
                "dns": ["10.210.0.1"], "apn": "default", "apn2": "internet", "ue_pool": "12.1.1.0/24",
                "nat": True, "git": EPC_GIT, "spdlog_commit": "4a9ccf7e38e257feecce0c579a782741254eaeef",
                "cassandra": {"repository": "https://debian.cassandra.apache.org", "suite": "41x",
                              "component": "main", "key_url": "https://downloads.apache.org/cassandra/KEYS"},
                "addresses": {"hss": {"s6a": "172.16.6.129"},
                              "mme": {"s6a": "172.16.6.2", "s11": "172.16.1.102", "s1c": "192.168.247.102"},
                              "spgwc": {"s11": "172.16.1.104", "sxab": "172.55.55.101"},
                              "spgwu": {"sxab": "172.55.55.102", "s1u": "192.168.248.159", "sgi": "10.254.1.203"}}},
        "pool": {"handle": "CalcAppPool", "policy": "PriorityLeastUsed", "image": "vdu",
                 "registrars": [{"name": f"pr-{v.name}", "vim": v.name, "address": _host(v.pool_subnet, 10),
                                 "identifier": 0x101 + i, "peers": [f"pr-{o.name}" for o in vims if o is not v]}
                                for i, v in enumerate(vims)],
                 "pe_groups": {edge.name: {"kind": "mec", "vim": edge.name, "count": 1, "max_count": 2,
                                           "capacity": 1000000, "max_jobs": 4, "load_increment": 0.1}}},
    }


def secrets_env(passwords: dict[str, str], vims=VIMS) -> dict[str, str]:
    """The environment the runbook's commands need: each VIM's password, the EPC's K and OP."""
    env = {v.password_env: passwords[v.name] for v in vims}
    env.update({"MECPOOL_REALLAB_EPC_K": K_HEX, "MECPOOL_REALLAB_EPC_OP": OP_HEX})
    return env


def build(auth_url: str, osm_source: str, vims=VIMS) -> Site:
    """The lab's site, checked by the site model (a SiteError names the field)."""
    return parse_site(site_dict(auth_url, osm_source, vims), source="reallab site")


def write(path: Path, auth_url: str, osm_source: str, vims=VIMS) -> Site:
    """Checked, written, and read back as the runbook's commands will read it."""
    build(auth_url, osm_source, vims)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# written by mecpool.reallab.site for the real-stack lab\n"
                    + yaml.safe_dump(site_dict(auth_url, osm_source, vims), sort_keys=False))
    return load_site(path)
