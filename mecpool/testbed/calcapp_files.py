"""Parsers for the result files RSPLIB's CalcApp tools write.

Formats (RSPLIB 3.4.4 .. 3.5.x, ``src/calcappclient.cc`` and ``src/calcappservice.cc``):

* Scalar file (calcappclient ``-scalar``, rspserver ``-capscalar``): OMNeT++ style.
  A first line ``run 1 "scenario"``, then one line per value::

      scalar "<object>" "CalcAppPU Total Queuing Time"         12.345678

  The values are written only when the tool ends cleanly (a PU at the end of
  ``-runtime`` or on SIGINT, a PE on SIGINT/SIGTERM); a file holding only the
  ``run`` line means the tool never got there.
* PU vector file (calcappclient ``-vector``): one line per *completed* job after a
  header of 15 names; each row starts with an extra, zero-padded line number::

      ObjectName PID JobID JobSize JobInterval   QueueLength QueuingDelay ...
      000001 pu-1 4242 1 1043120 10.000000   0 0.000004 0.741... 1.04... ...

  A PU that completed no job leaves the file empty (the header comes with the
  first completed job).
* PE vector file (rspserver ``-capvector``): one line per job completed at the PE,
  header of 10 names, rows again led by a line number.

Every parser raises :class:`ResultFileError` naming the file and line on anything
it does not recognise, so a broken run never turns silently into numbers.
"""

import math
import re
from dataclasses import dataclass
from pathlib import Path


class ResultFileError(ValueError):
    """A result file is missing, incomplete or malformed."""

    def __init__(self, path, line, problem):
        where = "{}:{}".format(path, line) if line else str(path)
        ValueError.__init__(self, "{}: {}".format(where, problem))
        self.path = Path(path)
        self.line = line
        self.problem = problem


class IncompleteScalarFile(ResultFileError):
    """The scalar file exists but the tool never wrote its values."""


# ---------------------------------------------------------------- scalar files

_TOKEN = r'("(?:[^"\\]|\\.)*"|[^\s"]+)'
_SCALAR_RE = re.compile(r"^scalar\s+" + _TOKEN + r"\s+" + _TOKEN + r"\s+(\S+)\s*$")
_RUN_RE = re.compile(r"^run\s+\S+(\s+" + _TOKEN + r")?\s*$")

PU_SCALARS = {
    # scalar name (after the "CalcAppPU " prefix): (field, type)
    "Total Queuing Time": ("total_queuing_s", float),
    "Total Startup Time": ("total_startup_s", float),
    "Total Processing Time": ("total_processing_s", float),
    "Total Handling Time": ("total_handling_s", float),
    "Average Processing Speed": ("processing_speed", float),
    "Average Handling Speed": ("handling_speed", float),
    "Total Jobs Queued": ("jobs_queued", int),
    "Total Jobs Started": ("jobs_started", int),
    "Total Jobs Completed": ("jobs_completed", int),
    "Total Job Size Queued": ("job_size_queued", float),
    "Total Job Size Started": ("job_size_started", float),
    "Total Job Size Completed": ("job_size_completed", float),
    "Total CalcAppRequests": ("requests", int),
    "Total CalcAppAccepts": ("accepts", int),
    "Total CalcAppRejects": ("rejects", int),
    "Total CalcAppCompletes": ("completes", int),
    "Total CalcAppKeepAlives": ("keep_alives", int),
    "Total CalcAppKeepAliveAcks": ("keep_alive_acks", int),
}

PE_SCALARS = {
    "Service Uptime": ("uptime_s", float),
    "Service Capacity": ("capacity", float),
    "Service Max Jobs": ("max_jobs", int),
    "Total Used Capacity": ("used_calculations", float),
    "Total Wasted Capacity": ("wasted_capacity", float),
    "Total Jobs Accepted": ("jobs_accepted", int),
    "Total Jobs Rejected": ("jobs_rejected", int),
    "Utilization": ("utilization", float),
}


@dataclass(frozen=True)
class Scalar:
    object: str
    name: str
    value: str  # the text as written; converted by the typed readers
    line: int


def _unquote(token):
    if token.startswith('"'):
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


def _read_text(path):
    path = Path(path)
    if not path.is_file():
        raise ResultFileError(path, None, "file does not exist")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ResultFileError(path, None, "not UTF-8 text ({})".format(error.reason))


def read_scalar_file(path):
    """Return the :class:`Scalar` lines of an OMNeT++-style scalar file, in order."""
    scalars = []
    seen = {}
    for number, raw in enumerate(_read_text(path).splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if _RUN_RE.match(line):
            continue
        match = _SCALAR_RE.match(line)
        if not match:
            raise ResultFileError(path, number, "not a 'scalar \"object\" \"name\" value' line: {!r}"
                                  .format(_shorten(raw)))
        item = Scalar(_unquote(match.group(1)), _unquote(match.group(2)), match.group(3), number)
        key = (item.object, item.name)
        if key in seen:
            raise ResultFileError(path, number, "scalar {!r} of {!r} repeats line {}"
                                  .format(item.name, item.object, seen[key]))
        seen[key] = number
        scalars.append(item)
    return scalars


def _convert(path, line, name, text, kind):
    if kind is int:
        if not re.match(r"^[0-9]+$", text):
            raise ResultFileError(path, line, "{}: {!r} is not a non-negative integer".format(name, text))
        return int(text)
    try:
        value = float(text)
    except ValueError:
        raise ResultFileError(path, line, "{}: {!r} is not a number".format(name, text))
    if math.isinf(value):
        raise ResultFileError(path, line, "{}: {!r} is not finite".format(name, text))
    return value  # NaN stays: the PE writes it for a zero uptime


def _typed_scalars(path, prefix, table, kind_name):
    scalars = read_scalar_file(path)
    if not scalars:
        raise IncompleteScalarFile(path, None, "no scalars: the {} did not end cleanly (values are "
                                   "written only at the end of -runtime or on SIGINT)".format(kind_name))
    objects = sorted({item.object for item in scalars})
    if len(objects) != 1:
        raise ResultFileError(path, None, "holds the scalars of {} objects ({}), expected one {}"
                              .format(len(objects), ", ".join(objects), kind_name))
    values = {}
    for item in scalars:
        if not item.name.startswith(prefix + " "):
            raise ResultFileError(path, item.line, "{!r} is not a {} scalar (expected the prefix {!r})"
                                  .format(item.name, kind_name, prefix))
        short = item.name[len(prefix) + 1:]
        if short not in table:
            continue  # newer RSPLIB releases may add scalars; they are not needed here
        field, kind = table[short]
        values[field] = _convert(path, item.line, item.name, item.value, kind)
    missing = [prefix + " " + short for short, (field, _) in table.items() if field not in values]
    if missing:
        raise ResultFileError(path, None, "missing scalars: {}".format(", ".join(missing)))
    return objects[0], values


@dataclass(frozen=True)
class PUScalars:
    """The end-of-run totals of one calcappclient (sums over its completed jobs)."""

    object: str
    total_queuing_s: float
    total_startup_s: float
    total_processing_s: float
    total_handling_s: float
    processing_speed: float
    handling_speed: float
    jobs_queued: int
    jobs_started: int
    jobs_completed: int
    job_size_queued: float
    job_size_started: float
    job_size_completed: float
    requests: int
    accepts: int
    rejects: int
    completes: int
    keep_alives: int
    keep_alive_acks: int


@dataclass(frozen=True)
class PEScalars:
    """The end-of-service totals of one rspserver -calcapp."""

    object: str
    uptime_s: float
    capacity: float
    max_jobs: int
    used_calculations: float
    wasted_capacity: float
    jobs_accepted: int
    jobs_rejected: int
    utilization: float


def read_pu_scalars(path):
    """Parse a calcappclient scalar file into :class:`PUScalars`."""
    name, values = _typed_scalars(path, "CalcAppPU", PU_SCALARS, "pool user (calcappclient)")
    if values["jobs_started"] > values["jobs_queued"]:
        raise ResultFileError(path, None, "Total Jobs Started ({}) exceeds Total Jobs Queued ({})"
                              .format(values["jobs_started"], values["jobs_queued"]))
    if values["jobs_completed"] > values["jobs_started"]:
        raise ResultFileError(path, None, "Total Jobs Completed ({}) exceeds Total Jobs Started ({})"
                              .format(values["jobs_completed"], values["jobs_started"]))
    return PUScalars(object=name, **values)


def read_pe_scalars(path):
    """Parse an rspserver CalcApp scalar file into :class:`PEScalars`."""
    name, values = _typed_scalars(path, "CalcAppPE", PE_SCALARS, "pool element (rspserver)")
    return PEScalars(object=name, **values)


# ---------------------------------------------------------------- vector files

PU_VECTOR_HEADER = (
    "ObjectName", "PID", "JobID", "JobSize", "JobInterval", "QueueLength",
    "QueuingDelay", "StartupDelay", "ProcessingTime", "HandlingTime", "HandlingSpeed",
    "QueuingTimeStamp", "StartupTimeStamp", "AcceptTimeStamp", "CompleteTimeStamp",
)
PE_VECTOR_HEADER = (
    "ObjectName", "PID", "PoolElementIdentifier", "CurrentTimeStamp", "Runtime",
    "AvailableCalculations", "UsedCalculations", "Utilization", "CurrentJobs", "MaxJobs",
)


@dataclass(frozen=True)
class JobRecord:
    """One completed job as the PU recorded it (times in seconds, stamps in epoch seconds)."""

    object: str
    pid: int
    job_id: int
    job_size: float
    job_interval_s: float
    queue_length: int
    queuing_s: float
    startup_s: float
    processing_s: float
    handling_s: float
    handling_speed: float
    queued_at: float
    started_at: float
    accepted_at: float
    completed_at: float
    # calcappclient 3.4.4 can complete a job after rejects and a failover without a
    # fresh accept: its row then carries a stale AcceptTimeStamp, and its start-up and
    # processing times (also in the "Total" scalars) are garbage (unsigned underflow).
    stale_accept: bool = False


@dataclass(frozen=True)
class PECompletion:
    """One job completion as the PE recorded it."""

    object: str
    pid: int
    identifier: int
    timestamp: float
    runtime_s: float
    available_calculations: float
    used_calculations: float
    utilization: float
    current_jobs: int
    max_jobs: int


def _read_vector(path, header, kinds):
    """Yield (line number, converted row) of a vector file; checks header and line numbers."""
    lines = _read_text(path).splitlines()
    rows = []
    expected_line = 1
    header_seen = False
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        tokens = raw.split()
        if not header_seen:
            if tuple(tokens) != header:
                raise ResultFileError(path, number, "expected the header {!r}, found {!r}"
                                      .format(" ".join(header), _shorten(raw)))
            header_seen = True
            continue
        if len(tokens) != len(header) + 1:
            raise ResultFileError(path, number, "{} fields, expected {} (line number and {}): {!r}"
                                  .format(len(tokens), len(header) + 1, len(header), _shorten(raw)))
        if not re.match(r"^[0-9]+$", tokens[0]) or int(tokens[0]) != expected_line:
            raise ResultFileError(path, number, "row number {!r}, expected {}".format(tokens[0], expected_line))
        expected_line += 1
        values = [tokens[1]]
        for name, kind, text in zip(header[1:], kinds, tokens[2:]):
            if kind == "hex":
                if not re.match(r"^0x[0-9a-fA-F]+$", text):
                    raise ResultFileError(path, number, "{}: {!r} is not a hex identifier".format(name, text))
                values.append(int(text, 16))
            else:
                values.append(_convert(path, number, name, text, kind))
        rows.append((number, values))
    return rows


def _shorten(text, limit=120):
    return text if len(text) <= limit else text[:limit] + "..."


def read_pu_vector(path):
    """Parse a calcappclient vector file into a list of :class:`JobRecord` (may be empty)."""
    kinds = (int, int, float, float, int, float, float, float, float, float, float, float, float, float)
    records = []
    for number, values in _read_vector(path, PU_VECTOR_HEADER, kinds):
        record = JobRecord(*values)
        for field in ("queuing_s", "startup_s", "processing_s", "handling_s"):
            if getattr(record, field) < 0 or math.isnan(getattr(record, field)):
                raise ResultFileError(path, number, "{} is {} (must be >= 0)".format(field, getattr(record, field)))
        if not record.queued_at <= record.started_at <= record.completed_at:
            raise ResultFileError(path, number, "job {}: time stamps are not in the order queued <= "
                                  "started <= completed".format(record.job_id))
        if not record.started_at <= record.accepted_at <= record.completed_at:
            # The documented RSPLIB quirk (see JobRecord.stale_accept), not a broken file.
            record = JobRecord(*values, stale_accept=True)
        records.append(record)
    return records


def read_pe_vector(path):
    """Parse an rspserver CalcApp vector file into a list of :class:`PECompletion` (may be empty)."""
    kinds = (int, "hex", float, float, float, float, float, int, int)
    return [PECompletion(*values) for _, values in _read_vector(path, PE_VECTOR_HEADER, kinds)]
