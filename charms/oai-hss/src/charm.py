#!/usr/bin/env python3
"""OAI HSS charm: maps Juju events and actions onto hss_workload.

The event and action rules are WorkloadCharm's (charmhelpers_mecpool_ops);
K and OP are redacted from every message.
"""

from ops.main import main

from charmhelpers_mecpool import validate
from charmhelpers_mecpool_ops.base import build_actions, Action, WorkloadCharm
from hss_workload import HssWorkload, parse_configure, parse_provision


class OaiHssCharm(WorkloadCharm):
    INSTALL_ACTIVITY = "installing base packages"
    # Messages name the repository, ref and differing keys, or the build log's tail.
    ACTION_MESSAGE_LIMIT = 1000
    SECRET_PARAMS = ("k", "op")

    def make_workload(self):
        return HssWorkload()

    def actions(self):
        workload = self.workload
        actions = build_actions(workload, validate.build_source, "the HSS")
        actions.update({
            "configure": Action(parse_configure, workload.configure, "configuring the HSS"),
            "provision-subscribers": Action(parse_provision, workload.provision,
                                            "provisioning subscribers"),
            "restart": Action(None, workload.restart, "restarting the HSS"),
            "status": Action(None, workload.report, None),
        })
        return actions


if __name__ == "__main__":
    main(OaiHssCharm)
