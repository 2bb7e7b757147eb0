#!/usr/bin/env python3
"""OAI SPGW-U charm: maps Juju events and actions onto spgwu_workload.

The SPGW-U starts only once every SPGW-C answers: PeerWaitingCharm's rules
(charmhelpers_mecpool_ops) bound that wait by the peer-timeout option.
"""

from ops.main import main

from charmhelpers_mecpool import validate
from charmhelpers_mecpool_ops.base import build_actions, PeerWaitingCharm
from spgwu_workload import SpgwuWorkload, parse_configure


class OaiSpgwuCharm(PeerWaitingCharm):
    INSTALL_ACTIVITY = "installing base packages"
    # Messages name the repository, ref and differing keys, or the build log's tail.
    ACTION_MESSAGE_LIMIT = 1000

    def make_workload(self):
        return SpgwuWorkload()

    def actions(self):
        actions = self.peer_actions(parse_configure, "the SPGW-U", "the SPGW-C")
        actions.update(build_actions(self.workload, validate.build_source, "the SPGW-U"))
        return actions


if __name__ == "__main__":
    main(OaiSpgwuCharm)
