"""``mecpool vdu-lab``: boot the site's VDUs as OSM R8 + OpenStack would, check them."""

import signal
import sys
import time
from pathlib import Path

import click

from mecpool.site import SiteError, find_site_file, load_site

from . import evidence, report
from .image import default_cache_root
from .lab import Lab
from .scenario import Scenario
from .vdus import BuildMismatch, load_built


@click.command("vdu-lab")
@click.option("--site", "site_file", type=click.Path(dir_okay=False),
              help="Site file (default: site.yaml, else site.example.yaml); build it first.")
@click.option("--build", "build_dir", default="build", show_default=True, type=click.Path(file_okay=False),
              help="The build of that site (mecpool build).")
@click.option("--out", "out_dir", default="build/vdu-lab", show_default=True, type=click.Path(file_okay=False),
              help="Run directory: VM disks, serial logs, DHCP and mirror logs, result.json.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False),
              help="Image and mirror cache (default: $MECPOOL_CACHE, else ~/.cache/mecpool).")
@click.option("--memory", "memory_mb", default=768, show_default=True, type=click.IntRange(384, 8192),
              help="MiB of RAM per VM.")
@click.option("--vcpus", default=1, show_default=True, type=click.IntRange(1, 8), help="vCPUs per VM.")
def vdu_lab_command(site_file, build_dir, out_dir, cache_dir, memory_mb, vcpus):
    """Boot the registrar, pool element and EPC VDUs from their user data under QEMU,
    run the pool and the charms on them, and print a table per VM."""
    try:
        site = load_site(find_site_file(site_file))
        built = load_built(build_dir)
    except (SiteError, BuildMismatch) as error:
        click.echo("mecpool: {}".format(error), err=True)
        sys.exit(2)
    out = Path(out_dir)
    start = time.monotonic()
    # SIGTERM (a CI timeout, say) unwinds like Ctrl-C: the lab removes its VMs and networks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def log(message):
        click.echo("[{:6.0f} s] {}".format(time.monotonic() - start, message), err=True)

    try:
        with Lab(site, built, out, Path(cache_dir) if cache_dir else default_cache_root(), log=log,
                 memory_mb=memory_mb, vcpus=vcpus) as lab:
            scenario = Scenario(lab, log=log)
            try:
                outcome = scenario.run()
            except (KeyboardInterrupt, SystemExit):
                # Stopped (Ctrl-C, a timeout's SIGTERM): what ran so far, and the evidence,
                # still say where it was stuck.
                scenario.outcome.check("the lab ran to its end", False, "interrupted during the step after {}"
                                       .format(", ".join(scenario.outcome.steps) or "none"))
                _keep(lab, scenario.outcome, out, start, log)
                raise
            _keep(lab, outcome, out, start, log)
            click.echo(report.table(lab))
            click.echo(report.verdicts(outcome))
            click.echo("set-up: " + ", ".join("{} {:.0f} s".format(k, v) for k, v in lab.timings.items())
                       + "; steps: " + ", ".join("{} {:.0f} s".format(k, v) for k, v in outcome.steps.items()))
    except (BuildMismatch, RuntimeError, OSError) as error:
        click.echo("mecpool: vdu-lab failed: {}".format(error), err=True)
        sys.exit(1)
    click.echo("vdu-lab: {} in {:.0f} s".format("all checks passed" if outcome.ok else "FAILED",
                                                time.monotonic() - start))
    sys.exit(0 if outcome.ok else 1)


def _keep(lab, outcome, out, start, log):
    log("keeping every VM's journal, SCTP state and network under {}".format(out / "vms"))
    evidence.keep({n: r for n, r in lab.runs.items() if n in lab.processes}, lab.run_dir)
    (out / "result.json").write_text(report.as_json(lab, outcome, time.monotonic() - start))


COMMANDS = [vdu_lab_command]
