"""Fetch and build an OAI component at a repository and commit, once per commit.

The build steps are the component's own scripts (argv lists, run in the
checkout); their output goes to a log file, not to the action output.  A
record of (repository, commit) next to the installed binaries makes a second
`configure` with the same commit skip the build.
"""

import os

from . import files, process
from .buildstate import BuildState
from .errors import NotFound
from .gitsource import GitSource

LOG_DIR = "/var/log/mecpool"
STEP_TIMEOUT = 3 * 3600


class BuildStep(object):
    """One build command: argv run in ``cwd`` (relative to the checkout)."""

    def __init__(self, argv, cwd=".", timeout=STEP_TIMEOUT):
        process.check_argv(argv)
        self.argv = list(argv)
        self.cwd = cwd
        self.timeout = timeout

    def __repr__(self):
        return "BuildStep({!r}, cwd={!r})".format(self.argv, self.cwd)


class OaiBuild(object):
    def __init__(self, name, run=process.run, state_dir=None, log_dir=LOG_DIR, jobs=None):
        self.name = name
        self.run = run
        self.git = GitSource(run=run)
        self.state = BuildState(name, **({"state_dir": state_dir} if state_dir else {}))
        self.log_dir = log_dir
        self.jobs = jobs or os.cpu_count() or 1

    @property
    def log_path(self):
        return os.path.join(self.log_dir, "{}-build.log".format(self.name))

    def ensure(self, repository, ref, src_dir, steps, binaries):
        """Check out ``ref`` and build unless already built.  Returns
        {"commit": hash, "built": bool}."""
        commit = self.git.checkout(repository, ref, src_dir)
        if self.state.is_current(repository, commit, binaries):
            return {"commit": commit, "built": False}
        files.ensure_dir(self.log_dir, 0o750)
        env = {"MAKEFLAGS": "-j{}".format(self.jobs)}
        for step in steps:
            self.run(step.argv, cwd=os.path.join(src_dir, step.cwd), env=env,
                     timeout=step.timeout, log_path=self.log_path)
        missing = [b for b in binaries if not os.path.isfile(b)]
        if missing:
            raise NotFound("build finished but {} is missing (see {})".format(
                ", ".join(missing), self.log_path))
        self.state.record(repository, commit, binaries)
        return {"commit": commit, "built": True}
