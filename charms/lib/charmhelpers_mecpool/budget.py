"""The time budget of one OAI primitive (docs/epc.md, "which primitive waits for what").

OSM LCM v8.0 fails a primitive after 10 minutes without progress, and a running
Juju action makes none (N2VC v8.0).  So every primitive gets PRIMITIVE_BUDGET
seconds in all, and every wait inside it draws from one ``Budget``: a wait is
cut to what is left, and when nothing is left the action fails with
``BudgetExhausted``, naming what it waited for.  Every primitive is idempotent,
so running it again continues where it stopped.

The constants here are the only place the waits' lengths are set; the
workloads' WAITS tables (checked by the tests) are built from them.
"""

import time

from . import net
from .errors import CommandError, MecpoolError, WaitTimeout

# What one primitive may take in all: one minute under LCM v8.0's 10 minutes
# without progress (osm_lcm/ns.py timeout_progress_primitive).
PRIMITIVE_BUDGET = 9 * 60
# Kept for a primitive's own commands (apt, netplan, certificates, cqlsh, systemctl):
# the planned waits of one primitive add up to WAIT_BUDGET at most.
COMMAND_RESERVE = 60
WAIT_BUDGET = PRIMITIVE_BUDGET - COMMAND_RESERVE

# The waits, in seconds.
BUILD_WAIT_STEP = 7 * 60        # wait-build watches the build this long
BUILD_POLL_INTERVAL = 15        # ... reading its state this often (one read may overrun)
LISTEN_TIMEOUT = 90             # a started OAI daemon opens its sockets
CASSANDRA_TIMEOUT = 300         # Cassandra's CQL port after a (re)start
# The peer wait (peer-timeout option: MME for the HSS, SPGW-U for the SPGW-C) is
# followed by the daemon's own listener wait in the same primitive.
PEER_TIMEOUT_MAX = WAIT_BUDGET - LISTEN_TIMEOUT
PEER_TIMEOUT_DEFAULT = 300
# One `wait-peer` step (peerstart.py) waits this long for the peer, then starts the
# service: a fixed length, so the day-1 list's step count (mecpool.descriptors.
# primitives.WAIT_PEER_STEPS) covers the peer's build whatever peer-timeout says.
PEER_WAIT_STEP = PEER_TIMEOUT_MAX
PEER_WAIT_INTERVAL = 5
# configure only probes the peer once (TCP connect 3 s; PFCP heartbeat 2 s per SPGW-C).
PEER_PROBE_TIMEOUT = 10
# LCM v8.0's timeout_ns_deploy (2 h, osm_lcm/ns.py) starts when the NS's tasks start:
# it covers VM creation, Juju's SSH provisioning and the charm's deployment before
# `build`, taken as DEPLOY_OVERHEAD.  A wait-peer step of the day-1 list gives up
# DAY1_PEER_DEADLINE after the VDU's `build` started, so that a peer that never
# answers is reported (the step fails, naming it) before LCM's own timeout: one
# primitive's budget of margin for the step that reports it.
NS_DEPLOY_TIMEOUT = 2 * 3600
DEPLOY_OVERHEAD = 15 * 60
DAY1_PEER_DEADLINE = NS_DEPLOY_TIMEOUT - DEPLOY_OVERHEAD - PRIMITIVE_BUDGET


class BudgetExhausted(WaitTimeout):
    """A primitive's time budget ran out; running it again continues."""


def plan_total(waits):
    """The worst case of a WAITS entry: the sum of its (what, seconds) waits."""
    return sum(seconds for _, seconds in waits)


class Budget(object):
    """The time left to one run of ``primitive``; every wait in it goes through here."""

    def __init__(self, primitive, total=PRIMITIVE_BUDGET, sleep=time.sleep, clock=time.monotonic):
        self.primitive = primitive
        self.total = total
        self.sleep = sleep
        self.clock = clock
        self.deadline = clock() + total
        self.waited = []  # (what, seconds) of the waits so far, for the failure message

    def remaining(self):
        return max(0, self.deadline - self.clock())

    def allot(self, what, wanted):
        """Seconds ``what`` may take: ``wanted`` or what is left, whichever is less;
        BudgetExhausted when nothing is left."""
        left = self.remaining()
        if left <= 0:
            raise self.exhausted(what)
        return min(wanted, left)

    def wait_for(self, probe, what, timeout, interval=2.0):
        """net.wait_for within the budget; names the budget when it cut the wait."""
        allowed = self.allot(what, timeout)
        started = self.clock()
        try:
            return net.wait_for(probe, what, allowed, interval=interval, sleep=self.sleep,
                                clock=self.clock)
        except WaitTimeout as error:
            if allowed < timeout:
                raise self.exhausted(what)
            raise WaitTimeout("{}; {}".format(error, self.again()))
        finally:
            self.waited.append((what, int(self.clock() - started)))

    def run(self, run, argv, what, wanted, **kwargs):
        """``run(argv, timeout=...)`` with what is left of the budget (at most
        ``wanted``) as its timeout: network commands (git fetch, apt-get) get
        no more than the primitive has.  A command the budget cut off raises
        BudgetExhausted, naming it."""
        allowed = self.allot(what, wanted)
        started = self.clock()
        try:
            return run(argv, timeout=allowed, **kwargs)
        except CommandError as error:
            if error.timed_out and allowed < wanted:
                raise self.exhausted(what)
            raise
        finally:
            self.waited.append((what, int(self.clock() - started)))

    def exhausted(self, what):
        before = ", ".join("{} {} s".format(name, seconds) for name, seconds in self.waited)
        return BudgetExhausted(
            "{}: its time budget of {} s (OSM R8 allows 10 min without progress) ran out "
            "while waiting for {}{}; {}".format(
                self.primitive, int(self.total), what,
                " (waited before: {})".format(before) if before else "", self.again()))

    def again(self):
        return "running '{}' again continues where it stopped".format(self.primitive)


def check_wait(name, value, maximum):
    """A wait option (seconds): an integer 0..maximum; MecpoolError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MecpoolError("{}: must be a non-negative integer (seconds)".format(name))
    if value > maximum:
        raise MecpoolError(
            "{}: {} s is more than {} s, the most that fits a primitive's time budget of {} s "
            "with the service's own start (OSM R8 fails a primitive after 10 min without "
            "progress)".format(name, value, maximum, PRIMITIVE_BUDGET))
    return value
