"""rsp-registrar events under the ops the charm ships with (1.5.4).

Run by test_rsp_registrar_charm.py through the shipped_ops fixture; never
collected directly (see conftest.py).
"""

import charmtest

charmtest.require_ops()

import pytest  # noqa: E402
from ops.model import ActiveStatus, BlockedStatus  # noqa: E402

from charmhelpers_mecpool.errors import CommandError, ValidationError  # noqa: E402
from rsp_fakes import FakeWorkload  # noqa: E402

module = charmtest.load_charm_module("rsp-registrar")
workload_module = charmtest.load_charm_module("rsp-registrar", "registrar_workload")


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


def test_install_installs_then_shows_the_workload_status(harness, fake):
    harness.charm.on.install.emit()
    assert fake.called("install") == [()]
    assert harness.model.unit.status == BlockedStatus("run the 'configure' action")


def test_install_failure_blocks_with_the_reason(harness, fake):
    fake.errors["install"] = CommandError(["apt-get", "install"], 100, "E: Unable to locate package")
    harness.charm.on.install.emit()
    status = harness.model.unit.status
    assert isinstance(status, BlockedStatus)
    assert "apt-get install" in status.message and "Unable to locate package" in status.message


def test_config_changed_passes_the_whole_config(harness, fake):
    fake.status_value = ("active", "registrar 10.1.0.2 (ASAP 3863, ENRP 9901), 0 peers")
    harness.update_config({"identifier": 7, "loglevel": 3})
    assert fake.called("apply_config")[-1] == ({"identifier": 7, "loglevel": 3,
                                                "endpoint-keepalive-ms": 0}, None)
    assert harness.model.unit.status == ActiveStatus(
        "registrar 10.1.0.2 (ASAP 3863, ENRP 9901), 0 peers")


def test_config_defaults_reach_the_workload(harness, fake):
    harness.charm.on.config_changed.emit()
    assert fake.called("apply_config") == [({"identifier": 0, "loglevel": 2,
                                             "endpoint-keepalive-ms": 0}, None)]


def test_config_changed_passes_the_config_it_last_applied(harness, fake):
    """Juju's deploy-time config-changed has no previous config; OSM's day-1 "config" then
    gets the deploy-time one to compare with (the workload applies what changed)."""
    harness.charm.on.config_changed.emit()
    harness.update_config({"identifier": 257, "loglevel": 3})
    defaults = {"identifier": 0, "loglevel": 2, "endpoint-keepalive-ms": 0}
    assert fake.called("apply_config") == [
        (defaults, None),
        ({"identifier": 257, "loglevel": 3, "endpoint-keepalive-ms": 0}, defaults)]


def test_a_config_that_failed_is_not_remembered_as_applied(harness, fake):
    harness.charm.on.config_changed.emit()
    fake.errors["apply_config"] = ValidationError("loglevel", "must be an integer 0..9, got 12")
    harness.update_config({"loglevel": 12})
    del fake.errors["apply_config"]
    harness.update_config({"loglevel": 3})
    defaults = {"identifier": 0, "loglevel": 2, "endpoint-keepalive-ms": 0}
    assert fake.called("apply_config")[-1] == (dict(defaults, loglevel=3), defaults)


def test_bad_config_blocks_naming_the_option(harness, fake):
    fake.errors["apply_config"] = ValidationError("loglevel", "must be an integer 0..9, got 12")
    harness.update_config({"loglevel": 12})
    assert harness.model.unit.status == BlockedStatus("loglevel: must be an integer 0..9, got 12")
    assert fake.called("status") == []


def test_update_status_reflects_the_service(harness, fake):
    fake.status_value = ("blocked", "rsp-registrar.service is not running")
    harness.charm.on.update_status.emit()
    assert harness.model.unit.status == BlockedStatus("rsp-registrar.service is not running")


def test_update_status_survives_a_broken_settings_file(harness, fake):
    from charmhelpers_mecpool.errors import MecpoolError
    fake.errors["status"] = MecpoolError("/etc/mecpool/registrar.json is not valid JSON")
    harness.charm.on.update_status.emit()
    assert harness.model.unit.status == BlockedStatus(
        "/etc/mecpool/registrar.json is not valid JSON")
