"""Install Debian packages idempotently; add an apt source only when missing.

apt-get runs within the primitive's time budget when one is given.  A run the
budget cuts off is ended with its whole process group (process.run), so apt's
and dpkg's locks are released by the kernel and left to apt's own handling;
nothing here deletes a lock file.  If dpkg itself was interrupted (its journal
in /var/lib/dpkg/updates is not empty: the check apt makes before it refuses
with "dpkg was interrupted"), the next install first runs `dpkg --configure -a`
within the same budget.

With ``locks`` (aptlock.LockWait; the OAI workloads pass one), every apt-get and
dpkg run first waits, within the budget, until no other process holds apt's or
dpkg's locks (a first boot's unattended-upgrades), and a run that still lost a
lock to another process is run again after another wait (three tries).
"""

import os
import re

from . import aptlock, files, process
from . import budget as budgets
from .errors import CommandError

APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}
SOURCES_DIR = "/etc/apt/sources.list.d"
KEYRING_DIR = "/etc/apt/trusted.gpg.d"
DPKG_DIR = "/var/lib/dpkg"
# dpkg --configure -a without questions: keep a changed conffile, take defaults.
DPKG_REPAIR = ["dpkg", "--force-confdef", "--force-confold", "--configure", "-a"]
_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]*(:[a-z0-9]+)?(=[A-Za-z0-9.+:~-]+)?$")


class Apt(object):
    def __init__(self, run=process.run, sources_dir=SOURCES_DIR, keyring_dir=KEYRING_DIR,
                 timeout=1800, dpkg_dir=DPKG_DIR, locks=None):
        self.run = run
        self.locks = locks
        self.sources_dir = sources_dir
        self.keyring_dir = keyring_dir
        self.dpkg_dir = dpkg_dir
        self.timeout = timeout
        self._updated = False

    @staticmethod
    def check_names(packages):
        for name in packages:
            if not isinstance(name, str) or not _NAME.match(name):
                raise ValueError("invalid package name {!r}".format(name))

    def installed(self, packages):
        """The subset of ``packages`` that dpkg reports as installed."""
        names = [p.split("=")[0] for p in packages]
        result = self.run(["dpkg-query", "-W", "-f", "${Package} ${Status}\\n"] + names,
                          check=False)
        found = set()
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[-1] == "installed" and parts[-3] == "install":
                found.add(parts[0])
        return [p for p in packages if p.split("=")[0].split(":")[0] in found
                or p.split("=")[0] in found]

    def _apt(self, argv, budget, what, tries=3):
        if self.locks is not None and budget is None:  # a hook: no primitive budget
            budget = budgets.Budget(what, total=self.timeout)
        for attempt in range(1, tries + 1):
            if self.locks is not None:
                self.locks.wait(budget, self.timeout)
            try:
                if budget is None:
                    return self.run(argv, env=APT_ENV, timeout=self.timeout)
                return budget.run(self.run, argv, what, self.timeout, env=APT_ENV)
            except CommandError as error:
                if self.locks is None or attempt == tries or not aptlock.is_lock_error(error):
                    raise

    def interrupted(self):
        """dpkg stopped in the middle of a run: its update journal has entries."""
        try:
            return any(name.isdigit() for name in
                       os.listdir(os.path.join(self.dpkg_dir, "updates")))
        except OSError:
            return False

    def repair(self, budget=None):
        """`dpkg --configure -a` when dpkg was interrupted; True when it ran."""
        if not self.interrupted():
            return False
        self._apt(list(DPKG_REPAIR), budget, "dpkg --configure -a (dpkg was interrupted)")
        return True

    def update(self, budget=None):
        self._apt(["apt-get", "update"], budget, "apt-get update")
        self._updated = True

    def install(self, packages, budget=None):
        """Install the missing ones of ``packages`` (within ``budget``, a
        budget.Budget, when given).  Returns the list it installed."""
        packages = list(packages)
        self.check_names(packages)
        present = set(self.installed(packages))
        missing = [p for p in packages if p not in present]
        if not missing:
            return []
        self.repair(budget)
        if not self._updated:
            self.update(budget)
        self._apt(["apt-get", "install", "-y", "--no-install-recommends"] + missing, budget,
                  "apt-get install {}".format(" ".join(missing)))
        return missing

    def add_source(self, name, line, key=None):
        """Write ``<sources_dir>/<name>.list`` (and its ASCII key) if they differ.

        Returns True when something changed; the next install then runs apt-get update.
        """
        if not re.match(r"^[a-z0-9][a-z0-9_.-]*$", name):
            raise ValueError("invalid source name {!r}".format(name))
        changed = False
        if key is not None:
            key_path = os.path.join(self.keyring_dir, "{}.asc".format(name))
            changed |= files.write_file(key_path, key, mode=0o644)
        changed |= files.write_file(os.path.join(self.sources_dir, "{}.list".format(name)),
                                    line.rstrip("\n") + "\n", mode=0o644)
        if changed:
            self._updated = False
        return changed
