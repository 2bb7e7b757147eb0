#!/usr/bin/env python3
"""OAI MME charm: maps Juju events and actions onto mme_workload.

The MME starts only once the HSS answers: PeerWaitingCharm's rules
(charmhelpers_mecpool_ops) bound that wait by the peer-timeout option.
"""

from ops.main import main

from charmhelpers_mecpool import validate
from charmhelpers_mecpool_ops.base import build_actions, PeerWaitingCharm
from mme_workload import MmeWorkload, parse_configure


class OaiMmeCharm(PeerWaitingCharm):
    INSTALL_ACTIVITY = "installing base packages"
    # Messages name the repository, ref and differing keys, or the build log's tail.
    ACTION_MESSAGE_LIMIT = 1000

    def make_workload(self):
        return MmeWorkload()

    def actions(self):
        actions = self.peer_actions(parse_configure, "the MME", "the HSS")
        actions.update(build_actions(self.workload, validate.build_source, "the MME"))
        return actions


if __name__ == "__main__":
    main(OaiMmeCharm)
