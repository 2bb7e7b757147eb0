"""Parts of the real-stack lab's day 2 and teardown --all checks that run without the stack: the security
group probe (its script, run for real against a network namespace with nftables drop rules, and what
it expects from openstack-prepare's rules), Nova's address rows, and the summary of what failed.
The real thing: tests/reallab/test_real_lab.py (--runbook)."""

import json
import subprocess

import pytest

from mecpool.reallab import runbook_day2, runbook_ns, sgprobe, site

AUTH = "http://127.0.0.1:5000/v3"
OSM_SOURCE = "10.200.9.9/32"


def run_probe_in_namespace(targets, drop_rules, seconds=1):
    """The probe's own command line and stdin, with this host's python3 in a fresh network namespace
    (unshare -rn: lo only, root there, the host untouched) where nftables drops what `drop_rules` say;
    TCP 8080 has the probe's own listener."""
    probes = [sgprobe.Probe("here", "there", "edge", address, protocol, port)
              for address, protocol, port in targets]
    rules = "\n".join(f"nft add rule inet t in {rule}" for rule in drop_rules)
    script = f"""set -e
ip link set lo up
nft add table inet t
nft add chain inet t in '{{ type filter hook input priority 0; }}'
{rules}
{sgprobe.listener_command(8080, 20)}
{sgprobe.probe_command(seconds, as_root="")}
"""
    done = subprocess.run(["unshare", "-rn", "sh", "-c", script], input=sgprobe.probe_input(probes),
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    return sgprobe.parse_answers(done.stdout.decode())


def target(protocol, port=0, address="127.0.0.1"):
    return (address, protocol, port)


def test_probe_script_tells_open_refused_and_dropped_apart():
    answers = run_probe_in_namespace(
        [target("tcp", 8080), target("tcp", 8081), target("icmp"), target("sctp", 3863)],
        ["tcp dport 8080 drop", "icmp type echo-request drop"])
    assert [a["verdict"] for a in answers[:3]] == ["filtered", "refused", "filtered"], answers
    assert all(a["source"] == "127.0.0.1" for a in answers)
    # a kernel without SCTP (this host) says so; with it, nobody listens on 3863 here
    assert answers[3]["verdict"] in ("error", "refused") and answers[3]["detail"], answers[3]
    answers = run_probe_in_namespace([target("tcp", 8080), target("icmp")], [])
    assert [a["verdict"] for a in answers] == ["open", "open"], answers


def lab_site():
    return site.build(AUTH, OSM_SOURCE)


def rules(vim):
    mgmt = dict(runbook_ns.lab_mgmt())
    return sgprobe.admitted_rules(lab_site(), vim, [mgmt[vim][1]])


@pytest.mark.parametrize("vim, protocol, port, source, verdict", [
    ("edge", "sctp", 3863, "10.221.2.10", "open"),        # ASAP from the other VIM's registrar
    ("edge", "sctp", 9901, "10.221.2.10", "open"),        # ENRP
    ("edge", "tcp", 22, "10.221.2.10", "filtered"),       # SSH only from management subnets and OSM
    ("edge", "tcp", 22, "10.220.1.7", "open"),
    ("edge", "tcp", 22, "10.200.9.9", "open"),            # the VIM's osm_sources
    ("edge", "tcp", 22, "10.220.2.7", "filtered"),        # the other VIM's management subnet
    ("edge", "icmp", 0, "10.221.2.10", "filtered"),
    ("edge", "icmp", 0, "10.220.1.7", "open"),
    ("edge", "tcp", sgprobe.LISTENER_PORT, "10.220.1.7", "filtered"),
    ("edge", "sctp", 36412, "10.221.2.10", "open"),       # the EPC's VIM: S1-C from anywhere
    ("core", "sctp", 36412, "10.221.1.10", "filtered"),   # no EPC on core
    ("core", "sctp", 3863, "10.221.1.10", "open"),
])
def test_expected_verdict_is_what_openstack_prepares_rules_admit(vim, protocol, port, source, verdict):
    probe = sgprobe.Probe("a", "b", vim, "10.0.0.1", protocol, port)
    assert sgprobe.expected(rules(vim), probe, source) == verdict


def test_plan_probes_the_pool_ports_across_vims_and_ssh_icmp_and_a_listener_within_one():
    home = sgprobe.ProbeVm("pr-edge-vm", "edge", "10.220.1.20", "10.221.1.10")
    other = sgprobe.ProbeVm("pr-core-vm", "core", "10.220.2.20", "10.221.2.10")
    pe = sgprobe.ProbeVm("pe-vm", "edge", "10.220.1.21", "10.221.1.100")
    port = lab_site().pool.pe_port
    probes = sgprobe.plan(home, other, pe, port)
    texts = [p.text() for p in probes]
    assert f"pr-core-vm -> pe-vm 10.221.1.100 SCTP {port}" in texts
    assert "pe-vm -> pr-edge-vm 10.220.1.20 TCP 22" in texts and "pr-core-vm -> pr-edge-vm 10.221.1.10 ICMP" in texts
    assert "pr-edge-vm -> pr-core-vm 10.221.2.10 TCP 8080" in texts
    by_vim = {"edge": rules("edge"), "core": rules("core")}
    # what a cloud that enforces the group would answer, source by source
    sources = {"pr-core-vm": "10.221.2.10", "pr-edge-vm": "10.221.1.10", "pe-vm": "10.220.1.21"}
    answers = [{"verdict": sgprobe.expected(by_vim[p.target_vim], p, sources[p.source_vm]),
                "source": sources[p.source_vm]} for p in probes]
    assert sgprobe.judge(probes, answers, by_vim)["exact"] is True
    assert {a["verdict"] for a in answers} == {"open", "filtered"}      # the plan tests both ways


def test_judge_names_each_probe_the_group_answered_wrongly():
    by_vim = {"edge": rules("edge")}
    probes = [sgprobe.Probe("x", "y", "edge", "10.221.1.10", "tcp", 22),
              sgprobe.Probe("x", "y", "edge", "10.221.1.10", "sctp", 3863)]
    answers = [{"verdict": "open", "source": "10.221.2.10", "detail": "connected"},     # admitted too much
               {"verdict": "filtered", "source": "10.221.2.10", "detail": "no answer"}]  # or too little
    judged = sgprobe.judge(probes, answers, by_vim)
    assert judged["exact"] is False and len(judged["wrong"]) == 2
    assert judged["wrong"][0] == "x -> y 10.221.1.10 TCP 22 from 10.221.2.10: open, expected filtered (connected)"
    assert sgprobe.judge(probes, answers[:1], by_vim)["exact"] is False            # an answer missing


def test_servers_by_address_from_either_networks_form():
    rows = [{"name": "labns-2-registrar-0", "networks": {"mgmt-edge": ["10.220.1.20"], "pool-edge": ["10.221.1.10"]}},
            {"Name": "labns-3-registrar-0", "Networks": "mgmt-core=10.220.2.20; pool-core=10.221.2.10"}]
    found = runbook_day2.servers_by_address(rows)
    assert found["10.221.1.10"] == {"server": "labns-2-registrar-0", "network": "pool-edge"}
    assert found["10.220.2.20"] == {"server": "labns-3-registrar-0", "network": "mgmt-core"}
    vm = runbook_day2.probe_vm(found, "10.221.2.10", "core", "mgmt-core")
    assert vm == sgprobe.ProbeVm("labns-3-registrar-0", "core", "10.220.2.20", "10.221.2.10")
    assert runbook_day2.probe_vm(found, "10.221.2.10", "core", "mgmt-edge") is None   # no mgmt address
    assert runbook_ns.mgmt_addresses(rows) == {"labns-2-registrar-0": "10.220.1.20", "labns-3-registrar-0": "10.220.2.20"}


def test_site_left_counts_everything_but_the_labs_image():
    had = {"flavors": ["mecpool-reallab-hss"], "security_groups": ["a", "b"], "networks": ["pool-edge"],
           "vim_accounts": ["reallab-edge"], "packages": ["| nsd | 1234abcd-..."], "image": ["mecpool-vdulab"]}
    gone = {k: ([] if k != "image" else v) for k, v in had.items()}
    assert runbook_ns.site_left(had, gone) == {"had": had, "left": {}, "clean": True, "image_kept": True}
    left = runbook_ns.site_left(had, {**gone, "security_groups": ["b"]})
    assert left["clean"] is False and left["left"] == {"security_groups": ["b"]}
    assert runbook_ns.site_left({**had, "flavors": []}, gone)["clean"] is False   # nothing seen before: no proof


def test_failed_names_day_two_and_teardown_all_checks():
    good_day2 = {"registered": {"ran": True, "all": True}, "pool_users": {"ok": True}, "pe_action": {"ok": True},
                 "security_group": {"ran": True, "exact": True},
                 "scale": {"ran": True, "after_out": {"ok": True}, "pe_action_after_out": {"ok": True},
                           "vms_after_out": {"ran": True, "cloud_init": {"pe-new": {"done": True}}},
                           "left": {"left": True}}}
    assert runbook_day2.failed(good_day2) == []
    bad = {**good_day2, "registered": {"ran": True, "all": False, "missing": {"pr-core": ["10.221.1.100"]}},
           "security_group": {"ran": True, "exact": False, "wrong": ["x -> y TCP 22: open, expected filtered"]},
           "scale": {"ran": True, "after_out": {"ok": True}, "pe_action_after_out": {"ok": True},
                     "vms_after_out": {"ran": True, "cloud_init": {"pe-new": {"done": True}}},
                     "left": {"left": False}}}
    said = runbook_day2.failed(bad)
    assert said == ['PEs not registered in every registrar: {"pr-core": ["10.221.1.100"]}',
                    "security group: x -> y TCP 22: open, expected filtered",
                    "the scaled-in PE did not leave the handlespace"]
    assert runbook_day2.failed({})[0] == "PEs not registered in every registrar: ?"
    scale = good_day2["scale"]
    unfinished = {**good_day2, "scale": {**scale, "vms_after_out": {"ran": True, "cloud_init": {"pe-new": {"done": False}}}}}
    assert runbook_day2.failed(unfinished) == ["cloud-init not done on the scaled-out VM"]
    unseen = {**good_day2, "scale": {**scale, "vms_after_out": {"ran": False, "why": "RuntimeError: 503"}}}
    assert runbook_day2.failed(unseen) == ["the scaled-out VM not looked at: RuntimeError: 503"]


def test_vm_table_joins_nova_cloud_init_each_registrars_view_and_the_times():
    checks = {"servers": {"servers": [
        {"name": "vm-a", "status": "ACTIVE", "launched_at": 1000.0,
         "networks": {"mgmt-edge": ["10.220.1.20"], "pool-edge": ["10.221.1.10"]}},
        {"name": "vm-b", "status": "ERROR", "launched_at": 1010.0, "networks": {"pool-edge": ["10.221.1.100"]}}],
        "addresses": {"10.221.1.10": {"role": "pr-edge"}}},
        "cloud_init": {"vm-a": {"done": True, "boot_to_done_s": 338.4}, "vm-b": {"done": False,
                                                                                 "boot_to_done_s": None}},
        "registered": {"by_registrar": {"pr-edge": ["10.221.1.100"], "pr-core": []}},
        "registration_watch": {"first_listed_by_every_registrar": {"10.221.1.100": 1391.2, "10.221.2.50": 2000.0}},
        "scale": {"after_out": {"by_registrar": {"pr-core": ["10.221.1.100", "10.221.2.50"]}},
                  "vms_after_out": {"ran": True, "servers": [
                      {"name": "vm-b", "status": "ACTIVE", "launched_at": 1010.0,
                       "networks": {"pool-edge": ["10.221.1.100"]}},
                      {"name": "vm-c", "status": "ACTIVE", "launched_at": 1800.0,
                       "networks": {"pool-core": ["10.221.2.50"]}}],
                      "cloud_init": {"vm-c": {"done": True, "boot_to_done_s": 401.0}}}}}
    rows = runbook_ns.vm_rows(checks)
    assert rows == [{"vm": "vm-a", "status": "ACTIVE", "addresses": ["mgmt-edge 10.220.1.20",
                                                                      "pool-edge 10.221.1.10 (pr-edge)"],
                     "cloud_init_done": True, "boot_to_cloud_init_done_s": 338.4, "launch_to_listed_s": None,
                     "registered_in": []},
                    {"vm": "vm-b", "status": "ERROR", "addresses": ["pool-edge 10.221.1.100"],
                     "cloud_init_done": False, "boot_to_cloud_init_done_s": None, "launch_to_listed_s": 381,
                     "registered_in": ["pr-core", "pr-edge"]},
                    {"vm": "vm-c (scale-out)", "status": "ACTIVE", "addresses": ["pool-core 10.221.2.50"],
                     "cloud_init_done": True, "boot_to_cloud_init_done_s": 401.0, "launch_to_listed_s": 200,
                     "registered_in": ["pr-core"]}]
    table = runbook_ns.vm_table(rows).splitlines()
    assert table[2] == "| vm-a | ACTIVE | mgmt-edge 10.220.1.20<br>pool-edge 10.221.1.10 (pr-edge) | yes | 338 | - | - |"
    assert table[3] == "| vm-b | ERROR | pool-edge 10.221.1.100 | no | - | 381 | pr-core, pr-edge |"
    assert table[4] == "| vm-c (scale-out) | ACTIVE | pool-core 10.221.2.50 | yes | 401 | 200 | pr-core |"
    del checks["scale"]["vms_after_out"]["cloud_init"]          # not asked: shown as such, not as "no"
    assert runbook_ns.vm_table(runbook_ns.vm_rows(checks)).splitlines()[4].startswith(
        "| vm-c (scale-out) | ACTIVE | pool-core 10.221.2.50 | - | - | 200 |")


def test_cloud_init_done_is_read_from_its_status_json_in_guest_uptime():
    status = {"v1": {"datasource": "DataSourceConfigDrive", "init": {"errors": [], "finished": 190.2, "start": 160.0},
                     "modules-final": {"errors": [], "finished": 338.35, "recoverable_errors": {}, "start": 171.72},
                     "stage": None}}
    assert runbook_ns.boot_to_cloud_init_done(json.dumps(status)) == 338.4
    status["v1"]["modules-final"]["finished"] = None        # the final stage still running
    assert runbook_ns.boot_to_cloud_init_done(json.dumps(status)) is None
    assert runbook_ns.boot_to_cloud_init_done("cat: /run/cloud-init/status.json: No such file") is None


def test_the_guests_clocksource_cpu_model_and_whom_its_sshd_saw():
    said = "tsc\nmodel name\t: QEMU Virtual CPU version 2.5+\nssh from: 10.200.0.2\n"
    assert runbook_ns.guest_facts(said) == {"clocksource": "tsc", "cpu": "QEMU Virtual CPU version 2.5+",
                                            "ssh_from": "10.200.0.2"}
    # no model name line (grep found none) and an empty SSH_CONNECTION
    assert runbook_ns.guest_facts("tsc\nssh from: \n") == {"clocksource": "tsc", "cpu": None, "ssh_from": None}
    assert runbook_ns.guest_facts("") == {"clocksource": None, "cpu": None, "ssh_from": None}


def test_the_ask_prints_the_ssh_clients_address_as_the_guest_sees_it():
    """CLOUD_INIT_ASK's last line, run by a real shell with sshd's variable set as sshd sets it."""
    tail = runbook_ns.CLOUD_INIT_ASK.rsplit("; ", 1)[1]
    done = subprocess.run(["sh", "-c", tail], capture_output=True, text=True,
                          env={"SSH_CONNECTION": "10.200.0.2 44270 10.220.1.156 22"})
    assert runbook_ns.guest_facts("tsc\n" + done.stdout)["ssh_from"] == "10.200.0.2"


def test_ssh_that_came_from_elsewhere_than_osms_address_fails_the_run():
    """The mgmt gateway is in the subnet the group admits anyway: SSH from it proves nothing of osm_sources."""
    seen = {"hss": {"done": True, "guest": {"ssh_from": "10.200.0.2"}},
            "pr-edge": {"done": True, "guest": {"ssh_from": "10.220.1.1"}},
            "pe": {"done": False, "said": "no route"}}            # not reached: failed as cloud-init not done
    assert runbook_ns.ssh_not_from_osm(seen) == ["pr-edge saw 10.220.1.1"]
    assert runbook_ns.ssh_not_from_osm({"ran": False, "why": "no servers"}) == []


def test_novas_launch_time_is_utc():
    assert runbook_ns.nova_time("2026-12-06T20:50:12.000000") == 1796590212.0


def broken_nsr(detail, broken_vdus, status_of=None):
    """An NS record as LCM v8.0 leaves it: _admin.deployed.VCA and configurationStatus index by index."""
    vdus = ["hss", "mme", "spgwc", "spgwu", "registrar", "registrar", "pool-element"]
    members = ["1", "1", "1", "1", "2", "3", "4"]
    return {"nsState": "BROKEN", "errorDetail": detail,
            "_admin": {"deployed": {"VCA": [{"member-vnf-index": m, "vdu_id": v} for m, v in zip(members, vdus)]}},
            "configurationStatus": [{"status": "BROKEN" if v in broken_vdus else "READY"} for v in vdus]}


def test_epc_lab_limit_excuses_only_the_epc_builds_failing_on_sources_the_lab_cannot_reach():
    s = lab_site()
    sources = runbook_ns.epc_sources(s)
    assert "https://debian.cassandra.apache.org" in sources and len(sources) == 6
    detail = ". ".join(f"Deploying VCA {v}: execute primitive 'build' params '{{}}' the apt source "
                       "https://debian.cassandra.apache.org did not answer" for v in ("hss", "mme"))
    limit = runbook_ns.epc_lab_limit(broken_nsr(detail, {"hss", "mme"}), s)
    assert limit["only_that"] is True and limit["broken"] == ["1/hss", "1/mme"]
    # a registrar's day 1 broke too: not the lab's limit
    assert runbook_ns.epc_lab_limit(broken_nsr(detail, {"hss", "mme", "registrar"}), s)["only_that"] is False
    # the EPC's configure failed, or the build for another reason: not the lab's limit either
    assert runbook_ns.epc_lab_limit(broken_nsr(detail.replace("'build'", "'configure'"), {"hss", "mme"}),
                                    s)["only_that"] is False
    other = detail.replace("https://debian.cassandra.apache.org", "a full disk")
    assert runbook_ns.epc_lab_limit(broken_nsr(other, {"hss", "mme"}), s)["only_that"] is False
    assert runbook_ns.epc_lab_limit(None, s)["only_that"] is False


def test_failed_excuses_instantiate_and_the_epcs_day_one_only_under_the_lab_limit():
    checks = {"servers": {"servers": [{}], "all_active": True, "addresses_ok": True, "addresses": {}},
              "cloud_init": {"vm": {"done": True}},
              "day1": {"all_in_vnfd_order": True, "by_vca": {
                  "member_vnf_index=1, vdu_id=hss, vdu_index=0": {"complete": False},
                  "member_vnf_index=2, vdu_id=registrar, vdu_index=0": {"complete": True}}},
              "registered": {"ran": True, "all": True}, "pool_users": {"ok": True}, "pe_action": {"ok": True},
              "security_group": {"ran": True, "exact": True},
              "scale": {"ran": True, "after_out": {"ok": True}, "pe_action_after_out": {"ok": True},
                        "vms_after_out": {"ran": True, "cloud_init": {"pe-new": {"done": True}}},
                        "left": {"left": True}},
              "teardown_left": {"clean": True}, "site_left": {"clean": True}}
    result = {"steps": {"instantiate": {"exit": 1}}, "checks": {**checks, "epc_lab_limit": {"only_that": True}}}
    assert runbook_ns.failed(result) == []
    result["checks"]["epc_lab_limit"] = {"only_that": False}
    assert runbook_ns.failed(result) == ["mecpool instantiate exited 1",
                                         "day 1 not complete: member_vnf_index=1, vdu_id=hss, vdu_index=0"]
    checks["day1"]["by_vca"]["member_vnf_index=2, vdu_id=registrar, vdu_index=0"]["complete"] = False
    result["checks"]["epc_lab_limit"] = {"only_that": True}
    assert runbook_ns.failed(result) == ["day 1 not complete: member_vnf_index=2, vdu_id=registrar, vdu_index=0"]
