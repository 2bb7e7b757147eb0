"""Run one command (an argv list, never a shell) with a timeout.

`run` is the seam every module uses: tests pass their own runner with the same
signature to check the exact argv without touching the host.
"""

import os
import signal
import subprocess

from .errors import CommandError
from .status import redact

DEFAULT_TIMEOUT = 600
# After a timeout, the command's process group gets SIGTERM, then SIGKILL this
# many seconds later (git and apt leave their lock files clean on SIGTERM).
KILL_GRACE = 5


class Result(object):
    """What a command produced."""

    def __init__(self, argv, returncode, stdout="", stderr=""):
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def ok(self):
        return self.returncode == 0

    def __repr__(self):
        return "Result({!r}, {})".format(self.argv, self.returncode)


def check_argv(argv):
    if not isinstance(argv, (list, tuple)) or not argv:
        raise TypeError("argv must be a non-empty list")
    for arg in argv:
        if not isinstance(arg, str):
            raise TypeError("argv items must be strings, got {!r}".format(arg))


def _tail(path, limit=4000):
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _kill_group(process, grace):
    """SIGTERM, then SIGKILL, to the command's whole process group: a cut-off
    `git fetch` or `apt-get` must not leave a helper (index-pack, dpkg, an http
    method) running on after it and holding its locks."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        os.killpg(process.pid, signal.SIGKILL)  # whatever is left of the group
    except OSError:  # the group is gone already
        pass
    process.wait()
    for pipe in (process.stdin, process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()


def _run_group(argv, out, err, cwd, env, input_text, timeout):
    """subprocess.run in a session of its own, so a timeout ends every process
    the command started (subprocess.run would kill only the command itself)."""
    process = subprocess.Popen(
        list(argv), stdout=out, stderr=err, cwd=cwd, env=env,
        stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
        start_new_session=True)
    try:
        stdout, stderr = process.communicate(
            input=input_text.encode("utf-8") if input_text is not None else None,
            timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process, KILL_GRACE)
        raise
    except BaseException:
        _kill_group(process, 0)
        raise
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


def run(argv, timeout=DEFAULT_TIMEOUT, env=None, cwd=None, input_text=None,
        secrets=(), check=True, log_path=None):
    """Run ``argv``; return a Result, or raise CommandError when ``check``.

    ``env`` entries are added to the current environment.  With ``log_path``,
    stdout and stderr are appended to that file (long builds) and the error
    carries the file's tail instead of captured output.  ``secrets`` are
    redacted from the argv and stderr an error carries.
    """
    check_argv(argv)
    full_env = None
    if env:
        full_env = dict(os.environ)
        full_env.update(env)
    shown = [redact(a, secrets) for a in argv]
    log = None
    try:
        if log_path:
            log = open(log_path, "ab")
            out, err = log, subprocess.STDOUT
        else:
            out, err = subprocess.PIPE, subprocess.PIPE
        try:
            completed = _run_group(argv, out, err, cwd, full_env, input_text, timeout)
        except subprocess.TimeoutExpired:
            stderr = _tail(log_path) if log_path else ""
            raise CommandError(shown, None, redact(stderr, secrets),
                               reason="timed out after {} s".format(timeout))
        except OSError as error:
            raise CommandError(shown, 127, "", reason="cannot run: {}".format(
                error.strerror or error))
    finally:
        if log is not None:
            log.close()
    if log_path:
        stdout, stderr = "", _tail(log_path)
    else:
        stdout = completed.stdout.decode("utf-8", "replace")
        stderr = completed.stderr.decode("utf-8", "replace")
    result = Result(argv, completed.returncode, stdout, stderr)
    if check and completed.returncode != 0:
        raise CommandError(shown, completed.returncode, redact(stderr, secrets))
    return result
