"""Fetch an OAI component at a repository and ref; build it out of the action's time.

``checkout`` makes the source tree (minutes at most).  ``start`` hands the
build steps (the component's own scripts) to a runner that works on in the
background (buildrunner.SystemdBuildRunner); ``wait`` watches it for a bounded
time and says where it is.  A record of (repository, commit) next to the
installed binaries makes a second build of the same commit a no-op.
"""

import collections
import os
import time

from .buildrunner import SystemdBuildRunner
from .buildstate import BuildState
from .errors import MecpoolError, NotFound
from .gitsource import GitSource
from . import budget, process

LOG_DIR = "/var/log/mecpool"
# One wait inside an action (wait-build): inside a primitive's time budget, so
# no primitive of the day-1 sequence can time out the NS while a build runs.
WAIT_STEP = budget.BUILD_WAIT_STEP
POLL_INTERVAL = budget.BUILD_POLL_INTERVAL


class BuildStep(object):
    """One build command: argv run in ``cwd`` (relative to the checkout)."""

    def __init__(self, argv, cwd="."):
        process.check_argv(argv)
        self.argv = list(argv)
        self.cwd = cwd

    def __repr__(self):
        return "BuildStep({!r}, cwd={!r})".format(self.argv, self.cwd)


class BuildFailed(MecpoolError):
    """The background build ended with an error; the message has the log's tail."""


# What ``start``/``wait`` report: state built|running|started, the commit, the
# step (n of steps) and the minutes since the build started.
BuildProgress = collections.namedtuple("BuildProgress", "state commit step steps minutes")


class OaiBuild(object):
    def __init__(self, name, run=process.run, state_dir=None, log_dir=LOG_DIR, runner=None,
                 systemd=None, sleep=time.sleep, clock=time.monotonic, wall_clock=time.time):
        self.name = name
        self.git = GitSource(run=run)
        self.state = BuildState(name, **({"state_dir": state_dir} if state_dir else {}))
        self.log_path = os.path.join(log_dir, "{}-build.log".format(name))
        self.runner = runner or SystemdBuildRunner(
            name, systemd, os.path.dirname(self.state.path), self.log_path, clock=wall_clock)
        self.sleep = sleep
        self.clock = clock
        self.wall_clock = wall_clock

    def checkout(self, repository, ref, src_dir, budget=None):
        """The commit ``ref`` resolves to, checked out in ``src_dir`` (no build);
        fetch and checkout within ``budget`` (budget.Budget) when given."""
        return self.git.checkout(repository, ref, src_dir, before_change=self._stop_other,
                                 budget=budget)

    def _stop_other(self, commit):
        """A build of another commit must not run in a tree being replaced."""
        status = self.runner.status()
        if status.state == "running" and status.commit != commit:
            self.runner.stop()

    def _progress(self, state, commit, status=None):
        minutes = 0
        if status is not None and status.started is not None:
            minutes = int(max(0, self.wall_clock() - status.started) // 60)
        return BuildProgress(state, commit, status.step if status else 0,
                             status.steps if status else 0, minutes)

    def start(self, repository, commit, src_dir, steps, binaries):
        """Start building ``commit`` unless it is built or being built."""
        if self.state.is_current(repository, commit, binaries):
            return self._progress("built", commit)
        status = self.runner.status()
        if status.commit == commit and status.state == "running":
            return self._progress("running", commit, status)
        if (status.commit == commit and status.state == "succeeded"
                and all(os.path.isfile(b) for b in binaries)):
            return self._finish(repository, commit, binaries, status)
        self.runner.start(commit, steps, src_dir)
        return self._progress("started", commit, self.runner.status())

    def _finish(self, repository, commit, binaries, status):
        missing = [b for b in binaries if not os.path.isfile(b)]
        if missing:
            raise NotFound("the build of {} finished but {} is missing (see {})".format(
                commit[:12], ", ".join(missing), self.log_path))
        self.state.record(repository, commit, binaries)
        return self._progress("built", commit, status)

    def failure(self, status):
        tail = " | ".join(line.strip() for line in self.runner.log_tail() if line.strip())
        return BuildFailed("the build of {} failed at step {}/{} ({}, exit code {}); end of {}: "
                           "{}".format((status.commit or "")[:12], status.step, status.steps,
                                       status.command, status.exit_code, self.log_path,
                                       tail or "(empty)"))

    def wait(self, repository, commit, src_dir, steps, binaries, max_wait=WAIT_STEP):
        """Watch the build of ``commit`` for up to ``max_wait`` seconds.

        Returns BuildProgress with state "built", or "running" when the time is
        up first; raises BuildFailed when the build failed.  A build cut off
        (reboot, charm restarted with the VM) is started again once.
        """
        progress = self.start(repository, commit, src_dir, steps, binaries)
        if progress.state == "built":
            return progress
        deadline = self.clock() + max_wait
        restarted = False
        while True:
            status = self.runner.status()
            if status.commit != commit:
                raise MecpoolError("another build ({}) replaced the build of {}".format(
                    (status.commit or "none")[:12], commit[:12]))
            if status.state == "succeeded":
                return self._finish(repository, commit, binaries, status)
            if status.state == "failed":
                raise self.failure(status)
            if status.state == "interrupted":
                if restarted:
                    raise BuildFailed("the build of {} stopped twice without a result; see "
                                      "{}".format(commit[:12], self.log_path))
                self.runner.start(commit, steps, src_dir)
                restarted = True
                continue
            if self.clock() >= deadline:
                return self._progress("running", commit, status)
            self.sleep(min(POLL_INTERVAL, max(1, deadline - self.clock())))

    def status(self, repository, commit, binaries):
        """Where the build of ``commit`` is, without waiting (for the unit status)."""
        if self.state.is_current(repository, commit, binaries):
            return self._progress("built", commit), None
        status = self.runner.status()
        if status.commit != commit:
            return self._progress("none", commit), None
        return self._progress(status.state, commit, status), status
