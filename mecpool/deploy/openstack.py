"""The thin seam to the ``openstack`` CLI (python-openstackclient): one VIM's
credentials go in OS_* environment variables (the password never in argv),
every call asks for JSON (``-f json``)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from mecpool.site.model import Vim

from .errors import DeployError, ToolMissing
from .runner import Runner

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
    """``openstack`` against one VIM of the site file."""

    def __init__(self, runner: Runner, vim_name: str, vim: Vim, password: str) -> None:
        self.runner = runner
        self.vim_name = vim_name
        self.vim = vim
        self._password = password
        runner.masker.add(password)
        self._exe: str | None = None

    def env(self) -> dict[str, str]:
        account = self.vim.openstack
        env = {
            "OS_AUTH_URL": account.auth_url,
            "OS_IDENTITY_API_VERSION": "3",
            "OS_PROJECT_NAME": account.project,
            "OS_USERNAME": account.user,
            "OS_PASSWORD": self._password,
            "OS_USER_DOMAIN_NAME": account.domain,
            "OS_PROJECT_DOMAIN_NAME": account.domain,
        }
        if account.region:
            env["OS_REGION_NAME"] = account.region
        return env

    def argv(self, *args: str) -> list[str]:
        return (["--insecure"] if self.vim.openstack.insecure else []) + list(args) + ["-f", "json"]

    def show(self, *args: str, note: str = "") -> None:
        self.runner.show(["openstack", *self.argv(*args)], self._shown_env(), note)

    def show_plain(self, *args: str, note: str = "") -> None:
        """Show a command that prints nothing (deletes): no ``-f json``."""
        flags = ["--insecure"] if self.vim.openstack.insecure else []
        self.runner.show(["openstack", *flags, *args], self._shown_env(), note)

    def _shown_env(self) -> dict[str, str]:
        # Dry runs show every OS_* variable the run sets; the password shows as ****.
        return self.env()

    def call(self, *args: str):
        """Run and parse the JSON answer (``[]``/``{}``; commands without output give None)."""
        if self._exe is None:
            self._exe = find_openstack()
        text = self.runner.run([self._exe, *self.argv(*args)], display=["openstack", *self.argv(*args)],
                               env=self.env())
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise DeployError(f"openstack {' '.join(args[:2])} on VIM {self.vim_name}: not JSON: {text[:300]!r}") from None

    def run_plain(self, *args: str) -> None:
        """Commands that print nothing (deletes): no ``-f json``."""
        if self._exe is None:
            self._exe = find_openstack()
        flags = ["--insecure"] if self.vim.openstack.insecure else []
        self.runner.run([self._exe, *flags, *args], display=["openstack", *flags, *args], env=self.env())
