"""Site file -> descriptor template context and OSM additionalParams.

``members(site)`` gives the NS members (member-vnf-index, VNFD, VIM, role);
``additional_params(site, reveal_secrets)`` their additionalParams;
``required_params(vnfd)`` / ``cloud_init_params(text)`` / ``package_params(pkg)``
what built descriptors need of them; ``build_context(site)`` the neutral data
the descriptor templates render.
"""

from .context import build_context  # noqa: F401
from .members import (EPC, EPC_VNFD, MGMT_VLD, NSD_ID, PE_GROUP, PE_SCALING_GROUP,  # noqa: F401
                      POOL_CP, POOL_ELEMENT_VDU, POOL_ELEMENT_VNFD, POOL_VLD, REGISTRAR,
                      REGISTRAR_VDU, REGISTRAR_VNFD, VNFDS, Member, marked_site, member_for, members,
                      site_mark)
from .params import (PARAM_KEY, REDACTED, ParamsError, additional_params,  # noqa: F401
                     cloud_init_params, package_params, placeholder, required_params)
from .primitives import CHARMS, OSM_PROVIDED  # noqa: F401

__all__ = [
    "build_context", "members", "member_for", "Member", "additional_params", "required_params",
    "cloud_init_params", "package_params", "placeholder", "ParamsError", "PARAM_KEY", "REDACTED",
    "CHARMS", "OSM_PROVIDED", "VNFDS", "EPC_VNFD", "REGISTRAR_VNFD", "POOL_ELEMENT_VNFD", "NSD_ID",
    "EPC", "REGISTRAR", "PE_GROUP", "MGMT_VLD", "POOL_VLD", "POOL_CP", "REGISTRAR_VDU", "POOL_ELEMENT_VDU",
    "PE_SCALING_GROUP", "site_mark", "marked_site",
]
