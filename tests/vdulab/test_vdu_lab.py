"""The VDU lab end to end: `mecpool vdu-lab` boots the example site's registrar,
pool element and EPC VDUs as real QEMU VMs from the user data OSM R8 and Nova
would deliver, and every check it makes must pass.  One lab run serves all
tests below; each test reads its part of result.json, so a failure names it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mecpool.packaging import builder, userdata
from mecpool.site import load_site

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.vdulab
# Measured (docs/vdu-lab.md): 25-35 min warm on an idle host; over 60 min cold with a load of 6-11
# (two other engineers building beside it), which fails it rather than CI's 90 minutes.
LAB_TIMEOUT_S = 3600
CLEANUP_S = 300         # SIGTERM to VMs powered off: evidence of 9 VMs over SSH, then QEMU quit


@pytest.fixture(scope="module")
def lab_run(tmp_path_factory):
    """The example site built here (real charms; the wheel cache of `make` is reused),
    then one lab run over it."""
    root = tmp_path_factory.mktemp("vdu-lab")
    site = REPO / "site.example.yaml"
    builder.build(load_site(site), root / "build", vendor_root=REPO / "build" / "vendor")
    out = root / "run"
    done = _run_lab([str(Path(sys.executable).with_name("mecpool")), "vdu-lab", "--site", str(site),
                     "--build", str(root / "build"), "--out", str(out)])
    sys.stderr.write(done.stderr[-20000:])
    sys.stdout.write(done.stdout)
    result = out / "result.json"
    assert result.is_file(), "the lab wrote no result: exit {}\n{}".format(done.returncode, done.stderr[-3000:])
    return done, json.loads(result.read_text())


def _run_lab(argv, timeout_s=LAB_TIMEOUT_S):
    """The lab's CLI; past the timeout it gets SIGTERM, on which it keeps the evidence and
    powers its VMs off (a SIGKILL would skip that), and then the result says it timed out."""
    lab = subprocess.Popen(argv, cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = lab.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        lab.terminate()
        try:
            stdout, stderr = lab.communicate(timeout=CLEANUP_S)
        except subprocess.TimeoutExpired:
            lab.kill()          # its QEMU and dnsmasq end with it (mecpool.vdulab.lifetime)
            stdout, stderr = lab.communicate()
        stderr += "\nthe lab ran over {} s and was stopped\n".format(timeout_s)
    return subprocess.CompletedProcess(argv, lab.returncode, stdout, stderr)


def checks_named(result, text):
    found = [c for c in result["checks"] if text in c["name"]]
    assert found, "no check named like {!r}".format(text)
    return found


def failed(found):
    return ["{}: {}".format(c["name"], c["detail"]) for c in found if not c["ok"]]


def test_table_lists_every_vm_with_its_user_data(lab_run):
    done, result = lab_run
    vms = {row["vm"]: row for row in result["vms"]}
    assert set(vms) == {"pr-mec", "pr-stavanger", "pe-mec-1", "pe-mec-2", "pe-mec-3", "hss", "mme", "spgwc",
                        "spgwu"}
    for row in vms.values():
        assert 0 < row["user_data_bytes"] <= userdata.USER_DATA_GOAL
        assert row["vm"] in done.stdout
    assert "boot to registered (s)" in done.stdout


@pytest.mark.parametrize("text", [
    "PEs registered in every registrar", "boot: pe-mec-1 listed", "boot: pe-mec-2 listed", "peers with",
    "service active with capacity",
])
def test_pool_boots_from_user_data_alone(lab_run, text):
    assert not failed(checks_named(lab_run[1], text))


def test_a_pe_booted_before_the_registrars_is_restarted_by_its_watchdog_and_registers(lab_run):
    """pe-mec-1's service starts before any registrar VM boots: its first registration fails,
    and stock RSPLIB then may never register by itself (a race, docs/vdu-lab.md).  With no
    registrar for minutes, its watchdog restarts it (at least once), and it registers."""
    restarts = lab_run[1]["facts"]["PE watchdog restarts at boot"]
    assert isinstance(restarts["pe-mec-1"], int) and restarts["pe-mec-1"] >= 1, restarts
    assert not failed(checks_named(lab_run[1], "boot: pe-mec-1 listed"))


@pytest.mark.parametrize("text", ["pr-mec restarted its registrar", "pr-stavanger VM hard-rebooted",
                                  "pool NIC ens4 reconfigured"])
def test_the_pool_recovers_by_itself(lab_run, text):
    assert not failed(checks_named(lab_run[1], text))


def test_scale_out_pe_joins(lab_run):
    assert not failed(checks_named(lab_run[1], "scale-out"))
    row = next(r for r in lab_run[1]["vms"] if r["vm"] == "pe-mec-3")
    assert row["boot_to_registered_s"] != ""


def test_jobs_complete_on_vm_pes(lab_run):
    result = lab_run[1]
    assert not failed(checks_named(result, "every started job completed"))
    assert not failed(checks_named(result, "jobs accepted by the VM PEs"))
    assert result["facts"]["jobs completed"] > 0


@pytest.mark.parametrize("text", ["pr-mec: ", "pr-stavanger: ", "pe-mec-1: "])
def test_charms_run_in_the_vms(lab_run, text):
    charm_checks = [c for c in checks_named(lab_run[1], text) if "cloud-init" not in c["name"]]
    assert len(charm_checks) >= 4
    assert not failed(charm_checks)


@pytest.mark.parametrize("vdu", ["hss", "mme", "spgwc", "spgwu"])
def test_epc_vdus_boot(lab_run, vdu):
    found = [c for c in checks_named(lab_run[1], vdu + ": ") if "cloud-init" not in c["name"]]
    assert {c["name"].split(": ")[1] for c in found} >= {"hostname", "every NIC has its address",
                                                         "default route on mgmt only",
                                                         "both N2VC keys for the default user"}
    assert not failed(found)


def test_cloud_init_clean_everywhere(lab_run):
    found = checks_named(lab_run[1], ": cloud-init")
    assert len(found) == 9
    assert not failed(found)


def test_every_step_passed(lab_run):
    done, result = lab_run
    assert not failed(result["checks"])
    assert result["ok"] and done.returncode == 0


@pytest.mark.parametrize("text", ["pe-mec-1: rspserver runs with librspfreshload",
                                  "pe-mec-2: rspserver runs with librspfreshload",
                                  "pe-mec-3: rspserver runs with librspfreshload",
                                  "pr-mec: endpoint keep-alive RSPLIB's default",
                                  "pr-stavanger: endpoint keep-alive RSPLIB's default",
                                  "pe-mec-1: pe-status freshload yes"])
def test_pes_run_librspfreshload_from_their_user_data(lab_run, text):
    assert not failed(checks_named(lab_run[1], text))


def test_load_changes_reach_the_registrars_long_before_the_keepalive(lab_run):
    """The check holds the testbed's busy-host bounds; the 100 ms goal is reported in the facts."""
    assert not failed(checks_named(lab_run[1], "load changes reach every registrar"))
    measured = lab_run[1]["facts"]["load freshness"]
    assert sum(len(d) for pe in measured.values() for d in pe["delays ms"].values()) >= 5, measured
