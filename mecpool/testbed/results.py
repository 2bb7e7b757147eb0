"""From a testbed run directory's raw RSPLIB files to per-PU and per-PE results.

Layout (the contract with the testbed engine)::

    build/testbed/<run-id>/scenario.yaml
    build/testbed/<run-id>/versions.json
    build/testbed/<run-id>/raw/pus-<N>/run-<k>/run.json   + the PUs' and PEs' .sca/.vec files

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
* ``used_capacity`` of a PE is in calculations/s: the calculations it did divided by
  its active window, ``min(PE uptime, run's runtime_s)``.  The uptime counts from the
  PE's start (before the PUs) to its stop; capping it at the PUs' runtime keeps the
  set-up and tear-down of short runs from diluting the figure, while a PE started
  mid-run (scale-out) is measured over the time it was up.  ``utilization`` is the
  value the PE itself wrote (used / (uptime x capacity)).

Nothing is written before every file of every run has been read and checked.
"""

import csv
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from .calcapp_files import (IncompleteScalarFile, ResultFileError, read_pe_scalars, read_pe_vector,
                            read_pu_scalars, read_pu_vector)

GROUPS = ("ue", "mec", "pmc")

PU_COLUMNS = (
    "run", "pus", "pu", "site",
    "queuing_s", "startup_s", "processing_s", "handling_s", "handling_speed",
    "jobs_queued", "jobs_started", "jobs_completed",
    "total_queuing_s", "total_startup_s", "total_processing_s", "total_handling_s",
    "job_size_completed", "requests", "accepts", "rejects", "vector_jobs",
)
PE_COLUMNS = (
    "run", "pus", "pe", "group", "site", "capacity", "max_jobs", "load_increment",
    "used_capacity", "utilization", "used_calculations", "uptime_s",
    "jobs_accepted", "jobs_rejected", "jobs_completed", "scalars",
)
RUN_COLUMNS = (
    "run", "pus", "runtime_s", "started", "ended", "offered_calc_s", "network_capacity", "offered_load", "faults",
)
JOB_COLUMNS = (
    "run", "pus", "generated", "started", "completed", "still_queued", "in_flight",
    "failed_over", "rejects", "lost", "pe_accepted", "pe_completed", "consistent",
)


class RunDirError(ValueError):
    """A run directory or its run.json is not what the testbed engine promises."""


# ---------------------------------------------------------------- run.json

@dataclass(frozen=True)
class PESpec:
    name: str
    group: str
    site: str
    capacity: float
    max_jobs: int
    load_increment: float
    scalar: Path
    vector: Path | None


@dataclass(frozen=True)
class PUSpec:
    name: str
    site: str
    scalar: Path
    vector: Path


@dataclass(frozen=True)
class Fault:
    """A fault injected during a run; ``at_s``/``duration_s`` count from the run's start."""

    name: str
    target: str | None
    at_s: float | None
    duration_s: float | None
    details: dict


@dataclass
class PURun:
    spec: PUSpec
    scalars: object  # PUScalars
    jobs: list  # JobRecord


@dataclass
class PERun:
    spec: PESpec
    scalars: object | None  # PEScalars; None when the PE was killed (no scalars written)
    completions: list | None  # PECompletion; None without a vector file


@dataclass
class Run:
    """One measurement: N PUs, repetition k."""

    path: Path
    pus: int
    run: int
    runtime_s: float
    started: datetime
    ended: datetime
    pes: list
    pu_runs: list
    faults: list = field(default_factory=list)
    status: str | None = None  # the engine's verdict on the run ("ok" or what went wrong)
    warnings: list = field(default_factory=list)
    actions: list = field(default_factory=list)  # timed steps: {"action", "target", "at_s", "done_s", ...}


def _field(source, data, key, kinds, what):
    if key not in data:
        raise RunDirError("{}: {} is missing".format(source, what))
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise RunDirError("{}: {} must be {}, not {!r}".format(
            source, what, " or ".join(kind.__name__ for kind in kinds), value))
    return value


def _number(source, data, key, what, low=0.0, optional=False):
    if optional and data.get(key) is None:
        return None
    value = float(_field(source, data, key, (int, float), what))
    if math.isnan(value) or math.isinf(value) or value < low:
        raise RunDirError("{}: {} must be a finite number >= {}, not {!r}".format(source, what, low, data[key]))
    return value


def _name(source, data, key, what):
    value = _field(source, data, key, (str,), what)
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._\[\]-]{0,127}$", value):
        raise RunDirError("{}: {} {!r} is not a name (letters, digits, . _ - [ ])".format(source, what, value))
    return value


def _file(source, base, data, key, what, optional=False):
    if optional and data.get(key) is None:
        return None
    value = _field(source, data, key, (str,), what)
    path = Path(value)
    if not value or path.is_absolute() or ".." in path.parts:
        raise RunDirError("{}: {} {!r} must be a path relative to the run directory".format(source, what, value))
    return base / path


def _time(source, data, key):
    text = _field(source, data, key, (str,), key)
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RunDirError("{}: {} {!r} is not an ISO 8601 time".format(source, key, text))
    if stamp.tzinfo is None:
        raise RunDirError("{}: {} {!r} has no time zone".format(source, key, text))
    return stamp


def read_run_json(path):
    """Parse and check one ``run.json``; returns a dict of checked values (no raw file read yet)."""
    path = Path(path)
    source = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunDirError("{}: file does not exist".format(source))
    except (ValueError, UnicodeDecodeError) as error:
        raise RunDirError("{}: not valid JSON ({})".format(source, error))
    if not isinstance(data, dict):
        raise RunDirError("{}: must hold a JSON object".format(source))
    base = path.parent
    result = {
        "pus": _field(source, data, "pus", (int,), "pus"),
        "run": _field(source, data, "run", (int,), "run"),
        "runtime_s": _number(source, data, "runtime_s", "runtime_s", low=1e-9),
        "started": _time(source, data, "started"),
        "ended": _time(source, data, "ended"),
    }
    if result["pus"] < 1 or result["run"] < 1:
        raise RunDirError("{}: pus and run must be >= 1 (pus={}, run={})".format(source, result["pus"], result["run"]))
    if result["ended"] < result["started"]:
        raise RunDirError("{}: ended ({}) is before started ({})".format(source, data["ended"], data["started"]))

    pes = []
    for index, item in enumerate(_field(source, data, "pes", (list,), "pes")):
        what = "pes[{}]".format(index)
        if not isinstance(item, dict):
            raise RunDirError("{}: {} must be an object".format(source, what))
        group = _field(source, item, "group", (str,), what + ".group")
        if group not in GROUPS:
            raise RunDirError("{}: {}.group {!r} is not one of {}".format(source, what, group, ", ".join(GROUPS)))
        max_jobs = _field(source, item, "max_jobs", (int,), what + ".max_jobs")
        if max_jobs < 1:
            raise RunDirError("{}: {}.max_jobs must be >= 1, not {}".format(source, what, max_jobs))
        pes.append(PESpec(
            name=_name(source, item, "name", what + ".name"),
            group=group,
            site=_name(source, item, "site", what + ".site"),
            capacity=_number(source, item, "capacity", what + ".capacity", low=1e-9),
            max_jobs=max_jobs,
            load_increment=_number(source, item, "load_increment", what + ".load_increment"),
            scalar=_file(source, base, item, "scalar", what + ".scalar"),
            vector=_file(source, base, item, "vector", what + ".vector", optional=True),
        ))
    pus = []
    for index, item in enumerate(_field(source, data, "pus_list", (list,), "pus_list")):
        what = "pus_list[{}]".format(index)
        if not isinstance(item, dict):
            raise RunDirError("{}: {} must be an object".format(source, what))
        pus.append(PUSpec(
            name=_name(source, item, "name", what + ".name"),
            site=_name(source, item, "site", what + ".site"),
            scalar=_file(source, base, item, "scalar", what + ".scalar"),
            vector=_file(source, base, item, "vector", what + ".vector"),
        ))
    if not pes:
        raise RunDirError("{}: pes is empty".format(source))
    if len(pus) != result["pus"]:
        raise RunDirError("{}: pus_list has {} entries but pus is {}".format(source, len(pus), result["pus"]))
    for kind, items in (("pes", pes), ("pus_list", pus)):
        names = [item.name for item in items]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise RunDirError("{}: {} names repeat: {}".format(source, kind, ", ".join(twice)))

    faults = []
    for index, item in enumerate(data.get("faults") or []):
        what = "faults[{}]".format(index)
        if not isinstance(item, dict):
            raise RunDirError("{}: {} must be an object".format(source, what))
        target = item.get("target")
        if target is not None:
            target = _name(source, item, "target", what + ".target")
        faults.append(Fault(
            name=_name(source, item, "name", what + ".name"),
            target=target,
            at_s=_number(source, item, "at_s", what + ".at_s", optional=True),
            duration_s=_number(source, item, "duration_s", what + ".duration_s", optional=True),
            details={key: value for key, value in item.items()
                     if key not in ("name", "target", "at_s", "duration_s")},
        ))
    status = data.get("status")
    if status is not None and not isinstance(status, str):
        raise RunDirError("{}: status must be a string, not {!r}".format(source, status))
    warnings = data.get("warnings") or []
    if not isinstance(warnings, list) or not all(isinstance(item, str) for item in warnings):
        raise RunDirError("{}: warnings must be a list of strings".format(source))
    actions = data.get("actions") or []
    if not isinstance(actions, list) or not all(isinstance(item, dict) for item in actions):
        raise RunDirError("{}: actions must be a list of objects".format(source))
    result.update(pes=pes, pus_list=pus, faults=faults, status=status, warnings=warnings, actions=actions)
    return result


def _crashed(faults, pe_name):
    """A PE named as the target of a crash fault may lack scalars (SIGKILL writes nothing)."""
    return any(fault.target == pe_name and "crash" in fault.name for fault in faults)


def load_run(run_json):
    """Read one run: run.json plus every PU's and PE's scalar and vector file."""
    info = read_run_json(run_json)
    run_dir = Path(run_json).parent
    match = re.match(r"^run-(\d+)$", run_dir.name)
    pus_match = re.match(r"^pus-(\d+)$", run_dir.parent.name)
    if not match or not pus_match:
        raise RunDirError("{}: must lie in raw/pus-<N>/run-<k>/".format(run_json))
    if int(pus_match.group(1)) != info["pus"] or int(match.group(1)) != info["run"]:
        raise RunDirError("{}: says pus={} run={} but lies in {}/{}".format(
            run_json, info["pus"], info["run"], run_dir.parent.name, run_dir.name))

    pu_runs = []
    for spec in info["pus_list"]:
        scalars = read_pu_scalars(spec.scalar)
        if scalars.object != spec.name:
            raise ResultFileError(spec.scalar, None, "belongs to object {!r}, run.json names the PU {!r}"
                                  .format(scalars.object, spec.name))
        jobs = read_pu_vector(spec.vector)
        for job in jobs:
            if job.object != spec.name:
                raise ResultFileError(spec.vector, None, "holds a job of object {!r}, run.json names the PU {!r}"
                                      .format(job.object, spec.name))
        pu_runs.append(PURun(spec, scalars, jobs))

    pe_runs = []
    for spec in info["pes"]:
        try:
            scalars = read_pe_scalars(spec.scalar)
        except (IncompleteScalarFile, ResultFileError) as error:
            missing = isinstance(error, IncompleteScalarFile) or not spec.scalar.exists()
            if not (missing and _crashed(info["faults"], spec.name)):
                raise
            scalars = None
        if scalars is not None and scalars.object != spec.name:
            raise ResultFileError(spec.scalar, None, "belongs to object {!r}, run.json names the PE {!r}"
                                  .format(scalars.object, spec.name))
        completions = None
        if spec.vector is not None and (spec.vector.exists() or scalars is not None):
            completions = read_pe_vector(spec.vector)
        pe_runs.append(PERun(spec, scalars, completions))

    return Run(path=run_dir, pus=info["pus"], run=info["run"], runtime_s=info["runtime_s"],
               started=info["started"], ended=info["ended"], pes=pe_runs, pu_runs=pu_runs,
               faults=info["faults"], status=info["status"], warnings=info["warnings"],
               actions=info["actions"])


@dataclass
class ResultSet:
    """Every run of one testbed run directory, plus what made them."""

    path: Path
    scenario_text: str
    scenario: object
    versions: dict
    runs: list
    excluded: list = field(default_factory=list)  # (run.json path, status) of runs the engine marked failed
    engine: dict | None = None  # engine.json: how the runs were executed (mode, concurrency, boot time)

    @property
    def pu_counts(self):
        return sorted({run.pus for run in self.runs})

    def runs_for(self, pus):
        return sorted((run for run in self.runs if run.pus == pus), key=lambda run: run.run)


def load_results(run_dir):
    """Read a whole ``build/testbed/<run-id>/``; raises on the first problem, naming it."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirError("{}: not a directory".format(run_dir))
    run_dir = run_dir.resolve()  # build/testbed/latest -> the run it points at
    scenario_path = run_dir / "scenario.yaml"
    versions_path = run_dir / "versions.json"
    if not scenario_path.is_file():
        raise RunDirError("{}: file does not exist".format(scenario_path))
    scenario_text = scenario_path.read_text(encoding="utf-8")
    try:
        scenario = yaml.safe_load(scenario_text)
    except yaml.YAMLError as error:
        raise RunDirError("{}: not valid YAML ({})".format(scenario_path, error))
    if not versions_path.is_file():
        raise RunDirError("{}: file does not exist".format(versions_path))
    try:
        versions = json.loads(versions_path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise RunDirError("{}: not valid JSON ({})".format(versions_path, error))
    if not isinstance(versions, dict):
        raise RunDirError("{}: must hold a JSON object".format(versions_path))
    run_files = sorted((run_dir / "raw").glob("pus-*/run-*/run.json"),
                       key=lambda path: (_index(path.parent.parent.name), _index(path.parent.name)))
    if not run_files:
        raise RunDirError("{}: no raw/pus-<N>/run-<k>/run.json found".format(run_dir))
    runs, excluded = [], []
    for path in run_files:
        status = _engine_status(path)
        if status not in (None, "ok"):
            excluded.append((path, status))
        else:
            runs.append(load_run(path))
    if not runs:
        raise RunDirError("{}: every run failed: {}".format(run_dir, "; ".join(
            "{}: {}".format(path.relative_to(run_dir), status) for path, status in excluded)))
    return ResultSet(run_dir, scenario_text, scenario, versions, runs, excluded, _engine_json(run_dir))


def _engine_json(run_dir):
    path = run_dir / "engine.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise RunDirError("{}: not valid JSON ({})".format(path, error))
    if not isinstance(data, dict):
        raise RunDirError("{}: must hold a JSON object".format(path))
    return data


def _engine_status(run_json):
    """The engine's "status" of a run ("ok", "error: ...", "missing"), None when not given.

    A run the engine itself marked as failed is left out of the results (and listed
    in the report) instead of stopping the report of every other run; a run marked
    "ok" whose files are broken is still an error.
    """
    try:
        data = json.loads(Path(run_json).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None  # read_run_json reports the problem with its details
    status = data.get("status") if isinstance(data, dict) else None
    return status if isinstance(status, str) else None


def _index(name):
    match = re.search(r"(\d+)$", name)
    return int(match.group(1)) if match else -1


# ---------------------------------------------------------------- rows

def _per_job(total, jobs):
    return total / jobs if jobs else None


def pu_rows(run):
    """Rows of pu.csv for one run (see the module docstring for the definitions)."""
    rows = []
    for pu_run in run.pu_runs:
        s = pu_run.scalars
        done = s.jobs_completed
        rows.append({
            "run": run.run, "pus": run.pus, "pu": pu_run.spec.name, "site": pu_run.spec.site,
            "queuing_s": _per_job(s.total_queuing_s, done),
            "startup_s": _per_job(s.total_startup_s, done),
            "processing_s": _per_job(s.total_processing_s, done),
            "handling_s": _per_job(s.total_handling_s, done),
            "handling_speed": s.handling_speed if done else None,
            "jobs_queued": s.jobs_queued, "jobs_started": s.jobs_started, "jobs_completed": done,
            "total_queuing_s": s.total_queuing_s, "total_startup_s": s.total_startup_s,
            "total_processing_s": s.total_processing_s, "total_handling_s": s.total_handling_s,
            "job_size_completed": s.job_size_completed,
            "requests": s.requests, "accepts": s.accepts, "rejects": s.rejects,
            "vector_jobs": len(pu_run.jobs),
        })
    return rows


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
            window = min(s.uptime_s, run.runtime_s)
            row.update(used_capacity=s.used_calculations / window if window > 0 else 0.0,
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


# ---------------------------------------------------------------- job accounting

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
    affected = [job.handling_s for job in jobs if job.queued_at <= end and job.completed_at >= begin]
    others = [job.handling_s for job in jobs if not (job.queued_at <= end and job.completed_at >= begin)]
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
