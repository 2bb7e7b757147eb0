"""``mecpool scale-pe``: one PE more or less in a PE group, day 2.

``osm vnf-scale NS <member index> --scaling-group <sg> --scale-out|--scale-in``.
Limits are checked before any change: the site's ``max_count`` (and ``count``
as the floor) against the PE VDUs the VNF record has now, and the VNFD's
max-instance-count against LCM's scale-operation counter.  LCM (R8) keeps
that counter per scaling-group *name* in the NS record, shared by every
member of the same VNFD, so it is checked as OSM will check it."""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass

from mecpool.descriptors import PE_GROUP, REGISTRAR, member_for
from mecpool.site.model import Site

from .errors import DeployError, InputError
from .osmcli import Osm
from .packages import BuiltPackages
from .poolstatus import addresses, pool_status


@dataclass
class Target:
    ns: str
    group: str
    index: str
    vim: str
    scaling_group: str
    vdu: str
    step: int
    min_ops: int
    max_ops: int


def target(site: Site, packages: BuiltPackages, ns: str, group: str) -> Target:
    if group not in site.pool.pe_groups:
        raise InputError(f"--group: no PE group {group!r} in the site (groups: {', '.join(site.pool.pe_groups)})")
    member = member_for(site, PE_GROUP, group)
    sg = packages.pe_scaling_group()
    return Target(ns, group, member.index, member.vim, sg["name"], sg["vdu"][0]["vdu-id-ref"],
                  int(sg["vdu"][0].get("count", 1)), int(sg.get("min-instance-count", 0) or 0),
                  int(sg.get("max-instance-count", 10)))


def vnf_scale_args(t: Target, out: bool) -> list[str]:
    return ["vnf-scale", t.ns, t.index, "--scaling-group", t.scaling_group, "--scale-out" if out else "--scale-in"]


def member_record(osm: Osm, t: Target) -> dict:
    rows = [row for row in osm.table("vnf-list", "--ns", t.ns) if row["vnf member index"] == t.index]
    if not rows:
        raise DeployError(f"NS {t.ns} has no VNF with member index {t.index} (PE group {t.group})")
    return osm.literal("vnf-show", rows[0]["vnf id"])


def pe_vdus(record: dict, vdu: str) -> list[dict]:
    return [v for v in record.get("vdur") or [] if v.get("vdu-id-ref") == vdu]


def vdu_key(vdur: dict):
    """What identifies a VDU record across two reads."""
    return vdur.get("_id") or vdur.get("id") or vdur.get("count-index")


def vdu_text(site: Site, t: Target, vdur: dict) -> str:
    """A PE VDU as status shows it: its name and pool address."""
    return f"{vdur.get('name') or vdur.get('vdu-name') or '?'} ({pool_address(site, t, vdur) or 'no pool address'})"


def scale_ops(nsr: dict, name: str) -> int:
    for entry in (nsr.get("_admin") or {}).get("scaling-group") or []:
        if entry.get("name") == name:
            return int(entry.get("nb-scale-op", 0) or 0)
    return 0


def check_limits(site: Site, t: Target, out: bool, current: int, ops: int) -> None:
    group = site.pool.pe_groups[t.group]
    if out:
        if current + t.step > group.max_count:
            raise DeployError(f"refused: PE group {t.group} has {current} PE(s); one scale-out adds {t.step} and "
                              f"max_count is {group.max_count} (pool.pe_groups.{t.group}.max_count)")
        if ops >= t.max_ops:
            raise DeployError(f"refused: OSM counts {ops} scale-out(s) of scaling group {t.scaling_group} in NS "
                              f"{t.ns} (shared by all PE groups in Release EIGHT) and the VNFD allows "
                              f"{t.max_ops} (max-instance-count); OSM would reject this scale-out")
    else:
        if current - t.step < group.count:
            raise DeployError(f"refused: PE group {t.group} has {current} PE(s); one scale-in removes {t.step} and "
                              f"its count (the floor) is {group.count} (pool.pe_groups.{t.group}.count)")
        if ops <= t.min_ops:
            raise DeployError(f"refused: OSM counts {ops} scale-out(s) of scaling group {t.scaling_group} in NS "
                              f"{t.ns}; it refuses a scale-in at min-instance-count {t.min_ops}")


def pool_address(site: Site, t: Target, vdur: dict) -> str | None:
    subnet = ipaddress.IPv4Network(site.vims[t.vim].pool_network.subnet)
    for interface in vdur.get("interfaces") or []:
        try:
            if ipaddress.IPv4Address(interface.get("ip-address", "")) in subnet:
                return interface["ip-address"]
        except ValueError:
            continue
    return None


def status_registrar(site: Site, t: Target) -> str:
    """Member index of the registrar to ask: one on the group's VIM, else the first."""
    registrars = sorted(site.pool.registrars, key=lambda r: r.vim != t.vim)
    return member_for(site, REGISTRAR, registrars[0].name).index


def wait_registered(osm: Osm, ns: str, registrar: str, vdu: str, address: str, handle: str,
                    timeout: float, interval: float, echo) -> dict:
    """Poll pool-status until ``address`` is a PE of pool ``handle``."""
    start = time.monotonic()
    while True:
        parsed = pool_status(osm, ns, registrar, vdu)
        if address in addresses(parsed, handle):
            echo(f"  PE {address} is registered in pool {handle} ({time.monotonic() - start:.0f} s)")
            return parsed
        if time.monotonic() - start >= timeout:
            raise DeployError(f"the new PE {address} did not register in pool {handle} within {timeout:g} s; "
                              f"check its cloud-init (/var/log/cloud-init-output.log) and mecpool pool-status {ns}")
        echo(f"  waiting for PE {address} to register in pool {handle} ...")
        time.sleep(interval)
