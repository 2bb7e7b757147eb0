"""Keep other apt runs away from ours on a freshly booted VDU.

Ubuntu 18.04's apt (1.6) and dpkg fail at once when another process holds
their locks (no DPkg::Lock::Timeout before apt 1.9.11), and so do OAI's build
scripts.  A cloud image runs apt-daily / apt-daily-upgrade (unattended-upgrades)
soon after its first boot, and in OSM R8 a failed day-1 primitive is final.  So:

* ``quiesce`` masks the timers and services that start apt on their own (the
  EPC's cloud-init masks the timers at boot already; docs/epc.md), and
* ``LockWait.wait`` waits, within the primitive's budget, until no process
  holds apt's or dpkg's locks: a run that started before the mask finishes.

apt takes its locks with fcntl(F_SETLK) write locks on these files; the probe
asks the kernel with F_GETLK (which takes no lock and names the holder's PID).
"""

import fcntl
import os
import struct

from . import files

# The lock files of apt-get and dpkg (apt 1.6 takes lock-frontend first).
LOCK_FILES = ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock",
              "/var/lib/apt/lists/lock", "/var/cache/apt/archives/lock")
# Units that run apt by themselves on Ubuntu 18.04; masked while the VDU is an EPC VDU.
AUTO_APT_TIMERS = ("apt-daily.timer", "apt-daily-upgrade.timer")
AUTO_APT_SERVICES = ("apt-daily.service", "apt-daily-upgrade.service")
# What apt-get prints when it lost the race for a lock anyway.
LOCK_ERRORS = ("Could not get lock", "Unable to lock", "Unable to acquire the dpkg frontend lock")
POLL_INTERVAL = 2
# struct flock on Linux x86-64: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid
_FLOCK = "hhqqi"


def holder(path):
    """The PID holding a write lock on ``path`` (fcntl F_GETLK), else None."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:      # no such file: nobody has locked it yet
        return None
    try:
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, 0, 0, 0, 0)
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
        kind, _, _, _, pid = struct.unpack(_FLOCK, answer)
        return None if kind == fcntl.F_UNLCK else pid
    finally:
        os.close(fd)


def process_name(pid, proc_root="/proc"):
    text = files.read_text(os.path.join(proc_root, str(pid), "comm"), "") or ""
    return text.strip() or "?"


def is_lock_error(error):
    """An apt-get/dpkg CommandError caused by a lock another process held."""
    text = getattr(error, "stderr", "") or ""
    return any(marker in text for marker in LOCK_ERRORS)


class LockWait(object):
    """Waits for apt's and dpkg's locks under ``root`` (the tests' seam)."""

    def __init__(self, root="/", proc_root="/proc"):
        self.paths = [files.rooted(root, path) for path in LOCK_FILES]
        self.proc_root = proc_root

    def holders(self):
        """[(path, pid, command)] of the locks held now."""
        found = []
        for path in self.paths:
            pid = holder(path)
            if pid is not None:
                found.append((path, pid, process_name(pid, self.proc_root)))
        return found

    def describe(self):
        return ", ".join("{} (pid {} {})".format(path, pid, name)
                         for path, pid, name in self.holders()) or "none"

    def wait(self, budget, timeout):
        """Until no lock is held, at most ``timeout`` s within ``budget``."""
        if not self.holders():
            return
        what = "apt/dpkg locks held by another process: {}".format(self.describe())
        budget.wait_for(lambda: not self.holders(), what, timeout, interval=POLL_INTERVAL)


def quiesce(systemd_run):
    """Mask the units that start apt on their own (idempotent); a run already
    going is left to finish (LockWait waits for it)."""
    systemd_run(["systemctl", "mask", "--now"] + list(AUTO_APT_TIMERS))
    systemd_run(["systemctl", "mask"] + list(AUTO_APT_SERVICES))
