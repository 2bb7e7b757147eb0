"""Every OAI primitive fits its time budget (docs/epc.md): the worst case of its
planned waits, the budget cutting a wait, and the failure that says what it
waited for and that running the primitive again continues."""

import pytest

import charmtest
import epc_fakes
from charmhelpers_mecpool import budget
from charmhelpers_mecpool.errors import MecpoolError, WaitTimeout
from oai_charm_cases import CLASSES


def workload_class(charm):
    _, module_name, class_name, _ = CLASSES[charm]
    return getattr(charmtest.load_charm_module(charm, module_name), class_name)


@pytest.mark.parametrize("charm", sorted(CLASSES))
def test_every_action_declares_its_waits(charm):
    waits = workload_class(charm).WAITS
    assert sorted(waits) == sorted(charmtest.charm_yaml(charm, "actions.yaml"))


@pytest.mark.parametrize("charm", sorted(CLASSES))
def test_the_worst_case_of_each_primitive_fits_the_budget(charm):
    for action, waits in workload_class(charm).WAITS.items():
        total = budget.plan_total(waits)
        assert total + budget.COMMAND_RESERVE <= budget.PRIMITIVE_BUDGET, (action, waits)
        assert all(seconds > 0 for _, seconds in waits), (action, waits)


def test_the_budget_constants_hang_together():
    assert budget.WAIT_BUDGET == budget.PRIMITIVE_BUDGET - budget.COMMAND_RESERVE
    assert 0 < budget.PEER_TIMEOUT_DEFAULT <= budget.PEER_TIMEOUT_MAX
    assert budget.PEER_TIMEOUT_MAX + budget.LISTEN_TIMEOUT <= budget.WAIT_BUDGET
    assert budget.CASSANDRA_TIMEOUT + budget.LISTEN_TIMEOUT <= budget.WAIT_BUDGET


def test_a_wait_inside_the_budget_keeps_its_own_timeout():
    clock = epc_fakes.FakeClock()
    run = budget.Budget("configure", sleep=clock.sleep, clock=clock)
    with pytest.raises(WaitTimeout) as info:
        run.wait_for(lambda: False, "Cassandra CQL 10.0.0.1:9042", 300, interval=3)
    assert not isinstance(info.value, budget.BudgetExhausted)
    assert str(info.value) == ("Cassandra CQL 10.0.0.1:9042 not reachable within 300 s; "
                               "running 'configure' again continues where it stopped")
    assert 300 <= clock() <= 303


def test_the_budget_cuts_a_later_wait_and_says_what_it_waited_for():
    clock = epc_fakes.FakeClock()
    run = budget.Budget("configure", sleep=clock.sleep, clock=clock)
    run.wait_for(lambda: clock() >= 400, "Cassandra CQL 10.0.0.1:9042", 450, interval=10)
    with pytest.raises(budget.BudgetExhausted) as info:
        run.wait_for(lambda: False, "HSS Diameter listener 10.0.0.1:3868", 300, interval=2)
    assert str(info.value) == (
        "configure: its time budget of 540 s (OSM R8 allows 10 min without progress) ran out "
        "while waiting for HSS Diameter listener 10.0.0.1:3868 (waited before: Cassandra CQL "
        "10.0.0.1:9042 400 s); running 'configure' again continues where it stopped")
    assert isinstance(info.value, WaitTimeout)  # a peer charm shows Waiting, not Blocked
    assert clock() <= budget.PRIMITIVE_BUDGET + 2


def test_nothing_left_fails_before_waiting():
    clock = epc_fakes.FakeClock()
    run = budget.Budget("restart", sleep=clock.sleep, clock=clock)
    clock.sleep(budget.PRIMITIVE_BUDGET)
    with pytest.raises(budget.BudgetExhausted, match="while waiting for the OAI build;"):
        run.allot("the OAI build", 60)
    assert run.allot.__self__.remaining() == 0


@pytest.mark.parametrize("value, message", [
    (budget.PEER_TIMEOUT_MAX + 1, "peer-timeout: {} s is more than {} s, the most that fits".format(
        budget.PEER_TIMEOUT_MAX + 1, budget.PEER_TIMEOUT_MAX)),
    (-1, "peer-timeout: must be a non-negative integer (seconds)"),
])
def test_a_wait_option_beyond_the_budget_is_refused_naming_it(value, message):
    with pytest.raises(MecpoolError) as info:
        budget.check_wait("peer-timeout", value, budget.PEER_TIMEOUT_MAX)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("charm", ["oai-mme", "oai-spgwu"])
def test_config_yaml_peer_timeout_default_fits(charm):
    option = charmtest.charm_yaml(charm, "config.yaml")["options"]["peer-timeout"]
    assert option["default"] == budget.PEER_TIMEOUT_DEFAULT
    assert str(budget.PEER_TIMEOUT_MAX) in option["description"]
