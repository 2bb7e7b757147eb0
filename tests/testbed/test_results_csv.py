"""pu.csv, pe.csv, runs.csv, jobs.csv and meta.json from real RSPLIB runs; run.json checks."""

import csv
import json
import math
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from mecpool.testbed.calcapp_files import ResultFileError
from mecpool.testbed.results import (PE_COLUMNS, PU_COLUMNS, RunDirError, accounting_lines, fault_cost,
                                     job_accounting, load_results, total_accounting, write_results)

FIXTURES = Path(__file__).parent / "fixtures"
REQUIRED_PU = ("run", "pus", "pu", "queuing_s", "startup_s", "processing_s", "handling_s", "handling_speed",
               "jobs_queued", "jobs_started", "jobs_completed")
REQUIRED_PE = ("run", "pus", "pe", "group", "capacity", "used_capacity", "jobs_accepted", "jobs_rejected")


@pytest.fixture
def sample(tmp_path):
    return Path(shutil.copytree(FIXTURES / "rsplib-sample", tmp_path / "sample"))


@pytest.fixture
def crash(tmp_path):
    return Path(shutil.copytree(FIXTURES / "rsplib-pe-crash", tmp_path / "crash"))


def read(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def interpolate(curve, moment):
    """Piecewise-linear value of [(t, v)] at ``moment`` (numpy-free, for the checks)."""
    for (t0, v0), (t1, v1) in zip(curve, curve[1:]):
        if t0 <= moment <= t1:
            return v0 + (v1 - v0) * (moment - t0) / (t1 - t0)
    return curve[0][1] if moment < curve[0][0] else curve[-1][1]


def raw_vector_column(path, column):
    lines = [line for line in Path(path).read_text().splitlines() if line.strip()]
    if not lines:
        return []
    index = lines[0].split().index(column) + 1  # rows carry a leading line number
    return [float(line.split()[index]) for line in lines[1:]]


def raw_scalar(path, name):
    for line in Path(path).read_text().splitlines():
        if '"{}"'.format(name) in line:
            return float(line.split('"')[4])
    raise AssertionError("{} not in {}".format(name, path))


def test_required_columns():
    assert set(REQUIRED_PU) <= set(PU_COLUMNS)
    assert set(REQUIRED_PE) <= set(PE_COLUMNS)


def test_pu_csv_values_recomputed_from_the_raw_files(sample):
    paths = write_results(load_results(sample))
    rows = read(paths["pu.csv"])
    assert list(rows[0])[:4] == ["run", "pus", "pu", "site"]
    assert len(rows) == 1 + 1 + 4 + 4 + 8
    for row in rows:
        base = sample / "raw" / "pus-{}".format(row["pus"]) / "run-{}".format(row["run"]) / row["pu"]
        queuing = raw_vector_column(base.with_suffix(".vec"), "QueuingDelay")
        startup = raw_vector_column(base.with_suffix(".vec"), "StartupDelay")
        processing = raw_vector_column(base.with_suffix(".vec"), "ProcessingTime")
        completed = int(raw_scalar(base.with_suffix(".sca"), "CalcAppPU Total Jobs Completed"))
        assert int(row["jobs_completed"]) == completed == len(queuing)
        assert int(row["jobs_queued"]) == raw_scalar(base.with_suffix(".sca"), "CalcAppPU Total Jobs Queued")
        assert int(row["jobs_started"]) == raw_scalar(base.with_suffix(".sca"), "CalcAppPU Total Jobs Started")
        assert float(row["total_queuing_s"]) == pytest.approx(
            raw_scalar(base.with_suffix(".sca"), "CalcAppPU Total Queuing Time"), abs=1e-6)
        if completed:
            # per-job means: the scalar total / completed jobs = the mean of the vector rows
            assert float(row["queuing_s"]) == pytest.approx(sum(queuing) / completed, abs=2e-6)
            assert float(row["startup_s"]) == pytest.approx(sum(startup) / completed, abs=2e-6)
            assert float(row["processing_s"]) == pytest.approx(sum(processing) / completed, abs=2e-6)
            assert float(row["handling_s"]) == pytest.approx(
                float(row["queuing_s"]) + float(row["startup_s"]) + float(row["processing_s"]), abs=3e-6)
            assert float(row["handling_speed"]) == raw_scalar(base.with_suffix(".sca"),
                                                              "CalcAppPU Average Handling Speed")
        else:
            assert row["queuing_s"] == row["handling_speed"] == ""


def test_pe_csv_values_recomputed_from_the_raw_files(sample):
    paths = write_results(load_results(sample))
    rows = read(paths["pe.csv"])
    assert len(rows) == 5 * 4
    assert {row["group"] for row in rows} == {"ue", "mec", "pmc"}
    for row in rows:
        run_dir = sample / "raw" / "pus-{}".format(row["pus"]) / "run-{}".format(row["run"])
        scalar = run_dir / (row["pe"] + ".sca")
        runtime = json.loads((run_dir / "run.json").read_text())["runtime_s"]
        used = raw_scalar(scalar, "CalcAppPE Total Used Capacity")
        uptime = raw_scalar(scalar, "CalcAppPE Service Uptime")
        assert uptime > runtime  # PEs start before and stop after the PUs
        # The PUs' window [started, started + runtime]: cumulative calculations from the
        # PE's vector (0 at its start, the scalar total at its stop) interpolated there.
        info = json.loads((run_dir / "run.json").read_text())
        begin = datetime.fromisoformat(info["started"]).timestamp()
        stamps = raw_vector_column(scalar.with_suffix(".vec"), "CurrentTimeStamp")
        since = raw_vector_column(scalar.with_suffix(".vec"), "Runtime")
        done = raw_vector_column(scalar.with_suffix(".vec"), "UsedCalculations")
        if stamps:
            start = stamps[0] - since[0]
            curve = [(start, 0.0)] + list(zip(stamps, done)) + [(start + uptime, used)]
            expected = (interpolate(curve, begin + runtime) - interpolate(curve, begin)) / runtime
        else:  # no completed job: whatever it did, spread over the window
            expected = used / runtime
        assert float(row["used_capacity"]) == pytest.approx(expected, rel=1e-6)
        assert float(row["used_capacity"]) <= used / runtime + 1e-6
        assert float(row["capacity"]) == raw_scalar(scalar, "CalcAppPE Service Capacity")
        assert int(row["jobs_accepted"]) == raw_scalar(scalar, "CalcAppPE Total Jobs Accepted")
        assert int(row["jobs_rejected"]) == raw_scalar(scalar, "CalcAppPE Total Jobs Rejected")
        assert float(row["utilization"]) == raw_scalar(scalar, "CalcAppPE Utilization")
        assert float(row["used_capacity"]) <= float(row["capacity"])
        expected_group = {"mec-1": "mec", "mec-2": "mec", "pmc-1": "pmc", "ue-pe": "ue"}[row["pe"]]
        assert row["group"] == expected_group


def test_meta_json_and_runs_csv(sample):
    paths = write_results(load_results(sample))
    meta = json.loads(paths["meta.json"].read_text())
    assert meta["versions"]["rsplib"].startswith("3.4.4")
    assert meta["scenario"]["pool_handle"] == "CalcAppPool"
    assert [(run["pus"], run["run"]) for run in meta["runs"]] == [(1, 1), (1, 2), (4, 1), (4, 2), (8, 1)]
    assert meta["columns"]["pu.csv"] == list(PU_COLUMNS)
    runs = read(paths["runs.csv"])
    for row in runs:
        run_dir = sample / "raw" / "pus-{}".format(row["pus"]) / "run-{}".format(row["run"])
        queued = sum(raw_scalar(path, "CalcAppPU Total Job Size Queued") for path in run_dir.glob("pu-*.sca"))
        assert float(row["offered_calc_s"]) == pytest.approx(queued / 20.0, rel=1e-6)
        assert float(row["network_capacity"]) == 3_000_000  # mec-1, mec-2, pmc-1; not the UE PE
        assert float(row["offered_load"]) == pytest.approx(queued / 20.0 / 3e6, rel=1e-5)


# ---------------------------------------------------------------- job accounting

def test_accounting_of_real_runs(sample):
    results = load_results(sample)
    for run in results.runs:
        accounting = job_accounting(run)
        scalars = list((run.path).glob("pu-*.sca"))
        generated = sum(raw_scalar(path, "CalcAppPU Total Jobs Queued") for path in scalars)
        started = sum(raw_scalar(path, "CalcAppPU Total Jobs Started") for path in scalars)
        completed = sum(len(raw_vector_column(path.with_suffix(".vec"), "JobID")) for path in scalars)
        assert accounting.generated == generated
        assert accounting.completed == completed
        assert accounting.still_queued == generated - started
        assert 0 <= accounting.in_flight <= run.pus
        assert accounting.lost == 0
        assert accounting.consistent, accounting.problems
        assert accounting.pe_accepted == sum(raw_scalar(path, "CalcAppPE Total Jobs Accepted")
                                             for path in run.path.glob("*.sca") if not path.name.startswith("pu-"))


def test_a_skipped_job_counts_as_lost(sample):
    """Remove job 3's completion record: the PU completed 4 but not 3, so job 3 is lost."""
    vector = sample / "raw" / "pus-1" / "run-1" / "pu-1.vec"
    lines = vector.read_text().splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if line.split()[3] != "3"]
    kept = [kept[0]] + ["{:06d} ".format(index) + line.split(" ", 1)[1] for index, line in enumerate(kept[1:], 1)]
    vector.write_text("\n".join(kept) + "\n")
    run = next(run for run in load_results(sample).runs if run.pus == 1 and run.run == 1)
    accounting = job_accounting(run)
    assert accounting.lost == 1
    assert not accounting.consistent
    assert any("vector has 10 completed jobs, scalars say 11" in text for text in accounting.problems)


def test_more_started_than_completed_plus_one_is_lost(sample):
    scalar = sample / "raw" / "pus-1" / "run-1" / "pu-1.sca"
    text = scalar.read_text()
    started = int(raw_scalar(scalar, "CalcAppPU Total Jobs Started"))
    queued = int(raw_scalar(scalar, "CalcAppPU Total Jobs Queued"))
    assert started == queued == 12  # the real run: 12 generated, 11 completed, 1 in flight
    text = text.replace("Total Jobs Queued\"          12", "Total Jobs Queued\"          14")
    text = text.replace("Total Jobs Started\"         12", "Total Jobs Started\"         14")
    scalar.write_text(text)
    run = next(run for run in load_results(sample).runs if run.pus == 1 and run.run == 1)
    accounting = job_accounting(run)
    assert (accounting.generated, accounting.completed, accounting.in_flight, accounting.lost) == (14, 11, 1, 2)


def test_crashed_pe_run(crash):
    results = load_results(crash)
    (run,) = results.runs
    assert [fault.name for fault in run.faults] == ["pe-crash"]
    killed = next(pe for pe in run.pes if pe.spec.name == "mec-1")
    assert killed.scalars is None  # SIGKILL: no scalars
    accounting = job_accounting(run)
    accepts = sum(raw_scalar(path, "CalcAppPU Total CalcAppAccepts") for path in run.path.glob("pu-*.sca"))
    assert accounting.failed_over == accepts - accounting.completed - accounting.in_flight >= 1
    assert accounting.lost == 0
    assert accounting.pe_accepted is None  # not countable without the killed PE's scalars
    paths = write_results(results)
    row = next(row for row in read(paths["pe.csv"]) if row["pe"] == "mec-1")
    assert row["scalars"] == "false" and row["used_capacity"] == "" and row["jobs_completed"] != ""


def test_total_accounting_and_printed_lines(sample):
    runs = load_results(sample).runs
    total = total_accounting(runs)
    for name in ("generated", "completed", "still_queued", "in_flight", "failed_over", "lost"):
        assert getattr(total, name) == sum(getattr(job_accounting(run), name) for run in runs)
    lines = accounting_lines(total)
    assert lines[0] == "jobs generated: {}".format(total.generated)
    assert "failed over: {}".format(total.failed_over) in lines
    assert lines[-1] == "lost: 0"
    with pytest.raises(ValueError, match="no runs"):
        total_accounting([])


def test_printed_lines_end_with_lost_when_jobs_are_lost(sample):
    vector = sample / "raw" / "pus-1" / "run-1" / "pu-1.vec"
    lines = vector.read_text().splitlines()
    vector.write_text("\n".join(lines[:-1]) + "\n")  # drop the last completed job
    run = next(run for run in load_results(sample).runs if (run.pus, run.run) == (1, 1))
    printed = accounting_lines(job_accounting(run))
    assert printed[-1] == "lost: 1"
    assert any(line.startswith("inconsistent: pu-1: vector has 10 completed jobs") for line in printed)


def test_fault_cost_splits_the_jobs(crash):
    (run,) = load_results(crash).runs
    (fault,) = run.faults
    cost = fault_cost(run, fault)
    jobs = [job for pu_run in run.pu_runs for job in pu_run.jobs]
    at = run.started.timestamp() + fault.at_s
    affected = [job.handling_s for job in jobs if job.queued_at <= at <= job.completed_at]
    others = [job.handling_s for job in jobs if not job.queued_at <= at <= job.completed_at]
    assert (cost.affected, cost.unaffected) == (len(affected), len(others))
    assert cost.affected + cost.unaffected == len(jobs) > 0
    # from the stamps (the vector's HandlingTime agrees to its 6 decimals)
    assert cost.extra_s == pytest.approx(sum(affected) / len(affected) - sum(others) / len(others),
                                         abs=1e-5)
    assert cost.worst_affected_s == pytest.approx(max(affected), abs=1e-5)
    assert cost.clock_ok


def test_pe_that_died_on_its_own_is_kept_with_a_warning(crash):
    """No injected fault, yet no scalars (RSPLIB 3.4.4 can abort on an internal timer
    assertion): the run stays, the PE's measured values are empty, a warning names it."""
    run_json = crash / "raw" / "pus-4" / "run-1" / "run.json"
    data = json.loads(run_json.read_text())
    data["faults"] = []
    run_json.write_text(json.dumps(data))
    results = load_results(crash)
    run = results.runs[0]
    assert any("mec-1 wrote no scalars" in text for text in run.warnings)
    dead = [pe for pe in run.pes if pe.spec.name.endswith("mec-1")]
    assert dead and dead[0].scalars is None


RUN_DIRS = sorted(path for path in FIXTURES.iterdir() if (path / "raw").is_dir())


@pytest.mark.parametrize("root", RUN_DIRS, ids=lambda path: path.name)
def test_every_real_run_dir_loads_and_accounts_for_every_job(root):
    results = load_results(root)
    assert results.runs
    for run in results.runs:
        description = json.loads((run.path / "run.json").read_text())
        assert [pu.spec.name for pu in run.pu_runs] == [pu["name"] for pu in description["pus_list"]]
        assert [pe.spec.group for pe in run.pes] == [pe["group"] for pe in description["pes"]]
        accounting = job_accounting(run)
        assert accounting.lost == 0 and accounting.consistent, accounting.problems
        assert accounting.completed == sum(len(pu.jobs) for pu in run.pu_runs) > 0


# ---------------------------------------------------------------- bad run directories

def _edit_run_json(root, edit, where=("pus-1", "run-1")):
    path = root / "raw" / where[0] / where[1] / "run.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("edit, message", [
    (lambda data: data["pes"][2].update(group="edge"), r"pes\[2\]\.group 'edge' is not one of ue, mec, pmc"),
    (lambda data: data.pop("runtime_s"), "runtime_s is missing"),
    (lambda data: data.update(runtime_s="20"), "runtime_s must be int or float"),
    (lambda data: data.update(pus=2), "pus_list has 1 entries but pus is 2"),
    (lambda data: data["pus_list"][0].update(scalar="/etc/passwd"), r"pus_list\[0\]\.scalar '/etc/passwd' must be"),
    (lambda data: data["pus_list"][0].update(vector="../x.vec"), "must be a path relative"),
    (lambda data: data["pes"][0].update(capacity=-1), r"pes\[0\]\.capacity must be a finite number"),
    (lambda data: data["pes"][1].update(name="mec-1"), "pes names repeat: mec-1"),
    (lambda data: data["pes"][0].update(name="mec 1; rm -rf /"), r"pes\[0\]\.name 'mec 1; rm -rf /' is not a name"),
    (lambda data: data.update(started="yesterday"), "started 'yesterday' is not an ISO 8601 time"),
    (lambda data: data.update(ended="2026-11-26T07:33:43"), "has no time zone"),
    (lambda data: data.update(ended="2020-01-01T00:00:00+00:00"), "ended .* is before started"),
    (lambda data: data.update(faults=[{"name": "pe-crash", "at_s": -3}]), r"faults\[0\]\.at_s must be"),
    (lambda data: data.update(run=2), "says pus=1 run=2 but lies in pus-1/run-1"),
])
def test_bad_run_json_is_named_before_anything_is_written(sample, edit, message):
    path = _edit_run_json(sample, edit)
    with pytest.raises(RunDirError, match=message) as caught:
        results = load_results(sample)
        write_results(results)
    assert str(path) in str(caught.value)
    assert not (sample / "pu.csv").exists()


def test_runs_the_engine_marked_failed_are_left_out(sample):
    _edit_run_json(sample, lambda data: data.update(status="error: registrar did not start", started=None),
                   where=("pus-4", "run-2"))
    (sample / "raw" / "pus-4" / "run-2" / "pu-1.sca").write_text('run 1 "scenario"\n')
    results = load_results(sample)
    assert [(run.pus, run.run) for run in results.runs] == [(1, 1), (1, 2), (4, 1), (8, 1)]
    assert [status for _, status in results.excluded] == ["error: registrar did not start"]
    meta = json.loads(write_results(results)["meta.json"].read_text())
    assert meta["excluded_runs"] == [{"run_json": "raw/pus-4/run-2/run.json",
                                      "status": "error: registrar did not start"}]
    for where in (("pus-1", "run-1"), ("pus-1", "run-2"), ("pus-4", "run-1"), ("pus-8", "run-1")):
        _edit_run_json(sample, lambda data: data.update(status="missing"), where=where)
    with pytest.raises(RunDirError, match="every run failed: raw/pus-1/run-1/run.json: missing"):
        load_results(sample)


def test_engine_json_is_carried_into_meta(tmp_path):
    root = Path(shutil.copytree(FIXTURES / "raw-run-2-8pus", tmp_path / "engine"))
    engine = json.loads((root / "engine.json").read_text())
    meta = json.loads(write_results(load_results(root))["meta.json"].read_text())
    assert meta["engine"] == engine and meta["engine"]["mode"] in ("vm", "host")
    (root / "engine.json").write_text("{")
    with pytest.raises(RunDirError, match="engine.json: not valid JSON"):
        load_results(root)


def test_latest_link_is_followed(sample, tmp_path):
    link = tmp_path / "latest"
    link.symlink_to(sample)
    assert load_results(link).path == sample.resolve()


def test_pu_name_must_match_the_files_object(sample):
    _edit_run_json(sample, lambda data: data["pus_list"][0].update(name="pu-9"))
    with pytest.raises(ResultFileError, match="belongs to object 'pu-1', run.json names the PU 'pu-9'"):
        load_results(sample)


def test_broken_raw_file_stops_everything(sample):
    (sample / "raw" / "pus-8" / "run-1" / "pu-5.vec").write_text("garbage\n")
    with pytest.raises(ResultFileError, match=r"pus-8/run-1/pu-5\.vec:1"):
        write_results(load_results(sample))
    assert not (sample / "pu.csv").exists()


def test_missing_parts_of_a_run_dir(tmp_path, sample):
    with pytest.raises(RunDirError, match="not a directory"):
        load_results(tmp_path / "none")
    (sample / "versions.json").write_text("[1, 2]")
    with pytest.raises(RunDirError, match="versions.json: must hold a JSON object"):
        load_results(sample)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "scenario.yaml").write_text("a: 1\n")
    (empty / "versions.json").write_text("{}")
    with pytest.raises(RunDirError, match="no raw/pus-<N>/run-<k>/run.json found"):
        load_results(empty)
    (empty / "scenario.yaml").write_text("a: [1\n")
    with pytest.raises(RunDirError, match="scenario.yaml: not valid YAML"):
        load_results(empty)


def test_csv_cells_round_trip(sample):
    paths = write_results(load_results(sample))
    for row in read(paths["pu.csv"]):
        for column in ("queuing_s", "handling_speed", "total_queuing_s"):
            if row[column]:
                assert math.isfinite(float(row[column]))
        assert int(row["vector_jobs"]) == int(row["jobs_completed"])


def _pe(start, completions, uptime, total):
    from types import SimpleNamespace as NS
    rows = [NS(timestamp=start + t, runtime_s=t, used_calculations=v) for t, v in completions]
    return NS(scalars=NS(uptime_s=uptime, used_calculations=total), completions=rows)


def _run(started, runtime):
    from types import SimpleNamespace as NS
    from datetime import timezone
    return NS(started=datetime.fromtimestamp(started, tz=timezone.utc), runtime_s=runtime)


def test_used_capacity_counts_only_the_pus_window():
    from mecpool.testbed.results import window_capacity
    # PE up from t=1000 to 1040; 1e6 calculations per 10 s; PUs measured 1005..1025.
    pe = _pe(1000.0, [(10.0, 1e6), (20.0, 2e6), (30.0, 3e6)], 40.0, 3.5e6)
    assert window_capacity(pe, _run(1005.0, 20.0)) == pytest.approx((2.5e6 - 0.5e6) / 20.0)
    # The drain after the window (1030..1040, 0.5e6 more) does not count.
    assert window_capacity(pe, _run(1000.0, 30.0)) == pytest.approx(3e6 / 30.0)


def test_used_capacity_of_a_pe_started_mid_window_counts_from_its_start():
    from mecpool.testbed.results import window_capacity
    pe = _pe(1010.0, [(5.0, 1e6), (10.0, 2e6)], 15.0, 2.2e6)   # scale-out at 1010
    assert window_capacity(pe, _run(1000.0, 20.0)) == pytest.approx(2e6 / 10.0)
