#!/usr/bin/env python3
"""OAI MME charm: maps Juju events and actions onto mme_workload.

The MME starts only once the HSS answers: PeerWaitingCharm's rules
(charmhelpers_mecpool_ops) bound that wait by the peer-timeout option.
"""

from ops.main import main

from charmhelpers_mecpool import validate
from charmhelpers_mecpool_ops.base import build_actions, OaiBuildHandlers, PeerWaitingCharm
from mme_workload import MmeWorkload, parse_configure


class OaiMmeCharm(OaiBuildHandlers, PeerWaitingCharm):
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
        return MmeWorkload()

    def actions(self):
        actions = self.peer_actions(parse_configure, "the MME", "the HSS")
        actions.update(build_actions(self.workload, validate.build_source, "the MME"))
        return actions


if __name__ == "__main__":
    main(OaiMmeCharm)
