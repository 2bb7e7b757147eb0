#!/usr/bin/env python3
"""Pool Element charm: maps Juju events and actions onto pool_element_workload.

Only API that ops 1.5.4 (what the charm ships with, for Juju 2.8) and ops 2.x
both have: CharmBase, framework.observe, event.params, set_results, fail and
the status classes.
"""

import logging

from ops.charm import CharmBase
from ops.main import main
from ops.model import ActiveStatus, BlockedStatus, MaintenanceStatus, WaitingStatus

from charmhelpers_mecpool.errors import MecpoolError
from charmhelpers_mecpool.status import error_message, short
from pool_element_workload import PoolElementWorkload

logger = logging.getLogger(__name__)

# Action messages may say what was rolled back, so they get more room than a status.
ACTION_MESSAGE_LIMIT = 400
STATUS = {"active": ActiveStatus, "blocked": BlockedStatus,
          "maintenance": MaintenanceStatus, "waiting": WaitingStatus}


class RspPoolElementCharm(CharmBase):
    def __init__(self, framework):
        super().__init__(framework)
        self.workload = PoolElementWorkload()
        observe = self.framework.observe
        observe(self.on.install, self._on_install)
        observe(self.on.update_status, self._on_update_status)
        observe(self.on.configure_action, self._on_configure_action)
        observe(self.on.reconfigure_action, self._on_reconfigure_action)
        observe(self.on.restart_action, self._on_restart_action)
        observe(self.on.pe_status_action, self._on_pe_status_action)

    def _on_install(self, event):
        self.unit.status = MaintenanceStatus("installing rsplib-tools")
        try:
            self.workload.install()
        except MecpoolError as error:
            self.unit.status = BlockedStatus(error_message(error))
            return
        # A PE that cloud-init already started shows as active right away.
        self._show_status()

    def _on_update_status(self, event):
        self._show_status()

    def _on_configure_action(self, event):
        self._act(event, lambda: self.workload.configure(dict(event.params)))

    def _on_reconfigure_action(self, event):
        self._act(event, lambda: self.workload.reconfigure(dict(event.params)))

    def _on_restart_action(self, event):
        self._act(event, self.workload.restart)

    def _on_pe_status_action(self, event):
        self._act(event, self.workload.pe_status)

    def _act(self, event, work):
        """Run ``work``; its dict becomes the results, its MecpoolError the failure."""
        try:
            results = work()
        except MecpoolError as error:
            message = short(str(error), ACTION_MESSAGE_LIMIT)
            logger.warning("action failed: %s", message)
            event.fail(message)
        else:
            event.set_results(results)
        self._show_status()

    def _show_status(self):
        try:
            kind, message = self.workload.status()
        except MecpoolError as error:
            kind, message = "blocked", error_message(error)
        self.unit.status = STATUS[kind](message)


if __name__ == "__main__":
    main(RspPoolElementCharm)
