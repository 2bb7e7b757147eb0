#!/usr/bin/env python3
"""OAI MME charm: maps Juju events and actions onto mme_workload.

The MME starts only once the HSS answers: PeerWaitingCharm's rules
(charmhelpers_mecpool_ops) bound that wait by the peer-timeout option.
"""

from ops.main import main

from charmhelpers_mecpool_ops.base import Action, PeerWaitingCharm
from mme_workload import MmeWorkload, parse_configure


class OaiMmeCharm(PeerWaitingCharm):
    INSTALL_ACTIVITY = "installing base packages"

    def make_workload(self):
        return MmeWorkload()

    def actions(self):
        workload = self.workload
        return {
            "configure": Action(
                parse_configure,
                lambda request: workload.configure(request, self.peer_timeout()),
                "configuring the MME"),
            "restart": Action(None, lambda: workload.restart(self.peer_timeout()),
                              "restarting the MME"),
            "status": Action(None, workload.report, None),
        }


if __name__ == "__main__":
    main(OaiMmeCharm)
