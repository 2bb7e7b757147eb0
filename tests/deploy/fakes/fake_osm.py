"""A fake ``osm`` (osmclient v8.0 + the NBI/LCM behaviour behind it) for the tests.

* Every call is checked against the v8.0 flag tables below (read from
  osmclient v8.0's osm.py): an unknown option, a missing argument or a missing
  prompt-option fails as click does (exit 2, or "Aborted!" exit 1).
* Every call is recorded in $FAKE_STATE_DIR/calls.json.
* State (packages, VIM accounts, NS and VNF records, operations) lives in
  $FAKE_STATE_DIR/osm.json; $FAKE_STATE_DIR/scenario.json says how operations
  end (polls until done, COMPLETED or FAILED with a detail).
* Answers look like the real ones: PrettyTables for lists, YAML for --literal,
  ids on stdout, "ERROR: ..." on stdout with exit 1 for NBI errors.
* ns-create applies osmclient v8.0's config handling (names -> ids) and the
  NBI v8.0 instantiate checks; vnf-scale applies LCM v8.0's scale counter
  (kept per scaling-group name in the NS record)."""

import hashlib
import ipaddress
import json
import os
import re
import sys
import tarfile
import uuid

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakelib  # noqa: E402

GLOBAL_VALUE = {"--hostname", "--user", "--password", "--project", "--project-domain-name", "--user-domain-name"}
GLOBAL_FLAG = {"-v", "--verbose", "--all-projects", "--public", "--no-public"}

_NF_CREATE = (["FILENAME"], {"--overwrite", "--override", "--repo", "--vendor", "--version"},
              {"--skip-charm-build", "--override-epa", "--override-nonepa", "--override-paravirt"}, set())
_NS_CREATE_PKG = (["FILENAME"], {"--overwrite", "--override", "--repo", "--vendor", "--version"},
                  {"--skip-charm-build"}, set())
_UPDATE = (["NAME"], {"--content"}, set(), set())
_DELETE = (["NAME"], set(), {"--force"}, set())
_NF_LIST = ([], {"--nf_type", "--filter"}, {"--long"}, set())
_NS_LIST = ([], {"--filter"}, {"--long"}, set())
# command: (positional arguments, value options, flag options, prompt (required) options)
COMMANDS = {
    "nfpkg-list": _NF_LIST, "vnfd-list": _NF_LIST, "vnfpkg-list": _NF_LIST,
    "nspkg-list": _NS_LIST, "nsd-list": _NS_LIST,
    "nfpkg-create": _NF_CREATE, "vnfd-create": _NF_CREATE, "vnfpkg-create": _NF_CREATE,
    "nspkg-create": _NS_CREATE_PKG, "nsd-create": _NS_CREATE_PKG,
    "nfpkg-update": _UPDATE, "vnfd-update": _UPDATE, "vnfpkg-update": _UPDATE,
    "nspkg-update": _UPDATE, "nsd-update": _UPDATE,
    "nfpkg-show": (["NAME"], set(), {"--literal"}, set()), "vnfd-show": (["NAME"], set(), {"--literal"}, set()),
    "nspkg-show": (["NAME"], set(), {"--literal"}, set()), "nsd-show": (["NAME"], set(), {"--literal"}, set()),
    "nfpkg-delete": _DELETE, "vnfd-delete": _DELETE, "vnfpkg-delete": _DELETE,
    "nspkg-delete": _DELETE, "nsd-delete": _DELETE,
    "ns-create": ([], {"--ns_name", "--nsd_name", "--vim_account", "--admin_status", "--ssh_keys", "--config",
                       "--config_file"}, {"--wait"}, {"--ns_name", "--nsd_name", "--vim_account"}),
    "ns-list": ([], {"--filter"}, {"--long"}, set()),
    "ns-show": (["NAME"], {"--filter"}, {"--literal"}, set()),
    "ns-op-list": (["NAME"], set(), {"--long"}, set()),
    "ns-op-show": (["ID"], {"--filter"}, {"--literal"}, set()),
    "vnf-list": ([], {"--ns", "--filter"}, {"--long"}, set()),
    "vnf-show": (["NAME"], {"--filter", "--kdu"}, {"--literal"}, set()),
    "ns-action": (["NS_NAME"], {"--vnf_name", "--kdu_name", "--vdu_id", "--vdu_count", "--action_name", "--params",
                                "--params_file", "--timeout"}, {"--wait"}, {"--action_name"}),
    "vnf-scale": (["NS_NAME", "VNF_NAME"], {"--scaling-group", "--timeout"}, {"--scale-in", "--scale-out", "--wait"},
                  {"--scaling-group"}),
    "ns-delete": (["NAME"], {"--config"}, {"--force", "--wait"}, set()),
    "vim-create": ([], {"--name", "--user", "--password", "--auth_url", "--tenant", "--config", "--account_type",
                        "--description", "--sdn_controller", "--sdn_port_mapping"}, {"--wait"},
                   {"--name", "--user", "--password", "--auth_url", "--tenant"}),
    "vim-list": ([], {"--filter"}, {"--long"}, set()),
    "vim-show": (["NAME"], set(), set(), set()),
    "vim-delete": (["NAME"], set(), {"--force", "--wait"}, set()),
    "version": ([], set(), set(), set()),
}
INT_OPTIONS = {"--vdu_count", "--timeout"}
UUID = re.compile(r"^[a-fA-F0-9]{8}(-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}$")
PARAM_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class Usage(Exception):
    def __init__(self, command, message):
        Exception.__init__(self, message)
        self.command = command


class Fail(Exception):
    """osmclient's ClientException: printed as "ERROR: ..." on stdout, exit 1."""


def parse(argv):
    i, glob = 0, {}
    while i < len(argv) and argv[i].startswith("-"):
        name, eq, value = argv[i].partition("=")
        if name in GLOBAL_VALUE:
            if not eq:
                i += 1
                if i >= len(argv):
                    raise Usage(None, "Option '{}' requires an argument.".format(name))
                value = argv[i]
            glob[name] = value
        elif name in GLOBAL_FLAG:
            glob[name] = True
        else:
            raise Usage(None, "No such option: {}".format(name))
        i += 1
    if i >= len(argv):
        raise Usage(None, "Missing command.")
    command = argv[i]
    if command not in COMMANDS:
        raise Usage(None, "No such command '{}'.".format(command))
    positional, values, flags, prompts = COMMANDS[command]
    args, opts = [], {}
    i += 1
    while i < len(argv):
        word = argv[i]
        if word.startswith("--") or (word.startswith("-") and len(word) > 1 and not word[1].isdigit()):
            name, eq, value = word.partition("=")
            if name in values:
                if not eq:
                    i += 1
                    if i >= len(argv):
                        raise Usage(command, "Option '{}' requires an argument.".format(name))
                    value = argv[i]
                if name in INT_OPTIONS and not re.match(r"^-?\d+$", value):
                    raise Usage(command, "Invalid value for '{}': '{}' is not a valid integer.".format(name, value))
                opts[name] = value
            elif name in flags and not eq:
                opts[name] = True
            else:
                raise Usage(command, "No such option: {}".format(name))
        else:
            args.append(word)
        i += 1
    if len(args) < len(positional):
        raise Usage(command, "Missing argument '{}'.".format(positional[len(args)]))
    if len(args) > len(positional):
        raise Usage(command, "Got unexpected extra argument ({})".format(args[len(positional)]))
    for name in sorted(prompts):
        if name not in opts:
            # click prompts for it; with no terminal the prompt reads EOF and aborts.
            sys.stdout.write("{}: ".format(name.lstrip("-").replace("_", " ").capitalize()))
            raise Fail("__aborted__")
    return glob, command, args, opts


# --- state ------------------------------------------------------------------------------------

def new_state():
    return {"vnfds": [], "nsds": [], "vims": [], "nsrs": [], "vnfrs": [], "ops": [], "clock": 1600000000}


def scenario():
    return fakelib.load("scenario.json", {})


def tick(state):
    state["clock"] += 5
    return state["clock"]


def http_error(code, detail):
    names = {404: "NOT_FOUND", 409: "CONFLICT", 422: "UNPROCESSABLE_ENTITY", 400: "BAD_REQUEST"}
    return "Error {}: {}".format(code, json.dumps({"code": names.get(code, "ERROR"), "status": code,
                                                   "detail": detail}, indent=1))


def by_name_or_id(items, name, what):
    key = "_id" if UUID.match(name) else "name"
    for item in items:
        if item.get(key) == name:
            return item
    raise Fail("{} {} not found".format(what, name) if what in ("vnfd", "nsd") else "{} '{}' not found".format(
        what, name))


def match_filter(item, expression):
    if not expression:
        return True
    for part in expression.split("&"):
        key, _, value = part.partition("=")
        current = item
        for step in key.split("."):
            current = current.get(step) if isinstance(current, dict) else None
        if str(current) != value:
            return False
    return True


# --- packages ---------------------------------------------------------------------------------

def read_package(path, envelope, key):
    if not os.path.isfile(path):
        raise Fail("__file__{}".format(path))
    with tarfile.open(path, "r:gz") as archive:
        names = [m.name for m in archive.getmembers()]
        for name in names:
            if name.startswith("/") or ".." in name.split("/"):
                raise Fail(http_error(400, "Absolute path or '..' are not allowed for package descriptor tar.gz"))
        candidates = [n for n in names if "/" not in os.path.dirname(n) and n.endswith(".yaml")]
        if len(candidates) > 1:
            raise Fail("Found more than one potential descriptor in the tar.gz file")
        if not candidates:
            raise Fail("No descriptor was found in the tar.gz file")
        document = yaml.safe_load(archive.extractfile(candidates[0]).read())
        files = set(n for n in names)
    if not isinstance(document, dict) or envelope not in document:
        raise Fail(http_error(422, "Error in pyangbind validation: missing {}".format(envelope)))
    entries = document[envelope].get(key) or []
    if len(entries) != 1:
        raise Fail(http_error(422, "'{}' must be a list of only one element".format(key)))
    top = candidates[0].split("/")[0]
    return entries[0], {n[len(top) + 1:] for n in files if n.startswith(top + "/")}


def check_vnfd_package(vnfd, files):
    for vdu in vnfd.get("vdu") or []:
        charm = ((vdu.get("vdu-configuration") or {}).get("juju") or {}).get("charm")
        if charm and not any(f.startswith("charms/{}/".format(charm)) for f in files):
            raise Fail(http_error(422, "Charm defined in vnf[id={}]:vdu[id={}] but not present in package".format(
                vnfd["id"], vdu["id"])))
        if vdu.get("cloud-init-file") and "cloud_init/" + vdu["cloud-init-file"] not in files:
            raise Fail(http_error(422, "Cloud-init defined in vnf[id={}]:vdu[id={}] but not present in "
                                       "package".format(vnfd["id"], vdu["id"])))


def package_create(state, path, kind):
    envelope, key = ("vnfd:vnfd-catalog", "vnfd") if kind == "vnfds" else ("nsd:nsd-catalog", "nsd")
    descriptor, files = read_package(path, envelope, key)
    if kind == "vnfds":
        check_vnfd_package(descriptor, files)
    else:
        check_nsd_dependencies(state, descriptor)
    if any(item["id"] == descriptor["id"] for item in state[kind]):
        raise Fail(http_error(409, "{} with id '{}' already exists for this project".format(
            kind[:-1], descriptor["id"])))
    item = dict(descriptor)
    item["_id"] = str(uuid.uuid4())
    item["_admin"] = {"onboardingState": "ONBOARDED", "operationalState": "ENABLED", "usageState": "NOT_IN_USE",
                      "created": tick(state), "modified": state["clock"],
                      "package_sha256": hashlib.sha256(open(path, "rb").read()).hexdigest()}
    state[kind].append(item)
    return item["_id"]


def check_nsd_dependencies(state, nsd):
    for member in nsd.get("constituent-vnfd") or []:
        if not any(v["id"] == member["vnfd-id-ref"] for v in state["vnfds"]):
            raise Fail(http_error(409, "Descriptor error at 'constituent-vnfd':'vnfd-id-ref'='{}' references a "
                                       "non existing vnfd".format(member["vnfd-id-ref"])))


def package_update(state, name, path, kind):
    what = kind[:-1]
    item = by_name_or_id(state[kind], name, what)
    if path is None:
        raise Fail("a --content file is needed")
    envelope, key = ("vnfd:vnfd-catalog", "vnfd") if kind == "vnfds" else ("nsd:nsd-catalog", "nsd")
    descriptor, files = read_package(path, envelope, key)
    if kind == "vnfds":
        check_vnfd_package(descriptor, files)
    else:
        check_nsd_dependencies(state, descriptor)
    if any(other["id"] == descriptor["id"] and other["_id"] != item["_id"] for other in state[kind]):
        raise Fail(http_error(409, "{} with id '{}' already exists for this project".format(what, descriptor["id"])))
    admin = item["_admin"]
    item.clear()
    item.update(descriptor)
    item["_id"] = name if UUID.match(name) else item.get("_id")
    item["_admin"] = admin
    admin["modified"] = tick(state)
    admin["package_sha256"] = hashlib.sha256(open(path, "rb").read()).hexdigest()


def package_delete(state, name, kind, force):
    item = by_name_or_id(state[kind], name, kind[:-1])
    if not force:
        if kind == "vnfds":
            if any(v["vnfd-id"] == item["_id"] for v in state["vnfrs"]):
                raise Fail(http_error(409, "There is at least one VNF using this descriptor"))
            if any(m["vnfd-id-ref"] == item["id"] for n in state["nsds"] for m in n.get("constituent-vnfd") or []):
                raise Fail(http_error(409, "There is at least one NSD referencing this descriptor"))
        elif any(n["nsd-id"] == item["_id"] for n in state["nsrs"]):
            raise Fail(http_error(409, "There is at least one NS using this descriptor"))
    state[kind].remove(item)


# --- ns-create: osmclient v8.0 config handling + NBI v8.0 checks ----------------------------------

def vim_id(state, name):
    for vim in state["vims"]:
        if name in (vim["name"], vim["_id"]):
            return vim["_id"]
    raise Fail("cannot find vim account '{}'".format(name))


ALLOWED = {
    "top": {"nsName", "nsdId", "vimAccountId", "nsDescription", "ssh_keys", "vld", "vnf", "additionalParamsForNs",
            "additionalParamsForVnf", "timeout_ns_deploy", "wimAccountId", "placement-engine",
            "placement-constraints", "k8s-namespace", "config-units", "vduImage"},
    "vnf": {"member-vnf-index", "vimAccountId", "vdu", "internal-vld"},
    "vld": {"name", "vim-network-name", "vim-network-id", "ns-net", "wimAccountId", "ip-profile",
            "provider-network", "vnfd-connection-point-ref"},
    "cpref": {"member-vnf-index-ref", "vnfd-connection-point-ref", "ip-address"},
    "ivld": {"name", "vim-network-name", "vim-network-id", "ip-profile", "provider-network",
             "internal-connection-point"},
    "icp": {"id-ref", "ip-address"},
    "apv": {"member-vnf-index", "additionalParams", "k8s-namespace", "config-units", "additionalParamsForVdu",
            "additionalParamsForKdu"},
}
IP = re.compile(r"^((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)$")


def schema_error(text):
    raise Fail(http_error(422, "Format error at '{}'".format(text)))


def validate_schema(ns):
    for key in ns:
        if key not in ALLOWED["top"]:
            schema_error("{}: Additional properties are not allowed".format(key))
    for key in ("nsName", "nsdId", "vimAccountId"):
        if key not in ns:
            schema_error("'{}' is a required property".format(key))
    if not UUID.match(ns["vimAccountId"]):
        schema_error("vimAccountId: does not match pattern")
    if "timeout_ns_deploy" in ns and (not isinstance(ns["timeout_ns_deploy"], int) or ns["timeout_ns_deploy"] < 1):
        schema_error("timeout_ns_deploy: must be an integer >= 1")
    for vnf in ns.get("vnf") or []:
        for key in vnf:
            if key not in ALLOWED["vnf"]:
                schema_error("vnf: {} Additional properties are not allowed".format(key))
        if "member-vnf-index" not in vnf or len(vnf) < 2:
            schema_error("vnf: 'member-vnf-index' is required and minProperties 2")
        if "vimAccountId" in vnf and not UUID.match(vnf["vimAccountId"]):
            schema_error("vnf.vimAccountId: {} does not match pattern".format(vnf["vimAccountId"]))
        for ivld in vnf.get("internal-vld") or []:
            for key in ivld:
                if key not in ALLOWED["ivld"]:
                    schema_error("vnf.internal-vld: {} Additional properties are not allowed".format(key))
            for icp in ivld.get("internal-connection-point") or []:
                for key in icp:
                    if key not in ALLOWED["icp"]:
                        schema_error("internal-connection-point: {} not allowed".format(key))
                if "ip-address" in icp and not IP.match(icp["ip-address"]):
                    schema_error("internal-connection-point.ip-address: {}".format(icp["ip-address"]))
    for vld in ns.get("vld") or []:
        for key in vld:
            if key not in ALLOWED["vld"]:
                schema_error("vld: {} Additional properties are not allowed".format(key))
        if "name" not in vld:
            schema_error("vld: 'name' is a required property")
        refs = vld.get("vnfd-connection-point-ref")
        if refs is not None and not refs:
            schema_error("vld.vnfd-connection-point-ref: [] is too short")
        for ref in refs or []:
            for key in ref:
                if key not in ALLOWED["cpref"]:
                    schema_error("vnfd-connection-point-ref: {} not allowed".format(key))
            if len(ref) < 3 or "member-vnf-index-ref" not in ref or "vnfd-connection-point-ref" not in ref:
                schema_error("vnfd-connection-point-ref: minProperties 3")
            if not IP.match(ref["ip-address"]):
                schema_error("vnfd-connection-point-ref.ip-address: {}".format(ref["ip-address"]))
    for item in ns.get("additionalParamsForVnf") or []:
        for key in item:
            if key not in ALLOWED["apv"]:
                schema_error("additionalParamsForVnf: {} Additional properties are not allowed".format(key))
        if "member-vnf-index" not in item or len(item) < 2:
            schema_error("additionalParamsForVnf: 'member-vnf-index' is required, minProperties 2")


def nbi_additional_params(ns, index, vnfd):
    where = "additionalParamsForVnf[member-vnf-index={}]".format(index)
    item = next((x for x in ns.get("additionalParamsForVnf") or [] if x["member-vnf-index"] == index), None)
    params = dict((item or {}).get("additionalParams") or {})
    for key in params:
        if not PARAM_KEY.match(str(key)):
            raise Fail(http_error(422, "Invalid param name at {}:{}. Must contain only alphanumeric characters and "
                                       "underscores, and cannot start with a digit".format(where, key)))
    configs = [("vnf-configuration", vnfd.get("vnf-configuration") or {})]
    configs += [("vdu-configuration", v.get("vdu-configuration") or {}) for v in vnfd.get("vdu") or []]
    for label, config in configs:
        for primitive in config.get("initial-config-primitive") or []:
            for param in primitive.get("parameter") or []:
                value = str(param.get("value", ""))
                if value.startswith("<") and value.endswith(">"):
                    if value in ("<rw_mgmt_ip>", "<VDU_SCALE_INFO>", "<ns_config_info>"):
                        continue
                    if value[1:-1] not in params:
                        raise Fail(http_error(422, "Parameter '{}' needed for vnfd[id={}]:{}:initial-config-"
                                                   "primitive[name={}] not supplied".format(
                                                       value, vnfd["id"], label, primitive["name"])))
    return params


def ns_create(state, opts):
    if scenario().get("ns_create_error"):
        raise Fail(scenario()["ns_create_error"])
    nsd = by_name_or_id(state["nsds"], opts["--nsd_name"], "nsd")
    text = None
    if opts.get("--config_file"):
        if opts.get("--config"):
            raise Fail('"--config" option is incompatible with "--config_file" option')
        try:
            text = open(opts["--config_file"]).read()
        except OSError as error:
            raise Fail("__file__{}".format(error))
    elif opts.get("--config"):
        text = opts["--config"]
    ns = {"nsdId": nsd["_id"], "nsName": opts["--ns_name"], "nsDescription": "default description",
          "vimAccountId": vim_id(state, opts["--vim_account"])}
    config = yaml.safe_load(text) if text else {}
    config = config or {}
    if "vld" in config:
        if not isinstance(config["vld"], list):
            raise Fail("Error at --config 'vld' must be a list of dictionaries")
        for vld in config["vld"]:
            if isinstance(vld.get("vim-network-name"), dict):
                vld["vim-network-name"] = {vim_id(state, k): v for k, v in vld["vim-network-name"].items()}
    for vnf in config.get("vnf") or []:
        if vnf.get("vim_account"):
            vnf["vimAccountId"] = vim_id(state, vnf.pop("vim_account"))
    for item in config.get("additionalParamsForVnf") or []:
        if not item.get("member-vnf-index"):
            raise Fail("Error at --config 'additionalParamsForVnf' items must contain 'member-vnf-index'")
    ns.update(config)
    try:
        validate_schema(ns)
        members = {m["member-vnf-index"]: m["vnfd-id-ref"] for m in nsd["constituent-vnfd"]}
        vnfds = {i: next(v for v in state["vnfds"] if v["id"] == vid) for i, vid in members.items()}
        params = {i: nbi_additional_params(ns, i, vnfd) for i, vnfd in vnfds.items()}
        # NBI _check_ns_operation("instantiate")
        for vnf in ns.get("vnf") or []:
            index = vnf["member-vnf-index"]
            if index not in members:
                raise Fail(http_error(422, "Invalid parameter member_vnf_index='{}' is not one of the "
                                           "nsd:constituent-vnfd".format(index)))
            vnfd = vnfds[index]
            for in_ivld in vnf.get("internal-vld") or []:
                ivld = next((v for v in vnfd.get("internal-vld") or []
                             if in_ivld["name"] in (v["id"], v.get("name"))), None)
                if ivld is None:
                    raise Fail(http_error(422, "Invalid parameter vnf[member-vnf-index='{}']:internal-vld:name='{}'"
                                               " is not present at vnfd '{}'".format(index, in_ivld["name"],
                                                                                      vnfd["id"])))
                refs = {icp["id-ref"] for icp in ivld.get("internal-connection-point") or []}
                for icp in in_ivld.get("internal-connection-point") or []:
                    if icp["id-ref"] not in refs:
                        raise Fail(http_error(422, "Invalid parameter vnf[member-vnf-index='{}']:internal-vld[name="
                                                   "'{}']:internal-connection-point[id-ref:'{}'] is not present at "
                                                   "vnfd:internal-vld:name/id:internal-connection-point".format(
                                                       index, in_ivld["name"], icp["id-ref"])))
        for in_vld in ns.get("vld") or []:
            if not any(in_vld["name"] in (v["id"], v.get("name")) for v in nsd.get("vld") or []):
                raise Fail(http_error(422, "Invalid parameter vld:name='{}' is not present at nsd:vld".format(
                    in_vld["name"])))
    except Fail as error:
        raise Fail("failed to create ns: {} nsd: {}\nerror:\n{}".format(opts["--ns_name"], opts["--nsd_name"], error))
    nsr_id = str(uuid.uuid4())
    nsr = {"_id": nsr_id, "id": nsr_id, "name": ns["nsName"], "name-ref": ns["nsName"], "nsd-id": nsd["_id"],
           "nsd-ref": nsd["id"], "datacenter": ns["vimAccountId"], "nsState": "BUILDING",
           "currentOperation": "INSTANTIATING", "currentOperationID": None, "errorDescription": None,
           "errorDetail": None, "config-status": "init", "operational-status": "init",
           "detailed-status": "creating", "create-time": tick(state), "constituent-vnfr-ref": [],
           "instantiate_params": ns,
           "_admin": {"nsState": "NOT_INSTANTIATED", "deployed": {"VCA": []}}}   # NBI's; LCM sets INSTANTIATED
    placement = {v["member-vnf-index"]: v.get("vimAccountId") for v in ns.get("vnf") or []}
    for index, vnfd in vnfds.items():
        vnfr_id = str(uuid.uuid4())
        nsr["constituent-vnfr-ref"].append(vnfr_id)
        state["vnfrs"].append({"_id": vnfr_id, "id": vnfr_id, "nsr-id-ref": nsr_id, "member-vnf-index-ref": index,
                               "vnfd-ref": vnfd["id"], "vnfd-id": vnfd["_id"],
                               "vim-account-id": placement.get(index) or ns["vimAccountId"], "ip-address": None,
                               "additionalParamsForVnf": params[index], "vdur": [], "_admin": {}})
    state["nsrs"].append(nsr)
    op = new_op(state, nsr, "instantiate", {"nsName": ns["nsName"]})
    nsr["currentOperationID"] = op["id"]
    return nsr_id


# --- operations -------------------------------------------------------------------------------

def new_op(state, nsr, kind, params, primitive=None):
    plan = scenario().get(primitive if primitive and primitive in scenario() else kind, {})
    op_id = str(uuid.uuid4())
    op = {"_id": op_id, "id": op_id, "nsInstanceId": nsr["_id"], "lcmOperationType": kind,
          "operationState": "PROCESSING", "queuePosition": 0, "stage": "", "errorMessage": None,
          "detailed-status": None, "startTime": tick(state), "statusEnteredTime": state["clock"],
          "operationParams": dict(params, lcmOperationType=kind, nsInstanceId=nsr["_id"]),
          "_polls_left": int(plan.get("polls", 1)), "_result": plan.get("result", "COMPLETED"),
          "_detail": plan.get("detail", ""), "_deployed": bool(plan.get("deployed"))}
    if kind == "action":
        op["operationParams"]["primitive"] = primitive
    state["ops"].append(op)
    return op


def advance(state):
    """One poll: the oldest PROCESSING operation of each NS moves on (LCM runs them in order)."""
    seen = set()
    for op in list(state["ops"]):
        if op["operationState"] != "PROCESSING" or op["nsInstanceId"] in seen:
            continue
        seen.add(op["nsInstanceId"])
        if op["_polls_left"] < 0:
            op["stage"] = "Deploying at VIM"
            continue  # never ends (timeout tests)
        op["_polls_left"] -= 1
        op["stage"] = "Stage 2/3: deployment of KDUs, VMs and execution environments."
        if op["lcmOperationType"] == "instantiate":
            nsr_of(state, op)["_admin"]["nsState"] = "INSTANTIATED"   # LCM v8.0, before RO deploys
        if op["_polls_left"] <= 0:
            finish(state, op)


def fail_op(state, op, detail):
    op["operationState"] = "FAILED"
    op["errorMessage"] = op["detailed-status"] = detail
    op["statusEnteredTime"] = tick(state)


def nsr_of(state, op):
    return next(n for n in state["nsrs"] if n["_id"] == op["nsInstanceId"])


def finish(state, op):
    nsr = nsr_of(state, op)
    kind = op["lcmOperationType"]
    nsr["currentOperation"], nsr["currentOperationID"] = "IDLE", None
    if kind == "instantiate":
        nsr["_admin"]["nsState"] = "INSTANTIATED"
    if op["_result"] == "FAILED":
        if kind == "instantiate" and op["_deployed"]:
            instantiate_done(state, nsr)    # RO made every VDU; a day-1 primitive then failed (LCM: BROKEN)
        fail_op(state, op, op["_detail"] or "FAILED")
        if kind == "instantiate":
            nsr.update({"nsState": "BROKEN", "errorDescription": "Operation: INSTANTIATING.{}, Stage 2/3: "
                        "deployment of KDUs, VMs and execution environments.".format(op["id"]),
                        "errorDetail": op["_detail"], "detailed-status": op["_detail"]})
        return
    try:
        if kind == "instantiate":
            instantiate_done(state, nsr)
            op["detailed-status"] = "Done"
        elif kind == "scale":
            op["detailed-status"] = scale_done(state, nsr, op)
            nsr["detailed-status"] = ""
        elif kind == "action":
            op["detailed-status"] = action_done(state, nsr, op)
        if kind in ("scale", "action"):
            # LCM v8.0's _write_ns_status at the end of a scale or action: the error fields are cleared,
            # nsState is kept (a BROKEN NS stays BROKEN without saying why)
            nsr["errorDescription"] = nsr["errorDetail"] = None
        elif kind == "terminate":
            state["nsrs"].remove(nsr)
            state["vnfrs"] = [v for v in state["vnfrs"] if v["nsr-id-ref"] != nsr["_id"]]
            state["ops"] = [o for o in state["ops"] if o["nsInstanceId"] != nsr["_id"]]
            return
    except Fail as error:
        fail_op(state, op, str(error))
        return
    op["operationState"] = "COMPLETED"
    op["statusEnteredTime"] = tick(state)


def vnfd_of(state, vnfr):
    return next(v for v in state["vnfds"] if v["_id"] == vnfr["vnfd-id"])


def next_address(state, network):
    subnets = scenario().get("subnets", {})
    if network not in subnets:
        return None
    taken = set(state.setdefault("allocated", []))
    for host in list(ipaddress.IPv4Network(subnets[network]).hosts())[99:]:
        if str(host) not in taken:
            state["allocated"].append(str(host))
            return str(host)
    raise Fail("no free address on {}".format(network))


def make_vdur(state, nsr, vnfr, vdu, count_index):
    """A VDU record with an address per interface: fixed ones from the config, else from the network."""
    params = nsr["instantiate_params"]
    nsd = next(n for n in state["nsds"] if n["_id"] == nsr["nsd-id"])
    vim = vnfr["vim-account-id"]
    interfaces = []
    for iface in vdu.get("interface") or []:
        address, network = None, None
        cp = iface.get("external-connection-point-ref")
        if cp:
            vld = next((v for v in nsd.get("vld") or [] for r in v.get("vnfd-connection-point-ref") or []
                        if r["member-vnf-index-ref"] == vnfr["member-vnf-index-ref"]
                        and r["vnfd-connection-point-ref"] == cp), None)
            if vld is not None:
                given = next((v for v in params.get("vld") or [] if v["name"] in (vld["id"], vld.get("name"))), {})
                network = given.get("vim-network-name", vld.get("vim-network-name"))
                if isinstance(network, dict):
                    network = network.get(vim)
                if count_index == 0:
                    address = next((r.get("ip-address") for r in given.get("vnfd-connection-point-ref") or []
                                    if r["member-vnf-index-ref"] == vnfr["member-vnf-index-ref"]
                                    and r["vnfd-connection-point-ref"] == cp), None)
        else:
            icp = iface.get("internal-connection-point-ref")
            in_vnf = next((v for v in params.get("vnf") or []
                           if v["member-vnf-index"] == vnfr["member-vnf-index-ref"]), {})
            for ivld in in_vnf.get("internal-vld") or []:
                for ref in ivld.get("internal-connection-point") or []:
                    if ref["id-ref"] == icp:
                        address = ref.get("ip-address")
        address = address or next_address(state, network)
        interfaces.append({"name": iface["name"], "ip-address": address, "mgmt-vnf": iface.get("mgmt-interface"),
                           "ns-vld-id": network})
    vdur_id = str(uuid.uuid4())
    mgmt = next((i["ip-address"] for i in interfaces if i.get("mgmt-vnf")), None)
    return {"_id": vdur_id, "id": vdur_id, "vdu-id-ref": vdu["id"], "count-index": count_index,
            "name": "{}-{}-{}-{}".format(nsr["name"], vnfr["member-vnf-index-ref"], vdu["id"], count_index),
            "status": "ACTIVE", "ip-address": mgmt, "interfaces": interfaces,
            "_pending_actions": int(scenario().get("registration_delay", 0))}


def instantiate_done(state, nsr):
    for vnfr in state["vnfrs"]:
        if vnfr["nsr-id-ref"] != nsr["_id"]:
            continue
        vnfd = vnfd_of(state, vnfr)
        for vdu in vnfd.get("vdu") or []:
            for n in range(int(vdu.get("count", 1))):
                vdur = make_vdur(state, nsr, vnfr, vdu, n)
                vdur["_pending_actions"] = 0
                vnfr["vdur"].append(vdur)
                nsr["_admin"]["deployed"]["VCA"].append({
                    "application": "app-vnf-{}-vdu-{}-cnt-{}".format(vnfr["_id"][-12:], vdu["id"], n),
                    "member-vnf-index": vnfr["member-vnf-index-ref"], "vdu_id": vdu["id"], "vdu_count_index": n,
                    "model": nsr["_id"]})
        vnfr["ip-address"] = (vnfr["vdur"] or [{}])[0].get("ip-address")
    nsr.update({"nsState": "READY", "config-status": "configured", "operational-status": "running",
                "detailed-status": "Done"})


def scale_done(state, nsr, op):
    data = op["operationParams"]["scaleVnfData"]
    index = data["scaleByStepData"]["member-vnf-index"]
    name = data["scaleByStepData"]["scaling-group-descriptor"]
    vnfr = next(v for v in state["vnfrs"] if v["nsr-id-ref"] == nsr["_id"] and v["member-vnf-index-ref"] == index)
    group = next(g for g in vnfd_of(state, vnfr).get("scaling-group-descriptor") or [] if g["name"] == name)
    # LCM v8.0: one counter per scaling-group *name* in the NS record.
    counters = nsr["_admin"].setdefault("scaling-group", [])
    entry = next((c for c in counters if c["name"] == name), None)
    if entry is None:
        entry = {"name": name, "nb-scale-op": 0}
        counters.append(entry)
    if data["scaleVnfType"] == "SCALE_OUT":
        if entry["nb-scale-op"] >= int(group.get("max-instance-count", 10)):
            raise Fail("FAILED Sending scale order to VIM: reached the limit of {} (max-instance-count) scaling-out "
                       "operations for the scaling-group-descriptor '{}'".format(entry["nb-scale-op"], name))
        entry["nb-scale-op"] += 1
        for item in group["vdu"]:
            vdu = next(v for v in vnfd_of(state, vnfr)["vdu"] if v["id"] == item["vdu-id-ref"])
            for _ in range(int(item.get("count", 1))):
                used = [v["count-index"] for v in vnfr["vdur"] if v["vdu-id-ref"] == vdu["id"]]
                vnfr["vdur"].append(make_vdur(state, nsr, vnfr, vdu, max(used) + 1 if used else 0))
    else:
        if entry["nb-scale-op"] <= int(group.get("min-instance-count", 0) or 0):
            raise Fail("FAILED Sending scale order to VIM: reached the limit of {} (min-instance-count) scaling-in "
                       "operations for the scaling-group-descriptor '{}'".format(entry["nb-scale-op"], name))
        entry["nb-scale-op"] -= 1
        for item in group["vdu"]:
            for _ in range(int(item.get("count", 1))):
                victims = [v for v in vnfr["vdur"] if v["vdu-id-ref"] == item["vdu-id-ref"]]
                vnfr["vdur"].remove(victims[-1])
    return ""


def action_done(state, nsr, op):
    params = op["operationParams"]
    primitive = params["primitive"]
    if params.get("vdu_id") is not None:
        # LCM v8.0 looks up the execution environment of (member, VDU, count index); a scaled-out VDU has none.
        index = int(params.get("vdu_count_index") or 0)
        if not any(v.get("member-vnf-index") == params["member_vnf_index"] and v.get("vdu_id") == params["vdu_id"]
                   and v.get("vdu_count_index") == index for v in nsr["_admin"]["deployed"]["VCA"]):
            raise Fail("charm for member_vnf_index={} vdu_id={} vdu_count_index={} is not deployed".format(
                params["member_vnf_index"], params["vdu_id"], index))
    if primitive == "pe-status":
        return {"summary": "running, registered"}
    if primitive != "pool-status":
        return {"params": json.dumps(params["primitive_params"], sort_keys=True)} if params["primitive_params"] else {}
    handle = scenario().get("pool_handle", "CalcAppPool")
    subnets = [ipaddress.IPv4Network(s) for s in scenario().get("subnets", {}).values()]
    # registrars that lost some PEs (a partitioned pool): member index -> addresses it does not see
    misses = (scenario().get("registrar_misses") or {}).get(params["member_vnf_index"], [])
    elements = []
    for vnfr in state["vnfrs"]:
        if vnfr["nsr-id-ref"] != nsr["_id"] or vnfr["vnfd-ref"] != scenario().get("pe_vnfd", "rsp-pool-element"):
            continue
        for vdur in vnfr["vdur"]:
            if vdur.get("_pending_actions", 0) > 0:
                vdur["_pending_actions"] -= 1  # registers after this many pool-status reads
                continue
            for iface in vdur["interfaces"]:
                address = iface.get("ip-address")
                if address and any(ipaddress.IPv4Address(address) in net for net in subnets) and not iface.get(
                        "mgmt-vnf") and address not in misses:
                    elements.append({"identifier": "0x{:08x}".format(len(elements) + 0x1000), "addresses": [address],
                                     "port": 9000, "protocol": "SCTP", "load": 0.0, "load_increment": 0.1,
                                     "weight": 0, "policy_type": 3, "home_registrar": "0x00000101",
                                     "registration_life_ms": 300000})
    parsed = {"home": "0x00000101", "peers": [], "pools": [{"handle": handle, "policy": "PriorityLeastUsed",
                                                           "protocol": "SCTP", "elements": elements}]}
    return {"summary": "1 pool, {} pool elements".format(len(elements)), "pool-count": "1",
            "pe-count": str(len(elements)), "json": json.dumps(parsed, sort_keys=True)}


def ns_action(state, name, opts):
    nsr = by_name_or_id(state["nsrs"], name, "ns")
    # NBI v8.0 checks this first (instance_topics: NsLcmOpTopic.new), then the member and primitive
    if nsr["_admin"].get("nsState") != "INSTANTIATED":
        raise Fail("failed to exec operation {}:\nerror:\n{}".format(name, http_error(
            409, "ns_instance '{}' cannot be 'action' because it is not instantiated".format(nsr["_id"]))))
    index = opts.get("--vnf_name")
    data = {"member_vnf_index": index, "primitive": opts["--action_name"],
            "primitive_params": yaml.safe_load(opts["--params"]) if opts.get("--params") else {}}
    if opts.get("--vdu_id"):
        data["vdu_id"] = opts["--vdu_id"]
    if opts.get("--vdu_count") is not None:
        data["vdu_count_index"] = int(opts["--vdu_count"])
    vnfr = next((v for v in state["vnfrs"] if v["nsr-id-ref"] == nsr["_id"] and v["member-vnf-index-ref"] == index),
                None)
    if vnfr is None:
        raise Fail("failed to exec operation {}:\nerror:\n{}".format(name, http_error(
            422, "Invalid parameter member_vnf_index='{}' is not one of the nsd:constituent-vnfd".format(index))))
    vnfd = vnfd_of(state, vnfr)
    config = vnfd.get("vnf-configuration") or {}
    if opts.get("--vdu_id"):
        vdu = next((v for v in vnfd.get("vdu") or [] if v["id"] == opts["--vdu_id"]), None)
        if vdu is None:
            raise Fail("failed to exec operation {}:\nerror:\n{}".format(name, http_error(
                422, "Invalid parameter vdu_id='{}' not present at vnfd:vdu:id".format(opts["--vdu_id"]))))
        config = vdu.get("vdu-configuration") or {}
    if not any(p["name"] == data["primitive"] for p in config.get("config-primitive") or []):
        raise Fail("failed to exec operation {}:\nerror:\n{}".format(name, http_error(
            422, "Invalid primitive '{}' is not present at vnfd/nsd".format(data["primitive"]))))
    # any nsState else (BROKEN too): the NBI accepts it; LCM runs it in order
    return new_op(state, nsr, "action", data, primitive=data["primitive"])


def run_to_end(state, op):
    while op["operationState"] == "PROCESSING":
        if op["_polls_left"] < 0:
            raise Fail("operation timeout after 3600 seconds")
        op["_polls_left"] = 0
        finish(state, op)
    if op["operationState"] == "FAILED":
        sys.stderr.write("detailed-status: {}\n".format(op["detailed-status"]))
        raise Fail("Operation failed with status 'FAILED'")


# --- output -----------------------------------------------------------------------------------

def public(record):
    return {k: v for k, v in record.items() if not k.startswith("_") or k in ("_id", "_admin")}


def literal(record):
    clean = json.loads(json.dumps(public(record)))
    for vdur in clean.get("vdur") or []:
        vdur.pop("_pending_actions", None)
    return yaml.safe_dump(clean, indent=4, default_flow_style=False)


def op_row(op):
    detail = "-"
    if op["operationState"] == "PROCESSING":
        detail = op["stage"] or "-"
    elif op["operationState"] in ("FAILED", "FAILED_TEMP"):
        detail = op.get("errorMessage") or "-"
    action = op["operationParams"].get("primitive", "N/A") if op["lcmOperationType"] == "action" else "N/A"
    # osmclient wraps the detail at 50 characters
    wrapped = "\n".join(detail[i:i + 50] for i in range(0, len(detail), 50)) or "-"
    return [op["id"], op["lcmOperationType"], action, op["operationState"], "2020-09-13T12:26:40", wrapped]


def run(argv):
    glob, command, args, opts = parse(argv)
    if scenario().get("unreachable"):
        # osmclient when pycurl cannot reach the NBI
        raise Fail("(7, 'Failed to connect to {} port 9999: Connection refused')".format(
            glob.get("--hostname") or os.environ.get("OSM_HOSTNAME") or "127.0.0.1"))
    state = fakelib.load("osm.json", new_state())
    try:
        return "\n".join(str(line) for line in answer(state, command, args, opts)) + "\n"
    finally:
        # Polls move operations on even when the answer is an error (as time does).
        fakelib.save("osm.json", state)


def answer(state, command, args, opts):
    out = []
    head = command.split("-")[0]
    if command in ("nfpkg-list", "vnfd-list", "vnfpkg-list", "nspkg-list", "nsd-list"):
        kind = "nsds" if head in ("nspkg", "nsd") else "vnfds"
        rows = [[i.get("name", "-"), i["_id"]] for i in state[kind] if match_filter(i, opts.get("--filter"))]
        out.append(fakelib.pretty_table(["nsd name" if kind == "nsds" else "nfpkg name", "id"], rows))
    elif command in ("nfpkg-show", "vnfd-show", "nspkg-show", "nsd-show"):
        item = by_name_or_id(state["nsds" if head in ("nspkg", "nsd") else "vnfds"], args[0], head)
        out.append(literal(item) if opts.get("--literal") else fakelib.pretty_table(
            ["field", "value"], [[k, json.dumps(v)] for k, v in public(item).items()]))
    elif command.endswith("-create") and command not in ("ns-create", "vim-create"):
        kind = "nsds" if head in ("nspkg", "nsd") else "vnfds"
        out.append(package_create(state, args[0], kind))
    elif command.endswith("-update"):
        kind = "nsds" if head in ("nspkg", "nsd") else "vnfds"
        package_update(state, args[0], opts.get("--content"), kind)
        out.append("Updated")
    elif command.endswith("-delete") and command not in ("ns-delete", "vim-delete"):
        kind = "nsds" if head in ("nspkg", "nsd") else "vnfds"
        package_delete(state, args[0], kind, opts.get("--force"))
        out.append("Deleted")
    elif command == "vim-create":
        if any(v["name"] == opts["--name"] for v in state["vims"]):
            raise Fail(http_error(409, "name '{}' already exists for vim_accounts".format(opts["--name"])))
        config = yaml.safe_load(opts["--config"]) if opts.get("--config") else {}
        vim = {"_id": str(uuid.uuid4()), "name": opts["--name"], "vim_type": opts.get("--account_type", "openstack"),
               "vim_url": opts["--auth_url"], "vim_user": opts["--user"], "vim_tenant_name": opts["--tenant"],
               "vim_password": "********", "config": config, "_admin": {"operationalState": "ENABLED"}}
        state["vims"].append(vim)
        out.append(vim["_id"])
    elif command == "version":
        # osmclient v8.0: the NBI's /version, then pkg_resources' osmclient version
        versions = scenario().get("osm_version") or {}
        out.append("Server version: {}".format(versions.get("server", "8.0.1rc1 2020-09-04")))
        out.append("Client version: {}".format(versions.get("client", "8.0.1rc1")))
    elif command == "vim-list":
        out.append(fakelib.pretty_table(["vim name", "uuid"], [[v["name"], v["_id"]] for v in state["vims"]]))
    elif command == "vim-show":
        vim = by_name_or_id(state["vims"], args[0], "vim")
        out.append(fakelib.pretty_table(["key", "attribute"], [[k, json.dumps(v)] for k, v in public(vim).items()]))
    elif command == "vim-delete":
        vim = by_name_or_id(state["vims"], args[0], "vim")
        if not opts.get("--force") and any(n.get("datacenter") == vim["_id"] for n in state["nsrs"]):
            raise Fail(http_error(409, "There is at least one NS using this VIM account"))
        state["vims"].remove(vim)
        out.append("Deleted")
    elif command == "ns-create":
        out.append(ns_create(state, opts))
    elif command == "ns-list":
        advance(state)
        rows = [[n["name"], n["_id"], "2020-09-13T12:26:40", n["nsState"],
                 "{} ({})".format(n["currentOperation"], n["currentOperationID"]), "N/A"]
                for n in state["nsrs"] if match_filter(n, opts.get("--filter"))]
        out.append(fakelib.pretty_table(["ns instance name", "id", "date", "ns state", "current operation",
                                         "error details"], rows))
    elif command == "ns-show":
        advance(state)
        nsr = by_name_or_id(state["nsrs"], args[0], "ns")
        record = dict(nsr)
        record.pop("instantiate_params", None)
        if opts.get("--literal"):
            out.append(literal(record))
        else:
            out.append(fakelib.pretty_table(["field", "value"], [[k, json.dumps(v)] for k, v in record.items()]))
    elif command == "ns-op-list":
        advance(state)
        nsr = by_name_or_id(state["nsrs"], args[0], "ns")
        rows = [op_row(op) for op in state["ops"] if op["nsInstanceId"] == nsr["_id"]]
        out.append(fakelib.pretty_table(["id", "operation", "action_name", "status", "date", "detail"], rows))
    elif command == "ns-op-show":
        failing = scenario().get("failed_polls", 0)
        if state.get("_failed_polls", 0) < failing:
            # the NBI that fails a poll (restarting, a dropped connection): osmclient's pycurl error
            state["_failed_polls"] = state.get("_failed_polls", 0) + 1
            raise Fail("(7, 'Failed to connect to 127.0.0.1 port 9999: Connection refused')")
        advance(state)
        op = next((o for o in state["ops"] if o["id"] == args[0]), None)
        if op is None:
            raise Fail("failed to get status of operation {}:\nerror:\n{}".format(args[0], http_error(
                404, "nslcmops '{}' not found".format(args[0]))))
        out.append(literal(op) if opts.get("--literal") else fakelib.pretty_table(
            ["field", "value"], [[k, json.dumps(v)] for k, v in public(op).items()]))
    elif command == "vnf-list":
        nsr = by_name_or_id(state["nsrs"], opts["--ns"], "ns") if opts.get("--ns") else None
        rows = [[v["_id"], "-", v["nsr-id-ref"], v["member-vnf-index-ref"], v["vnfd-ref"], v["vim-account-id"],
                 str(v["ip-address"])] for v in state["vnfrs"] if nsr is None or v["nsr-id-ref"] == nsr["_id"]]
        out.append(fakelib.pretty_table(["vnf id", "name", "ns id", "vnf member index", "vnfd name",
                                         "vim account id", "ip address"], rows))
    elif command == "vnf-show":
        vnfr = next((v for v in state["vnfrs"] if v["_id"] == args[0]), None)
        if vnfr is None:
            raise Fail("vnf {} not found".format(args[0]))
        out.append(literal(vnfr))
    elif command == "ns-action":
        op = ns_action(state, args[0], opts)
        if opts.get("--wait"):
            run_to_end(state, op)
        out.append(op["id"])
    elif command == "vnf-scale":
        nsr = by_name_or_id(state["nsrs"], args[0], "ns")
        if nsr["_admin"].get("nsState") != "INSTANTIATED" or nsr["nsState"] == "BUILDING":
            raise Fail("failed to scale vnf {} of ns {}:\nerror:\n{}".format(args[1], args[0], http_error(
                409, "ns_instance '{}' cannot be 'scale' because it is not instantiated".format(nsr["_id"]))))
        vnfr = next((v for v in state["vnfrs"] if v["nsr-id-ref"] == nsr["_id"]
                     and v["member-vnf-index-ref"] == args[1]), None)
        message = None
        if vnfr is None:
            message = "Invalid parameter member_vnf_index='{}' is not one of the nsd:constituent-vnfd".format(args[1])
        elif not any(g["name"] == opts["--scaling-group"]
                     for g in vnfd_of(state, vnfr).get("scaling-group-descriptor") or []):
            message = ("Invalid scaleVnfData:scaleByStepData:scaling-group-descriptor '{}' is not present at "
                       "vnfd:scaling-group-descriptor".format(opts["--scaling-group"]))
        if message:
            raise Fail("failed to scale vnf {} of ns {}:\nerror:\n{}".format(args[1], args[0], http_error(422, message)))
        scale_in = bool(opts.get("--scale-in"))
        scale_out = bool(opts.get("--scale-out")) or not scale_in
        if scale_in and scale_out:
            raise Fail("failed to scale vnf {} of ns {}:\nerror:\nyou must set either 'scale_in' or "
                       "'scale_out'".format(args[1], args[0]))
        data = {"scaleType": "SCALE_VNF", "scaleVnfData": {
            "scaleVnfType": "SCALE_OUT" if scale_out else "SCALE_IN",
            "scaleByStepData": {"member-vnf-index": args[1], "scaling-group-descriptor": opts["--scaling-group"]}}}
        op = new_op(state, nsr, "scale", data)
        out.append(op["id"])
    elif command == "ns-delete":
        nsr = by_name_or_id(state["nsrs"], args[0], "ns")
        if opts.get("--force"):
            state["nsrs"].remove(nsr)
            state["vnfrs"] = [v for v in state["vnfrs"] if v["nsr-id-ref"] != nsr["_id"]]
            state["ops"] = [o for o in state["ops"] if o["nsInstanceId"] != nsr["_id"]]
            out.append("Deleted")
        else:
            new_op(state, nsr, "terminate", {"autoremove": True})
            nsr["nsState"] = "TERMINATING"
            out.append("Deletion in progress")
    else:
        raise Fail("the fake does not implement {}".format(command))
    return out


def main():
    argv = sys.argv[1:]
    extra = {}
    if os.environ.get("OSM_PASSWORD"):
        extra["osm_password_sha256"] = hashlib.sha256(os.environ["OSM_PASSWORD"].encode()).hexdigest()
    fakelib.record("osm", argv, extra)
    with fakelib.locked(os.path.join(fakelib.state_dir(), "osm.lock")):
        try:
            sys.stdout.write(run(argv))
        except Usage as error:
            cmd = "osm {}".format(error.command) if error.command else "osm"
            sys.stderr.write("Usage: {} [OPTIONS]\nTry '{} -h' for help.\n\nError: {}\n".format(cmd, cmd, error))
            sys.exit(2)
        except Fail as error:
            text = str(error)
            if text == "__aborted__":
                sys.stderr.write("Aborted!\n")
            elif text.startswith("__file__"):
                sys.stdout.write("Cannot open file: {}\n".format(text[8:]))
            else:
                sys.stdout.write("ERROR: {}\n".format(text))
            sys.exit(1)


if __name__ == "__main__":
    main()
