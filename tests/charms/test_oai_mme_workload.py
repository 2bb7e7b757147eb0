"""The MME workload on a fake VDU: mme.conf parsed back with libconf, ordered start."""

import json
import os

import libconf
import pytest

import charmtest
import epc_fakes
from charmhelpers_mecpool import budget
from charmhelpers_mecpool.errors import MecpoolError, NotFound, ValidationError, WaitTimeout
from charmhelpers_mecpool.peerstart import Step, parse_step

mme = charmtest.load_charm_module("oai-mme", "mme_workload")

HSS = "172.16.6.129"
PARAMS = {"git-repository": "https://github.com/simula/openairinterface-openair-mme.git",
          "git-commit": "dreibh/asn1c-url-fix-14Oct2020", "realm": "simula.nornet",
          "mcc": "242", "mnc": "01", "tac": 600, "s1c-address": "192.168.247.102/24",
          "s11-address": "172.16.1.102/24", "s6a-address": "172.16.6.2",
          "hss-s6a-address": HSS, "spgwc-s11-address": "172.16.1.104"}


class Hss(object):
    """The HSS's TCP 3868 as the probe sees it; ``up_after``: up from that probe on."""

    def __init__(self):
        self.up = True
        self.up_after = None
        self.probes = []

    def __call__(self, host, port):
        self.probes.append((host, port))
        if self.up_after is not None and len(self.probes) >= self.up_after:
            self.up = True
        if not self.up:
            raise ConnectionRefusedError(111, "Connection refused")
        return True


@pytest.fixture
def vdu(tmp_path):
    host = epc_fakes.FakeHost(tmp_path, interfaces={
        "ens3": ["10.0.0.6/24"], "ens4": ["172.16.6.2/24"], "ens5": ["172.16.1.102/24"],
        "ens6": ["192.168.247.102/24"]})
    host.clock = epc_fakes.FakeClock()
    host.hss = Hss()

    def build(argv, kwargs):
        host.make_file(mme.BINARY, "elf")
        return 0, "", ""
    host.runner.on(["./build_mme", "--clean"], handler=build)
    host.on_start = {"mme.service": [("sctp", "192.168.247.102", 36412),
                                     ("udp", "172.16.1.102", 2123),
                                     ("tcp", "172.16.6.2", 3870)]}
    host.builds = epc_fakes.FakeBuildRunner(host, host.clock)
    epc_fakes.install_templates(host.path(mme.SOURCE_DIR), "mme")
    host.workload = mme.MmeWorkload(build_runner=host.builds, run=host.runner, root=host.root, mac_lookup=lambda a: None,
                                    sleep=host.clock.sleep, clock=host.clock, probe=host.hss,
                                    cert_bits=1024)
    return host


def configure(vdu, **changes):
    return vdu.workload.configure(mme.parse_configure(dict(PARAMS, **changes)))


def test_sgw_selection_id_for_the_tac_in_use():
    assert mme.sgw_selection_id("242", "88", 600) == \
        "tac-lb58.tac-hb02.tac.epc.mnc088.mcc242.3gppnetwork.org"
    assert mme.sgw_selection_id("001", "01", 1) == \
        "tac-lb01.tac-hb00.tac.epc.mnc001.mcc001.3gppnetwork.org"
    assert mme.sgw_selection_id("310", "410", 0xABCD) == \
        "tac-lbcd.tac-hbab.tac.epc.mnc410.mcc310.3gppnetwork.org"


@pytest.mark.parametrize("param,value", [
    ("mcc", "24"), ("mcc", 242), ("mnc", "1"), ("mnc", 1), ("tac", 0), ("tac", 65534),
    ("tac", "six"), ("s1c-address", "192.168.247.102"), ("s11-address", "172.16.1.0/24"),
    ("s6a-address", "x"), ("hss-s6a-address", "172.16.6.2"),
    ("spgwc-s11-address", "172.16.1.102"), ("realm", "a_b.org"), ("git-commit", "-x")])
def test_parse_configure_rejects_each_bad_param(param, value):
    with pytest.raises(ValidationError) as info:
        mme.parse_configure(dict(PARAMS, **{param: value}))
    assert info.value.param == param


def test_configure_renders_mme_conf_with_strings_and_starts(vdu):
    results = configure(vdu)
    assert results == {"s1c-interface": "ens6", "s11-interface": "ens5", "s6a-interface": "ens4",
                       "commit": vdu.commit, "built": "true", "restarted": "true", "pending-start": "false",
                       "sgw-selection": "tac-lb58.tac-hb02.tac.epc.mnc001.mcc242.3gppnetwork.org",
                       "layout": "mme-2020"}
    prefix = vdu.path("/usr/local/etc/oai")
    with open(prefix + "/mme.conf") as handle:
        conf = libconf.load(handle)["MME"]
    assert conf["REALM"] == "simula.nornet"
    assert conf["GUMMEI_LIST"][0] == {"MCC": "242", "MNC": "01", "MME_GID": "32768",
                                      "MME_CODE": "3"}
    assert conf["TAI_LIST"] == ({"MCC": "242", "MNC": "01", "TAC": "600"},)
    assert conf["S6A"] == {"S6A_CONF": prefix + "/freeDiameter/mme_fd.conf",
                           "HSS_HOSTNAME": "hss"}
    nif = conf["NETWORK_INTERFACES"]
    assert (nif["MME_INTERFACE_NAME_FOR_S1_MME"], nif["MME_IPV4_ADDRESS_FOR_S1_MME"]) == \
        ("ens6", "192.168.247.102/24")
    assert (nif["MME_INTERFACE_NAME_FOR_S11"], nif["MME_IPV4_ADDRESS_FOR_S11"]) == \
        ("ens5", "172.16.1.102/24")
    assert nif["MME_PORT_FOR_S11"] == 2123
    assert (nif["MME_INTERFACE_NAME_FOR_S10"], nif["MME_IPV4_ADDRESS_FOR_S10"]) == \
        ("s10-mme", "192.168.10.110/24")
    assert conf["WRR_LIST_SELECTION"] == ({
        "ID": "tac-lb58.tac-hb02.tac.epc.mnc001.mcc242.3gppnetwork.org",
        "SGW_IP_ADDRESS_FOR_S11": "172.16.1.104"},)
    assert conf["NAS"]["T3402"] == 12 and conf["LOGGING"]["OUTPUT"] == "CONSOLE"
    fd = open(prefix + "/freeDiameter/mme_fd.conf").read().splitlines()
    assert 'Identity = "mme.simula.nornet";' in fd
    assert 'ListenOn = "172.16.6.2";' in fd and "Port = 3870;" in fd
    assert ('ConnectPeer = "hss.simula.nornet" { ConnectTo = "172.16.6.129"; No_SCTP; '
            'No_IPv6; Prefer_TCP; No_TLS; port = 3868; realm = "simula.nornet"; };') in fd
    assert 'TLS_CA = "{}/freeDiameter/mme.cacert.pem";'.format(prefix) in fd
    assert os.path.isfile(prefix + "/freeDiameter/mme.cert.pem")
    hosts = open(vdu.path("/etc/hosts")).read()
    assert "172.16.6.2 mme.simula.nornet mme\n" in hosts
    assert "172.16.6.129 hss.simula.nornet hss\n" in hosts
    unit = open(vdu.path("/etc/systemd/system/mme.service")).read()
    assert "ExecStartPre=-/sbin/modprobe sctp\n" in unit
    assert 'ExecStart=/bin/sh -c "exec /usr/local/bin/mme -c {}/mme.conf >>'.format(prefix) \
        in unit
    bridge = open(vdu.path("/etc/netplan/60-mecpool-s10-mme.yaml")).read()
    assert "192.168.10.110/24" in bridge
    assert vdu.hss.probes == [(HSS, 3868)]
    argvs = vdu.runner.argvs
    assert argvs.index(["systemctl", "enable", "mme.service"]) < argvs.index(
        ["systemctl", "restart", "mme.service"])
    settings = json.load(open(vdu.path("/var/lib/mecpool/oai-mme.json")))
    assert settings["pending-start"] is False and settings["mnc"] == "01"


def test_three_digit_mnc_and_other_tac(vdu):
    configure(vdu, mnc="001", tac=1)
    with open(vdu.path("/usr/local/etc/oai/mme.conf")) as handle:
        conf = libconf.load(handle)["MME"]
    assert conf["GUMMEI_LIST"][0]["MNC"] == "001"
    assert conf["WRR_LIST_SELECTION"][0]["ID"] == \
        "tac-lb01.tac-hb00.tac.epc.mnc001.mcc242.3gppnetwork.org"


def test_configure_twice_changes_nothing(vdu):
    configure(vdu)
    conf = vdu.path("/usr/local/etc/oai/mme.conf")
    before = (open(conf).read(), os.stat(conf).st_mtime_ns)
    vdu.runner.calls.clear()
    vdu.hss.probes.clear()
    results = configure(vdu)
    assert results["restarted"] == "false" and results["built"] == "false"
    assert not any(a[:2] in (["systemctl", "restart"], ["netplan", "apply"],
                             ["systemctl", "daemon-reload"]) for a in vdu.runner.argvs)
    assert (open(conf).read(), os.stat(conf).st_mtime_ns) == before


def test_changed_tac_restarts(vdu):
    configure(vdu)
    vdu.runner.calls.clear()
    assert configure(vdu, tac=601)["restarted"] == "true"
    assert ["systemctl", "restart", "mme.service"] in vdu.runner.argvs


def test_hss_not_answering_defers_the_start(vdu):
    vdu.hss.up = False
    started = vdu.clock.now
    results = configure(vdu)
    assert vdu.clock.now - started < 60  # one probe, no wait: wait-peer does that
    assert vdu.hss.probes == [(HSS, 3868)]
    assert results["pending-start"] == "true" and results["restarted"] == "false"
    assert results["waiting-for"].startswith("HSS 172.16.6.129:3868 (run wait-peer")
    assert ["systemctl", "restart", "mme.service"] not in vdu.runner.argvs
    assert ["systemctl", "enable", "mme.service"] in vdu.runner.argvs
    assert vdu.workload.status() == (
        "waiting", "waiting for HSS 172.16.6.129:3868 before starting the MME")
    assert vdu.workload.resume() is False
    vdu.hss.up = True
    assert vdu.workload.resume() is True
    assert ["systemctl", "restart", "mme.service"] in vdu.runner.argvs
    assert vdu.workload.resume() is False  # done
    assert vdu.workload.status()[0] == "waiting"  # running, but no S6a association yet
    vdu.connections = [("172.16.6.2", 41394, HSS, 3868)]
    vdu.write_proc()
    kind, message = vdu.workload.status()
    assert kind == "active" and "PLMN 242-01, TAC 600" in message


def test_missing_interface_for_s1c(vdu):
    del vdu.interfaces["ens6"]
    with pytest.raises(NotFound) as info:
        configure(vdu)
    assert "192.168.247.102" in str(info.value)


def test_mme_not_listening_is_reported(vdu):
    vdu.on_start["mme.service"] = []
    with pytest.raises(WaitTimeout) as info:
        configure(vdu)
    assert "S1-MME listener (SCTP) 192.168.247.102:36412" in str(info.value)


def test_report_and_restart(vdu):
    with pytest.raises(MecpoolError):
        vdu.workload.report()
    configure(vdu)
    vdu.connections = [("172.16.6.2", 41394, HSS, 3868)]
    vdu.write_proc()
    assert vdu.workload.report() == {
        "service": "active", "enabled": "true", "pending-start": "false",
        "s1-mme-listening": "true", "s1-mme-address": "192.168.247.102:36412",
        "s11-listening": "true", "s6a-connected": "true", "hss": HSS + ":3868",
        "plmn": "24201", "tac": "600",
        "sgw-selection": "tac-lb58.tac-hb02.tac.epc.mnc001.mcc242.3gppnetwork.org",
        "sgw-s11-address": "172.16.1.104", "commit": vdu.commit}
    vdu.runner.calls.clear()
    vdu.workload.restart(30)
    assert vdu.runner.argvs.count(["systemctl", "restart", "mme.service"]) == 1
    vdu.hss.up = False
    vdu.runner.calls.clear()
    with pytest.raises(WaitTimeout):
        vdu.workload.restart(30)
    assert ["systemctl", "restart", "mme.service"] not in vdu.runner.argvs


def test_start_event_leaves_a_pending_start_alone(vdu):
    vdu.hss.up = False
    assert configure(vdu)["pending-start"] == "true"
    vdu.runner.calls.clear()
    vdu.workload.start()
    assert vdu.runner.argvs == []


# ---- wait-peer: the day-1 steps after configure (charmhelpers_mecpool.peerstart) ----

def pending(vdu):
    """configure while the HSS is still building: succeeds, start pending."""
    vdu.hss.up = False
    assert configure(vdu)["pending-start"] == "true"
    vdu.runner.calls.clear()
    vdu.hss.probes.clear()
    return vdu


def restarts(vdu):
    return vdu.runner.argvs.count(["systemctl", "restart", "mme.service"])


def test_wait_peer_hss_ready_starts_then_later_steps_return_at_once(vdu):
    pending(vdu)
    vdu.hss.up = True
    assert vdu.workload.wait_peer(Step(1, 14)) == {
        "step": "1/14", "peer": "HSS 172.16.6.129:3868", "started": "yes",
        "message": "HSS 172.16.6.129:3868 answered; mme.service started"}
    assert restarts(vdu) == 1
    assert vdu.workload.report()["pending-start"] == "false"
    assert vdu.workload.status()[0] == "waiting"  # running; no S6a association yet
    vdu.runner.calls.clear()
    vdu.hss.probes.clear()
    started = vdu.clock.now
    for index in range(2, 15):
        results = vdu.workload.wait_peer(Step(index, 14))
        assert results["started"] == "already" and results["step"] == "{}/14".format(index)
    assert vdu.runner.argvs == [] and vdu.hss.probes == [] and vdu.clock.now == started


def test_wait_peer_hss_not_ready_mid_sequence_succeeds_waiting(vdu):
    pending(vdu)
    started = vdu.clock.now
    results = vdu.workload.wait_peer(Step(3, 14))
    assert results == {"step": "3/14", "peer": "HSS 172.16.6.129:3868", "started": "no",
                       "message": "still waiting for HSS 172.16.6.129:3868, step 3/14"}
    waited = vdu.clock.now - started
    assert budget.PEER_WAIT_STEP <= waited <= budget.PEER_WAIT_STEP + budget.PEER_WAIT_INTERVAL
    assert restarts(vdu) == 0
    assert vdu.workload.status() == (
        "waiting", "waiting for HSS 172.16.6.129:3868 before starting the MME")


def test_wait_peer_hss_answers_during_a_step_starts_in_that_step(vdu):
    pending(vdu)
    vdu.hss.up_after = 10   # the 10th probe of this step connects
    started = vdu.clock.now
    assert vdu.workload.wait_peer(Step(5, 14))["started"] == "yes"
    assert vdu.clock.now - started < budget.PEER_WAIT_STEP
    assert restarts(vdu) == 1
    assert vdu.workload.report()["pending-start"] == "false"


def test_wait_peer_last_step_fails_naming_the_hss(vdu):
    pending(vdu)
    with pytest.raises(WaitTimeout) as info:
        vdu.workload.wait_peer(Step(14, 14))
    text = str(info.value)
    assert text.startswith("wait-peer step 14/14: HSS 172.16.6.129:3868 did not answer (")
    assert "refused" in text.lower() and "mme.service stays stopped" in text
    assert "run 'wait-peer' (or 'restart')" in text
    assert restarts(vdu) == 0
    assert vdu.workload.status()[0] == "waiting"
    # run by hand once the HSS is up (day 2: step 1/1), it starts the MME
    vdu.hss.up = True
    assert vdu.workload.wait_peer(parse_step({"step": "1/1"}))["started"] == "yes"
    assert restarts(vdu) == 1


def test_wait_peer_after_a_reboot_in_the_middle_continues(vdu):
    pending(vdu)
    assert vdu.workload.wait_peer(Step(1, 14))["started"] == "no"
    # the VDU reboots: a new workload object on the same disk, Juju's start event
    vdu.workload = mme.MmeWorkload(build_runner=vdu.builds, run=vdu.runner, root=vdu.root,
                                   mac_lookup=lambda a: None, sleep=vdu.clock.sleep,
                                   clock=vdu.clock, probe=vdu.hss, cert_bits=1024)
    vdu.runner.calls.clear()
    vdu.workload.start()
    assert restarts(vdu) == 0 and vdu.runner.argvs == []   # still pending: start leaves it
    assert vdu.workload.wait_peer(Step(2, 14))["started"] == "no"
    vdu.hss.up = True
    assert vdu.workload.wait_peer(Step(3, 14))["started"] == "yes"
    assert restarts(vdu) == 1


def test_update_status_between_steps_starts_it_and_wait_peer_returns_at_once(vdu):
    pending(vdu)
    vdu.hss.up = True
    assert vdu.workload.resume() is True
    vdu.runner.calls.clear()
    assert vdu.workload.wait_peer(Step(2, 14))["started"] == "already"
    assert restarts(vdu) == 0


def test_wait_peer_before_configure_says_so(vdu):
    with pytest.raises(MecpoolError) as info:
        vdu.workload.wait_peer(Step(1, 14))
    assert "run the 'configure' action first" in str(info.value)


@pytest.mark.parametrize("value", ["", "3", "0/4", "5/4", "a/b", "1/2/3", " 1/2", "1/\u00b2", "1/4\n", 3,
                                   None])
def test_parse_step_names_the_parameter(value):
    with pytest.raises(ValidationError) as info:
        parse_step({"step": value})
    assert info.value.param == "step"


def test_parse_step_reads_i_of_n():
    assert parse_step({"step": "3/14"}) == Step(3, 14)
    assert parse_step({"step": "1/1"}) == Step(1, 1)


def test_wait_peer_gives_up_at_the_day1_deadline_whatever_the_own_build_took(vdu):
    """A silent HSS is reported before LCM's 2 h NS timeout (docs/epc.md): the step that
    runs into DAY1_PEER_DEADLINE after `build` started is the last one."""
    from charmhelpers_mecpool import validate
    workload = mme.MmeWorkload(build_runner=vdu.builds, run=vdu.runner, root=vdu.root,
                               mac_lookup=lambda a: None, sleep=vdu.clock.sleep, clock=vdu.clock,
                               probe=vdu.hss, cert_bits=1024, wall_clock=vdu.clock)
    vdu.workload = workload
    vdu.clock.now = 1000.0
    workload.build(validate.build_source(PARAMS))
    pending(vdu)
    # a slow own build: step 3 of 14 starts one minute before the deadline
    vdu.clock.now = 1000.0 + budget.DAY1_PEER_DEADLINE - 60
    started = vdu.clock.now
    with pytest.raises(WaitTimeout) as info:
        workload.wait_peer(Step(3, 14))
    assert vdu.clock.now - started <= 60 + budget.PEER_WAIT_INTERVAL
    text = str(info.value)
    assert text.startswith("wait-peer step 3/14: HSS 172.16.6.129:3868 did not answer by the end "
                           "of day 1's time (96 min after 'build' started: LCM's 2 h NS deadline "
                           "less 15 min for VM creation and charm deployment and one primitive)")
    assert "mme.service stays stopped" in text
    # past the deadline: one probe, then the failure
    started = vdu.clock.now
    with pytest.raises(WaitTimeout):
        workload.wait_peer(Step(4, 14))
    assert vdu.clock.now - started <= budget.PEER_WAIT_INTERVAL
    # ... unless the HSS answers that probe
    vdu.hss.up = True
    assert workload.wait_peer(Step(5, 14))["started"] == "yes"


def test_wait_peer_by_hand_is_not_bound_to_the_day1_deadline(vdu):
    from charmhelpers_mecpool import validate
    workload = mme.MmeWorkload(build_runner=vdu.builds, run=vdu.runner, root=vdu.root,
                               mac_lookup=lambda a: None, sleep=vdu.clock.sleep, clock=vdu.clock,
                               probe=vdu.hss, cert_bits=1024, wall_clock=vdu.clock)
    vdu.workload = workload
    workload.build(validate.build_source(PARAMS))
    pending(vdu)
    vdu.clock.now += 10 * budget.DAY1_PEER_DEADLINE
    started = vdu.clock.now
    with pytest.raises(WaitTimeout) as info:
        workload.wait_peer(parse_step({"step": "1/1"}))   # day 2: a whole step
    assert vdu.clock.now - started >= budget.PEER_WAIT_STEP
    assert "end of day 1's time" not in str(info.value)
