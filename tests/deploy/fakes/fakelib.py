"""Shared parts of the fake ``osm`` and ``openstack`` executables: the call
log, the state file, a PrettyTable printer like osmclient's."""

import fcntl
import json
import os
import sys
from contextlib import contextmanager


def state_dir():
    path = os.environ.get("FAKE_STATE_DIR")
    if not path:
        sys.stderr.write("fake: FAKE_STATE_DIR is not set\n")
        sys.exit(99)
    return path


def record(tool, argv, extra=None):
    """Append one call to calls.json (a JSON list)."""
    path = os.path.join(state_dir(), "calls.json")
    with locked(path + ".lock"):
        calls = json.load(open(path)) if os.path.exists(path) else []
        entry = {"tool": tool, "argv": list(argv)}
        entry.update(extra or {})
        calls.append(entry)
        with open(path, "w") as handle:
            json.dump(calls, handle, indent=1)


@contextmanager
def locked(path):
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def load(name, default):
    path = os.path.join(state_dir(), name)
    if os.path.exists(path):
        with open(path) as handle:
            return json.load(handle)
    return default


def save(name, data):
    path = os.path.join(state_dir(), name)
    with open(path + ".tmp", "w") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
    os.replace(path + ".tmp", path)


def pretty_table(header, rows):
    """PrettyTable's default look, left-aligned, multi-line cells as osmclient's wrap_text makes them."""
    cells = [[str(c).split("\n") for c in row] for row in rows]
    widths = [len(h) for h in header]
    for row in cells:
        for i, lines in enumerate(row):
            widths[i] = max([widths[i]] + [len(line) for line in lines])
    border = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [border, "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |", border]
    for row in cells:
        height = max(len(lines) for lines in row)
        for n in range(height):
            out.append("| " + " | ".join((lines[n] if n < len(lines) else "").ljust(w)
                                          for lines, w in zip(row, widths)) + " |")
    out.append(border)
    return "\n".join(out)
