"""Run testbed runs and leave the raw results in ``build/testbed/<run-id>/``.

Layout of a run directory (the contract with mecpool.testbed.results)::

    scenario.yaml         the resolved scenario (profile, PU counts, addresses, RTTs)
    versions.json         rsplib package version, kernel, mode, mecpool version
    engine.json           wall times: image, boot, lanes, total
    console.log           the guest console / host output of the plan
    plan/plan.sh          the batch script (lanes); plan/<run>.sh one script per run
    raw/pus-<N>/run-<k>/  run.json + every PU's and PE's .sca/.vec as the tools wrote them,
                          logs/ (stdout of every process, hsdump dumps), events.txt

``build/testbed/latest`` points at the newest run directory.
"""

import datetime
import json
import os
import platform
import resource
import subprocess
import time
from pathlib import Path

import yaml

from mecpool import __version__, rsplibfix

from . import modes
from .plan import RunPlan, batch_script, lane_stagger_s, lib_text, schedule
from .scenario import resolved

SETUP_ALLOWANCE_S = 180    # per run: topology, registration, idle PUs' end, stop (generous for TCG)
RSPLIB_PACKAGES = ("rsplib-registrar", "rsplib-services", "rsplib-tools")


class EngineError(RuntimeError):
    """A run failed; the message says which and why (details in its logs)."""


def build_root():
    return Path(os.environ.get("MECPOOL_BUILD", "build"))


def new_run_id(root, label):
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_id = "{}-{}".format(stamp, label)
    number = 1
    while (root / run_id).exists():
        number += 1
        run_id = "{}-{}-{}".format(stamp, label, number)
    return run_id


def script_name(key):
    return key.replace("/", "-") + ".sh"


DEFAULT_JOBS = 10


def default_jobs(mode, run_count):
    """Concurrent runs (lanes).  Measured on an otherwise idle 2-core host
    (docs/testbed-engine.md): 10 staggered lanes ran the paper profile in 27 min with
    lone-job timing within 1 % and no starvation signs; --jobs overrides (fewer lanes
    on a busy host)."""
    return max(1, min(run_count, DEFAULT_JOBS))


def guest_memory_mb(lanes):
    """RAM for the busiest moment: ~6 MB per RSPLIB process plus the kernel and tmpfs."""
    processes = sum(max(len(p.registrars) + len(p.pool_elements) + len(p.pool_users)
                        for p in lane) for lane in lanes)
    return int(min(16384, max(1024, 768 + 6 * processes)))


def package_versions():
    versions = {}
    for package in RSPLIB_PACKAGES:
        result = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package],
                                capture_output=True, text=True)
        versions[package] = result.stdout.strip() if result.returncode == 0 else None
    return versions


class Batch:
    """The plans of one testbed invocation, in lanes (runs side by side)."""

    def __init__(self, scenario, settings, mode, jobs, run_dir, customize=None):
        self.scenario = scenario
        self.settings = settings
        self.mode = mode
        self.run_dir = Path(run_dir)
        self.run_id = self.run_dir.name
        tools = modes.GUEST_TOOLS if mode == "vm" else modes.host_tools()
        keys = settings.run_keys()
        self.jobs = jobs or default_jobs(mode, len(keys))
        self.lanes = []
        for number, key_lane in enumerate(schedule(keys, self.jobs)):
            lane = []
            for pus, run in key_lane:
                plan = RunPlan(scenario, pus, run, settings.runtime_s, number,
                               "/tmp/mecpool/" + self.run_id, tools)
                if customize is not None:
                    customize(plan)
                lane.append(plan)
            self.lanes.append(lane)
        self.plans = [plan for lane in self.lanes for plan in lane]

    def write(self):
        plan_dir = self.run_dir / "plan"
        plan_dir.mkdir(parents=True, exist_ok=True)
        lib = lib_text()
        names = {}
        for plan in self.plans:
            names[plan.key] = script_name(plan.key)
            (plan_dir / names[plan.key]).write_text(plan.script(lib))
        self.stagger_s = lane_stagger_s(self.settings.runtime_s, len(self.lanes))
        (plan_dir / "plan.sh").write_text(batch_script(self.lanes, names, self.stagger_s))
        with open(self.run_dir / "scenario.yaml", "w") as handle:
            yaml.safe_dump(resolved(self.scenario, self.settings), handle, sort_keys=False)

    def expected_seconds(self):
        return (max(len(lane) for lane in self.lanes) * (self.settings.runtime_s + SETUP_ALLOWANCE_S)
                + 20.0 * len(self.lanes))


def _iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).isoformat(
        timespec="milliseconds")


def _read_events(path):
    events = []
    if path.is_file():
        for line in path.read_text().splitlines():
            name, _, value = line.rpartition(" ")
            try:
                events.append((name, float(value)))
            except ValueError:
                continue
    return events


def finish_run(plan, run_dir, clock):
    """Write run.json for one run from its plan and what the script recorded."""
    raw = run_dir / "raw" / plan.key
    status_file = raw / "status"
    status = status_file.read_text().strip() if status_file.is_file() else "missing"
    events = _read_events(raw / "events.txt")
    t0 = next((value for name, value in events if name == "T0"), None)
    end = next((value for name, value in events if name == "end"), None)
    description = plan.description()
    if t0 is not None:
        for action in description["actions"]:
            done = next((value for name, value in events
                         if name == "action:" + action["label"]), None)
            action["done_s"] = None if done is None else round(done - t0, 3)
        description["events"] = [{"event": name, "t_s": round(value - t0, 3)}
                                 for name, value in events if name != "T0"]
    epoch0, uptime0 = clock
    description["started"] = _iso(epoch0 + t0 - uptime0) if t0 is not None else None
    description["ended"] = _iso(epoch0 + end - uptime0) if end is not None else None
    description["status"] = status
    warnings = raw / "warnings"
    description["warnings"] = warnings.read_text().splitlines() if warnings.is_file() else []
    raw.mkdir(parents=True, exist_ok=True)
    (raw / "run.json").write_text(json.dumps(description, indent=2) + "\n")
    return status


def _read_clock(run_dir):
    path = run_dir / "clock"
    if not path.is_file():
        return (time.time(), 0.0)
    epoch, uptime = path.read_text().split()
    return (float(epoch), float(uptime))


def update_latest(root, run_dir):
    link = root / "latest"
    tmp = root / ".latest.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_dir.name)
    os.replace(tmp, link)


def children_cpu_s():
    """CPU seconds of this process's ended children (QEMU, or the host's RSPLIB)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def execute(batch, on_line=None, cache_root=None, cpus=2):
    """Run a written batch; returns the engine timing (written to engine.json too)."""
    run_dir = batch.run_dir
    console = open(run_dir / "console.log", "w")

    def line(text):
        console.write(text + "\n")
        console.flush()
        if on_line is not None:
            on_line(text)

    started = time.monotonic()
    cpu_before = children_cpu_s()
    timeout = batch.expected_seconds() * 2 + 300
    timing = {"mode": batch.mode, "jobs": batch.jobs, "lanes": len(batch.lanes),
              "runs_per_lane": max(len(lane) for lane in batch.lanes),
              "runs": len(batch.plans), "runtime_s": batch.settings.runtime_s}
    try:
        if batch.mode == "vm":
            memory = guest_memory_mb(batch.lanes)
            code, vm_timing = modes.run_in_vm(run_dir, line, timeout,
                                              cache_root or build_root() / "testbed" / "vm",
                                              cpus=cpus, memory_mb=memory)
            timing.update(vm_timing, guest_memory_mb=memory, guest_cpus=cpus)
        else:
            code = modes.run_on_host(run_dir.resolve(), line, timeout)
    finally:
        console.close()
    timing["total_s"] = round(time.monotonic() - started, 3)
    # CPU the run's processes (QEMU, or the host's RSPLIB) used; summed over host cores.
    # Only meaningful when this process ran one batch at a time.
    timing["host_cpu_s"] = round(children_cpu_s() - cpu_before, 1)
    timing["host_cores"] = round(timing["host_cpu_s"] / max(timing["total_s"], 0.001), 2)
    clock = _read_clock(run_dir)
    failed = []
    for plan in batch.plans:
        status = finish_run(plan, run_dir, clock)
        if status != "ok":
            failed.append("{}: {}".format(plan.key, status))
    write_versions(batch, timing)
    (run_dir / "engine.json").write_text(json.dumps(timing, indent=2) + "\n")
    if code != 0 and not failed:
        failed.append("the plan exited with status {}".format(code))
    if failed:
        raise EngineError("{} run(s) failed in {}:\n  {}".format(
            len(failed), run_dir, "\n  ".join(failed)))
    return timing


def write_versions(batch, timing):
    versions = {
        "rsplib": package_versions(),
        # stock Debian RSPLIB, or with our librspfreshload (mecpool.rsplibfix)
        "rsplib_variant": batch.scenario.rsplib,
        "rspfix_source_sha256": (rsplibfix.source_digest()
                                 if batch.scenario.rsplib == rsplibfix.FIXED else None),
        "endpoint_keepalive_ms": batch.scenario.endpoint_keepalive_ms,
        "kernel": timing.get("kernel_version") if batch.mode == "vm" else platform.release(),
        "host_kernel": platform.release(),
        "mode": batch.mode,
        "mecpool": __version__,
    }
    if batch.mode == "vm":
        result = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True)
        versions["qemu"] = result.stdout.splitlines()[0] if result.stdout else None
        versions["vm_image"] = timing.get("image_key")
    (batch.run_dir / "versions.json").write_text(json.dumps(versions, indent=2) + "\n")


def write_report(run_dir):
    """Hand the raw results to the report writer (mecpool.testbed.report)."""
    try:
        from .report import write_report as report
    except ImportError:
        return None
    return report(run_dir)


def run(scenario, settings, mode="auto", jobs=None, on_line=None, label=None, customize=None,
        root=None, cpus=2, report=True, cache_root=None):
    """Plan, execute and record one testbed invocation; returns the run directory."""
    mode = modes.choose_mode(mode)
    root = Path(root) if root else build_root() / "testbed"
    root.mkdir(parents=True, exist_ok=True)
    run_dir = root / new_run_id(root, label or settings.profile)
    batch = Batch(scenario, settings, mode, jobs, run_dir, customize)
    batch.write()
    execute(batch, on_line, cache_root=cache_root or root / "vm", cpus=cpus)
    update_latest(root, run_dir)
    if report:
        write_report(run_dir)
    return run_dir


def run_without_report(scenario, settings, mode, jobs, label=None, customize=None):
    """``run`` for the fault scenarios and the probes, whose own outcome is their report."""
    return run(scenario, settings, mode=mode, jobs=jobs, label=label, customize=customize,
               report=False)
