"""Summary statistics over runs, the reference's way, and Table 1 side by side.

The reference reports, per PU count, the *mean over runs*, the absolute minimum and
maximum, and the 10 % and 90 % quantiles.  Here:

* ``mean``: the mean over runs of each run's mean (a run's mean is over its PUs, or
  the one value a PE has per run), so every run weighs the same;
* ``min`` / ``max``: over every value of every run;
* ``q10`` / ``q90``: quantiles of all values of all runs, linear interpolation between
  order statistics (R's default type 7, which the reference's R-based plots use).

Missing values (a PU that completed no job has no per-job mean) are left out and
counted in ``missing``.
"""

import math
from dataclasses import dataclass

from . import reference
from .results import write_csv


def quantile(values, q):
    """The ``q`` quantile (0..1) of ``values``, R type 7 / numpy's default 'linear'."""
    if not 0.0 <= q <= 1.0:
        raise ValueError("quantile {} is outside 0..1".format(q))
    ordered = sorted(values)
    if not ordered:
        raise ValueError("quantile of no values")
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Summary:
    runs: int
    n: int
    missing: int
    mean: float
    min: float
    max: float
    q10: float
    q90: float

    def get(self, name):
        return getattr(self, name)


def _number(value):
    if value is None or value == "":
        return None
    value = float(value)
    return None if math.isnan(value) else value


def summarize(values_by_run):
    """Summarise ``{run: [values]}``; None when there is no value at all."""
    pooled, run_means, missing = [], [], 0
    for values in values_by_run.values():
        numbers = [_number(value) for value in values]
        present = [value for value in numbers if value is not None]
        missing += len(numbers) - len(present)
        if present:
            pooled.extend(present)
            run_means.append(sum(present) / len(present))
    if not pooled:
        return None
    return Summary(runs=len(run_means), n=len(pooled), missing=missing,
                   mean=sum(run_means) / len(run_means), min=min(pooled), max=max(pooled),
                   q10=quantile(pooled, 0.1), q90=quantile(pooled, 0.9))


def by_pus(rows, metric, where=None):
    """``{pus: Summary}`` of ``metric`` over the rows (optionally filtered by ``where(row)``)."""
    grouped = {}
    for row in rows:
        if where is not None and not where(row):
            continue
        grouped.setdefault(int(row["pus"]), {}).setdefault(int(row["run"]), []).append(row[metric])
    result = {}
    for pus in sorted(grouped):
        summary = summarize(grouped[pus])
        if summary is not None:
            result[pus] = summary
    return result


def by_pe(pe_rows, metric="used_capacity"):
    """``{pe: {pus: Summary}}``: each PE's one value per run, summarised over runs."""
    names = []
    for row in pe_rows:
        if row["pe"] not in names:
            names.append(row["pe"])
    return {name: by_pus(pe_rows, metric, where=lambda row, name=name: row["pe"] == name) for name in names}


def by_group(pe_rows, metric="used_capacity"):
    """``{group: {pus: Summary}}`` of the group's per-run sum of ``metric`` (calc/s)."""
    sums = {}
    for row in pe_rows:
        value = _number(row[metric])
        key = (row["group"], int(row["pus"]), int(row["run"]))
        if value is not None:
            sums[key] = sums.get(key, 0.0) + value
    runs = {(int(row["pus"]), int(row["run"])) for row in pe_rows}
    groups = [group for group in ("ue", "mec", "pmc") if any(row["group"] == group for row in pe_rows)]
    result = {}
    for group in groups:
        rows = [{"pus": pus, "run": run, metric: sums.get((group, pus, run), 0.0)} for pus, run in sorted(runs)]
        result[group] = by_pus(rows, metric)
    return result


# ---------------------------------------------------------------- Table 1

TABLE1_CSV_COLUMNS = ("pus", "runs", "values") + tuple(
    "{}{}".format(prefix, name) for name in reference.TABLE1_COLUMNS for prefix in ("", "ref_"))


def table1(pu_rows):
    """Rows of Table 1 (total queuing time per PU over a run), measured and reference."""
    measured = by_pus(pu_rows, "total_queuing_s")
    rows = []
    for pus in sorted(set(measured) | set(reference.TABLE1)):
        summary = measured.get(pus)
        ref = reference.table1_row(pus)
        row = {"pus": pus, "runs": summary.runs if summary else 0, "values": summary.n if summary else 0}
        for name in reference.TABLE1_COLUMNS:
            row[name] = summary.get(name) if summary else None
            row["ref_" + name] = ref[name] if ref else None
        rows.append(row)
    return rows


def write_table1_csv(path, pu_rows):
    return write_csv(path, TABLE1_CSV_COLUMNS, table1(pu_rows))


def table1_markdown(pu_rows):
    """Table 1 as Markdown: measured next to the reference for each statistic."""
    header = ["PUs", "runs"]
    for name in reference.TABLE1_COLUMNS:
        header += [name, "ref " + name]
    lines = [_md_row(header), _md_row(["---:"] * len(header))]
    for row in table1(pu_rows):
        cells = [str(row["pus"]), str(row["runs"])]
        for name in reference.TABLE1_COLUMNS:
            cells += [fmt(row[name], 2), fmt(row["ref_" + name], 2)]
        lines.append(_md_row(cells))
    return "\n".join(lines)


# ---------------------------------------------------------------- Markdown helpers

def fmt(value, digits=2, thousands=False):
    """A number for a Markdown table; '-' for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if thousands:
        return "{:,.{}f}".format(value, digits)
    return "{:.{}f}".format(value, digits)


def _md_row(cells):
    return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"


def markdown_table(header, rows, align=None):
    lines = [_md_row(header), _md_row(align or ["---"] + ["---:"] * (len(header) - 1))]
    lines.extend(_md_row(row) for row in rows)
    return "\n".join(lines)


def summary_cell(summary, digits=2, thousands=False):
    """'mean [q10, q90] (min-max)' for one Summary."""
    if summary is None:
        return "-"
    return "{} [{}, {}] ({}-{})".format(*(fmt(summary.get(name), digits, thousands)
                                          for name in ("mean", "q10", "q90", "min", "max")))
