"""How the runbook's NS steps run our commands inside the real-stack lab and keep what they did: each
command's exit, output (tail) and time go into the result's `steps`, under the step's name."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

from .sandbox import clean_env


def step(osm, result: dict, name: str, *args: str, env: dict, timeout: float = 900) -> dict:
    """One of our commands inside the lab; its exit, output (tail) and time go into result['steps']."""
    started = time.monotonic()
    done = osm.mecpool(*args, env=env, timeout=timeout)
    said = (done.stdout + done.stderr).strip()
    entry = {"exit": done.returncode, "seconds": round(time.monotonic() - started, 1), "said": said[-4000:],
             "stdout": done.stdout}
    result.setdefault("steps", {})[name] = entry
    osm.log(f"reallab ns: mecpool {name}: exit {done.returncode} in {entry['seconds']:.0f} s")
    return entry


def host_step(osm, result: dict, name: str, *args: str, env: dict, timeout: float = 900) -> dict:
    """`mecpool build` runs where the operator runs it, outside the lab (it vendors the charms' Python
    packages with pip: the lab's namespace reaches nothing outside the machine); same record as `step`."""
    started = time.monotonic()
    run_env = clean_env({**env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    done = subprocess.run([sys.executable, "-c", "from mecpool.cli import main; main()", *args], env=run_env,
                          capture_output=True, text=True, timeout=timeout)
    with open(osm.paths.base / "mecpool-commands.log", "a") as f:
        f.write(f"$ mecpool {shlex.join(args)}   (on the host)\n[{done.returncode}]\n{done.stdout}{done.stderr}\n")
    said = (done.stdout + done.stderr).strip()
    entry = {"exit": done.returncode, "seconds": round(time.monotonic() - started, 1), "said": said[-4000:],
             "stdout": done.stdout, "where": "host"}
    result.setdefault("steps", {})[name] = entry
    osm.log(f"reallab ns: mecpool {name} (host): exit {done.returncode} in {entry['seconds']:.0f} s")
    return entry


def json_of(entry: dict):
    try:
        return json.loads(entry["stdout"])
    except (ValueError, KeyError):
        return None


def cloud(stack, *args: str):
    return json.loads(stack.openstack(*args, "-f", "json", timeout=300).stdout)
