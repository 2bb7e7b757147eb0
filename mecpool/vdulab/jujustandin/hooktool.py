#!/usr/bin/env python3
"""Juju 2.8's hook tools, played by one script for the VDU lab.

The tool is the name this file is run as (argv[0]): runner.py links every
name in TOOLS to a copy of it in <state>/bin and puts that first on PATH.
Arguments, output and messages follow Juju 2.8's jujuc commands
(worker/uniter/runner/jujuc): flags may come anywhere before "--", --format
is smart (default), yaml or json, a bad command line exits 2 and a failure
exits 1, both with "ERROR <message>" on stderr.

All state is JSON in the directory named by $MECPOOL_JUJU_STATE (file names
below), each file replaced atomically under one lock; runner.py creates it
and reads the outcome of a hook or action from it.

Standard library only, Python 3.6 to 3.13: it runs with the VM's python3.
"""

import contextlib
import datetime
import fcntl
import json
import os
import re
import sys

STATE_ENV = "MECPOOL_JUJU_STATE"

# Files in the state directory.
CHARM_FILE = "charm.json"            # written by runner.py: config options, bindings, storage
CONFIG_FILE = "config.json"          # values set by `juju config` (runner --config)
UNIT_STATUS_FILE = "unit-status.json"
APP_STATUS_FILE = "application-status.json"
LOG_FILE = "juju-log.json"
ACTIONS_DIR = "actions"              # actions/<id>.json: params in, results and logs out
LEADER_FILE = "leader-settings.json"
RELATIONS_FILE = "relations.json"    # "<id>": endpoint, remote-app, remote-units, *-data
PORTS_FILE = "ports.json"
CHARM_STATE_FILE = "charm-state.json"  # state-get/state-set (controller-side state, 2.8)
METRICS_FILE = "metrics.json"
VERSION_FILE = "workload-version.json"
STORAGE_FILE = "storage.json"        # "<name>/<n>": kind, location
NETWORK_FILE = "network.json"        # optional: "bindings", "private-address", "public-address"
RESOURCES_FILE = "resources.json"    # optional: resource name -> path

FORMATS = ("smart", "yaml", "json")
# status-set accepts these; "error" and "unknown" belong to Juju.
SETTABLE_STATUSES = ("maintenance", "blocked", "waiting", "active")
# loggo's level names (juju-log --log-level); WARN is WARNING.
LOG_LEVELS = {"TRACE": "TRACE", "DEBUG": "DEBUG", "INFO": "INFO", "WARN": "WARNING",
              "WARNING": "WARNING", "ERROR": "ERROR", "CRITICAL": "CRITICAL"}
# One dotted part of an action-set key: Juju refuses uppercase, "_" and edge hyphens.
# Patterns end in \Z: Python's "$" also matches before a final newline, Go's does not.
ACTION_KEY_RULE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\Z")
# Juju puts the hook's own output under these result keys.
RESERVED_ACTION_KEYS = ("stdout", "stdout-encoding", "stderr", "stderr-encoding")
DEFAULT_FAIL_MESSAGE = "action failed without reason given, check action for errors"
PORT_SPEC = re.compile(r"^(?:(icmp)|([0-9]+)(?:-([0-9]+))?(?:/([a-z0-9]+))?)\Z")
PORT_FORMAT = "<port>[/<protocol>] or <from>-<to>[/<protocol>] or icmp"
GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")

BOOL, VALUE = "bool", "value"


class ToolError(Exception):
    """What jujuc prints as "ERROR <message>"; code 2 for a bad command line."""

    def __init__(self, message, code=1):
        Exception.__init__(self, message)
        self.code = code


def usage(message):
    return ToolError(message, 2)


def quote(value):
    """Go's %q (near enough: JSON string quoting)."""
    return json.dumps(value, ensure_ascii=False)


def unrecognized(args):
    return usage("unrecognized args: [{}]".format(" ".join(quote(a) for a in args)))


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- state ----------------------------------------------------------------------

def state_path(name):
    root = os.environ.get(STATE_ENV)
    if not root or not os.path.isdir(root):
        raise ToolError("{}={!r} is not a state directory: run hooks through runner.py".format(
            STATE_ENV, root or ""))
    return os.path.join(root, name)


def read_json(name, default):
    try:
        with open(state_path(name), encoding="utf-8") as stream:
            return json.load(stream)
    except FileNotFoundError:
        return default


def write_json(name, value):
    """Replace the file in one rename, so a reader never sees half of it."""
    path = state_path(name)
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    temporary = os.path.join(directory, ".tmp-{}-{}".format(os.getpid(), os.path.basename(path)))
    try:
        with open(temporary, "w", encoding="utf-8") as stream:
            json.dump(value, stream, indent=1, sort_keys=True, ensure_ascii=False)
            stream.write("\n")
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def locked():
    """One writer at a time (a charm may run tools from background processes)."""
    with open(state_path(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def update_json(name, default, change):
    """Read, change in place, write back; returns what ``change`` returns."""
    with locked():
        value = read_json(name, default)
        result = change(value)
        write_json(name, value)
        return result


def unit_name():
    name = os.environ.get("JUJU_UNIT_NAME")
    if not name:
        raise ToolError("JUJU_UNIT_NAME is not set")
    return name


def app_name():
    return unit_name().split("/")[0]


def action_file():
    """The running action's record; hook tools for actions fail in a hook."""
    action_id = os.environ.get("JUJU_ACTION_UUID")
    if not os.environ.get("JUJU_ACTION_NAME") or not action_id:
        raise ToolError("not running an action")
    return os.path.join(ACTIONS_DIR, action_id + ".json")


def relations():
    return read_json(RELATIONS_FILE, {})


# -- command line (gnuflag as jujuc uses it) -------------------------------------

def parse(args, flags, aliases=None, relation_flag=False):
    """(options, positional) from ``args``; ``flags`` maps a name to BOOL or VALUE.

    Flags may be interspersed; "--" ends them; "--name=value", "--name value"
    and "-n value" all work; a boolean takes only "=<bool>".  With
    ``relation_flag``, -r/--relation is checked against the relations and
    defaults to the hook's own relation, as Juju does.
    """
    flags = dict(flags)
    aliases = dict(aliases or {})
    if relation_flag:
        flags["relation"] = VALUE
        aliases["r"] = "relation"
    options, positional = {}, []
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            positional.extend(args[index:])
            break
        if arg == "-" or not arg.startswith("-"):
            positional.append(arg)
            continue
        dashes = "--" if arg.startswith("--") else "-"
        name, has_value, value = arg[len(dashes):].partition("=")
        name = aliases.get(name, name)
        shown = dashes + arg[len(dashes):].partition("=")[0]
        if name in ("h", "help"):
            raise HelpRequested()
        if name not in flags:
            raise usage("option provided but not defined: " + shown)
        if flags[name] == BOOL:
            if not has_value:
                options[name] = True
            elif value in GO_TRUE or value in GO_FALSE:
                options[name] = value in GO_TRUE
            else:
                raise usage("invalid boolean value {} for {}: parse error".format(
                    quote(value), shown))
            continue
        if not has_value:
            if index >= len(args):
                raise usage("option needs an argument: " + shown)
            value = args[index]
            index += 1
        options[name] = check_flag_value(name, value, shown)
    if relation_flag:
        options["relation"] = options.get("relation") or hook_relation_id()
    return options, positional


def check_flag_value(name, value, shown):
    if name == "format" and value not in FORMATS:
        raise usage("invalid value {} for option {}: unknown format {}".format(
            quote(value), shown, quote(value)))
    if name == "relation":
        try:
            return relation_id(value)
        except ToolError as error:
            raise usage("invalid value {} for option {}: {}".format(quote(value), shown, error))
    return value


def relation_id(text):
    """"db:3" or "3" -> "3", if this unit is in that relation."""
    number = text.rsplit(":", 1)[-1]
    if not re.match(r"^-?[0-9]+\Z", number):
        raise ToolError("invalid relation id")
    key = str(int(number))
    if key not in relations():
        raise ToolError("relation not found")
    return key


def hook_relation_id():
    """The relation of a relation hook (JUJU_RELATION_ID), else None."""
    text = os.environ.get("JUJU_RELATION_ID")
    return relation_id(text) if text else None


def require_relation(options):
    if options.get("relation") is None:
        raise usage("no relation id specified")
    return options["relation"]


def key_values(args):
    """juju/utils keyvalues.Parse with empty values allowed."""
    result = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise usage('expected "key=value", got {}'.format(quote(arg)))
        if key in result:
            raise usage("key {} specified more than once".format(quote(key)))
        result[key] = value
    return result


class HelpRequested(Exception):
    pass


# -- output (juju/cmd's formatters) ------------------------------------------------

def go_value(value):
    """Go marshals float64 5.0 as 5 (JSON params arrive in Juju as float64)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return dict((k, go_value(v)) for k, v in value.items())
    if isinstance(value, list):
        return [go_value(v) for v in value]
    return value


def to_json(value):
    """Go's encoding/json: compact, sorted keys, HTML characters escaped."""
    text = json.dumps(go_value(value), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text + "\n"


# Strings left unquoted in YAML output: no ":" (YAML 1.1 reads 52:54:00 as a number).
PLAIN = re.compile(r"^[A-Za-z0-9_./][-A-Za-z0-9_./ +]*\Z")
NOT_A_STRING = re.compile(r"^(?:~|null|true|false|yes|no|on|off|y|n"
                          r"|[-+]?(?:[0-9][0-9_]*)?\.?[0-9]+(?:[eE][-+]?[0-9]+)?"
                          r"|0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.inf|\.nan"
                          r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?)\Z", re.IGNORECASE)


YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


def yaml_scalar(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        text = str(go_value(value))
        # YAML 1.1 floats need a dot before the exponent ("1.0e+21", not "1e+21").
        return re.sub(r"^([-+]?[0-9]+)e", r"\1.0e", text)
    text = str(value)
    if (PLAIN.match(text) and not text.endswith(" ") and ": " not in text
            and " #" not in text and not NOT_A_STRING.match(text)):
        return text
    # A JSON string is a double-quoted YAML scalar once YAML's other
    # non-printable and line-break characters are escaped too.
    return YAML_UNSAFE.sub(lambda m: "\\u{:04x}".format(ord(m.group())),
                           json.dumps(text, ensure_ascii=False))


def yaml_lines(value, indent):
    """Block YAML as Go's yaml.v2 writes it: sorted keys, lists not indented."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key in sorted(value):
            item = value[key]
            if isinstance(item, (dict, list)) and item:
                lines.append("{}{}:".format(pad, yaml_scalar(str(key))))
                lines.extend(yaml_lines(item, indent + 2 if isinstance(item, dict) else indent))
            else:
                lines.append("{}{}: {}".format(pad, yaml_scalar(str(key)), yaml_block(item)))
        return lines
    for item in value:
        if isinstance(item, (dict, list)) and item:
            nested = yaml_lines(item, indent + 2)
            lines.append(pad + "- " + nested[0][indent + 2:])
            lines.extend(nested[1:])
        else:
            lines.append(pad + "- " + yaml_block(item))
    return lines


def yaml_block(value):
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return yaml_scalar(value)


def to_yaml(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list)) and value:
        return "\n".join(yaml_lines(go_value(value), 0)) + "\n"
    return yaml_block(go_value(value)) + "\n"


def to_smart(value):
    """Strings as they are, string lists one per line, booleans True/False, else YAML."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "True" if value else "False"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = "\n".join(value)
    else:
        return to_yaml(value)
    return text + "\n" if text else ""


def write(value, options):
    fmt = options.get("format", "smart")
    return {"json": to_json, "yaml": to_yaml, "smart": to_smart}[fmt](value)


# -- flat YAML maps (relation-set/state-set --file) ----------------------------------

class YamlError(ValueError):
    pass


def parse_flat_yaml(text):
    """A YAML map of scalars, as PyYAML's (safe_)dump writes {str: str}.

    Plain, quoted and block scalars, folded over lines as YAML folds them; a
    null is "".  Anything else (nesting, flow collections, anchors, tags) is
    refused rather than guessed at.  Values stay strings, as in Juju.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    result = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped in ("---", "...", "{}"):
            continue
        if line[0] in " \t":
            raise YamlError("line {}: unexpected indentation".format(index))
        if line == "?" or line.startswith("? "):
            # An explicit key (PyYAML writes long or multi-line keys so): "? key" then ": value".
            block, after = continuation(lines, index)
            key = yaml_value(line[1:], block, index)
            while after < len(lines) and not lines[after].strip():
                after += 1
            if after >= len(lines) or not (lines[after] == ":" or lines[after].startswith(": ")):
                raise YamlError("line {}: an explicit key needs a ': value' line".format(index))
            line, index = lines[after], after + 1
            rest = line[1:]
        else:
            key, rest = split_key(line, index)
        block, index = continuation(lines, index)
        result[key] = yaml_value(rest, block, index)
    return result


def continuation(lines, index):
    """The indented (or blank) lines from ``index`` on, and the index after them."""
    start = index
    while index < len(lines) and (not lines[index].strip() or lines[index][0] in " \t"):
        index += 1
    return lines[start:index], index


def split_key(line, number):
    if line[0] in "\"'":
        key, rest = quoted_scalar(line, line[0])
        rest = rest.lstrip(" \t")
        if not rest.startswith(":"):
            raise YamlError("line {}: expected ':' after the key".format(number))
        return key, rest[1:]
    colon = re.search(r":(?=[ \t]|$)", line)
    indicator = line[0] in "[]{},!&*|>%@`#" or (line[0] in "-?:" and line[1:2] in ("", " ", "\t"))
    if not colon or indicator:
        raise YamlError("line {}: not a 'key: value' line".format(number))
    return line[:colon.start()].rstrip(), line[colon.end():]


def yaml_value(rest, block, number):
    head = rest.strip()
    if head[:1] in ("|", ">"):
        return block_scalar(head, block, number)
    if head[:1] in ("'", '"'):
        joined = "\n".join([head] + block)
        value, tail = quoted_scalar(joined, head[0])
        tail = tail.strip()
        if tail and not tail.startswith("#"):
            raise YamlError("line {}: text after a quoted value".format(number))
        return value
    if head[:1] in ("[", "{", "&", "*", "!", "%", "@", "`") or head.startswith(("- ", "? ")):
        raise YamlError("line {}: only scalar values are supported".format(number))
    parts = [strip_comment(head)] + [strip_comment(line.strip()) for line in block]
    if any(re.search(r":(?:[ \t]|$)", part) or part.startswith("- ") for part in parts[1:]):
        raise YamlError("line {}: only flat maps of scalars are supported".format(number))
    while parts and not parts[-1]:
        parts.pop()
    value = fold_lines(parts)
    return "" if value in ("~", "null", "Null", "NULL") else value


def strip_comment(text):
    position = text.find(" #")
    if text.startswith("#"):
        return ""
    return (text[:position] if position >= 0 else text).rstrip()


def fold_lines(parts):
    """Flow folding: one line break is a space, n empty lines are n newlines."""
    if not parts:
        return ""
    out = parts[0]
    empty = 0
    for part in parts[1:]:
        if part == "":
            empty += 1
            continue
        out += ("\n" * empty if empty else " ") + part
        empty = 0
    return out + "\n" * empty


def quoted_scalar(text, mark):
    """(value, text after the closing quote) of a quoted scalar, over lines."""
    position = 1
    while True:
        position = text.find(mark, position)
        if position < 0:
            raise YamlError("unterminated {} quote".format(mark))
        if mark == "'" and text[position + 1:position + 2] == "'":
            position += 2
            continue
        if mark == '"' and escaped(text, position):
            position += 1
            continue
        break
    raw, tail = text[1:position], text[position + 1:]
    if mark == "'":
        return fold_quoted(raw.split("\n"), None).replace("''", "'"), tail
    return unescape(fold_quoted(raw.split("\n"), "\\")), tail


def escaped(text, position):
    backslashes = 0
    while position > backslashes and text[position - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def fold_quoted(lines, escape):
    """Fold a quoted scalar's lines; in double quotes "\\" at a line end joins without a space."""
    out = lines[0] if len(lines) == 1 else lines[0].rstrip(" \t")
    empty = 0
    joined = False
    for position, line in enumerate(lines[1:], 1):
        last = position == len(lines) - 1
        trimmed = line.lstrip(" \t") if last else line.strip(" \t")
        if escape and not joined and out.endswith(escape) and escaped(out + "x", len(out)):
            out, joined = out[:-1], True
        if trimmed == "" and not last:
            empty += 1
            continue
        if joined:
            out += trimmed
        else:
            out += ("\n" * empty if empty else " ") + trimmed
        empty, joined = 0, False
    return out


YAML_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v",
                "f": "\f", "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\",
                "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029"}


def unescape(text):
    def replace(match):
        code = match.group(1)
        if code[0] in "xuU":
            return chr(int(code[1:], 16))
        return YAML_ESCAPES[code]
    try:
        return re.sub(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}"
                      r"|[0abt\tnvfre \"/\\N_LP])", replace, text)
    except (KeyError, ValueError):
        raise YamlError("bad escape in a double-quoted value")


def block_scalar(head, block, number):
    """A literal (|) or folded (>) block scalar with its chomping and indent indicators."""
    match = re.match(r"^([|>])([-+]?)([1-9]?)([-+]?)\s*(?:#.*)?$", head)
    if not match:
        raise YamlError("line {}: bad block scalar header {}".format(number, quote(head)))
    style, chomp, indent = match.group(1), match.group(2) or match.group(4), match.group(3)
    if not indent:
        content = [line for line in block if line.strip()]
        indent = len(content[0]) - len(content[0].lstrip(" ")) if content else 0
    indent = int(indent)
    body = []
    for line in block:
        if not line.strip() and len(line) <= indent:
            body.append("")
        elif line[:indent].strip(" ") or len(line) - len(line.lstrip(" ")) < indent:
            raise YamlError("line {}: block scalar line less indented".format(number))
        else:
            body.append(line[indent:])
    trailing = 0
    while body and body[-1] == "":
        body.pop()
        trailing += 1
    text = "\n".join(body) if style == "|" else fold_block(body)
    if chomp == "-" or not body:
        return text if chomp != "+" else text + "\n" * trailing
    return text + "\n" + ("\n" * trailing if chomp == "+" else "")


def fold_block(body):
    """Folding (>): a break between normal lines is a space, kept around more-indented ones."""
    out, empty, previous = "", 0, None
    for line in body:
        if line == "":
            empty += 1
            continue
        more = line[0] in " \t"
        if previous is None:
            out += "\n" * empty
        elif empty:
            out += "\n" * (empty + (1 if more or previous else 0))
        else:
            out += "\n" if more or previous else " "
        out += line
        empty, previous = 0, more
    return out


def read_settings_file(path):
    """--file for relation-set and state-set: a YAML map, "-" for stdin."""
    try:
        if path == "-":
            text = sys.stdin.buffer.read().decode("utf-8")
        else:
            with open(path, encoding="utf-8") as stream:
                text = stream.read()
        return parse_flat_yaml(text)
    except (OSError, UnicodeDecodeError, YamlError) as error:
        raise ToolError(str(error))


# -- the tools ------------------------------------------------------------------------

def action_get(args):
    options, positional = parse(args, {"format": VALUE})
    if len(positional) > 1:
        raise unrecognized(positional[1:])
    params = read_json(action_file(), {}).get("params") or {}
    if not positional:
        return write(params, options)
    value = params
    for key in positional[0].split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return write(value, options)


def action_set(args):
    _, positional = parse(args, {})
    pairs = []
    for arg in positional:
        key, sep, value = arg.partition("=")
        if not sep:
            raise usage("argument {} must be of the form key...=value".format(quote(arg)))
        keys = key.split(".")
        for part in keys:
            if not ACTION_KEY_RULE.match(part):
                raise usage("key {} must start and end with lowercase alphanumeric, and contain "
                            "only lowercase alphanumeric, hyphens and periods".format(quote(part)))
            if part in RESERVED_ACTION_KEYS:
                raise usage("cannot set reserved action key {}".format(quote(part)))
        pairs.append((keys, value))
    path = action_file()

    def add(record):
        for keys, value in pairs:
            # Juju's addValueToMap: "a.b=1" then "a=2" replaces the map, and back.
            target = record.setdefault("results", {})
            for key in keys[:-1]:
                if not isinstance(target.get(key), dict):
                    target[key] = {}
                target = target[key]
            target[keys[-1]] = value
    update_json(path, {}, add)


def action_fail(args):
    _, positional = parse(args, {})
    if len(positional) > 1:
        raise unrecognized(positional[1:])
    message = positional[0] if positional else DEFAULT_FAIL_MESSAGE
    update_json(action_file(), {}, lambda record: record.update(failed=True, message=message))


def action_log(args):
    _, positional = parse(args, {})
    if not positional:
        raise usage("no message specified")
    entry = {"time": now(), "message": " ".join(positional)}
    update_json(action_file(), {}, lambda record: record.setdefault("logs", []).append(entry))


def status_set(args):
    options, positional = parse(args, {"application": BOOL})
    if not positional:
        raise usage("invalid args, require <status> [message]")
    if positional[0] not in SETTABLE_STATUSES:
        raise usage("invalid status {}, expected one of [{}]".format(
            quote(positional[0]), " ".join(SETTABLE_STATUSES)))
    if len(positional) > 2:
        raise unrecognized(positional[2:])
    record = {"status": positional[0], "message": positional[1] if len(positional) > 1 else "",
              "data": {}, "since": now()}
    set_status(APP_STATUS_FILE if options.get("application") else UNIT_STATUS_FILE, record)


def set_status(name, record):
    """The current status plus its history (juju show-status-log)."""
    def change(status):
        status["current"] = record
        status.setdefault("history", []).append(record)
    update_json(name, {}, change)


def current_status(name):
    default = {"status": "unknown", "message": "", "data": {}}
    return read_json(name, {}).get("current") or default


def status_get(args):
    options, positional = parse(args, {"format": VALUE, "include-data": BOOL,
                                       "application": BOOL})
    if positional:
        raise unrecognized(positional)
    include = options.get("include-data", False)

    def details(record):
        result = {"status": record["status"]}
        if include:
            result.update({"message": record.get("message", ""),
                           "status-data": record.get("data") or {}})
        return result
    name = APP_STATUS_FILE if options.get("application") else UNIT_STATUS_FILE
    record = current_status(name)
    if not include and options.get("format", "smart") == "smart":
        return write(record["status"], options)
    if not options.get("application"):
        return write(details(record), options)
    application = details(record)
    application["units"] = {unit_name(): details(current_status(UNIT_STATUS_FILE))}
    return write({"application-status": application}, options)


def application_version_set(args):
    _, positional = parse(args, {})
    if not positional:
        raise usage("no version specified")
    if len(positional) > 1:
        raise unrecognized(positional[1:])
    write_json(VERSION_FILE, {"version": positional[0], "since": now()})


def config_settings():
    """config.yaml's defaults under the values set; options with neither are None."""
    options = read_json(CHARM_FILE, {}).get("config-options", {})
    settings = dict((name, option.get("default")) for name, option in options.items())
    settings.update(read_json(CONFIG_FILE, {}))
    return settings


def config_get(args):
    options, positional = parse(args, {"format": VALUE, "all": BOOL}, {"a": "all"})
    if not positional:
        settings = config_settings()
        if not options.get("all"):
            settings = dict((k, v) for k, v in settings.items() if v is not None)
        return write(settings, options)
    if options.get("all"):
        raise usage("cannot use argument --all together with key {}".format(quote(positional[0])))
    if len(positional) > 1:
        raise unrecognized(positional[1:])
    return write(config_settings().get(positional[0]), options)


def juju_log(args):
    options, positional = parse(args, {"debug": BOOL, "log-level": VALUE, "format": VALUE},
                                {"l": "log-level"})
    if not positional:
        raise usage("no message specified")
    if "format" in options:
        sys.stderr.buffer.write(b'--format flag deprecated for command "juju-log"')
    entries = []
    level = "DEBUG" if options.get("debug") else LOG_LEVELS.get(
        options.get("log-level", "INFO").upper())
    if level is None:
        entries.append(log_entry("WARNING", "Specified log level of {} is not valid".format(
            quote(options["log-level"]))))
        level = "INFO"
    prefix = os.environ.get("JUJU_RELATION_ID", "")
    entries.append(log_entry(level, (prefix + ": " if prefix else "") + " ".join(positional)))
    update_json(LOG_FILE, [], lambda log: log.extend(entries))


def log_entry(level, message):
    return {"time": now(), "level": level, "message": message,
            "context": os.environ.get("JUJU_CONTEXT_ID", ""), "unit": unit_name()}


def is_leader(args):
    options, positional = parse(args, {"format": VALUE})
    if positional:
        raise unrecognized(positional)
    return write(True, options)  # the lab's unit is its application's only unit


def leader_get(args):
    options, positional = parse(args, {"format": VALUE})
    if len(positional) > 1:
        raise unrecognized(positional[1:])
    settings = read_json(LEADER_FILE, {})
    if not positional or positional[0] == "-":
        return write(settings, options)
    return write(settings.get(positional[0]), options)


def leader_set(args):
    _, positional = parse(args, {})
    settings = key_values(positional)
    update_json(LEADER_FILE, {}, lambda current: merge_settings(current, settings))


def merge_settings(current, settings):
    """Juju's settings rule: an empty value deletes the key."""
    for key, value in settings.items():
        if value == "":
            current.pop(key, None)
        else:
            current[key] = value


def relation_ids(args):
    options, positional = parse(args, {"format": VALUE})
    if positional:
        name = positional[0]
        if len(positional) > 1:
            raise unrecognized(positional[1:])
    else:
        name = os.environ.get("JUJU_RELATION", "")
        if not name:
            raise usage("no relation name specified")
    ids = sorted("{}:{}".format(r["endpoint"], key) for key, r in relations().items()
                 if r["endpoint"] == name)
    return write(ids, options)


def relation_list(args):
    options, positional = parse(args, {"format": VALUE, "app": BOOL}, relation_flag=True)
    key = require_relation(options)
    if positional:
        raise unrecognized(positional)
    relation = relations()[key]
    if options.get("app"):
        return write(relation.get("remote-app", ""), options)
    return write(sorted(relation.get("remote-units", {})), options)


def relation_get(args):
    options, positional = parse(args, {"format": VALUE, "app": BOOL}, relation_flag=True)
    key = require_relation(options)
    setting = positional[0] if positional else ""
    setting = "" if setting == "-" else setting
    relation = relations()[key]
    is_app = options.get("app", False)
    if len(positional) > 1:
        member = positional[1]
        if is_app and "/" in member:
            member = member.split("/")[0]  # a unit name with --app means its application
    elif is_app:
        member = os.environ.get("JUJU_REMOTE_APP", "")
    else:
        member = os.environ.get("JUJU_REMOTE_UNIT", "")
        if not member and os.environ.get("JUJU_REMOTE_APP"):
            member, is_app = os.environ["JUJU_REMOTE_APP"], True
    if not member:
        raise usage("no unit or application specified")
    if len(positional) > 2:
        raise unrecognized(positional[2:])
    settings = relation_settings(relation, key, member, is_app)
    return write(settings if not setting else settings.get(setting), options)


def relation_settings(relation, key, member, is_app):
    if is_app and member == app_name():
        return relation.get("local-app-data", {})
    if not is_app and member == unit_name():
        return relation.get("local-unit-data", {})
    if is_app and member == relation.get("remote-app"):
        return relation.get("remote-app-data", {})
    if not is_app and member in relation.get("remote-units", {}):
        return relation["remote-units"][member]
    raise ToolError("cannot read settings for {} {} in relation {}:{}: not found".format(
        "application" if is_app else "unit", quote(member), relation["endpoint"], key))


def relation_set(args):
    options, positional = parse(args, {"app": BOOL, "file": VALUE, "format": VALUE},
                                relation_flag=True)
    key = require_relation(options)
    settings = key_values(positional)
    if "format" in options:
        sys.stderr.buffer.write(b'--format flag deprecated for command "relation-set"')
    if "file" in options:
        from_file = read_settings_file(options["file"])
        from_file.update(settings)  # arguments override the file
        settings = from_file
    bag = "local-app-data" if options.get("app") else "local-unit-data"

    def change(all_relations):
        merge_settings(all_relations[key].setdefault(bag, {}), settings)
    update_json(RELATIONS_FILE, {}, change)


def port_range(args):
    if not args:
        raise usage("no port or range specified")
    match = PORT_SPEC.match(args[0].lower())
    if not match:
        raise usage("expected {}; got {}".format(PORT_FORMAT, quote(args[0])))
    if len(args) > 1:
        raise unrecognized(args[1:])
    if match.group(1):
        return "icmp"
    low = int(match.group(2))
    high = int(match.group(3) or low)
    protocol = match.group(4) or "tcp"
    if protocol not in ("tcp", "udp", "icmp"):
        raise usage('protocol must be "tcp", "udp", or "icmp"; got {}'.format(quote(protocol)))
    if protocol == "icmp":
        raise usage('protocol "icmp" doesn\'t support any ports; got "{}"'.format(low))
    if low > high:
        raise usage("invalid port range {}-{}/{}; expected fromPort <= toPort".format(
            low, high, protocol))
    for port in (low, high):
        if not 1 <= port <= 65535:
            raise usage('port must be in the range [1, 65535]; got "{}"'.format(port))
    return "{}/{}".format(low if low == high else "{}-{}".format(low, high), protocol)


def open_port(args):
    _, positional = parse(args, {"format": VALUE})
    spec = port_range(positional)
    update_json(PORTS_FILE, [], lambda ports: None if spec in ports else ports.append(spec))


def close_port(args):
    _, positional = parse(args, {"format": VALUE})
    spec = port_range(positional)
    update_json(PORTS_FILE, [], lambda ports: ports.remove(spec) if spec in ports else None)


def opened_ports(args):
    options, positional = parse(args, {"format": VALUE})
    if positional:
        raise unrecognized(positional)
    return write(sorted(read_json(PORTS_FILE, [])), options)


def primary_address():
    """The source address towards the default route (no packet is sent)."""
    import socket  # only network-get and unit-get need it
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))
        return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()


def network_info(binding):
    """network.json's entry for the binding, else one made from the primary address."""
    network = read_json(NETWORK_FILE, {})
    bindings = network.get("bindings", {})
    if binding in bindings:
        return bindings[binding]
    known = read_json(CHARM_FILE, {}).get("bindings", [])
    if binding not in known and binding != "juju-info":
        raise ToolError("binding name {} not defined by the unit's charm".format(quote(binding)))
    address = network.get("private-address") or primary_address()
    return {"bind-addresses": [{"mac-address": "", "interface-name": "",
                                "addresses": [{"hostname": "", "value": address, "cidr": ""}]}],
            "egress-subnets": [address + "/32"], "ingress-addresses": [address]}


def yaml_network_info(info):
    """Juju 2.8's YAML names differ from its JSON ones (macaddress, address)."""
    result = dict(info)
    result["bind-addresses"] = [
        {"macaddress": b.get("mac-address", ""), "interfacename": b.get("interface-name", ""),
         "addresses": [{"hostname": a.get("hostname", ""), "address": a.get("value", ""),
                        "cidr": a.get("cidr", "")} for a in b.get("addresses", [])]}
        for b in info.get("bind-addresses", [])]
    return result


def network_get(args):
    flags = {"format": VALUE, "primary-address": BOOL, "bind-address": BOOL,
             "ingress-address": BOOL, "egress-subnets": BOOL}
    options, positional = parse(args, flags, relation_flag=True)
    if not positional:
        raise usage("no arguments specified")
    if not positional[0]:
        raise usage("no binding name specified")
    if len(positional) > 1:
        raise unrecognized(positional[1:])
    info = network_info(positional[0])
    first = [a["value"] for b in info.get("bind-addresses", []) for a in b.get("addresses", [])]
    wanted = [k for k in ("bind-address", "ingress-address", "egress-subnets") if options.get(k)]
    if options.get("primary-address"):
        if wanted:
            raise ToolError("--primary-address must be the only flag specified")
        return write(first[0] if first else None, options)
    if not wanted:
        if options.get("format", "smart") == "json":
            return write(info, options)
        return write(yaml_network_info(info), options)
    values = {"bind-address": first[0] if first else "",
              "ingress-address": (info.get("ingress-addresses") or first or [""])[0],
              "egress-subnets": info.get("egress-subnets", [])}
    if len(wanted) == 1:
        return write(values[wanted[0]], options)
    return write(dict((k, values[k]) for k in wanted), options)


def unit_get(args):
    options, positional = parse(args, {"format": VALUE})
    if not positional:
        raise usage("no setting specified")
    if positional[0] not in ("private-address", "public-address"):
        raise usage("unknown setting {}".format(quote(positional[0])))
    if len(positional) > 1:
        raise unrecognized(positional[1:])
    network = read_json(NETWORK_FILE, {})
    return write(network.get(positional[0]) or network.get("private-address")
                 or primary_address(), options)


def storage_instances():
    return read_json(STORAGE_FILE, {}).get("instances", {})


def storage_list(args):
    options, positional = parse(args, {"format": VALUE})
    if len(positional) > 1:
        raise unrecognized(positional[1:])
    ids = sorted(storage_instances(), key=storage_order)
    if positional:
        ids = [i for i in ids if i.split("/")[0] == positional[0]]
    return write(ids, options)


def storage_order(storage_id):
    name, _, number = storage_id.partition("/")
    return name, int(number) if number.isdigit() else 0


STORAGE_GET_HELP = """Usage: storage-get [options] [<key>]

Summary:
print information for storage instance with specified id

Options:
--format  (= smart)
    Specify output format (json|smart|yaml)
-o, --output (= "")
    Specify an output file
-s  (= {default})
    specify a storage instance by id

Details:
When no <key> is supplied, all keys values are printed.
"""


def storage_get(args):
    if "--help" in args or "-h" in args:
        # ops reads the hook's storage id from the -s default in this help.
        return STORAGE_GET_HELP.format(default=os.environ.get("JUJU_STORAGE_ID", ""))
    options, positional = parse(args, {"format": VALUE, "s": VALUE})
    storage_id = options.get("s") or os.environ.get("JUJU_STORAGE_ID", "")
    if not storage_id:
        raise usage("no storage instance specified")
    instance = storage_instances().get(storage_id)
    if instance is None:
        raise usage("invalid value {} for option -s: storage instance {} not found".format(
            quote(storage_id), quote(storage_id)))
    if len(positional) > 1:
        raise unrecognized(positional[1:])
    return write(instance.get(positional[0]) if positional else instance, options)


def storage_add(args):
    _, positional = parse(args, {})
    if not positional:
        raise usage("storage add requires a storage directive")
    names = read_json(CHARM_FILE, {}).get("storage", [])
    requests = []
    for arg in positional:
        name, _, count = arg.partition("=")
        if name not in names:
            raise ToolError("storage {} not defined by the charm".format(quote(name)))
        if count and not count.isdigit():
            raise usage("cannot parse count: {}".format(quote(count)))
        requests.append({"name": name, "count": int(count or 1)})
    update_json(STORAGE_FILE, {}, lambda s: s.setdefault("requested", []).extend(requests))


def add_metric(args):
    options, positional = parse(args, {"labels": VALUE})
    if not positional:
        raise usage("no metrics specified")
    labels = key_values(options["labels"].split(",")) if options.get("labels") else {}
    metrics = []
    for arg in positional:
        key, sep, value = arg.partition("=")
        if not sep or not key or not value:
            raise usage('expected "key=value" format, got {}'.format(quote(arg)))
        metrics.append({"key": key, "value": value, "labels": labels, "time": now()})
    # Juju records metrics only in the collect-metrics hook.
    if os.environ.get("JUJU_HOOK_NAME") != "collect-metrics":
        raise ToolError("metrics not allowed in this context")
    update_json(METRICS_FILE, [], lambda recorded: recorded.extend(metrics))


def goal_state(args):
    options, positional = parse(args, {"format": VALUE})
    if positional:
        raise unrecognized(positional)
    since = current_status(UNIT_STATUS_FILE).get("since") or now()
    goal = {"units": {unit_name(): {"status": "active", "since": since}}, "relations": {}}
    for relation in relations().values():
        members = goal["relations"].setdefault(relation["endpoint"], {})
        members[relation.get("remote-app", "")] = {"status": "joined", "since": since}
        for unit in relation.get("remote-units", {}):
            members[unit] = {"status": "active", "since": since}
    return write(goal, options)


def state_get(args):
    options, positional = parse(args, {"format": VALUE, "strict": BOOL})
    if len(positional) > 1:
        raise unrecognized(positional[1:])
    state = read_json(CHARM_STATE_FILE, {})
    if not positional or positional[0] == "-":
        return write(state, options)
    if positional[0] not in state and options.get("strict"):
        raise ToolError("{} not found".format(quote(positional[0])))
    return write(state.get(positional[0]), options)


def state_set(args):
    options, positional = parse(args, {"file": VALUE})
    values = key_values(positional)
    if "file" in options:
        from_file = read_settings_file(options["file"])
        from_file.update(values)
        values = from_file
    update_json(CHARM_STATE_FILE, {}, lambda state: state.update(values))


def state_delete(args):
    _, positional = parse(args, {})
    if not positional:
        raise usage("no key specified")
    if len(positional) > 1:
        raise unrecognized(positional[1:])
    update_json(CHARM_STATE_FILE, {}, lambda state: state.pop(positional[0], None))


def resource_get(args):
    _, positional = parse(args, {})
    if not positional:
        raise usage("missing required resource name")
    if len(positional) > 1:
        raise unrecognized(positional[1:])
    path = read_json(RESOURCES_FILE, {}).get(positional[0])
    if not path:
        raise ToolError("could not download resource: resource {} not found".format(
            quote(positional[0])))
    return path + "\n"


TOOLS = {
    "action-fail": action_fail, "action-get": action_get, "action-log": action_log,
    "action-set": action_set, "add-metric": add_metric,
    "application-version-set": application_version_set, "close-port": close_port,
    "config-get": config_get, "goal-state": goal_state, "is-leader": is_leader,
    "juju-log": juju_log, "leader-get": leader_get, "leader-set": leader_set,
    "network-get": network_get, "open-port": open_port, "opened-ports": opened_ports,
    "relation-get": relation_get, "relation-ids": relation_ids, "relation-list": relation_list,
    "relation-set": relation_set, "resource-get": resource_get, "state-delete": state_delete,
    "state-get": state_get, "state-set": state_set, "status-get": status_get,
    "status-set": status_set, "storage-add": storage_add, "storage-get": storage_get,
    "storage-list": storage_list, "unit-get": unit_get,
}


def main(argv=None):
    argv = list(sys.argv if argv is None else argv)
    # Juju's tools are Go: UTF-8 in and out whatever the locale (Python 3.6
    # under LANG=C would decode argv as ASCII and refuse to print "\u00e9").
    args = [os.fsencode(arg).decode("utf-8", "replace") for arg in argv[1:]]
    name = os.path.basename(argv[0])
    tool = TOOLS.get(name)
    if tool is None:
        return fail("ERROR unknown hook tool {}; this script plays: {}\n".format(
            quote(name), ", ".join(sorted(TOOLS))), 2)
    try:
        output = tool(args)
    except HelpRequested:
        output = "Usage: {} [options] ...\n(Juju 2.8 hook tool stand-in)\n".format(name)
    except ToolError as error:
        return fail("ERROR {}\n".format(error), error.code)
    except (OSError, ValueError) as error:  # an unreadable or corrupt state file
        return fail("ERROR broken stand-in state ({}): {}\n".format(
            type(error).__name__, error), 1)
    if output:
        sys.stdout.buffer.write(output.encode("utf-8"))
    return 0


def fail(message, code):
    sys.stderr.buffer.write(message.encode("utf-8"))
    return code


if __name__ == "__main__":
    sys.exit(main())
