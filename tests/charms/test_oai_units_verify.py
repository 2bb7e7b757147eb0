"""The OAI daemons' systemd units, read by this host's systemd (`systemd-analyze verify`)."""

import shutil
import subprocess

import pytest

import charmtest
import epc_fakes

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                reason="needs systemd-analyze")

MODULES = {"oai-hss": ("hss_workload", "HssWorkload"), "oai-mme": ("mme_workload", "MmeWorkload"),
           "oai-spgwc": ("spgwc_workload", "SpgwcWorkload"),
           "oai-spgwu": ("spgwu_workload", "SpgwuWorkload")}


def unit_text(charm, tmp_path):
    module_name, class_name = MODULES[charm]
    module = charmtest.load_charm_module(charm, module_name)
    host = epc_fakes.FakeHost(tmp_path)
    workload = getattr(module, class_name)(run=host.runner, root=host.root,
                                           mac_lookup=lambda a: None)
    return workload.unit("simula.nornet") if charm == "oai-hss" else workload.unit()


@pytest.mark.parametrize("charm", sorted(MODULES))
def test_systemd_reads_the_unit_without_complaint(charm, tmp_path):
    path = tmp_path / "{}.service".format(charm[4:])
    path.write_text(unit_text(charm, tmp_path / "root"))
    done = subprocess.run(["systemd-analyze", "verify", str(path)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    complaints = [line for line in done.stderr.splitlines() if path.name in line]
    assert done.returncode == 0 and complaints == [], done.stderr


def test_the_hss_unit_names_the_mme_oai_hss_should_reach(tmp_path):
    # fdhss.cpp: FDPeer(getenv("MME_IDENTITY") ?: "mme.localdomain")
    lines = unit_text("oai-hss", tmp_path).splitlines()
    assert "Environment=MME_IDENTITY=mme.simula.nornet" in lines
    assert lines.index("Environment=MME_IDENTITY=mme.simula.nornet") < [
        i for i, line in enumerate(lines) if line.startswith("ExecStart=")][0]
