"""Where every job of a run went, and what a fault cost the jobs that lived through it."""

from dataclasses import dataclass

JOB_COLUMNS = (
    "run", "pus", "generated", "started", "completed", "still_queued", "in_flight",
    "failed_over", "rejects", "lost", "pe_accepted", "pe_completed", "consistent",
)


@dataclass(frozen=True)
class JobAccounting:
    """Where every job a run generated ended up.

    * ``generated``: jobs the PUs created (Total Jobs Queued).
    * ``completed``: distinct jobs with a completion record in the PUs' vector files.
    * ``still_queued``: generated but never dequeued (Total Jobs Queued - Started).
    * ``in_flight``: dequeued and not complete at the end; a PU works on one job at a
      time and strictly in order, so at most one per PU, the one after its last
      completed job.
    * ``failed_over``: accepts beyond one per completed or in-flight job, i.e. how often
      a job already placed on a PE had to move (cookie resumption or restart).  A lower
      bound when an in-flight job was never accepted.
    * ``lost`` = generated - completed - still_queued - in_flight.  Non-zero when a PU
      skipped a job id, or dequeued more jobs than it completed plus the one in flight.
    * ``consistent``: the scalar totals agree with the vector files (completed jobs, and
      the PU accept counters with the PEs' when every PE wrote its scalars).
    """

    run: int
    pus: int
    generated: int
    started: int
    completed: int
    still_queued: int
    in_flight: int
    failed_over: int
    rejects: int
    lost: int
    pe_accepted: int | None
    pe_completed: int | None
    consistent: bool
    problems: tuple = ()

    def as_row(self):
        return {name: getattr(self, name) for name in JOB_COLUMNS}


def _pu_accounting(pu_run):
    s = pu_run.scalars
    ids = [job.job_id for job in pu_run.jobs]
    distinct = set(ids)
    last = max(distinct) if distinct else 0
    problems = []
    if len(ids) != len(distinct):
        problems.append("{}: {} job(s) completed twice".format(pu_run.spec.name, len(ids) - len(distinct)))
    if last > s.jobs_started:
        problems.append("{}: job {} completed but only {} were started".format(pu_run.spec.name, last, s.jobs_started))
    if len(distinct) != s.jobs_completed:
        problems.append("{}: vector has {} completed jobs, scalars say {}".format(
            pu_run.spec.name, len(distinct), s.jobs_completed))
    still_queued = s.jobs_queued - s.jobs_started
    in_flight = 1 if s.jobs_started > last else 0
    lost = s.jobs_queued - len(distinct) - still_queued - in_flight
    if lost < 0:
        problems.append("{}: more jobs completed or pending ({}) than generated ({})".format(
            pu_run.spec.name, s.jobs_queued - lost, s.jobs_queued))
    failed_over = max(0, s.accepts - len(distinct) - in_flight)
    return {"generated": s.jobs_queued, "started": s.jobs_started, "completed": len(distinct),
            "still_queued": still_queued, "in_flight": in_flight, "failed_over": failed_over,
            "rejects": s.rejects, "lost": lost, "problems": problems}


def job_accounting(run):
    """Account for every job of one :class:`Run` (callable by the fault scenarios)."""
    totals = {"generated": 0, "started": 0, "completed": 0, "still_queued": 0, "in_flight": 0,
              "failed_over": 0, "rejects": 0, "lost": 0}
    problems = []
    accepts = 0
    for pu_run in run.pu_runs:
        part = _pu_accounting(pu_run)
        problems.extend(part.pop("problems"))
        for key, value in part.items():
            totals[key] += value
        accepts += pu_run.scalars.accepts
    all_scalars = all(pe.scalars is not None for pe in run.pes)
    pe_accepted = sum(pe.scalars.jobs_accepted for pe in run.pes) if all_scalars else None
    all_vectors = all(pe.completions is not None for pe in run.pes)
    pe_completed = sum(len(pe.completions) for pe in run.pes) if all_vectors else None
    if pe_accepted is not None and pe_accepted < accepts:
        problems.append("PEs accepted {} jobs, PUs received {} accepts".format(pe_accepted, accepts))
    if pe_completed is not None and pe_completed < totals["completed"]:
        problems.append("PEs completed {} jobs, PUs {}".format(pe_completed, totals["completed"]))
    return JobAccounting(run=run.run, pus=run.pus, pe_accepted=pe_accepted, pe_completed=pe_completed,
                         consistent=not problems, problems=tuple(problems), **totals)


def total_accounting(runs):
    """One :class:`JobAccounting` summed over ``runs`` (run = 0, pus = the largest count)."""
    items = [job_accounting(run) for run in runs]
    if not items:
        raise ValueError("no runs to account for")
    summed = {name: sum(getattr(item, name) for item in items)
              for name in ("generated", "started", "completed", "still_queued", "in_flight", "failed_over",
                           "rejects", "lost")}
    pe_accepted = None if any(item.pe_accepted is None for item in items) else sum(
        item.pe_accepted for item in items)
    pe_completed = None if any(item.pe_completed is None for item in items) else sum(
        item.pe_completed for item in items)
    problems = tuple(text for item in items for text in item.problems)
    return JobAccounting(run=0, pus=max(item.pus for item in items), pe_accepted=pe_accepted,
                         pe_completed=pe_completed, consistent=not problems, problems=problems, **summed)


def accounting_lines(accounting):
    """The lines a fault scenario prints; ``lost: N`` comes last, as the scenarios promise."""
    lines = ["jobs generated: {}".format(accounting.generated),
             "completed: {}".format(accounting.completed),
             "failed over: {}".format(accounting.failed_over),
             "still queued: {}".format(accounting.still_queued),
             "in flight: {}".format(accounting.in_flight),
             "rejects: {}".format(accounting.rejects)]
    lines += ["inconsistent: {}".format(text) for text in accounting.problems]
    lines.append("lost: {}".format(accounting.lost))
    return lines



# ---------------------------------------------------------------- fault cost

@dataclass(frozen=True)
class FaultCost:
    """What a fault cost the jobs of its run.

    A job is *affected* when its life (generated .. completed) overlaps the fault's
    window [at_s, at_s + duration_s] (a point for a crash).  ``extra_s`` is the mean
    handling time of the affected jobs minus that of the others in the same run;
    ``extra_total_s`` = extra_s x affected.  ``target_first_job_s``: for a PE target
    (scale-out), seconds from the fault until the PE reported its first completed job.
    """

    affected: int
    unaffected: int
    mean_affected_s: float | None
    mean_unaffected_s: float | None
    extra_s: float | None
    extra_total_s: float | None
    target_first_job_s: float | None
    clock_ok: bool
    worst_affected_s: float | None = None  # the longest handling time among the affected jobs


CLOCK_SLACK_S = 60.0


def fault_cost(run, fault):
    """Compare the handling time of jobs that lived through ``fault`` with the rest."""
    start = run.started.timestamp()
    jobs = [job for pu_run in run.pu_runs for job in pu_run.jobs]
    clock_ok = all(start - CLOCK_SLACK_S <= job.queued_at and job.completed_at <= run.ended.timestamp()
                   + CLOCK_SLACK_S for job in jobs)
    if fault.at_s is None:
        return FaultCost(0, len(jobs), None, None, None, None, None, clock_ok)
    begin = start + fault.at_s
    end = begin + (fault.duration_s or 0.0)
    affected, others = [], []
    for job in jobs:
        # Handling time from the time stamps: right even for a job completed without a
        # fresh accept, whose vector row has underflowed start-up and processing times.
        alive = job.queued_at <= end and job.completed_at >= begin
        (affected if alive else others).append(job.completed_at - job.queued_at)
    mean_affected = sum(affected) / len(affected) if affected else None
    mean_others = sum(others) / len(others) if others else None
    extra = mean_affected - mean_others if affected and others else None
    first = None
    for pe_run in run.pes:
        if pe_run.spec.name == fault.target and pe_run.completions:
            after = [item.timestamp for item in pe_run.completions if item.timestamp >= begin]
            first = min(after) - begin if after else None
    return FaultCost(len(affected), len(others), mean_affected, mean_others, extra,
                     extra * len(affected) if extra is not None else None, first, clock_ok,
                     max(affected) if affected else None)
