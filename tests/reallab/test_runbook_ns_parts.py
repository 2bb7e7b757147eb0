"""The pure parts of the runbook's NS steps in the real-stack lab (mecpool.reallab.runbook_ns): the
bridge and gateway the lab holds for the VDUs, the site's addresses to find in Neutron, LCM's day-1 log
lines against the built VNFDs' order, and the summary of what failed.  The real thing: --runbook."""

import tarfile
from pathlib import Path

import pytest
import yaml

from mecpool.reallab import runbook_ns, site

AUTH = "http://127.0.0.1:5000/v3"


def test_bridge_and_gateway_of_a_neutron_network():
    assert runbook_ns.bridge_of("0f6c2e4a-1b2c-4d5e-8f90-123456789abc") == "brq0f6c2e4a-1b"
    assert runbook_ns.gateway_cidr({"name": "s", "gateway_ip": "10.220.1.1", "cidr": "10.220.1.0/24"}) == "10.220.1.1/24"
    with pytest.raises(runbook_ns.NsRunError, match="subnet s: no gateway_ip"):
        runbook_ns.gateway_cidr({"name": "s", "gateway_ip": None, "cidr": "10.220.1.0/24"})


def test_the_gateway_is_on_a_router_port_of_the_bridge_not_on_the_bridge():
    commands = runbook_ns.router_port("0f6c2e4a-1b2c-4d5e-8f90-123456789abc", "brq0f6c2e4a-1b", "10.221.1.1/24")
    assert commands == [["ip", "link", "add", "rtr0f6c2e4a-1b", "type", "veth", "peer", "name", "rtp0f6c2e4a-1b"],
                        ["ip", "link", "set", "rtp0f6c2e4a-1b", "master", "brq0f6c2e4a-1b", "up"],
                        ["ip", "addr", "replace", "10.221.1.1/24", "dev", "rtr0f6c2e4a-1b"],
                        ["ip", "link", "set", "rtr0f6c2e4a-1b", "up"]]
    assert all(len(name) <= 15 for name in runbook_ns.router_port_names("0f6c2e4a-1b2c-4d5e-8f90-123456789abc"))
    assert not any(c[-2:] == ["dev", "brq0f6c2e4a-1b"] for c in commands)     # nothing on the bridge device


def test_the_watchs_probe_is_a_pe_vm_found_by_its_pool_address_with_its_mgmt_address():
    by_address = {"10.221.1.10": {"server": "labns-2-registrar-1", "network": "pool-edge"},
                  "10.220.1.124": {"server": "labns-2-registrar-1", "network": "mgmt-edge"},
                  "10.221.1.77": {"server": "labns-4-pool-element-2", "network": "pool-edge"},   # no mgmt yet
                  "10.221.1.48": {"server": "labns-4-pool-element-1", "network": "pool-edge"},
                  "10.220.1.201": {"server": "labns-4-pool-element-1", "network": "mgmt-edge"},
                  "10.221.2.10": {"server": "labns-3-registrar-1", "network": "pool-core"}}
    registrars = ["10.221.1.10", "10.221.2.10"]
    vm = runbook_ns.pe_probe_vm(by_address, "pool-edge", "edge", "mgmt-edge", registrars)
    assert (vm.name, vm.mgmt, vm.pool) == ("labns-4-pool-element-1", "10.220.1.201", "10.221.1.48")
    del by_address["10.220.1.201"]
    assert runbook_ns.pe_probe_vm(by_address, "pool-edge", "edge", "mgmt-edge", registrars) is None


def test_expected_addresses_are_the_sites_epc_and_registrar_addresses(tmp_path):
    path = tmp_path / "site.yaml"
    site.write(path, AUTH, "127.0.0.1/32")
    wanted = runbook_ns.expected_addresses(path)
    assert wanted["192.168.247.102"] == ("epc-mme", "reallab-s1c")     # a site network: its VIM name
    assert wanted["172.16.6.129"] == ("epc-hss", "s6a")                # an NS VLD: RO names it after the NS
    assert wanted["10.221.1.10"] == ("pr-edge", "pool-edge") and wanted["10.221.2.10"] == ("pr-core", "pool-core")
    assert len(wanted) == 11


def lcm_line(vdu, primitive, index="1"):
    return ("2026-12-06T16:00:00 lcm.ns DEBUG Task ns=n1 instantiate=o1 member_vnf_index={}, vdu_id={}, "
            "vdu_index=0 execute primitive '{}' params '{{}}'".format(index, vdu, primitive))


def fake_build(tmp_path, vdus):
    """A build dir with one VNF package whose VDUs have these initial-config-primitives (seq shuffled)."""
    vnfd = {"vnfd:vnfd-catalog": {"vnfd": [{"id": "v", "vdu": [
        {"id": vdu, "vdu-configuration": {"initial-config-primitive": [
            {"seq": seq, "name": name} for seq, name in reversed(list(enumerate(names, 1)))]}}
        for vdu, names in vdus.items()]}]}}
    src = tmp_path / "v" / "v_vnfd.yaml"
    src.parent.mkdir(parents=True)
    src.write_text(yaml.safe_dump(vnfd))
    (tmp_path / "build" / "vnf-packages").mkdir(parents=True)
    with tarfile.open(tmp_path / "build" / "vnf-packages" / "v.tar.gz", "w:gz") as archive:
        archive.add(src, arcname="v/v_vnfd.yaml")
    return tmp_path / "build"


def test_day1_order_from_lcms_log_against_the_vnfd(tmp_path):
    build = fake_build(tmp_path, {"registrar": ["config", "configure"], "hss": ["build", "wait-build", "configure"]})
    assert runbook_ns.vnfd_day1(build) == {"v/registrar": ["config", "configure"],
                                           "v/hss": ["build", "wait-build", "configure"]}
    log = tmp_path / "lcm.log"
    failed_line = ("2026-12-06T21:16:46 ERROR lcm.ns ns.py:3406 Task ns=n1 instantiate=o1 Deploying VCA 1.hss: "
                   "execute primitive 'build' params '{}' <<class 'n2vc.exceptions.N2VCExecutionException'>> Error")
    log.write_text("\n".join([lcm_line("hss", "build"), lcm_line("registrar", "config", "2"), "noise", failed_line,
                              lcm_line("hss", "wait-build"), lcm_line("registrar", "configure", "2")]) + "\n")
    day1 = runbook_ns.check_day1(log, build, {"_admin": {"deployed": {"VCA": [{"vdu_id": "hss", "ee_id": "a.b.0"}]}}})
    hss = day1["by_vca"]["member_vnf_index=1, vdu_id=hss, vdu_index=0"]
    assert hss == {"ran": ["build", "wait-build"], "vnfd": "v/hss", "in_vnfd_order": True, "complete": False}
    assert day1["by_vca"]["member_vnf_index=2, vdu_id=registrar, vdu_index=0"]["complete"] is True
    assert day1["all_in_vnfd_order"] is True and day1["nsr_vca"][0]["ee_id"] == "a.b.0"
    log.write_text(lcm_line("registrar", "configure", "2") + "\n")       # config skipped: out of order
    assert runbook_ns.check_day1(log, build, None)["all_in_vnfd_order"] is False
    assert runbook_ns.check_day1(tmp_path / "none.log", build, None)["all_in_vnfd_order"] is False   # none ran


DAY2_PASSED = {"registered": {"ran": True, "all": True}, "pool_users": {"ok": True}, "pe_action": {"ok": True},
               "security_group": {"ran": True, "exact": True},
               "scale": {"ran": True, "after_out": {"ok": True}, "pe_action_after_out": {"ok": True},
                         "vms_after_out": {"ran": True, "cloud_init": {"pe-new": {"done": True}}},
                         "left": {"left": True}}}


def test_failed_names_every_step_and_check_that_did_not_pass():
    good = {"steps": {"build": {"exit": 0}}, "checks": {
        "servers": {"servers": [{}], "all_active": True, "addresses_ok": True, "addresses": {}},
        "cloud_init": {"vm": {"done": True, "guest": {"ssh_from": "10.200.0.2"}}},
        "day1": {"all_in_vnfd_order": True}, **DAY2_PASSED,
        "teardown_left": {"clean": True}, "site_left": {"clean": True}}}
    assert runbook_ns.failed(good) == []
    good["checks"]["cloud_init"]["vm"]["guest"]["ssh_from"] = "10.220.1.1"      # the mgmt gateway
    assert runbook_ns.failed(good) == ["SSH to the VDUs did not come from OSM's address 10.200.0.2: vm saw 10.220.1.1"]
    good["checks"]["cloud_init"]["vm"]["guest"]["ssh_from"] = "10.200.0.2"
    # a step whose check expects another exit (pe-action after a scale-out: 3) is judged by that
    good["steps"]["pe-action after scale-out"] = {"exit": 3, "expected_exit": 3}
    assert runbook_ns.failed(good) == []
    good["steps"]["pe-action after scale-out"] = {"exit": 0, "expected_exit": 3}
    assert runbook_ns.failed(good) == ["mecpool pe-action after scale-out exited 0 (not 3)"]
    del good["steps"]["pe-action after scale-out"]
    bad = {"steps": {"instantiate": {"exit": 1}}, "checks": {
        "servers": {"servers": [{}], "all_active": False, "addresses_ok": False,
                    "addresses": {"10.221.1.10": {"ok": False}}},
        "cloud_init": {"vm": {"done": False}}, "day1": {},
        "registered": {"ran": False, "why": "instantiate exited 1: no day 2"}, "teardown_left": {"clean": False},
        "site_left": {"clean": False, "left": {"flavors": ["mecpool-reallab-hss"]}}}}
    said = runbook_ns.failed(bad)
    assert said[:5] == [
        "mecpool instantiate exited 1", "not every server ACTIVE", "site addresses missing or on other networks: "
        "10.221.1.10", "cloud-init not done on every VM", "day-1 primitives not all run in VNFD order"]
    assert said[5] == "PEs not registered in every registrar: instantiate exited 1: no day 2"
    assert said[-2:] == ["teardown left NS resources",
                         'teardown --all left site resources: {"flavors": ["mecpool-reallab-hss"]}']


def test_the_labs_mirror_serves_what_the_epc_charms_install_hook_installs():
    packages = runbook_ns.epc_charm_packages()
    for name in ("git", "netplan.io", "nftables", "networkd-dispatcher", "iptables", "ethtool"):
        assert name in packages, name      # the base list, the HSS's REST filter, the SPGW-U's SGi tools
    assert packages == sorted(set(packages))
