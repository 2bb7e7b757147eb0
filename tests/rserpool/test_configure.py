"""Settings JSON -> unit: the path cloud-init and the charms share."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mecpool.rserpool import configure
from mecpool.rserpool.commands import ConfigError
from mecpool.rserpool.units import exec_start, quote_exec_arg

ROOT = Path(__file__).resolve().parents[2]

PE_SETTINGS = {
    "pool_handle": "CalcAppPool",
    "registrars": "10.101.0.10, 10.106.0.10:3863",
    "local_address": "10.101.0.33",
    "capacity": 1000000,
    "max_jobs": 4,
    "load_increment": 0.1,
}


def exec_argv(unit_text):
    line = next(l for l in unit_text.splitlines() if l.startswith("ExecStart="))
    return line[len("ExecStart="):].split(" ")


def test_pool_element_unit_runs_the_generated_argv():
    name, text = configure.render("pool-element", PE_SETTINGS)
    assert name == "rsp-pool-element.service"
    argv = exec_argv(text)
    assert argv[0] == "/usr/bin/rspserver"
    assert "-registrar=10.101.0.10:3863" in argv and "-registrar=10.106.0.10:3863" in argv
    assert "-local=10.101.0.33:9000" in argv
    assert "KillSignal=SIGINT" in text and "Restart=always" in text


def test_pool_element_writes_only_to_its_state_directory():
    """Found by the VDU lab: under ProtectSystem=strict the working directory was
    read-only, rspserver could not open its default calcapppoolelement.vec in it
    and exited at start, for ever (Restart=always)."""
    _, text = configure.render("pool-element", PE_SETTINGS)
    lines = text.splitlines()
    assert "ProtectSystem=strict" in lines
    assert "StateDirectory=rsp-pool-element" in lines
    assert "WorkingDirectory=/var/lib/rsp-pool-element" in lines
    argv = exec_argv(text)
    assert "-capscalar=/var/lib/rsp-pool-element/calcapppoolelement.sca" in argv
    assert "-capvector=/dev/null" in argv   # no per-job file growing for the life of the VDU
    files = [a.split("=", 1)[1] for a in argv if a.startswith(("-capscalar=", "-capvector=", "-logfile="))]
    assert all(f == "/dev/null" or f.startswith("/var/lib/rsp-pool-element/") for f in files)


def test_auto_local_address_resolves_towards_first_registrar():
    seen = []

    def resolve(destination):
        seen.append(destination)
        return "10.101.0.77"

    settings = dict(PE_SETTINGS, local_address="auto")
    config = configure.pool_element_from_settings(settings, resolve=resolve)
    assert seen == ["10.101.0.10"] and config.local_address == "10.101.0.77"


def test_registrar_unit():
    name, text = configure.render("registrar", {"address": "10.101.0.10", "peers": "10.106.0.10",
                                                "identifier": "0x101", "loglevel": 3})
    assert name == "rsp-registrar.service"
    assert exec_argv(text) == ["/usr/bin/rspregistrar", "-asap=10.101.0.10:3863", "-enrp=10.101.0.10:9901",
                               "-asapannounce=off", "-enrpannounce=off", "-loglevel=3", "-logcolor=off",
                               "-peer=10.106.0.10:9901", "-identifier=0x00000101"]


def test_unknown_setting_is_named():
    with pytest.raises(ConfigError) as caught:
        configure.render("pool-element", dict(PE_SETTINGS, capacty=5))
    assert caught.value.field == "pool_element.capacty"


def test_systemd_quoting_escapes_specifiers_and_spaces():
    assert quote_exec_arg("-x=50%") == "-x=50%%"
    assert quote_exec_arg("a b") == '"a b"'
    assert quote_exec_arg("$HOME") == "$$HOME"
    assert exec_start(["rspserver", "-a"]) == "/usr/bin/rspserver -a"


def run_module(tmp_path, role, settings):
    settings_file = tmp_path / "settings.json"
    settings_file.write_text(json.dumps(settings))
    units = tmp_path / "units"
    units.mkdir(exist_ok=True)
    result = subprocess.run([sys.executable, "-m", "mecpool.rserpool.configure", role, str(settings_file),
                             str(units)], cwd=ROOT, capture_output=True, text=True)
    return result, units


def test_module_entry_point_writes_the_same_unit_as_the_function(tmp_path):
    result, units = run_module(tmp_path, "pool-element", PE_SETTINGS)
    assert result.returncode == 0, result.stderr
    assert (units / "rsp-pool-element.service").read_text() == configure.render("pool-element", PE_SETTINGS)[1]


def test_module_entry_point_rejects_bad_settings_and_writes_nothing(tmp_path):
    result, units = run_module(tmp_path, "pool-element", dict(PE_SETTINGS, max_jobs=0))
    assert result.returncode == 2
    assert "pool_element.max_jobs" in result.stderr
    assert list(units.iterdir()) == []


def test_main_refuses_a_preload_that_is_not_there(tmp_path, capsys):
    """ld.so would only warn and run rspserver stock: the configure step fails instead,
    naming the field, and writes no unit."""
    settings = tmp_path / "pe.json"
    settings.write_text(json.dumps({"pool_handle": "P", "registrars": ["10.1.0.2"], "local_address": "10.1.0.5",
                                    "preload": str(tmp_path / "missing.so")}))
    units = tmp_path / "units"
    units.mkdir()
    assert configure.main(["pool-element", str(settings), str(units)]) == 2
    assert "pool_element.preload: {} does not exist".format(tmp_path / "missing.so") in capsys.readouterr().err
    assert list(units.iterdir()) == []
    (tmp_path / "missing.so").write_bytes(b"\x7fELF")
    assert configure.main(["pool-element", str(settings), str(units)]) == 0
    unit = (units / "rsp-pool-element.service").read_text()
    assert "ExecStart=/usr/bin/env LD_PRELOAD={} rspserver -calcapp ".format(tmp_path / "missing.so") in unit
