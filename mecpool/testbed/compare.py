"""One report comparing testbed runs side by side with the reference (``mecpool report compare``).

Made for the RSPLIB variants (stock RSPLIB with the 1 s keep-alive workaround, and
RSPLIB with librspfreshload at its default keep-alive), it works for any runs of the
same scenario: Table 1 (mean and q90 of the total queuing time per PU), the used
capacity per PE group, the handling speed per PU count, RSPLIB's own PE aborts, the
rejects, and the wall time and host CPU of each invocation.  Everything comes from
the stored raw files through the same readers as ``mecpool report``.
"""

from . import reference, table
from .figures import GROUP_LABELS
from .results import job_accounting, load_results, pe_rows, pu_rows
from .table import fmt, markdown_table


class Compared:
    """One labelled run directory, read once."""

    def __init__(self, label, run_dir):
        self.label = label
        self.results = load_results(run_dir)
        self.pu = [row for run in self.results.runs for row in pu_rows(run)]
        self.pe = [row for run in self.results.runs for row in pe_rows(run)]
        self.table1 = {row["pus"]: row for row in table.table1(self.pu)}
        self.capacity = table.by_group(self.pe, "used_capacity")
        self.speed = table.by_pus(self.pu, "handling_speed")
        self.accounting = [job_accounting(run) for run in self.results.runs]
        self.aborts = [(run.pus, run.run, name, where) for run in self.results.runs
                       for name, where in sorted(run.rsplib_aborts.items())]
        self.group_capacity = {}
        for pe in self.results.runs[0].pes:
            group = pe.spec.group
            self.group_capacity[group] = self.group_capacity.get(group, 0.0) + pe.spec.capacity

    def variant(self):
        versions = self.results.versions
        keepalive = versions.get("endpoint_keepalive_ms")
        return "{}, endpoint keep-alive {}".format(
            versions.get("rsplib_variant", "stock (before the variants)"),
            "{} ms".format(keepalive) if keepalive else "RSPLIB's default (5000 ms)")


def _pu_counts(compared):
    return sorted({pus for item in compared for pus in item.table1 if item.table1[pus]["runs"]})


def _setup(compared):
    rows = []
    for item in compared:
        engine = item.results.engine or {}
        rows.append([item.label, item.variant(), item.results.path.name, str(len(item.results.runs)),
                     fmt(engine.get("total_s", 0) / 60.0, 1), fmt(engine.get("host_cores"), 2),
                     str(len(item.aborts)), str(len({(p, r) for p, r, _, _ in item.aborts})),
                     str(sum(a.rejects for a in item.accounting)),
                     str(sum(a.lost for a in item.accounting))])
    return ["## Runs compared", "",
            markdown_table(["label", "RSPLIB", "run directory", "runs", "wall [min]", "host cores",
                            "PE aborts", "runs with an abort", "rejects", "jobs lost"], rows), ""]


def _table1(compared, pu_counts):
    header = ["PUs"]
    for item in compared:
        header += ["{} mean".format(item.label), "{} q90".format(item.label)]
    header += ["ref mean", "ref q90"]
    rows, verdicts = [], []
    for pus in pu_counts:
        ref = reference.table1_row(pus) or {}
        row = [str(pus)]
        for item in compared:
            measured = item.table1.get(pus, {})
            row += [fmt(measured.get("mean"), 1), fmt(measured.get("q90"), 1)]
            if ref and measured.get("mean") is not None:
                verdicts.append((item.label, pus, measured["mean"] <= ref["mean"],
                                 measured["q90"] <= ref["q90"]))
        row += [fmt(ref.get("mean"), 1), fmt(ref.get("q90"), 1)]
        rows.append(row)
    lines = ["## Table 1: total queuing time per PU over a run [s]", "",
             "Mean over runs and 10 %/90 % quantile over all PUs of all runs, as in `mecpool report`.", "",
             markdown_table(header, rows), ""]
    for item in compared:
        mine = [v for v in verdicts if v[0] == item.label]
        above = ["{} PUs ({})".format(pus, " and ".join(
            name for name, ok in (("mean", mean_ok), ("q90", q90_ok)) if not ok))
            for _, pus, mean_ok, q90_ok in mine if not (mean_ok and q90_ok)]
        lines.append("- {}: at or below the reference's mean and q90 at {} of {} PU counts{}.".format(
            item.label, len(mine) - len(above), len(mine),
            "; above at " + ", ".join(above) if above else ""))
    return lines + [""]


def _capacity(compared, pu_counts):
    groups = [g for g in GROUP_LABELS if any(g in item.capacity for item in compared)]
    header = ["PUs"] + ["{} {} [% cap.]".format(item.label, group) for group in groups for item in compared]
    rows = []
    for pus in pu_counts:
        row = [str(pus)]
        for group in groups:
            for item in compared:
                summary = item.capacity.get(group, {}).get(pus)
                row.append(fmt(summary.mean / item.group_capacity[group] * 100, 1) if summary else "-")
        rows.append(row)
    return ["## Used capacity per PE group [% of the group's capacity]", "",
            "Mean over runs of the group's summed used capacity.", "", markdown_table(header, rows), ""]


def _speed(compared, pu_counts):
    header = ["PUs"] + ["{} [calc/s]".format(item.label) for item in compared]
    rows = [[str(pus)] + [fmt(item.speed[pus].mean, 0, True) if pus in item.speed else "-"
                          for item in compared] for pus in pu_counts]
    return ["## Handling speed per PU count", "", "Mean per-job handling speed over all PUs of all runs.", "",
            markdown_table(header, rows), ""]


def _aborts(compared):
    lines = ["## PEs RSPLIB aborted", ""]
    for item in compared:
        lines.append("- {}: {}".format(item.label, ", ".join(
            "{} PUs run {}: {} ({})".format(p, r, name, where) for p, r, name, where in item.aborts) or "none"))
    return lines + [""]


def compare(labelled_dirs):
    """Markdown comparing ``[(label, run_dir), ...]`` (read first: any problem raises before output)."""
    if len(labelled_dirs) < 1:
        raise ValueError("nothing to compare")
    compared = [Compared(label, path) for label, path in labelled_dirs]
    pu_counts = _pu_counts(compared)
    lines = ["# Testbed runs side by side: {}".format(", ".join(item.label for item in compared)), ""]
    lines += _setup(compared)
    lines += _table1(compared, pu_counts)
    lines += _capacity(compared, pu_counts)
    lines += _speed(compared, pu_counts)
    lines += _aborts(compared)
    return "\n".join(lines)
