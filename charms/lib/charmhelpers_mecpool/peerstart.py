"""Starting a service that needs a peer (MME: the HSS; SPGW-U: the SPGW-Cs) in day-1 steps.

OSM LCM v8.0 runs every VDU's day-1 list as its own task (docs/epc.md), so the
MME's `configure` may run while the HSS is still building.  So `configure`
never waits for the peer: it probes it once and starts the service if it
answers; otherwise it records a pending start and succeeds, leaving the unit
Waiting.  The `wait-peer` steps after it in the day-1 list each wait up to
budget.PEER_WAIT_STEP for the peer, then start the service and wait for its
listeners.  Every step but the last succeeds while the peer is silent; the
last one fails, naming the peer.  A step of the day-1 list ("i/M", M > 1) that
would end after budget.DAY1_PEER_DEADLINE from the last `build` is the last
one (it waits what is left), so the failure comes before LCM's NS timeout.  Once the service started, further steps
return at once (update-status may also have started it in between).

A mixin for OaiDaemon workloads, which provide ``peer_label(settings)``,
``peer_answers(settings)`` (one probe) and ``wait_for_peer(settings,
timeout, budget)``.  No ``ops`` import.
"""

import collections
import re

from . import budget as budgets
from . import validate
from .errors import ValidationError, WaitTimeout

# index-th of count wait-peer steps in the day-1 list (both from 1).
Step = collections.namedtuple("Step", "index count")
STEP_TEXT = re.compile(r"\A([0-9]{1,4})/([0-9]{1,4})\Z")   # ASCII digits only ("²" is isdigit())


def parse_step(params):
    """The `step` parameter ("i/n", e.g. "3/14") of wait-peer; ValidationError naming it."""
    validate.required(params, ("step",))
    text = params["step"]
    match = STEP_TEXT.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValidationError("step", "must be 'i/n', the step and the number of wait-peer "
                                      "steps, such as '3/14' (got {!r})".format(text))
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= index <= count:
        raise ValidationError("step", "{!r}: the step must be between 1 and the number of "
                                      "steps".format(text))
    return Step(index, count)


class PeerStart(object):
    """configure's start and the wait-peer steps of a service that needs a peer."""

    def peer_label(self, settings):
        raise NotImplementedError("the workload names its peer")

    def peer_answers(self, settings):
        raise NotImplementedError("the workload probes its peer")

    def wait_for_peer(self, settings, timeout, budget):
        raise NotImplementedError("the workload waits for its peer")

    def start_if_peer_answers(self, settings, budget, results):
        """configure's last step: start now if the peer answers one probe, else leave
        the start pending (wait-peer or update-status does it).  Updates ``results``."""
        label = self.peer_label(settings)
        if self.peer_answers(settings):
            self._start(settings, budget)
            results.update({"restarted": "true", "pending-start": "false"})
        else:
            results.update({"restarted": "false", "pending-start": "true",
                            "waiting-for": "{} (run wait-peer; update-status also starts {} "
                                           "when it answers)".format(label, self.SERVICE)})
        return results

    def day1_deadline(self):
        """Wall-clock time after which the day-1 wait-peer steps give up (None before
        any `build`)."""
        record = self.day1.load()
        if not record or not isinstance(record.get("build-started"), int):
            return None
        return record["build-started"] + budgets.DAY1_PEER_DEADLINE

    def resume(self):
        """update-status: start a service whose start waited for its peer."""
        settings = self.settings.load()
        if not settings or not settings.get("pending-start"):
            return False
        if not self.peer_answers(settings):
            return False
        self._start(settings, self.budget("update-status"))
        return True

    def wait_peer(self, step):
        """The `wait-peer` action, step ``step`` (a Step) of the day-1 list."""
        settings = self._configured()
        label = self.peer_label(settings)
        results = {"step": "{}/{}".format(step.index, step.count), "peer": label}
        if not settings.get("pending-start"):
            results.update({"started": "already", "message": "{} already started".format(
                self.SERVICE)})
            return results
        budget = self.budget("wait-peer")
        wait, last, cut = budgets.PEER_WAIT_STEP, step.index == step.count, ""
        deadline = self.day1_deadline() if step.count > 1 else None
        if deadline is not None and deadline - self.wall_clock() < wait:
            # The day-1 list's time is up: this step is its last (one probe at least).
            wait, last = max(0, int(deadline - self.wall_clock())), True
            cut = (" by the end of day 1's time ({} min after 'build' started: LCM's {} h NS "
                   "deadline less {} min for VM creation and charm deployment and one "
                   "primitive)".format(budgets.DAY1_PEER_DEADLINE // 60,
                                       budgets.NS_DEPLOY_TIMEOUT // 3600,
                                       budgets.DEPLOY_OVERHEAD // 60))
        try:
            self.wait_for_peer(settings, wait, budget)
        except WaitTimeout as error:
            if not last:
                results.update({"started": "no", "message": "still waiting for {}, step {}/{}".format(
                    label, step.index, step.count)})
                return results
            raise WaitTimeout(
                "wait-peer step {}/{}: {} did not answer{} ({}); {} stays stopped. Check that {} "
                "is up and reachable, then run 'wait-peer' (or 'restart'); update-status also "
                "starts it once {} answers".format(step.index, step.count, label, cut, error,
                                                    self.SERVICE, label, label))
        self._start(settings, budget)
        results.update({"started": "yes", "message": "{} answered; {} started".format(
            label, self.SERVICE)})
        return results
