#!/usr/bin/env python3
"""OAI MME charm: maps Juju events and actions onto mme_workload.

The MME starts only once the HSS answers: PeerWaitingCharm's rules
(charmhelpers_mecpool_ops) bound that wait by the peer-timeout option.
"""

from ops.main import main

from charmhelpers_mecpool_ops.base import PeerWaitingCharm
from mme_workload import MmeWorkload, parse_configure


class OaiMmeCharm(PeerWaitingCharm):
    INSTALL_ACTIVITY = "installing base packages"

    def make_workload(self):
        return MmeWorkload()

    def actions(self):
        return self.peer_actions(parse_configure, "the MME")


if __name__ == "__main__":
    main(OaiMmeCharm)
