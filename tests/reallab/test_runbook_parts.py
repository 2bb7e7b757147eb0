"""The pure parts of the runbook in the real-stack lab: the lab's site file (checked by our own site
model, parsed back), what openstack-prepare would plan from it, the second run's check, the CLI's
refusal.  The real thing: tests/reallab/test_real_lab.py (marker reallab)."""

import dataclasses

import pytest
import yaml
from click.testing import CliRunner

from mecpool.deploy import prepare, vimauth
from mecpool.reallab import runbook, site
from mecpool.reallab.cli import real_lab_command
from mecpool.site import SiteError

AUTH = "http://127.0.0.1:5000/v3"


def test_lab_site_is_valid_and_reads_back_as_written(tmp_path):
    path = tmp_path / "site.yaml"
    written = site.write(path, AUTH, "127.0.0.1/32")
    assert written == site.build(AUTH, "127.0.0.1/32")
    assert yaml.safe_load(path.read_text())["name"] == "reallab"
    assert list(written.vims) == ["edge", "core"]
    assert {v.openstack.project for v in written.vims.values()} == {"mecpool-edge", "mecpool-core"}
    assert [r.vim for r in written.pool.registrars] == ["edge", "core"]
    assert list(written.pool.pe_groups) == ["edge"]


def test_lab_site_plans_what_prepare_makes_on_each_project(tmp_path):
    s = site.build(AUTH, "127.0.0.1/32")
    edge, core = prepare.plan_vim(s, "edge"), prepare.plan_vim(s, "core")
    assert edge.roles == ["epc", "registrar", "pool-element"] and core.roles == ["registrar"]
    assert edge.images == core.images == {"vdu": (site.IMAGE_NAME, None)}   # uploaded by the lab
    assert [n.name for n in edge.networks] == ["reallab-s1c", "reallab-s1u", "reallab-sgi", "pool-edge"]
    assert [n.name for n in core.networks] == ["pool-core"]
    assert sorted(core.flavors) == ["mecpool-reallab-registrar"]


def test_lab_site_accounts_resolve_from_the_secrets_env(tmp_path, monkeypatch):
    path = tmp_path / "site.yaml"
    s = site.write(path, AUTH, "127.0.0.1/32")
    for key, value in site.secrets_env({"edge": "pw-e", "core": "pw-c"}).items():
        monkeypatch.setenv(key, value)
    account = vimauth.resolve(s, tmp_path, "core")
    assert (account.user, account.password, account.project, account.auth_url) == \
        ("mecpool-core", "pw-c", "mecpool-core", AUTH)


def test_bad_lab_values_are_refused_naming_the_field(tmp_path):
    bad = (dataclasses.replace(site.VIMS[0], pool_subnet="10.221.2.0/24"), site.VIMS[1])  # overlap
    with pytest.raises(SiteError, match="subnet"):
        site.write(tmp_path / "site.yaml", AUTH, "127.0.0.1/32", bad)
    assert not (tmp_path / "site.yaml").exists()
    with pytest.raises(SiteError, match="auth_url"):
        site.build("not a url", "127.0.0.1/32")


def test_second_run_unchanged_only_when_every_vim_says_so():
    said = "VIM edge (epc):\n  = nothing to change\nVIM core (registrar):\n  = nothing to change\n"
    assert runbook.unchanged(said, site.VIMS)
    assert not runbook.unchanged("VIM edge (epc):\n  = nothing to change\nVIM core (registrar):\n  + flavor x\n",
                                 site.VIMS)


def test_runbook_option_goes_with_osm_only():
    done = CliRunner().invoke(real_lab_command, ["--stack-only", "--runbook"])
    assert done.exit_code == 2 and "--runbook goes with --osm-only" in done.output
