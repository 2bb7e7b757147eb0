"""WorkloadCharm: runs Juju events and a table of actions against a workload object.

A charm subclasses it with its workload (``make_workload``) and its actions
(``actions()``: name -> ``Action``), and wires every event explicitly in its
own ``__init__`` so that a reader can grep an event's name and find its
observer and handler::

    self.framework.observe(self.on.install, self._on_install)
    self.framework.observe(self.on.configure_action, self._on_configure_action)

    def _on_configure_action(self, event):
        self.run_action(event, "configure")

The lifecycle handlers (``_on_install``, ``_on_config_changed``, ``_on_start``,
``_on_update_status``) live here; a charm observes exactly those its workload
acts on.  The workload is an ops-free object with ``install()`` and
``status()`` -> (kind, message), plus ``start()`` where the charm observes start.

The rules every charm follows:
* an action's parameters are validated before anything runs; a bad one fails
  the action with a message naming it and leaves the unit status as it was;
* an error never becomes a traceback: the action fails with a short, redacted
  message (``SECRET_PARAMS`` values are masked) and the unit shows Blocked with
  the reason, or the workload's own status where the workload rolls a failed
  action back itself (``ROLLS_BACK``);
* after every event and successful action the unit shows the workload's status.

Only API that ops 1.5.4 and ops 2.x both have: CharmBase, framework.observe,
event.params, set_results, fail and the status classes.
"""

import collections
import logging

from ops.charm import CharmBase
from ops.model import ActiveStatus, BlockedStatus, MaintenanceStatus, WaitingStatus

from charmhelpers_mecpool import budget, peerstart
from charmhelpers_mecpool.errors import MecpoolError, WaitTimeout
from charmhelpers_mecpool.status import MAX_LEN, error_message

logger = logging.getLogger(__name__)

STATUS = {"active": ActiveStatus, "blocked": BlockedStatus,
          "maintenance": MaintenanceStatus, "waiting": WaitingStatus}

# One action.  ``parse(params)`` validates the parameters (raising MecpoolError,
# e.g. ValidationError naming the parameter) and returns what ``work`` gets;
# with ``parse`` None the action takes no parameters and ``work()`` gets none.
# ``work`` returns the results dict.  ``activity`` is the MaintenanceStatus
# text while it runs; None leaves the status alone (read-only actions).
Action = collections.namedtuple("Action", "parse work activity")


class WorkloadCharm(CharmBase):
    INSTALL_ACTIVITY = "installing packages"
    # Action parameters whose values are masked in every message.
    SECRET_PARAMS = ()
    # Longest failed-action message (one status line unless a charm needs more).
    ACTION_MESSAGE_LIMIT = MAX_LEN
    # True where the workload undoes a failed action itself: the unit then
    # shows the workload's status instead of Blocked with the reason.
    ROLLS_BACK = False

    def __init__(self, framework):
        super().__init__(framework)
        self.workload = self.make_workload()
        # Built once, after the workload: the table's callables are its methods.
        self._action_table = self.actions()
        # The subclass's __init__ observes its events after this returns.

    # -- what a charm provides ------------------------------------------------

    def make_workload(self):
        raise NotImplementedError("a charm names its workload")

    def actions(self):
        """Action name (as in actions.yaml) -> Action."""
        return {}

    def apply_config(self):
        """config-changed: check (and apply) the charm config; MecpoolError blocks."""

    def refresh(self):
        """update-status: workload steps to take before the status is shown."""

    def failure_status(self, error):
        """The status class a failed action leaves (when it set a maintenance text)."""
        return BlockedStatus

    # -- events -----------------------------------------------------------------

    def _on_install(self, event):
        self.unit.status = MaintenanceStatus(self.INSTALL_ACTIVITY)
        self._run_then_show(self.workload.install)

    def _on_config_changed(self, event):
        self._run_then_show(self.apply_config)

    def _on_start(self, event):
        self._run_then_show(self.workload.start)

    def _on_update_status(self, event):
        self._run_then_show(self.refresh)

    def _run_then_show(self, step):
        """Run ``step``; its MecpoolError blocks the unit, else show the workload's status."""
        try:
            step()
        except MecpoolError as error:
            self.unit.status = BlockedStatus(error_message(error))
            return
        self._show_status()

    # -- actions -----------------------------------------------------------------

    # Handlers of the actions most charms have; a charm observes those its table has.
    def _on_configure_action(self, event):
        self.run_action(event, "configure")

    def _on_restart_action(self, event):
        self.run_action(event, "restart")

    def _on_status_action(self, event):
        self.run_action(event, "status")

    def run_action(self, event, name):
        """Run the table's action ``name`` for ``event``: validate, then work.

        A bad parameter leaves the unit as it was.  A handler naming an action
        the table lacks is a wiring bug: the action fails saying so.
        """
        action = self._action_table.get(name)
        if action is None:
            message = "internal error: no action {!r} in the charm's action table".format(name)
            logger.error(message)
            event.fail(message)
            return
        params = dict(event.params)
        secrets = [str(params[key]) for key in self.SECRET_PARAMS if params.get(key)]
        try:
            args = (action.parse(params),) if action.parse else ()
        except Exception as error:  # noqa: BLE001 - an action must fail, not crash the hook
            event.fail(self._failure_text(error, secrets))
            return
        if action.activity:
            self.unit.status = MaintenanceStatus(action.activity)
        try:
            results = action.work(*args)
        except Exception as error:  # noqa: BLE001 - an action must fail, not crash the hook
            message = self._failure_text(error, secrets)
            logger.warning("action %s failed: %s", name, message)
            event.fail(message)
            if self.ROLLS_BACK:
                self._show_status()
            elif action.activity:
                self.unit.status = self.failure_status(error)(message)
            return
        event.set_results(results)
        self._show_status()

    def _failure_text(self, error, secrets):
        if not isinstance(error, MecpoolError):
            error = "internal error ({}): {}".format(type(error).__name__, error)
        return error_message(error, secrets, self.ACTION_MESSAGE_LIMIT)

    def _show_status(self):
        try:
            kind, message = self.workload.status()
        except MecpoolError as error:
            kind, message = "blocked", error_message(error)
        self.unit.status = STATUS[kind](message)


def build_actions(workload, parse_source, component):
    """`build` (check out, check the layout, start the build) and `wait-build`
    (watch it for one bounded step) of an OAI charm (docs/epc.md)."""
    return {
        "build": Action(parse_source, workload.build, "starting the build of " + component),
        "wait-build": Action(None, workload.wait_build, "building " + component),
    }


class OaiBuildHandlers(object):
    """The handlers of build_actions()' table, for a WorkloadCharm that has it; the charm
    observes them itself (``self.on.build_action``, ``self.on.wait_build_action``)."""

    def _on_build_action(self, event):
        self.run_action(event, "build")

    def _on_wait_build_action(self, event):
        self.run_action(event, "wait-build")


class PeerWaitingCharm(WorkloadCharm):
    """A charm whose service starts only once a peer answers (the MME waits
    for the HSS, the SPGW-U for the SPGW-C).

    `configure` probes the peer once and leaves the start pending (Waiting) when
    it is silent; the `wait-peer` steps of the day-1 list wait for it one bounded
    step each (charmhelpers_mecpool.peerstart), and update-status starts the
    service once the peer is there (``workload.resume()``).  `restart` waits the
    ``peer-timeout`` option, at most budget.PEER_TIMEOUT_MAX so that the wait and
    the service's start fit one primitive's time budget.  A failed wait leaves
    the unit Waiting, not Blocked.
    """

    PEER_TIMEOUT_DEFAULT = budget.PEER_TIMEOUT_DEFAULT

    def peer_timeout(self):
        value = self.config.get("peer-timeout", self.PEER_TIMEOUT_DEFAULT)
        return budget.check_wait("peer-timeout", value, budget.PEER_TIMEOUT_MAX)

    def peer_actions(self, parse_configure, component, peer):
        """configure, wait-peer, restart and status of a service that waits for its
        ``peer``: restart gets the peer-timeout."""
        workload = self.workload
        return {
            "configure": Action(parse_configure, workload.configure, "configuring " + component),
            "wait-peer": Action(peerstart.parse_step, workload.wait_peer,
                                "waiting for {} to start {}".format(peer, component)),
            "restart": Action(None, lambda: workload.restart(self.peer_timeout()),
                              "restarting " + component),
            "status": Action(None, workload.report, None),
        }

    # wait-peer's handler (configure, restart, status: WorkloadCharm's); the charm observes it.
    def _on_wait_peer_action(self, event):
        self.run_action(event, "wait-peer")

    def apply_config(self):
        self.peer_timeout()

    def refresh(self):
        self.workload.resume()

    def failure_status(self, error):
        return WaitingStatus if isinstance(error, WaitTimeout) else BlockedStatus
