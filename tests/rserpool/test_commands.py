"""The RSPLIB command-line generator: exact argv, explicit ports, and every rejection."""

import pytest

from mecpool.rserpool import (ConfigError, Endpoint, PoolElementConfig, PoolUserConfig,
                              RegistrarConfig, hsdump_argv, pool_element_argv, pool_user_argv,
                              registrar_argv)


def test_registrar_argv_has_explicit_ports_peers_and_no_announces():
    argv = registrar_argv(RegistrarConfig("10.1.0.10", peers=["10.2.0.10", "10.3.0.10:9902"],
                                          identifier=0x101, loglevel=3))
    assert argv == [
        "rspregistrar", "-asap=10.1.0.10:3863", "-enrp=10.1.0.10:9901",
        "-asapannounce=off", "-enrpannounce=off", "-loglevel=3", "-logcolor=off",
        "-peer=10.2.0.10:9901", "-peer=10.3.0.10:9902", "-identifier=0x00000101",
    ]


def test_registrar_endpoint_keepalive_is_passed_only_when_set():
    assert not any(a.startswith("-endpointkeepalive") for a in
                   registrar_argv(RegistrarConfig("10.1.0.10")))
    argv = registrar_argv(RegistrarConfig("10.1.0.10", endpoint_keepalive_ms=1000))
    assert argv[-1] == "-endpointkeepalivetransmissioninterval=1000"
    # 0, also as OSM's string "0" (cloud-init's settings): RSPLIB's default, no option.
    for default in (0, "0", ""):
        assert RegistrarConfig("10.1.0.10", endpoint_keepalive_ms=default).endpoint_keepalive_ms is None
    assert RegistrarConfig("10.1.0.10", endpoint_keepalive_ms="5000").endpoint_keepalive_ms == 5000


@pytest.mark.parametrize("value", [1, 299, "299", 300001, -1, "fast", 1.5, True])
def test_registrar_endpoint_keepalive_outside_rsplibs_range_is_refused(value):
    # rspregistrar silently clamps to 300..300000 ms; we refuse instead.
    with pytest.raises(ConfigError) as info:
        RegistrarConfig("10.1.0.10", endpoint_keepalive_ms=value)
    assert info.value.field == "registrar.endpoint_keepalive_ms"


def test_registrar_stats_need_both_file_and_interval():
    argv = registrar_argv(RegistrarConfig("10.1.0.10", statsfile="/tmp/pr.stats", statsinterval_ms=500))
    assert "-statsfile=/tmp/pr.stats" in argv and "-statsinterval=500" in argv


def test_pool_element_argv_plu_with_increment_and_explicit_local_port():
    config = PoolElementConfig("CalcAppPool", ["10.1.0.10", "10.2.0.10:3863"], "10.1.0.21",
                               capacity=1e6, max_jobs=4, load_increment=0.5, identifier="0x20",
                               object_name="pe-mec-1", scalar_file="/tmp/pe.sca", runtime_ms=60000)
    assert pool_element_argv(config) == [
        "rspserver", "-calcapp", "-poolhandle=CalcAppPool", "-local=10.1.0.21:9000",
        "-asapannounce=off", "-registrar=10.1.0.10:3863", "-registrar=10.2.0.10:3863",
        "-policy=PriorityLeastUsed:0.5", "-capcapacity=1000000", "-capmaxjobs=4",
        "-rereginterval=30000", "-loglevel=2", "-logcolor=off", "-identifier=0x00000020",
        "-capobject=pe-mec-1", "-capscalar=/tmp/pe.sca", "-runtime=60000",
    ]


@pytest.mark.parametrize("increment, text", [(0.1, "0.1"), (1, "1.0"), (0, "0.0"), (0.125, "0.125")])
def test_plu_increment_is_rendered_short_and_exact(increment, text):
    config = PoolElementConfig("P", ["10.0.0.1"], "10.0.0.2", load_increment=increment)
    assert "-policy=PriorityLeastUsed:" + text in pool_element_argv(config)


def test_other_policies_take_no_increment():
    config = PoolElementConfig("P", ["10.0.0.1"], "10.0.0.2", policy="LeastUsed", load_increment=None)
    assert "-policy=LeastUsed" in pool_element_argv(config)


def test_pool_user_argv_uses_no_registrar_timeouts():
    argv = pool_user_argv(PoolUserConfig("CalcAppPool", ["10.0.0.1"], job_interval_s=10,
                                         job_size=1e6, runtime_s=300, object_name="pu-1",
                                         scalar_file="/r/pu-1.sca", vector_file="/r/pu-1.vec"))
    assert argv == [
        "calcappclient", "-poolhandle=CalcAppPool", "-registrar=10.0.0.1:3863", "-asapannounce=off",
        "-jobinterval=10", "-jobsize=1000000", "-runtime=300", "-loglevel=1", "-logcolor=off",
        "-object=pu-1", "-scalar=/r/pu-1.sca", "-vector=/r/pu-1.vec",
    ]
    assert not any("timeout" in a for a in argv)


def test_hsdump_targets_the_enrp_port():
    assert hsdump_argv("10.1.0.10") == ["hsdump", "10.1.0.10:9901"]


def test_ipv6_endpoints_are_bracketed():
    assert str(Endpoint.parse("[fd00::1]:3863", 9)) == "[fd00::1]:3863"
    assert str(Endpoint.parse("fd00::1", 3863)) == "[fd00::1]:3863"


@pytest.mark.parametrize("build, field", [
    (lambda: RegistrarConfig("10.0.0.300"), "registrar.address"),
    (lambda: RegistrarConfig("10.0.0.1", peers=["10.0.0.1:9901"]), "registrar.peers"),
    (lambda: RegistrarConfig("10.0.0.1", peers=["10.0.0.2", "10.0.0.2:9901"]), "registrar.peers[1]"),
    (lambda: RegistrarConfig("10.0.0.1", loglevel=12), "registrar.loglevel"),
    (lambda: RegistrarConfig("10.0.0.1", identifier=0), "registrar.identifier"),
    (lambda: RegistrarConfig("10.0.0.1", logfile="/tmp/../etc/passwd"), "registrar.logfile"),
    (lambda: PoolElementConfig("bad handle;rm", ["10.0.0.1"], "10.0.0.2"), "pool_element.pool_handle"),
    (lambda: PoolElementConfig("P", [], "10.0.0.2"), "pool_element.registrars"),
    (lambda: PoolElementConfig("P", ["10.0.0.1:0"], "10.0.0.2"), "pool_element.registrars[0].port"),
    (lambda: PoolElementConfig("P", ["10.0.0.1"], "10.0.0.2", capacity=-5), "pool_element.capacity"),
    (lambda: PoolElementConfig("P", ["10.0.0.1"], "10.0.0.2", capacity=float("nan")), "pool_element.capacity"),
    (lambda: PoolElementConfig("P", ["10.0.0.1"], "10.0.0.2", max_jobs=True), "pool_element.max_jobs"),
    (lambda: PoolElementConfig("P", ["10.0.0.1"], "10.0.0.2", max_jobs=2.5), "pool_element.max_jobs"),
    (lambda: PoolElementConfig("P", ["10.0.0.1"], "10.0.0.2", load_increment=1.5),
     "pool_element.policy.load_increment"),
    (lambda: PoolElementConfig("P", ["10.0.0.1"], "10.0.0.2", load_increment=None),
     "pool_element.policy.load_increment"),
    (lambda: PoolElementConfig("P", ["10.0.0.1"], "10.0.0.2", policy="Fastest"), "pool_element.policy"),
    (lambda: PoolUserConfig("P", ["10.0.0.1"], job_size=0), "pool_user.job_size"),
    (lambda: PoolUserConfig("P", ["10.0.0.1"], object_name="a b"), "pool_user.object_name"),
])
def test_bad_values_are_rejected_naming_the_field(build, field):
    with pytest.raises(ConfigError) as caught:
        build()
    assert caught.value.field == field
    assert str(caught.value).startswith(field + ": ")
