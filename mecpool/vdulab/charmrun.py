"""Run a built charm on a lab VM through its real ``dispatch``, under the Juju
hook-tool stand-in (mecpool.vdulab.jujustandin), in the order Juju 2.8 and
OSM R8's N2VC drive a native charm: deploy hooks, then the day-1 primitives
(``config`` becomes charm config and a config-changed hook; the others are
actions), then day-2 actions."""

import shlex

from . import jujustandin
from .vdus import is_config

REMOTE_STANDIN = jujustandin.REMOTE_STANDIN_DIR
# Where the Juju 2.8 machine agent unpacks a unit's charm.
REMOTE_CHARM = "/var/lib/juju/agents/unit-{app}-0/charm"
REMOTE_STATE = "/var/lib/mecpool-vdulab/juju-state/{app}"
# The hooks Juju runs when it deploys a charm to a (manual) machine, in order.
DEPLOY_HOOKS = ("install", "leader-elected", "config-changed", "start")


class CharmRunError(RuntimeError):
    """A hook or action could not be run (not: the action failed)."""


class CharmOnVm(object):
    def __init__(self, guest, charm_dir):
        self.guest = guest
        self.charm_dir = charm_dir
        self.app = charm_dir.name
        self.remote_charm = REMOTE_CHARM.format(app=self.app)
        self.state = REMOTE_STATE.format(app=self.app)
        self.config = {}
        self.outcomes = []

    def deploy(self):
        """Copy the charm and the stand-in; run Juju's deploy hooks."""
        self.guest.put_tree(jujustandin.STANDIN_DIR, REMOTE_STANDIN)
        self.guest.put_tree(self.charm_dir, self.remote_charm)
        return [self.hook(name) for name in DEPLOY_HOOKS]

    def _run(self, argv):
        command = "cd / && " + " ".join(shlex.quote(a) for a in argv)
        done = self.guest.sudo(command, check=False, timeout=900)
        try:
            outcome = jujustandin.Outcome.from_json(done.stdout)
        except (ValueError, KeyError, TypeError):
            raise CharmRunError("{}: the stand-in printed no outcome (exit {}): {}".format(
                self.guest.name, done.returncode, (done.stdout + done.stderr).strip()[-1500:])) from None
        self.outcomes.append(outcome)
        return outcome

    def hook(self, name):
        return self._run(jujustandin.remote_command(self.remote_charm, self.state, hook=name,
                                                    config=self.config))

    def action(self, name, params=None):
        return self._run(jujustandin.remote_command(self.remote_charm, self.state, action=name,
                                                    params=params or {}, config=self.config))

    def set_config(self, values):
        """What N2VC's "config" primitive does: set the application's config,
        which makes Juju run config-changed."""
        self.config.update(values)
        return self.hook("config-changed")

    def day1(self, primitives):
        """OSM's initial-config-primitives in seq order; stops at the first failure."""
        out = []
        for primitive in primitives:
            outcome = self.set_config(primitive.params) if is_config(primitive) else \
                self.action(primitive.name, primitive.params)
            out.append((primitive.name, outcome))
            if outcome.status != "completed":
                break
        return out
