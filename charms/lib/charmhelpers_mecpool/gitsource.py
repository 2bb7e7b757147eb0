"""Check out a git repository at a commit, tag or branch (idempotently).

A checkout may be cut off anywhere (the primitive's time budget ends a slow
fetch, a VM reboots): nothing here trusts a tree unless the last step finished.
The repository is made with ``git init`` + ``git fetch`` instead of ``git
clone`` (a clone cut off leaves a directory a second clone refuses), stale lock
files and partial packs of a killed git are removed before git runs again, and
the commit whose tree is complete is recorded in ``.git/mecpool-checkout``
only after checkout and clean succeeded; the record is removed before the tree
changes.  So the next run resumes: it fetches again (git cannot continue a
partial pack, it starts that pack over) and redoes the checkout.
"""

import glob
import os
import re
import shutil

from . import files, process
from .errors import NotFound

_FULL_HASH = re.compile(r"^[0-9a-f]{40}$")
# Written inside .git after a checkout finished: the commit the work tree holds.
COMPLETE_MARK = "mecpool-checkout"
# Network commands (fetch) may take this long when no budget cuts them shorter.
NETWORK_TIMEOUT = 1200
# Local commands (rev-parse, remote, init) are quick; checkout and clean write
# the tree and draw from the budget like fetch.
LOCAL_TIMEOUT = 120
# What a killed git may leave behind: lock files that make the next git refuse
# to run, and temporary packs that only take disk space.
_STALE = ("index.lock", "HEAD.lock", "config.lock", "packed-refs.lock", "shallow.lock",
          "FETCH_HEAD.lock", "ORIG_HEAD.lock")


class GitSource(object):
    def __init__(self, run=process.run, timeout=NETWORK_TIMEOUT):
        self.run = run
        self.timeout = timeout

    def _git(self, dest, *args, **kwargs):
        return self.run(["git", "-C", dest] + list(args), timeout=LOCAL_TIMEOUT, **kwargs)

    def _git_long(self, budget, what, dest, *args):
        """A git command that may take long: within ``budget`` when there is one."""
        argv = ["git", "-C", dest] + list(args)
        if budget is None:
            return self.run(argv, timeout=self.timeout)
        return budget.run(self.run, argv, what, self.timeout)

    @staticmethod
    def _mark_path(dest):
        return os.path.join(dest, ".git", COMPLETE_MARK)

    def head(self, dest):
        """The commit HEAD points at (None without a repository or a commit)."""
        if not os.path.isdir(os.path.join(dest, ".git")):
            return None
        result = self._git(dest, "rev-parse", "--verify", "HEAD^{commit}", check=False)
        return result.stdout.strip() if result.returncode == 0 else None

    def complete(self, dest):
        """The commit whose checkout in ``dest`` finished, or None (no checkout, or
        one cut off before it finished)."""
        try:
            with open(self._mark_path(dest)) as handle:
                marked = handle.read().strip()
        except (OSError, IOError):
            return None
        return marked if marked and self.head(dest) == marked else None

    def checkout(self, url, ref, dest, before_change=None, budget=None):
        """Make ``dest`` a clean checkout of ``ref`` from ``url``; return the commit hash.

        A full commit hash whose checkout is complete needs no network; a branch
        or tag is fetched each time (it may have moved).  ``before_change`` is
        called before the tree is replaced (e.g. to stop a build running in it).
        ``budget`` (budget.Budget) bounds fetch, checkout and clean; without it
        each gets ``timeout``.
        """
        done = self.complete(dest)
        if done is not None and _FULL_HASH.match(ref.lower()) and done == ref.lower():
            if self._origin(dest) == url:
                return done
        self._prepare(url, dest)
        self._git_long(budget, "git fetch {}".format(url), dest, "fetch", "--tags", "--force",
                       "origin", "+refs/heads/*:refs/remotes/origin/*")
        commit = self.resolve(dest, ref)
        if commit == done:
            return commit  # already there: leave the tree (and its build outputs) alone
        if before_change is not None:
            before_change(commit)
        self._unmark(dest)
        self._git_long(budget, "git checkout {}".format(commit[:12]), dest,
                       "checkout", "--force", "--detach", commit)
        self._git_long(budget, "git clean", dest,
                       "clean", "-ffdx", "--exclude=build/", "--exclude=logs/")
        files.write_file(self._mark_path(dest), commit + "\n", mode=0o644)
        return commit

    def _origin(self, dest):
        result = self._git(dest, "remote", "get-url", "origin", check=False)
        return result.stdout.strip() if result.returncode == 0 else None

    def _prepare(self, url, dest):
        """A repository in ``dest`` with ``origin`` at ``url``, cleared of what a
        cut-off git left behind."""
        git_dir = os.path.join(dest, ".git")
        if os.path.isdir(git_dir) and not (os.path.isfile(os.path.join(git_dir, "HEAD"))
                                           and os.path.isfile(os.path.join(git_dir, "config"))):
            shutil.rmtree(git_dir)  # `git init` itself was cut off
        if not os.path.isdir(git_dir):
            if not os.path.isdir(dest):
                os.makedirs(dest, 0o755)
            self.run(["git", "init", "-q", dest], timeout=LOCAL_TIMEOUT)
        else:
            self._remove_stale(git_dir)
        origin = self._origin(dest)
        if origin is None:
            self._git(dest, "remote", "add", "origin", url)
        elif origin != url:
            self._git(dest, "remote", "set-url", "origin", url)

    @staticmethod
    def _remove_stale(git_dir):
        # Only this charm runs git in its source tree, and Juju runs one action
        # of a unit at a time: a lock file here belongs to a git that is gone.
        stale = [os.path.join(git_dir, name) for name in _STALE]
        stale += glob.glob(os.path.join(git_dir, "refs", "**", "*.lock"), recursive=True)
        stale += glob.glob(os.path.join(git_dir, "objects", "pack", "tmp_*"))
        stale += glob.glob(os.path.join(git_dir, "objects", "incoming-*"))
        for path in stale:
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.lexists(path):
                os.remove(path)

    def _unmark(self, dest):
        if os.path.lexists(self._mark_path(dest)):
            os.remove(self._mark_path(dest))

    def resolve(self, dest, ref):
        """The commit a hash, tag, or (remote) branch name points at."""
        for candidate in ("origin/" + ref, ref):
            result = self._git(dest, "rev-parse", "--verify", "--quiet",
                               candidate + "^{commit}", check=False)
            if result.returncode == 0 and result.stdout.strip():
                return result.stdout.strip()
        raise NotFound("git ref {!r} not found in the repository".format(ref))
