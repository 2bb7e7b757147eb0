"""The engine's job ledger and timing check on files the real tools wrote (fixtures)."""

import json
import shutil
from pathlib import Path

import pytest

from mecpool.testbed import ledger, timing

FIXTURES = Path(__file__).parent / "fixtures"
RUN = FIXTURES / "raw-run-2-8pus" / "raw" / "pus-8" / "run-1"
QUIRK = FIXTURES / "quirk-completed-without-accept"


def test_every_job_of_a_real_run_is_accounted_for():
    result = ledger.account_run(RUN)
    assert result["consistent"], result["problems"]
    assert result["lost"] == 0
    assert result["generated"] == result["completed"] + result["still_queued"] + result["in_flight"]
    pus = json.loads((RUN / "run.json").read_text())["pus_list"]
    completed = sum(len(ledger.read_vector(RUN / pu["vector"])) for pu in pus)
    assert result["completed"] == completed > 0
    assert ledger.accepted_by_group(RUN)["mec"] > 0


def test_a_skipped_job_id_counts_as_lost(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    vector = run / "pu-01.vec"
    lines = vector.read_text().splitlines()
    del lines[1]  # job 1's completion record disappears
    vector.write_text("\n".join(lines) + "\n")
    result = ledger.account_run(run)
    assert result["lost"] == 1
    assert not result["consistent"]
    assert any("job ids missing" in problem for problem in result["problems"])


def test_a_pu_without_scalars_is_reported(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    (run / "pu-03.sca").write_text('run 1 "scenario"\n')  # what a killed calcappclient leaves
    result = ledger.account_run(run)
    assert not result["consistent"]
    assert any("pu-03.sca: no scalars" in problem for problem in result["problems"])


def test_job_completed_without_accept_is_counted_but_kept_out_of_times():
    rows = ledger.read_vector(QUIRK / "pu-47.vec")
    part = ledger.account_pu(QUIRK / "pu-47.sca", QUIRK / "pu-47.vec", "pu-47")
    assert part["problems"] == [] and part["lost"] == 0
    assert part["completed"] == len(rows) and part["no_accept_quirks"] == 1
    bad = [row for row in rows if not ledger.valid_times(row)]
    assert [int(row["JobID"]) for row in bad] == [5] and bad[0]["AcceptTimeStamp"] == 0


def test_jobs_take_size_over_the_shared_capacity_in_the_real_run():
    result = timing.distortion(FIXTURES / "raw-run-2-8pus")["overall"]
    assert result["jobs"] >= 8
    assert abs(result["median"] - 1.0) < 0.03
    lone = timing.summarize(timing.run_ratios(RUN))
    assert lone["jobs"] >= 3 and abs(lone["median"] - 1.0) < 0.03


def test_equal_sharing_model():
    # alone: size / capacity
    assert timing.expected_processing_s(1e6, 1e6, 0.0, []) == pytest.approx(1.0)
    # another job on the PE for the first 0.5 s: half speed, then full speed
    assert timing.expected_processing_s(1e6, 1e6, 0.0, [(-1.0, 0.5)]) == pytest.approx(1.25)
    # three others throughout: a quarter of the capacity
    assert timing.expected_processing_s(1e6, 1e6, 0.0, [(-1, 9), (-1, 9), (-1, 9)]) == \
        pytest.approx(4.0)


def test_jobs_are_matched_to_the_pe_that_completed_them():
    run = FIXTURES / "raw-run-2-8pus" / "raw" / "pus-8" / "run-1"
    info = json.loads((run / "run.json").read_text())
    assigned = timing.assign_jobs(run, info, timing._rtt_table(run))
    total = len(ledger.jobs(run))
    assert len(assigned) >= 0.8 * total
    for job, pe, line, delay, _ in assigned:
        # the 8 PUs only used the MEC PEs (16 ms RTT from the UE: 8 ms one way)
        assert pe["group"] == "mec" and delay == pytest.approx(0.008)
        assert abs(job["CompleteTimeStamp"] - delay - line["CurrentTimeStamp"]) < 0.01
    lone = timing.lone_jobs(assigned)
    assert lone and all(int(line["CurrentJobs"]) == 1 for job, pe, line, _, _ in assigned
                        if (job, pe) in lone)


def test_no_starvation_signs_in_the_light_real_run():
    # the fixture's raw/ lacks the logs: keep-alive timeouts count as 0 there
    result = timing.starvation(FIXTURES / "raw-run-2-8pus")
    assert result["offload_at_low_load"] == 0
    assert result["first_startup_s"] < 1.0
