"""The lab's pure parts, without VMs: each VM's user data and day-1 primitives
from the built packages, and cloud-init's verdict with R8's key part."""

from pathlib import Path

import pytest

from mecpool.descriptors import additional_params
from mecpool.packaging import builder, userdata
from mecpool.site import load_site
from mecpool.vdulab import checks, topology, vdus

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "site.example.yaml"


@pytest.fixture(scope="module")
def site():
    return load_site(EXAMPLE)


@pytest.fixture(scope="module")
def built(tmp_path_factory, site):
    """The example built with stand-in charms (their directories hold a dispatch)."""
    root = tmp_path_factory.mktemp("lab-build")
    charms = {}
    for name in ("oai-hss", "oai-mme", "oai-spgwc", "oai-spgwu", "rsp-registrar", "rsp-pool-element"):
        charm = root / "src" / name
        source = REPO / "charms" / name
        charm.mkdir(parents=True)
        for file in ("metadata.yaml", "actions.yaml", "config.yaml"):
            (charm / file).write_text((source / file).read_text())
        (charm / "dispatch").write_text("#!/bin/sh\n")
        charms[name] = charm
    builder.build(site, root / "build", charm_provider=lambda source_root, staging: dict(charms))
    return vdus.load_built(root / "build")


def test_vm_user_data_is_r8s(built, site):
    params = additional_params(site, reveal_secrets=False)
    keys = userdata.sizing_keys()
    lab = topology.build_topology(site)
    vm = lab.vm("pe-mec-3")
    text, size = vdus.vm_user_data(built, vm.vnfd_id, vm.vdu_id, params[vm.member], keys)
    ours, r8 = checks.user_data_parts(text)
    assert ours == userdata.lcm_render(built[vm.vnfd_id].cloud_init["pool-element.cfg"], params[vm.member])
    assert r8 == userdata.key_part(keys)
    assert size.user_data_bytes == len(userdata.nova_user_data(text)) <= userdata.USER_DATA_GOAL


def test_user_data_of_another_site_is_refused(built, site):
    with pytest.raises(vdus.BuildMismatch, match="additionalParams lack .*run mecpool build"):
        vdus.vm_user_data(built, "rsp-pool-element", "pool-element", {"pool_handle": "x"}, [])


def test_day1_primitives_as_lcm_maps_them(built, site):
    params = additional_params(site, reveal_secrets=False)
    registrar = topology.build_topology(site).vm("pr-mec")
    primitives = vdus.day1_primitives(built, registrar.vnfd_id, registrar.vdu_id, params[registrar.member],
                                      registrar.mgmt_address)
    assert [(p.seq, p.name) for p in primitives] == [(1, "config"), (2, "configure")]
    config, configure = primitives
    assert vdus.is_config(config) and not vdus.is_config(configure)
    # INTEGER parameters arrive as numbers (LCM converts), STRING ones as given.
    assert config.params == {"identifier": 0x101, "loglevel": int(params[registrar.member]["pr_loglevel"]),
                             "endpoint-keepalive-ms": 0}   # rsplib.freshload: RSPLIB's default
    assert configure.params == {"address": "10.101.0.10", "peers": "10.106.0.10:9901"}


def test_missing_param_fails_the_primitive(built, site):
    with pytest.raises(vdus.BuildMismatch, match=r"configure\.address: <pr_address> is not provided"):
        vdus.day1_primitives(built, "rsp-registrar", "registrar", {"pr_identifier": "1", "pr_loglevel": "1",
                                                                    "pr_endpoint_keepalive_ms": "1000"}, "10.0.0.1")


def result(recoverable=None, system=False, own=True, r8=False, errors=()):
    return checks.CloudInitResult(
        status="done", datasource="DataSourceConfigDrive", errors=tuple(errors), recoverable=recoverable or {},
        system_schema=checks.Schema(system, ""), own_schema=checks.Schema(own, ""),
        r8_schema=None if r8 is None else checks.Schema(r8, ""))


def test_r8_key_part_explains_only_its_schema_warning():
    warning = {"WARNING": ["cloud-config failed schema validation! You may run ..."]}
    assert result(warning).clean
    assert "R8 key part: schema invalid" in result(warning).summary()
    # Our part invalid, another warning, an error: not clean.
    assert not result(warning, own=False).clean
    assert not result({"WARNING": warning["WARNING"] + ["Failed to install packages"]}).clean
    assert not result(warning, errors=["boom"]).clean
    # Without R8's part (or with a valid one) the merged schema must pass and no warning is excused.
    assert not result(warning, r8=None).clean
    assert not result(warning, r8=True).clean
    assert result({}, system=True, r8=None).clean


def test_evidence_keeps_every_file_of_every_started_vm(tmp_path):
    """What the lab keeps before power-off; a VM that does not answer gets a file saying so."""
    from types import SimpleNamespace

    from mecpool.vdulab import evidence

    class Guest(object):
        def __init__(self, fails):
            self.fails = fails
            self.commands = []

        def sudo(self, command, check=True, timeout=None):
            self.commands.append(command)
            if self.fails:
                raise RuntimeError("no SSH")
            return SimpleNamespace(stdout="out of " + command.split()[0], stderr="")

    runs = {"pe-1": SimpleNamespace(started=1.0, guest=Guest(False)),
            "pr-1": SimpleNamespace(started=1.0, guest=Guest(True)),
            "never": SimpleNamespace(started=None, guest=Guest(False))}
    written = evidence.keep(runs, tmp_path)
    names = [name for name, _ in evidence.COLLECT]
    assert sorted(written) == sorted(str(tmp_path / "vms" / vm / n) for vm in ("pe-1", "pr-1") for n in names)
    assert (tmp_path / "vms" / "pe-1" / "journal.txt").read_text() == "out of journalctl"
    assert "-u rsp-pe-watchdog" in runs["pe-1"].guest.commands[0]
    assert (tmp_path / "vms" / "pr-1" / "sctp.txt").read_text().startswith("# not collected: no SSH")
    assert not (tmp_path / "vms" / "never").exists()
