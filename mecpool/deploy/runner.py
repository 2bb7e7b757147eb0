"""Run external commands as argument lists (never through a shell), mask
secrets wherever a command is shown, and in dry-run mode only print them."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence

from .errors import CommandFailed, DeployError

MASK = "****"


class Masker:
    """Replaces every known secret value by ``****`` in text shown to the user."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        # Very short values would mask ordinary words; secrets here are passwords and keys.
        if secret and len(secret) >= 3:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text


def is_secret_name(key: str) -> bool:
    return "PASSWORD" in key or "SECRET" in key


def show_command(argv: Sequence[str], env: Mapping[str, str] | None, masker: Masker) -> str:
    """The command as a user would type it, secrets masked."""
    words = [f"{key}={shlex.quote(MASK if is_secret_name(key) else value)}" for key, value in sorted((env or {}).items())]
    words += [shlex.quote(masker(str(arg))) for arg in argv]
    return " ".join(words)


class Runner:
    """Executes or (dry run) prints commands; ``echo`` shows a line to the user."""

    def __init__(self, echo: Callable[[str], None], masker: Masker | None = None, dry_run: bool = False) -> None:
        self.echo = echo
        self.masker = masker or Masker()
        self.dry_run = dry_run

    def show(self, argv: Sequence[str], env: Mapping[str, str] | None = None, note: str = "") -> None:
        line = "$ " + show_command(argv, env, self.masker)
        self.echo(line + (f"    # {note}" if note else ""))

    def run(self, argv: Sequence[str], display: Sequence[str] | None = None,
            env: Mapping[str, str] | None = None, timeout: float | None = None, clear: str = "") -> str:
        """Run ``argv`` (``display`` is how it is shown, e.g. with "osm" for the
        resolved path); return stdout.  Raise CommandFailed on a non-zero exit.
        ``clear``: a prefix of variables not inherited from our environment (only ``env`` sets them)."""
        if self.dry_run:
            raise AssertionError("Runner.run called in dry-run mode")  # workflows print plans instead
        shown = show_command(display or argv, env, self.masker)
        full_env = {k: v for k, v in os.environ.items() if not (clear and k.startswith(clear))}
        full_env.update(env or {})
        try:
            done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=full_env,
                                  timeout=timeout, stdin=subprocess.DEVNULL, check=False)
        except FileNotFoundError:
            raise DeployError(f"cannot run {shown}: {argv[0]} not found") from None
        except subprocess.TimeoutExpired:
            raise DeployError(f"command timed out after {timeout} s: {shown}") from None
        if done.returncode != 0:
            raise CommandFailed(shown, done.returncode, self.masker(done.stderr), self.masker(done.stdout))
        return done.stdout
