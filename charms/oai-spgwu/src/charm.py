#!/usr/bin/env python3
"""OAI SPGW-U charm: maps Juju events and actions onto spgwu_workload.

Only API that ops 1.5.4 (shipped, Juju 2.8, Python 3.6) and ops 2.x both have.
Parameters are validated before anything runs; errors become a failed action
or a Blocked/Waiting status with a short message, never a traceback.
"""

import logging

from ops.charm import CharmBase
from ops.main import main
from ops.model import ActiveStatus, BlockedStatus, MaintenanceStatus, WaitingStatus

from charmhelpers_mecpool.errors import MecpoolError, WaitTimeout
from charmhelpers_mecpool.status import error_message
from spgwu_workload import SpgwuWorkload, parse_configure

logger = logging.getLogger(__name__)

STATUS = {"active": ActiveStatus, "blocked": BlockedStatus,
          "maintenance": MaintenanceStatus, "waiting": WaitingStatus}


class OaiSpgwuCharm(CharmBase):
    def __init__(self, framework):
        super().__init__(framework)
        self.workload = SpgwuWorkload()
        observe = self.framework.observe
        observe(self.on.install, self._on_install)
        observe(self.on.config_changed, self._on_config_changed)
        observe(self.on.start, self._on_start)
        observe(self.on.update_status, self._on_update_status)
        observe(self.on.configure_action, self._on_configure_action)
        observe(self.on.restart_action, self._on_restart_action)
        observe(self.on.status_action, self._on_status_action)

    def _peer_timeout(self):
        value = self.config.get("peer-timeout", 900)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise MecpoolError("peer-timeout: must be a non-negative integer")
        return value

    def _on_install(self, event):
        self.unit.status = MaintenanceStatus("installing base packages")
        try:
            self.workload.install()
        except MecpoolError as error:
            self.unit.status = BlockedStatus(error_message(error))
            return
        self._show_status()

    def _on_config_changed(self, event):
        try:
            self._peer_timeout()
        except MecpoolError as error:
            self.unit.status = BlockedStatus(error_message(error))
            return
        self._show_status()

    def _on_start(self, event):
        try:
            self.workload.start()
        except MecpoolError as error:
            self.unit.status = BlockedStatus(error_message(error))
            return
        self._show_status()

    def _on_update_status(self, event):
        try:
            self.workload.resume()
        except MecpoolError as error:
            self.unit.status = BlockedStatus(error_message(error))
            return
        self._show_status()

    def _on_configure_action(self, event):
        self._act(event, parse_configure,
                  lambda request: self.workload.configure(request, self._peer_timeout()),
                  "configuring the SPGW-U")

    def _on_restart_action(self, event):
        self._act(event, None, lambda _: self.workload.restart(self._peer_timeout()),
                  "restarting the SPGW-U")

    def _on_status_action(self, event):
        self._act(event, None, lambda _: self.workload.report(), None)

    def _act(self, event, parse, work, activity):
        """Validate, then run; a bad parameter leaves the unit as it was."""
        try:
            request = parse(dict(event.params)) if parse else None
        except MecpoolError as error:
            event.fail(error_message(error))
            return
        if activity:
            self.unit.status = MaintenanceStatus(activity)
        try:
            results = work(request)
        except Exception as error:  # noqa: BLE001 - an action must fail, not crash the hook
            if isinstance(error, MecpoolError):
                message = error_message(error)
            else:
                message = error_message("internal error ({}): {}".format(
                    type(error).__name__, error))
            logger.warning("action failed: %s", message)
            event.fail(message)
            if activity:
                waiting = isinstance(error, WaitTimeout)
                self.unit.status = (WaitingStatus if waiting else BlockedStatus)(message)
            return
        event.set_results(results)
        self._show_status()

    def _show_status(self):
        try:
            kind, message = self.workload.status()
        except MecpoolError as error:
            kind, message = "blocked", error_message(error)
        self.unit.status = STATUS[kind](message)


if __name__ == "__main__":
    main(OaiSpgwuCharm)
