#!/usr/bin/env python3
"""Measure the whole build: `mecpool build` as a user runs it (`make`), wall time.

One warm-up run first (it fills the charm vendor cache under <out>/vendor if
it is empty; that needs PyPI once), then --runs timed runs.  Prints each time
and the median; exits 1 when the median exceeds --limit seconds (10 s by
default, the project's goal) or when a build fails.

    python3 scripts/bench-build.py [--site site.yaml] [--out build] [--runs 5]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def mecpool_command():
    local = ROOT / ".venv" / "bin" / "mecpool"
    return [str(local)] if local.exists() else [sys.executable, "-m", "mecpool.cli"]


def run_build(site, out):
    argv = mecpool_command() + ["build", "--out", out] + (["--site", site] if site else [])
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=str(ROOT), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit("bench-build: `{}` failed with exit code {}".format(" ".join(argv), done.returncode))
    return elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", help="site file (default: site.yaml, else site.example.yaml)")
    parser.add_argument("--out", default="build", help="output directory (default: build)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (default: 5)")
    parser.add_argument("--limit", type=float, default=10.0, help="seconds allowed for the median (default: 10)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    print("warm-up: {:.2f} s".format(run_build(args.site, args.out)))
    times = []
    for index in range(args.runs):
        times.append(run_build(args.site, args.out))
        print("run {}: {:.2f} s".format(index + 1, times[-1]))
    median = statistics.median(times)
    print("build time: median {:.2f} s, min {:.2f} s, max {:.2f} s over {} runs on {} CPU(s) (limit {:.0f} s)"
          .format(median, min(times), max(times), len(times), os.cpu_count(), args.limit))
    return 0 if median <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
