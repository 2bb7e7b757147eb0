"""The SPGW-U workload on a fake VDU: spgw_u.conf, SGi routing scripts run for real."""

import os
import socket
import stat
import subprocess

import libconf
import pytest

import charmtest
import epc_fakes
from charmhelpers_mecpool import budget
from charmhelpers_mecpool.errors import MecpoolError, ValidationError, WaitTimeout
from charmhelpers_mecpool.peerstart import Step

spgwu = charmtest.load_charm_module("oai-spgwu", "spgwu_workload")

SPGWC = "172.55.55.101"
PARAMS = {"git-repository": "https://github.com/simula/openairinterface-openair-spgwu-tiny.git",
          "git-commit": "dreibh/tx-checksum-ip-generic-off", "s1u-address": "192.168.248.159/24",
          "sx-address": "172.55.55.102/24", "sgi-address": "10.254.1.203/24",
          "sgi-gateway": "10.254.1.1", "spgwc-list": SPGWC, "pdn-network": "12.1.1.0/24",
          "nat": True}


class SpgwcPeers(object):
    """PFCP heartbeat answers per SPGW-C address."""

    def __init__(self):
        self.up = {SPGWC}
        self.calls = []

    def __call__(self, peer, source=None):
        self.calls.append((peer, source))
        if peer not in self.up:
            raise socket.timeout("no PFCP Heartbeat Response from {}:8805".format(peer))
        return 3899999999


@pytest.fixture
def vdu(tmp_path):
    host = epc_fakes.FakeHost(tmp_path, interfaces={
        "ens3": ["10.0.0.8/24"], "ens4": ["172.55.55.102/24"], "ens5": ["192.168.248.159/24"],
        "ens6": ["10.254.1.203/24"]})
    host.clock = epc_fakes.FakeClock()
    host.peers = SpgwcPeers()

    def build(argv, kwargs):
        host.make_file(spgwu.BINARY, "elf")
        return 0, "", ""
    host.runner.on(["./build_spgwu", "-c"], handler=build)
    host.on_start = {"spgwu.service": [("udp", "192.168.248.159", 2152),
                                       ("udp", "172.55.55.102", 8805)]}
    host.builds = epc_fakes.FakeBuildRunner(host, host.clock)
    epc_fakes.install_templates(host.path(spgwu.SOURCE_DIR), "spgwu")
    host.workload = spgwu.SpgwuWorkload(build_runner=host.builds, run=host.runner, root=host.root,
                                        mac_lookup=lambda a: None, sleep=host.clock.sleep,
                                        clock=host.clock, heartbeat=host.peers)
    return host


def configure(vdu, **changes):
    return vdu.workload.configure(spgwu.parse_configure(dict(PARAMS, **changes)))


@pytest.mark.parametrize("param,value", [
    ("s1u-address", "192.168.248.159"), ("sgi-gateway", "10.254.2.1"),
    ("sgi-gateway", "10.254.1.203"), ("spgwc-list", "172.55.55.101,x"),
    ("spgwc-list", "172.55.55.102"), ("pdn-network", "12.1.1.1/24"),
    ("pdn-network", "10.254.1.0/25"), ("nat", "maybe"), ("git-repository", "file.txt")])
def test_parse_configure_rejects_each_bad_param(param, value):
    with pytest.raises(ValidationError) as info:
        spgwu.parse_configure(dict(PARAMS, **{param: value}))
    assert info.value.param == param


def test_parse_configure_accepts_string_booleans_and_lists():
    config = spgwu.parse_configure(dict(PARAMS, nat="false",
                                        **{"spgwc-list": "172.55.55.101, 172.55.55.103"}))
    assert config["nat"] is False and config["spgwc-list"] == ["172.55.55.101", "172.55.55.103"]


def test_configure_renders_routes_and_starts_after_pfcp(vdu):
    results = configure(vdu)
    assert results == {"s1u-interface": "ens5", "sx-interface": "ens4", "sgi-interface": "ens6",
                       "commit": vdu.commit, "built": "true", "restarted": "true",
                       "pending-start": "false", "layout": "pdn-device"}
    with open(vdu.path("/usr/local/etc/oai/spgw_u.conf")) as handle:
        conf = libconf.load(handle)["SPGW-U"]
    assert conf["INTERFACES"]["S1U_S12_S4_UP"] == {"INTERFACE_NAME": "ens5",
                                                   "IPV4_ADDRESS": "read"}
    assert conf["INTERFACES"]["SX"]["INTERFACE_NAME"] == "ens4"
    assert conf["INTERFACES"]["SGI"]["INTERFACE_NAME"] == "ens6"
    assert [dict(p) for p in conf["PDN_NETWORK_LIST"]] == [
        {"NETWORK_IPV4": "12.1.1.0/24", "SNAT": "yes"}]
    assert [dict(p) for p in conf["SPGW-C_LIST"]] == [{"IPV4_ADDRESS": SPGWC}]
    assert vdu.peers.calls == [(SPGWC, "172.55.55.102")]
    argvs = vdu.runner.argvs
    routable = vdu.path("/etc/networkd-dispatcher/routable.d/60-mecpool-sgi")
    off = vdu.path("/etc/networkd-dispatcher/off.d/60-mecpool-sgi")
    assert stat.S_IMODE(os.stat(routable).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(off).st_mode) == 0o755
    applied = [(a, kw) for a, kw in vdu.runner.calls if a == ["/bin/sh", routable]]
    assert applied and applied[0][1]["env"] == {"IFACE": "ens6"}
    assert argvs.index(["/bin/sh", routable]) < argvs.index(["systemctl", "restart",
                                                             "spgwu.service"])
    unit = open(vdu.path("/etc/systemd/system/spgwu.service")).read()
    assert "/usr/local/bin/spgwu -c {} -o".format(vdu.path("/usr/local/etc/oai/spgw_u.conf")) \
        in unit


def test_nat_off_and_several_spgwc(vdu):
    vdu.peers.up.add("172.55.55.103")
    configure(vdu, nat=False, **{"spgwc-list": "172.55.55.101,172.55.55.103"})
    with open(vdu.path("/usr/local/etc/oai/spgw_u.conf")) as handle:
        conf = libconf.load(handle)["SPGW-U"]
    assert conf["PDN_NETWORK_LIST"][0]["SNAT"] == "no"
    assert [p["IPV4_ADDRESS"] for p in conf["SPGW-C_LIST"]] == [SPGWC, "172.55.55.103"]
    assert [c[0] for c in vdu.peers.calls] == [SPGWC, "172.55.55.103"]


def run_script(tmp_path, script, iface):
    """Run a dispatcher script with a fake `ip` that logs its arguments."""
    bindir = tmp_path / "fakebin"
    bindir.mkdir(exist_ok=True)
    log = tmp_path / "ip.log"
    (bindir / "ip").write_text('#!/bin/sh\necho "$*" >> {}\n'
                               'case "$1 $2" in "rule del") exit 2;; esac\nexit 0\n'.format(log))
    os.chmod(str(bindir / "ip"), 0o755)
    if log.exists():
        log.unlink()
    env = {"PATH": "{}:/usr/bin:/bin".format(bindir), "IFACE": iface}
    subprocess.run(["/bin/sh", script], env=env, check=True)
    return log.read_text().splitlines() if log.exists() else []


def test_routing_scripts_act_on_the_sgi_interface_only(vdu, tmp_path):
    """Where the routes go is checked in a real namespace (test_oai_spgwu_routing.py);
    here: the scripts the workload writes touch nothing for another interface."""
    configure(vdu)
    routable = vdu.path("/etc/networkd-dispatcher/routable.d/60-mecpool-sgi")
    off = vdu.path("/etc/networkd-dispatcher/off.d/60-mecpool-sgi")
    for script in (routable, off):
        assert subprocess.run(["/bin/sh", "-n", script]).returncode == 0
        assert run_script(tmp_path, script, "ens3") == []
        assert run_script(tmp_path, script, "ens6") != []


def test_configure_twice_changes_nothing(vdu):
    configure(vdu)
    vdu.runner.calls.clear()
    vdu.peers.calls.clear()
    assert configure(vdu)["restarted"] == "false"
    assert not any(a[:2] == ["systemctl", "restart"] or a[0] in ("/bin/sh", "./build_spgwu")
                   for a in vdu.runner.argvs)
    assert vdu.peers.calls == []


def test_spgwc_silent_defers_start_until_update_status(vdu):
    vdu.peers.up.clear()
    results = configure(vdu)
    assert results["pending-start"] == "true" and results["restarted"] == "false"
    assert results["waiting-for"].startswith("SPGW-C PFCP 172.55.55.101:8805 (run wait-peer")
    assert vdu.peers.calls == [(SPGWC, "172.55.55.102")]  # one heartbeat, no wait
    assert ["systemctl", "restart", "spgwu.service"] not in vdu.runner.argvs
    assert vdu.workload.status()[0] == "waiting"
    assert vdu.workload.resume() is False
    vdu.peers.up.add(SPGWC)
    assert vdu.workload.resume() is True
    assert ["systemctl", "restart", "spgwu.service"] in vdu.runner.argvs
    kind, message = vdu.workload.status()
    assert kind == "active" and "PDN 12.1.1.0/24 with NAT" in message


def test_report_and_restart(vdu):
    with pytest.raises(MecpoolError):
        vdu.workload.report()
    configure(vdu)
    vdu.runner.on(["ip", "-j", "link", "show", "dev", "pdn"],
                  stdout='[{"ifname":"pdn","flags":["BROADCAST","NOARP","UP","LOWER_UP"]}]')
    vdu.runner.on(["iptables-save", "-t", "nat"], stdout=(
        "*nat\n-A POSTROUTING -s 12.1.1.0/24 -o ens6 -j SNAT --to-source 10.254.1.203\n"
        "COMMIT\n"))
    vdu.make_file("/proc/sys/net/ipv4/ip_forward", "1\n")
    assert vdu.workload.report() == {
        "service": "active", "enabled": "true", "pending-start": "false",
        "s1u-listening": "true", "s1u-address": "192.168.248.159:2152",
        "sx-listening": "true", "sx-address": "172.55.55.102:8805", "spgwc-list": SPGWC,
        "pdn-device": "pdn", "pdn-up": "true", "pdn-network": "12.1.1.0/24", "nat": "true", "snat-rule": "true",
        "ip-forward": "true", "commit": vdu.commit}
    vdu.runner.calls.clear()
    vdu.workload.restart(30)
    assert vdu.runner.argvs.count(["systemctl", "restart", "spgwu.service"]) == 1
    vdu.peers.up.clear()
    with pytest.raises(WaitTimeout):
        vdu.workload.restart(30)


# ---- wait-peer: the day-1 steps after configure (charmhelpers_mecpool.peerstart) ----
SECOND = "172.55.55.103"


def pending_with_two_spgwc(vdu):
    """configure while the second SPGW-C is still building: succeeds, start pending."""
    results = configure(vdu, **{"spgwc-list": SPGWC + "," + SECOND})
    assert results["pending-start"] == "true"
    assert results["waiting-for"].startswith(
        "SPGW-C PFCP 172.55.55.101:8805, 172.55.55.103:8805 (run wait-peer")
    vdu.runner.calls.clear()
    return vdu


def restarts(vdu):
    return vdu.runner.argvs.count(["systemctl", "restart", "spgwu.service"])


def test_wait_peer_steps_wait_until_every_spgwc_answers(vdu):
    pending_with_two_spgwc(vdu)
    started = vdu.clock.now
    results = vdu.workload.wait_peer(Step(1, 10))
    assert results["started"] == "no" and results["message"] == (
        "still waiting for SPGW-C PFCP 172.55.55.101:8805, 172.55.55.103:8805, step 1/10")
    assert budget.PEER_WAIT_STEP <= vdu.clock.now - started <= budget.PEER_WAIT_STEP + 10
    assert restarts(vdu) == 0 and vdu.workload.status()[0] == "waiting"
    vdu.peers.up.add(SECOND)
    assert vdu.workload.wait_peer(Step(2, 10))["started"] == "yes"
    assert restarts(vdu) == 1
    assert vdu.workload.status()[0] == "active"
    vdu.peers.calls.clear()
    assert vdu.workload.wait_peer(Step(3, 10))["started"] == "already"
    assert vdu.peers.calls == [] and restarts(vdu) == 1


def test_wait_peer_last_step_fails_naming_the_silent_spgwc(vdu):
    pending_with_two_spgwc(vdu)
    with pytest.raises(WaitTimeout) as info:
        vdu.workload.wait_peer(Step(10, 10))
    text = str(info.value)
    assert text.startswith("wait-peer step 10/10: SPGW-C PFCP 172.55.55.101:8805, "
                           "172.55.55.103:8805 did not answer (")
    assert "SPGW-C PFCP 172.55.55.103:8805 not reachable" in text
    assert "spgwu.service stays stopped" in text
    assert restarts(vdu) == 0


def test_wait_peer_after_a_reboot_in_the_middle_continues(vdu):
    pending_with_two_spgwc(vdu)
    vdu.workload = spgwu.SpgwuWorkload(build_runner=vdu.builds, run=vdu.runner, root=vdu.root,
                                       mac_lookup=lambda a: None, sleep=vdu.clock.sleep,
                                       clock=vdu.clock, heartbeat=vdu.peers)
    vdu.workload.start()
    assert restarts(vdu) == 0
    assert vdu.workload.wait_peer(Step(4, 10))["started"] == "no"
    vdu.peers.up.add(SECOND)
    assert vdu.workload.wait_peer(Step(5, 10))["started"] == "yes"
    assert restarts(vdu) == 1
