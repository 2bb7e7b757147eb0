"""The pure parts of OSM Release EIGHT in the real-stack lab: the sources check, the venvs' pins and
cache key, the generated RO/LCM/NBI configs, the command lines, osmclient output parsing, the CLI's
refusals.  The real thing: tests/reallab/test_real_lab.py (marker reallab)."""

import ast
import configparser
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mecpool.reallab import osm, osm_configs, osm_proof, osm_sources, osm_venvs
from mecpool.reallab.cli import real_lab_command
from mecpool.reallab.osm_configs import OsmConfigError, OsmPaths, OsmSettings

ROOT = Path(__file__).resolve().parents[2]


# -- sources ------------------------------------------------------------------------------------------
def test_sources_folder_from_option_then_env_then_default(tmp_path):
    assert osm_sources.sources_dir("/x", {"MECPOOL_OSM_SOURCES": "/y"}) == Path("/x")
    assert osm_sources.sources_dir(None, {"MECPOOL_OSM_SOURCES": "/y"}) == Path("/y")
    assert osm_sources.sources_dir(None, {}, root=tmp_path / "repo") == \
        tmp_path / "shared" / "vendor" / "osm-release-eight"


def test_sources_check_names_the_setting_and_every_bad_archive(tmp_path):
    with pytest.raises(osm_sources.SourcesError, match="MECPOOL_OSM_SOURCES"):
        osm_sources.check(tmp_path / "nowhere")
    (tmp_path / "osm-lcm-v8.0.1rc1.tar.gz").write_bytes(b"not OSM's archive")
    with pytest.raises(osm_sources.SourcesError) as error:
        osm_sources.check(tmp_path, ("lcm", "ro"))
    assert "osm-lcm-v8.0.1rc1.tar.gz is not the pinned archive" in str(error.value)
    assert "osm-ro-v8.0.1rc1.tar.gz is missing" in str(error.value)


def test_every_component_is_pinned_by_sha256_and_commit():
    for c in osm_sources.COMPONENTS.values():
        assert len(c.sha256) == 64 and int(c.sha256, 16) >= 0
        assert c.commit and c.archive.endswith(f"-{osm_sources.TAG}.tar.gz") and c.top.endswith(osm_sources.TAG)


def _tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_unpack_keeps_to_the_components_top_directory(tmp_path):
    c = osm_sources.COMPONENTS["common"]
    good = tmp_path / "good.tar.gz"
    _tar(good, {f"{c.top}/setup.py": b"print()\n"})
    top = osm_sources.unpack(good, c, tmp_path / "src")
    assert (top / "setup.py").read_text() == "print()\n"
    bad = tmp_path / "bad.tar.gz"
    _tar(bad, {f"{c.top}/../evil": b"x"})
    with pytest.raises(osm_sources.SourcesError, match="outside"):
        osm_sources.unpack(bad, c, tmp_path / "src2")


def test_the_vendored_archives_match_the_pins_when_present():
    folder = osm_sources.default_dir()
    if not folder.is_dir():
        pytest.skip(f"no {folder}")
    assert set(osm_sources.check(folder)) == set(osm_sources.COMPONENTS)


# -- venvs --------------------------------------------------------------------------------------------
def test_shipped_pins_are_all_exact_and_load_in_order():
    for spec in osm_venvs.SPECS.values():
        text = osm_venvs.pins_text(spec)
        osm_venvs.check_pins(text, spec.name)
        assert spec.pins[0] == "common.txt"
        assert {i.component for i in spec.installs} <= set(osm_sources.COMPONENTS)


def test_crypto_libraries_are_kept_apart():
    ro = osm_venvs.requirement_lines(osm_venvs.pins_text(osm_venvs.SPECS["ro"]))
    lcm = osm_venvs.requirement_lines(osm_venvs.pins_text(osm_venvs.SPECS["lcm"]))
    assert "pycryptodome==3.10.1" in ro and not any(x.startswith("pycrypto==") for x in ro)
    assert "pycrypto==2.6.1" in lcm and not any(x.startswith("pycryptodome") for x in lcm)
    assert "kafka-python==2.0.2" in lcm and "PyMySQL==0.10.1" in ro


@pytest.mark.parametrize("line, word", [("cmd2>=0.8", "not pinned"), ("decorator", "not pinned"),
                                        ("six==1.16.0\nsix==1.15.0", "twice"), ("==1.0", "not pinned")])
def test_bad_pin_lines_are_refused(line, word):
    with pytest.raises(osm_venvs.VenvError, match=word):
        osm_venvs.check_pins(line + "\n", "pins.txt")


def test_pins_may_carry_a_marker_and_comments():
    osm_venvs.check_pins("# why\nenum34==1.1.10; python_version < \"3.4\"  # old\nsix==1.16.0\n", "x")


def test_cache_key_follows_every_input():
    spec = osm_venvs.SPECS["lcm"]
    sha = {c: "0" * 64 for c in osm_sources.COMPONENTS}
    key = osm_venvs.cache_key(spec, "six==1.16.0\n", "3.6.15", sha)
    assert key == osm_venvs.cache_key(spec, "six==1.16.0\n", "3.6.15", dict(sha))
    assert key != osm_venvs.cache_key(spec, "six==1.15.0\n", "3.6.15", sha)
    assert key != osm_venvs.cache_key(spec, "six==1.16.0\n", "3.6.14", sha)
    assert key != osm_venvs.cache_key(spec, "six==1.16.0\n", "3.6.15", {**sha, "nbi": "1" * 64})
    # an archive the venv does not install does not move its key
    assert key == osm_venvs.cache_key(spec, "six==1.16.0\n", "3.6.15", {**sha, "ro": "1" * 64})
    assert key != osm_venvs.cache_key(osm_venvs.SPECS["client"], "six==1.16.0\n", "3.6.15", sha)


def test_version_files_are_what_setuptools_version_command_reads(tmp_path):
    files = osm_venvs.version_files(tmp_path / "RO", "osm_ro")
    assert set(files) == {tmp_path / "RO/osm_ro.egg-info/version.txt",
                          tmp_path / "RO/osm_ro.egg-info/version_full.txt"}
    assert set(files.values()) == {osm_venvs.OSM_VERSION + "\n"}


def test_pip_check_complaints_other_than_the_expected_ones():
    spec = osm_venvs.SPECS["ro"]
    out = spec.expected_check[0] + "\nfoo 1.0 has requirement bar>=2, but you have bar 1.0.\n"
    assert osm_venvs.unexpected_check_lines(out, spec.expected_check) == [
        "foo 1.0 has requirement bar>=2, but you have bar 1.0."]
    assert osm_venvs.unexpected_check_lines("No broken requirements found.\n", ()) == []


def test_python36_from_the_setting_then_pyenv(tmp_path):
    fake = tmp_path / "py36"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert osm_venvs.find_python({"MECPOOL_PYTHON36": str(fake), "PATH": ""}, home=tmp_path) == fake
    pyenv = tmp_path / "pyenv" / "versions" / "3.6.15" / "bin" / "python3.6"
    pyenv.parent.mkdir(parents=True)
    pyenv.write_text("#!/bin/sh\n")
    pyenv.chmod(0o755)
    assert osm_venvs.find_python({"PYENV_ROOT": str(tmp_path / "pyenv"), "PATH": ""}, home=tmp_path) == pyenv
    with pytest.raises(osm_venvs.VenvError, match="pyenv install 3.6.15"):
        osm_venvs.find_python({"PATH": ""}, home=tmp_path / "nohome")


def test_pip_command_line():
    argv = osm_venvs.pip_install_argv(Path("/v/bin/python"), "--no-deps", "/src")
    assert argv[:4] == ["/v/bin/python", "-m", "pip", "install"] and argv[-2:] == ["--no-deps", "/src"]
    assert "--no-input" in argv


# -- configs ------------------------------------------------------------------------------------------
PATHS = OsmPaths(Path("/run/lab/osm"))


def test_ro_config_is_ros_yaml_on_the_stacks_mariadb():
    cfg = yaml.safe_load(osm_configs.ro_config(OsmSettings()))
    assert cfg["db_host"] == "127.0.0.1" and cfg["db_name"] == "mano_db" and cfg["db_user"] == "mano"
    assert (cfg["http_host"], cfg["http_port"]) == ("127.0.0.1", 9090)
    assert cfg["auto_push_VNF_to_VIMs"] is False


def test_lcm_config_memory_db_local_bus_no_tsdb_and_tool_standins():
    cfg = yaml.safe_load(osm_configs.lcm_config(OsmSettings(), PATHS, Path("/run/lab/logs/osm-lcm.log")))
    assert cfg["database"]["driver"] == "memory" and cfg["message"]["driver"] == "local"
    assert cfg["message"]["path"] == "/run/lab/osm/bus" and cfg["storage"]["path"] == "/run/lab/osm/storage"
    assert cfg["tsdb"] == {}
    assert cfg["database"]["commonkey"] == OsmSettings().commonkey   # VIM passwords encrypted, as installed
    assert cfg["RO"] == {"host": "127.0.0.1", "port": 9090, "tenant": "osm", "loglevel": "DEBUG"}
    assert {cfg["VCA"][k] for k in ("helmpath", "kubectlpath", "jujupath")} == {
        f"/run/lab/osm/tools/{t}" for t in osm_configs.TOOLS}
    assert cfg["global"]["logfile"].endswith("osm-lcm.log") and cfg["global"]["nologging"] is True
    assert "public_key" not in cfg["VCA"] and "ssh_private_key" not in cfg["VCA"]


def test_lcm_config_names_the_lab_vcas_key_pair():
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTest mecpool-reallab-vca"
    cfg = yaml.safe_load(osm_configs.lcm_config(OsmSettings(), PATHS, Path("/l.log"), key + "\n"))
    assert cfg["VCA"]["public_key"] == key            # LCM adds it to every VDU's keys
    assert cfg["VCA"]["ssh_private_key"] == "/run/lab/osm/vca/id_ed25519"
    with pytest.raises(osm_configs.OsmConfigError, match="vca_public_key"):
        osm_configs.lcm_config(OsmSettings(), PATHS, Path("/l.log"), "not a key")


def test_vca_key_pair_made_by_ssh_keygen(tmp_path):
    line = osm.make_vca_key(tmp_path / "vca" / "id_ed25519")
    assert line.startswith("ssh-ed25519 ") and (tmp_path / "vca" / "id_ed25519").is_file()
    assert osm.make_vca_key(tmp_path / "vca" / "id_ed25519") != line     # a new pair each run


def parse_cherrypy(text):
    parser = configparser.ConfigParser(delimiters=(":",), interpolation=None)
    parser.optionxform = str
    parser.read_string(text)
    return {s: {k: ast.literal_eval(v) for k, v in parser[s].items()} for s in parser.sections()}


def test_nbi_config_shares_storage_and_bus_with_lcm_and_uses_nbis_own_files():
    cfg = parse_cherrypy(osm_configs.nbi_config(OsmSettings(), PATHS, Path("/v/osm_nbi")))
    assert cfg["database"]["driver"] == "memory" and cfg["authentication"]["backend"] == "internal"
    assert cfg["storage"]["path"] == str(PATHS.storage) and cfg["message"]["path"] == str(PATHS.bus)
    assert cfg["global"]["server.socket_port"] == 9999 and cfg["global"]["server.socket_host"] == "127.0.0.1"
    assert cfg["global"]["server.ssl_certificate"] == "/v/osm_nbi/http/cert.pem"
    assert cfg["global"]["engine.autoreload.on"] is False
    assert cfg["rbac"]["roles_to_operations"] == "/v/osm_nbi/roles_to_operations.yml"
    assert "prometheus" in cfg


@pytest.mark.parametrize("field, value", [("ro_port", 0), ("nbi_port", 70000), ("ro_db", "mano-db; drop"),
                                          ("ro_db_password", "short"), ("ro_db_password", "has space ok?"),
                                          ("log_level", "LOUD"), ("ro_tenant", ""), ("commonkey", "k")])
def test_bad_settings_name_the_field(field, value):
    with pytest.raises(OsmConfigError, match=field):
        OsmSettings(**{field: value}).validate()


def test_same_port_twice_is_refused():
    with pytest.raises(OsmConfigError, match="ro_port and nbi_port"):
        OsmSettings(ro_port=9999).validate()


def test_tool_standins_fail_and_say_why(tmp_path):
    script = tmp_path / "helm"
    script.write_text(osm_configs.tool_standin("helm"))
    script.chmod(0o755)
    done = subprocess.run([str(script), "init", "--client-only"], capture_output=True, text=True)
    assert done.returncode == 1 and "no helm here" in done.stderr


# -- command lines ------------------------------------------------------------------------------------
def fake_venvs(tmp_path):
    return {n: osm_venvs.Venv(n, "k" * 64, tmp_path / n, True, 0.0) for n in ("ro", "lcm", "client")}


def test_ro_database_and_init_script_command():
    s = OsmSettings()
    sql = osm.ro_grants_sql(s)
    assert "CREATE DATABASE IF NOT EXISTS mano_db;" in sql and "'mano'@'%'" in sql and s.ro_db_password in sql
    argv = osm.ro_init_argv(Path("/src/init_mano_db.sh"), s)
    assert argv[:2] == ["bash", "/src/init_mano_db.sh"] and "-q" in argv
    assert argv[argv.index("-d") + 1] == "mano_db" and argv[argv.index("-P") + 1] == "3306"


def test_services_run_our_launcher_with_each_venvs_python(tmp_path):
    venvs = fake_venvs(tmp_path)
    ro, nbi_lcm = osm.services(venvs, OsmSettings(), PATHS)
    assert ro.argv[:3] == (str(tmp_path / "ro/venv/bin/python"), str(osm.LAUNCH), "ro")
    assert "--create-tenant=osm" in ro.argv and ro.port == 9090
    assert nbi_lcm.argv[:3] == (str(tmp_path / "lcm/venv/bin/python"), str(osm.LAUNCH), "nbi-lcm")
    assert nbi_lcm.argv[-1] == "--ssh-vca"       # the lab's VCA connector in place of N2VC's Juju one
    assert nbi_lcm.port == 9999 and dict(nbi_lcm.env)["HOME"] == str(PATHS.home)
    assert osm.nbi_package(venvs["lcm"]) == tmp_path / "lcm/venv/lib/python3.6/site-packages/osm_nbi"


def test_osmclient_environment_points_at_the_nbi(monkeypatch):
    monkeypatch.setenv("OS_PASSWORD", "callers")
    env = osm.client_env(OsmSettings(), PATHS)
    assert env["OSM_HOSTNAME"] == "127.0.0.1:9999" and env["OSM_USER"] == "admin"
    assert "OS_PASSWORD" not in env


def test_launcher_is_python36_and_refuses_bad_arguments(tmp_path):
    script = osm.LAUNCH
    vermin = Path(sys.executable).with_name("vermin")
    if vermin.exists():
        done = subprocess.run([str(vermin), "-t=3.6-", "--violations", "--no-tips", "--no-parse-comments",
                               str(script)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout
    try:
        python36 = osm_venvs.find_python()
    except osm_venvs.VenvError:
        pytest.skip("no Python 3.6 here")
    done = subprocess.run([str(python36), "-m", "py_compile", str(script)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPYCACHEPREFIX": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    done = subprocess.run([str(python36), str(script), "nbi-lcm", "--nbi-config", str(tmp_path / "no.cfg"),
                           "--lcm-config", str(tmp_path / "no.cfg")], capture_output=True, text=True)
    assert done.returncode == 2 and "--nbi-config: no file" in done.stderr


# -- osmclient output ---------------------------------------------------------------------------------
def test_osm_version_and_vim_output_parsing():
    assert osm_proof.server_version("Server version: 8.0.0.post1 2020-06-29\nClient version: 8.0.1rc1\n") == \
        "8.0.0.post1 2020-06-29"
    with pytest.raises(osm_proof.ProofError):
        osm_proof.server_version("ERROR: connection refused")
    shown = '| _admin | {\n|        |   "operationalState": "ENABLED",\n'
    assert osm_proof.operational_state(shown) == "ENABLED"
    assert osm_proof.operational_state("nothing") is None
    table = ("+-------------+--------------------------------------+\n"
             "| vim name    | uuid                                 |\n"
             "+-------------+--------------------------------------+\n"
             "| reallab-vim | 5f0e2b6c-0000-4000-8000-000000000000 |\n")
    assert osm_proof.listed(table, "reallab-vim") and not osm_proof.listed(table, "reallab")


def test_vim_create_arguments():
    args = osm_proof.VimAccount().create_args("http://127.0.0.1:5000/v3")
    assert args[0] == "vim-create" and args[-1] == "--wait"
    assert args[args.index("--account_type") + 1] == "openstack"
    assert args[args.index("--auth_url") + 1] == "http://127.0.0.1:5000/v3"


# -- CLI ----------------------------------------------------------------------------------------------
def test_cli_wants_one_mode(tmp_path):
    runner = CliRunner()
    for args in ([], ["--stack-only", "--osm-only"]):
        result = runner.invoke(real_lab_command, args + ["--out", str(tmp_path / "out")])
        assert result.exit_code == 2 and "--stack-only or --osm-only" in result.output
    result = runner.invoke(real_lab_command, ["--osm-only", "--no-smoke", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "--no-smoke goes with --stack-only" in result.output
    assert not (tmp_path / "out").exists()


def test_cli_osm_only_refuses_missing_sources_before_writing_anything(tmp_path):
    result = CliRunner().invoke(real_lab_command, ["--osm-only", "--osm-sources", str(tmp_path / "none"),
                                                   "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "c")])
    assert result.exit_code == 2
    assert "no folder" in result.output and "MECPOOL_OSM_SOURCES" in result.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "c").exists()


def test_lcm_bus_reader_drops_the_kafka_only_argument():
    """osm_common's MsgLocal.aioread hands unknown keyword arguments to the callback: LCM's
    `from_beginning=True` would reach kafka_read_callback(topic, command, params) and raise."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("osm_launch", osm.LAUNCH)
    launch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launch)
    calls = []

    class Bus:
        def aioread(self, topic, loop=None, callback=None, aiocallback=None, group_id=None, **kwargs):
            calls.append((topic, loop, callback, group_id, kwargs))
            return "coroutine"

    bus = Bus()
    launch.local_bus_reader(bus)
    assert bus.aioread(("ns", "vim_account"), "loop", "cb", from_beginning=True) == "coroutine"
    assert bus.aioread(("admin",), "loop", "cb", group_id=False) == "coroutine"
    assert calls == [(("ns", "vim_account"), "loop", "cb", None, {}), (("admin",), "loop", "cb", False, {})]


def test_ro_tenant_by_name():
    answer = {"tenants": [{"name": "osm", "uuid": "u-1"}, {"name": "other", "uuid": "u-2"}]}
    assert osm_proof.ro_tenant_uuid(answer, "osm") == "u-1"
    with pytest.raises(osm_proof.ProofError, match="0 tenants named nope"):
        osm_proof.ro_tenant_uuid(answer, "nope")


def test_memory_of_the_osm_processes_by_launcher_role():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(10)", str(osm.LAUNCH), "ro"])
    try:
        class Sandbox:
            def members(self):
                return [proc.pid, os.getpid()]
        import time
        for _ in range(50):          # until the child's argv is its own
            if str(osm.LAUNCH) in Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode():
                break
            time.sleep(0.05)
        found = osm.memory_mib(Sandbox())
        assert set(found) == {"osm-ro"} and found["osm-ro"] >= 0
    finally:
        proc.kill()
        proc.wait()


def test_wait_gone_polls_vim_list_until_the_account_is_not_listed():
    answers = iter(["| reallab-vim | u |\n", "| reallab-vim | u |\n", "| other | v |\n"])

    class Osm:
        calls = 0

        def osm(self, *args):
            Osm.calls += 1
            return subprocess.CompletedProcess(args, 0, next(answers), "")

    osm_proof.wait_gone(Osm(), "reallab-vim", timeout=5, interval=0.01)
    assert Osm.calls == 3
    with pytest.raises(osm_proof.ProofError, match="still listed"):
        osm_proof.wait_gone(type("O", (), {"osm": lambda self, *a: subprocess.CompletedProcess(
            a, 0, "| reallab-vim | u |\n", "")})(), "reallab-vim", timeout=0.05, interval=0.01)


def test_onboard_takes_vnf_packages_first_and_keeps_every_answer(tmp_path):
    from mecpool.reallab import osm_onboard
    with pytest.raises(osm_onboard.OnboardError, match="mecpool build"):
        osm_onboard.packages(tmp_path)
    for rel in ("vnf-packages/b.tar.gz", "vnf-packages/a.tar.gz", "ns-packages/ns.tar.gz"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    calls = []

    class Osm:
        def osm(self, *args, check=True, timeout=0):
            calls.append(args)
            refused = args[0] == "nspkg-create"
            return subprocess.CompletedProcess(args, 1 if refused else 0, "" if refused else "id-1\n",
                                               "ERROR: 422 bad" if refused else "")

        def mecpool(self, *args):
            calls.append(("mecpool",) + args)
            return subprocess.CompletedProcess(args, 0, "  ~ a updated\n", "")

    result = osm_onboard.run(Osm(), tmp_path, lambda m: None, site_file=Path("site.example.yaml"))
    assert [c[0] for c in calls[:3]] == ["nfpkg-create", "nfpkg-create", "nspkg-create"]
    assert calls[-1][:4] == ("mecpool", "onboard", "--site", str(Path("site.example.yaml").resolve()))
    assert result["mecpool_onboard"]["exit"] == 0
    assert calls[0][1].endswith("a.tar.gz") and calls[1][1].endswith("b.tar.gz")
    assert result["accepted"] == ["a.tar.gz", "b.tar.gz"] and result["refused"] == ["ns.tar.gz"]
    assert result["packages"]["ns.tar.gz"]["said"] == "ERROR: 422 bad"


def test_cli_onboard_needs_osm_only_and_built_packages(tmp_path):
    runner = CliRunner()
    result = runner.invoke(real_lab_command, ["--stack-only", "--onboard", str(tmp_path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--onboard goes with --osm-only" in result.output
    result = runner.invoke(real_lab_command, ["--osm-only", "--site", "x.yaml", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--site goes with --onboard" in result.output
    result = runner.invoke(real_lab_command, ["--osm-only", "--onboard", str(tmp_path / "nobuild"),
                                              "--out", str(tmp_path / "o"), "--cache", str(tmp_path / "c")])
    assert result.exit_code == 2 and "mecpool build" in result.output and not (tmp_path / "o").exists()
