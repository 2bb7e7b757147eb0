"""Code that runs on the VDUs must stay Python 3.6 (Ubuntu 18.04) compatible.

vermin checks syntax and standard-library use against 3.6 for mecpool/rserpool
(vendored into the charms and shipped in the PE cloud-init), the shared charm
library and every charm's src/.  ``# novm`` comments are not honoured, so a
violation cannot be waved through.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VERMIN_OPTIONS = ["-t=3.6-", "--violations", "--no-tips", "--no-parse-comments"]


def checked_paths():
    paths = [ROOT / "mecpool" / "rserpool", ROOT / "charms" / "lib"]
    paths += sorted(p for p in (ROOT / "charms").glob("*/src") if p.is_dir())
    return paths


def vermin(paths):
    """Run vermin (the console script of the test extra) on ``paths``."""
    script = Path(sys.executable).with_name("vermin")
    argv = [str(script)] + VERMIN_OPTIONS + [str(p) for p in paths]
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=300)


def analysed_files(output):
    match = re.search(r"Analyzing (\d+) files", output)
    return int(match.group(1)) if match else 1


def test_vdu_code_is_python36_compatible():
    paths = checked_paths()
    for path in paths:
        assert path.is_dir(), "{} is missing".format(path)
    python_files = sum(1 for p in paths for _ in p.rglob("*.py"))
    result = vermin(paths)
    assert result.returncode == 0, "Python 3.6 violations:\n" + result.stdout
    assert "Target versions not met" not in result.stdout
    assert analysed_files(result.stdout) == python_files


def test_both_shared_charm_packages_are_checked():
    """The workload library and its ops side (charm.py's WorkloadCharm) both run on VDUs."""
    for package in ("charmhelpers_mecpool", "charmhelpers_mecpool_ops"):
        path = ROOT / "charms" / "lib" / package
        assert (path / "__init__.py").is_file(), path
        assert any(path == checked or checked in path.parents for checked in checked_paths())
    result = vermin([ROOT / "charms" / "lib" / "charmhelpers_mecpool_ops"])
    assert result.returncode == 0, result.stdout
    assert analysed_files(result.stdout) == len(
        list((ROOT / "charms" / "lib" / "charmhelpers_mecpool_ops").rglob("*.py")))


def test_both_rsp_charms_are_checked():
    names = [p.parent.name for p in checked_paths()[2:]]
    assert "rsp-registrar" in names and "rsp-pool-element" in names


@pytest.mark.parametrize("snippet, reason", [
    ("if (n := 3):\n    pass\n", "named expressions"),
    ('x = 1\nprint(f"{x=}")\n', "self-documenting f-strings"),
    ("import dataclasses\n", "'dataclasses' module"),
    ("from __future__ import annotations\n", "annotations"),
    ("import subprocess\nsubprocess.run(['true'], capture_output=True)\n", "capture_output"),
    ("# novm\nif (n := 3):\n    pass\n", "named expressions"),
])
def test_the_check_fails_on_newer_python(tmp_path, snippet, reason):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "module.py").write_text(snippet)
    result = vermin([package])
    assert result.returncode != 0, result.stdout
    assert reason in result.stdout


# What OSM LCM's Python 3.6 venv loads of ours in the real-stack lab: the launcher, the lab's VCA
# connector and what it reuses of the VDU lab (the venv has the dataclasses backport).
LCM_LOADED = ("mecpool/reallab/osm_launch.py", "mecpool/reallab/ssh_connector.py", "mecpool/vdulab/guest.py",
              "mecpool/vdulab/charmrun.py", "mecpool/vdulab/vdus.py", "mecpool/vdulab/jujustandin/__init__.py")


def test_code_loaded_by_osm_lcm_is_python36_compatible():
    script = Path(sys.executable).with_name("vermin")
    argv = [str(script)] + VERMIN_OPTIONS + ["--backport", "dataclasses"] + [str(ROOT / p) for p in LCM_LOADED]
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                            timeout=300)
    assert result.returncode == 0, "Python 3.6 violations:\n" + result.stdout
    assert analysed_files(result.stdout) == len(LCM_LOADED)
