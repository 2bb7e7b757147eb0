"""PE groups of an NS instance against the site's ``count``: how many PE VDUs each has, which are
below their count (an interrupted ``instantiate --wait``, a scale-out that failed), and the
scale-outs that bring them up (``instantiate`` runs them, resumed or not; ``status`` flags them)."""

from __future__ import annotations

from dataclasses import dataclass

from mecpool.descriptors import PE_GROUP, members
from mecpool.site.model import Site



@dataclass(frozen=True)
class Shortfall:
    group: str
    have: int
    want: int

    def text(self) -> str:
        return f"PE group {self.group} has {self.have} PE VDU(s), the site says count {self.want}"


def counts(site: Site, vnf_records: list[dict]) -> dict[str, int]:
    """PE VDUs per PE group of the site (the PE VNFD has one VDU, the one its scaling group adds)."""
    index_to_group = {m.index: m.role for m in members(site) if m.kind == PE_GROUP}
    out = {group: 0 for group in index_to_group.values()}
    for record in vnf_records:
        group = index_to_group.get(record.get("member-vnf-index-ref"))
        if group is not None:
            out[group] += len(record.get("vdur") or [])
    return out


def shortfalls(site: Site, have: dict[str, int]) -> list[Shortfall]:
    return [Shortfall(group, have.get(group, 0), site.pool.pe_groups[group].count)
            for group in site.pool.pe_groups if have.get(group, 0) < site.pool.pe_groups[group].count]
