#!/usr/bin/env python3
"""OAI SPGW-U charm: maps Juju events and actions onto spgwu_workload.

The SPGW-U starts only once every SPGW-C answers: PeerWaitingCharm's rules
(charmhelpers_mecpool_ops) bound that wait by the peer-timeout option.
"""

from ops.main import main

from charmhelpers_mecpool_ops.base import build_actions, OaiBuildHandlers, PeerWaitingCharm
from spgwu_workload import SpgwuWorkload, parse_build, parse_configure


class OaiSpgwuCharm(OaiBuildHandlers, PeerWaitingCharm):
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
        self.framework.observe(self.on.wait_peer_action, self._on_wait_peer_action)
        self.framework.observe(self.on.restart_action, self._on_restart_action)
        self.framework.observe(self.on.status_action, self._on_status_action)

    def make_workload(self):
        return SpgwuWorkload()

    def actions(self):
        actions = self.peer_actions(parse_configure, "the SPGW-U", "the SPGW-C")
        actions.update(build_actions(self.workload, parse_build, "the SPGW-U"))
        return actions


if __name__ == "__main__":
    main(OaiSpgwuCharm)
