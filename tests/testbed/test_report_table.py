"""Statistics over runs, Table 1 layout and the reference values."""

import random
from pathlib import Path

import numpy
import pytest

from mecpool.testbed import reference, table
from mecpool.testbed.results import load_results, pe_rows, pu_rows, run_row

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def rows():
    results = load_results(FIXTURES / "rsplib-sample")
    pu = [row for run in results.runs for row in pu_rows(run)]
    pe = [row for run in results.runs for row in pe_rows(run)]
    runs = [run_row(run) for run in results.runs]
    return pu, pe, runs


@pytest.mark.parametrize("size", [1, 2, 5, 17, 40])
@pytest.mark.parametrize("q", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_quantile_is_r_type_7(size, q):
    values = [random.Random(size).expovariate(0.1) for _ in range(size)]
    assert table.quantile(values, q) == pytest.approx(float(numpy.quantile(values, q, method="linear")))


def test_quantile_rejects_bad_input():
    with pytest.raises(ValueError, match="outside 0..1"):
        table.quantile([1.0], 1.5)
    with pytest.raises(ValueError, match="no values"):
        table.quantile([], 0.5)


def test_summary_weighs_runs_equally_and_pools_extremes():
    summary = table.summarize({1: [1.0, 3.0], 2: [10.0], 3: [None, ""]})
    assert summary.mean == pytest.approx((2.0 + 10.0) / 2)  # mean of run means, not of the 3 values
    assert (summary.min, summary.max, summary.runs, summary.n, summary.missing) == (1.0, 10.0, 2, 3, 2)
    assert summary.q10 == pytest.approx(numpy.quantile([1.0, 3.0, 10.0], 0.1))
    assert table.summarize({1: [None]}) is None


def test_by_pus_on_real_runs(rows):
    pu, _, _ = rows
    summaries = table.by_pus(pu, "total_queuing_s")
    assert sorted(summaries) == [1, 4, 8]
    for pus, summary in summaries.items():
        per_run = {}
        for row in pu:
            if row["pus"] == pus:
                per_run.setdefault(row["run"], []).append(row["total_queuing_s"])
        pooled = [value for values in per_run.values() for value in values]
        assert summary.mean == pytest.approx(numpy.mean([numpy.mean(values) for values in per_run.values()]))
        assert summary.max == max(pooled) and summary.min == min(pooled)
        assert summary.q90 == pytest.approx(numpy.quantile(pooled, 0.9))
        assert summary.n == pus * len(per_run)


def test_by_group_sums_the_groups_pes_per_run(rows):
    _, pe, _ = rows
    groups = table.by_group(pe)
    assert list(groups) == ["ue", "mec", "pmc"]
    for pus in (1, 4, 8):
        sums = {}
        for row in pe:
            if row["pus"] == pus and row["group"] == "mec":
                sums[row["run"]] = sums.get(row["run"], 0.0) + row["used_capacity"]
        assert groups["mec"][pus].mean == pytest.approx(sum(sums.values()) / len(sums))
        assert groups["mec"][pus].max == pytest.approx(max(sums.values()))


def test_table1_layout_and_reference_values(rows):
    pu, _, _ = rows
    table1 = table.table1(pu)
    assert [row["pus"] for row in table1] == [1, 2, 4, 8, 16, 32, 48, 64]
    measured = table.by_pus(pu, "total_queuing_s")
    for row in table1:
        reference_row = reference.TABLE1[row["pus"]]
        assert tuple(row["ref_" + name] for name in reference.TABLE1_COLUMNS) == reference_row
        if row["pus"] in measured:
            assert row["mean"] == measured[row["pus"]].mean and row["runs"] == measured[row["pus"]].runs
        else:
            assert row["mean"] is None and row["runs"] == 0
    text = table.table1_markdown(pu)
    lines = text.splitlines()
    assert lines[0] == ("| PUs | runs | mean | ref mean | min | ref min | max | ref max | q10 | ref q10 | q90 "
                        "| ref q90 |")
    assert len(lines) == 2 + 8
    assert lines[-1].startswith("| 64 | 0 | - | 174.33 | - | 1.46 | - | 1081.93 | - | 27.24 | - | 435.95 |")
    assert "| 1 | 2 | {:.2f} | 37.51 |".format(measured[1].mean) in text


def test_table1_csv(rows, tmp_path):
    pu, _, _ = rows
    path = table.write_table1_csv(tmp_path / "table1.csv", pu)
    lines = path.read_text().splitlines()
    assert lines[0] == "pus,runs,values,mean,ref_mean,min,ref_min,max,ref_max,q10,ref_q10,q90,ref_q90"
    assert lines[-1] == "64,0,0,,174.33,,1.46,,1081.93,,27.24,,435.95"


def test_reference_numbers():
    assert reference.offered_load(1) == pytest.approx(0.0167, abs=1e-4)
    assert reference.offered_load(48) == pytest.approx(0.80)
    assert reference.offered_load(64) == pytest.approx(1.0667, abs=1e-4)
    assert set(reference.TABLE1) == set(reference.PU_COUNTS)
    assert all(row[1] <= row[3] <= row[0] <= row[4] <= row[2] for row in reference.TABLE1.values())


def test_claims_on_real_runs(rows):
    pu, pe, runs = rows
    offered = reference.mean_offered_load(runs)
    verdicts = {claim.key: claim.check(pe, pu, offered) for claim in reference.CLAIMS}
    # the sample ran 1 PU: only the MEC PEs did work (pmc-1 and ue-pe accepted nothing)
    assert verdicts["mec-only-at-1"].applies and verdicts["mec-only-at-1"].holds
    assert verdicts["ue-idle"].applies and verdicts["ue-idle"].holds
    # 8 PUs at a 1.5 s interval are far beyond 100 %, but the UE PE stayed idle in the sample
    assert offered[8] > 1.0
    assert verdicts["ue-at-overload"].applies and not verdicts["ue-at-overload"].holds
    assert not verdicts["speed-48"].applies


def test_claims_see_work_on_the_ue_pe(rows):
    """The same rows with work put on the UE PE at 8 PUs flip the overload claim."""
    pu, pe, runs = rows
    changed = [dict(row, used_capacity=5000.0) if row["pe"] == "ue-pe" and row["pus"] == 8 else row for row in pe]
    offered = reference.mean_offered_load(runs)
    claim = next(claim for claim in reference.CLAIMS if claim.key == "ue-at-overload")
    assert claim.check(changed, pu, offered).holds


def test_summary_cell_and_format():
    summary = table.Summary(2, 4, 0, 1.5, 0.25, 3.0, 0.5, 2.75)
    assert table.summary_cell(summary) == "1.50 [0.50, 2.75] (0.25-3.00)"
    assert table.summary_cell(None) == "-"
    assert table.fmt(1234567.8, 0, True) == "1,234,568"
    assert table.markdown_table(["a", "b|c"], [["1", "2"]]).splitlines()[0] == "| a | b\\|c |"


def test_fixtures_stay_raw():
    """Guard: reports are made on copies; no derived file may land beside the raw fixtures."""
    assert not (FIXTURES / "rsplib-sample" / "pu.csv").exists()
    assert not (FIXTURES / "rsplib-sample" / "report.md").exists()
