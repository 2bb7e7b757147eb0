"""librspfreshload on the host: the build, and its guard driven through RSPLIB's own timer code.

The harness (timer_harness.c) links Debian's librspdispatcher and plays the two threads
of a pool element; stock RSPLIB aborts in it with the very message the testbed's PEs
died of, so the tests show the guard removes a real abort, not a made-up one.  The wake
of the ASAP thread needs SCTP and is tested with the real PEs in the testbed
(tests/testbed/test_probes_testbed.py).
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from mecpool import rsplibfix

HARNESS = Path(__file__).with_name("timer_harness.c")
DISPATCHER = Path("/usr/lib/x86_64-linux-gnu/librspdispatcher.so.3")
ABORT = "INTERNAL ERROR in ./src/timer.c, line 76"
EXPORTED = {"timerStart", "timerRestart", "pthread_create", "poll", "__poll_chk"}


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return rsplibfix.ensure_built(tmp_path_factory.mktemp("fix") / rsplibfix.LIBRARY_NAME)


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    assert DISPATCHER.is_file(), "librsplib3 is not installed (scripts/install-deps.sh installs it)"
    binary = tmp_path_factory.mktemp("harness") / "timer_harness"
    subprocess.run(["cc", "-O2", "-Wall", "-Werror", "-o", str(binary), str(HARNESS),
                    str(DISPATCHER), "-pthread"], check=True)
    return binary


def run(harness, *args, preload=None):
    env = {"PATH": "/usr/bin:/bin"}
    if preload:
        env["LD_PRELOAD"] = str(preload)
    return subprocess.run([str(harness)] + list(args), capture_output=True, text=True, env=env,
                          timeout=120)


def test_library_exports_exactly_the_interposed_functions(library):
    symbols = subprocess.run(["nm", "-D", "--defined-only", str(library)], capture_output=True,
                             text=True, check=True).stdout.split("\n")
    defined = {line.split()[-1] for line in symbols if " T " in line}
    assert defined == EXPORTED


def test_library_is_rebuilt_only_when_its_source_changes(tmp_path):
    output = tmp_path / rsplibfix.LIBRARY_NAME
    rsplibfix.ensure_built(output)
    first = output.stat().st_mtime_ns
    rsplibfix.ensure_built(output)
    assert output.stat().st_mtime_ns == first
    stamp = output.with_name(output.name + ".sha256")
    stamp.write_text("0" * 64 + "\n")          # as if built from an older source
    rsplibfix.ensure_built(output)
    assert stamp.read_text().strip() == rsplibfix.source_digest()


def test_missing_compiler_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(rsplibfix.FixBuildError, match="no C compiler.*gcc"):
        rsplibfix.ensure_built(tmp_path / "lib.so")
    assert not (tmp_path / "lib.so").exists()


@pytest.mark.parametrize("case", ["double-start", "later-start"])
def test_stock_rsplib_aborts_on_a_second_start(harness, case):
    result = run(harness, case)
    assert result.returncode != 0
    assert ABORT in result.stdout + result.stderr


def test_second_start_with_an_earlier_time_moves_the_timer_forward(harness, library):
    result = run(harness, "double-start", preload=library)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "running=1 timestamp=1000"
    assert "guard is off" not in result.stderr


def test_second_start_with_a_later_time_keeps_the_earlier(harness, library):
    result = run(harness, "later-start", preload=library)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "running=1 timestamp=2000"


def test_stock_rsplib_aborts_in_the_reregistration_race(harness):
    result = run(harness, "race", "1000000")
    assert result.returncode != 0
    assert ABORT in result.stdout + result.stderr


def test_the_guard_survives_the_reregistration_race(harness, library):
    result = run(harness, "race", "1000000", preload=library)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "race: 1000000 rounds"
