"""Parsers of RSPLIB's scalar and vector files, on files the real tools wrote and on garbage."""

import math
import re
import shutil
from pathlib import Path

import pytest

from mecpool.testbed.calcapp_files import (IncompleteScalarFile, ResultFileError, read_pe_scalars,
                                           read_pe_vector, read_pu_scalars, read_pu_vector, read_scalar_file)

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = FIXTURES / "rsplib-sample" / "raw"
CRASH = FIXTURES / "rsplib-pe-crash" / "raw"
# every real run directory among the fixtures: ours and the testbed engine's
ALL_SCALARS = sorted(FIXTURES.glob("*/raw/pus-*/run-*/*.sca"))
PU_SCALARS = [path for path in ALL_SCALARS if path.name.startswith("pu-")]
PE_SCALARS = [path for path in ALL_SCALARS if not path.name.startswith("pu-") and path.stat().st_size > 20]


def raw_scalars(path):
    """Independent reading of a scalar file: {name: text} by plain splitting on quotes."""
    values = {}
    for line in path.read_text().splitlines():
        if line.startswith("scalar"):
            parts = line.split('"')
            values[parts[3]] = parts[4].strip()
    return values


def raw_object(path):
    return next(line.split('"')[1] for line in path.read_text().splitlines() if line.startswith("scalar"))


def raw_vector(path):
    """Independent reading of a vector file: list of {column: text}."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if not lines:
        return []
    header = lines[0].split()
    return [dict(zip(["row"] + header, line.split())) for line in lines[1:]]


def test_fixtures_are_there():
    sample = list(SAMPLE.glob("pus-*/run-*/*.sca"))
    assert len([path for path in sample if path.name.startswith("pu-")]) == 1 + 1 + 4 + 4 + 8
    assert len([path for path in sample if not path.name.startswith("pu-")]) == 5 * 4
    assert len([path for path in CRASH.glob("pus-*/run-*/*.sca") if path.stat().st_size > 20]) == 4 + 3
    assert len(PU_SCALARS) >= 22 and len(PE_SCALARS) >= 23


@pytest.mark.parametrize("path", PU_SCALARS, ids=lambda path: "/".join(path.parts[-4:]))
def test_pu_scalars_of_real_files(path):
    parsed = read_pu_scalars(path)
    raw = raw_scalars(path)
    assert parsed.object == raw_object(path)
    assert parsed.total_queuing_s == float(raw["CalcAppPU Total Queuing Time"])
    assert parsed.handling_speed == float(raw["CalcAppPU Average Handling Speed"])
    assert parsed.jobs_queued == int(raw["CalcAppPU Total Jobs Queued"])
    assert parsed.jobs_completed == int(raw["CalcAppPU Total Jobs Completed"])
    assert parsed.accepts == int(raw["CalcAppPU Total CalcAppAccepts"])
    assert parsed.rejects == int(raw["CalcAppPU Total CalcAppRejects"])


@pytest.mark.parametrize("path", PU_SCALARS, ids=lambda path: "/".join(path.parts[-4:]))
def test_pu_vector_agrees_with_the_scalars_the_tool_wrote(path):
    """The per-job rows must add up to the tool's own totals (printed with 6 decimals)."""
    jobs = read_pu_vector(path.with_suffix(".vec"))
    totals = read_pu_scalars(path)
    raw = raw_vector(path.with_suffix(".vec"))
    assert len(jobs) == len(raw) == totals.jobs_completed
    assert [job.job_id for job in jobs] == [int(row["JobID"]) for row in raw]
    tolerance = 1e-5 * (len(jobs) + 1)
    assert math.isclose(sum(job.queuing_s for job in jobs), totals.total_queuing_s, abs_tol=tolerance)
    assert math.isclose(sum(job.startup_s for job in jobs), totals.total_startup_s, abs_tol=tolerance)
    assert math.isclose(sum(job.processing_s for job in jobs), totals.total_processing_s, abs_tol=tolerance)
    assert math.isclose(sum(job.handling_s for job in jobs), totals.total_handling_s, abs_tol=tolerance)
    assert sum(job.job_size for job in jobs) == totals.job_size_completed
    for job, row in zip(jobs, raw):
        assert job.completed_at == float(row["CompleteTimeStamp"])
        assert math.isclose(job.handling_s, job.queuing_s + job.startup_s + job.processing_s, abs_tol=3e-6)


@pytest.mark.parametrize("path", PE_SCALARS, ids=lambda path: "/".join(path.parts[-4:]))
def test_pe_scalars_and_vector_of_real_files(path):
    parsed = read_pe_scalars(path)
    raw = raw_scalars(path)
    assert parsed.object == raw_object(path)
    assert parsed.capacity == float(raw["CalcAppPE Service Capacity"])
    assert parsed.used_calculations == float(raw["CalcAppPE Total Used Capacity"])
    assert parsed.jobs_accepted == int(raw["CalcAppPE Total Jobs Accepted"])
    assert parsed.max_jobs == int(raw["CalcAppPE Service Max Jobs"])
    completions = read_pe_vector(path.with_suffix(".vec"))
    assert len(completions) == len(raw_vector(path.with_suffix(".vec")))
    if completions:  # the PE's running total of used calculations never shrinks
        used = [item.used_calculations for item in completions]
        assert used == sorted(used) and used[-1] <= parsed.used_calculations


def test_crashed_pe_scalar_file_is_incomplete():
    path = CRASH / "pus-4" / "run-1" / "mec-1.sca"
    with pytest.raises(IncompleteScalarFile) as caught:
        read_pe_scalars(path)
    assert str(path) in str(caught.value) and "did not end cleanly" in str(caught.value)


def test_empty_vector_file_means_no_completed_job():
    empty = [path for path in SAMPLE.glob("pus-*/run-*/*.vec") if path.stat().st_size == 0]
    assert empty  # the UE PE completed nothing in the sample
    assert read_pe_vector(empty[0]) == []


# ---------------------------------------------------------------- malformed input

PU_SCA = SAMPLE / "pus-1" / "run-1" / "pu-1.sca"
PU_VEC = SAMPLE / "pus-1" / "run-1" / "pu-1.vec"
PE_SCA = SAMPLE / "pus-1" / "run-1" / "mec-1.sca"


def _edited(tmp_path, source, edit):
    target = tmp_path / source.name
    target.write_text(edit(source.read_text()))
    return target


def _line_of(text, needle):
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def test_garbage_line_names_file_and_line(tmp_path):
    path = _edited(tmp_path, PU_SCA, lambda text: text.replace("scalar \"pu-1\" \"CalcAppPU Total Jobs Started\"",
                                                              "scalr \"pu-1\" \"CalcAppPU Total Jobs Started\""))
    with pytest.raises(ResultFileError) as caught:
        read_pu_scalars(path)
    assert caught.value.line == _line_of(path.read_text(), "scalr")
    assert "{}:{}:".format(path, caught.value.line) in str(caught.value)


def test_non_numeric_value(tmp_path):
    path = _edited(tmp_path, PU_SCA, lambda text: text.replace("Total Jobs Queued\"          12",
                                                              "Total Jobs Queued\"          twelve"))
    with pytest.raises(ResultFileError, match=r"pu-1\.sca:\d+: CalcAppPU Total Jobs Queued: 'twelve'"):
        read_pu_scalars(path)


def test_fractional_count_is_rejected(tmp_path):
    path = _edited(tmp_path, PU_SCA, lambda text: text.replace("Total Jobs Queued\"          12",
                                                              "Total Jobs Queued\"          12.5"))
    with pytest.raises(ResultFileError, match="not a non-negative integer"):
        read_pu_scalars(path)


def test_missing_scalar(tmp_path):
    path = _edited(tmp_path, PU_SCA, lambda text: "\n".join(
        line for line in text.splitlines() if "Total Startup Time" not in line))
    with pytest.raises(ResultFileError, match="missing scalars: CalcAppPU Total Startup Time"):
        read_pu_scalars(path)


def test_repeated_scalar(tmp_path):
    path = _edited(tmp_path, PU_SCA, lambda text: text + text.splitlines()[1] + "\n")
    with pytest.raises(ResultFileError, match="repeats line 2"):
        read_scalar_file(path)


def test_only_the_run_line_is_incomplete(tmp_path):
    path = tmp_path / "pu-1.sca"
    path.write_text('run 1 "scenario"\n')
    with pytest.raises(IncompleteScalarFile, match="did not end cleanly"):
        read_pu_scalars(path)


def test_two_objects_in_one_file(tmp_path):
    path = _edited(tmp_path, PU_SCA, lambda text: text + text.replace('"pu-1"', '"pu-2"').split("\n", 1)[1])
    with pytest.raises(ResultFileError, match="scalars of 2 objects"):
        read_pu_scalars(path)


def test_pe_file_read_as_pu_file():
    with pytest.raises(ResultFileError, match="not a pool user"):
        read_pu_scalars(PE_SCA)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(ResultFileError, match="does not exist"):
        read_pu_scalars(tmp_path / "nothing.sca")
    binary = tmp_path / "pu-1.sca"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ResultFileError, match="not UTF-8"):
        read_pu_scalars(binary)


def test_inconsistent_counters(tmp_path):
    path = _edited(tmp_path, PU_SCA, lambda text: text.replace("Total Jobs Completed\"       11",
                                                              "Total Jobs Completed\"       13"))
    with pytest.raises(ResultFileError, match=r"Completed \(13\) exceeds Total Jobs Started \(12\)"):
        read_pu_scalars(path)


def test_truncated_vector_line(tmp_path):
    """What a PU killed in the middle of a write would leave."""
    path = _edited(tmp_path, PU_VEC, lambda text: text.rstrip("\n")[:-40])
    rows = len([line for line in path.read_text().splitlines() if line.strip()])
    with pytest.raises(ResultFileError) as caught:
        read_pu_vector(path)
    assert caught.value.line == rows and "fields, expected 16" in str(caught.value)


def test_vector_with_wrong_header(tmp_path):
    path = _edited(tmp_path, PU_VEC, lambda text: text.replace("QueuingDelay", "QueueingDelay", 1))
    with pytest.raises(ResultFileError, match=r"pu-1\.vec:1: expected the header"):
        read_pu_vector(path)
    with pytest.raises(ResultFileError, match=r"mec-1\.vec:1: expected the header"):
        read_pu_vector(shutil.copy(SAMPLE / "pus-1" / "run-1" / "mec-1.vec", tmp_path / "mec-1.vec"))


def test_vector_rows_out_of_sequence(tmp_path):
    def drop_second_row(text):
        lines = text.splitlines()
        return "\n".join(lines[:2] + lines[3:]) + "\n"

    path = _edited(tmp_path, PU_VEC, drop_second_row)
    with pytest.raises(ResultFileError, match=r"pu-1\.vec:3: row number '000003', expected 2"):
        read_pu_vector(path)


def test_vector_time_stamps_out_of_order(tmp_path):
    def swap(text):
        lines = text.splitlines()
        fields = lines[1].split()
        fields[12], fields[15] = fields[15], fields[12]  # queued after completed
        lines[1] = " ".join(fields)
        return "\n".join(lines) + "\n"

    path = _edited(tmp_path, PU_VEC, swap)
    with pytest.raises(ResultFileError, match=r"pu-1\.vec:2: job 1: time stamps are not in the order"):
        read_pu_vector(path)


def test_vector_non_numeric_field(tmp_path):
    def spoil(text):
        lines = text.splitlines()
        fields = lines[2].split()
        fields[8] = "n/a"  # StartupDelay of the second job
        lines[2] = " ".join(fields)
        return "\n".join(lines) + "\n"

    path = _edited(tmp_path, PU_VEC, spoil)
    with pytest.raises(ResultFileError, match=r"pu-1\.vec:3: StartupDelay: 'n/a' is not a number"):
        read_pu_vector(path)


def test_not_a_number_and_infinite_values(tmp_path):
    """A PE with zero uptime writes nan for its utilization; infinity is garbage."""
    def utilization(value):
        return lambda text: re.sub(r'("CalcAppPE Utilization"\s+)\S+', r"\g<1>" + value, text)

    path = _edited(tmp_path, PE_SCA, utilization("-nan"))
    assert math.isnan(read_pe_scalars(path).utilization)
    path = _edited(tmp_path, PE_SCA, utilization("inf"))
    with pytest.raises(ResultFileError, match="'inf' is not finite"):
        read_pe_scalars(path)


QUIRK = FIXTURES / "quirk-completed-without-accept"


def test_job_completed_without_fresh_accept_is_kept_and_flagged():
    """The real calcappclient 3.4.4 row with AcceptTimeStamp 0 (see the fixture's README)."""
    jobs = read_pu_vector(QUIRK / "pu-47.vec")
    flagged = [job for job in jobs if job.stale_accept]
    assert [job.job_id for job in flagged] == [5]
    assert flagged[0].startup_s > 1e12  # the garbage the flag warns about
    assert all(job.started_at <= job.accepted_at <= job.completed_at for job in jobs if not job.stale_accept)


def test_stale_accept_times_are_taken_out_of_the_pu_means():
    from mecpool.testbed.results import _without_stale_accepts

    class PURunLike:
        scalars = read_pu_scalars(QUIRK / "pu-47.sca")
        jobs = read_pu_vector(QUIRK / "pu-47.vec")

    startup, processing, handling, timed = _without_stale_accepts(PURunLike)
    sound = [job for job in PURunLike.jobs if not job.stale_accept]
    assert timed == PURunLike.scalars.jobs_completed - 1
    assert PURunLike.scalars.total_startup_s > 1e12  # the scalar total holds the garbage
    assert startup == pytest.approx(sum(job.startup_s for job in sound), rel=1e-6, abs=1e-3)
    assert processing == pytest.approx(sum(job.processing_s for job in sound), rel=1e-6, abs=1e-3)
    assert handling / timed < 600


def test_time_stamps_out_of_order_outside_the_accept_are_an_error(tmp_path):
    rows = (QUIRK / "pu-47.vec").read_text().splitlines()
    tokens = rows[1].split()
    tokens[-4], tokens[-3] = tokens[-3], tokens[-4]  # started before queued
    broken = tmp_path / "pu-47.vec"
    broken.write_text("\n".join([rows[0], " ".join(tokens)]) + "\n")
    with pytest.raises(ResultFileError, match="queued <= started <= completed"):
        read_pu_vector(broken)
