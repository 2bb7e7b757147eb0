"""librspfreshload on the host: the build, and the library driven through RSPLIB's own code.

The harness (pe_harness.c) links Debian's librspdispatcher, libtdnetutilities and
libtdtimeutilities and plays the threads of a pool element; stock RSPLIB aborts in it with
the very message the testbed's PEs died of, so the tests show the guard removes a real
abort, not a made-up one.  Its "ASAP thread" starts through asap_thread.c, built as
librsplib.so.0.harness, so that the library takes it for RSPLIB's main-loop thread; in it
RSPLIB's own sendtoplus()/recvfromplus() must wait as without the library (the library of
main returned 0 from them after one timer re-arm), while the main loop's wait is woken.
The wake-up with real SCTP is tested with the real PEs in the testbed
(tests/testbed/test_probes_testbed.py).
"""

import base64
import gzip
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mecpool import rsplibfix
from mecpool.rsplibfix import glibc
from mecpool.rsplibfix.__main__ import main

HARNESS = Path(__file__).with_name("pe_harness.c")
ASAP_THREAD = Path(__file__).with_name("asap_thread.c")
RSPLIB_DIR = Path("/usr/lib/x86_64-linux-gnu")
RSPLIB_LIBS = ["librspdispatcher.so.3", "libtdnetutilities.so.3", "libtdtimeutilities.so.3"]
ABORT = "INTERNAL ERROR in ./src/timer.c, line 76"
EXPORTED = {"timerStart", "timerRestart", "pthread_create", "poll", "__poll_chk"}


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return rsplibfix.ensure_built(tmp_path_factory.mktemp("fix") / rsplibfix.LIBRARY_NAME)


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    libraries = [RSPLIB_DIR / name for name in RSPLIB_LIBS]
    assert all(library.is_file() for library in libraries), \
        "librsplib3 is not installed (scripts/install-deps.sh installs it)"
    directory = tmp_path_factory.mktemp("harness")
    asap_thread = directory / "librsplib.so.0.harness"   # named so the library takes its thread
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", str(asap_thread),
                    str(ASAP_THREAD)], check=True)
    binary = directory / "pe_harness"
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(binary), str(HARNESS),
                    str(asap_thread)] + [str(library) for library in libraries]
                   + ["-pthread", "-lm"], check=True)
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
    stamp.write_text(stamp.read_text().replace(rsplibfix.source_digest(), "0" * 64))  # an older source
    rsplibfix.ensure_built(output)
    assert stamp.read_text().split()[0] == rsplibfix.source_digest()


def test_a_library_replaced_after_its_build_is_rebuilt_not_shipped(tmp_path):
    """The stamp holds the library's own hash: an old or foreign .so at the output (its
    stamp unchanged) is compiled again before anything ships it."""
    output = tmp_path / rsplibfix.LIBRARY_NAME
    rsplibfix.ensure_built(output)
    built = output.read_bytes()
    output.write_bytes(built[:-1] + bytes([built[-1] ^ 0xff]))
    shipped = rsplibfix.shippable(output)
    assert shipped.path.read_bytes() == built
    assert gzip.decompress(base64.b64decode(shipped.gzip_base64())) == built


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


def numbers(line):
    return {key: float(value) for key, value in re.findall(r"(\w+)=(-?[\d.]+)", line)}


def elapsed_ms(line):
    return float(re.search(r"after (\d+) ms", line).group(1))


@pytest.mark.parametrize("preload", [False, True], ids=["stock", "library"])
def test_rsplibs_send_helper_waits_out_a_full_buffer_while_timers_are_rearmed(harness, library,
                                                                                preload):
    # sendtoplus() (ASAP messages to the registrar) in the ASAP thread; the peer drains at 1 s.
    result = run(harness, "send", preload=library if preload else None)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith("send: result=100 of 100"), line
    assert 900 <= elapsed_ms(line) < 2900, line


@pytest.mark.parametrize("preload", [False, True], ids=["stock", "library"])
def test_rsplibs_receive_helper_waits_while_timers_are_rearmed(harness, library, preload):
    result = run(harness, "recv", preload=library if preload else None)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith("recv: result=100 "), line
    assert 900 <= elapsed_ms(line) < 2900, line


@pytest.mark.parametrize("call", ["chk", "poll"])
def test_the_main_loops_wait_is_woken_by_a_timer_change(harness, library, call):
    stock = run(harness, "wake", call).stdout.strip()
    assert stock.startswith("wake: result=0 ") and elapsed_ms(stock) >= 2900, stock
    result = run(harness, "wake", call, preload=library)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith("wake: result=0 "), line     # the wake-up reads as a timeout
    assert 150 <= elapsed_ms(line) < 1000, line


def test_reregistrations_are_spaced_and_the_newest_load_still_leaves_within_the_window(
        harness, library):
    # The abort-stress probe's rate per PE: 16 PUs x 20 jobs/s, a start and an end each.
    stats = numbers(run(harness, "rate", "640", "4", "5000", preload=library).stdout)
    assert stats["changes"] > 1000
    assert 4 * 10 <= stats["registrations"] <= 4 * (1000 / 20) + 5
    # every change is due within the window; sent within it plus the wake-up (the median: the
    # host's scheduling, busy with other work, adds to single ones)
    assert stats["max_scheduled_ms"] <= 20.5
    assert stats["median_delay_ms"] < 20 + 20


def test_sparse_load_changes_are_not_delayed(harness, library):
    # The paper profile's rate at a MEC PE: a few changes a second, each sent on its own.
    stats = numbers(run(harness, "rate", "10", "4", "5000", preload=library).stdout)
    assert stats["registrations"] >= 0.8 * stats["changes"] > 0
    assert stats["max_scheduled_ms"] <= 20.5
    assert stats["median_delay_ms"] < 10


def test_stock_rsplib_sends_a_load_change_only_with_the_keepalive(harness):
    stats = numbers(run(harness, "rate", "10", "3", "1000").stdout)
    assert stats["registrations"] <= 4
    assert stats["max_delay_ms"] > 500


# ------------------------------------------------------------------ glibc 2.27
NEEDS_2_34 = """
#include <pthread.h>
static pthread_once_t once = PTHREAD_ONCE_INIT;
static void nothing(void) { }
int run_once(void) { return pthread_once(&once, nothing); }
"""


def test_ours_needs_no_glibc_newer_than_2_27(library):
    needs = glibc.version_needs(library)
    assert needs and not glibc.too_new(needs)
    assert max(glibc.glibc_version(need.version) for need in needs
               if glibc.glibc_version(need.version)) <= (2, 27)
    rsplibfix.check_glibc(library)


def test_version_needs_agree_with_objdump(library):
    dynamic = subprocess.run(["objdump", "-T", str(library)], capture_output=True, text=True,
                             check=True).stdout
    listed = set(re.findall(r"\*UND\*\s+\S+\s+\(?(GLIBC_[\d.]+)\)?\s+(\S+)", dynamic))
    parsed = {(need.version, symbol) for need in glibc.version_needs(library)
              for symbol in need.symbols}
    assert parsed == listed


def test_check_rejects_a_library_that_needs_glibc_2_34(tmp_path):
    source = tmp_path / "new.c"
    source.write_text(NEEDS_2_34)
    built = tmp_path / "libnew.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(built), str(source), "-pthread"],
                   check=True)
    with pytest.raises(rsplibfix.FixBuildError, match=r"pthread_once needs GLIBC_2\.34"):
        rsplibfix.check_glibc(built)


def test_build_fails_and_leaves_nothing_when_the_library_needs_glibc_2_34(tmp_path, monkeypatch):
    source = tmp_path / "freshload.c"
    source.write_text(NEEDS_2_34)
    monkeypatch.setattr(rsplibfix, "SOURCE", source)
    output = tmp_path / rsplibfix.LIBRARY_NAME
    with pytest.raises(rsplibfix.FixBuildError, match=r"glibc 2\.27.*pthread_once needs GLIBC_2\.34"):
        rsplibfix.ensure_built(output)
    assert list(tmp_path.iterdir()) == [source]
    assert main([str(output)]) == 1


def test_shippable_is_the_stripped_library_and_its_needs(tmp_path):
    shipped = rsplibfix.shippable(tmp_path / rsplibfix.LIBRARY_NAME)
    assert shipped.size == shipped.path.stat().st_size < 32 * 1024
    assert ".symtab" not in subprocess.run(["readelf", "-S", str(shipped.path)],
                                           capture_output=True, text=True).stdout
    assert {need.version for need in shipped.version_needs} >= {"GLIBC_2.2.5"}
    payload = shipped.gzip_base64()
    assert len(payload) == shipped.gzip_base64_size
    assert gzip.decompress(base64.b64decode(payload)) == shipped.path.read_bytes()
