"""The PE VDUs of an NS instance, each with the PE group it belongs to and
whether it has a charm.

Read from the records OSM keeps: ``vnf-show`` of each PE member (its
``vdur`` list: one entry per PE VDU, scaled-out ones included, with their
``count-index`` and interface addresses) and the NS record's
``_admin.deployed.VCA`` (one entry per deployed execution environment:
``member-vnf-index``, ``vdu_id``, ``vdu_count_index``).  In Release EIGHT a
scale-out deploys no charm, so only the VDUs OSM instantiated have a VCA
entry; a day-2 primitive (``osm ns-action --vdu_id --vdu_count``) can reach
only those."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from mecpool.descriptors import PE_GROUP, members
from mecpool.site.model import Site


@dataclass(frozen=True)
class PeVdu:
    group: str               # the site's PE group (pool.pe_groups key)
    member: str              # member-vnf-index
    vdu_id: str              # the VNFD's VDU id
    count_index: int         # OSM's count-index (0 for the first)
    name: str                # the VDU record's name (as OpenStack shows it)
    pool_address: str | None  # its address on the group's pool network
    charmed: bool            # OSM deployed a charm for it (day-2 primitives reach it)

    def text(self) -> str:
        return f"{self.name} ({self.pool_address or 'no pool address'})"


def charmed_indexes(nsr: dict, member: str, vdu_id: str) -> set[int]:
    """count-indexes of the VDUs of ``member``/``vdu_id`` with an execution environment (a charm)."""
    out = set()
    for vca in (nsr.get("_admin") or {}).get("deployed", {}).get("VCA") or []:
        if vca.get("member-vnf-index") == member and vca.get("vdu_id") == vdu_id \
                and vca.get("vdu_count_index") is not None:
            out.add(int(vca["vdu_count_index"]))
    return out


def _pool_address(subnet: str, vdur: dict) -> str | None:
    network = ipaddress.IPv4Network(subnet)
    for interface in vdur.get("interfaces") or []:
        try:
            if ipaddress.IPv4Address(interface.get("ip-address") or "") in network:
                return interface["ip-address"]
        except ValueError:
            continue
    return None


def pe_vdus(site: Site, nsr: dict, vnf_records: list[dict], vdu_id: str) -> list[PeVdu]:
    """Every PE VDU of the NS, in member then count-index order."""
    groups = {m.index: m for m in members(site) if m.kind == PE_GROUP}
    out = []
    for record in vnf_records:
        member = groups.get(record.get("member-vnf-index-ref"))
        if member is None:
            continue
        subnet = site.vims[member.vim].pool_network.subnet
        charmed = charmed_indexes(nsr, member.index, vdu_id)
        for vdur in record.get("vdur") or []:
            if vdur.get("vdu-id-ref") != vdu_id:
                continue
            index = int(vdur.get("count-index", 0) or 0)
            out.append(PeVdu(member.role, member.index, vdu_id, index,
                             vdur.get("name") or f"{member.index}-{vdu_id}-{index}",
                             _pool_address(subnet, vdur), index in charmed))
    return sorted(out, key=lambda v: (int(v.member), v.count_index))


def owners(pes: list[PeVdu]) -> dict[str, str]:
    """Pool address -> "group mec, VDU <name>" (a scaled-out one says so), for pool tables."""
    return {pe.pool_address: f"{pe.group}: {pe.name}" + ("" if pe.charmed else " (scaled out)")
            for pe in pes if pe.pool_address}
