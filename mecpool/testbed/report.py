"""report.md, CSVs and figures of one testbed run directory, from its stored raw files.

``write_report(run_dir)`` reads every raw file first (any problem raises, naming the
file and line, before anything is written), then writes into ``run_dir``:
``pu.csv``, ``pe.csv``, ``jobs.csv``, ``table1.csv``, ``meta.json``,
``figures/*.png`` and ``report.md``.
"""

import json

from . import figures, reference, table
from .results import RunDirError
from .results import (fault_cost, job_accounting, load_results, pe_rows, pu_rows, run_row, total_accounting,
                      write_results)
from .table import fmt, markdown_table, summary_cell


def _setup_section(results):
    first = results.runs[0]
    lines = ["## Set-up", ""]
    rows = [[pe.spec.name, pe.spec.group, pe.spec.site, fmt(pe.spec.capacity, 0, True), str(pe.spec.max_jobs),
             "{:.0f} %".format(pe.spec.load_increment * 100)] for pe in first.pes]
    lines += ["Pool elements (PLU policy: the PE with the smallest load + increment gets the job):", "",
              markdown_table(["PE", "group", "site", "capacity [calc/s]", "max jobs", "PLU increment"], rows,
                             ["---", "---", "---", "---:", "---:", "---:"]), ""]
    differing = [run for run in results.runs
                 if [(pe.spec.name, pe.spec.group, pe.spec.capacity) for pe in run.pes]
                 != [(pe.spec.name, pe.spec.group, pe.spec.capacity) for pe in first.pes]]
    if differing:
        lines += ["Runs with a different PE set: " + ", ".join(
            "{} PUs run {}".format(run.pus, run.run) for run in differing) + ".", ""]
    counts = results.pu_counts
    sites = sorted({pu.spec.site for run in results.runs for pu in run.pu_runs})
    runtimes = sorted({run.runtime_s for run in results.runs})
    lines += [
        "- PU counts: {} (reference: {})".format(", ".join(map(str, counts)),
                                                  ", ".join(map(str, reference.PU_COUNTS))),
        "- runs per PU count: {} (reference: {})".format(
            ", ".join("{}: {}".format(pus, len(results.runs_for(pus))) for pus in counts), reference.RUNS),
        "- runtime per run: {} s (reference: {} s)".format(
            ", ".join(fmt(value, 0) for value in runtimes), reference.RUNTIME_S),
        "- PU sites: {}".format(", ".join(sites)),
        "",
        "Versions:", "",
    ]
    lines += ["- {}: {}".format(key, value if isinstance(value, str) else json.dumps(value, sort_keys=True))
              for key, value in sorted(results.versions.items())] or ["- (versions.json is empty)"]
    if results.engine:
        lines += ["", "Testbed engine: " + ", ".join("{} {}".format(key, json.dumps(value))
                                                    for key, value in sorted(results.engine.items()))]
    lines += ["", "<details><summary>scenario.yaml</summary>", "", "```yaml",
              results.scenario_text.rstrip("\n"), "```", "", "</details>", ""]
    return lines


def _runs_section(results):
    rows, warnings = [], []
    for run in results.runs:
        accounting = job_accounting(run)
        rows.append([str(run.pus), str(run.run), fmt(run.runtime_s, 0), run.started.isoformat(timespec="seconds"),
                     run.status or "-", str(accounting.generated), str(accounting.completed),
                     ", ".join(fault.name for fault in run.faults) or "-"])
        warnings += ["{} PUs run {}: {}".format(run.pus, run.run, text) for text in run.warnings]
    lines = ["## Runs", "", markdown_table(["PUs", "run", "runtime [s]", "started", "status", "jobs generated",
                                            "jobs completed", "faults"], rows,
                                           ["---:", "---:", "---:", "---", "---", "---:", "---:", "---"]), ""]
    if results.excluded:
        lines += ["Left out, the testbed engine marked them failed:", ""] + [
            "- `{}`: {}".format(path.relative_to(results.path), status) for path, status in results.excluded] + [""]
    if warnings:
        lines += ["Warnings of the testbed engine:", ""] + ["- " + text for text in warnings] + [""]
    return lines


def _group_capacity(results):
    capacity = {}
    for pe in results.runs[0].pes:
        capacity[pe.spec.group] = capacity.get(pe.spec.group, 0.0) + pe.spec.capacity
    return capacity


def _capacity_section(pe, offered, results):
    if not pe:
        return ["## Used capacity per PE group", "",
                "No pool elements ran here (a `mecpool measure` run against a real deployment): their load is "
                "in the registrars' handlespace (`mecpool pool-status NS`).", ""]
    per_group = table.by_group(pe, "used_capacity")
    capacity = _group_capacity(results)
    groups = list(per_group)
    header = ["PUs", "offered load (ref)"] + ["{} [calc/s]".format(figures.GROUP_LABELS[group]) for group in groups]
    header += ["{} [% of capacity]".format(group) for group in groups]
    rows = []
    for pus in results.pu_counts:
        row = [str(pus), "{:.1f} % ({:.1f} %)".format(offered[pus] * 100, reference.offered_load(pus) * 100)]
        row += [summary_cell(per_group[group].get(pus), 0, True) for group in groups]
        row += [fmt(per_group[group][pus].mean / capacity[group] * 100, 1) if pus in per_group[group] else "-"
                for group in groups]
        rows.append(row)
    lines = ["## Used capacity per PE group", "",
             "Mean over runs of the group's summed used capacity, [10 %, 90 %] quantiles and (min-max) over "
             "runs. Offered load: the calculations of all jobs the PUs generated per second of runtime, relative to "
             "the network (MEC and PMC) PEs' capacity, mean over runs; in brackets the reference's at that PU count "
             "(six network PEs, 6,000,000 calc/s).", "",
             markdown_table(header, rows), "", "![used capacity per PE group](figures/used_capacity_groups.png)", ""]
    per_pe = table.by_pe(pe, "used_capacity")
    header = ["PE", "group"] + ["{} PUs".format(pus) for pus in results.pu_counts]
    groups_of = {row["pe"]: row["group"] for row in pe}
    align = ["---", "---"] + ["---:"] * len(results.pu_counts)
    rows = [[name, groups_of[name]] + [fmt(summaries[pus].mean, 0, True) if pus in summaries else "-"
                                       for pus in results.pu_counts]
            for name, summaries in per_pe.items()]
    lines += ["### Used capacity per PE (mean over runs, calc/s)", "", markdown_table(header, rows, align), "",
              "![used capacity per PE](figures/used_capacity.png)", ""]
    return lines


def _pu_section(pu, results):
    metrics = (("queuing_s", 2, False), ("startup_s", 2, False), ("processing_s", 2, False),
               ("handling_s", 2, False), ("handling_speed", 0, True))
    summaries = {metric: table.by_pus(pu, metric) for metric, _, _ in metrics}
    rows = []
    for pus in results.pu_counts:
        rows.append([str(pus)] + [summary_cell(summaries[metric].get(pus), digits, thousands)
                                  for metric, digits, thousands in metrics])
    no_job = [row for row in pu if int(row["jobs_completed"]) == 0]
    lines = ["## Queuing, start-up and processing time and handling speed vs PUs", "",
             "Per-job means of each PU (its total divided by its completed jobs); per PU count the mean over "
             "runs, [10 %, 90 %] quantiles and (min-max) over all PUs of all runs.", "",
             markdown_table(["PUs", "queuing [s]", "start-up [s]", "processing [s]", "handling [s]",
                             "handling speed [calc/s]"], rows), ""]
    if no_job:
        lines += ["{} PU run(s) completed no job and have no per-job values: {}.".format(
            len(no_job), ", ".join("{} ({} PUs, run {})".format(row["pu"], row["pus"], row["run"])
                                   for row in no_job[:10]) + (" ..." if len(no_job) > 10 else "")), ""]
    lines += ["![queuing time](figures/queuing_time.png)", "", "![start-up time](figures/startup_time.png)", "",
              "![processing time](figures/processing_time.png)", "", "![handling speed](figures/handling_speed.png)",
              "", "Reference: " + " ".join(reference.QUALITATIVE), ""]
    return lines


def _mean_ratios(pu):
    ratios = ["{} PUs: {:.2f}".format(row["pus"], row["mean"] / row["ref_mean"])
              for row in table.table1(pu) if row["mean"] is not None and row["ref_mean"]]
    return "Measured mean / reference mean: " + ("; ".join(ratios) if ratios else "no common PU count") + "."


def _table1_section(pu, aborted_runs):
    """Table 1 over all runs; and, when RSPLIB aborted PEs in some runs (a PE missing for
    the rest of a run costs capacity the reference had), also over the other runs."""
    lines = ["## Table 1: total queuing time per PU over a run [s]", "",
             "Per PU and run, the sum of the queuing times of the jobs it completed (calcappclient's \"Total "
             "Queuing Time\"); mean over runs, min and max over all PUs, 10 %/90 % quantiles; `ref` = the "
             "reference's Table 1.", "", table.table1_markdown(pu), "", _mean_ratios(pu), "",
             "![Table 1](figures/table1_queuing.png)", ""]
    if aborted_runs:
        clean = [row for row in pu if (row["pus"], row["run"]) not in aborted_runs]
        lines += ["### Table 1 without the runs in which RSPLIB aborted a PE", "",
                  "{} run(s) lost a PE to RSPLIB's own assertion (see the warnings above): "
                  "{}.".format(len(aborted_runs), ", ".join(
                      "{} PUs run {}".format(p, r) for p, r in sorted(aborted_runs))), "",
                  table.table1_markdown(clean), "", _mean_ratios(clean), ""]
    return lines


def _claims_section(pe, pu, offered):
    rows = []
    for claim in reference.CLAIMS:
        verdict = claim.check(pe, pu, offered)
        state = ("reproduced" if verdict.holds else "NOT reproduced") if verdict.applies else "not measured"
        rows.append([claim.text, state, verdict.observed])
    return ["## Reference results", "", markdown_table(["reference", "here", "observed"], rows,
                                                       ["---", "---", "---"]), ""]


def _accounting_section(results):
    rows, problems = [], []
    totals = {"generated": 0, "completed": 0, "still_queued": 0, "in_flight": 0, "failed_over": 0, "lost": 0}
    for run in results.runs:
        item = job_accounting(run)
        for key in totals:
            totals[key] += getattr(item, key)
        rows.append([str(item.pus), str(item.run), str(item.generated), str(item.completed),
                     str(item.still_queued), str(item.in_flight), str(item.failed_over), str(item.rejects),
                     str(item.lost), "-" if item.pe_accepted is None else str(item.pe_accepted),
                     "yes" if item.consistent else "NO"])
        problems += ["{} PUs run {}: {}".format(item.pus, item.run, text) for text in item.problems]
    lines = ["## Job accounting", "",
             "lost = generated - completed - still queued - in flight (a PU works on one job at a time, so at "
             "most one per PU is in flight); failed over = accepts beyond one per job (a job moved to another "
             "PE).", "",
             markdown_table(["PUs", "run", "generated", "completed", "still queued", "in flight", "failed over",
                             "rejects", "lost", "PE accepts", "consistent"], rows), "",
             "Total: {generated} generated, {completed} completed, {still_queued} still queued, {in_flight} in "
             "flight, {failed_over} failed over, **{lost} lost**.".format(**totals), ""]
    if problems:
        lines += ["Inconsistencies:", ""] + ["- " + text for text in problems] + [""]
    return lines


def read_fault_outcome(run_dir):
    """The fault scenario's own verdict (``fault.json`` of ``mecpool testbed fault``), or None."""
    path = run_dir / "fault.json"
    if not path.is_file():
        return None
    try:
        outcome = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise RunDirError("{}: not valid JSON ({})".format(path, error))
    if not isinstance(outcome, dict) or not isinstance(outcome.get("fault"), str):
        raise RunDirError("{}: fault must be the scenario's name".format(path))
    checks = outcome.get("checks", [])
    if not isinstance(checks, list):
        raise RunDirError("{}: checks must be a list".format(path))
    for index, check in enumerate(checks):
        if not isinstance(check, dict) or not isinstance(check.get("check"), str) or \
                not isinstance(check.get("passed"), bool):
            raise RunDirError("{}: checks[{}] needs a text 'check' and a true/false 'passed'".format(path, index))
    return outcome


def _outcome_lines(outcome):
    rows = [[check["check"], "passed" if check["passed"] else "FAILED", str(check.get("detail", ""))]
            for check in outcome.get("checks", [])]
    verdict = "passed" if outcome.get("passed") else "FAILED"
    lines = ["Checks of `mecpool testbed fault {}` (fault.json): **{}**".format(outcome["fault"], verdict), ""]
    if rows:
        lines += [markdown_table(["check", "result", "detail"], rows, ["---", "---", "---"]), ""]
    return lines


def _fault_sections(results, figure_dir):
    by_name = {}
    for run in results.runs:
        for fault in run.faults:
            by_name.setdefault(fault.name, []).append((run, fault))
    if not by_name:
        return [], []
    outcome = read_fault_outcome(results.path)
    lines, paths = ["## Fault scenarios", ""], []
    for name, items in by_name.items():
        lines += ["### {}".format(name), ""]
        if outcome is not None and outcome["fault"] == name:
            lines += _outcome_lines(outcome)
        rows = []
        for index, (run, fault) in enumerate(items):
            accounting = job_accounting(run)
            cost = fault_cost(run, fault)
            rows.append([str(run.pus), str(run.run), fault.target or "-", fmt(fault.at_s, 1), fmt(fault.duration_s, 1),
                         str(accounting.generated), str(accounting.completed), str(accounting.failed_over),
                         str(accounting.still_queued + accounting.in_flight), str(accounting.lost),
                         "{} / {}".format(cost.affected, cost.unaffected), fmt(cost.extra_s, 2),
                         fmt(cost.extra_total_s, 1), fmt(cost.worst_affected_s, 2),
                         fmt(cost.target_first_job_s, 2)])
            file_name = "fault-{}-pus{}-run{}{}.png".format(name, run.pus, run.run, "-{}".format(index) if
                                                           sum(1 for r, _ in items if r is run) > 1 else "")
            paths.append(figures.fault_timeline(run, fault, figure_dir / file_name))
            if fault.details:
                lines += ["- {} PUs run {}: {}".format(run.pus, run.run, ", ".join(
                    "{} = {}".format(key, json.dumps(value)) for key, value in sorted(fault.details.items())))]
            steps = ["{}{} at {} s{}".format(action.get("action"), ":" + str(action["target"]) if action.get("target")
                                             else "", action.get("at_s"),
                                             "" if action.get("done_s") is None else
                                             " (done at {} s)".format(action["done_s"]))
                     for action in run.actions]
            if steps:
                lines += ["- {} PUs run {}: timeline: {}".format(run.pus, run.run, "; ".join(steps))]
            if not cost.clock_ok:
                lines += ["- {} PUs run {}: job time stamps lie outside the run's start/end: the tools' clock "
                          "and run.json's differ, so the fault window is misplaced.".format(run.pus, run.run)]
        lines += ["", markdown_table(
            ["PUs", "run", "target", "at [s]", "for [s]", "generated", "completed", "failed over",
             "queued / in flight", "lost", "jobs affected / not", "extra handling [s/job]", "extra total [s]",
             "worst affected job [s]", "target's first job [s]"], rows), ""]
        distinct = []
        for run, _ in items:
            if run not in distinct:
                distinct.append(run)
        total = total_accounting(distinct)
        lines += ["Over this scenario's {} run(s): {} jobs generated, {} completed, {} failed over, {} still queued "
                  "or in flight, **lost: {}**.".format(len(distinct), total.generated, total.completed,
                                                      total.failed_over, total.still_queued + total.in_flight,
                                                      total.lost), ""]
        lines += ["Affected jobs lived through the fault window (generated before its end, completed after its "
                  "start); extra handling = their mean handling time minus that of the other jobs of the run; "
                  "target's first job = seconds from the fault to the first job the target PE completed "
                  "(scale-out).", ""]
        lines += ["![{}](figures/{})".format(name, path.name) for path in paths[-len(items):]] + [""]
    return lines, paths


def write_report(run_dir):
    """Regenerate CSVs, Table 1, figures and report.md of ``run_dir``; returns report.md's path."""
    results = load_results(run_dir)  # raises before anything is written
    run_dir = results.path
    read_fault_outcome(run_dir)  # a broken fault.json, too
    written = write_results(results)
    pu = [row for run in results.runs for row in pu_rows(run)]
    pe = [row for run in results.runs for row in pe_rows(run)]
    offered = reference.mean_offered_load([run_row(run) for run in results.runs])
    table1_path = table.write_table1_csv(run_dir / "table1.csv", pu)
    figure_dir = run_dir / "figures"
    groups = {row["pe"]: row["group"] for row in pe}
    figure_paths = figures.write_figures(pu, pe, groups, figure_dir)

    lines = ["# MEC-Pool testbed report: {}".format(run_dir.name), "",
             "RSerPool workload offloading with the real RSPLIB (rspregistrar, rspserver -calcapp, "
             "calcappclient), compared with the reference results. Regenerate with "
             "`mecpool report {}`.".format(run_dir), ""]
    lines += _setup_section(results)
    lines += _runs_section(results)
    lines += _capacity_section(pe, offered, results)
    lines += _pu_section(pu, results)
    aborted = {(run.pus, run.run) for run in results.runs if run.rsplib_aborts}
    lines += _table1_section(pu, aborted)
    lines += _claims_section(pe, pu, offered)
    lines += _accounting_section(results)
    fault_lines, fault_paths = _fault_sections(results, figure_dir)
    lines += fault_lines
    files = [path.name for path in written.values()] + [table1_path.name]
    files += ["figures/" + path.name for path in figure_paths + fault_paths]
    lines += ["## Files", "", "Raw RSPLIB output: `raw/pus-<N>/run-<k>/` (run.json lists each file). Derived:", ""]
    lines += ["- `{}`".format(name) for name in files] + [""]
    report = run_dir / "report.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    return report

