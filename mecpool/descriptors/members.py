"""The NS members: which VNFD runs where, under which member-vnf-index.

Indexes are strings (the IM's ``member-vnf-index`` is one): the EPC is "1",
then one per registrar in site order, then one per PE group in site order.
The NSD template, the instantiation config (mecpool.deploy) and day-2 scaling
all take them from :func:`members`, so they cannot disagree.
"""

import re
from collections import namedtuple

EPC_VNFD = "oai-epc"
REGISTRAR_VNFD = "rsp-registrar"
POOL_ELEMENT_VNFD = "rsp-pool-element"
NSD_ID = "mec-offload"
VNFDS = (EPC_VNFD, REGISTRAR_VNFD, POOL_ELEMENT_VNFD)

EPC, REGISTRAR, PE_GROUP = "epc", "registrar", "pe-group"

# Names the instantiation config and day-2 scaling refer to.
MGMT_VLD = "mgmt"
POOL_VLD = "pool"
POOL_CP = "pool-cp"            # the pool-network cp of the registrar and PE VNFDs
REGISTRAR_VDU = "registrar"
POOL_ELEMENT_VDU = "pool-element"
PE_SCALING_GROUP = "pe-scale"  # one PE VDU per scale-out step

# index: member-vnf-index; vnfd_id; vim: site VIM name; osm_account: OSM VIM
# account; kind: epc | registrar | pe-group; role: "epc", the registrar's name
# or the PE group's name.
Member = namedtuple("Member", "index vnfd_id vim osm_account kind role")


def members(site):
    """Every NS member in member-vnf-index order."""
    out = []

    def add(vnfd_id, vim, kind, role):
        out.append(Member(str(len(out) + 1), vnfd_id, vim, site.vims[vim].osm_account, kind, role))

    add(EPC_VNFD, site.epc.vim, EPC, "epc")
    for registrar in site.pool.registrars:
        add(REGISTRAR_VNFD, registrar.vim, REGISTRAR, registrar.name)
    for name, group in site.pool.pe_groups.items():
        add(POOL_ELEMENT_VNFD, group.vim, PE_GROUP, name)
    return out


def member_for(site, kind, role):
    """The member of ``kind`` named ``role`` (e.g. PE group "mec"); KeyError names it."""
    for member in members(site):
        if member.kind == kind and member.role == role:
            return member
    raise KeyError("no {} named {!r} in the site".format(kind, role))


# Package ids are the same for every site, their content is per site: each descriptor's description
# ends with the site's mark, so that onboarding one site never overwrites another site's packages.
_SITE_MARK = re.compile(r"\[mecpool site ([a-z0-9-]+)\]\s*$")


def site_mark(site_name: str) -> str:
    return "[mecpool site {}]".format(site_name)


def marked_site(description) -> "str | None":
    """The site a descriptor was built for (None for an unmarked one)."""
    found = _SITE_MARK.search(description) if isinstance(description, str) else None
    return found.group(1) if found else None
