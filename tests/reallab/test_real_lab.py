"""The real OpenStack stack, brought up in namespaces and proved by its smoke path; OSM Release EIGHT's
NBI, LCM and RO on it, proved with osmclient (marker reallab).

Costs: warm (package tree and database dump cached) about 5-8 min on this 2-core host beside other
work, cold about 5 min more (download, unpack, database creation); 3-4 GB of RAM at its peak with the
smoke VM.  The runbook's NS (--runbook) an hour or more.  Not in `make test` yet (docs/real-lab.md);
`make real-lab` runs the runbook."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.reallab

ROOT = Path(__file__).resolve().parents[2]


def run_real_lab(out: Path, mode: str, timeout: float, *more: str) -> dict:
    """`mecpool real-lab <mode> --out <out>` as a user runs it; its result.json, after checking it passed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", "from mecpool.cli import main; main()", "real-lab", mode, "--out", str(out), *more]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    assert done.returncode == 0, done.stderr[-5000:]
    result = json.loads((out / "result.json").read_text())
    assert result["ok"] and result["left_after_teardown"] == []
    return result


def assert_nothing_left(out: Path) -> None:
    """No process runs from the lab's layers, no overlay of its run directory is mounted."""
    assert str(out) not in Path("/proc/self/mounts").read_text()
    assert subprocess.run(["pgrep", "-f", str(out)], capture_output=True, text=True).stdout.split() == []


def test_stack_comes_up_boots_a_server_and_leaves_nothing(tmp_path):
    out = tmp_path / "real-lab"
    result = run_real_lab(out, "--stack-only", 3600)
    for step in ("keystone token", "glance upload (kernel, initrd, disk)", "server ACTIVE",
                 "cloud-init done, ConfigDrive, user data applied (from server create)", "server deleted"):
        assert step in result["smoke"], step
    assert "status: done" in (out / "smoke" / "cloud-init-status.txt").read_text()
    assert_nothing_left(out)


def test_osm_release_eight_nbi_lcm_ro_manage_a_vim_account_on_the_stack(tmp_path):
    """OSM R8's own RO, NBI and LCM (venvs cached in $MECPOOL_CACHE) on the stack; osmclient v8:
    osm version, vim-create to ENABLED, RO lists the project's networks through it, vim-delete; our
    built packages onboarded through the real NBI, raw and with `mecpool onboard`."""
    site = ROOT / "site.example.yaml"
    build = tmp_path / "build"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for argv in ([sys.executable, "-m", "mecpool.rsplibfix"],
                 [sys.executable, "-c", "from mecpool.cli import main; main()", "build", "--site", str(site),
                  "--out", str(build)]):
        done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    out = tmp_path / "real-lab-osm"
    result = run_real_lab(out, "--osm-only", 5400, "--onboard", str(build), "--site", str(site))
    proof = result["osm_proof"]
    assert proof["operational_state"] == "ENABLED"
    assert "reallab-osm-net" in proof["ro_vim_networks"]
    assert proof["server_version"].startswith("8.")
    for step in ("osm vim-create --wait: ENABLED", "osm vim-delete --wait: gone from NBI and RO"):
        assert step in proof["steps"], step
    assert set(result["osm_venvs"]) == {"ro", "lcm", "client"}
    onboard = result["onboard"]
    assert onboard["refused"] == [] and len(onboard["accepted"]) == 4, onboard
    assert onboard["mecpool_onboard"]["exit"] == 0 and "updated" in onboard["mecpool_onboard"]["said"]
    logs = out / "logs"
    for name in ("osm-ro.log", "osm-nbi-lcm.log", "osm-lcm.log"):
        assert (logs / name).is_file(), name
    assert_nothing_left(out)


def test_runbook_against_the_real_stack_and_osm(tmp_path):
    """The lab's site (two projects as two VIM accounts); our `mecpool openstack-prepare` with the real
    `openstack` and `osm`: it makes the site's flavors, networks, subnets, security group and registers
    both VIM accounts in OSM; run again it has nothing to change.  Then the NS through the real LCM and RO
    with the lab's SSH VCA (mecpool.reallab.runbook_ns and runbook_day2): build, onboard, instantiate
    --wait, status, pool-status, pool users, pe-action, the security group probe, scale-pe --out and --in,
    teardown --all.  It passes only when every check does (result.json runbook.ns.failed empty); a run
    costs an hour or more here (docs/real-lab.md)."""
    out = tmp_path / "real-lab-runbook"
    result = run_real_lab(out, "--osm-only", 10800, "--runbook")
    runbook = result["runbook"]
    first, second = runbook["prepare_first"], runbook["prepare_second"]
    assert first["exit"] == 0 and second["exit"] == 0, (first, second)
    for made in ("flavor mecpool-reallab-hss", "network reallab-s1c", "subnet pool-core-subnet",
                 "security group mecpool-reallab", "VIM account reallab-edge registered in OSM",
                 "VIM account reallab-core registered in OSM"):
        assert made in first["said"], made
    assert second["said"].count("= nothing to change") == 2, second["said"]
    assert "reallab-edge" in runbook["vim_list"] and "reallab-core" in runbook["vim_list"]
    ns = runbook["ns"]
    assert ns["failed"] == [], ns["failed"]
    checks = ns["checks"]
    assert checks["servers"]["all_active"] and checks["servers"]["addresses_ok"]
    assert all(v["done"] for v in checks["cloud_init"].values())
    assert checks["day1"]["all_in_vnfd_order"] and checks["registered"]["all"]
    assert checks["pool_users"]["completed"] > 0 and checks["security_group"]["exact"]
    assert checks["scale"]["after_out"]["ok"] and checks["scale"]["left"]["left"]
    assert checks["teardown_left"]["clean"] and checks["site_left"]["clean"]
    assert all(row["cloud_init_done"] and row["boot_to_cloud_init_done_s"] for row in ns["vms"])
    pe_rows = [row for row in ns["vms"] if "pool-element" in row["vm"]]
    assert len(pe_rows) == 2 and all(row["launch_to_listed_s"] is not None for row in pe_rows), pe_rows
    assert_nothing_left(out)
