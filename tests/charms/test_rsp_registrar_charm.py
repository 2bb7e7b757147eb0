"""rsp-registrar charm: actions under ops 2.23 (Harness.run_action), events under 1.5.4."""

import pytest
from ops.model import ActiveStatus, BlockedStatus, ModelError
from ops.testing import ActionFailed

import charmtest
from charmhelpers_mecpool.errors import CommandError, MecpoolError, ValidationError
from rsp_fakes import FakeWorkload

module = charmtest.load_charm_module("rsp-registrar")
workload_module = charmtest.load_charm_module("rsp-registrar", "registrar_workload")


def test_events_under_shipped_ops(shipped_ops):
    output = shipped_ops.run("events_rsp_registrar.py")
    assert charmtest.passed_count(output) >= 7


@pytest.fixture
def fake(monkeypatch):
    fake = FakeWorkload(workload_module.RegistrarWorkload)
    monkeypatch.setattr(module, "RegistrarWorkload", lambda: fake)
    return fake


@pytest.fixture
def harness(fake):
    harness = charmtest.make_harness("rsp-registrar", module.RspRegistrarCharm)
    harness.begin()
    yield harness
    harness.cleanup()


def test_configure_passes_params_and_config_and_returns_results(harness, fake):
    fake.results["configure"] = {"service": "rsp-registrar.service", "changed": "yes",
                                 "restarted": "yes", "command": "/usr/bin/rspregistrar ..."}
    fake.status_value = ("active", "registrar 10.1.0.2 (ASAP 3863, ENRP 9901), 1 peer")
    harness.update_config({"identifier": 9})
    output = harness.run_action("configure", {"address": "10.1.0.2", "peers": "10.2.0.2"})
    assert fake.called("configure") == [({"address": "10.1.0.2", "peers": "10.2.0.2"},
                                         {"identifier": 9, "loglevel": 2,
                                          "endpoint-keepalive-ms": 0})]
    assert output.results == fake.results["configure"]
    assert harness.model.unit.status == ActiveStatus(
        "registrar 10.1.0.2 (ASAP 3863, ENRP 9901), 1 peer")


def test_configure_fills_the_peers_default(harness, fake):
    fake.results["configure"] = {"changed": "no"}
    harness.run_action("configure", {"address": "10.1.0.2"})
    assert fake.called("configure")[0][0] == {"address": "10.1.0.2", "peers": ""}


def test_configure_with_a_bad_param_fails_naming_it(harness, fake):
    fake.errors["configure"] = ValidationError("address", "10.9.9.9 is not an address of this VDU")
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("configure", {"address": "10.9.9.9"})
    assert caught.value.message == "address: 10.9.9.9 is not an address of this VDU"
    assert caught.value.output.results == {}


def test_configure_start_failure_is_reported_in_full(harness, fake):
    message = ("new settings not applied, previous settings restored and the service runs as "
               "before: rsp-registrar.service did not start (not active after start: "
               "rspregistrar: Unable to bind SCTP socket: Cannot assign requested address)")
    assert len(message) > 120  # longer than a status line, still reported whole
    fake.errors["configure"] = MecpoolError(message)
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("configure", {"address": "10.1.0.2"})
    assert caught.value.message == message


def test_restart_success_and_failure(harness, fake):
    fake.results["restart"] = {"service": "rsp-registrar.service", "active": "yes"}
    assert harness.run_action("restart").results == {"service": "rsp-registrar.service",
                                                     "active": "yes"}
    fake.errors["restart"] = CommandError(["systemctl", "restart", "rsp-registrar.service"], 5,
                                          "Unit rsp-registrar.service not found.")
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("restart")
    assert "not found" in caught.value.message


def test_pool_status_returns_the_structured_handlespace(harness, fake):
    results = workload_module.pool_status_results({
        "home": "0x7a3c9f10", "peers": [],
        "pools": [{"handle": "CalcAppPool", "policy": "PriorityLeastUsed", "protocol": "SCTP",
                   "elements": [{"identifier": "0x0000abcd", "addresses": ["10.1.0.5"],
                                 "port": 9000, "protocol": "SCTP", "load": 0.5,
                                 "load_increment": 0.1, "home_registrar": "0x7a3c9f10"}]}]})
    fake.results["pool_status"] = results
    output = harness.run_action("pool-status")
    assert output.results["pools"]["pool-1"]["elements"]["pe-0000abcd"]["load"] == "0.5"
    assert output.results["summary"] == "1 pool, 1 pool element"


def test_pool_status_failure(harness, fake):
    fake.errors["pool_status"] = MecpoolError("rsp-registrar.service is not running")
    fake.status_value = ("blocked", "rsp-registrar.service is not running")
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("pool-status")
    assert caught.value.message == "rsp-registrar.service is not running"
    assert harness.model.unit.status == BlockedStatus("rsp-registrar.service is not running")


def test_unknown_action_params_are_rejected(harness, fake):
    with pytest.raises(ModelError, match='additional property "now" is not allowed'):
        harness.run_action("restart", {"now": True})
    assert fake.called("restart") == []


def test_configure_and_restart_show_maintenance_while_they_run(monkeypatch):
    fake = FakeWorkload(workload_module.RegistrarWorkload)
    monkeypatch.setattr(module, "RegistrarWorkload", lambda: fake)
    harness = charmtest.make_harness("rsp-registrar", module.RspRegistrarCharm)
    harness.begin()
    seen = []
    for action, params in (("configure", {"address": "10.1.0.2"}), ("restart", {})):
        fake.results[action] = {}
        fake.hooks[action] = lambda: seen.append(harness.model.unit.status.message)
        harness.run_action(action, params)
    assert seen == ["configuring the registrar", "restarting the registrar"]
    harness.cleanup()
