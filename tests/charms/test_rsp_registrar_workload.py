"""The Pool Registrar workload (no ops): exact commands, unit, settings, rollback."""

import json

import pytest

import charmtest
from charmhelpers_mecpool.errors import MecpoolError, ValidationError
from mecpool.rserpool import configure
from rsp_fakes import FakeVdu, fixture_text

workload = charmtest.load_charm_module("rsp-registrar", "registrar_workload")
SERVICE = "rsp-registrar.service"
CONFIG = {"identifier": 0, "loglevel": 2, "endpoint-keepalive-ms": 1000}


@pytest.fixture
def vdu(tmp_path):
    return FakeVdu(tmp_path / "units", addresses=("10.1.0.2", "192.168.10.5"))


@pytest.fixture
def registrar(vdu, tmp_path):
    (tmp_path / "units").mkdir()
    return workload.RegistrarWorkload(run=vdu.runner, settings_path=str(tmp_path / "registrar.json"),
                                      unit_dir=str(tmp_path / "units"), sleep=lambda s: None)


def unit_text(tmp_path):
    return (tmp_path / "units" / SERVICE).read_text()


def test_install_installs_both_packages_and_masks_debians_registrar(registrar, vdu):
    assert registrar.install() == ["rsplib-registrar", "rsplib-tools"]
    argvs = vdu.runner.argvs
    assert ["apt-get", "install", "-y", "--no-install-recommends", "rsplib-registrar",
            "rsplib-tools"] in argvs
    assert ["systemctl", "mask", "rsplib-registrar.service"] in argvs
    # A second install changes nothing: packages present, service already masked.
    vdu.runner.on(["dpkg-query"], stdout="rsplib-registrar install ok installed\n"
                                         "rsplib-tools install ok installed\n")
    before = vdu.runner.count(["systemctl", "mask"])
    assert registrar.install() == []
    assert vdu.runner.count(["systemctl", "mask"]) == before
    assert vdu.runner.count(["apt-get", "install"]) == 1


def test_configure_writes_settings_and_the_generated_unit(registrar, vdu, tmp_path):
    results = registrar.configure({"address": "10.1.0.2", "peers": "10.2.0.2, 10.3.0.2:9901"},
                                  {"identifier": 0x2a, "loglevel": 3,
                                   "endpoint-keepalive-ms": 2000})
    settings = json.loads((tmp_path / "registrar.json").read_text())
    assert settings == {"address": "10.1.0.2", "peers": ["10.2.0.2", "10.3.0.2:9901"],
                        "identifier": 42, "loglevel": 3, "endpoint_keepalive_ms": 2000}
    # The unit is exactly what the one generator makes from those settings.
    assert unit_text(tmp_path) == configure.render("registrar", settings)[1]
    exec_start = results["command"].split()
    assert exec_start[:3] == ["/usr/bin/rspregistrar", "-asap=10.1.0.2:3863", "-enrp=10.1.0.2:9901"]
    assert "-peer=10.2.0.2:9901" in exec_start and "-peer=10.3.0.2:9901" in exec_start
    assert "-identifier=0x0000002a" in exec_start and "-loglevel=3" in exec_start
    assert "-endpointkeepalivetransmissioninterval=2000" in exec_start
    assert results["changed"] == "yes" and results["restarted"] == "yes"
    assert vdu.restarts(SERVICE) == 1
    assert registrar.status() == ("active", "registrar 10.1.0.2 (ASAP 3863, ENRP 9901), 2 peers")


@pytest.mark.parametrize("config", [{"identifier": 0, "loglevel": 2},
                                    {"identifier": 0, "loglevel": 2, "endpoint-keepalive-ms": 0}])
def test_keepalive_0_or_unset_is_rsplibs_default(registrar, vdu, tmp_path, config):
    """What the build passes with rsplib.freshload (PEs with librspfreshload), and the
    charm's default: no keep-alive option, RSPLIB's own 5 s."""
    results = registrar.configure({"address": "10.1.0.2", "peers": ""}, config)
    assert not any(word.startswith("-endpointkeepalive") for word in results["command"].split())


def test_second_identical_configure_changes_nothing(registrar, vdu, tmp_path):
    params = {"address": "10.1.0.2", "peers": "10.2.0.2"}
    registrar.configure(params, CONFIG)
    mtime = (tmp_path / "registrar.json").stat().st_mtime_ns
    results = registrar.configure(params, CONFIG)
    assert results["changed"] == "no" and results["restarted"] == "no"
    assert vdu.restarts(SERVICE) == 1
    assert vdu.runner.count(["systemctl", "daemon-reload"]) == 1
    assert (tmp_path / "registrar.json").stat().st_mtime_ns == mtime


@pytest.mark.parametrize("params, param", [
    ({"address": "10.1.0.300"}, "address"),
    ({"address": ""}, "address"),
    ({}, "address"),
    ({"address": "10.9.9.9"}, "address"),               # not on this VDU
    ({"address": "10.1.0.2", "peers": "10.2.0.2:99999"}, "peers"),
    ({"address": "10.1.0.2", "peers": "10.2.0.2,10.2.0.2"}, "peers"),
    ({"address": "10.1.0.2", "peers": "10.1.0.2"}, "peers"),  # itself
    ({"address": "10.1.0.2", "peers": 5}, "peers"),
])
def test_bad_params_name_the_parameter_and_touch_nothing(registrar, vdu, tmp_path, params, param):
    with pytest.raises(ValidationError) as caught:
        registrar.configure(params, CONFIG)
    assert caught.value.param == param
    assert not (tmp_path / "registrar.json").exists()
    assert not (tmp_path / "units" / SERVICE).exists()
    assert vdu.restarts(SERVICE) == 0


@pytest.mark.parametrize("config, param", [
    ({"identifier": -1, "loglevel": 2}, "identifier"),
    ({"identifier": 2 ** 32, "loglevel": 2}, "identifier"),
    ({"identifier": "7", "loglevel": 2}, "identifier"),
    ({"identifier": 0, "loglevel": 10}, "loglevel"),
    ({"identifier": 0, "loglevel": True}, "loglevel"),
    ({"identifier": 0, "loglevel": 2, "endpoint-keepalive-ms": 299}, "endpoint-keepalive-ms"),
    ({"identifier": 0, "loglevel": 2, "endpoint-keepalive-ms": "1000"}, "endpoint-keepalive-ms"),
])
def test_bad_config_names_the_option_and_leaves_the_service(registrar, vdu, tmp_path, config, param):
    registrar.configure({"address": "10.1.0.2"}, CONFIG)
    before = unit_text(tmp_path)
    with pytest.raises(ValidationError) as caught:
        registrar.apply_config(config, CONFIG)
    assert caught.value.param == param
    assert unit_text(tmp_path) == before
    assert vdu.restarts(SERVICE) == 1


def test_config_change_rerenders_only_when_configured(registrar, vdu, tmp_path):
    changed = dict(CONFIG, identifier=5, loglevel=1)
    assert registrar.apply_config(changed, CONFIG) is None
    assert vdu.restarts(SERVICE) == 0
    registrar.configure({"address": "10.1.0.2"}, CONFIG)
    results = registrar.apply_config(changed, CONFIG)
    assert results["restarted"] == "yes"
    assert "-identifier=0x00000005" in unit_text(tmp_path)
    assert "-loglevel=1" in unit_text(tmp_path)
    assert registrar.apply_config(changed, changed) is None
    assert vdu.restarts(SERVICE) == 2


def test_deploy_time_defaults_leave_the_cloud_init_registrar_alone(registrar, vdu, tmp_path):
    """The registrar cloud-init started (the site's identifier, log level and keep-alive) is
    not restarted by Juju's deploy-time config-changed with the charm's defaults, nor by OSM's
    day-1 "config" with the same values; a later change of one option applies that one."""
    site = {"identifier": 0x101, "loglevel": 3, "endpoint-keepalive-ms": 1000}
    registrar.configure({"address": "10.1.0.2"}, site)      # what cloud-init's settings hold
    started = unit_text(tmp_path)
    defaults = {"identifier": 0, "loglevel": 2, "endpoint-keepalive-ms": 0}
    assert registrar.apply_config(defaults, None) is None
    assert registrar.apply_config(site, defaults)["restarted"] == "no"
    assert unit_text(tmp_path) == started and vdu.restarts(SERVICE) == 1
    results = registrar.apply_config(dict(site, loglevel=5), site)
    assert results["restarted"] == "yes"
    assert "-loglevel=5" in unit_text(tmp_path) and "-identifier=0x00000101" in unit_text(tmp_path)


def test_config_change_validates_even_when_nothing_applies(registrar, vdu, tmp_path):
    with pytest.raises(ValidationError) as caught:
        registrar.apply_config(dict(CONFIG, loglevel=12), None)
    assert caught.value.param == "loglevel"


def test_a_unit_that_does_not_start_is_rolled_back(registrar, vdu, tmp_path):
    registrar.configure({"address": "10.1.0.2"}, CONFIG)
    good_unit = unit_text(tmp_path)
    good_settings = (tmp_path / "registrar.json").read_text()
    vdu.fails = lambda text: "-asap=192.168.10.5:3863" in text
    with pytest.raises(MecpoolError) as caught:
        registrar.configure({"address": "192.168.10.5"}, CONFIG)
    message = str(caught.value)
    assert "did not start" in message and "bind failed" in message
    assert message.startswith("new settings not applied, previous settings restored and the service runs as before")
    assert unit_text(tmp_path) == good_unit
    assert (tmp_path / "registrar.json").read_text() == good_settings
    assert vdu.active[SERVICE] is True


def test_first_configure_that_does_not_start_leaves_no_unit(registrar, vdu, tmp_path):
    vdu.fails = lambda text: True
    with pytest.raises(MecpoolError) as caught:
        registrar.configure({"address": "10.1.0.2"}, CONFIG)
    assert "no previous configuration, the new unit was removed" in str(caught.value)
    assert not (tmp_path / "units" / SERVICE).exists()
    assert not (tmp_path / "registrar.json").exists()
    assert registrar.status() == ("waiting", "waiting for OSM's day-1 'configure' action")


def test_restart_needs_configuration_and_checks_the_service(registrar, vdu):
    with pytest.raises(MecpoolError, match="run the 'configure' action first"):
        registrar.restart()
    registrar.configure({"address": "10.1.0.2"}, CONFIG)
    assert registrar.restart() == {"service": SERVICE, "active": "yes"}
    assert vdu.restarts(SERVICE) == 2
    vdu.fails = lambda text: True
    with pytest.raises(MecpoolError, match="not active after start"):
        registrar.restart()


def test_pool_status_runs_hsdump_against_itself_and_structures_the_result(registrar, vdu):
    vdu.hsdump_output = fixture_text("hsdump-source-format.txt")
    registrar.configure({"address": "10.1.0.2"}, CONFIG)
    results = registrar.pool_status()
    assert ["hsdump", "10.1.0.2:9901"] in vdu.runner.argvs
    assert results["summary"] == "1 pool, 2 pool elements"
    pool = results["pools"]["pool-1"]
    assert pool["handle"] == "CalcAppPool" and pool["policy"] == "PriorityLeastUsed"
    assert pool["elements"]["pe-1a2b3c4d"] == {
        "identifier": "0x1a2b3c4d", "addresses": "10.1.0.5", "port": "9000",
        "load": "0.25", "load-increment": "0.1", "home-registrar": "0x00000001"}
    assert pool["elements"]["pe-5e6f7081"]["addresses"] == "10.2.0.7,192.168.50.7"
    assert results["peers"]["pr-00000002"]["addresses"] == "10.1.0.2"
    assert json.loads(results["json"])["pools"][0]["elements"][1]["load_increment"] == 0.3


def test_pool_status_failures(registrar, vdu):
    with pytest.raises(MecpoolError, match="configure"):
        registrar.pool_status()
    registrar.configure({"address": "10.1.0.2"}, CONFIG)
    vdu.hsdump_code, vdu.hsdump_stderr = 1, "Unable to connect to registrar: Connection refused"
    with pytest.raises(MecpoolError, match="Connection refused"):
        registrar.pool_status()
    vdu.hsdump_code, vdu.hsdump_output = 0, "something else entirely\n"
    with pytest.raises(MecpoolError, match="not hsdump output"):
        registrar.pool_status()
    vdu.active[SERVICE] = False
    with pytest.raises(MecpoolError, match="is not running"):
        registrar.pool_status()


def test_pool_status_of_real_hsdump_output(tmp_path):
    (tmp_path / "units").mkdir()
    vdu = FakeVdu(tmp_path / "units", addresses=("10.1.0.1",))
    vdu.hsdump_output = (charmtest.REPO / "tests" / "testbed" / "fixtures" / "smoke-1pu-1pe"
                         / "hsdump.txt").read_text()
    registrar = workload.RegistrarWorkload(run=vdu.runner, settings_path=str(tmp_path / "pr.json"),
                                           unit_dir=str(tmp_path / "units"), sleep=lambda s: None)
    registrar.configure({"address": "10.1.0.1"}, CONFIG)
    results = registrar.pool_status()
    assert results["summary"] == "1 pool, 1 pool element"
    assert results["pools"]["pool-1"]["elements"] == {"pe-9e0ac1e6": {
        "identifier": "0x9e0ac1e6", "addresses": "10.1.0.2", "port": "9000", "load": "0",
        "load-increment": "0.1", "home-registrar": "0xf2c8aaa7"}}
    assert "peers" not in results
