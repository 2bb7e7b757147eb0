"""``mecpool real-lab``: the real OpenStack (and, later, OSM Release EIGHT) on this machine."""

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
@click.option("--out", "out_dir", default="build/real-lab", show_default=True, type=click.Path(file_okay=False),
              help="Run directory: the namespace's writable layers, every service's log, result.json.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False),
              help="Package tree, database dump, images (default: $MECPOOL_CACHE, else ~/.cache/mecpool).")
@click.option("--no-smoke", is_flag=True, help="With --stack-only: only bring the stack up and down.")
@click.option("--keep-layers", is_flag=True,
              help="Keep what the services wrote (the run directory's upper/: Glance's store, Nova's image "
                   "cache, MariaDB's files) after teardown; the services' logs are kept anyway.")
@click.option("--hold", "hold_seconds", default=0, type=click.IntRange(0, 86400),
              help="Keep the stack up this many seconds after the smoke path (Ctrl-C ends it early).")
def real_lab_command(stack_only, out_dir, cache_dir, no_smoke, keep_layers, hold_seconds):
    """OpenStack Zed from Debian's archive, in private namespaces on this machine (docs/real-lab.md)."""
    from . import smoke
    from .stack import Stack

    if not stack_only:
        click.echo("mecpool: real-lab runs only --stack-only so far: the runbook against the real stack and "
                   "OSM's NBI/LCM/RO are not wired yet (docs/real-lab.md says what runs)", err=True)
        sys.exit(2)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cache = Path(cache_dir) if cache_dir else default_cache_root()
    start = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def log(message):
        click.echo("[{:6.0f} s] {}".format(time.monotonic() - start, message), err=True)

    result = {"ok": False, "steps": {}, "smoke": {}}
    stack = Stack(out, cache, log=log, keep_layers=keep_layers)
    monitor = None
    try:
        stack.up()
        result["warm"] = stack.warm
        monitor = smoke.MemoryMonitor(stack.sandbox)
        monitor.start()
        monitor.sample()
        result["ram_stack_mib"] = monitor.peak // 1024
        if not no_smoke:
            result["smoke"] = smoke.run(stack, cache, log)
        if hold_seconds:
            log(f"holding the stack for {hold_seconds} s: {' '.join(stack.sandbox.argv(['bash']))}")
            time.sleep(hold_seconds)
        result["ok"] = True
    except KeyboardInterrupt:
        log("interrupted")
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        result["error"] = str(error)
        click.echo("mecpool: real-lab failed: {}".format(error), err=True)
    finally:
        if monitor is not None:
            monitor.stop()
            result["ram_peak_mib"] = monitor.peak // 1024
            result["ram_peak_by_process_mib"] = {k: v // 1024 for k, v in sorted(
                monitor.peak_by_name.items(), key=lambda kv: -kv[1])[:12]}
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
    click.echo("real-lab --stack-only: {} in {:.0f} s".format("PASS" if result["ok"] else "FAILED",
                                                               time.monotonic() - start))
    sys.exit(0 if result["ok"] else 1)


COMMANDS = [real_lab_command]
