"""The SPGW-C workload on a fake VDU: spgw_c.conf parsed back with libconf."""

import ipaddress
import os

import libconf
import pytest
import yaml

import charmtest
import epc_fakes
from charmhelpers_mecpool.errors import MecpoolError, ValidationError, WaitTimeout

spgwc = charmtest.load_charm_module("oai-spgwc", "spgwc_workload")

PARAMS = {"git-repository": "https://github.com/simula/openairinterface-openair-spgwc.git",
          "git-commit": "2020.w36", "realm": "simula.nornet", "dns1": "8.8.8.8",
          "dns2": "8.8.4.4", "s11-address": "172.16.1.104/24", "sx-address": "172.55.55.101/24",
          "ue-pool": "12.1.1.0/24", "apn": "default", "apn2": "internet"}


@pytest.fixture
def vdu(tmp_path):
    host = epc_fakes.FakeHost(tmp_path, interfaces={
        "ens3": ["10.0.0.7/24"], "ens4": ["172.55.55.101/24"], "ens5": ["172.16.1.104/24"]})
    host.clock = epc_fakes.FakeClock()

    def build(argv, kwargs):
        host.make_file(spgwc.BINARY, "elf")
        return 0, "", ""
    host.runner.on(["./build_spgwc", "-c"], handler=build)
    host.on_start = {"spgwc.service": [("udp", "172.16.1.104", 2123),
                                       ("udp", "172.55.55.101", 8805)]}
    host.builds = epc_fakes.FakeBuildRunner(host, host.clock)
    epc_fakes.install_templates(host.path(spgwc.SOURCE_DIR), "spgwc")
    host.workload = spgwc.SpgwcWorkload(build_runner=host.builds, run=host.runner, root=host.root,
                                        mac_lookup=lambda a: None, sleep=host.clock.sleep,
                                        clock=host.clock)
    return host


def configure(vdu, **changes):
    return vdu.workload.configure(spgwc.parse_configure(dict(PARAMS, **changes)))


def test_ue_pools_split_the_network_after_the_gateway():
    assert spgwc.ue_pools(ipaddress.IPv4Network("12.1.1.0/24")) == [
        ("12.1.1.2", "12.1.1.128"), ("12.1.1.129", "12.1.1.254")]
    assert spgwc.ue_pools(ipaddress.IPv4Network("10.0.0.0/29")) == [
        ("10.0.0.2", "10.0.0.4"), ("10.0.0.5", "10.0.0.6")]


@pytest.mark.parametrize("param,value", [
    ("dns1", "8.8.8"), ("dns2", ""), ("s11-address", "172.16.1.104"),
    ("sx-address", "172.55.55.0/24"), ("ue-pool", "12.1.1.1/24"), ("ue-pool", "12.1.1.0/30"),
    ("ue-pool", "172.16.1.0/24"), ("apn", "-x"), ("apn2", "default"), ("realm", "x")])
def test_parse_configure_rejects_each_bad_param(param, value):
    with pytest.raises(ValidationError) as info:
        spgwc.parse_configure(dict(PARAMS, **{param: value}))
    assert info.value.param == ("ue-pool" if value == "172.16.1.0/24" else param)


def test_configure_renders_and_starts(vdu):
    results = configure(vdu)
    assert results == {"s11-interface": "ens5", "sx-interface": "ens4", "commit": vdu.commit,
                       "built": "true", "restarted": "true",
                       "ue-pools": "12.1.1.2-12.1.1.128,12.1.1.129-12.1.1.254",
                       "layout": "spgwc-2020"}
    steps = [(a, kw["cwd"]) for a, kw in vdu.runner.calls if a[0] == "./build_spgwc"]
    src = vdu.path(spgwc.SOURCE_DIR) + "/build/scripts"
    assert steps == [(["./build_spgwc", "-I", "-f"], src),
                     (["./build_spgwc", "-c", "-V", "-b", "Debug", "-j"], src)]
    with open(vdu.path("/usr/local/etc/oai/spgw_c.conf")) as handle:
        conf = libconf.load(handle)
    sgw, pgw = conf["S-GW"], conf["P-GW"]
    assert sgw["INTERFACES"]["S11_CP"] == {"INTERFACE_NAME": "ens5", "IPV4_ADDRESS": "read"}
    assert sgw["INTERFACES"]["S5_S8_CP"] == {"INTERFACE_NAME": "s5s8-sgw",
                                             "IPV4_ADDRESS": "read"}
    assert pgw["INTERFACES"]["S5_S8_CP"]["INTERFACE_NAME"] == "s5s8-pgw"
    assert pgw["INTERFACES"]["SX"] == {"INTERFACE_NAME": "ens4", "IPV4_ADDRESS": "read"}
    assert [p["RANGE"] for p in pgw["IP_ADDRESS_POOL"]["IPV4_LIST"]] == [
        "12.1.1.2 - 12.1.1.128", "12.1.1.129 - 12.1.1.254"]
    assert tuple(pgw["IP_ADDRESS_POOL"]["IPV6_LIST"]) == ()
    assert [dict(a) for a in pgw["APN_LIST"]] == [
        {"APN_NI": "default", "PDN_TYPE": "IPv4", "IPV4_POOL": 0, "IPV6_POOL": -1},
        {"APN_NI": "internet", "PDN_TYPE": "IPv4", "IPV4_POOL": 1, "IPV6_POOL": -1}]
    assert pgw["DEFAULT_DNS_IPV4_ADDRESS"] == "8.8.8.8"
    assert pgw["DEFAULT_DNS_SEC_IPV4_ADDRESS"] == "8.8.4.4"
    assert "UE_MTU" not in pgw and pgw["PCEF"]["APN_AMBR_UL"] == 500000  # not in the template
    for name, cidr in (("s5s8-sgw", "172.58.58.102/24"), ("s5s8-pgw", "172.58.58.101/24")):
        doc = yaml.safe_load(open(vdu.path("/etc/netplan/60-mecpool-{}.yaml".format(name))))
        assert doc["network"]["bridges"][name]["addresses"] == [cidr]
    unit = open(vdu.path("/etc/systemd/system/spgwc.service")).read()
    assert 'ExecStart=/bin/sh -c "exec /usr/local/bin/spgwc -c {} -o >>'.format(
        vdu.path("/usr/local/etc/oai/spgw_c.conf")) in unit
    assert ["systemctl", "restart", "spgwc.service"] in vdu.runner.argvs
    assert "172.16.1.104 spgwc.simula.nornet" in open(vdu.path("/etc/hosts")).read()


def test_configure_twice_changes_nothing(vdu):
    configure(vdu)
    conf = vdu.path("/usr/local/etc/oai/spgw_c.conf")
    before = (open(conf).read(), os.stat(conf).st_mtime_ns)
    vdu.runner.calls.clear()
    assert configure(vdu)["restarted"] == "false"
    assert not any(a[:2] in (["systemctl", "restart"], ["netplan", "apply"]) or
                   a[0] == "./build_spgwc" for a in vdu.runner.argvs)
    assert (open(conf).read(), os.stat(conf).st_mtime_ns) == before


def test_changed_dns_restarts(vdu):
    configure(vdu)
    vdu.runner.calls.clear()
    assert configure(vdu, dns2="1.1.1.1")["restarted"] == "true"


def test_not_listening_is_an_error(vdu):
    vdu.on_start["spgwc.service"] = [("udp", "172.16.1.104", 2123)]
    with pytest.raises(WaitTimeout) as info:
        configure(vdu)
    assert "PFCP 172.55.55.101:8805" in str(info.value)


def test_report_status_restart(vdu):
    assert vdu.workload.status() == ("blocked", "run the 'configure' action")
    with pytest.raises(MecpoolError):
        vdu.workload.restart()
    configure(vdu)
    assert vdu.workload.report() == {
        "service": "active", "enabled": "true", "s11-listening": "true",
        "s11-address": "172.16.1.104:2123", "sx-listening": "true",
        "sx-address": "172.55.55.101:8805", "apns": "default,internet",
        "ue-pool": "12.1.1.0/24", "dns": "8.8.8.8,8.8.4.4", "commit": vdu.commit}
    kind, message = vdu.workload.status()
    assert kind == "active" and "APNs default internet" in message
    report = vdu.workload.restart()
    assert "SPGW-U" in report["note"]
    vdu.active.clear()
    assert vdu.workload.status() == ("blocked", "spgwc.service is not active")
