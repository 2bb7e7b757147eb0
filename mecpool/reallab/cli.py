"""``mecpool real-lab``: the real OpenStack and OSM Release EIGHT's own NBI, LCM and RO on this machine."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from mecpool.vdulab.image import default_cache_root


@click.command("real-lab")
@click.option("--stack-only", is_flag=True,
              help="Bring the OpenStack stack up, run its smoke path (token, image, flavor, network, a "
                   "server with config drive and user data, SSH, cloud-init), tear it down.")
@click.option("--osm-only", is_flag=True,
              help="OSM Release EIGHT's RO, NBI and LCM (built into Python 3.6 venvs, cached) on the stack, "
                   "proved with osmclient: osm version, vim-create to ENABLED, vim-list, vim-delete.")
@click.option("--out", "out_dir", default="build/real-lab", show_default=True, type=click.Path(file_okay=False),
              help="Run directory: the namespace's writable layers, every service's log, result.json.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False),
              help="Package tree, database dump, images, OSM venvs (default: $MECPOOL_CACHE, else ~/.cache/mecpool).")
@click.option("--osm-sources", type=click.Path(file_okay=False),
              help="Folder with OSM's v8.0 archives (default: $MECPOOL_OSM_SOURCES, else "
                   "../shared/vendor/osm-release-eight beside the clone).")
@click.option("--onboard", "onboard_dir", type=click.Path(file_okay=False),
              help="With --osm-only: after the VIM proof, onboard this `mecpool build` output's packages "
                   "(vnf-packages/, ns-packages/) through the real NBI with osm nfpkg-create / nspkg-create.")
@click.option("--site", "site_file", type=click.Path(dir_okay=False),
              help="With --onboard: the site file the packages were built for; `mecpool onboard` then runs "
                   "against the real NBI too (default: site.yaml, else site.example.yaml).")
@click.option("--runbook", is_flag=True,
              help="With --osm-only: after the proof, the operator's runbook on the lab's site file (two "
                   "projects as two VIM accounts): openstack-prepare twice (the second must change nothing), "
                   "build, onboard, instantiate --wait, status, pool-status, pool users, pe-action, a security "
                   "group probe, scale-pe --out and --in, teardown --all, with checks (docs/real-lab.md).")
@click.option("--no-smoke", is_flag=True, help="With --stack-only: only bring the stack up and down.")
@click.option("--keep-layers", is_flag=True,
              help="Keep what the services wrote (the run directory's upper/: Glance's store, Nova's image "
                   "cache, MariaDB's files) after teardown; the services' logs are kept anyway.")
@click.option("--hold", "hold_seconds", default=0, type=click.IntRange(0, 86400),
              help="Keep the stack up this many seconds after the smoke path or the OSM proof (Ctrl-C ends it).")
def real_lab_command(stack_only, osm_only, out_dir, cache_dir, osm_sources, onboard_dir, site_file, runbook,
                     no_smoke, keep_layers, hold_seconds):
    """OpenStack Zed from Debian's archive, in private namespaces on this machine, and OSM Release
    EIGHT's own NBI, LCM and RO on it (docs/real-lab.md)."""
    from mecpool.site import SiteError, find_site_file, load_site

    from . import osm_onboard, osm_venvs
    from . import osm_sources as sources_mod

    if stack_only == osm_only:
        click.echo("mecpool: real-lab runs --stack-only or --osm-only so far: the runbook against the real "
                   "stack is not wired yet (docs/real-lab.md says what runs)", err=True)
        sys.exit(2)
    if no_smoke and not stack_only:
        raise click.UsageError("--no-smoke goes with --stack-only")
    if onboard_dir and not osm_only:
        raise click.UsageError("--onboard goes with --osm-only")
    if runbook and not osm_only:
        raise click.UsageError("--runbook goes with --osm-only")
    if site_file and not onboard_dir:
        raise click.UsageError("--site goes with --onboard")
    out = Path(out_dir)
    cache = Path(cache_dir) if cache_dir else default_cache_root()
    sources = sources_mod.sources_dir(osm_sources)
    site_path = None
    if osm_only:
        # Bad or missing inputs are refused before anything is built or written.
        try:
            sources_mod.check(sources)
            osm_venvs.python_version(osm_venvs.find_python())
            for spec in osm_venvs.SPECS.values():
                osm_venvs.check_pins(osm_venvs.pins_text(spec), f"osm_pins {'+'.join(spec.pins)}")
            if onboard_dir:
                osm_onboard.packages(Path(onboard_dir))
                site_path = find_site_file(site_file)
                load_site(site_path)
        except (sources_mod.SourcesError, osm_venvs.VenvError, osm_onboard.OnboardError, SiteError) as error:
            click.echo(f"mecpool: real-lab --osm-only: {error}", err=True)
            sys.exit(2)
    out.mkdir(parents=True, exist_ok=True)
    mode = "--stack-only" if stack_only else "--osm-only"
    ok = _run(out, cache, keep_layers, hold_seconds, mode,
              lambda stack, result, log: _smoke(stack, result, log, cache, no_smoke) if stack_only
              else _osm(stack, result, log, Path(onboard_dir) if onboard_dir else None,
                        site_path, cache if runbook else None),
              osm_sources=None if stack_only else sources)
    sys.exit(0 if ok else 1)


def _smoke(stack, result, log, cache, no_smoke):
    from . import smoke
    result["smoke"] = {} if no_smoke else smoke.run(stack, cache, log)


def _osm(stack, result, log, onboard_dir, site_path, runbook_cache=None):
    from . import osm_onboard, osm_proof, runbook
    from .osm import Osm, memory_mib

    osm = Osm(stack, result.pop("_venvs"), log=log)
    try:
        osm.up()
    finally:
        result["osm_up"] = osm.timings
    result["osm_ram_mib"] = memory_mib(stack.sandbox)
    result["osm_proof"] = osm_proof.run(osm, stack, log)
    result["osm_ram_after_proof_mib"] = memory_mib(stack.sandbox)
    if onboard_dir is not None:
        result["onboard"] = onboard = osm_onboard.run(osm, onboard_dir, log, site_path)
        if onboard["refused"]:
            raise osm_onboard.OnboardError(f"the NBI refused {', '.join(onboard['refused'])} (result.json: onboard)")
        if onboard["mecpool_onboard"]["exit"] != 0:
            raise osm_onboard.OnboardError(f"mecpool onboard failed against the real NBI: "
                                           f"{onboard['mecpool_onboard']['said'][-1000:]}")
    if runbook_cache is not None:
        result["runbook"] = {}
        result["runbook"] = runbook.run(osm, stack, runbook_cache, log, result["runbook"])


def _run(out, cache, keep_layers, hold_seconds, mode, body, osm_sources=None) -> bool:
    """The stack up (after the OSM venvs, when `osm_sources` is given), `body`, teardown, result.json."""
    from . import smoke
    from .osm_sources import SourcesError
    from .osm_venvs import VenvError, ensure_all
    from .stack import Stack

    start = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def log(message):
        click.echo("[{:6.0f} s] {}".format(time.monotonic() - start, message), err=True)

    result = {"ok": False, "mode": mode, "steps": {}}
    stack = Stack(out, cache, log=log, keep_layers=keep_layers)
    monitor = None
    try:
        if osm_sources is not None:
            venvs = ensure_all(cache, osm_sources, log)
            result["osm_venvs"] = {n: {"warm": v.warm, "seconds": v.seconds, "key": v.key[:16]}
                                   for n, v in venvs.items()}
            result["_venvs"] = venvs
        stack.up()
        result["warm"] = stack.warm
        monitor = smoke.LabMonitor(stack.sandbox)
        monitor.start()
        monitor.sample()
        result["ram_stack_mib"] = monitor.peak // 1024
        body(stack, result, log)
        if hold_seconds:
            log(f"holding the stack for {hold_seconds} s: {' '.join(stack.sandbox.argv(['bash']))}")
            time.sleep(hold_seconds)
        result["ok"] = True
    except KeyboardInterrupt:
        log("interrupted")
    except (RuntimeError, OSError, subprocess.SubprocessError, SourcesError, VenvError) as error:
        result["error"] = str(error)
        click.echo("mecpool: real-lab failed: {}".format(error), err=True)
    finally:
        result.pop("_venvs", None)
        if monitor is not None:
            monitor.stop()
            result["ram_peak_mib"] = monitor.peak // 1024
            result["ram_peak_by_process_mib"] = {k: v // 1024 for k, v in sorted(
                monitor.peak_by_name.items(), key=lambda kv: -kv[1])[:12]}
            result["cpu_s_by_process"] = dict(list(monitor.cpu_seconds_by_name().items())[:15])
            result["machine_busy_cpu_s"] = monitor.machine_busy_s()
        result["steps"] = stack.timings
        down_started = time.monotonic()
        down = stack.down()
        result["teardown_s"] = round(time.monotonic() - down_started, 1)
        result["left_after_teardown"] = down.get("left", [])
        if result["left_after_teardown"]:
            result["ok"] = False
        result["wall_s"] = round(time.monotonic() - start, 1)
        (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    click.echo(json.dumps({k: result[k] for k in ("warm", "ram_stack_mib", "ram_peak_mib", "wall_s")
                           if k in result}))
    click.echo("real-lab {}: {} in {:.0f} s".format(mode, "PASS" if result["ok"] else "FAILED",
                                                    time.monotonic() - start))
    return result["ok"]


COMMANDS = [real_lab_command]
