"""What the NS needs of each VIM at its largest (every PE group at ``max_count``) against the project's
compute limits (``openstack limits show --absolute``: quota and use of instances, cores and RAM), read
by openstack-prepare before its first write, so that OSM and Nova do not find them halfway through an
instantiation or a scale-out."""

from __future__ import annotations

from dataclasses import dataclass

from mecpool.site.model import Site

from .openstack import OpenStack
from .prepare import EPC_FLAVORS

# (what, the limit's name, its use's name, `openstack quota set` option)
LIMITS = (("instances", "maxTotalInstances", "totalInstancesUsed", "--instances"),
          ("vCPUs", "maxTotalCores", "totalCoresUsed", "--cores"),
          ("RAM (MB)", "maxTotalRAMSize", "totalRAMUsed", "--ram"))


@dataclass(frozen=True)
class Needs:
    instances: int
    cores: int
    ram_mb: int

    def of(self, what: str) -> int:
        return {"instances": self.instances, "vCPUs": self.cores, "RAM (MB)": self.ram_mb}[what]


def needs(site: Site, vim: str) -> Needs:
    """VIM ``vim``'s share of the NS with every PE group at max_count."""
    flavors = []
    if site.epc.vim == vim:
        flavors += [getattr(site.flavors, key) for key in EPC_FLAVORS]
    flavors += [site.flavors.registrar for r in site.pool.registrars if r.vim == vim]
    for group in site.pool.pe_groups.values():
        if group.vim == vim:
            flavors += [site.flavors.pool_element] * group.max_count
    return Needs(len(flavors), sum(f.vcpus for f in flavors), sum(f.ram_mb for f in flavors))


def problems(site: Site, openstack: OpenStack) -> tuple[list[str], list[str]]:
    """(quotas below the need: the run stops; quota free now below the need: a warning)."""
    need = needs(site, openstack.vim_name)
    rows = openstack.call("limits", "show", "--absolute") or []
    values = {row.get("Name"): row.get("Value") for row in rows if isinstance(row, dict)}
    short, busy = [], []
    project = openstack.account.project
    for what, limit_name, used_name, option in LIMITS:
        limit, used, wanted = values.get(limit_name), values.get(used_name) or 0, need.of(what)
        if not isinstance(limit, int) or limit < 0:
            continue  # unlimited, or not reported
        if wanted > limit:
            short.append(f"{what}: the NS at max_count needs {wanted}, the quota is {limit} (raise it: openstack "
                         f"quota set {option} {wanted} {project})")
        elif wanted > limit - used:
            busy.append(f"{what}: the NS at max_count needs {wanted}, {limit - used} of {limit} are free now "
                        f"({used} in use)")
    return short, busy
