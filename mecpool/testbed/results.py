"""From a testbed run directory's raw RSPLIB files to pu.csv, pe.csv, runs.csv, jobs.csv.

The run directory is read by :mod:`.rundir` (layout and run.json there), jobs are
accounted for by :mod:`.accounting`; this module is the one entry point for both
(they are re-exported below) and writes the CSVs.

Definitions (the same as calcappclient's and the reference's):

* A job's *queuing* time runs from its generation to its dequeue in the PU, *start-up*
  from the dequeue until a PE accepted it (handle resolution, connect, rejects and
  retries), *processing* from the accept until the PE reported it complete;
  *handling* time is their sum and *handling speed* = job size / handling time.
* ``total_queuing_s`` of a PU is the sum of the queuing times of the jobs that PU
  completed in the run ("CalcAppPU Total Queuing Time"); Table 1 of the reference
  reports exactly this value, per PU and run.  The same holds for the other totals.
* ``queuing_s``, ``startup_s``, ``processing_s`` and ``handling_s`` in ``pu.csv`` are
  per-job means of that PU: the total divided by the jobs it completed (empty when
  it completed none).  ``handling_speed`` is the PU's "Average Handling Speed":
  completed calculations / total handling time (also empty without a completed job).
* ``used_capacity`` of a PE is in calculations/s over the PUs' measurement window
  (``started`` .. ``started + runtime_s``; from the PE's start if it started later, as
  after a scale-out): the PE's cumulative calculations (its vector file, one point per
  completed job, plus the total at its stop) interpolated at both ends of the window.
  The PE's own total is not used directly: it includes the minute after ``-runtime``
  in which the PUs finish their last jobs, which at overload would show more than the
  PE's capacity.  ``utilization`` is the value the PE itself wrote
  (used / (uptime x capacity)).

Nothing is written before every file of every run has been read and checked.
"""

import csv
import json
import math
from pathlib import Path

# Re-exported: the fault scenarios, the engine and the tests use ``results.*``.
from .accounting import (JOB_COLUMNS, FaultCost, JobAccounting, accounting_lines, fault_cost,
                         job_accounting, total_accounting)
from .rundir import (GROUPS, Fault, PERun, PESpec, PURun, PUSpec, ResultSet, Run, RunDirError,
                     load_results, load_run, read_run_json)

__all__ = [
    "JOB_COLUMNS", "FaultCost", "JobAccounting", "accounting_lines", "fault_cost", "job_accounting",
    "total_accounting", "GROUPS", "Fault", "PERun", "PESpec", "PURun", "PUSpec", "ResultSet", "Run",
    "RunDirError", "load_results", "load_run", "read_run_json", "PU_COLUMNS", "PE_COLUMNS", "RUN_COLUMNS",
    "pu_rows", "pe_rows", "run_row", "write_csv", "read_csv", "write_results",
]

PU_COLUMNS = (
    "run", "pus", "pu", "site",
    "queuing_s", "startup_s", "processing_s", "handling_s", "handling_speed",
    "jobs_queued", "jobs_started", "jobs_completed",
    "total_queuing_s", "total_startup_s", "total_processing_s", "total_handling_s",
    "job_size_completed", "requests", "accepts", "rejects", "vector_jobs", "stale_accepts",
)
PE_COLUMNS = (
    "run", "pus", "pe", "group", "site", "capacity", "max_jobs", "load_increment",
    "used_capacity", "utilization", "used_calculations", "uptime_s",
    "jobs_accepted", "jobs_rejected", "jobs_completed", "scalars",
)
RUN_COLUMNS = (
    "run", "pus", "runtime_s", "started", "ended", "offered_calc_s", "network_capacity", "offered_load", "faults",
)
# ---------------------------------------------------------------- rows

def _per_job(total, jobs):
    return total / jobs if jobs else None


def _without_stale_accepts(pu_run):
    """(start-up, processing, handling totals, jobs they cover) with the garbage times of
    jobs completed without a fresh accept (JobRecord.stale_accept) taken out of the
    scalar totals; their queuing time is sound and stays."""
    s = pu_run.scalars
    stale = [job for job in pu_run.jobs if job.stale_accept]
    return (s.total_startup_s - sum(job.startup_s for job in stale),
            s.total_processing_s - sum(job.processing_s for job in stale),
            s.total_handling_s - sum(job.handling_s for job in stale),
            s.jobs_completed - len(stale))


def pu_rows(run):
    """Rows of pu.csv for one run (see the module docstring for the definitions)."""
    rows = []
    for pu_run in run.pu_runs:
        s = pu_run.scalars
        done = s.jobs_completed
        startup, processing, handling, timed = _without_stale_accepts(pu_run)
        rows.append({
            "run": run.run, "pus": run.pus, "pu": pu_run.spec.name, "site": pu_run.spec.site,
            "queuing_s": _per_job(s.total_queuing_s, done),
            "startup_s": _per_job(startup, timed),
            "processing_s": _per_job(processing, timed),
            "handling_s": _per_job(handling, timed),
            "handling_speed": s.handling_speed if done and timed == done else _speed(pu_run, timed),
            "jobs_queued": s.jobs_queued, "jobs_started": s.jobs_started, "jobs_completed": done,
            "stale_accepts": done - timed,
            "total_queuing_s": s.total_queuing_s, "total_startup_s": startup,
            "total_processing_s": processing, "total_handling_s": handling,
            "job_size_completed": s.job_size_completed,
            "requests": s.requests, "accepts": s.accepts, "rejects": s.rejects,
            "vector_jobs": len(pu_run.jobs),
        })
    return rows


def _speed(pu_run, timed):
    """Mean handling speed over the jobs with sound times (the scalar averages them all)."""
    speeds = [job.handling_speed for job in pu_run.jobs if not job.stale_accept]
    return sum(speeds) / len(speeds) if timed and speeds else None


def cumulative_calculations(pe_run):
    """[(epoch s, calculations done so far)] of a PE: 0 at its start, each completion
    from its vector file, its total at its stop (from the scalars)."""
    completions = pe_run.completions or []
    if not completions:
        return []
    start = completions[0].timestamp - completions[0].runtime_s
    points = [(c.timestamp, c.used_calculations) for c in completions]
    stop = (start + pe_run.scalars.uptime_s, pe_run.scalars.used_calculations)
    return sorted([(start, 0.0)] + points + [stop])


def _at(points, moment):
    """Linear interpolation of a non-decreasing cumulative curve (clamped at its ends)."""
    if moment <= points[0][0]:
        return points[0][1]
    for (t0, v0), (t1, v1) in zip(points, points[1:]):
        if moment <= t1:
            return v0 if t1 == t0 else v0 + (v1 - v0) * (moment - t0) / (t1 - t0)
    return points[-1][1]


def window_capacity(pe_run, run):
    """Calculations/s a PE did in the PUs' measurement window (see the module notes)."""
    s = pe_run.scalars
    points = cumulative_calculations(pe_run)
    begin = run.started.timestamp()
    end = begin + run.runtime_s
    if len(points) < 2:
        # No completion at all: whatever it did (a job still running at its stop) spread
        # over the time it was up inside the window.
        window = min(s.uptime_s, run.runtime_s)
        return s.used_calculations / window if window > 0 else 0.0
    begin = max(begin, points[0][0])
    if end <= begin:
        return 0.0
    return max(0.0, _at(points, end) - _at(points, begin)) / (end - begin)


def pe_rows(run):
    """Rows of pe.csv for one run; a PE killed by a crash fault has empty measured values."""
    rows = []
    for pe_run in run.pes:
        spec, s = pe_run.spec, pe_run.scalars
        row = {
            "run": run.run, "pus": run.pus, "pe": spec.name, "group": spec.group, "site": spec.site,
            "capacity": spec.capacity, "max_jobs": spec.max_jobs, "load_increment": spec.load_increment,
            "used_capacity": None, "utilization": None, "used_calculations": None, "uptime_s": None,
            "jobs_accepted": None, "jobs_rejected": None,
            "jobs_completed": len(pe_run.completions) if pe_run.completions is not None else None,
            "scalars": s is not None,
        }
        if s is not None:
            row.update(used_capacity=window_capacity(pe_run, run),
                       utilization=s.utilization, used_calculations=s.used_calculations,
                       uptime_s=s.uptime_s, jobs_accepted=s.jobs_accepted, jobs_rejected=s.jobs_rejected)
        rows.append(row)
    return rows


def run_row(run):
    """One row of runs.csv: the run's times and its measured offered load.

    ``offered_calc_s`` = the calculations of every job the PUs generated / runtime_s;
    ``offered_load`` relates it to the network PEs' capacity (MEC and PMC, not the UE
    PE), as the reference does (1 PU with 1e6-calculation jobs every 10 s on six
    1e6 calc/s PEs: 1.67 %).
    """
    offered = sum(pu_run.scalars.job_size_queued for pu_run in run.pu_runs) / run.runtime_s
    network = sum(pe.spec.capacity for pe in run.pes if pe.spec.group != "ue")
    return {"run": run.run, "pus": run.pus, "runtime_s": run.runtime_s,
            "started": run.started.isoformat(), "ended": run.ended.isoformat(),
            "offered_calc_s": offered, "network_capacity": network,
            "offered_load": offered / network if network else None,
            "faults": " ".join(fault.name for fault in run.faults)}


# ---------------------------------------------------------------- output

def _cell(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


def write_csv(path, columns, rows):
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row[column]) for column in columns])
    return path


def read_csv(path):
    """Read a CSV written by :func:`write_csv` back as a list of dicts of strings."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _mecpool_version():
    from .. import __version__
    return __version__


def write_results(results, out_dir=None):
    """Write pu.csv, pe.csv, runs.csv, jobs.csv and meta.json; returns their paths by name.

    ``meta.json`` beside the CSVs carries the scenario and the versions that made
    them, so the CSVs stay plain for any CSV reader.
    """
    out_dir = Path(out_dir or results.path)
    out_dir.mkdir(parents=True, exist_ok=True)
    pu, pe, runs, jobs = [], [], [], []
    for run in results.runs:
        pu.extend(pu_rows(run))
        pe.extend(pe_rows(run))
        runs.append(run_row(run))
        jobs.append(job_accounting(run).as_row())
    paths = {
        "pu.csv": write_csv(out_dir / "pu.csv", PU_COLUMNS, pu),
        "pe.csv": write_csv(out_dir / "pe.csv", PE_COLUMNS, pe),
        "runs.csv": write_csv(out_dir / "runs.csv", RUN_COLUMNS, runs),
        "jobs.csv": write_csv(out_dir / "jobs.csv", JOB_COLUMNS, jobs),
    }
    meta = {
        "run_id": results.path.name,
        "made_by": "mecpool {}".format(_mecpool_version()),
        "scenario": results.scenario,
        "versions": results.versions,
        "engine": results.engine,
        "runs": [{"pus": run.pus, "run": run.run, "runtime_s": run.runtime_s,
                  "started": run.started.isoformat(), "ended": run.ended.isoformat(),
                  "run_json": str(run.path.relative_to(results.path) / "run.json"),
                  "faults": [fault.name for fault in run.faults], "status": run.status,
                  "warnings": run.warnings} for run in results.runs],
        "excluded_runs": [{"run_json": str(path.relative_to(results.path)), "status": status}
                          for path, status in results.excluded],
        "columns": {"pu.csv": list(PU_COLUMNS), "pe.csv": list(PE_COLUMNS), "runs.csv": list(RUN_COLUMNS),
                    "jobs.csv": list(JOB_COLUMNS)},
        "units": {"*_s": "seconds", "handling_speed": "calculations/s", "capacity": "calculations/s",
                  "used_capacity": "calculations/s", "utilization": "fraction of capacity",
                  "used_calculations": "calculations", "job_size_completed": "calculations",
                  "offered_calc_s": "calculations/s", "network_capacity": "calculations/s",
                  "offered_load": "fraction of network_capacity"},
    }
    meta_path = out_dir / "meta.json"
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    paths["meta.json"] = meta_path
    return paths
