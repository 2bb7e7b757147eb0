#!/usr/bin/env python3
"""OAI SPGW-C charm: maps Juju events and actions onto spgwc_workload.

The event and action rules are WorkloadCharm's (charmhelpers_mecpool_ops).
"""

from ops.main import main

from charmhelpers_mecpool_ops.base import build_actions, Action, OaiBuildHandlers, WorkloadCharm
from spgwc_workload import SpgwcWorkload, parse_build, parse_configure


class OaiSpgwcCharm(OaiBuildHandlers, WorkloadCharm):
    INSTALL_ACTIVITY = "installing base packages"
    # Messages name the repository, ref and differing keys, or the build log's tail.
    ACTION_MESSAGE_LIMIT = 1000

    def __init__(self, framework):
        super().__init__(framework)
        self.framework.observe(self.on.install, self._on_install)
        self.framework.observe(self.on.config_changed, self._on_config_changed)
        self.framework.observe(self.on.start, self._on_start)
        self.framework.observe(self.on.update_status, self._on_update_status)
        self.framework.observe(self.on.build_action, self._on_build_action)
        self.framework.observe(self.on.wait_build_action, self._on_wait_build_action)
        self.framework.observe(self.on.configure_action, self._on_configure_action)
        self.framework.observe(self.on.restart_action, self._on_restart_action)
        self.framework.observe(self.on.status_action, self._on_status_action)

    def make_workload(self):
        return SpgwcWorkload()

    def actions(self):
        workload = self.workload
        actions = build_actions(workload, parse_build, "the SPGW-C")
        actions.update({
            "configure": Action(parse_configure, workload.configure, "configuring the SPGW-C"),
            "restart": Action(None, workload.restart, "restarting the SPGW-C"),
            "status": Action(None, workload.report, None),
        })
        return actions


if __name__ == "__main__":
    main(OaiSpgwcCharm)
