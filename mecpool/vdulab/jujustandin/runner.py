#!/usr/bin/env python3
"""Run one hook or action of a built charm directory as Juju 2.8's uniter would.

    python3 runner.py --charm-dir DIR --state DIR (--hook NAME | --action NAME [--params JSON])
                      [--config JSON] [--unit APP/N]

What Juju does around a hook or action, and no more:
* ``--config`` first, like ``juju config``: values are checked against the
  charm's config.yaml types and kept in the state directory (null resets one);
* an action must be in actions.yaml; its parameters get the schema's defaults
  and are then validated like the controller does, before anything runs
  (the JSON-schema subset our actions.yaml files use; other keywords are
  refused, not ignored);
* the charm's real ``dispatch`` (else hooks/<name> or actions/<name>) runs in
  the charm directory with the uniter's environment only: JUJU_* variables,
  JUJU_DISPATCH_PATH, the Ubuntu variables, and PATH with the hook tools
  (hooktool.py, linked under <state>/bin) first.

It prints the outcome as JSON (kind, name, status completed|failed, exit_code,
results, message, unit_status, logs, action_logs, stdout, stderr) and exits 0;
it exits 2, with the reason on stderr, when it cannot run the request at all.

Standard library only, Python 3.6+; the charm's YAML is read with the PyYAML
vendored in its lib/.
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import uuid

try:
    from . import hooktool  # imported on the host (tests)
except ImportError:
    import hooktool  # run as a script: its directory is sys.path[0]

HERE = os.path.dirname(os.path.abspath(__file__))

# Any 2.8.x from 2.8.1 on (relation-list --app); ops reads it for feature checks.
JUJU_VERSION = "2.8.10"
MODEL_NAME = "vdulab"
MODEL_FILE = "model.json"
TOOLS_DIR = "bin"
# The hooks a unit runs outside relation and storage contexts.
HOOKS = ("install", "leader-elected", "leader-settings-changed", "config-changed", "start",
         "stop", "update-status", "upgrade-charm", "remove", "collect-metrics",
         "pre-series-upgrade", "post-series-upgrade")
CONFIG_TYPES = ("string", "int", "float", "boolean")
# The JSON-schema subset implemented (what our actions.yaml files use).
ACTION_KEYS = ("description", "params", "required", "additionalProperties", "title")
PARAM_KEYS = ("type", "description", "default", "title")
PARAM_TYPES = ("string", "integer", "number", "boolean")
ACTION_NAME = re.compile(r"^[a-z](?:[a-z-]*[a-z])?\Z")
GO_INT = re.compile(r"^[-+]?[0-9]+\Z")


# -S: the tools need no site-packages, and start faster without.
LAUNCHER = """#!{python} -S
import sys
sys.path.insert(0, {tools!r})
from hooktool import main
sys.exit(main())
"""


class RunnerError(Exception):
    """The request cannot be run at all (usage, charm or stand-in limits)."""


# -- the charm's files ------------------------------------------------------------

def load_yaml_module(charm_dir):
    lib = os.path.join(charm_dir, "lib")
    if os.path.isdir(os.path.join(lib, "yaml")):
        sys.path.insert(0, lib)
    try:
        import yaml
    except ImportError:
        raise RunnerError("cannot read the charm's YAML: no PyYAML in {} or this Python".format(
            lib))
    return yaml


def read_yaml(yaml, charm_dir, name, required=False):
    path = os.path.join(charm_dir, name)
    if not os.path.isfile(path):
        if required:
            raise RunnerError("{} is missing".format(path))
        return {}
    with open(path, encoding="utf-8") as stream:
        data = yaml.safe_load(stream)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RunnerError("{} is not a YAML mapping".format(path))
    return data


class Charm(object):
    """What the uniter knows of a charm: name, bindings, storage, config and actions."""

    def __init__(self, charm_dir):
        self.dir = os.path.abspath(charm_dir)
        yaml = load_yaml_module(self.dir)
        metadata = read_yaml(yaml, self.dir, "metadata.yaml", required=True)
        self.name = metadata.get("name")
        if not self.name:
            raise RunnerError("metadata.yaml has no name")
        self.bindings = sorted(
            [name for kind in ("provides", "requires", "peers")
             for name in (metadata.get(kind) or {})] + list(metadata.get("extra-bindings") or {}))
        self.storage = sorted(metadata.get("storage") or {})
        self.config_options = read_yaml(yaml, self.dir, "config.yaml").get("options") or {}
        for name, option in self.config_options.items():
            if (option or {}).get("type", "string") not in CONFIG_TYPES:
                raise RunnerError("config.yaml: option {!r} has unknown type {!r}".format(
                    name, option.get("type")))
        self.actions = read_yaml(yaml, self.dir, "actions.yaml")
        for name, spec in self.actions.items():
            check_action_schema(name, spec or {})

    def summary(self):
        """charm.json, for the hook tools (config-get, network-get, storage-add)."""
        options = dict((name, {"type": (o or {}).get("type", "string"),
                               "default": (o or {}).get("default")})
                       for name, o in self.config_options.items())
        return {"name": self.name, "config-options": options, "bindings": self.bindings,
                "storage": self.storage}


def check_action_schema(name, spec):
    """Refuse the JSON-schema this stand-in would not validate as Juju does."""
    if not ACTION_NAME.match(name):
        raise RunnerError("actions.yaml: bad action name {}".format(name))
    where = "actions.yaml: {}".format(name)
    for key in spec:
        if key not in ACTION_KEYS:
            raise RunnerError("{}: JSON-schema keyword {!r} is not implemented by the stand-in "
                              "(it implements {})".format(where, key, ", ".join(ACTION_KEYS)))
    for param, schema in (spec.get("params") or {}).items():
        for key in schema or {}:
            if key not in PARAM_KEYS:
                raise RunnerError("{}.params.{}: JSON-schema keyword {!r} is not implemented by "
                                  "the stand-in (it implements {})".format(
                                      where, param, key, ", ".join(PARAM_KEYS)))
        kind = (schema or {}).get("type")
        if kind is not None and kind not in PARAM_TYPES:
            raise RunnerError("{}.params.{}: type {!r} is not implemented by the stand-in "
                              "(it implements {})".format(where, param, kind,
                                                          ", ".join(PARAM_TYPES)))


# -- Juju's checks before anything runs ---------------------------------------------

def typed(kind, value):
    """(ok, value) of a JSON value against a JSON-schema type, as gojsonschema decides."""
    if kind == "string":
        return isinstance(value, str), value
    if kind == "boolean":
        return isinstance(value, bool), value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False, value
    if kind == "integer":
        # JSON numbers reach Juju as float64: 5.0 is an integer, 5.5 is not.
        return float(value).is_integer(), int(value)
    return True, value


def action_params(charm, name, params):
    """(params with defaults, None) or (None, Juju's refusal)."""
    spec = charm.actions[name] or {}
    properties = spec.get("params") or {}
    document = dict(params)
    for param, schema in properties.items():  # InsertDefaults, before validation
        if param not in document and "default" in (schema or {}):
            document[param] = schema["default"]
    given = hooktool.to_json(document).strip()
    errors = ['(root) : "{}" property is missing and required, given {}'.format(param, given)
              for param in spec.get("required") or [] if param not in document]
    if spec.get("additionalProperties", True) is False:
        errors += ['(root) : additional property "{}" is not allowed, given {}'.format(
            param, given) for param in sorted(document) if param not in properties]
    for param in sorted(document):
        kind = (properties.get(param) or {}).get("type")
        if kind is None:
            continue
        ok, value = typed(kind, document[param])
        if ok:
            document[param] = value
        else:
            errors.append("(root).{} : must be of type {}, given {}".format(
                param, kind, hooktool.to_json(document[param]).strip()))
    if errors:
        return None, "validation failed: " + "; ".join(errors)
    return document, None


def config_value(name, kind, value):
    """A `juju config` value as the option's type (strings are parsed as Juju parses them)."""
    if value is None:
        return None
    ok = False
    if kind == "string":
        ok = isinstance(value, str)
    elif kind == "boolean":
        if isinstance(value, str) and value in hooktool.GO_TRUE + hooktool.GO_FALSE:
            value, ok = value in hooktool.GO_TRUE, True
        ok = ok or isinstance(value, bool)
    elif not isinstance(value, bool):
        if isinstance(value, str):
            try:
                value = int(value) if kind == "int" and GO_INT.match(value) else float(value)
            except ValueError:
                pass
        if kind == "int" and isinstance(value, (int, float)) and float(value).is_integer():
            value, ok = int(value), True
        elif kind == "float" and isinstance(value, (int, float)):
            value, ok = float(value), True
    if not ok:
        raise ValueError("option {} expected {}, got {}".format(
            hooktool.quote(name), kind, hooktool.to_json(value).strip()))
    return value


def apply_config(charm, changes):
    """`juju config`: check every value, then store them all (null resets to the default)."""
    new = {}
    for name, value in sorted(changes.items()):
        if name not in charm.config_options:
            return "unknown option {}".format(hooktool.quote(name))
        try:
            new[name] = config_value(name, (charm.config_options[name] or {}).get(
                "type", "string"), value)
        except ValueError as error:
            return str(error)

    def change(settings):
        for name, value in new.items():
            if value is None:
                settings.pop(name, None)
            else:
                settings[name] = value
    hooktool.update_json(hooktool.CONFIG_FILE, {}, change)
    return None


# -- the state directory and the hook's environment -----------------------------------

def prepare_state(state_dir, charm):
    """Create the state, tell the tools about the charm, link the tools into <state>/bin."""
    os.makedirs(os.path.join(state_dir, hooktool.ACTIONS_DIR), exist_ok=True)
    os.environ[hooktool.STATE_ENV] = state_dir
    hooktool.write_json(hooktool.CHARM_FILE, charm.summary())
    model = hooktool.update_json(MODEL_FILE, {}, new_model)
    if not hooktool.read_json(hooktool.UNIT_STATUS_FILE, {}):
        # What a new unit shows before its first hook.
        hooktool.set_status(hooktool.UNIT_STATUS_FILE, {
            "status": "maintenance", "message": "installing charm software", "data": {},
            "since": hooktool.now()})
    return install_tools(state_dir), model


def install_tools(state_dir, python=sys.executable):
    """<state>/bin: every tool name linked to a launcher of hooktool.main run by ``python``."""
    tools = os.path.join(state_dir, TOOLS_DIR)
    os.makedirs(tools, exist_ok=True)
    # hooktool.py as a module, written only when it changed: its bytecode is
    # then cached (a script's never is, and compiling it would slow every call).
    with open(os.path.join(HERE, "hooktool.py"), "rb") as source:
        module = source.read()
    copy = os.path.join(tools, "hooktool.py")
    if os.path.isfile(copy):
        with open(copy, "rb") as stream:
            current = stream.read()
    if not os.path.isfile(copy) or current != module:
        with open(copy, "wb") as stream:
            stream.write(module)
    # A launcher, so the tools need neither an exec bit on the copied package
    # nor a "python3" on the hook's PATH.
    launcher = os.path.join(tools, "hooktool")
    with open(launcher, "w", encoding="utf-8") as stream:
        stream.write(LAUNCHER.format(python=python, tools=tools))
    os.chmod(launcher, 0o755)
    for name in hooktool.TOOLS:
        link = os.path.join(tools, name)
        if os.path.lexists(link) and os.readlink(link) != "hooktool":
            os.unlink(link)
        if not os.path.lexists(link):
            os.symlink("hooktool", link)
    return tools


def hook_environment(charm, state_dir, tools, model, unit, hook=None, action=None,
                     action_id=None):
    """The uniter's hook environment (HookVars + ubuntuEnv); nothing else is inherited."""
    name = hook or action
    env = {
        "CHARM_DIR": charm.dir, "JUJU_CHARM_DIR": charm.dir,
        "JUJU_CONTEXT_ID": "{}-{}-{}".format(unit, name, random.getrandbits(63)),
        "JUJU_HOOK_NAME": hook or "",
        # Nothing listens there: the tools are processes, not jujuc clients.
        "JUJU_AGENT_SOCKET_ADDRESS": "@" + os.path.join(state_dir, "agent.socket"),
        "JUJU_AGENT_SOCKET_NETWORK": "unix",
        "JUJU_UNIT_NAME": unit, "JUJU_MODEL_UUID": model["uuid"], "JUJU_MODEL_NAME": MODEL_NAME,
        "JUJU_API_ADDRESSES": "", "JUJU_SLA": "unsupported", "JUJU_MACHINE_ID": "0",
        "JUJU_PRINCIPAL_UNIT": "", "JUJU_AVAILABILITY_ZONE": "", "JUJU_VERSION": JUJU_VERSION,
        "CLOUD_API_VERSION": "", "JUJU_CHARM_HTTP_PROXY": "", "JUJU_CHARM_HTTPS_PROXY": "",
        "JUJU_CHARM_FTP_PROXY": "", "JUJU_CHARM_NO_PROXY": "",
        "JUJU_DISPATCH_PATH": "{}/{}".format("hooks" if hook else "actions", name),
        "APT_LISTCHANGES_FRONTEND": "none", "DEBIAN_FRONTEND": "noninteractive",
        "LANG": "C.UTF-8", "TERM": "tmux-256color",
        "PATH": tools + ":" + os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        hooktool.STATE_ENV: state_dir,
    }
    if action:
        env.update({"JUJU_ACTION_NAME": action, "JUJU_ACTION_UUID": action_id,
                    "JUJU_ACTION_TAG": "action-" + action_id})
    return env


def entry_point(charm, hook=None, action=None):
    """dispatch when there is one (Juju >= 2.8), else the hook or action file, else None."""
    for path in (os.path.join(charm.dir, "dispatch"),
                 os.path.join(charm.dir, "hooks" if hook else "actions", hook or action)):
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


# -- one run -----------------------------------------------------------------------

def run(charm, state_dir, hook=None, action=None, params=None, config=None, unit=None):
    """The outcome (a dict) of one hook or action."""
    state_dir = os.path.abspath(state_dir)
    unit = unit or charm.name + "/0"
    tools, model = prepare_state(state_dir, charm)
    kind, name = ("hook", hook) if hook else ("action", action)
    outcome = {"kind": kind, "name": name, "unit": unit, "action_id": None, "exit_code": None,
               "status": "failed", "results": {}, "message": None, "logs": [],
               "action_logs": [], "stdout": "", "stderr": ""}
    refusal = apply_config(charm, config) if config else None
    if refusal is None and action:
        if action not in charm.actions:
            refusal = "action {} not defined on unit {}".format(
                hooktool.quote(action), hooktool.quote(unit))
        else:
            params, refusal = action_params(charm, action, params or {})
    if refusal is not None:
        outcome["message"] = refusal
        return finish(outcome, {})

    record_name = None
    if action:
        outcome["action_id"] = hooktool.update_json(MODEL_FILE, {}, next_action_id)
        record_name = os.path.join(hooktool.ACTIONS_DIR, outcome["action_id"] + ".json")
        hooktool.write_json(record_name, {
            "id": outcome["action_id"], "name": action, "params": params, "status": "running",
            "results": {}, "failed": False, "message": None, "logs": [],
            "enqueued": hooktool.now()})
    env = hook_environment(charm, state_dir, tools, model, unit, hook, action,
                           outcome["action_id"])
    entry = entry_point(charm, hook, action)
    if entry is None:
        # Juju skips a hook the charm does not have; an action must exist.
        outcome["status"] = "completed" if hook else "failed"
        if action:
            outcome["message"] = "action not implemented on unit {}".format(hooktool.quote(unit))
        return finish(outcome, env, record_name)
    completed = subprocess.run([entry], cwd=charm.dir, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    outcome.update(exit_code=completed.returncode,
                   stdout=completed.stdout.decode("utf-8", "replace"),
                   stderr=completed.stderr.decode("utf-8", "replace"))
    if hook:
        if completed.returncode == 0:
            outcome["status"] = "completed"
        else:
            outcome["message"] = 'hook failed: "{}"'.format(hook)
            # Juju puts the unit in error until the hook is resolved.
            hooktool.set_status(hooktool.UNIT_STATUS_FILE, {
                "status": "error", "message": outcome["message"], "data": {"hook": hook},
                "since": hooktool.now()})
    return finish(outcome, env, record_name)


def new_model(model):
    """A model UUID for the state directory's lifetime."""
    model.setdefault("uuid", str(uuid.uuid4()))
    return dict(model)


def next_action_id(model):
    """Juju 2.8 numbers actions (JUJU_ACTION_UUID is that number)."""
    model["next-action-id"] = model.get("next-action-id", 0) + 1
    return str(model["next-action-id"])


def finish(outcome, env, record_name=None):
    """Fill in what the hook tools recorded during this run."""
    if record_name:
        record = hooktool.read_json(record_name, {})
        outcome["results"] = record.get("results") or {}
        outcome["action_logs"] = [entry["message"] for entry in record.get("logs", [])]
        failed = record.get("failed", False)
        if outcome["exit_code"]:
            # A non-zero exit fails the action with Go's exec error text.
            outcome["status"], outcome["message"] = "failed", exit_text(outcome["exit_code"])
        elif outcome["exit_code"] == 0:
            outcome["status"] = "failed" if failed else "completed"
            outcome["message"] = record.get("message") if failed else None
        record.update(status=outcome["status"], message=outcome["message"],
                      **{"exit-code": outcome["exit_code"], "completed": hooktool.now()})
        hooktool.write_json(record_name, record)
    context = env.get("JUJU_CONTEXT_ID")
    outcome["logs"] = [{"level": entry["level"], "message": entry["message"]}
                       for entry in hooktool.read_json(hooktool.LOG_FILE, [])
                       if context and entry.get("context") == context]
    outcome["unit_status"] = status_of(hooktool.UNIT_STATUS_FILE)
    outcome["application_status"] = status_of(hooktool.APP_STATUS_FILE)
    return outcome


def exit_text(code):
    return "signal: {}".format(-code) if code < 0 else "exit status {}".format(code)


def status_of(name):
    current = hooktool.current_status(name)
    return {"status": current["status"], "message": current.get("message", "")}


# -- command line ----------------------------------------------------------------------

def json_object(text, what):
    try:
        value = json.loads(text)
    except ValueError as error:
        raise RunnerError("{} is not JSON: {}".format(what, error))
    if not isinstance(value, dict):
        raise RunnerError("{} must be a JSON object".format(what))
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(prog="runner.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--charm-dir", required=True, help="a built charm directory")
    parser.add_argument("--state", required=True, help="the unit's state directory")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--hook", choices=HOOKS)
    what.add_argument("--action")
    parser.add_argument("--params", help="the action's parameters, a JSON object")
    parser.add_argument("--config", help="charm config to set first, a JSON object")
    parser.add_argument("--unit", help="the unit name (default: <charm name>/0)")
    args = parser.parse_args(argv)
    try:
        if args.params is not None and not args.action:
            raise RunnerError("--params needs --action")
        params = json_object(args.params, "--params") if args.params is not None else {}
        config = json_object(args.config, "--config") if args.config is not None else None
        if not os.path.isdir(args.charm_dir):
            raise RunnerError("{} is not a directory".format(args.charm_dir))
        outcome = run(Charm(args.charm_dir), args.state, hook=args.hook, action=args.action,
                      params=params, config=config, unit=args.unit)
    except RunnerError as error:
        sys.stderr.write("runner.py: {}\n".format(error))
        return 2
    sys.stdout.write(json.dumps(outcome, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
