"""How faithful the testbed's timing is: lone jobs against job size / capacity.

A CalcApp PE works on timers: a job alone on a PE of capacity C must take
exactly size / C seconds from accept to completion (the one-way delays of the
accept and the completion message cancel out in the PU's processing time).
If the emulated machine is overloaded, timers fire late and jobs take longer.

Which PE did a job?  The PU's vector does not say, but every PE writes one
vector line per completed job (time stamp and the number of jobs it had then),
and the guest has one clock: a job completed at the PU at time c ran on the PE
whose completion line is at c - (one-way delay PE -> PU) within
MATCH_TOLERANCE_S, if exactly one line of one PE matches.  The job was *lone*
on that PE when the PE had 1 job at its completion and completed no other job
while it ran (so no job started or ended on that PE in between).
``ratio`` = measured processing time / (size / that PE's capacity).

More generally (``shared_ratios``, used by ``distortion``): CalcApp shares a PE's
capacity equally among its jobs, so from the intervals of all jobs known to be
on the same PE the processing time of each is modelled exactly; a job counts
when its PE-mates are all known (no unmatched job overlaps it) and the PE's own
job count at its completion agrees with the model.
"""

import json
import statistics
from pathlib import Path

import yaml

from . import ledger

MIN_EXPECTED_S = 0.1      # shorter jobs measure timer granularity more than the PE
MATCH_TOLERANCE_S = 0.01  # completion at the PE vs at the PU, less the one-way delay
# A PU's first job also pays for the cold start of its first association (lazy
# binding, page faults: slow under TCG), which delays the accept at the PU and
# so shortens the measured processing time; it is left out.


def _one_way_s(rtt_table, a, b):
    if a == b:
        return 0.0
    key = "{} {}".format(*sorted((a, b)))
    return rtt_table[key] / 2000.0


def assign_jobs(run_path, info, rtt_table):
    """[(job row, PE entry of run.json, the PE's completion line, the PE's delay)] for
    the jobs (with valid times) that match exactly one PE completion line."""
    pu_site = info["pus_list"][0]["site"]
    pes = []
    for pe in info["pes"]:
        lines = sorted(ledger.read_vector(run_path / pe["vector"]),
                       key=lambda row: row["CurrentTimeStamp"])
        pes.append((pe, _one_way_s(rtt_table, pu_site, pe["site"]), lines))
    assigned = []
    for job in ledger.jobs(run_path):
        matches = [(pe, line, delay) for pe, delay, lines in pes for line in lines
                   if abs(job["CompleteTimeStamp"] - delay - line["CurrentTimeStamp"])
                   < MATCH_TOLERANCE_S]
        if len(matches) == 1:
            pe, line, delay = matches[0]
            assigned.append((job, pe, line, delay, pes))
    return assigned


def lone_jobs(assigned):
    """(job, PE) pairs that had their PE to themselves, by the PE's own lines."""
    result = []
    for job, pe, line, delay, pes in assigned:
        if int(line["CurrentJobs"]) != 1:
            continue
        start = job["AcceptTimeStamp"] - delay
        end = line["CurrentTimeStamp"]
        lines = next(lines for other, _, lines in pes if other["name"] == pe["name"])
        if any(start < other["CurrentTimeStamp"] < end for other in lines if other is not line):
            continue
        result.append((job, pe))
    return result


def _rtt_table(run_path):
    scenario = yaml.safe_load((Path(run_path).parents[2] / "scenario.yaml").read_text())
    return scenario["resolved"]["rtt_ms"]


def expected_processing_s(size, capacity, start, others):
    """Processing time of a job of ``size`` accepted at ``start`` on a PE that shares
    ``capacity`` equally among its jobs (CalcApp), given the other jobs' [start, end)
    intervals on that PE."""
    remaining, now = float(size), start
    points = sorted({t for interval in others for t in interval if t > start})
    for point in points + [float("inf")]:
        running = 1 + sum(1 for a, b in others if a <= now < b)
        rate = capacity / running
        if now + remaining / rate <= point:
            return now + remaining / rate - start
        remaining -= rate * (point - now)
        now = point
    return None


def shared_ratios(run_path):
    """Ratios measured / modelled processing time for every job whose PE and whose
    PE-mates are all known: the job's PE shared its capacity equally with the other
    matched jobs overlapping it (no unmatched job may overlap, as it could have been on
    that PE too), and the PE's own job count at the completion agrees."""
    run_path = Path(run_path)
    info = json.loads((run_path / "run.json").read_text())
    assigned = assign_jobs(run_path, info, _rtt_table(run_path))
    matched = {(job["ObjectName"], job["JobID"]) for job, _, _, _, _ in assigned}
    unmatched = [job for job in ledger.jobs(run_path)
                 if (job["ObjectName"], job["JobID"]) not in matched]
    margin = max((delay for _, _, _, delay, _ in assigned), default=0.0) + MATCH_TOLERANCE_S
    by_pe = {}
    for job, pe, line, delay, _ in assigned:
        by_pe.setdefault(pe["name"], []).append(
            (job, pe, line, job["AcceptTimeStamp"] - delay, line["CurrentTimeStamp"]))
    ratios = []
    for entries in by_pe.values():
        for job, pe, line, start, end in entries:
            if job["JobID"] == 1 or job["JobSize"] / pe["capacity"] < MIN_EXPECTED_S:
                continue
            if any(other["AcceptTimeStamp"] < end + margin and
                   other["CompleteTimeStamp"] > start - margin for other in unmatched):
                continue
            others = [(a, b) for other, _, _, a, b in entries if other is not job
                      and a < end and b > start]
            # the PE's own count at this completion (it includes this job)
            if 1 + sum(1 for a, b in others if a <= end < b + MATCH_TOLERANCE_S) \
                    != int(line["CurrentJobs"]):
                continue
            expected = expected_processing_s(job["JobSize"], pe["capacity"], start, others)
            if expected:
                ratios.append(job["ProcessingTime"] / expected)
    return ratios


def run_ratios(run_path):
    """Ratios (measured / expected processing time) of one raw run's lone jobs."""
    run_path = Path(run_path)
    info = json.loads((run_path / "run.json").read_text())
    rtt_table = _rtt_table(run_path)
    ratios = []
    for job, pe in lone_jobs(assign_jobs(run_path, info, rtt_table)):
        if job["JobID"] == 1:
            continue
        expected = job["JobSize"] / pe["capacity"]
        if expected >= MIN_EXPECTED_S:
            ratios.append(job["ProcessingTime"] / expected)
    return ratios


def summarize(ratios):
    if not ratios:
        return {"jobs": 0}
    ordered = sorted(ratios)

    def quantile(q):
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "jobs": len(ordered),
        "median": round(statistics.median(ordered), 4),
        "mean": round(statistics.fmean(ordered), 4),
        "q10": round(quantile(0.1), 4),
        "q90": round(quantile(0.9), 4),
        "max": round(ordered[-1], 4),
        "mean_abs_error": round(statistics.fmean(abs(r - 1) for r in ordered), 4),
    }


def distortion(run_dir):
    """Per-run and overall ratios measured / modelled processing time (shared_ratios)."""
    run_dir = Path(run_dir)
    per_run = {}
    everything = []
    for run_json in sorted((run_dir / "raw").glob("pus-*/run-*/run.json")):
        ratios = shared_ratios(run_json.parent)
        key = "{}/{}".format(run_json.parent.parent.name, run_json.parent.name)
        per_run[key] = summarize(ratios)
        everything.extend(ratios)
    return {"overall": summarize(everything), "runs": per_run}


def starvation(run_dir, low_load_pus=4):
    """Signs that the emulated machine could not keep up (0 when it could):

    * ``keepalive_timeouts``: calcappclient's "Timeout -> Failover" (a PE did not answer
      a keep-alive within 5 s), per 100 completed jobs;
    * ``ue_at_low_load``: jobs accepted by the UE PE in runs of at most ``low_load_pus``
      PUs.  PLU picks the UE PE (+100 %) only when both MEC PEs look full (4 jobs each),
      which at most 4 PUs (one job each) cannot be: only loads the registrars got late
      explain it.  (A PMC PE, idle at 0 + 50 %, does beat a MEC PE with 2 jobs, 50 + 10 %,
      so PMC jobs at 4 PUs are PLU working as designed, and are not counted.)
    * ``first_startup_s``: median start-up delay of the PUs' first jobs (a cold start
      costs ~0.1-0.4 s; tens of seconds mean a starved guest).
    """
    run_dir = Path(run_dir)
    timeouts = completed = ue_jobs = 0
    first = []
    for run_json in sorted(run_dir.glob("raw/pus-*/run-*/run.json")):
        raw = run_json.parent
        info = json.loads(run_json.read_text())
        if info.get("status") != "ok":
            continue
        for pu in info["pus_list"]:
            log = raw / "logs" / (pu["name"] + ".log")
            if log.is_file():
                timeouts += log.read_text(errors="replace").count("Timeout -> Failover")
            rows = ledger.read_vector(raw / pu["vector"])
            completed += len(rows)
            first += [row["StartupDelay"] for row in rows if row["JobID"] == 1
                      and ledger.valid_times(row)]
        if info["pus"] <= low_load_pus:
            ue_jobs += ledger.accepted_by_group(raw).get("ue", 0)
    return {
        "keepalive_timeouts_per_100_jobs": round(100.0 * timeouts / completed, 2) if completed else None,
        "ue_at_low_load": ue_jobs,
        "first_startup_s": round(statistics.median(first), 3) if first else None,
    }
