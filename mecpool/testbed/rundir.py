"""A testbed run directory: run.json files checked, every raw RSPLIB file read.

Layout (the contract with the testbed engine, mecpool.testbed.engine)::

    build/testbed/<run-id>/scenario.yaml
    build/testbed/<run-id>/versions.json
    build/testbed/<run-id>/engine.json                      (optional: how the runs were executed)
    build/testbed/<run-id>/raw/pus-<N>/run-<k>/run.json    + the PUs' and PEs' .sca/.vec files

run.json: ``pus``, ``run``, ``runtime_s``, ``started``/``ended`` (ISO 8601 with zone, the
tools' clock), ``pes`` [{name, group: ue|mec|pmc, site, capacity, max_jobs,
load_increment, scalar, vector}], ``pus_list`` [{name, site, scalar, vector}] with file
paths relative to the run's folder, and optionally ``faults`` [{name, target, at_s,
duration_s, ...}] (seconds after ``started``), ``status`` ("ok" or why the run failed),
``warnings`` and ``actions``.  Every problem raises, naming the file and field.
"""

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from .calcapp_files import (IncompleteScalarFile, ResultFileError, read_pe_scalars, read_pe_vector,
                            read_pu_scalars, read_pu_vector)
from .ledger import internal_error

GROUPS = ("ue", "mec", "pmc")


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
    rsplib_aborts: dict = field(default_factory=dict)  # PE name -> "FILE:LINE" of RSPLIB's own abort


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
    # pes may be empty: `mecpool measure` runs PUs against a real deployment whose PEs
    # are remote (their load shows in the registrars, not in files here).
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
    aborts = {}
    for spec in info["pes"]:
        try:
            scalars = read_pe_scalars(spec.scalar)
        except (IncompleteScalarFile, ResultFileError) as error:
            missing = isinstance(error, IncompleteScalarFile) or not spec.scalar.exists()
            if not missing:
                raise
            if not _crashed(info["faults"], spec.name):
                # Not a fault we injected: the PE died on its own (RSPLIB 3.4.4 has been
                # seen to abort on an internal timer assertion under load).  Keep the run,
                # leave this PE's measured values empty and say so in the report.
                where = internal_error(run_dir, spec.name)
                if where:
                    aborts[spec.name] = where
                why = ("RSPLIB aborted it (INTERNAL ERROR in {})".format(where) if where
                       else "it did not end cleanly")
                info["warnings"] = list(info["warnings"]) + [
                    "{} wrote no scalars: {} (see logs/{}.log)".format(spec.name, why, spec.name)]
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
               actions=info["actions"], rsplib_aborts=aborts)


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
