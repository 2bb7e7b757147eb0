"""OSM ``additionalParams`` per NS member, and what a descriptor needs of them.

OSM Release EIGHT substitutes ``<name>`` in (initial-)config-primitive values
and renders the cloud-init files as jinja2 with the member's
``additionalParamsForVnf``.  :func:`additional_params` makes those values from
the site file; :func:`required_params` and :func:`cloud_init_params` read back
what a built descriptor and its cloud-init files use, so the build validator
and the instantiation config (mecpool.deploy) check one against the other.
"""

import ipaddress
import re
import tarfile
from pathlib import Path

import jinja2
import jinja2.meta
import yaml

from mecpool.rserpool.commands import ASAP_PORT, ENRP_PORT

from .members import EPC, PE_GROUP, REGISTRAR, members
from .primitives import OSM_PROVIDED

PARAM_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
PLACEHOLDER = re.compile(r"^<([^<>]*)>$")
REDACTED = "**REDACTED**"
SECRET_PARAMS = ("k", "op")
AUTO = "auto"


class ParamsError(ValueError):
    """A site value cannot become an additionalParam; ``field`` is its site path."""

    def __init__(self, field, problem):
        ValueError.__init__(self, "{}: {}".format(field, problem))
        self.field = field
        self.problem = problem


def fraction_text(value):
    """A decimal fraction as the STRING the charms and RSPLIB parse ("0.1")."""
    text = "{:.6f}".format(float(value)).rstrip("0")
    return text + "0" if text.endswith(".") else text


def whole_number(value, field):
    if not float(value).is_integer():
        raise ParamsError(field, "{} must be a whole number (an INTEGER primitive parameter)".format(value))
    return int(value)


def cidr(address, subnet):
    """``address/prefixlen`` of ``subnet`` (the form OAI configs take)."""
    return "{}/{}".format(address, ipaddress.IPv4Network(subnet).prefixlen)


def endpoint_list(addresses, port):
    """Comma-separated ADDR:PORT, a port added where none is given."""
    out = []
    for item in addresses:
        out.append(item if ":" in item else "{}:{}".format(item, port))
    return ",".join(out)


def registrar_identifier(registrar):
    """The configured identifier, else one derived from the (unique) address."""
    if registrar.identifier is not None:
        return registrar.identifier
    return int(ipaddress.IPv4Address(registrar.address))


def epc_params(site, reveal_secrets):
    epc, nets, addr = site.epc, site.networks, site.epc.addresses
    if nets.sgi.gateway is None:
        raise ParamsError("networks.sgi.gateway", "the SPGW-U needs the SGi gateway for its default route")
    params = {}
    for vdu in ("hss", "mme", "spgwc", "spgwu"):
        source = getattr(epc.git, vdu)
        params[vdu + "_git_repository"] = source.repository
        params[vdu + "_git_commit"] = source.commit
    params["cassandra_apt"] = epc.cassandra.apt_line()
    params["cassandra_key_url"] = epc.cassandra.key_url
    params["spdlog_commit"] = epc.spdlog_commit
    params.update({
        "realm": epc.realm,
        "mcc": epc.mcc,
        "mnc": epc.mnc,
        "tac": epc.tac,
        "imsi_first": epc.imsi_first,
        "msisdn_first": epc.msisdn_first,
        "users": epc.users,
        "apn": epc.apn,
        "apn2": epc.apn2,
        "dns1": epc.dns[0],
        # OAI wants two resolvers; with one configured both name it.
        "dns2": epc.dns[1] if len(epc.dns) > 1 else epc.dns[0],
        "hss_s6a_address": addr.hss.s6a,
        "mme_s6a_address": addr.mme.s6a,
        "mme_s1c_cidr": cidr(addr.mme.s1c, nets.s1c.subnet),
        "mme_s11_cidr": cidr(addr.mme.s11, nets.s11.subnet),
        "spgwc_s11_address": addr.spgwc.s11,
        "spgwc_s11_cidr": cidr(addr.spgwc.s11, nets.s11.subnet),
        "spgwc_sxab_cidr": cidr(addr.spgwc.sxab, nets.sxab.subnet),
        "spgwc_list": addr.spgwc.sxab,
        "ue_pool": epc.ue_pool,
        "pdn_network": epc.ue_pool,
        "spgwu_s1u_cidr": cidr(addr.spgwu.s1u, nets.s1u.subnet),
        "spgwu_sxab_cidr": cidr(addr.spgwu.sxab, nets.sxab.subnet),
        "spgwu_sgi_cidr": cidr(addr.spgwu.sgi, nets.sgi.subnet),
        "sgi_gateway": nets.sgi.gateway,
        "nat": epc.nat,
    })
    for name in SECRET_PARAMS:
        params[name] = epc.secret(name) if reveal_secrets else REDACTED
    return params


def pool_vims(site):
    """The VIMs hosting pool members, in site order."""
    used = {r.vim for r in site.pool.registrars} | {g.vim for g in site.pool.pe_groups.values()}
    return [name for name in site.vims if name in used]


def pool_route_params(site, vim):
    """The pool NIC's routes: every other pool subnet through the local gateway
    (pool networks are routed between VIMs, without NAT)."""
    local = site.vims[vim].pool_network
    others = [site.vims[name].pool_network.subnet for name in pool_vims(site) if name != vim]
    if others and local.gateway is None:
        raise ParamsError("vims.{}.pool_network.gateway".format(vim),
                          "required: pool members on several VIMs reach each other through it")
    return {"pool_gateway": local.gateway or "", "pool_routes": ",".join(others)}


def registrar_params(site, registrar):
    by_name = {r.name: r for r in site.pool.registrars}
    peers = [by_name[name].address for name in registrar.peers] + list(registrar.external_peers)
    return dict(pool_route_params(site, registrar.vim), **{
        "pr_address": registrar.address,
        "pr_peers": endpoint_list(peers, ENRP_PORT),
        # These two feed the "config" primitive, which N2VC hands to Juju's
        # ApplicationSet (a map of strings; Juju coerces them by option type).
        "pr_identifier": str(registrar_identifier(registrar)),
        "pr_loglevel": str(registrar.loglevel),
        # 0: RSPLIB's default (no option), with librspfreshload on the PEs (rsplib.freshload).
        "pr_endpoint_keepalive_ms": str(site.endpoint_keepalive_ms(registrar) or 0),
    })


def pe_group_params(site, name, group):
    # Registrars on the group's own VIM first: RSPLIB tries them in order and
    # "auto" takes the local address towards the first one.
    registrars = sorted(site.pool.registrars, key=lambda r: r.vim != group.vim)
    return dict(pool_route_params(site, group.vim), **{
        "pool_handle": site.pool.handle,
        "pe_registrars": endpoint_list([r.address for r in registrars], ASAP_PORT),
        "pe_capacity": whole_number(group.capacity, "pool.pe_groups.{}.capacity".format(name)),
        "pe_max_jobs": group.max_jobs,
        "pe_load_increment": fraction_text(group.load_increment),
        "pe_local_address": AUTO,
    })


def additional_params(site, reveal_secrets):
    """{member-vnf-index: {param: value}} for every member of the NS.

    K and OP are only revealed when ``reveal_secrets`` is true (the real
    ns-create config); otherwise they read REDACTED, for dry-runs and logs.
    """
    registrars = {r.name: r for r in site.pool.registrars}
    out = {}
    for member in members(site):
        if member.kind == EPC:
            params = epc_params(site, reveal_secrets)
        elif member.kind == REGISTRAR:
            params = registrar_params(site, registrars[member.role])
        elif member.kind == PE_GROUP:
            params = pe_group_params(site, member.role, site.pool.pe_groups[member.role])
        else:  # pragma: no cover - members() only makes the three kinds
            raise AssertionError(member.kind)
        bad = [key for key in params if not PARAM_KEY.match(key)]
        if bad:  # pragma: no cover - the names above are fixed
            raise AssertionError("invalid additionalParams keys {}".format(bad))
        out[member.index] = params
    return out


def _catalog_entry(descriptor):
    """The inner VNFD/NSD dict of a catalog document or of a bare descriptor."""
    for envelope, key in (("vnfd:vnfd-catalog", "vnfd"), ("nsd:nsd-catalog", "nsd")):
        if isinstance(descriptor, dict) and envelope in descriptor:
            return descriptor[envelope][key][0]
    return descriptor


def _configurations(descriptor):
    yield descriptor.get("vnf-configuration") or {}
    for vdu in descriptor.get("vdu") or []:
        yield vdu.get("vdu-configuration") or {}


def placeholder(value):
    """``name`` for a ``<name>`` value, else None."""
    if isinstance(value, str):
        match = PLACEHOLDER.match(value)
        if match:
            return match.group(1)
    return None


def required_params(descriptor, include_day2=False):
    """Every ``<x>`` in the initial-config-primitive values of a VNFD (what
    the NBI checks at ns-create), minus those OSM fills itself; with
    ``include_day2`` also the ``<x>`` defaults of config-primitives."""
    descriptor = _catalog_entry(descriptor)
    names = set()
    for config in _configurations(descriptor):
        for primitive in config.get("initial-config-primitive") or []:
            for parameter in primitive.get("parameter") or []:
                name = placeholder(parameter.get("value"))
                if name is not None:
                    names.add(name)
        if include_day2:
            for primitive in config.get("config-primitive") or []:
                for parameter in primitive.get("parameter") or []:
                    name = placeholder(parameter.get("default-value"))
                    if name is not None:
                        names.add(name)
    return names - OSM_PROVIDED


def cloud_init_params(text):
    """The variables OSM's jinja2 rendering of a cloud-init file needs (LCM
    parses it with a default Environment and requires each in additionalParams)."""
    return set(jinja2.meta.find_undeclared_variables(jinja2.Environment().parse(text)))


def package_params(path):
    """{vnfd id: every additionalParam the package needs} for a built VNF
    package (directory or .tar.gz): primitives (day 1 and 2) and cloud-init."""
    files = _read_package(Path(path))
    descriptors = [name for name in files if name.count("/") == 1 and name.endswith((".yaml", ".yml"))]
    if len(descriptors) != 1:
        raise ValueError("{}: expected one descriptor at depth 2, found {}".format(path, descriptors or "none"))
    document = yaml.safe_load(files[descriptors[0]])
    if "vnfd:vnfd-catalog" not in document:
        return {}
    vnfd = _catalog_entry(document)
    names = required_params(vnfd, include_day2=True)
    top = descriptors[0].split("/")[0]
    for vdu in vnfd.get("vdu") or []:
        if vdu.get("cloud-init-file"):
            names |= cloud_init_params(files["{}/cloud_init/{}".format(top, vdu["cloud-init-file"])])
    return {vnfd["id"]: names}


def _read_package(path):
    """{relative name: text} of the YAML and cloud-init files of a package."""
    wanted = re.compile(r"^[^/]+/([^/]+\.ya?ml|cloud_init/.+)$")
    out = {}
    if path.is_dir():
        for file in sorted(path.rglob("*")):
            name = "{}/{}".format(path.name, file.relative_to(path).as_posix())
            if file.is_file() and wanted.match(name):
                out[name] = file.read_text(encoding="utf-8")
        return out
    with tarfile.open(str(path), "r:gz") as archive:
        for member in archive.getmembers():
            if member.isfile() and wanted.match(member.name):
                out[member.name] = archive.extractfile(member).read().decode("utf-8")
    return out
