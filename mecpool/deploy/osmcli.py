"""The thin seam to the ``osm`` CLI (osmclient v8.0): find it, add the global
options, run one command, read its output (YAML with ``--literal``, tables
otherwise).  Every command is an argument list."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass

import yaml

from . import tables
from .errors import CommandFailed, DeployError, ToolMissing, Unreachable
from .openstack import tool_dirs
from .runner import Runner

INSTALL_HINT = """the OSM client `osm` (osmclient v8.0) is not installed (looked on PATH and next to mecpool).
osmclient is not on PyPI; install it from OSM's own repositories, matching your OSM (Release EIGHT):
  * Debian/Ubuntu package from OSM's apt repository (release "ReleaseEIGHT", component "osmclient"):
      add the repository and its key as in OSM's installation guide, then
      sudo apt-get update && sudo apt-get install python3-osmclient
  * or the snap:  sudo snap install osmclient   (pick the channel of Release EIGHT: snap info osmclient)
Or point OSM_CLI at the executable (OSM_CLI=/path/to/osm). Set OSM_HOSTNAME (or --hostname) to your OSM host."""


# What osmclient prints when pycurl cannot reach the NBI (curl error codes 6, 7, 28, and their texts).
PYCURL_UNREACHABLE = ("(6, ", "(7, ", "(28, ", "Could not resolve host", "Failed to connect", "Connection refused",
                      "Connection timed out")


RELEASE = 8
RELEASE_HINT = ("mecpool drives OSM Release EIGHT (osmclient v8, NBI v8) only; its descriptors (IM v8) and the "
                "osm flags it uses differ in other releases. README, 'OSM Release EIGHT', says where v8 comes from")


def release_problem(text: str, host: str) -> str | None:
    """What is wrong with ``osm version``'s answer ("Server version: 8.0.1 ...", "Client version: 8.0.1"), or None."""
    found = {}
    for side in ("Server", "Client"):
        match = re.search(rf"^{side} version:\s*v?(\d+)\.(\S*)", text, re.MULTILINE)
        found[side] = (int(match.group(1)), f"{match.group(1)}.{match.group(2)}") if match else None
    if None in found.values():
        return f"cannot tell OSM's release from `osm version` ({text.strip()[:200]!r}): {RELEASE_HINT}"
    wrong = [f"{side.lower()} {version}" for side, (major, version) in found.items() if major != RELEASE]
    if wrong:
        return f"OSM at {host}: {' and '.join(wrong)} is not Release EIGHT: {RELEASE_HINT}"
    return None


@dataclass(frozen=True)
class OsmOptions:
    """Global options passed through to every ``osm`` call."""

    hostname: str | None = None
    user: str | None = None
    password: str | None = None
    project: str | None = None


def find_osm(environ: dict[str, str] | None = None) -> str:
    environ = dict(os.environ if environ is None else environ)
    explicit = environ.get("OSM_CLI")
    if explicit:
        found = shutil.which(explicit, path=tool_dirs(environ))
        if not found:
            raise ToolMissing(f"OSM_CLI={explicit} is not an executable file.\n{INSTALL_HINT}")
        return found
    found = shutil.which("osm", path=tool_dirs(environ))
    if not found:
        raise ToolMissing(INSTALL_HINT)
    return found


class Osm:
    """One osm client configuration; ``call`` runs ``osm <global options> <args>``."""

    def __init__(self, runner: Runner, options: OsmOptions = OsmOptions()) -> None:
        self.runner = runner
        self.options = options
        if options.password:
            runner.masker.add(options.password)
        self._exe: str | None = None

    def globals(self) -> list[str]:
        out = []
        for flag, value in (("--hostname", self.options.hostname), ("--user", self.options.user),
                            ("--project", self.options.project)):
            if value:
                out += [flag, value]
        return out

    def env(self) -> dict[str, str]:
        # The OSM password travels in the environment (osmclient reads OSM_PASSWORD), not in argv.
        return {"OSM_PASSWORD": self.options.password} if self.options.password else {}

    def display(self, *args: str) -> list[str]:
        return ["osm", *self.globals(), *args]

    def show(self, *args: str, note: str = "") -> None:
        self.runner.show(self.display(*args), self.env(), note)

    def host(self) -> str:
        """The NBI host osmclient talks to, and where that comes from."""
        if self.options.hostname:
            return f"{self.options.hostname} (--hostname)"
        if os.environ.get("OSM_HOSTNAME"):
            return f"{os.environ['OSM_HOSTNAME']} (OSM_HOSTNAME)"
        return "127.0.0.1 (osmclient's default: OSM_HOSTNAME is not set)"

    def call(self, *args: str) -> str:
        if self._exe is None:
            self._exe = find_osm()
            self.check_release()
        return self._call(*args)

    def check_release(self) -> None:
        """``osm version`` (the client's and the NBI's) must be Release EIGHT: another major release
        has other flags, outputs and descriptor models.  Asked before the first call of each command."""
        problem = release_problem(self._call("version"), self.host())
        if problem:
            raise DeployError(problem)

    def _call(self, *args: str) -> str:
        try:
            return self.runner.run([self._exe, *self.globals(), *args], display=self.display(*args), env=self.env())
        except CommandFailed as error:
            said = error.stdout + error.stderr
            if any(sign in said for sign in PYCURL_UNREACHABLE):
                text = said.strip().splitlines()[-1] if said.strip() else "(no output)"
                raise Unreachable(error, f"OSM at {self.host()} did not answer osm {args[0]}: {text}\n"
                                         "check the host and that OSM's NBI (port 9999) is reachable from here") from None
            raise

    def literal(self, *args: str) -> dict:
        """``osm <cmd> NAME --literal``: the record as YAML."""
        text = self.call(*args, "--literal")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise DeployError(f"osm {args[0]}: unreadable YAML output ({error})") from None
        if not isinstance(data, dict):
            raise DeployError(f"osm {args[0]}: expected a record, got {text[:200]!r}")
        return data

    def table(self, *args: str) -> list[dict[str, str]]:
        text = self.call(*args)
        try:
            return tables.parse(text)
        except tables.TableError as error:
            raise DeployError(f"osm {args[0]}: unexpected output ({error}):\n{text[:500]}") from None

    def last_line(self, *args: str) -> str:
        """Commands that print an id (ns-create, vnf-scale, ns-action): the last non-empty line."""
        lines = [line.strip() for line in self.call(*args).splitlines() if line.strip()]
        if not lines:
            raise DeployError(f"osm {args[0]} printed nothing (expected an id)")
        return lines[-1]

    # Reads used by several workflows --------------------------------------------------------

    def ns_exists(self, ns: str) -> bool:
        return bool(self.table("ns-list", "--filter", f"name={ns}"))

    def ns_record(self, ns: str) -> dict:
        try:
            return self.literal("ns-show", ns)
        except CommandFailed as error:
            if "not found" in (error.stdout + error.stderr):
                raise DeployError(f"NS instance {ns!r} not found in OSM (osm ns-list shows the instances)") from None
            raise

    def vim_accounts(self) -> dict[str, str]:
        """{uuid: name} of the VIM accounts."""
        return {row["uuid"]: row["vim name"] for row in self.table("vim-list")}

    def vnf_records(self, ns: str) -> list[dict]:
        """Full VNF records (vnf-show --literal) of an NS, in member-index order."""
        rows = self.table("vnf-list", "--ns", ns)
        records = [self.literal("vnf-show", row["vnf id"]) for row in rows]
        return sorted(records, key=lambda r: int(r.get("member-vnf-index-ref", "0") or 0))
