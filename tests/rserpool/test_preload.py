"""Whether rspserver runs with librspfreshload: read from a process's real /proc/<pid>/maps."""

import os
import subprocess

import pytest

from mecpool import rsplibfix
from mecpool.rserpool import preload


@pytest.fixture(scope="module")
def library():
    return str(rsplibfix.ensure_built().resolve())


def maps_of(env_preload=None):
    """/proc/self/maps of a real process, with the library preloaded or not."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if env_preload:
        env["LD_PRELOAD"] = env_preload
    return subprocess.run(["cat", "/proc/self/maps"], env=env, capture_output=True, text=True,
                          check=True).stdout


def test_a_process_with_the_preload_has_it_mapped(library):
    assert preload.verdict(library, 4242, maps_of(library)) == (
        "yes", "loaded in pid 4242 from {}".format(library))


def test_a_preload_asked_for_but_not_loaded_is_no(library, tmp_path):
    verdict = preload.verdict(library, 4242, maps_of())
    assert verdict[0] == "no" and library in verdict[1]
    # ld.so ignores a preload it cannot open: the process runs, without it.
    missing = str(tmp_path / "librspfreshload.so")
    kind, text = preload.verdict(missing, 7, maps_of(missing))
    assert kind == "no" and "not loaded in pid 7" in text


def test_stock_settings_are_off_unless_the_library_is_mapped_anyway(library):
    assert preload.verdict(None, 9, maps_of())[0] == "off"
    assert preload.verdict(None, 9, maps_of(library))[0] == "yes"


def test_not_running_or_unreadable_is_unknown(library):
    assert preload.verdict(library, 0, None) == ("unknown", "the service is not running")
    assert preload.verdict(library, 12, None) == ("unknown", "/proc/12/maps is not readable")


def test_a_library_replaced_on_disk_is_still_the_one_loaded():
    line = "7f00-7f10 r-xp 00000000 fe:00 42    /usr/lib/mecpool/librspfreshload.so (deleted)\n"
    assert preload.mapped_files(line) == {"/usr/lib/mecpool/librspfreshload.so": True}
    kind, text = preload.verdict("/usr/lib/mecpool/librspfreshload.so", 5, line)
    assert kind == "yes" and text.endswith("replaced on disk since it started")
