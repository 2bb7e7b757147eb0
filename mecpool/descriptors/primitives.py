"""The day-1 and day-2 primitives of every charm, as data.

This is the primitive contract of docs/architecture.md in one table, so the
descriptor templates, the OSM ``additionalParams`` and the validator all read
the same names.  Each day-1 parameter names the ``additionalParams`` key whose
value OSM substitutes for ``<key>``; day-2 parameters default to that same
value (OSM resolves a ``<key>`` default from the instantiation parameters), so
a day-2 action needs only what changes and secrets are never typed again.

Format-neutral: a SOL006 renderer reads the same table.
"""

from collections import namedtuple

STRING, INTEGER, BOOLEAN = "STRING", "INTEGER", "BOOLEAN"

# name: the charm's (hyphenated) action parameter; param: the additionalParams key,
# or None for a fixed ``value`` written into the descriptor (LCM v8.0's
# _map_primitive_params passes a value that is not "<key>" as it is, as a string).
Param = namedtuple("Param", "name data_type param value")
Primitive = namedtuple("Primitive", "name params")
CharmPrimitives = namedtuple("CharmPrimitives", "day1 day2")

# Parameters that OSM fills itself; they are never in additionalParams.
OSM_PROVIDED = frozenset({"rw_mgmt_ip", "VDU_SCALE_INFO", "ns_config_info"})

# The primitive named "config" becomes charm config, not an action.
CONFIG_PRIMITIVE = "config"


def _p(name, data_type, param):
    return Param(name, data_type, param, None)


def _fixed(name, data_type, value):
    return Param(name, data_type, None, value)


def _git(vdu):
    return [_p("git-repository", STRING, vdu + "_git_repository"),
            _p("git-commit", STRING, vdu + "_git_commit")]


# The OAI day-1 sequence (docs/epc.md): `build` starts the build as a service and
# returns; each `wait-build` watches it for at most 7 minutes (the charms' budget
# module: BUILD_WAIT_STEP inside a 9-minute primitive budget, below LCM v8.0's 10
# minutes without progress); `configure` does not wait for the build, only for
# its own services.  The counts bound a first build from source on 4 vCPUs
# (HSS: freeDiameter, c-ares, cpp-driver, pistache, longest; Cassandra is installed by
# `build` from packages): 70, 49, 42, 42 min.
WAIT_BUILD_STEPS = {"hss": 10, "mme": 7, "spgwc": 6, "spgwu": 6}
# OSM LCM v8.0 (osm_lcm/ns.py, NsLcm; branch v8.0 and tags v8.0.0, v8.0.1): what
# one primitive may take in all, and without a change of its Juju action.
LCM_TIMEOUT_PRIMITIVE = 30 * 60
LCM_TIMEOUT_PROGRESS_PRIMITIVE = 10 * 60
# The charms' time constants (charms/lib/charmhelpers_mecpool/budget.py; the
# timing test checks that both agree): a primitive's budget, one wait-build at its
# longest (step + one poll), one wait-peer step's wait for the peer.
CHARM_PRIMITIVE_BUDGET = 9 * 60
CHARM_WAIT_BUILD_LONGEST = 7 * 60 + 15
CHARM_PEER_WAIT_STEP = 390
# LCM v8.0's timeout_ns_deploy runs from the NS tasks' start: VM creation, Juju's SSH
# provisioning and the charm deployment come before `build` (taken as 15 min).  The
# charms' day-1 wait-peer steps give up CHARM_DAY1_PEER_DEADLINE after `build` started
# (budget.DAY1_PEER_DEADLINE), so a peer that never answers is reported before LCM's
# timeout, however long this VDU's own build took.
LCM_TIMEOUT_NS_DEPLOY = 2 * 3600
DEPLOY_OVERHEAD = 15 * 60
CHARM_DAY1_PEER_DEADLINE = LCM_TIMEOUT_NS_DEPLOY - DEPLOY_OVERHEAD - CHARM_PRIMITIVE_BUDGET

# LCM v8.0 runs every VDU's day-1 list as its own task, side by side (docs/epc.md):
# the MME's configure may come while the HSS still builds, the SPGW-U's while the
# SPGW-C does.  So configure leaves the start pending and M `wait-peer` steps
# follow it; M covers the peer's worst case from the NS start (build, every
# wait-build, configure), assuming nothing for this VDU's own build.
PEERS = {"mme": "hss", "spgwu": "spgwc"}


def peer_ready_by(vdu):
    """Seconds from the NS start by which ``vdu``'s service answers, at the latest:
    its build, N wait-builds and configure, each at its longest."""
    return (CHARM_PRIMITIVE_BUDGET + WAIT_BUILD_STEPS[vdu] * CHARM_WAIT_BUILD_LONGEST
            + CHARM_PRIMITIVE_BUDGET)


WAIT_PEER_STEPS = {vdu: -(-peer_ready_by(peer) // CHARM_PEER_WAIT_STEP)
                   for vdu, peer in PEERS.items()}   # mme 14, spgwu 10


def _build_then(vdu, *rest):
    """build, wait-build x N, then the VDU's own day-1 primitives (configure first),
    then wait-peer x M where the VDU's service waits for a peer."""
    build = _build(vdu)
    waits = [Primitive("wait-build", []) for _ in range(WAIT_BUILD_STEPS[vdu])]
    steps = WAIT_PEER_STEPS.get(vdu, 0)
    peer_waits = [_wait_peer("{}/{}".format(i, steps)) for i in range(1, steps + 1)]
    return [build] + waits + list(rest) + peer_waits


def _build(vdu):
    """build: the OAI sources; the HSS's also names the Cassandra source (its
    charm installs Java and Cassandra itself, not through OAI's build_cassandra),
    the SPGW-C's and SPGW-U's the spdlog commit."""
    extra = []
    if vdu == "hss":
        extra = [_p("cassandra-apt", STRING, "cassandra_apt"),
                 _p("cassandra-key-url", STRING, "cassandra_key_url")]
    elif vdu in ("spgwc", "spgwu"):   # OAI's build script would check out spdlog's master
        extra = [_p("spdlog-commit", STRING, "spdlog_commit")]
    return Primitive("build", _git(vdu) + extra)


def _wait_peer(step):
    """wait-peer with its fixed "i/n" (the charm's last step fails, the others wait)."""
    return Primitive("wait-peer", [_fixed("step", STRING, step)])


_HSS_CONFIGURE = Primitive("configure", _git("hss") + [
    _p("realm", STRING, "realm"),
    _p("s6a-address", STRING, "hss_s6a_address"),
    _p("mme-s6a-address", STRING, "mme_s6a_address"),
    _p("op", STRING, "op"),
    _p("apn", STRING, "apn"),
    _p("apn2", STRING, "apn2"),
])
_HSS_PROVISION = Primitive("provision-subscribers", [
    _p("imsi-first", STRING, "imsi_first"),
    _p("msisdn-first", STRING, "msisdn_first"),
    _p("users", INTEGER, "users"),
    _p("k", STRING, "k"),
    _p("op", STRING, "op"),
])
_MME_CONFIGURE = Primitive("configure", _git("mme") + [
    _p("realm", STRING, "realm"),
    _p("mcc", STRING, "mcc"),
    _p("mnc", STRING, "mnc"),
    _p("tac", INTEGER, "tac"),
    _p("s1c-address", STRING, "mme_s1c_cidr"),
    _p("s11-address", STRING, "mme_s11_cidr"),
    _p("s6a-address", STRING, "mme_s6a_address"),
    _p("hss-s6a-address", STRING, "hss_s6a_address"),
    _p("spgwc-s11-address", STRING, "spgwc_s11_address"),
])
_SPGWC_CONFIGURE = Primitive("configure", _git("spgwc") + [
    _p("realm", STRING, "realm"),
    _p("dns1", STRING, "dns1"),
    _p("dns2", STRING, "dns2"),
    _p("s11-address", STRING, "spgwc_s11_cidr"),
    _p("sx-address", STRING, "spgwc_sxab_cidr"),
    _p("ue-pool", STRING, "ue_pool"),
    _p("apn", STRING, "apn"),
    _p("apn2", STRING, "apn2"),
])
_SPGWU_CONFIGURE = Primitive("configure", _git("spgwu") + [
    _p("s1u-address", STRING, "spgwu_s1u_cidr"),
    _p("sx-address", STRING, "spgwu_sxab_cidr"),
    _p("sgi-address", STRING, "spgwu_sgi_cidr"),
    _p("sgi-gateway", STRING, "sgi_gateway"),
    _p("spgwc-list", STRING, "spgwc_list"),
    _p("pdn-network", STRING, "pdn_network"),
    _p("nat", BOOLEAN, "nat"),
])
_PR_CONFIG = Primitive(CONFIG_PRIMITIVE, [
    _p("identifier", INTEGER, "pr_identifier"),
    _p("loglevel", INTEGER, "pr_loglevel"),
    _p("endpoint-keepalive-ms", INTEGER, "pr_endpoint_keepalive_ms"),
])
_PR_CONFIGURE = Primitive("configure", [
    _p("address", STRING, "pr_address"),
    _p("peers", STRING, "pr_peers"),
])
_PE_CONFIGURE = Primitive("configure", [
    _p("pool-handle", STRING, "pool_handle"),
    _p("registrars", STRING, "pe_registrars"),
    _p("capacity", INTEGER, "pe_capacity"),
    _p("max-jobs", INTEGER, "pe_max_jobs"),
    _p("load-increment", STRING, "pe_load_increment"),
    _p("local-address", STRING, "pe_local_address"),
])
_PE_RECONFIGURE = Primitive("reconfigure", [
    _p("capacity", INTEGER, "pe_capacity"),
    _p("max-jobs", INTEGER, "pe_max_jobs"),
    _p("load-increment", STRING, "pe_load_increment"),
])


def _plain(*names):
    return [Primitive(name, []) for name in names]


def _oai_day2(vdu, *own):
    """An OAI VDU's day-2 primitives: every day-1 one too (build, wait-build, configure,
    ...), so that an operator (or `mecpool epc-resume`) can finish or redo a failed day 1
    with `osm ns-action` (R8 runs no remaining day-1 primitive after one failed), then
    restart and status.  Day-2 parameters default to the instantiation's values."""
    return [_build(vdu)] + _plain("wait-build") + list(own) + _plain("restart", "status")


CHARMS = {
    "oai-hss": CharmPrimitives(_build_then("hss", _HSS_CONFIGURE, _HSS_PROVISION),
                               _oai_day2("hss", _HSS_CONFIGURE, _HSS_PROVISION)),
    "oai-mme": CharmPrimitives(_build_then("mme", _MME_CONFIGURE),
                               _oai_day2("mme", _MME_CONFIGURE, _wait_peer("1/1"))),
    "oai-spgwc": CharmPrimitives(_build_then("spgwc", _SPGWC_CONFIGURE),
                                 _oai_day2("spgwc", _SPGWC_CONFIGURE)),
    "oai-spgwu": CharmPrimitives(_build_then("spgwu", _SPGWU_CONFIGURE),
                                 _oai_day2("spgwu", _SPGWU_CONFIGURE, _wait_peer("1/1"))),
    "rsp-registrar": CharmPrimitives([_PR_CONFIG, _PR_CONFIGURE], _plain("restart", "pool-status")),
    "rsp-pool-element": CharmPrimitives([_PE_CONFIGURE],
                                        [_PE_RECONFIGURE] + _plain("restart", "pe-status")),
}


def params_of(charm):
    """Every additionalParams key the primitives of ``charm`` use, in order."""
    seen = []
    primitives = CHARMS[charm]
    for primitive in primitives.day1 + primitives.day2:
        for param in primitive.params:
            if param.param is not None and param.param not in seen:
                seen.append(param.param)
    return seen
