"""charmhelpers_mecpool_ops.base: actions under ops 2.23, events under the shipped 1.5.4.

A demo charm (ops_base_cases.py) on WorkloadCharm / PeerWaitingCharm with a
recording workload; the six real charms' wiring is checked against their actions.yaml.
"""

import logging

import pytest
import yaml
from ops.model import ActiveStatus, BlockedStatus, MaintenanceStatus, WaitingStatus
from ops.testing import ActionFailed

import charmtest
from charmhelpers_mecpool import budget
from charmhelpers_mecpool.errors import CommandError, MecpoolError, WaitTimeout
from charmhelpers_mecpool.peerstart import Step
from charmhelpers_mecpool_ops.base import Action, PeerWaitingCharm, WorkloadCharm
from ops_base_cases import ACTIONS, KEY, demo_class, demo_harness
from rsp_fakes import FakeWorkload

CHARM_CLASSES = {
    "oai-hss": ("OaiHssCharm", "hss_workload", "HssWorkload"),
    "oai-mme": ("OaiMmeCharm", "mme_workload", "MmeWorkload"),
    "oai-spgwc": ("OaiSpgwcCharm", "spgwc_workload", "SpgwcWorkload"),
    "oai-spgwu": ("OaiSpgwuCharm", "spgwu_workload", "SpgwuWorkload"),
    "rsp-registrar": ("RspRegistrarCharm", "registrar_workload", "RegistrarWorkload"),
    "rsp-pool-element": ("RspPoolElementCharm", "pool_element_workload", "PoolElementWorkload"),
}


def test_events_under_shipped_ops(shipped_ops):
    output = shipped_ops.run("events_lib_ops_base.py")
    assert charmtest.passed_count(output) >= 8


@pytest.fixture
def harness():
    harness = demo_harness()
    yield harness
    harness.cleanup()


def test_action_validates_then_runs_in_maintenance_then_shows_the_workload(harness):
    workload = harness.charm.workload
    workload.results["configure"] = {"changed": "yes"}
    workload.status_value = ("active", "demo configured")
    output = harness.run_action("configure", {"name": "demo"})
    assert output.results == {"changed": "yes"}
    [call] = [c for c in workload.calls if c[0] == "configure"]
    assert call[1] == ({"name": "demo", "key": ""},)  # what parse returned
    assert call[2] == MaintenanceStatus("configuring demo")
    assert harness.model.unit.status == ActiveStatus("demo configured")


def test_bad_param_fails_naming_it_and_leaves_the_unit_untouched(harness):
    harness.model.unit.status = ActiveStatus("running as before")
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("configure", {"name": "Not Letters"})
    assert caught.value.message == "name: must be lower-case letters, got 'Not Letters'"
    assert harness.charm.workload.calls == []
    assert harness.model.unit.status == ActiveStatus("running as before")


def test_secret_params_are_masked_in_validation_and_work_errors(harness):
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("configure", {"name": "demo", "key": KEY[:30]})
    assert caught.value.message == "key: *** is not 32 hex digits"
    harness.charm.workload.errors["configure"] = MecpoolError("rejected " + KEY.lower())
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("configure", {"name": "demo", "key": KEY})
    assert caught.value.message == "rejected ***"
    assert harness.model.unit.status == BlockedStatus("rejected ***")


def test_workload_error_fails_the_action_and_blocks_with_the_reason(harness):
    harness.charm.workload.errors["restart"] = CommandError(
        ["systemctl", "restart", "demo.service"], 5, "Unit demo.service not found.")
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("restart")
    message = caught.value.message
    assert "exit code 5" in message and "not found" in message
    assert harness.model.unit.status == BlockedStatus(message)
    assert harness.charm.workload.called("restart") == [()]  # no parse: work gets nothing


def test_unexpected_exception_is_a_failed_action_not_a_traceback(harness, caplog):
    harness.charm.workload.errors["configure"] = KeyError("s6a")
    with caplog.at_level(logging.WARNING):
        with pytest.raises(ActionFailed) as caught:
            harness.run_action("configure", {"name": "demo"})
    assert caught.value.message == "internal error (KeyError): 's6a'"
    assert harness.model.unit.status == BlockedStatus("internal error (KeyError): 's6a'")
    assert "action configure failed: internal error (KeyError)" in caplog.text
    assert "Traceback" not in caplog.text


def test_long_messages_are_one_status_line_unless_the_charm_allows_more():
    text = "restore failed: " + "x" * 500
    for limit in (120, 400):
        harness = demo_harness(ACTION_MESSAGE_LIMIT=limit)
        harness.charm.workload.errors["restart"] = MecpoolError(text)
        with pytest.raises(ActionFailed) as caught:
            harness.run_action("restart")
        assert len(caught.value.message) == limit and caught.value.message.endswith("...")
        harness.cleanup()


def test_read_only_action_failure_leaves_the_status(harness):
    harness.model.unit.status = ActiveStatus("running")
    harness.charm.workload.errors["report"] = MecpoolError("not configured yet")
    with pytest.raises(ActionFailed):
        harness.run_action("status")
    assert harness.model.unit.status == ActiveStatus("running")
    [call] = [c for c in harness.charm.workload.calls if c[0] == "report"]
    assert call[2] == ActiveStatus("running")  # no maintenance text while it ran


def test_a_workload_that_rolls_back_shows_its_own_status_after_a_failure():
    harness = demo_harness(ROLLS_BACK=True)
    workload = harness.charm.workload
    workload.errors["configure"] = MecpoolError("new settings not applied, previous restored")
    workload.status_value = ("active", "running as before")
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("configure", {"name": "demo"})
    assert caught.value.message == "new settings not applied, previous restored"
    assert harness.model.unit.status == ActiveStatus("running as before")
    harness.cleanup()


def test_wait_timeout_blocks_a_plain_charm(harness):
    harness.charm.workload.errors["configure"] = WaitTimeout("listener not up within 90 s")
    with pytest.raises(ActionFailed):
        harness.run_action("configure", {"name": "demo"})
    assert harness.model.unit.status == BlockedStatus("listener not up within 90 s")


def test_wait_timeout_leaves_a_peer_waiting_charm_waiting():
    harness = demo_harness(PeerWaitingCharm)
    harness.update_config({"peer-timeout": 30})
    workload = harness.charm.workload
    workload.errors["restart"] = WaitTimeout("HSS 10.0.0.1:3868 not reachable within 30 s")
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("restart")
    assert workload.called("restart") == [(30,)]
    assert harness.model.unit.status == WaitingStatus(caught.value.message)
    workload.errors["restart"] = CommandError(["systemctl", "restart", "mme.service"], 1, "")
    with pytest.raises(ActionFailed):
        harness.run_action("restart")
    assert isinstance(harness.model.unit.status, BlockedStatus)
    harness.cleanup()


def test_bad_peer_timeout_fails_the_action_that_needs_it():
    harness = demo_harness(PeerWaitingCharm)
    harness.update_config({"peer-timeout": -1})
    with pytest.raises(ActionFailed) as caught:
        harness.run_action("restart")
    assert caught.value.message == "peer-timeout: must be a non-negative integer (seconds)"
    assert harness.charm.workload.called("restart") == []
    harness.cleanup()


@pytest.mark.parametrize("value, valid", [(0, True), (budget.PEER_TIMEOUT_MAX, True), (-1, False),
                                          (True, False), ("60", False), (1.5, False)])
def test_peer_timeout_accepts_only_non_negative_integers(value, valid):
    # Juju hands over whatever the option holds; Harness refuses non-int values, so
    # the check is called with a stand-in charm.
    class Stand(object):
        PEER_TIMEOUT_DEFAULT = budget.PEER_TIMEOUT_DEFAULT
        config = {"peer-timeout": value}
    if valid:
        assert PeerWaitingCharm.peer_timeout(Stand()) == value
    else:
        with pytest.raises(MecpoolError, match=r"^peer-timeout: must be a non-negative integer \(seconds\)$"):
            PeerWaitingCharm.peer_timeout(Stand())


# A value of each actions.yaml parameter type, for the required parameters.
STAND_IN = {"string": "x", "integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}


def wiring_problems(charm_class, make_harness, actions_yaml):
    """Run every action of ``actions_yaml`` through ops' Harness; what went wrong.

    The charm's table is wrapped so that each entry records its name when its
    parse (the parameter validation) or work runs: an action is wired when running
    it reaches its own table entry.  An action nobody observes runs no handler and
    records nothing; a handler naming a missing entry fails the action.
    """
    reached = []

    def recording(name, step):
        def record(*args):
            reached.append((name, step))
            return args[0] if step == "parse" else {}
        return record

    class Recorded(charm_class):
        def actions(self):
            return dict((name, Action(action.parse and recording(name, "parse"),
                                      recording(name, "work"), action.activity))
                        for name, action in super().actions().items())

    harness = make_harness(Recorded)
    problems = []
    for name, meta in sorted(actions_yaml.items()):
        schema = (meta or {}).get("params", {})
        params = dict((key, STAND_IN[schema[key]["type"]]) for key in (meta or {}).get("required", []))
        del reached[:]
        try:
            harness.run_action(name, params)
        except ActionFailed as failed:
            problems.append("{}: failed: {}".format(name, failed.message))
            continue
        if not reached:
            problems.append("{}: no handler ran".format(name))
        elif set(entry for entry, step in reached) != {name} or reached[-1][1] != "work":
            problems.append("{}: reached {}".format(name, reached))
    harness.cleanup()
    return problems


def begun(harness):
    harness.begin()
    return harness


@pytest.mark.parametrize("charm", sorted(CHARM_CLASSES))
def test_every_charm_observes_each_action_of_its_actions_yaml_and_runs_its_table_entry(charm, monkeypatch):
    class_name, module_name, workload_name = CHARM_CLASSES[charm]
    module = charmtest.load_charm_module(charm)
    workload_module = charmtest.load_charm_module(charm, module_name)
    monkeypatch.setattr(module, workload_name, lambda: FakeWorkload(getattr(workload_module, workload_name)))
    charm_class = getattr(module, class_name)
    assert issubclass(charm_class, WorkloadCharm)
    assert issubclass(charm_class, PeerWaitingCharm) == (charm in ("oai-mme", "oai-spgwu"))
    actions_yaml = charmtest.charm_yaml(charm, "actions.yaml")
    harness = begun(charmtest.make_harness(charm, charm_class))
    assert sorted(harness.charm.actions()) == sorted(actions_yaml)
    harness.cleanup()
    problems = wiring_problems(charm_class, lambda cls: begun(charmtest.make_harness(charm, cls)),
                               actions_yaml)
    assert problems == []


def test_the_wiring_check_finds_an_unobserved_action_and_a_misnamed_handler():
    demo_yaml = yaml.safe_load(ACTIONS)

    def make(cls):
        return demo_harness(charm_class=cls)

    # The plain demo charm does not observe wait-peer (a PeerWaitingCharm action).
    assert wiring_problems(demo_class(), make, demo_yaml) == ["wait-peer: no handler ran"]
    assert wiring_problems(demo_class(PeerWaitingCharm), make, demo_yaml) == []

    class RestartRunsStatus(demo_class()):
        def _on_restart_action(self, event):
            self.run_action(event, "status")

    class RestartRunsNothing(demo_class()):
        def _on_restart_action(self, event):
            self.run_action(event, "re-start")

    assert "restart: reached [('status', 'work')]" in wiring_problems(RestartRunsStatus, make, demo_yaml)
    assert ("restart: failed: internal error: no action 're-start' in the charm's action table"
            in wiring_problems(RestartRunsNothing, make, demo_yaml))


def test_peer_actions_hand_the_peer_timeout_to_restart_only():
    # configure probes the peer once and wait-peer waits fixed steps (peerstart.py);
    # only restart waits peer-timeout
    harness = demo_harness(PeerWaitingCharm)
    harness.update_config({"peer-timeout": 45})
    workload = harness.charm.workload
    workload.results.update(configure={"restarted": "true"}, restart={"service": "active"},
                            report={"service": "active"}, wait_peer={"started": "no"})
    assert harness.run_action("configure", {"name": "demo"}).results == {"restarted": "true"}
    assert harness.run_action("wait-peer", {"step": "2/3"}).results == {"started": "no"}
    assert harness.run_action("restart").results == {"service": "active"}
    assert harness.run_action("status").results == {"service": "active"}
    assert workload.called("configure") == [({"name": "demo", "key": ""},)]
    assert workload.called("wait_peer") == [(Step(2, 3),)]
    assert workload.called("restart") == [(45,)]
    assert [c[2] for c in workload.calls if c[0] in ("configure", "wait_peer", "restart")] == [
        MaintenanceStatus("configuring demo"), MaintenanceStatus("waiting for the demo's peer to start demo"),
        MaintenanceStatus("restarting demo")]
    harness.cleanup()
