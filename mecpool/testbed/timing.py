"""How faithful the testbed's timing is: lone jobs against job size / capacity.

A CalcApp PE works on timers: a job alone on a PE of capacity C must take
exactly size / C seconds from accept to completion (the one-way delays of the
accept and the completion message cancel out in the PU's processing time).
If the emulated machine is overloaded, timers fire late and jobs take longer.

A job is *lone* when no other job of its run was between accept and
completion at the same time, anywhere in the pool; with PLU such a job went to
a PE of the group with the smallest load increment, whose capacity is then
the reference.  ``ratio`` = measured processing time / (size / capacity).
"""

import json
import statistics
from pathlib import Path

from . import ledger

MIN_EXPECTED_S = 0.1   # shorter jobs measure timer granularity more than the PE
# A PU's first job also pays for the cold start of its first association (lazy
# binding, page faults: slow under TCG), which delays the accept at the PU and
# so shortens the measured processing time; it is left out.


def _lone_jobs(jobs):
    """Jobs (vector rows) whose [accept, completion] overlaps no other job's."""
    ordered = sorted(jobs, key=lambda job: job["AcceptTimeStamp"])
    lone = []
    latest_end = float("-inf")
    for index, job in enumerate(ordered):
        next_start = (ordered[index + 1]["AcceptTimeStamp"] if index + 1 < len(ordered)
                      else float("inf"))
        if job["AcceptTimeStamp"] >= latest_end and job["CompleteTimeStamp"] <= next_start:
            lone.append(job)
        latest_end = max(latest_end, job["CompleteTimeStamp"])
    return lone


def reference_capacity(run_info):
    """Capacity of the PEs a lone job goes to: the group with the smallest increment."""
    pes = run_info["pes"]
    lowest = min(pe["load_increment"] for pe in pes if not pe.get("deferred"))
    capacities = {pe["capacity"] for pe in pes
                  if pe["load_increment"] == lowest and not pe.get("deferred")}
    if len(capacities) != 1:
        return None  # ambiguous: those PEs differ in capacity
    return capacities.pop()


def run_ratios(run_path):
    """Ratios (measured / expected processing time) of one raw run's lone jobs."""
    run_path = Path(run_path)
    info = json.loads((run_path / "run.json").read_text())
    capacity = reference_capacity(info)
    if capacity is None:
        return []
    ratios = []
    for job in _lone_jobs(ledger.jobs(run_path)):
        if job["JobID"] == 1:
            continue
        expected = job["JobSize"] / capacity
        if expected >= MIN_EXPECTED_S:
            ratios.append(job["ProcessingTime"] / expected)
    return ratios


def summarize(ratios):
    if not ratios:
        return {"lone_jobs": 0}
    ordered = sorted(ratios)

    def quantile(q):
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "lone_jobs": len(ordered),
        "median": round(statistics.median(ordered), 4),
        "mean": round(statistics.fmean(ordered), 4),
        "q10": round(quantile(0.1), 4),
        "q90": round(quantile(0.9), 4),
        "max": round(ordered[-1], 4),
        "mean_abs_error": round(statistics.fmean(abs(r - 1) for r in ordered), 4),
    }


def distortion(run_dir):
    """Per-run and overall lone-job ratios of a testbed run directory."""
    run_dir = Path(run_dir)
    per_run = {}
    everything = []
    for run_json in sorted((run_dir / "raw").glob("pus-*/run-*/run.json")):
        ratios = run_ratios(run_json.parent)
        key = "{}/{}".format(run_json.parent.parent.name, run_json.parent.name)
        per_run[key] = summarize(ratios)
        everything.extend(ratios)
    return {"overall": summarize(everything), "runs": per_run}
