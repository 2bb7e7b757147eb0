"""The Pool Element workload (no ops): unit, settings, adoption, rollback, status."""

import json
from pathlib import Path

import pytest

import charmtest
from charmhelpers_mecpool.errors import MecpoolError, ValidationError
from mecpool.rserpool import configure
from rsp_fakes import FakeVdu, fixture_text

workload = charmtest.load_charm_module("rsp-pool-element", "pool_element_workload")
SERVICE = "rsp-pool-element.service"
PARAMS = {"pool-handle": "CalcAppPool", "registrars": "10.1.0.2, 10.2.0.2:3863",
          "capacity": 1000000, "max-jobs": 4, "load-increment": "0.1", "local-address": "auto"}


@pytest.fixture
def vdu(tmp_path):
    (tmp_path / "units").mkdir()
    vdu = FakeVdu(tmp_path / "units", addresses=("10.1.0.5", "192.168.10.5"))
    vdu.route("10.1.0.2", "10.1.0.5")
    return vdu


@pytest.fixture
def pe(vdu, tmp_path):
    return make_pe(vdu, tmp_path)


def make_pe(vdu, tmp_path):
    return workload.PoolElementWorkload(run=vdu.runner, settings_path=str(tmp_path / "pe.json"),
                                        unit_dir=str(tmp_path / "units"), sleep=lambda s: None,
                                        library_package=str(tmp_path / "lib" / "mecpool" / "rserpool"),
                                        watchdog_state=str(tmp_path / "pe-watchdog.json"),
                                        proc_dir=str(tmp_path / "proc"))


def unit_text(tmp_path):
    return (tmp_path / "units" / SERVICE).read_text()


def settings_file(tmp_path):
    return json.loads((tmp_path / "pe.json").read_text())


def exec_argv(unit):
    line = [l for l in unit.splitlines() if l.startswith("ExecStart=")][0]
    return line[len("ExecStart="):].split()


def test_install_installs_rsplib_tools_once(pe, vdu):
    assert pe.install() == ["rsplib-tools"]
    vdu.runner.on(["dpkg-query"], stdout="rsplib-tools install ok installed\n")
    assert pe.install() == []
    assert vdu.runner.count(["apt-get", "install"]) == 1


def test_configure_renders_the_generated_unit_from_the_settings_file(pe, vdu, tmp_path):
    results = pe.configure(dict(PARAMS))
    settings = settings_file(tmp_path)
    assert settings == {"pool_handle": "CalcAppPool", "registrars": ["10.1.0.2", "10.2.0.2:3863"],
                        "capacity": 1000000, "max_jobs": 4, "load_increment": "0.1",
                        "local_address": "auto"}
    expected = configure.render("pool-element", settings, resolve=lambda d: "10.1.0.5")[1]
    assert unit_text(tmp_path) == expected
    argv = exec_argv(unit_text(tmp_path))
    assert argv[:5] == ["/usr/bin/rspserver", "-calcapp", "-poolhandle=CalcAppPool",
                        "-local=10.1.0.5:9000", "-asapannounce=off"]
    for option in ("-registrar=10.1.0.2:3863", "-registrar=10.2.0.2:3863",
                   "-policy=PriorityLeastUsed:0.1", "-capcapacity=1000000", "-capmaxjobs=4"):
        assert option in argv
    assert ["ip", "-o", "route", "get", "10.1.0.2"] in vdu.runner.argvs
    assert results["changed"] == "yes" and results["restarted"] == "yes"
    assert results["command"] == " ".join(argv)
    assert vdu.restarts(SERVICE) == 1
    vdu.hsdump_output = fixture_text("hsdump-source-format.txt")  # a registrar lists this PE
    assert pe.status() == ("active", "PE of CalcAppPool registered at 10.1.0.2: 1000000 calc/s, 4 jobs, "
                                     "load increment 0.1")


def test_status_waits_for_day1_then_for_the_registration(pe, vdu):
    """Waiting (not blocked) before OSM's configure; active only once a registrar lists the PE."""
    assert pe.status() == ("waiting", "waiting for OSM's day-1 'configure' action")
    pe.configure(dict(PARAMS, **{"local-address": "192.168.10.5"}))
    vdu.hsdump_output = fixture_text("hsdump-source-format.txt")  # lists 10.1.0.5, not this PE
    assert pe.status() == ("waiting", "running, not (yet) registered in CalcAppPool at 10.1.0.2")
    vdu.hsdump_code, vdu.hsdump_stderr = 1, "Unable to connect to registrar: Connection refused"
    kind, message = pe.status()
    assert kind == "waiting" and message.startswith("running; registrars not reachable: 10.1.0.2:9901:")


def test_second_identical_configure_changes_nothing(pe, vdu, tmp_path):
    pe.configure(dict(PARAMS))
    before = (tmp_path / "pe.json").stat().st_mtime_ns
    results = pe.configure(dict(PARAMS))
    assert (results["changed"], results["restarted"]) == ("no", "no")
    assert vdu.restarts(SERVICE) == 1
    assert (tmp_path / "pe.json").stat().st_mtime_ns == before


def cloud_init_start(tmp_path, vdu, settings):
    """What the PE VDU's cloud-init does: write the file, run the configurator, start."""
    (tmp_path / "pe.json").write_text(json.dumps(settings))
    assert configure.main(["pool-element", str(tmp_path / "pe.json"), str(tmp_path / "units")]) == 0
    vdu.active[SERVICE] = True


def test_configure_adopts_the_service_cloud_init_started(pe, vdu, tmp_path):
    cloud_init = {"pool_handle": "CalcAppPool", "registrars": "10.1.0.2,10.2.0.2",
                  "local_address": "10.1.0.5", "capacity": 1000000, "max_jobs": 4,
                  "load_increment": 0.1, "policy": "PriorityLeastUsed"}
    cloud_init_start(tmp_path, vdu, cloud_init)
    file_before = (tmp_path / "pe.json").read_text()
    unit_before = unit_text(tmp_path)
    results = pe.configure(dict(PARAMS, **{"local-address": "10.1.0.5"}))
    assert (results["changed"], results["restarted"]) == ("no", "no")
    assert (tmp_path / "pe.json").read_text() == file_before
    assert unit_text(tmp_path) == unit_before
    assert vdu.restarts(SERVICE) == 0
    assert vdu.runner.count(["systemctl", "daemon-reload"]) == 0


def test_configure_takes_over_differing_cloud_init_settings_keeping_its_extra_keys(pe, vdu, tmp_path):
    cloud_init_start(tmp_path, vdu, {"pool_handle": "CalcAppPool", "registrars": "10.1.0.2",
                                     "local_address": "auto", "capacity": 500000, "max_jobs": 2,
                                     "load_increment": 0.3, "identifier": 77})
    results = pe.configure(dict(PARAMS))
    assert results["restarted"] == "yes"
    settings = settings_file(tmp_path)
    assert settings["identifier"] == 77 and settings["capacity"] == 1000000
    assert "-identifier=0x0000004d" in exec_argv(unit_text(tmp_path))
    assert vdu.restarts(SERVICE) == 1


@pytest.mark.parametrize("change, param", [
    ({"pool-handle": "bad handle!"}, "pool-handle"),
    ({"pool-handle": ""}, "pool-handle"),
    ({"registrars": ""}, "registrars"),
    ({"registrars": "10.1.0.300"}, "registrars"),
    ({"registrars": "10.1.0.2,10.1.0.2"}, "registrars"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": True}, "capacity"),
    ({"max-jobs": 0}, "max-jobs"),
    ({"max-jobs": "many"}, "max-jobs"),
    ({"load-increment": "abc"}, "load-increment"),
    ({"load-increment": "1.5"}, "load-increment"),
    ({"load-increment": "nan"}, "load-increment"),
    ({"local-address": "10.9.9.9"}, "local-address"),     # not on this VDU
    ({"local-address": "somewhere"}, "local-address"),
    ({"local-address": 5}, "local-address"),
    ({"registrars": "10.7.0.2"}, "local-address"),         # auto: no route to it
])
def test_bad_params_name_the_parameter_and_touch_nothing(pe, vdu, tmp_path, change, param):
    vdu.runner.on(["ip", "-o", "route", "get", "10.7.0.2"], returncode=2,
                  stderr="RTNETLINK answers: Network is unreachable")
    with pytest.raises(ValidationError) as caught:
        pe.configure(dict(PARAMS, **change))
    assert caught.value.param == param
    assert not (tmp_path / "pe.json").exists()
    assert not (tmp_path / "units" / SERVICE).exists()
    assert vdu.restarts(SERVICE) == 0


def test_missing_param_is_named(pe):
    params = dict(PARAMS)
    del params["max-jobs"]
    with pytest.raises(ValidationError) as caught:
        pe.configure(params)
    assert caught.value.param == "max-jobs"


def test_reconfigure_changes_only_what_it_is_given(pe, vdu, tmp_path):
    with pytest.raises(MecpoolError, match="run the 'configure' action first"):
        pe.reconfigure({"capacity": 2000000})
    pe.configure(dict(PARAMS))
    results = pe.reconfigure({"capacity": 2000000, "load-increment": "0.25"})
    assert results["restarted"] == "yes"
    argv = exec_argv(unit_text(tmp_path))
    assert "-capcapacity=2000000" in argv and "-policy=PriorityLeastUsed:0.25" in argv
    assert "-capmaxjobs=4" in argv and "-poolhandle=CalcAppPool" in argv
    assert settings_file(tmp_path)["max_jobs"] == 4
    assert vdu.restarts(SERVICE) == 2
    again = pe.reconfigure({"capacity": 2000000, "load-increment": "0.25"})
    assert (again["changed"], again["restarted"]) == ("no", "no")
    assert pe.reconfigure({})["changed"] == "no"
    assert vdu.restarts(SERVICE) == 2


@pytest.mark.parametrize("params, param", [
    ({"capacity": -5}, "capacity"),
    ({"max-jobs": 100000}, "max-jobs"),
    ({"load-increment": "ten percent"}, "load-increment"),
    ({"pool-handle": "OtherPool"}, "pool-handle"),
])
def test_bad_reconfigure_leaves_the_running_service(pe, vdu, tmp_path, params, param):
    pe.configure(dict(PARAMS))
    unit, settings = unit_text(tmp_path), (tmp_path / "pe.json").read_text()
    with pytest.raises(ValidationError) as caught:
        pe.reconfigure(params)
    assert caught.value.param == param
    assert unit_text(tmp_path) == unit and (tmp_path / "pe.json").read_text() == settings
    assert vdu.restarts(SERVICE) == 1 and vdu.active[SERVICE]


def test_reconfigure_that_does_not_start_restores_settings_and_unit(pe, vdu, tmp_path):
    pe.configure(dict(PARAMS))
    unit, settings = unit_text(tmp_path), (tmp_path / "pe.json").read_text()
    vdu.fails = lambda text: "-capmaxjobs=9" in text
    with pytest.raises(MecpoolError) as caught:
        pe.reconfigure({"max-jobs": 9})
    message = str(caught.value)
    assert message.startswith("new settings not applied, previous settings restored and the "
                              "service runs as before: rsp-pool-element.service did not start")
    assert "bind failed" in message
    assert unit_text(tmp_path) == unit and (tmp_path / "pe.json").read_text() == settings
    assert vdu.active[SERVICE] is True


def test_restart(pe, vdu):
    with pytest.raises(MecpoolError, match="configure"):
        pe.restart()
    pe.configure(dict(PARAMS))
    assert pe.restart() == {"service": SERVICE, "active": "yes"}
    vdu.fails = lambda text: True
    with pytest.raises(MecpoolError, match="not active after start"):
        pe.restart()
    assert pe.status() == ("blocked", "rsp-pool-element.service is not running")


def test_pe_status_finds_this_pe_at_the_registrar(pe, vdu):
    with pytest.raises(MecpoolError, match="configure"):
        pe.pe_status()
    pe.configure(dict(PARAMS))
    vdu.hsdump_output = fixture_text("hsdump-source-format.txt")
    results = pe.pe_status()
    assert ["hsdump", "10.1.0.2:9901"] in vdu.runner.argvs
    assert results == {
        "service": "active",
        "settings": {"pool-handle": "CalcAppPool", "registrars": "10.1.0.2,10.2.0.2:3863",
                     "capacity": "1000000", "max-jobs": "4", "load-increment": "0.1",
                     "local-address": "auto"},
        "registered": "yes", "registrar": "10.1.0.2:9901", "identifier": "0x1a2b3c4d",
        "load": "0.25", "load-increment": "0.1", "home-registrar": "0x00000001",
            "watchdog": "no check yet (checked -, 0 restarts)",
            "freshload": "unknown", "freshload-detail": "/proc/4242/maps is not readable"}


def test_pe_status_asks_the_next_registrar_when_one_fails(pe, vdu):
    pe.configure(dict(PARAMS))
    vdu.hsdump_by_endpoint["10.1.0.2:9901"] = (1, "", "Unable to connect to registrar")
    vdu.hsdump_output = fixture_text("hsdump-source-format.txt")
    results = pe.pe_status()
    assert results["registered"] == "yes" and results["registrar"] == "10.2.0.2:9901"


def test_pe_status_not_registered_and_unknown(pe, vdu):
    pe.configure(dict(PARAMS, **{"local-address": "192.168.10.5"}))
    vdu.hsdump_output = fixture_text("hsdump-source-format.txt")
    results = pe.pe_status()
    assert results["registered"] == "no" and results["local-endpoint"] == "192.168.10.5:9000"
    vdu.hsdump_code, vdu.hsdump_stderr = 1, "Unable to connect to registrar: Connection refused"
    results = pe.pe_status()
    assert results["registered"] == "unknown"
    assert "10.1.0.2:9901" in results["registrar-error"]
    assert "10.2.0.2:9901" in results["registrar-error"]
    vdu.active[SERVICE] = False
    assert pe.pe_status()["service"] == "inactive"


def test_broken_settings_file(pe, vdu, tmp_path):
    (tmp_path / "pe.json").write_text("{not json")
    with pytest.raises(MecpoolError, match="not valid JSON"):
        pe.status()
    # configure replaces it.
    pe.configure(dict(PARAMS))
    assert settings_file(tmp_path)["pool_handle"] == "CalcAppPool"


def test_pe_status_against_real_hsdump_output(tmp_path):
    # The testbed's real run: PR 10.1.0.1, this PE 10.1.0.2:9000, PLU +10 %.
    (tmp_path / "units").mkdir()
    vdu = FakeVdu(tmp_path / "units", addresses=("10.1.0.2",))
    vdu.route("10.1.0.1", "10.1.0.2")
    vdu.hsdump_output = (workload_fixture_root() / "smoke-1pu-1pe" / "hsdump.txt").read_text()
    pe = make_pe(vdu, tmp_path)
    pe.configure(dict(PARAMS, registrars="10.1.0.1"))
    results = pe.pe_status()
    assert ["hsdump", "10.1.0.1:9901"] in vdu.runner.argvs
    assert (results["registered"], results["identifier"], results["load"],
            results["load-increment"]) == ("yes", "0x9e0ac1e6", "0", "0.1")


def workload_fixture_root():
    return charmtest.REPO / "tests" / "testbed" / "fixtures"


def test_configure_installs_and_starts_the_watchdog_cloud_init_installs(pe, vdu, tmp_path):
    """The same unit as the PE's cloud-init (configure.companion_units), the charm's own copy of
    mecpool.rserpool where that unit runs it from, and the watchdog running."""
    pe.configure(dict(PARAMS))
    (name, text), = configure.companion_units("pool-element", str(tmp_path / "pe.json"))
    assert (tmp_path / "units" / name).read_text() == text
    library = tmp_path / "lib" / "mecpool" / "rserpool"
    source = Path(configure.__file__).parent
    assert (library / "watchdog.py").read_text() == (source / "watchdog.py").read_text()
    assert (library / "configure.py").read_text() == (source / "configure.py").read_text()
    assert vdu.restarts(name) == 1
    # Adopted and unchanged on the next configure: the watchdog is left alone.
    pe.configure(dict(PARAMS))
    assert vdu.restarts(name) == 1


def test_pe_status_reports_the_watchdogs_verdict(pe, vdu, tmp_path):
    pe.configure(dict(PARAMS))
    vdu.hsdump_output = fixture_text("hsdump-source-format.txt")
    (tmp_path / "pe-watchdog.json").write_text(json.dumps({
        "verdict": "no registrar association for 40 s (restart after 60 s)", "checked_at": "2026-12-06T04:00:00Z",
        "restarts": 2}))
    assert pe.pe_status()["watchdog"] == ("no registrar association for 40 s (restart after 60 s) "
                                          "(checked 2026-12-06T04:00:00Z, 2 restarts)")


def fake_library(tmp_path):
    """Where a test's cloud-init put librspfreshload (configure checks it is there)."""
    library = tmp_path / "usr-lib" / "librspfreshload.so"
    library.parent.mkdir(exist_ok=True)
    library.write_bytes(b"\x7fELF")
    return str(library)


def cloud_init_with_preload(tmp_path, vdu):
    library = fake_library(tmp_path)
    cloud_init_start(tmp_path, vdu, {"pool_handle": "CalcAppPool", "registrars": "10.1.0.2",
                                     "local_address": "auto", "capacity": 500000, "max_jobs": 4,
                                     "load_increment": 0.1, "policy": "PriorityLeastUsed",
                                     "preload": library})
    return library


def test_configure_and_reconfigure_keep_the_preload_cloud_init_set(pe, vdu, tmp_path):
    """The PE's cloud-init asks for librspfreshload (rsplib.freshload); the day-1 configure
    and a reconfigure rewrite the unit and keep rspserver preloading it."""
    library = cloud_init_with_preload(tmp_path, vdu)
    preloaded = ["/usr/bin/env", "LD_PRELOAD=" + library, "rspserver", "-calcapp"]
    assert exec_argv(unit_text(tmp_path))[:4] == preloaded
    assert pe.configure(dict(PARAMS))["restarted"] == "yes"      # capacity and registrars differ
    assert settings_file(tmp_path)["preload"] == library
    assert exec_argv(unit_text(tmp_path))[:4] == preloaded
    assert "-capcapacity=1000000" in exec_argv(unit_text(tmp_path))
    pe.reconfigure({"max-jobs": 8})
    assert settings_file(tmp_path)["preload"] == library
    argv = exec_argv(unit_text(tmp_path))
    assert argv[:4] == preloaded and "-capmaxjobs=8" in argv


def test_pe_status_says_whether_rspserver_has_the_library_mapped(pe, vdu, tmp_path):
    library = cloud_init_with_preload(tmp_path, vdu)
    vdu.pids[SERVICE] = 1234
    maps = tmp_path / "proc" / "1234" / "maps"
    maps.parent.mkdir(parents=True)
    maps.write_text("55d0-55d1 r-xp 00000000 fe:00 1 /usr/bin/rspserver\n"
                    "7f00-7f01 r-xp 00001000 fe:00 2 {}\n".format(library))
    status = pe.pe_status()
    assert (status["freshload"], status["freshload-detail"]) == (
        "yes", "loaded in pid 1234 from {}".format(library))
    maps.write_text("55d0-55d1 r-xp 00000000 fe:00 1 /usr/bin/rspserver\n")
    assert pe.pe_status()["freshload"] == "no"
    vdu.active[SERVICE] = False
    assert pe.pe_status()["freshload"] == "unknown"


def test_pe_status_of_a_stock_pe_says_off(pe, vdu, tmp_path):
    pe.configure(dict(PARAMS))
    maps = tmp_path / "proc" / "4242" / "maps"
    maps.parent.mkdir(parents=True)
    maps.write_text("55d0-55d1 r-xp 00000000 fe:00 1 /usr/bin/rspserver\n")
    assert pe.pe_status()["freshload"] == "off"
