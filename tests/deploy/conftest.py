"""Fixtures: built packages (once per session), a site directory with image
files, and the fake ``osm`` / ``openstack`` executables on PATH."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from deploy_constants import K, MEC_PASSWORD, OP, PMC_PASSWORD, REPO, SECRETS  # noqa: E402,F401
from packages_fixture import build_packages  # noqa: E402

from mecpool.cli import main  # noqa: E402
from mecpool.site import load_site  # noqa: E402

MGMT = "192.168.100.0/24"


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("built")
    build_packages(load_site(REPO / "site.example.yaml"), out / "build")
    return out / "build"


@pytest.fixture
def env(monkeypatch, tmp_path_factory):
    for key in ("OSM_CLI", "OPENSTACK_CLI", "OSM_HOSTNAME", "OSM_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MECPOOL_EPC_K", K)
    monkeypatch.setenv("MECPOOL_EPC_OP", OP)
    monkeypatch.setenv("MECPOOL_MEC_PASSWORD", MEC_PASSWORD)
    monkeypatch.setenv("MECPOOL_PMC_PASSWORD", PMC_PASSWORD)
    # The Juju client's files of this machine must not count: an empty directory of our own.
    monkeypatch.setenv("JUJU_DATA", str(tmp_path_factory.mktemp("juju-data")))
    # mecpool's index of NS instances (nsrecord) is per user: one of the test's own.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    return monkeypatch


class Fakes:
    def __init__(self, root: Path, site) -> None:
        self.state = root / "fake-state"
        self.bin = root / "bin"
        self.site = site
        self.state.mkdir()
        self.bin.mkdir()
        for tool in ("osm", "openstack"):
            script = self.bin / tool
            script.write_text(f"#!/bin/sh\nexec {sys.executable} {HERE / 'fakes' / f'fake_{tool}.py'} \"$@\"\n")
            script.chmod(0o755)
        subnets = {vim.pool_network.name: vim.pool_network.subnet for vim in site.vims.values()}
        subnets.update({getattr(site.networks, n).vim_network: getattr(site.networks, n).subnet
                        for n in ("s1c", "s1u", "sgi")})
        subnets["mgmt"] = MGMT
        self.scenario({"subnets": subnets, "pool_handle": site.pool.handle,
                       "openstack_seed": {vim.openstack.auth_url: {"networks": {vim.mgmt_network: MGMT}}
                                          for vim in site.vims.values()}})

    def register_vims(self) -> None:
        """The VIM accounts as osm vim-create leaves them (fast set-up for tests of later steps)."""
        import uuid
        site = load_site(self.state.parent / "site.yaml")
        state = {"vnfds": [], "nsds": [], "nsrs": [], "vnfrs": [], "ops": [], "clock": 1600000000,
                 "vims": [{"_id": str(uuid.uuid4()), "name": vim.osm_account, "vim_type": "openstack",
                           "config": {}} for vim in site.vims.values()]}
        (self.state / "osm.json").write_text(json.dumps(state))

    def scenario(self, update: dict) -> None:
        path = self.state / "scenario.json"
        data = json.loads(path.read_text()) if path.exists() else {}
        data.update(update)
        path.write_text(json.dumps(data))

    def calls(self, tool: str | None = None) -> list[list[str]]:
        return [c["argv"] for c in self.records() if tool is None or c["tool"] == tool]

    def records(self, with_version: bool = False) -> list[dict]:
        """The recorded calls; mecpool's `osm version` check (first of each command) only when asked."""
        path = self.state / "calls.json"
        calls = json.loads(path.read_text()) if path.exists() else []
        return [c for c in calls if with_version or not (c["tool"] == "osm" and c["argv"][-1:] == ["version"])]

    def reset_calls(self) -> None:
        (self.state / "calls.json").unlink(missing_ok=True)

    def reset_openstack(self) -> None:
        """A fresh cloud: the fake builds it again from the scenario on its next call."""
        (self.state / "openstack.json").unlink(missing_ok=True)

    def osm_state(self) -> dict:
        return json.loads((self.state / "osm.json").read_text())

    def openstack_state(self) -> dict:
        return json.loads((self.state / "openstack.json").read_text())


@pytest.fixture
def workdir(tmp_path, built, env):
    """A site directory (site.yaml, image files, a copy of the built packages) as the cwd."""
    shutil.copy(REPO / "site.example.yaml", tmp_path / "site.yaml")
    site = yaml.safe_load((tmp_path / "site.yaml").read_text())
    for image in site["images"].values():
        path = tmp_path / image["file"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"QFI\xfb" + b"\0" * 60)
    shutil.copytree(built, tmp_path / "build")
    env.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def fakes(workdir, env):
    fakes = Fakes(workdir, load_site(workdir / "site.yaml"))
    env.setenv("FAKE_STATE_DIR", str(fakes.state))
    env.setenv("PATH", f"{fakes.bin}:/usr/bin:/bin")
    return fakes


@pytest.fixture
def mecpool():
    runner = CliRunner()

    def run(*args: str, expect: int = 0):
        result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == expect, f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        for secret in SECRETS:
            assert secret not in result.stdout and secret not in result.stderr, f"secret leaked by {args}"
        return result
    return run
