"""Real RSPLIB runs of the quick profile (1, 16, 64 PUs x 60 s) in the testbed.

One batch is shared by every test here (session fixture: one guest boot, the
three runs concurrently).  The assertions are what the reference shows and
what the engine promises; the numbers come from the files the tools wrote.
"""

import json
import subprocess

import pytest

from mecpool.rserpool import hsdump
from mecpool.testbed import engine, results, scenario as sc, timing

pytestmark = pytest.mark.testbed

# Lone jobs must take size / capacity: the median within 3 %, 80 % of them within 10 %.
MEDIAN_TOLERANCE = 0.03
SPREAD_TOLERANCE = 0.10


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    scenario = sc.load()
    settings = sc.RunSettings(scenario, "quick")
    root = tmp_path_factory.mktemp("testbed")
    run_dir = engine.run(scenario, settings, mode="auto", jobs=len(settings.run_keys()),
                         root=root, cache_root=engine.build_root() / "testbed" / "vm",
                         report=False)
    return run_dir


@pytest.fixture(scope="session")
def quick_results(quick_run):
    return {run.pus: run for run in results.load_results(quick_run).runs}


def _accepted(run, group):
    return sum(pe.scalars.jobs_accepted for pe in run.pes if pe.spec.group == group)


def test_quick_profile_ran_every_run(quick_run, quick_results):
    assert sorted(quick_results) == [1, 16, 64]
    for run in quick_results.values():
        info = json.loads((run.path / "run.json").read_text())
        assert info["status"] == "ok", info
        span = (run.ended - run.started).total_seconds()
        assert 59 <= span <= 66, span  # the PUs' measurement window is the profile's 60 s
    versions = json.loads((quick_run / "versions.json").read_text())
    installed = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "rsplib-tools"],
                               capture_output=True, text=True).stdout
    assert versions["rsplib"]["rsplib-tools"] == installed
    assert versions["mode"] in ("vm", "host") and versions["kernel"]
    assert (quick_run.parent / "latest").resolve() == quick_run.resolve()


def test_every_pe_registered_at_every_registrar_before_the_pus(quick_results):
    run = quick_results[16]
    wanted = {"0x{:08x}".format(0x5E000001 + i) for i in range(len(run.pes))}
    for registrar in ("pr-ue", "pr-mec", "pr-stavanger"):
        text = (run.path / "logs" / "hsdump-{}-registered.txt".format(registrar)).read_text()
        parsed = hsdump.parse(text)
        elements = [e for pool in parsed["pools"] for e in pool["elements"]]
        assert {e["identifier"] for e in elements} == wanted
        increments = {round(e["load_increment"], 3) for e in elements}
        assert increments == {0.1, 0.5, 1.0}


def test_one_pu_uses_only_the_mec(quick_results):
    run = quick_results[1]
    assert _accepted(run, "mec") > 0
    assert _accepted(run, "pmc") == 0
    assert _accepted(run, "ue") == 0


def test_overload_reaches_the_ue_pe(quick_results):
    run = quick_results[64]
    assert _accepted(run, "mec") > 0 and _accepted(run, "pmc") > 0
    assert _accepted(run, "ue") > 0
    assert results.job_accounting(run).rejects > 0


def test_every_queued_job_is_accounted_for(quick_results):
    for pus, run in quick_results.items():
        accounting = results.job_accounting(run)
        assert accounting.consistent, accounting.problems
        assert accounting.lost == 0, (pus, accounting)
        assert accounting.generated == (accounting.completed + accounting.still_queued
                                        + accounting.in_flight)
        assert accounting.completed > 0


def test_processing_time_of_lone_jobs_matches_size_over_capacity(quick_run):
    result = timing.distortion(quick_run)["overall"]
    assert result["lone_jobs"] >= 5, result
    assert abs(result["median"] - 1.0) <= MEDIAN_TOLERANCE, result
    assert result["q10"] >= 1.0 - SPREAD_TOLERANCE and result["q90"] <= 1.0 + SPREAD_TOLERANCE, result
