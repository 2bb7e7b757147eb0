#!/usr/bin/env python3
"""Pool Registrar charm: maps Juju events and actions onto registrar_workload.

The event and action rules are WorkloadCharm's (charmhelpers_mecpool_ops).
The workload validates the parameters and the config options (identifier,
loglevel, endpoint-keepalive-ms) itself and puts the previous settings back
when new ones fail, so a failed action shows the workload's status.
"""

from ops.framework import StoredState
from ops.main import main

from charmhelpers_mecpool_ops.base import Action, WorkloadCharm
from registrar_workload import RegistrarWorkload


class RspRegistrarCharm(WorkloadCharm):
    INSTALL_ACTIVITY = "installing rsplib-registrar"
    # Action messages may say what was rolled back, so they get more room than a status.
    ACTION_MESSAGE_LIMIT = 400
    ROLLS_BACK = True

    # The config the last successful config-changed applied (registrar_workload.apply_config).
    _stored = StoredState()

    def __init__(self, framework):
        super().__init__(framework)
        self._stored.set_default(applied_config=None)
        # No start: the registrar runs once the configure action has given it an address.
        self.framework.observe(self.on.install, self._on_install)
        self.framework.observe(self.on.config_changed, self._on_config_changed)
        self.framework.observe(self.on.update_status, self._on_update_status)
        self.framework.observe(self.on.configure_action, self._on_configure_action)
        self.framework.observe(self.on.restart_action, self._on_restart_action)
        self.framework.observe(self.on.pool_status_action, self._on_pool_status_action)

    def make_workload(self):
        return RegistrarWorkload()

    def actions(self):
        workload = self.workload
        return {
            # Maintenance while they run, then the workload's status.
            "configure": Action(dict, lambda params: workload.configure(params, dict(self.config)),
                                "configuring the registrar"),
            "restart": Action(None, workload.restart, "restarting the registrar"),
            "pool-status": Action(None, workload.pool_status, None),
        }

    def apply_config(self):
        """Re-render with the config options that changed (ValidationError names the option);
        remembered only once applied, so a failed change is tried again with the next one."""
        config = dict(self.config)
        applied = self._stored.applied_config
        self.workload.apply_config(config, None if applied is None else dict(applied))
        self._stored.applied_config = config

    # Handler of its own action (configure, restart: WorkloadCharm's).
    def _on_pool_status_action(self, event):
        self.run_action(event, "pool-status")


if __name__ == "__main__":
    main(RspRegistrarCharm)
