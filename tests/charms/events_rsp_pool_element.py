"""rsp-pool-element events under the ops the charm ships with (1.5.4).

Run by test_rsp_pool_element_charm.py through the shipped_ops fixture; never
collected directly (see conftest.py).
"""

import charmtest

charmtest.require_ops()

import pytest  # noqa: E402
from ops.model import ActiveStatus, BlockedStatus, MaintenanceStatus  # noqa: E402

from charmhelpers_mecpool.errors import CommandError, MecpoolError  # noqa: E402
from rsp_fakes import FakeWorkload  # noqa: E402

module = charmtest.load_charm_module("rsp-pool-element")
workload_module = charmtest.load_charm_module("rsp-pool-element", "pool_element_workload")


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


def test_install_of_a_fresh_vdu_asks_for_configure(harness, fake):
    harness.charm.on.install.emit()
    assert fake.called("install") == [()]
    assert harness.model.unit.status == BlockedStatus("run the 'configure' action")


def test_install_on_a_vdu_cloud_init_configured_is_active_at_once(harness, fake):
    fake.status_value = ("active", "PE of CalcAppPool: 1000000 calc/s, 4 jobs, load increment 0.1")
    harness.charm.on.install.emit()
    assert harness.model.unit.status == ActiveStatus(
        "PE of CalcAppPool: 1000000 calc/s, 4 jobs, load increment 0.1")


def test_install_failure_blocks_with_the_reason(harness, fake):
    fake.errors["install"] = CommandError(["apt-get", "update"], 100, "Temporary failure resolving")
    harness.charm.on.install.emit()
    status = harness.model.unit.status
    assert isinstance(status, BlockedStatus) and "Temporary failure resolving" in status.message
    assert fake.called("status") == []


def test_update_status_reflects_the_service(harness, fake):
    fake.status_value = ("blocked", "rsp-pool-element.service is not running")
    harness.charm.on.update_status.emit()
    assert harness.model.unit.status == BlockedStatus("rsp-pool-element.service is not running")


def test_update_status_with_a_broken_settings_file(harness, fake):
    fake.errors["status"] = MecpoolError("/etc/mecpool/pool-element.json is not valid JSON")
    harness.charm.on.update_status.emit()
    assert harness.model.unit.status == BlockedStatus(
        "/etc/mecpool/pool-element.json is not valid JSON")


def test_config_changed_touches_nothing(harness, fake):
    harness.charm.on.config_changed.emit()
    assert fake.calls == []
    assert isinstance(harness.model.unit.status, MaintenanceStatus)
