#!/usr/bin/env python3
"""OAI HSS charm: maps Juju events and actions onto hss_workload.

The event and action rules are WorkloadCharm's (charmhelpers_mecpool_ops);
K and OP are redacted from every message.
"""

from ops.main import main

from charmhelpers_mecpool_ops.base import build_actions, Action, OaiBuildHandlers, WorkloadCharm
from hss_workload import HssWorkload, parse_build, parse_configure, parse_provision


class OaiHssCharm(OaiBuildHandlers, WorkloadCharm):
    INSTALL_ACTIVITY = "installing base packages"
    # Messages name the repository, ref and differing keys, or the build log's tail.
    ACTION_MESSAGE_LIMIT = 1000
    SECRET_PARAMS = ("k", "op")

    def __init__(self, framework):
        super().__init__(framework)
        self.framework.observe(self.on.install, self._on_install)
        self.framework.observe(self.on.config_changed, self._on_config_changed)
        self.framework.observe(self.on.start, self._on_start)
        self.framework.observe(self.on.update_status, self._on_update_status)
        self.framework.observe(self.on.build_action, self._on_build_action)
        self.framework.observe(self.on.wait_build_action, self._on_wait_build_action)
        self.framework.observe(self.on.configure_action, self._on_configure_action)
        self.framework.observe(self.on.provision_subscribers_action,
                               self._on_provision_subscribers_action)
        self.framework.observe(self.on.restart_action, self._on_restart_action)
        self.framework.observe(self.on.status_action, self._on_status_action)

    def make_workload(self):
        return HssWorkload()

    def actions(self):
        workload = self.workload
        actions = build_actions(workload, parse_build, "the HSS")
        actions.update({
            "configure": Action(parse_configure, workload.configure, "configuring the HSS"),
            "provision-subscribers": Action(parse_provision, workload.provision,
                                            "provisioning subscribers"),
            "restart": Action(None, workload.restart, "restarting the HSS"),
            "status": Action(None, workload.report, None),
        })
        return actions

    # Its own action's handler (build, wait-build: OaiBuildHandlers; configure, restart, status:
    # WorkloadCharm).
    def _on_provision_subscribers_action(self, event):
        self.run_action(event, "provision-subscribers")


if __name__ == "__main__":
    main(OaiHssCharm)
