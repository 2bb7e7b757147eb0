"""Load freshness on the lab's VMs: how long a PE's load change takes to reach each registrar,
measured as the testbed's freshness probe measures it (mecpool.testbed.probes), across VMs.

* A load change is a job the PE accepted: rspserver's RSERPOOL_SESSION_ADD notification, with
  its own clock (``probes.accepted_jobs`` on the PE's journal); ``accepts`` says which count.
* Its arrival is the registrar's next message carrying the PE's load: the ASAP Registration at
  its home registrar, the ENRP Update at the others (``probes.read_action_times`` on the
  registrar's action log, which a systemd drop-in turns on: the unit's own command line from
  mecpool.rserpool with ``-actionlogfile``).
* The delay per change and registrar is ``probes.check_freshness``'s.

The testbed runs every process on one clock; here each VM has its own, set from the RTC at boot
(whole seconds) and never synchronised (no network time in the lab).  So every VM's offset from
the host's clock is measured first, NTP-like, through a running SSH session (the best of many
round trips), and every time is moved onto the host's clock; the uncertainty of those offsets is
reported beside the delays and bounded.
"""

import json
import shlex
import statistics
import subprocess
import time
from dataclasses import dataclass

from mecpool.rserpool import configure
from mecpool.rserpool.commands import registrar_argv
from mecpool.rserpool.units import REGISTRAR_SERVICE, exec_start
from mecpool.testbed import probes

ACTION_LOG_DIR = "rsp-registrar"                    # LogsDirectory= (writable under ProtectSystem=strict)
ACTION_LOG = "/var/log/{}/actions.log".format(ACTION_LOG_DIR)
DROP_IN = "/etc/systemd/system/{}.d/mecpool-lab-actionlog.conf".format(REGISTRAR_SERVICE)
CLOCK_SAMPLES = 40
# Above this the offsets are too uncertain for the busy-host median bound (0.25 s, a fifth of
# it): the check fails instead of guessing.
MAX_CLOCK_UNCERTAINTY_S = 0.05
# One time per line read, printed by the VM's Python (cloud-init's, on every lab VM).
_ECHO = "import sys,time\nfor _ in sys.stdin:\n    print(repr(time.time()), flush=True)\n"


@dataclass(frozen=True)
class ClockOffset:
    offset_s: float          # the VM's clock minus the host's
    uncertainty_s: float     # half the round trip of the sample it comes from


def best_offset(samples):
    """ClockOffset from [(host before, VM time, host after)]: the sample with the shortest round
    trip bounds the VM's reading best (it lies between before and after)."""
    if not samples:
        raise ValueError("no clock samples")
    before, vm_time, after = min(samples, key=lambda s: s[2] - s[0])
    if after < before:
        raise ValueError("host clock went back during a sample")
    return ClockOffset(vm_time - (before + after) / 2.0, (after - before) / 2.0)


def between(first, second):
    """One offset for a measurement between two clock readings: their mean, uncertain by
    the worse reading plus half the drift between them."""
    return ClockOffset((first.offset_s + second.offset_s) / 2.0,
                       max(first.uncertainty_s, second.uncertainty_s)
                       + abs(first.offset_s - second.offset_s) / 2.0)


def clock_samples(guest, count=CLOCK_SAMPLES):
    """[(host before, VM time, host after)] through one SSH session to the VM."""
    process = subprocess.Popen(guest.ssh_argv("python3 -u -c {}".format(shlex.quote(_ECHO))),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, bufsize=1)
    samples = []
    try:
        for _ in range(count):
            before = time.time()
            process.stdin.write("t\n")
            process.stdin.flush()
            line = process.stdout.readline()
            after = time.time()
            if not line:
                raise RuntimeError("{}: the clock reader ended: {}".format(guest.name, process.stderr.read()[-300:]))
            samples.append((before, float(line), after))
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    return samples


def clock_offset(guest, count=CLOCK_SAMPLES):
    return best_offset(clock_samples(guest, count))


def action_log_drop_in(settings):
    """The registrar unit's drop-in that adds ``-actionlogfile``: the same command line as the
    unit (mecpool.rserpool, from the VM's settings file) plus that option."""
    argv = registrar_argv(configure.registrar_from_settings(settings, action_log_file=ACTION_LOG))
    return "[Service]\nLogsDirectory={}\nExecStart=\nExecStart={}\n".format(ACTION_LOG_DIR, exec_start(argv))


def enable_action_log(guest):
    """Turn the registrar's action log on (restarts it: its PEs register again)."""
    settings = json.loads(guest.read(configure.SETTINGS_FILES["registrar"]))
    guest.sudo("mkdir -p {} && cat > {} && systemctl daemon-reload && systemctl restart {}".format(
        shlex.quote(DROP_IN.rsplit("/", 1)[0]), shlex.quote(DROP_IN), REGISTRAR_SERVICE),
        stdin=action_log_drop_in(settings).encode("utf-8"))


@dataclass
class Accepts:
    """The PE's accepts since the measurement began: the load changes and the jobs left out."""
    changes: list             # probes.LoadChange (host clock) per answered job; short ones flagged
    unanswered: int           # jobs whose accept could not be sent

    @property
    def shorter(self):
        """Jobs that ran less than the goal: no delay is measured for them."""
        return sum(change.short for change in self.changes)


def accepts(journal_text, offset, since_host, limit_s=probes.FRESHNESS_LIMIT_S):
    """The PE's accepts from its journal (probes.accepted_jobs), on the host's clock, from
    ``since_host``.  Load changes, as in the testbed, are only jobs accepted towards their pool
    user: a job that arrived after its pool user quit was gone again before any registration.
    A job shorter than the goal is flagged ``short`` (no delay is measured for it):
    rspserver (udplikeserver.cc, RSPLIB 3.4.4) compares its load with the last one it
    registered once per pass of its loop, after the message it read and the timers then due,
    so a job accepted and completed in the same pass never changes the load RSPLIB sends and
    no registration follows it (lab run of 2026-12-06 13:01: jobs of 1.4 and 9.2 ms, nothing at
    either registrar until the next job or the 30 s re-registration).  Whether or not such a
    job is registered, no registrar holds a load it made stale for longer than the job ran."""
    changes, unanswered = [], 0
    for job in probes.accepted_jobs(journal_text):
        at = job.at - offset.offset_s
        if at < since_host:
            continue
        if not job.answered:
            unanswered += 1
            continue
        changes.append(probes.LoadChange(at, at, 0, "accept", job.short(limit_s)))
    return Accepts(sorted(changes, key=lambda c: c.earliest), unanswered)


def arrivals(action_log_text, identifier, offset):
    """Times (host clock) the registrar received a message carrying the PE's load."""
    return [at - offset.offset_s for at in probes.read_action_times_text(action_log_text, identifier)]


@dataclass
class PeFreshness:
    pe: str
    changes: int              # load changes with a measured delay (short ones left out)
    registrars: list          # probes.RegistrarFreshness, one per registrar
    uncertainty_s: float      # the PE's and the registrars' clock uncertainties, added

    @property
    def delays_s(self):
        return [d for r in self.registrars for d in r.delays_s]

    @property
    def late(self):
        return [dict(l, registrar=r.registrar) for r in self.registrars for l in r.late]


def evaluate(pe, changes, messages_by_registrar, uncertainty_s, limit_s=probes.FRESHNESS_LIMIT_S):
    """``changes``: Accepts.changes; ``messages_by_registrar``: {registrar: arrivals}; each change's
    delay to each registrar by the testbed's own rule (probes.check_freshness)."""
    results = [probes.check_freshness(registrar, [], messages, changes, 1, limit_s)
               for registrar, messages in sorted(messages_by_registrar.items())]
    return PeFreshness(pe, sum(not change.short for change in changes), results, uncertainty_s)


def verdict(results, min_changes=5, max_uncertainty_s=MAX_CLOCK_UNCERTAINTY_S):
    """(ok, detail) over every PE: enough changes measured at every registrar, each registrar's
    delays within the busy-host bounds the testbed's test asserts (probes.BUSY_HOST_*), and
    clocks known well enough to tell.  How many missed the 100 ms goal is reported, not
    asserted: the lab's TCG guests share the host with whatever else runs."""
    per_registrar = {}
    for item in results:
        for registrar in item.registrars:
            per_registrar.setdefault(registrar.registrar, []).extend(registrar.delays_s)
    measured = sum(len(delays) for delays in per_registrar.values())
    late = [dict(l, pe=item.pe) for item in results for l in item.late]
    unsure = [item.pe for item in results if item.uncertainty_s > max_uncertainty_s]
    without = sorted(name for name, delays in per_registrar.items() if not delays)
    outside = sorted(name for name, delays in per_registrar.items()
                     if delays and not probes.within_busy_host_bounds(delays, with_max=False))
    ok = bool(per_registrar) and measured >= min_changes and not unsure and not without and not outside
    detail = "{} delays measured ({} changes); {}; {} over the {:g} s goal; clock uncertainty {}".format(
        measured, sum(item.changes for item in results),
        ", ".join("{} median {:.3f} s max {:.3f} s".format(name, statistics.median(delays), max(delays))
                  for name, delays in sorted(per_registrar.items()) if delays),
        len(late), probes.FRESHNESS_LIMIT_S,
        ", ".join("{} {:.1f} ms".format(item.pe, item.uncertainty_s * 1000) for item in results))
    if without:
        detail += "; no delay measured at {}".format(", ".join(without))
    if outside:
        detail += "; outside the busy-host bounds (median {:g} s, 90 % {:g} s) at {}".format(
            probes.BUSY_HOST_MEDIAN_S, probes.BUSY_HOST_MOSTLY_S, ", ".join(outside))
    if unsure:
        detail += "; clocks too uncertain (> {:.0f} ms) for {}".format(max_uncertainty_s * 1000, ", ".join(unsure))
    if late:
        detail += "; over the goal: " + json.dumps(late[:5])
    return ok, detail
