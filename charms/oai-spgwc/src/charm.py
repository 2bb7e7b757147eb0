#!/usr/bin/env python3
"""OAI SPGW-C charm: maps Juju events and actions onto spgwc_workload.

The event and action rules are WorkloadCharm's (charmhelpers_mecpool_ops).
"""

from ops.main import main

from charmhelpers_mecpool import validate
from charmhelpers_mecpool_ops.base import build_actions, Action, WorkloadCharm
from spgwc_workload import SpgwcWorkload, parse_configure


class OaiSpgwcCharm(WorkloadCharm):
    INSTALL_ACTIVITY = "installing base packages"
    # Messages name the repository, ref and differing keys, or the build log's tail.
    ACTION_MESSAGE_LIMIT = 1000

    def make_workload(self):
        return SpgwcWorkload()

    def actions(self):
        workload = self.workload
        actions = build_actions(workload, validate.build_source, "the SPGW-C")
        actions.update({
            "configure": Action(parse_configure, workload.configure, "configuring the SPGW-C"),
            "restart": Action(None, workload.restart, "restarting the SPGW-C"),
            "status": Action(None, workload.report, None),
        })
        return actions


if __name__ == "__main__":
    main(OaiSpgwcCharm)
