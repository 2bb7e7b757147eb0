"""A lab child (QEMU, dnsmasq) ends when the lab's process is killed outright."""

import os
import signal
import subprocess
import sys
import time

PARENT = """
import subprocess, sys, time
from mecpool.vdulab import lifetime
child = subprocess.Popen(["sleep", "300"], start_new_session=True,
                         preexec_fn=lifetime.die_with_parent if sys.argv[1] == "yes" else None)
print(child.pid, flush=True)
time.sleep(300)
"""


def _child_outlives_a_killed_parent(die_with_parent, wait_s):
    parent = subprocess.Popen([sys.executable, "-c", PARENT, die_with_parent], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    try:
        parent.send_signal(signal.SIGKILL)        # no cleanup runs: a test's timeout, the OOM killer
        parent.wait()
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if not os.path.exists("/proc/{}".format(child)) or _zombie(child):
                return False
            time.sleep(0.05)
        return True
    finally:
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _zombie(pid):
    try:
        with open("/proc/{}/stat".format(pid)) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_child_started_with_die_with_parent_ends_with_the_killed_lab():
    assert not _child_outlives_a_killed_parent("yes", wait_s=30)   # immediate; 30 s for a busy host


def test_without_it_the_child_would_run_on():
    assert _child_outlives_a_killed_parent("no", wait_s=3)
