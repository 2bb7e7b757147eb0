"""rsp-pool-element charm: actions under ops 2.23 (Harness.run_action), events under 1.5.4."""

import pytest
from ops.model import ActiveStatus, BlockedStatus, ModelError
from ops.testing import ActionFailed

import charmtest
from charmhelpers_mecpool.errors import CommandError, MecpoolError, ValidationError
from rsp_fakes import FakeWorkload

module = charmtest.load_charm_module("rsp-pool-element")
workload_module = charmtest.load_charm_module("rsp-pool-element", "pool_element_workload")
ACTIVE = ("active", "PE of CalcAppPool: 1000000 calc/s, 4 jobs, load increment 0.1")


def test_events_under_shipped_ops(shipped_ops):
    output = shipped_ops.run("events_rsp_pool_element.py")
    assert charmtest.passed_count(output) >= 6


@pytest.fixture
def fake(monkeypatch):
    fake = FakeWorkload(workload_module.PoolElementWorkload)
    monkeypatch.setattr(module, "PoolElementWorkload", lambda: fake)
    return fake


@pytest.fixture
def harness(fake):
    harness = charmtest.make_harness("rsp-pool-element", module.RspPoolElementCharm)
    harness.begin()
    yield harness
    harness.cleanup()


def test_configure_gets_the_params_with_their_defaults(harness, fake):
    fake.results["configure"] = {"service": "rsp-pool-element.service", "changed": "yes",
                                 "restarted": "yes", "command": "/usr/bin/rspserver -calcapp"}
    fake.status_value = ACTIVE
    output = harness.run_action("configure", {"pool-handle": "CalcAppPool",
                                              "registrars": "10.1.0.2"})
    assert fake.called("configure") == [({
        "pool-handle": "CalcAppPool", "registrars": "10.1.0.2", "capacity": 1000000,
        "max-jobs": 4, "load-increment": "0.1", "local-address": "auto"},)]
    assert output.results == fake.results["configure"]
    assert harness.model.unit.status == ActiveStatus(ACTIVE[1])


def test_configure_requires_pool_handle_and_registrars(harness, fake):
    with pytest.raises(RuntimeError, match="'registrars' parameter is required"):
        harness.run_action("configure", {"pool-handle": "CalcAppPool"})
    assert fake.called("configure") == []


def test_configure_bad_param_fails_naming_it(harness, fake):
    fake.errors["configure"] = ValidationError("load-increment", "'abc' is not a number")
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("configure", {"pool-handle": "CalcAppPool", "registrars": "10.1.0.2",
                                         "load-increment": "abc"})
    assert caught.value.message == "load-increment: 'abc' is not a number"


def test_reconfigure_passes_only_the_given_params(harness, fake):
    fake.results["reconfigure"] = {"changed": "yes", "restarted": "yes"}
    output = harness.run_action("reconfigure", {"capacity": 2000000})
    assert fake.called("reconfigure") == [({"capacity": 2000000},)]
    assert output.results == {"changed": "yes", "restarted": "yes"}


def test_reconfigure_rejects_params_it_does_not_have(harness, fake):
    with pytest.raises(ModelError, match="pool-handle"):
        harness.run_action("reconfigure", {"pool-handle": "Other"})
    assert fake.called("reconfigure") == []


def test_reconfigure_failure_says_what_was_restored(harness, fake):
    message = ("new settings not applied, previous settings restored and the service runs as "
               "before: rsp-pool-element.service did not start (not active after start: "
               "rspserver: Unable to bind)")
    fake.errors["reconfigure"] = MecpoolError(message)
    fake.status_value = ACTIVE
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("reconfigure", {"max-jobs": 9})
    assert caught.value.message == message
    assert harness.model.unit.status == ActiveStatus(ACTIVE[1])


def test_restart_success_and_failure(harness, fake):
    fake.results["restart"] = {"service": "rsp-pool-element.service", "active": "yes"}
    assert harness.run_action("restart").results["active"] == "yes"
    fake.errors["restart"] = MecpoolError("not configured yet: run the 'configure' action first")
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("restart")
    assert caught.value.message == "not configured yet: run the 'configure' action first"


def test_pe_status_returns_the_nested_results(harness, fake):
    fake.results["pe_status"] = {
        "service": "active", "settings": {"pool-handle": "CalcAppPool", "capacity": "1000000"},
        "registered": "yes", "registrar": "10.1.0.2:9901", "identifier": "0x1a2b3c4d",
        "load": "0.25", "load-increment": "0.1"}
    output = harness.run_action("pe-status")
    assert output.results["settings"]["pool-handle"] == "CalcAppPool"
    assert output.results["registered"] == "yes"


def test_pe_status_failure(harness, fake):
    fake.errors["pe_status"] = CommandError(["systemctl", "is-active"], 1, "Failed to connect to bus")
    fake.status_value = ("blocked", "rsp-pool-element.service is not running")
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("pe-status")
    assert "Failed to connect to bus" in caught.value.message
    assert harness.model.unit.status == BlockedStatus("rsp-pool-element.service is not running")


@pytest.mark.parametrize("action, params, text", [
    ("configure", {"pool-handle": "CalcAppPool", "registrars": "10.1.0.2"}, "configuring the pool element"),
    ("reconfigure", {"capacity": 2000}, "reconfiguring the pool element"),
    ("restart", {}, "restarting the pool element"),
])
def test_changing_actions_show_maintenance_while_they_run(harness, fake, action, params, text):
    """juju status shows what the unit is doing while configure/reconfigure/restart run."""
    seen = []
    fake.results[action] = {}
    fake.hooks[action] = lambda: seen.append(harness.model.unit.status)
    fake.status_value = ("waiting", "running, not (yet) registered in CalcAppPool at 10.1.0.2")
    harness.run_action(action, params)
    assert [type(s).__name__ for s in seen] == ["MaintenanceStatus"] and seen[0].message == text
    assert harness.model.unit.status.name == "waiting"
