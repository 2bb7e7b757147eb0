"""Where every job of a raw run went, read leniently from the files the tools wrote.

The engine's own check (faults, tests): it needs only counters and job ids,
so it reads the scalar counters and the vector's JobID column and tolerates
what calcappclient 3.4.4 really writes (e.g. a job completed without an
accept has AcceptTimeStamp 0 and absurd delays; see
tests/testbed/fixtures/quirk-completed-without-accept).  The report's
statistics are made by mecpool.testbed.results.

* generated = "Total Jobs Queued"; started = "Total Jobs Started";
* completed = distinct job ids in the vector (one line per completed job);
* still queued = generated - started; in flight = 1 when a started job is
  not completed (a PU works on one job at a time, in order);
* lost = generated - completed - still queued - in flight; it is not 0 when a
  PU skipped a job id or started more jobs than it completed plus one.
"""

import json
import re
from pathlib import Path

_SCALAR = re.compile(r'^scalar\s+"([^"]*)"\s+"([^"]*)"\s+(\S+)\s*$')


class AccountingError(ValueError):
    """A file is missing or incomplete (e.g. a PU killed before writing its scalars)."""


def read_scalars(path):
    """{name: value} of a scalar file; raises when the values were never written."""
    path = Path(path)
    if not path.is_file():
        raise AccountingError("{}: missing".format(path))
    values = {}
    for line in path.read_text(errors="replace").splitlines():
        match = _SCALAR.match(line)
        if match:
            values[match.group(2)] = float(match.group(3))
    if not values:
        raise AccountingError("{}: no scalars (the tool did not end cleanly)".format(path))
    return values


def read_vector(path):
    """Rows of a vector file as dicts keyed by its header (numbers as floats)."""
    path = Path(path)
    if not path.is_file():
        return []
    lines = [line.split() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    if not lines:
        return []
    header = lines[0]
    rows = []
    for fields in lines[1:]:
        values = dict(zip(header, fields[1:]))  # fields[0] is the line number
        for key, value in values.items():
            try:
                values[key] = float(value)
            except ValueError:
                pass
        rows.append(values)
    return rows


def valid_times(row):
    """A completed job whose time stamps are usable (not the no-accept quirk)."""
    return 0 < row["QueuingTimeStamp"] <= row["StartupTimeStamp"] <= row["AcceptTimeStamp"] \
        <= row["CompleteTimeStamp"]


def account_pu(scalar_path, vector_path, name):
    s = read_scalars(scalar_path)
    rows = read_vector(vector_path)
    ids = [int(row["JobID"]) for row in rows]
    distinct = set(ids)
    generated = int(s["CalcAppPU Total Jobs Queued"])
    started = int(s["CalcAppPU Total Jobs Started"])
    last = max(distinct) if distinct else 0
    problems = []
    if len(ids) != len(distinct):
        problems.append("{}: {} job(s) completed twice".format(name, len(ids) - len(distinct)))
    if distinct != set(range(1, last + 1)):
        problems.append("{}: job ids missing from the vector: {}".format(
            name, sorted(set(range(1, last + 1)) - distinct)[:10]))
    if len(distinct) != int(s["CalcAppPU Total Jobs Completed"]):
        problems.append("{}: vector has {} completed jobs, scalars say {}".format(
            name, len(distinct), int(s["CalcAppPU Total Jobs Completed"])))
    still_queued = generated - started
    in_flight = 1 if started > last else 0
    return {
        "generated": generated, "started": started, "completed": len(distinct),
        "still_queued": still_queued, "in_flight": in_flight,
        "lost": generated - len(distinct) - still_queued - in_flight,
        "rejects": int(s["CalcAppPU Total CalcAppRejects"]),
        "accepts": int(s["CalcAppPU Total CalcAppAccepts"]),
        "no_accept_quirks": sum(1 for row in rows if not valid_times(row)),
        "problems": problems,
    }


def account_run(run_path):
    """Totals over every PU of a raw run directory (raw/pus-N/run-k)."""
    run_path = Path(run_path)
    info = json.loads((run_path / "run.json").read_text())
    totals = {"generated": 0, "started": 0, "completed": 0, "still_queued": 0, "in_flight": 0,
              "lost": 0, "rejects": 0, "accepts": 0, "no_accept_quirks": 0}
    problems = []
    for pu in info["pus_list"]:
        try:
            part = account_pu(run_path / pu["scalar"], run_path / pu["vector"], pu["name"])
        except AccountingError as error:
            problems.append(str(error))
            continue
        problems.extend(part.pop("problems"))
        for key in totals:
            totals[key] += part[key]
    totals["problems"] = problems
    totals["consistent"] = not problems
    return totals


def pe_scalars(run_path):
    """{PE name: scalars} for the PEs that wrote theirs (a SIGKILLed PE did not)."""
    run_path = Path(run_path)
    info = json.loads((run_path / "run.json").read_text())
    found = {}
    for pe in info["pes"]:
        try:
            found[pe["name"]] = dict(read_scalars(run_path / pe["scalar"]), group=pe["group"])
        except AccountingError:
            continue
    return found


def accepted_by_group(run_path):
    totals = {}
    for scalars in pe_scalars(run_path).values():
        totals[scalars["group"]] = totals.get(scalars["group"], 0) + int(
            scalars["CalcAppPE Total Jobs Accepted"])
    return totals


def jobs(run_path):
    """Every completed job with usable times, over all PUs of a run."""
    run_path = Path(run_path)
    info = json.loads((run_path / "run.json").read_text())
    rows = []
    for pu in info["pus_list"]:
        rows += [row for row in read_vector(run_path / pu["vector"]) if valid_times(row)]
    return rows


def extra_handling(run_path, begin, end):
    """Mean handling time of jobs alive during [begin, end] (epoch s) minus the others'."""
    affected, others = [], []
    for row in jobs(run_path):
        handling = row["CompleteTimeStamp"] - row["QueuingTimeStamp"]
        alive = row["QueuingTimeStamp"] <= end and row["CompleteTimeStamp"] >= begin
        (affected if alive else others).append(handling)
    if not affected or not others:
        return None, len(affected)
    return sum(affected) / len(affected) - sum(others) / len(others), len(affected)
