"""report.md, figures and ``mecpool report`` on copies of real RSPLIB runs."""

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image, ImageStat

from mecpool.cli import main
from mecpool.testbed import reference
from mecpool.testbed.report import write_report
from mecpool.testbed.results import RunDirError, job_accounting, load_results

FIXTURES = Path(__file__).parent / "fixtures"
FIGURES = ("used_capacity.png", "used_capacity_groups.png", "queuing_time.png", "startup_time.png",
           "processing_time.png", "handling_speed.png", "table1_queuing.png")


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory):
    root = shutil.copytree(FIXTURES / "rsplib-sample", tmp_path_factory.mktemp("report") / "sample")
    return Path(root), write_report(root)


@pytest.fixture(scope="module")
def crash_report(tmp_path_factory):
    root = shutil.copytree(FIXTURES / "rsplib-pe-crash", tmp_path_factory.mktemp("report") / "crash")
    return Path(root), write_report(root)


def sections(text):
    return [line[3:] for line in text.splitlines() if line.startswith("## ")]


def test_report_sections(sample_report):
    root, report = sample_report
    assert report == root / "report.md"
    text = report.read_text()
    assert sections(text) == ["Set-up", "Runs", "Used capacity per PE group",
                              "Queuing, start-up and processing time and handling speed vs PUs",
                              "Table 1: total queuing time per PU over a run [s]", "Reference results",
                              "Job accounting", "Files"]
    assert "| ue-pe | ue | ue | 200,000 | 4 | 100 % |" in text
    assert "rsplib: 3.4.4-1" in text
    for name in FIGURES:
        assert "figures/{}".format(name) in text
    for claim in reference.CLAIMS:
        assert claim.text in text


def test_report_numbers_come_from_the_runs(sample_report):
    root, report = sample_report
    text = report.read_text()
    results = load_results(root)
    for run in results.runs:
        accounting = job_accounting(run)
        row = "| {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            run.pus, run.run, accounting.generated, accounting.completed, accounting.still_queued,
            accounting.in_flight, accounting.failed_over, accounting.rejects, accounting.lost)
        assert row in text
    total = sum(job_accounting(run).generated for run in results.runs)
    assert "Total: {} generated".format(total) in text and "**0 lost**" in text
    table1 = [line for line in text.splitlines() if line.startswith("| 48 | 0 |")]
    assert table1 == ["| 48 | 0 | - | 37.90 | - | 0.60 | - | 341.95 | - | 5.97 | - | 73.62 |"]


def test_csvs_and_meta_beside_the_report(sample_report):
    root, _ = sample_report
    for name in ("pu.csv", "pe.csv", "runs.csv", "jobs.csv", "table1.csv", "meta.json"):
        assert (root / name).stat().st_size > 0
    meta = json.loads((root / "meta.json").read_text())
    assert meta["run_id"] == "sample" and meta["made_by"].startswith("mecpool ")


@pytest.mark.parametrize("name", FIGURES)
def test_figures_are_real_pngs(sample_report, name):
    root, _ = sample_report
    path = root / "figures" / name
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.size[0] >= 600 and image.size[1] >= 400
        # something is drawn: not a blank canvas
        assert max(ImageStat.Stat(image.convert("L")).stddev) > 10


def test_fault_section(crash_report):
    root, report = crash_report
    text = report.read_text()
    assert "## Fault scenarios" in text and "### pe-crash" in text
    (run,) = load_results(root).runs
    accounting = job_accounting(run)
    line = next(line for line in text.splitlines() if line.startswith("| 4 | 1 | mec-1 |"))
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    assert cells[3] == "{:.1f}".format(run.faults[0].at_s)
    assert cells[5:10] == [str(accounting.generated), str(accounting.completed), str(accounting.failed_over),
                           str(accounting.still_queued + accounting.in_flight), str(accounting.lost)]
    assert 'signal = "SIGKILL"' in text
    assert ("Over this scenario's 1 run(s): {} jobs generated, {} completed, {} failed over".format(
        accounting.generated, accounting.completed, accounting.failed_over) in text)
    assert "**lost: 0**" in text
    figure = root / "figures" / "fault-pe-crash-pus4-run1.png"
    with Image.open(figure) as image:
        image.verify()
    assert "figures/fault-pe-crash-pus4-run1.png" in text


def test_no_fault_section_without_faults(sample_report):
    _, report = sample_report
    assert "Fault scenarios" not in report.read_text()


def test_report_is_regenerated_identically(sample_report):
    root, report = sample_report
    first, first_csv = report.read_text(), (root / "pu.csv").read_text()
    (root / "pu.csv").unlink()
    assert write_report(root).read_text() == first
    assert (root / "pu.csv").read_text() == first_csv


# ---------------------------------------------------------------- CLI

def test_cli_report(tmp_path):
    root = shutil.copytree(FIXTURES / "rsplib-pe-crash", tmp_path / "cli")
    result = CliRunner().invoke(main, ["report", str(root)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(Path(root) / "report.md")
    assert (Path(root) / "figures" / "used_capacity.png").exists()


def test_cli_report_on_a_broken_run(tmp_path):
    root = Path(shutil.copytree(FIXTURES / "rsplib-sample", tmp_path / "broken"))
    vector = root / "raw" / "pus-4" / "run-2" / "pu-3.vec"
    text = vector.read_text() + "000099 pu-3 1 2 3\n"
    vector.write_text(text)
    result = CliRunner().invoke(main, ["report", str(root)])
    assert result.exit_code == 1
    line = len(text.splitlines())
    assert re.search(r"Error: .*pus-4/run-2/pu-3\.vec:{}: 5 fields, expected 16".format(line), result.output)
    assert not (root / "report.md").exists() and not (root / "figures").exists()


def test_cli_report_on_a_missing_dir(tmp_path):
    result = CliRunner().invoke(main, ["report", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "nope: not a directory" in result.output


def test_failed_runs_are_listed_not_reported(tmp_path):
    root = Path(shutil.copytree(FIXTURES / "rsplib-sample", tmp_path / "failed"))
    run_json = root / "raw" / "pus-8" / "run-1" / "run.json"
    data = json.loads(run_json.read_text())
    data["status"] = "error: pu-3 did not stop"
    run_json.write_text(json.dumps(data))
    text = write_report(root).read_text()
    assert "- `raw/pus-8/run-1/run.json`: error: pu-3 did not stop" in text
    assert "| 8 | 1 |" not in text  # no row of the failed run in any table


def test_fault_outcome_is_shown(tmp_path):
    root = Path(shutil.copytree(FIXTURES / "rsplib-pe-crash", tmp_path / "outcome"))
    outcome = {"fault": "pe-crash", "passed": False, "checks": [
        {"check": "every job accounted for", "passed": True, "detail": "consistent"},
        {"check": "the PUs failed over", "passed": False, "detail": "0 failovers"}]}
    (root / "fault.json").write_text(json.dumps(outcome))
    text = write_report(root).read_text()
    assert "Checks of `mecpool testbed fault pe-crash` (fault.json): **FAILED**" in text
    assert "| the PUs failed over | FAILED | 0 failovers |" in text
    assert "| every job accounted for | passed | consistent |" in text
    (root / "fault.json").write_text(json.dumps({"fault": "pe-crash", "checks": [{"check": "x", "passed": "yes"}]}))
    (root / "report.md").unlink()
    with pytest.raises(RunDirError, match=r"fault\.json: checks\[0\] needs"):
        write_report(root)
    assert not (root / "report.md").exists()


def test_measurement_without_local_pool_elements_gets_a_report(tmp_path):
    """`mecpool measure` writes runs with "pes": [] (the PEs are remote): PU results,
    Table 1 and accounting still come out; the capacity section says why it is empty."""
    import json
    import shutil

    from mecpool.testbed.report import write_report

    run_dir = tmp_path / "measure"
    shutil.copytree(Path(__file__).parent / "fixtures" / "raw-run-2-8pus", run_dir)
    for run_json in run_dir.glob("raw/*/*/run.json"):
        data = json.loads(run_json.read_text())
        data["pes"] = []
        run_json.write_text(json.dumps(data))
    text = write_report(run_dir).read_text()
    assert "No pool elements ran here" in text
    assert "## Table 1" in text
    assert (run_dir / "pu.csv").read_text().count("\n") > 1


def test_runs_with_an_rsplib_abort_get_a_second_table1_without_them(tmp_path):
    root = Path(shutil.copytree(FIXTURES / "rsplib-sample", tmp_path / "abort"))
    raw = root / "raw" / "pus-4" / "run-2"
    pe = json.loads((raw / "run.json").read_text())["pes"][0]
    (raw / pe["scalar"]).write_text('run 1 "scenario"\n')  # what the abort leaves
    (raw / "logs").mkdir(exist_ok=True)
    (raw / "logs" / (pe["name"] + ".log")).write_text(
        "INTERNAL ERROR in ./src/timer.c, line 76: condition "
        "!simpleRedBlackTreeNodeIsLinked(&timer->Node) is not satisfied!\n")
    text = write_report(root).read_text()
    assert "{} wrote no scalars: RSPLIB aborted it (INTERNAL ERROR in ./src/timer.c:76)".format(
        pe["name"]) in text
    full, clean = text.split("### Table 1 without the runs in which RSPLIB aborted a PE")
    assert "1 run(s) lost a PE to RSPLIB's own assertion (see the warnings above): 4 PUs run 2." in clean
    assert "\n| 4 | 2 |" in full.split("## Table 1")[1]   # both 4-PU runs in the full table
    assert "\n| 4 | 1 |" in clean                          # only the clean one here
    assert "\n| 8 | 1 |" in clean
