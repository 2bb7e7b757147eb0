"""The Juju 2.8 stand-in of the VDU lab (mecpool.vdulab.jujustandin).

* the hook tools driven by the real ops 1.5.4 ``_ModelBackend`` (the built
  charms' lib/), and by hand for Juju's refusals and output formats;
* runner.py around a small ops charm built here on the built charms' dispatch
  and lib/ (install, config-changed, a failing start, two actions);
* runner.py around the real built pool charms, for what is harmless on a
  host: refused parameters and config, and events that only read.

The VM side runs with the oldest python3 found (3.6 where pyenv has it): the
VDUs run these files with theirs.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mecpool.packaging import charms
from mecpool.rserpool import configure
from mecpool.vdulab import jujustandin
from mecpool.vdulab.jujustandin import hooktool, runner

REPO = Path(__file__).resolve().parents[2]
HOOKTOOL = jujustandin.STANDIN_DIR / "hooktool.py"
POOL_CHARMS = ("rsp-pool-element", "rsp-registrar")


def vm_python():
    """$MECPOOL_VM_PYTHON, else a working python3.6 (the oldest VDU python3), else this one."""
    if os.environ.get("MECPOOL_VM_PYTHON"):
        return os.environ["MECPOOL_VM_PYTHON"]
    candidates = sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.6.*/bin/python3.6"))
    candidates += [c for c in [shutil.which("python3.6")] if c]
    for candidate in candidates:  # a pyenv shim may exist and still refuse to run
        if subprocess.run([candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 6)"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            return candidate
    return sys.executable


VM_PYTHON = vm_python()


@pytest.fixture(scope="module")
def vm_path(tmp_path_factory):
    """PATH whose python3 is VM_PYTHON (dispatch runs "python3")."""
    directory = tmp_path_factory.mktemp("vm-bin")
    (directory / "python3").symlink_to(VM_PYTHON)
    return "{}:{}".format(directory, os.environ.get("PATH", "/usr/bin:/bin"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The pool charms built as `make` builds them (tests/charms/test_built_charms.py's way)."""
    vendor = charms.ensure_vendor(REPO / "build" / "vendor", REPO)
    out = tmp_path_factory.mktemp("charms")
    return dict((name, charms.build_charm(name, REPO, out, vendor)) for name in POOL_CHARMS)


# -- the hook tools ---------------------------------------------------------------------

class Tools(object):
    """A state directory and the hook tools, run as ops runs them (by name, via PATH)."""

    UNIT = "probe/0"

    def __init__(self, root):
        self.state = root / "state"
        self.bin = Path(runner.install_tools(str(self.state), python=VM_PYTHON))
        self.env = {
            "PATH": "{}:{}".format(self.bin, os.environ.get("PATH", "/usr/bin:/bin")),
            hooktool.STATE_ENV: str(self.state), "JUJU_UNIT_NAME": self.UNIT,
            "JUJU_MODEL_NAME": "vdulab", "JUJU_MODEL_UUID": "0a1b2c3d-0000-4000-8000-000000000000",
            "JUJU_VERSION": runner.JUJU_VERSION, "JUJU_CONTEXT_ID": "probe/0-test-1",
            "JUJU_HOOK_NAME": "update-status",
        }
        self.write(hooktool.CHARM_FILE, {
            "name": "probe", "bindings": ["pool"], "storage": ["data"],
            "config-options": {"greeting": {"type": "string", "default": "hello"},
                               "count": {"type": "int", "default": 3},
                               "flag": {"type": "boolean", "default": None}}})
        self.write(hooktool.CONFIG_FILE, {"count": 5})
        self.write(hooktool.RELATIONS_FILE, {"3": {
            "endpoint": "db", "remote-app": "pg",
            "remote-units": {"pg/0": {"host": "10.0.0.9"}, "pg/1": {"host": "10.0.0.10"}},
            "remote-app-data": {"version": "12"}, "local-unit-data": {}, "local-app-data": {}}})
        self.write(hooktool.STORAGE_FILE, {"instances": {
            "data/0": {"kind": "filesystem", "location": "/srv/data"}}})
        self.write(hooktool.NETWORK_FILE, {"bindings": {"pool": {
            "bind-addresses": [{"mac-address": "52:54:00:12:34:56", "interface-name": "ens4",
                                "addresses": [{"hostname": "", "value": "10.10.0.5",
                                               "cidr": "10.10.0.0/24"}]}],
            "egress-subnets": ["10.10.0.5/32"], "ingress-addresses": ["10.10.0.5"]}},
            "private-address": "10.0.0.5", "public-address": "192.0.2.5"})
        self.write(hooktool.RESOURCES_FILE, {"rsplib": "/var/lib/juju/resources/rsplib.deb"})

    def write(self, name, value):
        path = self.state / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))

    def read(self, name):
        return json.loads((self.state / name).read_text())

    def in_action(self, params, action_id="7"):
        self.write(os.path.join(hooktool.ACTIONS_DIR, action_id + ".json"),
                   {"id": action_id, "name": "probe", "params": params, "results": {}})
        self.env.update(JUJU_ACTION_NAME="probe", JUJU_ACTION_UUID=action_id, JUJU_HOOK_NAME="")
        return os.path.join(hooktool.ACTIONS_DIR, action_id + ".json")

    def __call__(self, name, *args, stdin=None):
        return subprocess.run([str(self.bin / name)] + list(args), env=self.env,
                              input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=60)


@pytest.fixture
def tools(tmp_path):
    return Tools(tmp_path)


# Every call ops 1.5.4's _ModelBackend makes, in the order the assertions read them.
OPS_DRIVER = r"""
import json, os
import ops.storage
from ops.model import Network, _ModelBackend

backend = _ModelBackend()
out = {}

def attempt(key, call):
    try:
        out[key] = call()
    except Exception as error:
        out[key] = "raised " + type(error).__name__

unit, app = backend.unit_name, backend.app_name
attempt("relation_ids", lambda: backend.relation_ids("db"))
attempt("relation_ids_none", lambda: backend.relation_ids("nothing"))
attempt("relation_list", lambda: backend.relation_list(3))
attempt("remote_app", lambda: backend.relation_remote_app_name(3))
attempt("remote_unit_data", lambda: backend.relation_get(3, "pg/0", False))
attempt("remote_app_data", lambda: backend.relation_get(3, "pg", True))
attempt("set_unit", lambda: backend.relation_set(3, "note", "two\nlines: 'q' \"dq\" \u00e9 #x",
                                                 False))
attempt("set_app", lambda: backend.relation_set(3, "shared", "- not a list", True))
attempt("local_unit_data", lambda: backend.relation_get(3, unit, False))
attempt("local_app_data", lambda: backend.relation_get(3, app, True))
attempt("delete_unit", lambda: backend.relation_set(3, "note", "", False))
attempt("after_delete", lambda: backend.relation_get(3, unit, False))
attempt("missing_list", lambda: backend.relation_list(99))
attempt("missing_get", lambda: backend.relation_get(99, "pg/0", False))
attempt("missing_app", lambda: backend.relation_remote_app_name(99))
attempt("config", backend.config_get)
attempt("leader", backend.is_leader)
attempt("status_set", lambda: backend.status_set("blocked", "needs a registrar"))
attempt("status_get", backend.status_get)
attempt("app_status_set", lambda: backend.status_set("waiting", "1 of 2", is_app=True))
attempt("app_status_get", lambda: backend.status_get(is_app=True))
attempt("bad_status", lambda: backend.status_set("error", "no"))
attempt("version", lambda: backend.application_version_set("3.4.4"))
attempt("log", lambda: backend.juju_log("WARNING", "careful: --not-a-flag"))
network = Network(backend.network_get("pool"))
out["network"] = [str(network.bind_address), network.interfaces[0].name,
                  str(network.interfaces[0].subnet), [str(a) for a in network.ingress_addresses],
                  [str(s) for s in network.egress_subnets]]
attempt("network_default", lambda: str(Network(backend.network_get("juju-info")).bind_address))
attempt("network_unknown", lambda: backend.network_get("nothing"))
attempt("storage_list", lambda: backend.storage_list("data"))
attempt("storage_get", lambda: backend.storage_get("data/0", "location"))
attempt("storage_event", lambda: list(backend._storage_event_details()))
attempt("storage_add", lambda: backend.storage_add("data", 2))
attempt("action_get", backend.action_get)
attempt("action_log", lambda: backend.action_log("step 1 of 2"))
attempt("action_set", lambda: backend.action_set({"pool": {"handle": "mec", "pe-count": 2},
                                                  "ok": True, "cmd": "a=b"}))
attempt("action_fail", lambda: backend.action_fail("no registrar answered"))
attempt("metrics", lambda: backend.add_metrics({"jobs": 4, "load": 0.5}, {"site": "mec"}))
attempt("planned_units", backend.planned_units)
attempt("resource", lambda: backend.resource_get("rsplib"))
state = ops.storage._JujuStorageBackend()
value = {"text": "multi\nline: x # y", "list": [1, "two", None], "nested": {"a": [True]}}
attempt("state_set", lambda: state.set('StoredStateData["_stored"]', value))
attempt("state_get", lambda: state.get('StoredStateData["_stored"]'))
attempt("state_delete", lambda: state.delete('StoredStateData["_stored"]'))
attempt("state_gone", lambda: state.get('StoredStateData["_stored"]'))
print(json.dumps(out))
"""


def test_ops_154_model_backend_against_the_tools(tools, built):
    """ops 1.5.4 (the built charm's lib/) calls every tool with its flags and parses the output."""
    record = tools.in_action({"pool-handle": "mec", "capacity": 5})
    tools.env.update(PYTHONPATH=str(built["rsp-pool-element"] / "lib"),
                     JUJU_STORAGE_ID="data/0", JUJU_HOOK_NAME="collect-metrics")
    completed = subprocess.run([VM_PYTHON, "-c", OPS_DRIVER], env=tools.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    out = json.loads(completed.stdout)
    assert out["relation_ids"] == [3] and out["relation_ids_none"] == []
    assert out["relation_list"] == ["pg/0", "pg/1"] and out["remote_app"] == "pg"
    assert out["remote_unit_data"] == {"host": "10.0.0.9"}
    assert out["remote_app_data"] == {"version": "12"}
    assert out["local_unit_data"] == {"note": "two\nlines: 'q' \"dq\" \u00e9 #x"}
    assert out["local_app_data"] == {"shared": "- not a list"}
    assert out["after_delete"] == {}
    assert out["missing_list"] == out["missing_get"] == "raised RelationNotFoundError"
    assert out["missing_app"] is None
    assert out["config"] == {"greeting": "hello", "count": 5}  # flag: no default, not set
    assert out["leader"] is True
    assert out["status_get"] == {"status": "blocked", "message": "needs a registrar",
                                 "status-data": {}}
    assert out["app_status_get"] == {"status": "waiting", "message": "1 of 2"}
    assert out["bad_status"] == "raised ModelError"
    assert out["network"] == ["10.10.0.5", "ens4", "10.10.0.0/24", ["10.10.0.5"],
                              ["10.10.0.5/32"]]
    assert out["network_default"] == "10.0.0.5"  # juju-info: the unit's private address
    assert out["network_unknown"] == "raised ModelError"
    assert out["storage_list"] == [0] and out["storage_get"] == "/srv/data"
    assert out["storage_event"] == [0, "/srv/data"]
    assert out["action_get"] == {"pool-handle": "mec", "capacity": 5}
    assert out["planned_units"] == 1
    assert out["resource"] == "/var/lib/juju/resources/rsplib.deb"
    assert out["state_get"] == {"text": "multi\nline: x # y", "list": [1, "two", None],
                                "nested": {"a": [True]}}
    assert out["state_gone"] == "raised KeyError"

    action = tools.read(record)
    # action-set's dotted keys come back nested; every value is a string, as in Juju.
    assert action["results"] == {"pool": {"handle": "mec", "pe-count": "2"}, "ok": "True",
                                 "cmd": "a=b"}
    assert action["failed"] is True and action["message"] == "no registrar answered"
    assert [entry["message"] for entry in action["logs"]] == ["step 1 of 2"]
    history = tools.read(hooktool.UNIT_STATUS_FILE)["history"]
    assert [(h["status"], h["message"]) for h in history] == [("blocked", "needs a registrar")]
    assert tools.read(hooktool.VERSION_FILE)["version"] == "3.4.4"
    log = tools.read(hooktool.LOG_FILE)
    assert [(e["level"], e["message"]) for e in log] == [("WARNING", "careful: --not-a-flag")]
    assert log[0]["context"] == "probe/0-test-1"
    assert tools.read(hooktool.STORAGE_FILE)["requested"] == [{"name": "data", "count": 2}]
    metrics = tools.read(hooktool.METRICS_FILE)
    assert [(m["key"], m["value"], m["labels"]) for m in metrics] == [
        ("jobs", "4", {"site": "mec"}), ("load", "0.5", {"site": "mec"})]


@pytest.mark.parametrize("args, code, error", [
    # action-set: Juju's key rule per dotted part, and its reserved keys
    (["action-set", "Result=1"], 2, 'key "Result" must start and end with lowercase'),
    (["action-set", "a_b=1"], 2, 'key "a_b" must start'),
    (["action-set", "a..b=1"], 2, 'key "" must start'),
    (["action-set", "abc\n=1"], 2, 'key "abc\\n" must start'),  # Go's $ is the very end
    (["action-set", "-a=1"], 2, "option provided but not defined: -a"),
    (["action-set", "x.stdout=1"], 2, 'cannot set reserved action key "stdout"'),
    (["action-set", "novalue"], 2, 'argument "novalue" must be of the form key...=value'),
    (["action-fail", "a", "b"], 2, 'unrecognized args: ["b"]'),
    (["action-log"], 2, "no message specified"),
    (["status-set", "error", "x"], 2,
     'invalid status "error", expected one of [maintenance blocked waiting active]'),
    (["status-set"], 2, "invalid args, require <status> [message]"),
    (["status-set", "active", "a", "b"], 2, 'unrecognized args: ["b"]'),
    (["status-set", "--application=maybe", "active"], 2, "invalid boolean value"),
    (["status-get", "extra"], 2, 'unrecognized args: ["extra"]'),
    (["config-get", "--all", "count"], 2, 'cannot use argument --all together with key "count"'),
    (["config-get", "--format", "xml"], 2, 'unknown format "xml"'),
    (["juju-log"], 2, "no message specified"),
    (["is-leader", "--bogus"], 2, "option provided but not defined: --bogus"),
    (["relation-list"], 2, "no relation id specified"),
    (["relation-list", "-r", "db:99"], 2,
     'invalid value "db:99" for option -r: relation not found'),
    (["relation-get", "-r", "3", "host"], 2, "no unit or application specified"),
    (["relation-set", "-r", "3", "novalue"], 2, 'expected "key=value", got "novalue"'),
    (["open-port", "70000"], 2, 'port must be in the range [1, 65535]; got "70000"'),
    (["open-port", "80/sctp"], 2, 'protocol must be "tcp", "udp", or "icmp"; got "sctp"'),
    (["open-port", "90-80"], 2, "invalid port range 90-80/tcp"),
    (["network-get", "pool", "--primary-address", "--bind-address"], 1,
     "--primary-address must be the only flag specified"),
    (["unit-get", "hostname"], 2, 'unknown setting "hostname"'),
    (["state-get", "--strict", "nothing"], 1, '"nothing" not found'),
    (["add-metric", "jobs=4"], 1, "metrics not allowed in this context"),
    (["leader-set", "a"], 2, 'expected "key=value", got "a"'),
    (["storage-get", "-s", "logs/1"], 2, 'storage instance "logs/1" not found'),
    (["action-get"], 1, "not running an action"),
    (["action-set", "a=1"], 1, "not running an action"),
])
def test_refusals_are_jujus(tools, args, code, error):
    completed = tools(*args)
    assert completed.returncode == code, completed.stderr
    assert completed.stderr.startswith("ERROR ") and error in completed.stderr
    assert completed.stdout == ""


def test_action_tools(tools):
    record = tools.in_action({"pool-handle": "mec", "nested": {"a": {"b": 1.0}}, "tag": "<x>"})
    assert tools("action-get", "pool-handle").stdout == "mec\n"
    assert tools("action-get", "nested.a.b").stdout == "1\n"  # JSON 1.0 is Go's float64 1
    assert tools("action-get", "nested.nothing").stdout == ""
    assert tools("action-get", "--format=json", "nested.nothing").stdout == "null\n"
    assert tools("action-get", "--format", "json").stdout == (
        '{"nested":{"a":{"b":1}},"pool-handle":"mec","tag":"\\u003cx\\u003e"}\n')
    assert yaml.safe_load(tools("action-get").stdout) == {
        "nested": {"a": {"b": 1}}, "pool-handle": "mec", "tag": "<x>"}
    for args in (["a.b=1", "a.c=2"], ["x=1"], ["x.y=2"], ["a=3", "a.d=4"], ["e="], ["f=g=h"]):
        assert tools("action-set", *args).returncode == 0
    # Juju's addValueToMap: a key replaces a map and a map replaces a key.
    assert tools.read(record)["results"] == {"a": {"d": "4"}, "x": {"y": "2"}, "e": "",
                                             "f": "g=h"}
    assert tools("action-fail").returncode == 0
    assert tools.read(record)["message"] == hooktool.DEFAULT_FAIL_MESSAGE
    assert tools("action-log", "several", "words").returncode == 0
    assert tools.read(record)["logs"][-1]["message"] == "several words"


def test_status_tools(tools):
    assert tools("status-get").stdout == "unknown\n"
    # UTF-8 whatever the locale, as Juju's Go tools (Python 3.6 would use ASCII under C).
    tools.env["LC_ALL"] = "C"
    assert tools("status-set", "waiting", "f\u00fcr \u00e9").returncode == 0
    assert json.loads(tools("status-get", "--include-data", "--format=json").stdout)[
        "message"] == "f\u00fcr \u00e9"
    assert tools("status-set", "maintenance", "").returncode == 0
    assert tools("status-set", "active").returncode == 0  # the message is optional
    assert tools("status-get").stdout == "active\n"
    assert tools("status-get", "--format=json").stdout == '{"status":"active"}\n'
    assert json.loads(tools("status-get", "--include-data", "--format=json").stdout) == {
        "status": "active", "message": "", "status-data": {}}
    assert tools("status-set", "--application", "blocked", "app down").returncode == 0
    assert json.loads(tools("status-get", "--application", "--include-data",
                            "--format=json").stdout) == {"application-status": {
                                "status": "blocked", "message": "app down", "status-data": {},
                                "units": {"probe/0": {"status": "active", "message": "",
                                                      "status-data": {}}}}}
    history = tools.read(hooktool.UNIT_STATUS_FILE)["history"]
    assert [h["status"] for h in history] == ["waiting", "maintenance", "active"]


def test_config_leader_and_state_tools(tools):
    assert yaml.safe_load(tools("config-get").stdout) == {"greeting": "hello", "count": 5}
    assert json.loads(tools("config-get", "--all", "--format=json").stdout) == {
        "greeting": "hello", "count": 5, "flag": None}
    assert tools("config-get", "-a", "--format=json").stdout == tools(
        "config-get", "--all", "--format=json").stdout
    assert tools("config-get", "count").stdout == "5\n"
    assert tools("config-get", "flag").stdout == ""
    assert tools("config-get", "flag", "--format=json").stdout == "null\n"
    assert tools("is-leader").stdout == "True\n"
    assert tools("is-leader", "--format=json").stdout == "true\n"
    assert tools("leader-set", "a=1", "b= two ").returncode == 0
    assert tools("leader-get", "b").stdout == "two\n"
    assert tools("leader-set", "a=").returncode == 0  # empty deletes
    assert json.loads(tools("leader-get", "--format=json").stdout) == {"b": "two"}
    stdin = yaml.safe_dump({"k1": "v: 1", "k2": "multi\nline"})
    assert tools("state-set", "--file", "-", "k2=override", stdin=stdin).returncode == 0
    assert tools("state-get", "k1").stdout == "v: 1\n"
    assert json.loads(tools("state-get", "--format=json").stdout) == {"k1": "v: 1",
                                                                      "k2": "override"}
    assert tools("state-delete", "k1").returncode == 0
    assert tools("state-get", "k1").stdout == ""


def test_log_ports_network_and_storage_tools(tools):
    assert tools("juju-log", "-l", "debug", "--", "--looks like a flag").returncode == 0
    assert tools("juju-log", "--log-level", "verbose", "odd", "level").returncode == 0
    assert tools("juju-log", "--debug", "x").returncode == 0
    log = tools.read(hooktool.LOG_FILE)
    assert [(e["level"], e["message"]) for e in log] == [
        ("DEBUG", "--looks like a flag"), ("WARNING", 'Specified log level of "verbose" is not '
                                                      "valid"),
        ("INFO", "odd level"), ("DEBUG", "x")]
    for spec in ("80", "8000-8080/UDP", "icmp", "80/tcp"):
        assert tools("open-port", spec).returncode == 0, spec
    assert tools("opened-ports").stdout == "80/tcp\n8000-8080/udp\nicmp\n"
    assert tools("close-port", "80").returncode == 0
    assert json.loads(tools("opened-ports", "--format=json").stdout) == ["8000-8080/udp", "icmp"]
    assert tools("network-get", "pool", "--ingress-address").stdout == "10.10.0.5\n"
    assert json.loads(tools("network-get", "pool", "--bind-address", "--egress-subnets",
                            "--format=json").stdout) == {"bind-address": "10.10.0.5",
                                                         "egress-subnets": ["10.10.0.5/32"]}
    # Juju 2.8 writes "value"/"mac-address" in JSON but "address"/"macaddress" in YAML.
    smart = yaml.safe_load(tools("network-get", "pool").stdout)
    assert smart["bind-addresses"][0]["addresses"][0]["address"] == "10.10.0.5"
    assert smart["bind-addresses"][0]["macaddress"] == "52:54:00:12:34:56"
    assert tools("network-get", "-r", "db:3", "pool", "--primary-address").stdout == "10.10.0.5\n"
    assert tools("unit-get", "public-address").stdout == "192.0.2.5\n"
    assert tools("storage-list").stdout == "data/0\n"
    assert tools("storage-get", "-s", "data/0", "kind").stdout == "filesystem\n"
    tools.env["JUJU_STORAGE_ID"] = "data/0"
    assert "\n-s  (= data/0)\n" in tools("storage-get", "--help").stdout
    assert yaml.safe_load(tools("storage-get").stdout) == {"kind": "filesystem",
                                                          "location": "/srv/data"}


def test_relation_tools_by_hand(tools):
    tools.env.update(JUJU_RELATION="db", JUJU_RELATION_ID="db:3", JUJU_REMOTE_UNIT="pg/1",
                     JUJU_REMOTE_APP="pg")
    assert tools("relation-ids").stdout == "db:3\n"  # the hook's relation by default
    assert tools("relation-list").stdout == "pg/0\npg/1\n"
    assert tools("relation-list", "--app").stdout == "pg\n"
    assert tools("relation-get", "host").stdout == "10.0.0.10\n"  # the remote unit by default
    assert tools("relation-get", "-r", "3", "-", "pg/0", "--format=json").stdout == (
        '{"host":"10.0.0.9"}\n')
    assert tools("relation-get", "--app", "version", "pg/0").stdout == "12\n"  # unit -> its app
    assert tools("relation-set", "--file", "-", "b=2", stdin="a: '1'\nb: x\n").returncode == 0
    assert json.loads(tools("relation-get", "--format=json", "-", "probe/0").stdout) == {
        "a": "1", "b": "2"}
    assert tools("relation-get", "-", "other/0").returncode == 1
    assert tools("juju-log", "in a relation").returncode == 0
    assert tools.read(hooktool.LOG_FILE)[-1]["message"] == "db:3: in a relation"
    goal = json.loads(tools("goal-state", "--format=json").stdout)
    assert sorted(goal["units"]) == ["probe/0"] and sorted(goal["relations"]["db"]) == [
        "pg", "pg/0", "pg/1"]


def test_broken_state_is_an_error_not_a_traceback(tools):
    (tools.state / hooktool.CONFIG_FILE).write_text("{not json")
    completed = tools("config-get")
    assert completed.returncode == 1
    assert completed.stderr.startswith("ERROR broken stand-in state")
    tools.env[hooktool.STATE_ENV] = str(tools.state / "nowhere")
    completed = tools("status-get")
    assert completed.returncode == 1 and "is not a state directory" in completed.stderr


def test_hooktool_by_its_own_name_lists_the_tools():
    completed = subprocess.run([VM_PYTHON, str(HOOKTOOL)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert completed.returncode == 2
    assert "unknown hook tool" in completed.stderr and "action-set" in completed.stderr


# -- the YAML ops sends to relation-set/state-set --file - ------------------------------

class _Dumper(yaml.SafeDumper):
    pass


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.dictionaries(st.text(min_size=1, max_size=30), st.text(max_size=200), max_size=4),
       st.sampled_from(["relation-set", "state-set", "narrow"]))
def test_flat_yaml_reads_what_pyyaml_writes(data, how):
    if how == "relation-set":  # ops' relation_set
        text = yaml.safe_dump(data, encoding="utf8").decode()
    elif how == "state-set":  # ops' _JujuStorageBackend.set
        text = yaml.dump(data, encoding="utf8", default_style="|", default_flow_style=False,
                         Dumper=_Dumper).decode()
    else:  # folded over many lines
        text = yaml.safe_dump(data, width=12)
    assert hooktool.parse_flat_yaml(text) == (yaml.safe_load(text) or {})


JSON_VALUES = st.recursive(
    st.one_of(st.text(max_size=40), st.integers(), st.booleans(), st.none(),
              st.floats(allow_nan=False, allow_infinity=False)),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.text(max_size=10), children, max_size=3)),
    max_leaves=10)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(JSON_VALUES)
def test_yaml_output_reads_back(value):
    """--format=yaml (and smart for maps) is YAML that reads back as the value."""
    text = hooktool.to_yaml(value)
    assert (yaml.safe_load(text) if text else None) == hooktool.go_value(value)


@pytest.mark.parametrize("text, expected", [
    ("a: plain # comment\nb: ~\n", {"a": "plain", "b": ""}),
    ("a: >\n  folded\n  text\n\n  para\n", {"a": "folded text\npara\n"}),
    ("a: |+\n  keep\n\nb: |-\n  strip\n", {"a": "keep\n\n", "b": "strip"}),
    ("? long key\n: value\n", {"long key": "value"}),
    ("---\n{}\n", {}),
])
def test_flat_yaml_forms(text, expected):
    assert hooktool.parse_flat_yaml(text) == expected


@pytest.mark.parametrize("text", ["a:\n  b: c\n", "a: [1, 2]\n", "a: &x 1\n", "- a\n",
                                  "a: !!str x\n", "a: 'open\n"])
def test_flat_yaml_refuses_more_than_flat_scalars(text):
    with pytest.raises(hooktool.YamlError):
        hooktool.parse_flat_yaml(text)


# -- runner.py around a small ops 1.5.4 charm ---------------------------------------------

PROBE_CHARM = '''#!/usr/bin/env python3
import logging
from ops.charm import CharmBase
from ops.framework import StoredState
from ops.main import main
from ops.model import ActiveStatus, MaintenanceStatus

logger = logging.getLogger(__name__)


class ProbeCharm(CharmBase):
    _stored = StoredState()

    def __init__(self, framework):
        super().__init__(framework)
        self._stored.set_default(events=0)
        for event in (self.on.install, self.on.config_changed):
            framework.observe(event, self._on_event)
        framework.observe(self.on.start, self._on_start)
        framework.observe(self.on.report_action, self._on_report)
        framework.observe(self.on.explode_action, self._on_explode)

    def _on_event(self, event):
        self._stored.events += 1
        logger.info("%s number %d", event.handle.kind, self._stored.events)
        self.unit.status = MaintenanceStatus("working")
        self.unit.status = ActiveStatus("{} x{}".format(self.config["greeting"],
                                                        self.config["count"]))

    def _on_start(self, event):
        if self.config["greeting"] == "crash":
            raise RuntimeError("asked to crash")

    def _on_report(self, event):
        event.log("reporting")
        if event.params["handle"] == "crash":
            event.set_results({"partial": "yes"})
            raise RuntimeError("report crashed")
        self.unit.set_workload_version("1.0")
        event.set_results({"pool": {"handle": event.params["handle"],
                                    "size": event.params["size"]},
                           "leader": self.unit.is_leader(), "events": self._stored.events})

    def _on_explode(self, event):
        event.fail("boom: {}".format(self.config["greeting"]))


if __name__ == "__main__":
    # Controller-side state: every event goes through state-get/state-set too.
    main(ProbeCharm, use_juju_for_storage=True)
'''

PROBE_FILES = {
    "metadata.yaml": "name: probe\nsummary: probe\ndescription: probe\nseries: [focal]\n",
    "config.yaml": "options:\n"
                   "  greeting: {type: string, default: hello, description: text}\n"
                   "  count: {type: int, default: 3, description: a number}\n"
                   "  verbose: {type: boolean, description: no default}\n",
    "actions.yaml": "report:\n"
                    "  description: nested results\n"
                    "  params:\n"
                    "    handle: {type: string, description: pool handle}\n"
                    "    size: {type: integer, default: 4, description: pool size}\n"
                    "  required: [handle]\n"
                    "  additionalProperties: false\n"
                    "explode:\n"
                    "  description: fails\n"
                    "  additionalProperties: false\n",
}


@pytest.fixture(scope="module")
def probe(built, tmp_path_factory):
    """A charm laid out like the built ones: their dispatch and lib/ (ops 1.5.4), our src/."""
    charm = tmp_path_factory.mktemp("probe") / "probe"
    source = built["rsp-pool-element"]
    shutil.copytree(str(source / "lib"), str(charm / "lib"))
    shutil.copy2(str(source / "dispatch"), str(charm / "dispatch"))
    for name, text in PROBE_FILES.items():
        (charm / name).write_text(text)
    (charm / "src").mkdir()
    (charm / "src" / "charm.py").write_text(PROBE_CHARM)
    os.chmod(str(charm / "src" / "charm.py"), 0o755)
    return charm


@pytest.fixture
def run(vm_path, tmp_path):
    """Run runner.py with remote_command's argv, locally, as the lab runs it over SSH."""
    state = tmp_path / "state"

    def run_one(charm, hook=None, action=None, params=None, config=None):
        argv = jujustandin.remote_command(charm, state, hook, action, params, config=config,
                                          standin_dir=str(jujustandin.STANDIN_DIR),
                                          python=VM_PYTHON)
        completed = subprocess.run(argv, env=dict(os.environ, PATH=vm_path),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   universal_newlines=True, timeout=300)
        assert completed.returncode == 0, completed.stderr
        return jujustandin.Outcome.from_json(completed.stdout)
    run_one.state = state
    return run_one


def test_probe_hooks_and_actions(probe, run):
    install = run(probe, hook="install")
    assert (install.kind, install.name, install.status, install.exit_code) == (
        "hook", "install", "completed", 0)
    assert install.unit == "probe/0" and install.stderr == ""
    assert install.unit_status == jujustandin.Status("active", "hello x3")
    assert jujustandin.LogLine("INFO", "install number 1") in install.logs
    assert jujustandin.LogLine("DEBUG", "Operator Framework 1.5.4 up and running.") in install.logs
    history = json.loads((run.state / hooktool.UNIT_STATUS_FILE).read_text())["history"]
    assert [(h["status"], h["message"]) for h in history] == [
        ("maintenance", "installing charm software"), ("maintenance", "working"),
        ("active", "hello x3")]

    changed = run(probe, hook="config-changed", config={"greeting": "hi", "count": "7"})
    assert changed.ok and changed.unit_status.message == "hi x7"
    assert jujustandin.LogLine("INFO", "config_changed number 2") in changed.logs
    assert jujustandin.LogLine("INFO", "install number 1") not in changed.logs  # this run's only

    report = run(probe, action="report", params={"handle": "mecpool"})
    assert (report.kind, report.status, report.exit_code, report.message) == (
        "action", "completed", 0, None)
    # ops flattens to dotted keys, Juju nests them again; values are strings.
    assert report.results == {"pool": {"handle": "mecpool", "size": "4"}, "leader": "True",
                              "events": "2"}
    assert report.action_logs == ("reporting",) and report.action_id == "1"
    assert json.loads((run.state / hooktool.VERSION_FILE).read_text())["version"] == "1.0"

    explode = run(probe, action="explode")
    assert (explode.status, explode.exit_code, explode.message) == ("failed", 0, "boom: hi")
    assert explode.results == {} and explode.action_id == "2"
    assert explode.unit_status.message == "hi x7"  # a failed action leaves the unit alone


def test_probe_refusals_before_dispatch(probe, run):
    assert run(probe, hook="install").ok
    state_before = (run.state / hooktool.CHARM_STATE_FILE).read_text()
    cases = [
        (dict(action="report", params={"size": 2}),
         'validation failed: (root) : "handle" property is missing and required, given '
         '{"size":2}'),
        (dict(action="report", params={"handle": "h", "size": "big"}),
         'validation failed: (root).size : must be of type integer, given "big"'),
        (dict(action="report", params={"handle": "h", "extra": 1}),
         'validation failed: (root) : additional property "extra" is not allowed, given '
         '{"extra":1,"handle":"h","size":4}'),
        (dict(action="nope"), 'action "nope" not defined on unit "probe/0"'),
        (dict(hook="config-changed", config={"count": "many"}),
         'option "count" expected int, got "many"'),
        (dict(hook="config-changed", config={"colour": "red"}), 'unknown option "colour"'),
    ]
    for request, message in cases:
        outcome = run(probe, **request)
        assert (outcome.status, outcome.message) == ("failed", message)
        assert not outcome.dispatched and outcome.logs == () and outcome.stdout == ""
    # Nothing ran: ops' state is as install left it, and no action was numbered.
    assert (run.state / hooktool.CHARM_STATE_FILE).read_text() == state_before
    assert not list((run.state / hooktool.ACTIONS_DIR).iterdir())
    # 5.0 is an integer to Juju (JSON numbers are float64 there).
    assert run(probe, action="report", params={"handle": "h", "size": 5.0}).results[
        "pool"]["size"] == "5"


def test_probe_crashing_action_fails_with_the_exit_status(probe, run):
    crashed = run(probe, action="report", params={"handle": "crash"})
    assert (crashed.status, crashed.exit_code, crashed.message) == ("failed", 1, "exit status 1")
    assert crashed.results == {"partial": "yes"} and crashed.action_logs == ("reporting",)
    assert crashed.unit_status.status == "maintenance"  # unchanged: no hook has run yet


def test_probe_failing_hook_puts_the_unit_in_error(probe, run):
    assert run(probe, hook="install").ok
    crashed = run(probe, hook="start", config={"greeting": "crash"})
    assert (crashed.status, crashed.exit_code) == ("failed", 1)
    assert crashed.message == 'hook failed: "start"'
    assert crashed.unit_status == jujustandin.Status("error", 'hook failed: "start"')
    # ops 1.5.4 sends the traceback to juju-log, not to stderr.
    assert any(line.level == "ERROR" and "RuntimeError: asked to crash" in line.message
               for line in crashed.logs)
    reset = run(probe, hook="config-changed", config={"greeting": None})  # null resets
    assert reset.ok and reset.unit_status == jujustandin.Status("active", "hello x3")


# -- runner.py around the real built pool charms (only what is harmless on a host) ----------

@pytest.fixture
def unconfigured_host():
    present = [path for path in configure.SETTINGS_FILES.values() if os.path.exists(path)]
    if present:
        pytest.skip("this host has pool settings ({}): the charms would act on them".format(
            ", ".join(present)))


def test_pool_element_charm(built, run, unconfigured_host):
    charm = built["rsp-pool-element"]
    missing = run(charm, action="configure", params={"pool-handle": "mec"})
    assert not missing.dispatched and missing.message.startswith(
        'validation failed: (root) : "registrars" property is missing and required')
    wrong = run(charm, action="reconfigure", params={"capacity": "lots"})
    assert wrong.message == 'validation failed: (root).capacity : must be of type integer, ' \
                            'given "lots"'
    extra = run(charm, action="reconfigure", params={"pool-handle": "other"})
    assert 'additional property "pool-handle" is not allowed' in extra.message
    assert not wrong.dispatched and not extra.dispatched

    # Dispatched: the workload finds no settings file and reads nothing else.
    status = run(charm, action="pe-status")
    assert (status.status, status.exit_code) == ("failed", 0)
    assert status.message == "not configured yet: run the 'configure' action first"
    # Before OSM's day-1 configure the pool charms wait (issue 12: waiting, not blocked).
    assert status.unit_status == jujustandin.Status("waiting", "waiting for OSM's day-1 'configure' action")
    assert any("pe_status_action" in line.message for line in status.logs)
    for hook in ("update-status", "start"):
        outcome = run(charm, hook=hook)
        assert outcome.ok and outcome.unit_status.status == "waiting", outcome.stderr


def test_registrar_charm(built, run, unconfigured_host):
    charm = built["rsp-registrar"]
    bad = run(charm, hook="config-changed", config={"loglevel": 12})
    assert bad.ok  # the charm blocks, the hook succeeds
    assert bad.unit_status.status == "blocked" and "loglevel" in bad.unit_status.message
    refused = run(charm, hook="config-changed", config={"loglevel": "x"})
    assert not refused.dispatched and refused.message == 'option "loglevel" expected int, got "x"'
    good = run(charm, hook="config-changed", config={"loglevel": "3"})
    assert good.ok and good.unit_status == jujustandin.Status(
        "waiting", "waiting for OSM's day-1 'configure' action")
    pool = run(charm, action="pool-status")
    assert pool.status == "failed" and pool.message.startswith("not configured yet")
    config = json.loads((run.state / hooktool.CONFIG_FILE).read_text())
    assert config == {"loglevel": 3}


# -- what the stand-in accepts, and the host-side API ---------------------------------------

@pytest.mark.parametrize("name", charms.existing_charms(REPO))
def test_every_charm_is_within_the_implemented_schema(name):
    charm = runner.Charm(REPO / "charms" / name)
    assert charm.name == name and charm.actions
    for action, spec in charm.actions.items():
        params = dict((p, s["default"]) for p, s in (spec.get("params") or {}).items()
                      if "default" in s)
        document, refusal = runner.action_params(charm, action, params)
        missing = set(spec.get("required") or []) - set(params)
        assert (refusal is None) == (not missing), refusal


def test_unimplemented_schema_is_refused(tmp_path, built):
    (tmp_path / "lib").symlink_to(built["rsp-pool-element"] / "lib")  # its PyYAML
    (tmp_path / "metadata.yaml").write_text("name: odd\n")
    (tmp_path / "actions.yaml").write_text(
        "go:\n  params:\n    n: {type: integer, minimum: 0}\n")
    with pytest.raises(runner.RunnerError, match="'minimum' is not implemented"):
        runner.Charm(tmp_path)
    completed = subprocess.run(
        [VM_PYTHON, str(jujustandin.STANDIN_DIR / "runner.py"), "--charm-dir", str(tmp_path),
         "--state", str(tmp_path / "state"), "--action", "go"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert completed.returncode == 2 and "minimum" in completed.stderr and not completed.stdout


def test_remote_command():
    argv = jujustandin.remote_command("/var/lib/charms/pe", "/var/lib/lab/pe", action="configure",
                                      params={"pool-handle": "mec", "capacity": 5})
    assert argv == ["python3", jujustandin.REMOTE_STANDIN_DIR + "/runner.py",
                    "--charm-dir", "/var/lib/charms/pe", "--state", "/var/lib/lab/pe",
                    "--action", "configure", "--params", '{"capacity": 5, "pool-handle": "mec"}']
    assert jujustandin.remote_command("c", "s", hook="install", config={"a": 1})[-4:] == [
        "--hook", "install", "--config", '{"a": 1}']
    for bad in (dict(), dict(hook="install", action="configure"),
                dict(hook="install", params={})):
        with pytest.raises(ValueError):
            jujustandin.remote_command("c", "s", **bad)


def test_vm_side_is_python36_compatible():
    """The VDUs run these files with their python3 (3.6 on Ubuntu 18.04)."""
    files = [str(jujustandin.STANDIN_DIR / name) for name in ("hooktool.py", "runner.py")]
    vermin = Path(sys.executable).with_name("vermin")
    completed = subprocess.run([str(vermin), "-t=3.6-", "--violations", "--no-tips",
                                "--no-parse-comments"] + files, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, universal_newlines=True, timeout=300)
    assert completed.returncode == 0, completed.stdout
    assert "Target versions not met" not in completed.stdout
