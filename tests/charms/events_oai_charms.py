"""EPC charm events under the ops the charms ship with (1.5.4).

Run by test_oai_charms.py through the shipped_ops fixture; never collected
directly (see conftest.py).
"""

import charmtest

charmtest.require_ops()

import pytest  # noqa: E402
from ops.model import ActiveStatus, BlockedStatus, MaintenanceStatus, WaitingStatus  # noqa: E402,F401

from charmhelpers_mecpool.errors import CommandError, MecpoolError  # noqa: E402
from oai_charm_cases import CLASSES  # noqa: E402
from rsp_fakes import FakeWorkload  # noqa: E402

CHARMS = sorted(CLASSES)


def setup(charm, monkeypatch):
    class_name, module_name, workload_name, _ = CLASSES[charm]
    module = charmtest.load_charm_module(charm)
    workload_module = charmtest.load_charm_module(charm, module_name)
    fake = FakeWorkload(getattr(workload_module, workload_name))
    monkeypatch.setattr(module, workload_name, lambda: fake)
    harness = charmtest.make_harness(charm, getattr(module, class_name))
    harness.begin()
    return harness, fake


@pytest.fixture(params=CHARMS)
def case(request, monkeypatch):
    harness, fake = setup(request.param, monkeypatch)
    yield request.param, harness, fake
    harness.cleanup()


def test_install_then_status(case):
    charm, harness, fake = case
    harness.charm.on.install.emit()
    assert fake.called("install") == [()]
    assert harness.model.unit.status == BlockedStatus("run the 'configure' action")


def test_install_failure_blocks(case):
    charm, harness, fake = case
    fake.errors["install"] = CommandError(["apt-get", "install"], 100, "E: no git")
    harness.charm.on.install.emit()
    status = harness.model.unit.status
    assert isinstance(status, BlockedStatus) and "E: no git" in status.message


def test_start_brings_services_up(case):
    charm, harness, fake = case
    fake.status_value = ("active", "up")
    harness.charm.on.start.emit()
    assert fake.called("start") == [()]
    assert harness.model.unit.status == ActiveStatus("up")


def test_update_status_reports_the_workload(case):
    charm, harness, fake = case
    for kind, cls in (("active", ActiveStatus), ("waiting", WaitingStatus),
                      ("blocked", BlockedStatus)):
        fake.status_value = (kind, "state " + kind)
        harness.charm.on.update_status.emit()
        assert harness.model.unit.status == cls("state " + kind)
    takes_peer = CLASSES[charm][3]
    assert len(fake.called("resume")) == (3 if takes_peer else 0)


def test_status_error_becomes_blocked(case):
    charm, harness, fake = case
    fake.errors["status"] = MecpoolError("settings file is broken")
    harness.charm.on.update_status.emit()
    assert harness.model.unit.status == BlockedStatus("settings file is broken")


def test_config_changed_keeps_status(case):
    charm, harness, fake = case
    fake.status_value = ("active", "fine")
    harness.charm.on.config_changed.emit()
    assert harness.model.unit.status == ActiveStatus("fine")


@pytest.mark.parametrize("charm", ["oai-mme", "oai-spgwu"])
def test_bad_peer_timeout_blocks_naming_it(charm, monkeypatch):
    harness, fake = setup(charm, monkeypatch)
    harness.update_config({"peer-timeout": -5})
    assert harness.model.unit.status == BlockedStatus(
        "peer-timeout: must be a non-negative integer (seconds)")
    harness.cleanup()


@pytest.mark.parametrize("charm", ["oai-mme", "oai-spgwu"])
def test_resume_failure_blocks(charm, monkeypatch):
    harness, fake = setup(charm, monkeypatch)
    fake.errors["resume"] = CommandError(["systemctl", "restart", "x"], 1, "failed")
    harness.charm.on.update_status.emit()
    assert isinstance(harness.model.unit.status, BlockedStatus)
    harness.cleanup()
