"""A demo charm on charmhelpers_mecpool_ops.base for its tests (both ops versions).

test_lib_ops_base.py drives the actions under ops 2.23; events_lib_ops_base.py
drives the events under the shipped ops 1.5.4.  The workload is a recorder:
it notes each call with the unit status the charm showed at that moment, and
answers with the result or raises the error a test gave it.
"""

import charmtest  # noqa: F401 - puts charms/lib on sys.path

from charmhelpers_mecpool.errors import ValidationError  # noqa: E402
from charmhelpers_mecpool_ops.base import Action, PeerWaitingCharm, WorkloadCharm  # noqa: E402

META = "name: demo\nseries: [bionic]\n"
ACTIONS = """\
configure:
  description: demo configure
  params:
    name: {type: string, description: lower-case letters}
    key: {type: string, description: a hex secret}
  required: [name]
  additionalProperties: false
restart:
  description: demo restart
  additionalProperties: false
wait-peer:
  description: demo wait-peer (PeerWaitingCharm only)
  params:
    step: {type: string, description: i/n}
  required: [step]
  additionalProperties: false
status:
  description: demo status
  additionalProperties: false
"""
CONFIG = """\
options:
  peer-timeout: {type: int, default: 300, description: seconds to wait for a peer}
"""
KEY = "8BAF473F2F8FD09487CCCBD7097C6862"


def parse_configure(params):
    name = params["name"]
    if not name.isalpha() or not name.islower():
        raise ValidationError("name", "must be lower-case letters, got {!r}".format(name))
    key = params.get("key", "")
    if key and len(key) != 32:
        raise ValidationError("key", "{} is not 32 hex digits".format(key))
    return {"name": name, "key": key}


class RecordingWorkload(object):
    def __init__(self):
        self.charm = None
        self.calls = []  # (method, args, unit status during the call)
        self.results = {}
        self.errors = {}
        self.status_value = ("active", "demo ready")

    def _call(self, name, *args):
        self.calls.append((name, args, self.charm.unit.status if self.charm else None))
        if name in self.errors:
            raise self.errors[name]
        return self.results.get(name)

    def called(self, name):
        return [call[1] for call in self.calls if call[0] == name]

    def install(self):
        return self._call("install")

    def start(self):
        return self._call("start")

    def resume(self):
        return self._call("resume")

    def configure(self, *args):
        return self._call("configure", *args)

    def restart(self, *args):
        return self._call("restart", *args)

    def wait_peer(self, *args):
        return self._call("wait_peer", *args)

    def report(self):
        return self._call("report")

    def status(self):
        self._call("status")
        return self.status_value


def demo_class(base=WorkloadCharm, **attributes):
    """A charm class on ``base`` wired like the real charms: install, config-changed,
    start and update-status, and the actions configure/restart/status (plus
    wait-peer on a PeerWaitingCharm)."""

    class DemoCharm(base):
        INSTALL_ACTIVITY = "installing demo"
        SECRET_PARAMS = ("key",)

        def __init__(self, framework):
            super().__init__(framework)
            self.framework.observe(self.on.install, self._on_install)
            self.framework.observe(self.on.config_changed, self._on_config_changed)
            self.framework.observe(self.on.start, self._on_start)
            self.framework.observe(self.on.update_status, self._on_update_status)
            self.framework.observe(self.on.configure_action, self._on_configure_action)
            self.framework.observe(self.on.restart_action, self._on_restart_action)
            self.framework.observe(self.on.status_action, self._on_status_action)

        def make_workload(self):
            workload = RecordingWorkload()
            workload.charm = self
            return workload

        def actions(self):
            if isinstance(self, PeerWaitingCharm):
                return self.peer_actions(parse_configure, "demo", "the demo's peer")
            workload = self.workload
            return {"configure": Action(parse_configure, workload.configure, "configuring demo"),
                    "restart": Action(None, workload.restart, "restarting demo"),
                    "status": Action(None, workload.report, None)}

        def _on_configure_action(self, event):
            self.run_action(event, "configure")

        def _on_restart_action(self, event):
            self.run_action(event, "restart")

        def _on_status_action(self, event):
            self.run_action(event, "status")

    charm_class = DemoCharm
    if issubclass(base, PeerWaitingCharm):
        class PeerDemoCharm(DemoCharm):
            def __init__(self, framework):
                super().__init__(framework)
                self.framework.observe(self.on.wait_peer_action, self._on_wait_peer_action)

            def _on_wait_peer_action(self, event):
                self.run_action(event, "wait-peer")

        charm_class = PeerDemoCharm
    for name, value in attributes.items():
        setattr(charm_class, name, value)
    return charm_class


def demo_harness(base=WorkloadCharm, charm_class=None, **attributes):
    """A begun Harness for demo_class(base, **attributes), or for ``charm_class``."""
    import warnings
    from ops.testing import Harness
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        harness = Harness(charm_class or demo_class(base, **attributes), meta=META, actions=ACTIONS,
                          config=CONFIG)
    harness.begin()
    return harness
