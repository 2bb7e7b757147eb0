"""Raw scalar and vector files as plain dicts, for the engine's own checks.

The fault checks and the timing check (:mod:`.timing`) look at single columns
(PE completion stamps, accepts per PE group, the jobs' time stamps); this reads
them leniently: a PE killed by a fault wrote no scalars and is skipped, and a
job completed without a fresh accept (AcceptTimeStamp 0, see
tests/testbed/fixtures/quirk-completed-without-accept) is filtered out by
:func:`valid_times`.  Where every job went (generated, completed, queued, in
flight, lost) is :func:`mecpool.testbed.accounting.job_accounting`, the same for
the fault scenarios and the report.
"""

import json
import re
from pathlib import Path

_SCALAR = re.compile(r'^scalar\s+"([^"]*)"\s+"([^"]*)"\s+(\S+)\s*$')


class RawFileError(ValueError):
    """A file is missing or incomplete (e.g. a PU killed before writing its scalars)."""


def read_scalars(path):
    """{name: value} of a scalar file; raises when the values were never written."""
    path = Path(path)
    if not path.is_file():
        raise RawFileError("{}: missing".format(path))
    values = {}
    for line in path.read_text(errors="replace").splitlines():
        match = _SCALAR.match(line)
        if match:
            values[match.group(2)] = float(match.group(3))
    if not values:
        raise RawFileError("{}: no scalars (the tool did not end cleanly)".format(path))
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


def pe_scalars(run_path):
    """{PE name: scalars} for the PEs that wrote theirs (a SIGKILLed PE did not)."""
    run_path = Path(run_path)
    info = json.loads((run_path / "run.json").read_text())
    found = {}
    for pe in info["pes"]:
        try:
            found[pe["name"]] = dict(read_scalars(run_path / pe["scalar"]), group=pe["group"])
        except RawFileError:
            continue
    return found


# What rspserver prints for every job it accepts, and what RSPLIB prints when one of
# its own assertions ends a process (no scalar file then), e.g. 3.4.4's race between a
# PE's ASAP thread and its re-registration on a load change (docs/testbed-engine.md):
#   INTERNAL ERROR in ./src/timer.c, line 76: condition ... is not satisfied!
ACCEPTED_LINE = re.compile(r"^Job \d+/\d+ of size \S+ accepted$", re.M)
_INTERNAL_ERROR = re.compile(r"^INTERNAL ERROR in (\S+), line (\d+)", re.M)


def process_log(run_path, name):
    """The text of process ``name``'s log in a run directory ("" when it has none)."""
    path = Path(run_path) / "logs" / (name + ".log")
    return path.read_text(errors="replace") if path.is_file() else ""


def internal_error(run_path, name):
    """"FILE:LINE" of the RSPLIB assertion that ended process ``name``, or None."""
    match = _INTERNAL_ERROR.search(process_log(run_path, name))
    return "{}:{}".format(match.group(1), match.group(2)) if match else None


def aborted_pes(run_path):
    """{PE name: "FILE:LINE"} for the PEs that RSPLIB itself aborted during the run."""
    info = json.loads((Path(run_path) / "run.json").read_text())
    found = {pe["name"]: internal_error(run_path, pe["name"]) for pe in info["pes"]}
    return {name: where for name, where in found.items() if where}


def accepted_by_group(run_path):
    """Jobs accepted per PE group: the PEs' scalars, or for a PE that wrote none (killed
    or aborted) the accepts its log shows."""
    run_path = Path(run_path)
    info = json.loads((run_path / "run.json").read_text())
    scalars = pe_scalars(run_path)
    totals = {}
    for pe in info["pes"]:
        totals[pe["group"]] = totals.get(pe["group"], 0) + accepted(run_path, pe["name"], scalars)
    return totals


def accepted(run_path, name, scalars=None):
    """Jobs PE ``name`` accepted (its scalars, else the accepts in its log)."""
    scalars = pe_scalars(run_path) if scalars is None else scalars
    if name in scalars:
        return int(scalars[name]["CalcAppPE Total Jobs Accepted"])
    return len(ACCEPTED_LINE.findall(process_log(run_path, name)))


def jobs(run_path):
    """Every completed job with usable times, over all PUs of a run."""
    run_path = Path(run_path)
    info = json.loads((run_path / "run.json").read_text())
    rows = []
    for pu in info["pus_list"]:
        rows += [row for row in read_vector(run_path / pu["vector"]) if valid_times(row)]
    return rows
