"""Check out a git repository at a commit, tag or branch (idempotently)."""

import os
import re

from . import process
from .errors import NotFound

_FULL_HASH = re.compile(r"^[0-9a-f]{40}$")


class GitSource(object):
    def __init__(self, run=process.run, timeout=1200):
        self.run = run
        self.timeout = timeout

    def _git(self, dest, *args, **kwargs):
        return self.run(["git", "-C", dest] + list(args), timeout=self.timeout, **kwargs)

    def head(self, dest):
        if not os.path.isdir(os.path.join(dest, ".git")):
            return None
        result = self._git(dest, "rev-parse", "--verify", "HEAD^{commit}", check=False)
        return result.stdout.strip() if result.returncode == 0 else None

    def checkout(self, url, ref, dest, before_change=None):
        """Make ``dest`` a clean checkout of ``ref`` from ``url``; return the commit hash.

        A full commit hash that is already checked out needs no network; a
        branch or tag is fetched each time (it may have moved).  ``before_change``
        is called before the tree is replaced (e.g. to stop a build running in it).
        """
        current = self.head(dest)
        if current is not None and _FULL_HASH.match(ref.lower()) and current == ref.lower():
            remote = self._git(dest, "remote", "get-url", "origin", check=False).stdout.strip()
            if remote == url:
                return current
        if current is None:
            parent = os.path.dirname(os.path.abspath(dest))
            if not os.path.isdir(parent):
                os.makedirs(parent, 0o755)
            self.run(["git", "clone", "--no-checkout", "--", url, dest], timeout=self.timeout)
        else:
            self._git(dest, "remote", "set-url", "origin", url)
        self._git(dest, "fetch", "--tags", "--force", "origin",
                  "+refs/heads/*:refs/remotes/origin/*")
        commit = self.resolve(dest, ref)
        if commit == current:
            return commit  # already there: leave the tree (and its build outputs) alone
        if before_change is not None:
            before_change(commit)
        self._git(dest, "checkout", "--force", "--detach", commit)
        self._git(dest, "clean", "-ffdx", "--exclude=build/", "--exclude=logs/")
        return commit

    def resolve(self, dest, ref):
        """The commit a hash, tag, or (remote) branch name points at."""
        for candidate in ("origin/" + ref, ref):
            result = self._git(dest, "rev-parse", "--verify", "--quiet",
                               candidate + "^{commit}", check=False)
            if result.returncode == 0 and result.stdout.strip():
                return result.stdout.strip()
        raise NotFound("git ref {!r} not found in the repository".format(ref))
