"""EPC charms: actions under ops 2.23 (Harness.run_action), events under the shipped 1.5.4.

The workload class is replaced at its seam by rsp_fakes.FakeWorkload (only the
real class's methods exist); parameter validation is the real one.
"""

import pytest
from ops.model import ActiveStatus, BlockedStatus, WaitingStatus
from ops.testing import ActionFailed

import charmtest
from charmhelpers_mecpool import budget
from charmhelpers_mecpool.errors import CommandError, MecpoolError, WaitTimeout
from oai_charm_cases import BAD, CLASSES, CONTRACT, GOOD, K, OP
from rsp_fakes import FakeWorkload

CHARMS = sorted(CONTRACT)


def test_events_under_shipped_ops(shipped_ops):
    output = shipped_ops.run("events_oai_charms.py")
    assert charmtest.passed_count(output) >= 20


@pytest.mark.parametrize("charm", CHARMS)
def test_actions_yaml_is_exactly_the_contract(charm):
    actions = charmtest.charm_yaml(charm, "actions.yaml")
    assert sorted(actions) == sorted(CONTRACT[charm])
    for name, params in CONTRACT[charm].items():
        spec = actions[name]
        assert spec.get("additionalProperties") is False, name
        assert spec.get("description"), name
        declared = spec.get("params", {})
        assert {p: declared[p]["type"] for p in declared} == params, name
        assert all(declared[p].get("description") for p in declared), name
        assert sorted(spec.get("required", [])) == sorted(params), name


@pytest.mark.parametrize("charm", CHARMS)
def test_metadata_is_a_bionic_machine_charm(charm):
    metadata = charmtest.charm_yaml(charm, "metadata.yaml")
    assert metadata["name"] == charm and metadata["series"] == ["bionic"]
    assert metadata["subordinate"] is False and metadata["summary"]
    config = charmtest.charm_yaml(charm, "config.yaml")
    assert set(config["options"]) == ({"peer-timeout"} if CLASSES[charm][3] else set())


def setup(charm, monkeypatch):
    class_name, module_name, workload_name, _ = CLASSES[charm]
    module = charmtest.load_charm_module(charm)
    workload_module = charmtest.load_charm_module(charm, module_name)
    fake = FakeWorkload(getattr(workload_module, workload_name))
    monkeypatch.setattr(module, workload_name, lambda: fake)
    harness = charmtest.make_harness(charm, getattr(module, class_name))
    harness.begin()
    return harness, fake, workload_module


@pytest.fixture(params=CHARMS)
def case(request, monkeypatch):
    harness, fake, workload_module = setup(request.param, monkeypatch)
    yield request.param, harness, fake, workload_module
    harness.cleanup()


def test_configure_passes_validated_params_and_returns_results(case):
    charm, harness, fake, workload_module = case
    fake.results["configure"] = {"commit": "abc", "restarted": "true"}
    fake.status_value = ("active", "ready")
    output = harness.run_action("configure", dict(GOOD[charm]))
    calls = fake.called("configure")
    # configure gets only its request (the peer charms' wait is in wait-peer/restart)
    assert calls == [(workload_module.parse_configure(dict(GOOD[charm])),)]
    assert output.results == {"commit": "abc", "restarted": "true"}
    assert harness.model.unit.status == ActiveStatus("ready")


def test_configure_with_a_bad_param_fails_naming_it_and_touches_nothing(case):
    charm, harness, fake, _ = case
    harness.model.unit.status = ActiveStatus("running as before")
    param, value = BAD[charm]
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("configure", dict(GOOD[charm], **{param: value}))
    assert caught.value.message.startswith(param + ": ")
    assert fake.calls == []
    assert harness.model.unit.status == ActiveStatus("running as before")


def test_configure_failure_blocks_with_the_reason(case):
    charm, harness, fake, _ = case
    fake.errors["configure"] = CommandError(["./build"], 2, "make: *** [all] Error 2")
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("configure", dict(GOOD[charm]))
    assert "exit code 2" in caught.value.message and "Error 2" in caught.value.message
    assert harness.model.unit.status == BlockedStatus(caught.value.message)


def test_unexpected_exception_fails_the_action_without_traceback(case):
    charm, harness, fake, _ = case
    fake.errors["configure"] = KeyError("s6a")
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("configure", dict(GOOD[charm]))
    assert caught.value.message.startswith("internal error (KeyError)")


def test_restart_and_status_actions(case):
    charm, harness, fake, _ = case
    fake.results["restart"] = {"service": "active"}
    fake.results["report"] = {"service": "active", "commit": "abc"}
    assert harness.run_action("restart").results == {"service": "active"}
    assert harness.run_action("status").results == {"service": "active", "commit": "abc"}
    assert len(fake.called("report")) == 1
    fake.errors["report"] = MecpoolError("not configured yet: run the 'configure' action first")
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("status")
    assert "not configured" in caught.value.message


@pytest.mark.parametrize("charm", ["oai-mme", "oai-spgwu"])
def test_peer_wait_timeout_is_waiting_not_blocked(charm, monkeypatch):
    harness, fake, _ = setup(charm, monkeypatch)
    harness.update_config({"peer-timeout": 60})
    # configure does not wait for the peer (the wait-peer steps do): no timeout passed
    fake.results["configure"] = {"pending-start": "true"}
    fake.status_value = ("waiting", "waiting for the peer before starting")
    assert harness.run_action("configure", dict(GOOD[charm])).results == {"pending-start": "true"}
    assert len(fake.called("configure")[0]) == 1
    assert harness.model.unit.status == WaitingStatus("waiting for the peer before starting")
    fake.results["wait_peer"] = {"started": "no", "message": "still waiting for peer, step 2/5"}
    assert harness.run_action("wait-peer", {"step": "2/5"}).results["started"] == "no"
    assert fake.called("wait_peer")[-1] == ((2, 5),)
    fake.errors["wait_peer"] = WaitTimeout("wait-peer step 5/5: peer 10.0.0.1 did not answer")
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("wait-peer", {"step": "5/5"})
    assert "wait-peer step 5/5: peer 10.0.0.1" in caught.value.message
    assert isinstance(harness.model.unit.status, WaitingStatus)
    for bad in ("0/5", "6/5", "two", "1/"):
        with pytest.raises(ActionFailed) as caught:
            harness.run_action("wait-peer", {"step": bad})
        assert caught.value.message.startswith("step: ")
    assert len(fake.called("wait_peer")) == 2
    fake.results["restart"] = {"service": "active"}
    harness.run_action("restart")
    assert fake.called("restart") == [(60,)]
    harness.cleanup()


def test_hss_provision_validates_and_never_echoes_secrets(monkeypatch):
    harness, fake, workload_module = setup("oai-hss", monkeypatch)
    params = {"imsi-first": "242881234500000", "msisdn-first": "24288880000000",
              "users": 1024, "k": K.lower(), "op": OP}
    fake.results["provision"] = {"users": "1024", "changed": "true"}
    output = harness.run_action("provision-subscribers", dict(params))
    request = fake.called("provision")[0][0]
    assert request["k"] == K and request["subscribers"].users == 1024
    assert output.results == {"users": "1024", "changed": "true"}
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("provision-subscribers", dict(params, k=K[:30]))
    assert caught.value.message.startswith("k: ") and K[:30] not in caught.value.message
    fake.errors["provision"] = MecpoolError("cqlsh said key {} and op {}".format(K.lower(), OP))
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("provision-subscribers", dict(params))
    message = caught.value.message
    assert K not in message.upper() and OP not in message.upper() and "***" in message
    assert K not in harness.model.unit.status.message.upper()
    harness.cleanup()


def test_hss_configure_failure_redacts_op(monkeypatch):
    harness, fake, _ = setup("oai-hss", monkeypatch)
    fake.errors["configure"] = MecpoolError("bad optkey " + OP)
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("configure", dict(GOOD["oai-hss"]))
    assert OP not in caught.value.message and "***" in caught.value.message
    harness.cleanup()
