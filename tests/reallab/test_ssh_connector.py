"""The lab's VCA connector (mecpool/reallab/ssh_connector.py) is loaded by OSM LCM into its Python 3.6
venv, next to N2VC and osm_common: its checks (ssh_connector_py36.py) run there, with LCM's own
N2VCJujuConnectorLCM built on it, osm_common's DbMemory and a recorded ssh.  They need the lab's lcm venv
(`mecpool real-lab --osm-only` builds it); without one this says so and skips."""

import subprocess
from pathlib import Path

import pytest

from mecpool.vdulab.image import default_cache_root

HERE = Path(__file__).resolve().parent


def lcm_python():
    ready = sorted((default_cache_root() / "reallab" / "osm-venvs").glob("lcm-*/ready.json"),
                   key=lambda p: p.stat().st_mtime)
    return ready[-1].parent / "venv" / "bin" / "python" if ready else None


def test_connector_under_lcms_python36():
    python = lcm_python()
    if python is None or not python.is_file():
        pytest.skip("no lcm venv in the cache: run `mecpool real-lab --osm-only` once to build it")
    done = subprocess.run([str(python), str(HERE / "ssh_connector_py36.py")], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all checks passed" in done.stdout
