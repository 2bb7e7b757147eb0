"""charmhelpers_mecpool_ops.base events under the ops the charms ship with (1.5.4).

Run by test_lib_ops_base.py through the shipped_ops fixture; never collected
directly (see conftest.py).
"""

import charmtest

charmtest.require_ops()

import pytest  # noqa: E402
from ops.model import ActiveStatus, BlockedStatus, MaintenanceStatus, WaitingStatus  # noqa: E402

from charmhelpers_mecpool.errors import CommandError, MecpoolError  # noqa: E402
from charmhelpers_mecpool_ops.base import PeerWaitingCharm, WorkloadCharm  # noqa: E402
from ops_base_cases import RecordingWorkload, demo_harness  # noqa: E402


@pytest.fixture
def harness():
    harness = demo_harness()
    yield harness
    harness.cleanup()


def test_install_runs_in_maintenance_then_shows_the_workload(harness):
    workload = harness.charm.workload
    workload.status_value = ("blocked", "run the 'configure' action")
    harness.charm.on.install.emit()
    assert workload.calls[0] == ("install", (), MaintenanceStatus("installing demo"))
    assert harness.model.unit.status == BlockedStatus("run the 'configure' action")


def test_install_failure_blocks_with_the_reason(harness):
    harness.charm.workload.errors["install"] = CommandError(["apt-get", "install"], 100,
                                                            "E: Unable to locate package")
    harness.charm.on.install.emit()
    status = harness.model.unit.status
    assert isinstance(status, BlockedStatus) and "Unable to locate package" in status.message
    assert harness.charm.workload.called("status") == []


def test_start_starts_the_workload_then_shows_it(harness):
    harness.charm.workload.status_value = ("waiting", "listener not up yet")
    harness.charm.on.start.emit()
    assert harness.charm.workload.called("start") == [()]
    assert harness.model.unit.status == WaitingStatus("listener not up yet")


def test_update_status_and_a_broken_status(harness):
    workload = harness.charm.workload
    for kind, cls in (("active", ActiveStatus), ("waiting", WaitingStatus),
                      ("blocked", BlockedStatus), ("maintenance", MaintenanceStatus)):
        workload.status_value = (kind, "state " + kind)
        harness.charm.on.update_status.emit()
        assert harness.model.unit.status == cls("state " + kind)
    workload.errors["status"] = MecpoolError("settings file is broken")
    harness.charm.on.update_status.emit()
    assert harness.model.unit.status == BlockedStatus("settings file is broken")
    assert workload.called("resume") == []  # only a PeerWaitingCharm resumes


class InstallOnlyCharm(WorkloadCharm):
    """Observes install and update-status only, like the pool element."""

    def __init__(self, framework):
        super().__init__(framework)
        self.framework.observe(self.on.install, self._on_install)
        self.framework.observe(self.on.update_status, self._on_update_status)

    def make_workload(self):
        workload = RecordingWorkload()
        workload.charm = self
        return workload


class UnwiredCharm(InstallOnlyCharm):
    """Skips InstallOnlyCharm's wiring: what WorkloadCharm observes by itself."""

    def __init__(self, framework):
        WorkloadCharm.__init__(self, framework)


def test_only_the_events_a_charm_observes_reach_the_workload():
    harness = demo_harness(charm_class=InstallOnlyCharm)
    harness.model.unit.status = ActiveStatus("as it was")
    harness.charm.on.start.emit()
    harness.charm.on.config_changed.emit()
    assert harness.charm.workload.calls == []
    assert harness.model.unit.status == ActiveStatus("as it was")
    harness.charm.on.update_status.emit()
    assert [call[0] for call in harness.charm.workload.calls] == ["status"]
    harness.cleanup()


def test_the_base_class_observes_nothing_by_itself():
    harness = demo_harness(charm_class=UnwiredCharm)
    harness.model.unit.status = ActiveStatus("as it was")
    for event in (harness.charm.on.install, harness.charm.on.config_changed,
                  harness.charm.on.start, harness.charm.on.update_status):
        event.emit()
    assert harness.charm.workload.calls == []
    assert harness.model.unit.status == ActiveStatus("as it was")
    harness.cleanup()


def test_config_changed_shows_the_workload(harness):
    harness.charm.workload.status_value = ("active", "fine")
    harness.charm.on.config_changed.emit()
    assert harness.model.unit.status == ActiveStatus("fine")


def test_peer_waiting_charm_blocks_on_a_bad_peer_timeout():
    harness = demo_harness(PeerWaitingCharm)
    harness.update_config({"peer-timeout": -5})
    assert harness.model.unit.status == BlockedStatus(
        "peer-timeout: must be a non-negative integer (seconds)")
    assert harness.charm.workload.called("status") == []
    harness.update_config({"peer-timeout": 0})
    assert harness.model.unit.status == ActiveStatus("demo ready")
    harness.cleanup()


def test_peer_waiting_charm_resumes_on_update_status():
    harness = demo_harness(PeerWaitingCharm)
    workload = harness.charm.workload
    harness.charm.on.update_status.emit()
    assert workload.called("resume") == [()]
    assert workload.calls.index(("resume", (), workload.calls[0][2])) < [
        c[0] for c in workload.calls].index("status")
    workload.errors["resume"] = CommandError(["systemctl", "restart", "mme.service"], 1, "failed")
    harness.charm.on.update_status.emit()
    assert isinstance(harness.model.unit.status, BlockedStatus)
    harness.cleanup()
