"""The thin seam to the ``openstack`` CLI (python-openstackclient): one VIM's
credentials go in OS_* environment variables (the password never in argv),
nothing else of the OS_* namespace reaches the child, every call asks for
JSON (``-f json``)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path


from .errors import CommandFailed, DeployError, ToolMissing
from .runner import Runner, show_command
from .vimauth import PREFIX, VimAccount, inherited

INSTALL_HINT = """the OpenStack client `openstack` is not installed (looked on PATH and next to mecpool in {bindir}).
Install it with:  make deploy-tools   (or: .venv/bin/pip install 'python-openstackclient>=5.0')
Or point OPENSTACK_CLI at the executable."""


def tool_dirs(environ=None) -> str:
    """Where tools are looked for: PATH, then the bin directory of the Python that runs mecpool
    (the venv of `make deploy-tools`: its tools are found without activating it)."""
    environ = os.environ if environ is None else environ
    return os.pathsep.join(p for p in (environ.get("PATH", ""), str(Path(sys.executable).parent)) if p)


def find_openstack(environ=None) -> str:
    environ = os.environ if environ is None else environ
    explicit = environ.get("OPENSTACK_CLI")
    found = shutil.which(explicit or "openstack", path=tool_dirs(environ))
    hint = INSTALL_HINT.format(bindir=Path(sys.executable).parent)
    if not found:
        raise ToolMissing(hint if not explicit else f"OPENSTACK_CLI={explicit} is not executable.\n{hint}")
    return found


class OpenStack:
    """``openstack`` against one VIM of the site file, with exactly the site's OS_* variables: the
    operator's own (an admin openrc's OS_PROJECT_ID, OS_CLOUD, ...) are cleared for the child, since
    keystoneauth would prefer some of them to the site's and work would land in another project."""

    def __init__(self, runner: Runner, account: VimAccount) -> None:
        self.runner = runner
        self.account = account
        self.vim_name = account.vim
        for secret in account.secrets:
            runner.masker.add(secret)
        self._exe: str | None = None

    def env(self) -> dict[str, str]:
        return self.account.child_env()

    def flags(self) -> list[str]:
        return ["--insecure"] if self.account.insecure else []

    def argv(self, *args: str) -> list[str]:
        return self.flags() + list(args) + ["-f", "json"]

    def describe_env(self) -> str:
        """The OS_* of every call to this VIM, secrets as ****, and what of the shell is cleared (dry runs
        print it once per VIM instead of before each command)."""
        shown = show_command([], self.env(), self.runner.masker)
        cleared = inherited()
        return (f"openstack runs with exactly: {shown}"
                + (f" (cleared from your shell: {', '.join(cleared)})" if cleared else ""))

    def show(self, *args: str, note: str = "") -> None:
        self.runner.show(["openstack", *self.argv(*args)], None, note)

    def show_plain(self, *args: str, note: str = "") -> None:
        """Show a command that prints nothing (deletes): no ``-f json``."""
        self.runner.show(["openstack", *self.flags(), *args], None, note)

    def call(self, *args: str):
        """Run and parse the JSON answer (``[]``/``{}``; commands without output give None)."""
        text = self._run(self.argv(*args))
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise DeployError(f"openstack {' '.join(args[:2])} on VIM {self.vim_name}: not JSON: {text[:300]!r}") from None

    def run_plain(self, *args: str) -> None:
        """Commands that print nothing (deletes): no ``-f json``."""
        self._run([*self.flags(), *args])

    def _run(self, argv: list[str]) -> str:
        if self._exe is None:
            self._exe = find_openstack()
        try:
            return self.runner.run([self._exe, *argv], display=["openstack", *argv], env=self.env(), clear=PREFIX)
        except CommandFailed as error:
            if "HTTP 401" in error.stderr or "requires authentication" in error.stderr:
                raise DeployError(self.refused(error.stderr)) from None
            raise

    def refused(self, said: str) -> str:
        """Keystone said 401: whose credentials, and that OSM's VIM account keeps its own copy."""
        account = self.account
        who = f"user {account.user}" if account.user and not account.app_credential else "the application credential"
        osm = f"osm vim-update {account.osm_account} --password <new>"
        return (f"VIM {self.vim_name}: Keystone at {account.auth_url} refused {who} in project {account.project} "
                f"(HTTP 401: {said.strip().splitlines()[-1]}). If the password changed, set the new one where "
                f"{account.where} takes it, and give OSM's VIM account the new one too ({osm}): OSM keeps the "
                "password it was registered with")
