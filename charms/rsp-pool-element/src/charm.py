#!/usr/bin/env python3
"""Pool Element charm: maps Juju events and actions onto pool_element_workload.

The event and action rules are WorkloadCharm's (charmhelpers_mecpool_ops).
The workload validates the parameters itself and puts the previous settings
back when new ones fail, so a failed action shows the workload's status.
"""

from ops.main import main

from charmhelpers_mecpool_ops.base import Action, WorkloadCharm
from pool_element_workload import PoolElementWorkload


class RspPoolElementCharm(WorkloadCharm):
    INSTALL_ACTIVITY = "installing rsplib-tools"
    # Action messages may say what was rolled back, so they get more room than a status.
    ACTION_MESSAGE_LIMIT = 400
    ROLLS_BACK = True

    def __init__(self, framework):
        super().__init__(framework)
        # No config options and nothing to start: cloud-init may have started the
        # PE already, and install then shows it as active right away.
        self.framework.observe(self.on.install, self._on_install)
        self.framework.observe(self.on.update_status, self._on_update_status)
        self.framework.observe(self.on.configure_action, self._on_configure_action)
        self.framework.observe(self.on.reconfigure_action, self._on_reconfigure_action)
        self.framework.observe(self.on.restart_action, self._on_restart_action)
        self.framework.observe(self.on.pe_status_action, self._on_pe_status_action)

    def make_workload(self):
        return PoolElementWorkload()

    def actions(self):
        workload = self.workload
        return {
            # Maintenance while they run; afterwards the workload's status (active only once
            # a registrar lists the PE).
            "configure": Action(dict, workload.configure, "configuring the pool element"),
            "reconfigure": Action(dict, workload.reconfigure, "reconfiguring the pool element"),
            "restart": Action(None, workload.restart, "restarting the pool element"),
            "pe-status": Action(None, workload.pe_status, None),
        }

    # Handlers of its own actions (configure, restart: WorkloadCharm's).
    def _on_reconfigure_action(self, event):
        self.run_action(event, "reconfigure")

    def _on_pe_status_action(self, event):
        self.run_action(event, "pe-status")


if __name__ == "__main__":
    main(RspPoolElementCharm)
