"""Errors of the deployment commands: what failed, and for a half-done
operation what was done and how to undo it."""

from __future__ import annotations


class DeployError(Exception):
    """A failure the user can act on; ``done``/``undo`` describe a half-done operation."""

    def __init__(self, message: str, done: list[str] | None = None, undo: list[str] | None = None,
                 resume: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.done = list(done or [])
        self.undo = list(undo or [])
        self.resume = list(resume or [])

    def report(self) -> str:
        lines = [self.message]
        if self.done:
            lines.append("Already done:")
            lines += [f"  - {item}" for item in self.done]
        if self.resume:
            lines.append("To go on:")
            lines += [f"  $ {item}" for item in self.resume]
        if self.undo:
            lines.append("To undo:")
            lines += [f"  $ {item}" for item in self.undo]
        return "\n".join(lines)

    def with_progress(self, done: list[str], undo: list[str], resume: list[str] | None = None) -> "DeployError":
        """The same error (of the same kind), told as part of a half-done operation."""
        # Not copy.copy: it rebuilds from self.args, which CommandFailed's __init__ does not take.
        told = self.__class__.__new__(self.__class__)
        told.__dict__.update(self.__dict__)
        told.args = self.args
        told.done, told.undo = done + self.done, undo + self.undo
        told.resume = list(resume or []) + self.resume
        return told


class Interrupted(DeployError):
    """Ctrl-C while waiting for OSM: OSM goes on; the CLI says what runs and exits with 130."""


class Partial(DeployError):
    """A day-2 action that did not reach every PE VDU it was meant for (exit code 3)."""


class PollsLost(DeployError):
    """OSM did not answer several polls in a row: the operation may be going on fine."""


class InputError(DeployError):
    """Bad input found before anything was called or changed (the CLI exits with 2)."""


class CommandFailed(DeployError):
    """An external command exited non-zero; ``command`` has its secrets masked."""

    def __init__(self, command: str, returncode: int, stderr: str, stdout: str = "") -> None:
        self.command = command
        self.returncode = returncode
        self.stderr = stderr
        self.stdout = stdout
        # osmclient prints its "ERROR: ..." on stdout: show that when stderr is empty.
        text = stderr.strip() or stdout.strip() or "(no output)"
        stream = "stderr" if stderr.strip() else "stdout"
        super().__init__(f"command failed (exit code {returncode}): {command}\n{stream}:\n{_indent(text)}")


class Unreachable(CommandFailed):
    """``osm`` could not reach the NBI (osmclient's pycurl error): the message names the host."""

    def __init__(self, failed: CommandFailed, text: str) -> None:
        super().__init__(failed.command, failed.returncode, failed.stderr, failed.stdout)
        self.message = text
        self.args = (text,)


class ToolMissing(DeployError):
    """An external tool (osm, openstack) is not installed."""


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
