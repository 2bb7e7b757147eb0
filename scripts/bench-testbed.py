#!/usr/bin/env python3
"""Benchmark the testbed engine: wall time, host CPU and timing distortion per concurrency.

For each concurrency level J it runs one batch of the paper scenario's PU
counts (J lanes side by side, each running its runs in turn) with real RSPLIB,
then reports

* wall time, guest boot time and the overhead per run beyond its runtime (set-up,
  registration, waiting for idle PUs to end, stop);
* the host CPU time QEMU (or the host run) used, as cores busy on average;
* timing distortion: measured processing time / the time CalcApp's equal sharing of the
  PE's capacity gives (1.0 = exact; see mecpool/testbed/timing.py);
* starvation signs: keep-alive timeouts per 100 jobs, jobs on the UE PE at
  <= 4 PUs, median start-up delay of the PUs' first jobs (see timing.starvation);
* the estimated wall time of the full paper profile (40 runs x 300 s) at that J.

Results: a table on stdout and build/testbed/bench.json.
Usage: scripts/bench-testbed.py [--jobs 4,8,10] [--runtime 60] [--pus 1,2,4,8,16,32,48,64]
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mecpool.testbed import engine, scenario as sc, timing  # noqa: E402

PAPER_RUNS = 40
PAPER_RUNTIME_S = 300.0


def bench_level(scenario, pus, jobs, runtime_s, mode, root):
    runs = max(1, math.ceil(jobs / len(pus)))  # at least one run per lane
    settings = sc.RunSettings(scenario, "paper", pus=pus, runtime_s=runtime_s, runs=runs)
    cpu_before = engine.children_cpu_s()
    started = time.monotonic()
    run_dir = engine.run(scenario, settings, mode=mode, jobs=jobs, label="bench-j{}".format(jobs),
                         root=root, report=False)
    wall = time.monotonic() - started
    cpu = engine.children_cpu_s() - cpu_before
    info = json.loads((run_dir / "engine.json").read_text())
    lanes, per_lane = info["lanes"], info["runs_per_lane"]
    boot = info.get("boot_s", 0.0)
    overhead = (wall - boot - info.get("image_s", 0.0)) / per_lane - runtime_s
    distortion = timing.distortion(run_dir)
    starved = timing.starvation(run_dir)
    estimate = boot + math.ceil(PAPER_RUNS / jobs) * (PAPER_RUNTIME_S + overhead)
    return {
        "jobs": jobs, "runs": len(settings.run_keys()), "lanes": lanes, "runs_per_lane": per_lane,
        "pus_at_once": round(sum(p for p, _ in settings.run_keys()) / per_lane, 1),
        "runtime_s": runtime_s, "wall_s": round(wall, 1), "boot_s": boot,
        "overhead_per_run_s": round(overhead, 1), "host_cpu_s": round(cpu, 1),
        "cores_busy": round(cpu / wall, 2), "distortion": distortion["overall"],
        "starvation": starved,
        "paper_profile_estimate_min": round(estimate / 60.0, 1), "run_dir": str(run_dir),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="4,8,10", help="concurrency levels (comma list)")
    parser.add_argument("--runtime", type=float, default=60.0, help="seconds per run")
    parser.add_argument("--pus", default="1,2,4,8,16,32,48,64", help="PU counts of the runs")
    parser.add_argument("--mode", default="auto", choices=("auto", "host", "vm"))
    args = parser.parse_args(argv)
    scenario = sc.load()
    pus = sc.check_pus("--pus", [int(p) for p in args.pus.split(",")])
    levels = [int(j) for j in args.jobs.split(",")]
    root = engine.build_root() / "testbed"
    results = []
    for jobs in levels:
        print("bench: J={} ...".format(jobs), flush=True)
        result = bench_level(scenario, pus, jobs, args.runtime, args.mode, root)
        results.append(result)
        d = result["distortion"]
        print("  wall {wall_s:.0f} s ({lanes} lanes x {runs_per_lane} runs, boot {boot_s:.1f} s, "
              "overhead/run {overhead_per_run_s:.0f} s), host CPU {cores_busy:.2f} cores".format(**result))
        print("  jobs {} median ratio {} q10 {} q90 {} mean |error| {}".format(
            d.get("jobs"), d.get("median"), d.get("q10"), d.get("q90"),
            d.get("mean_abs_error")))
        print("  starvation: {}".format(result["starvation"]))
        print("  paper profile (40 x 300 s) estimate: {} min".format(
            result["paper_profile_estimate_min"]), flush=True)
    out = root / "bench.json"
    out.write_text(json.dumps({"levels": results}, indent=2) + "\n")
    print("\n{:>4} {:>6} {:>8} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10}".format(
        "J", "runs", "PUs/once", "wall s", "cores", "median", "q90", "|err|", "KA/100", "1st s",
        "paper min"))
    for r in results:
        d, st = r["distortion"], r["starvation"]
        print("{:>4} {:>6} {:>8} {:>8.0f} {:>7.2f} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10}".format(
            r["jobs"], r["runs"], r["pus_at_once"], r["wall_s"], r["cores_busy"],
            d.get("median", "-"), d.get("q90", "-"), d.get("mean_abs_error", "-"),
            st["keepalive_timeouts_per_100_jobs"], st["first_startup_s"],
            r["paper_profile_estimate_min"]))
    print("written: {}".format(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
