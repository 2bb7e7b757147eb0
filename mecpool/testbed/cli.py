"""``mecpool testbed run|fault`` and ``mecpool measure``."""

import threading
import time
from pathlib import Path

import click

from mecpool import rsplibfix
from mecpool.rserpool.commands import ConfigError

from . import engine, modes
from .scenario import RunSettings, ScenarioError, load, parse_policy

PHASES = {"setup": 0.03, "registrars": 0.06, "pool-elements": 0.09, "pool-users": 0.12,
          "running": 0.12, "stopping": 0.95, "done": 1.0}


class ProgressView:
    """A rich progress bar fed by the plan's MECPOOL-* console lines."""

    def __init__(self, batch, console_echo=False):
        from rich.progress import (BarColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)
        self.batch = batch
        self.runtime = batch.settings.runtime_s
        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                 TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                                 TimeRemainingColumn(), transient=False)
        self.total = len(batch.plans)
        self.task = self.progress.add_task("booting" if batch.mode == "vm" else "starting",
                                           total=self.total)
        self.state = {}  # run key -> (fraction at phase start, running since)
        self.done = 0
        self.errors = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def __enter__(self):
        self.progress.start()
        self.ticker = threading.Thread(target=self._tick, daemon=True)
        self.ticker.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.ticker.join()
        self._update()
        self.progress.stop()

    def _fraction(self, key):
        phase, since = self.state.get(key, ("", None))
        if phase == "running" and since is not None:
            share = min(1.0, (time.monotonic() - since) / self.runtime)
            return PHASES["running"] + share * (PHASES["stopping"] - PHASES["running"])
        return PHASES.get(phase, 0.0)

    def _update(self, description=None):
        with self.lock:
            completed = sum(self._fraction(key) for key in self.state)
            fields = {"completed": completed}
            if description:
                fields["description"] = description
            self.progress.update(self.task, **fields)

    def _tick(self):
        while not self.stop.wait(1.0):
            self._update()

    def line(self, text):
        if "MECPOOL-" not in text:
            return
        words = text[text.index("MECPOOL-"):].split()
        kind = words[0]
        if kind == "MECPOOL-READY":
            self._update("guest up")
        elif kind == "MECPOOL-LANE":
            self._update("{} runs in {} lanes".format(len(self.batch.plans), len(self.batch.lanes)))
        elif kind == "MECPOOL-PROGRESS" and len(words) >= 3:
            key, phase = words[1], words[2]
            with self.lock:
                self.state[key] = (phase, time.monotonic() if phase == "running" else None)
            if phase == "done":
                self.done += 1
            self._update()
        elif kind == "MECPOOL-ERROR":
            self.errors.append(" ".join(words[1:]))
            self.progress.console.print("[red]error:[/red] " + " ".join(words[1:]))


def _settings(scenario_file, profile, pus, runtime, runs, policy, keepalive=None, rsplib=None):
    """Everything the user typed, checked before anything runs or is written."""
    scenario = load(scenario_file)
    if rsplib is not None:
        scenario = scenario.with_rsplib(rsplib)
    if policy:
        scenario = scenario.with_increments(parse_policy(policy))
    if keepalive is not None:
        scenario = scenario.with_endpoint_keepalive(keepalive)
    pu_counts = None
    if pus:
        pu_counts = []
        for part in pus.split(","):
            try:
                pu_counts.append(int(part))
            except ValueError:
                raise ScenarioError("--pus", "{!r} is not a whole number".format(part))
    settings = RunSettings(scenario, profile, pus=pu_counts, runtime_s=runtime, runs=runs)
    return scenario, settings


def _run_batch(scenario, settings, mode, jobs, label=None, customize=None):
    mode = modes.choose_mode(mode)
    root = engine.build_root() / "testbed"
    root.mkdir(parents=True, exist_ok=True)
    run_dir = root / engine.new_run_id(root, label or settings.profile)
    batch = engine.Batch(scenario, settings, mode, jobs, run_dir, customize)
    click.echo("testbed: {} run(s) of {:g} s, {} at a time ({} mode) -> {}".format(
        len(batch.plans), settings.runtime_s, len(batch.lanes), mode, run_dir))
    batch.write()
    with ProgressView(batch) as view:
        timing = engine.execute(batch, view.line, cache_root=root / "vm")
    engine.update_latest(root, run_dir)
    if "boot_s" in timing:
        click.echo("guest boot {:.1f} s (image {}), total {:.0f} s".format(
            timing["boot_s"], "built" if timing.get("image_built") else "cached",
            timing["total_s"]))
    return run_dir


ERRORS = (ScenarioError, ConfigError, modes.ModeError, engine.EngineError, OSError)


@click.group("testbed")
def testbed():
    """The local RSerPool testbed: real RSPLIB in network namespaces (host or QEMU guest)."""


@testbed.command("run")
@click.option("--profile", default="quick", show_default=True, help="Profile of the scenario (quick, paper).")
@click.option("--pus", help="PU count(s), e.g. 16 or 1,16,64 (overrides the profile).")
@click.option("--runtime", type=float, help="Seconds per run (overrides the profile).")
@click.option("--runs", type=int, help="Repetitions per PU count (overrides the profile).")
@click.option("--policy", help="PLU load increments per PE group, e.g. pmc=0.5,mec=0.1,ue=1.0.")
@click.option("--mode", default="auto", show_default=True,
              type=click.Choice(["auto", "host", "vm"]), help="host needs kernel SCTP; vm boots QEMU.")
@click.option("--scenario", "scenario_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Scenario YAML (default: the packaged paper scenario).")
@click.option("--jobs", type=click.IntRange(1, 99), help="Runs at the same time (default: measured best).")
@click.option("--endpoint-keepalive", "keepalive", type=int, metavar="MS",
              help="Registrars' endpoint keep-alive in ms (default: 1000 for stock, RSPLIB's "
                   "5000 for fixed).")
@click.option("--rsplib", type=click.Choice(rsplibfix.VARIANTS),
              help="PEs on Debian's RSPLIB as it is (stock) or with our librspfreshload (fixed; "
                   "the default, docs/rsplib-fix.md).")
@click.option("--no-report", is_flag=True, help="Leave only the raw results.")
def run_command(profile, pus, runtime, runs, policy, mode, scenario_file, jobs, keepalive,
                rsplib, no_report):
    """Run the reference offloading scenario; results in build/testbed/<run-id>/."""
    try:
        scenario, settings = _settings(scenario_file, profile, pus, runtime, runs, policy,
                                       keepalive, rsplib)
        run_dir = _run_batch(scenario, settings, mode, jobs)
    except ERRORS as error:
        raise click.ClickException(str(error))
    if not no_report:
        try:
            report = engine.write_report(run_dir)
        except ValueError as error:  # the report's own checks of the raw files
            raise click.ClickException("the runs finished and their raw files are in {}, but "
                                       "the report could not be made: {}".format(run_dir, error))
        if report is not None:
            click.echo("report: {}".format(report))
    click.echo(str(run_dir))


@testbed.command("fault")
@click.argument("name")
@click.option("--pus", type=int, help="PU count (default: the fault's own).")
@click.option("--runtime", type=float, help="Seconds (default: the fault's own).")
@click.option("--mode", default="auto", show_default=True, type=click.Choice(["auto", "host", "vm"]))
@click.option("--scenario", "scenario_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rsplib", type=click.Choice(rsplibfix.VARIANTS),
              help="PEs on Debian's RSPLIB as it is, or with librspfreshload (default: the scenario's).")
def fault_command(name, pus, runtime, mode, scenario_file, rsplib):
    """Inject a fault (pe-crash, pe-stop, scale-out, pr-crash, pe-before-registrar, coverage-loss,
    overload) into a run and account for every job; prints `lost: N` last."""
    from . import faults
    try:
        outcome = faults.run_fault(name, scenario_file=scenario_file, pus=pus, runtime_s=runtime,
                                   mode=mode, runner=_run_batch, rsplib=rsplib)
    except (faults.FaultError,) + ERRORS as error:
        raise click.ClickException(str(error))
    for line in faults.summary_lines(outcome):
        click.echo(line)
    if outcome["lost"] != 0 or not outcome["passed"]:
        raise SystemExit(1)


@testbed.command("probe")
@click.argument("name", type=click.Choice(["freshness", "abort-stress"]))
@click.option("--rsplib", type=click.Choice(rsplibfix.VARIANTS), default=rsplibfix.DEFAULT_VARIANT,
              show_default=True, help="PEs on Debian's RSPLIB as it is, or with librspfreshload.")
@click.option("--endpoint-keepalive", "keepalive", type=int, metavar="MS",
              help="Registrars' endpoint keep-alive in ms (default: 5000 for freshness, "
                   "1000 for abort-stress).")
@click.option("--runtime", type=float, help="Seconds (default: the probe's own).")
@click.option("--mode", default="auto", show_default=True, type=click.Choice(["auto", "host", "vm"]))
def probe_command(name, rsplib, keepalive, runtime, mode):
    """Probe the PEs' RSPLIB: how fast a load change reaches every registrar (freshness),
    or whether PEs abort under many load changes (abort-stress).  Exit 1 when it fails."""
    from . import probes
    try:
        outcome = probes.run_probe(name, rsplib, keepalive_ms=keepalive, runtime_s=runtime,
                                   mode=mode, runner=_run_batch)
    except (probes.ProbeError,) + ERRORS as error:
        raise click.ClickException(str(error))
    for line in probes.summary_lines(outcome):
        click.echo(line)
    if not probes.passed(outcome):
        raise SystemExit(1)


@click.command("measure")
@click.option("--registrar", "registrars", required=True, multiple=True,
              help="Pool registrar ADDR[:PORT] (repeatable; port 3863 by default).")
@click.option("--pus", type=click.IntRange(1, 1000), default=16, show_default=True)
@click.option("--runtime", type=float, default=300, show_default=True, help="Seconds.")
@click.option("--pool-handle", default="CalcAppPool", show_default=True)
@click.option("--job-size", type=float, default=1e6, show_default=True)
@click.option("--job-interval", type=float, default=10, show_default=True, help="Seconds.")
def measure_command(registrars, pus, runtime, pool_handle, job_size, job_interval):
    """Run the testbed's PUs on this machine (a real UE) against a real pool."""
    from . import measure
    try:
        run_dir = measure.run_measure(list(registrars), pus, runtime, pool_handle, job_size,
                                      job_interval, on_line=_echo_progress)
    except ERRORS as error:
        raise click.ClickException(str(error))
    click.echo(str(run_dir))


def _echo_progress(line):
    if "MECPOOL-" in line:
        click.echo(line[line.index("MECPOOL-"):])


COMMANDS = [testbed, measure_command]
