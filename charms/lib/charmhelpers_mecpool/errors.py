"""The error types the charms turn into BlockedStatus or a failed action.

Every error carries a short, secret-free message meant for an operator.
"""


class MecpoolError(Exception):
    """Base of every error the workload raises on purpose."""


class ValidationError(MecpoolError):
    """A parameter or config value is invalid; names the parameter."""

    def __init__(self, param, message):
        self.param = param
        self.message = message
        super(ValidationError, self).__init__("{}: {}".format(param, message))


class CommandError(MecpoolError):
    """A command failed; carries the (redacted) command, exit code and stderr."""

    def __init__(self, argv, returncode, stderr, reason=None):
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr
        self.reason = reason
        tail = stderr.strip().splitlines()[-3:] if stderr else []
        what = reason or "exit code {}".format(returncode)
        text = "command {!r} failed ({})".format(" ".join(self.argv), what)
        if tail:
            text += ": " + " | ".join(tail)
        super(CommandError, self).__init__(text)

    @property
    def timed_out(self):
        """The command was ended by its timeout (process.run: no exit code)."""
        return self.returncode is None and (self.reason or "").startswith("timed out")


class WaitTimeout(MecpoolError):
    """A bounded wait for a peer or a local condition ran out."""


class NotFound(MecpoolError):
    """Something the host should have (an interface, a file) is missing."""
