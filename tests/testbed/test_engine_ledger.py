"""The engine's lenient raw reader and timing check on files the real tools wrote (fixtures)."""

import json
import shutil
from pathlib import Path

import pytest

from mecpool.testbed import ledger, timing
from mecpool.testbed.results import job_accounting, load_run

FIXTURES = Path(__file__).parent / "fixtures"
RUN = FIXTURES / "raw-run-2-8pus" / "raw" / "pus-8" / "run-1"
QUIRK = FIXTURES / "quirk-completed-without-accept"


def test_lenient_reader_agrees_with_the_strict_accounting_on_a_real_run():
    accounting = job_accounting(load_run(RUN / "run.json"))
    assert accounting.consistent and accounting.lost == 0
    pus = json.loads((RUN / "run.json").read_text())["pus_list"]
    completed = sum(len(ledger.read_vector(RUN / pu["vector"])) for pu in pus)
    assert accounting.completed == completed == len(ledger.jobs(RUN)) > 0
    assert sum(ledger.accepted_by_group(RUN).values()) == accounting.pe_accepted
    assert ledger.accepted_by_group(RUN)["mec"] > 0


def test_a_pe_without_scalars_is_skipped_not_fatal(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    info = json.loads((run / "run.json").read_text())
    killed = info["pes"][0]
    (run / killed["scalar"]).write_text('run 1 "scenario"\n')  # what a SIGKILLed PE leaves
    assert killed["name"] not in ledger.pe_scalars(run)
    assert len(ledger.pe_scalars(run)) == len(info["pes"]) - 1
    with pytest.raises(ledger.RawFileError, match="no scalars"):
        ledger.read_scalars(run / killed["scalar"])


def test_job_completed_without_accept_is_kept_out_of_the_timed_jobs():
    rows = ledger.read_vector(QUIRK / "pu-47.vec")
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
    assert result["ue_at_low_load"] == 0
    assert result["first_startup_s"] < 1.0


def test_a_pe_rsplib_aborted_is_named_and_its_accepts_come_from_its_log(tmp_path):
    run = tmp_path / "raw" / "pus-8" / "run-1"
    shutil.copytree(RUN, run)
    info = json.loads((run / "run.json").read_text())
    pe = next(p for p in info["pes"] if p["group"] == "mec")
    before = ledger.accepted_by_group(run)["mec"]
    own = ledger.accepted(run, pe["name"])
    assert own > 0
    # What rspserver 3.4.4 leaves when its timer assertion fires (seen in paper runs).
    (run / pe["scalar"]).write_text('run 1 "scenario"\n')
    (run / "logs").mkdir(exist_ok=True)
    (run / "logs" / (pe["name"] + ".log")).write_text(
        " Job added (1 are running)\nJob 1/1 of size 581908 accepted\nJob 2/1 rejected!\n"
        " Job added (2 are running)\nJob 3/2 of size 2.20088e+06 accepted\n"
        "INTERNAL ERROR in ./src/timer.c, line 76: condition "
        "!simpleRedBlackTreeNodeIsLinked(&timer->Node) is not satisfied!\n")
    assert ledger.aborted_pes(run) == {pe["name"]: "./src/timer.c:76"}
    assert ledger.accepted(run, pe["name"]) == 2
    assert ledger.accepted_by_group(run)["mec"] == before - own + 2
    warnings = load_run(run / "run.json").warnings
    assert any("RSPLIB aborted it (INTERNAL ERROR in ./src/timer.c:76)" in w for w in warnings)
