"""The lab's long-running children (QEMU, dnsmasq) end when the lab's process ends, however it
ends: the lab stops them in order on a normal exit or SIGTERM, but a SIGKILL (a test's
timeout, the OOM killer) runs no cleanup, and they run in sessions of their own (so a Ctrl-C
reaches the lab, which stops them in order), where nothing else would stop them."""

import ctypes
import signal

PR_SET_PDEATHSIG = 1     # linux/prctl.h


def die_with_parent(sig=signal.SIGTERM):
    """A ``preexec_fn``: the kernel sends ``sig`` to the child when the thread that started it
    ends (the lab starts them from its main thread).  Survives exec of a non-setuid binary."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
