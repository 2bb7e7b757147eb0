"""Build-time validation of OSM Release EIGHT packages.

Three layers, each violation naming the descriptor, the path and the rule:

* the package layout NBI v8.0 accepts on upload (one top directory, one
  descriptor at depth 2, no absolute or ``..`` names) and our checksums;
* the IM subset schema (mecpool.packaging.schema, closed objects);
* the cross-reference rules the NBI enforces on onboarding and ns-create (see
  docs/osm-release-eight.md), plus what LCM needs to run our native charms:
  mgmt cp, interface refs, cloud-init and charms in the package, VLD refs,
  scaling-group refs, unique ids, primitives that are charm actions, every
  ``<param>`` and cloud-init variable provided by the additionalParams.
"""

import hashlib
import ipaddress
import re
import tarfile
from collections import namedtuple
from pathlib import Path

import jinja2
import jsonschema
import yaml

from mecpool.descriptors.params import (PARAM_KEY, cloud_init_params, placeholder,
                                        required_params)
from mecpool.descriptors.primitives import CONFIG_PRIMITIVE, OSM_PROVIDED

from .schema import NSD_DOCUMENT, VNFD_DOCUMENT

CHECKSUMS = "checksums.txt"
# libyaml's safe loader when PyYAML has it: same results, far faster.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DESCRIPTOR_SUFFIXES = (".yaml", ".yml", ".json")
# data-type -> JSON-schema type in actions.yaml / option type in config.yaml
ACTION_TYPES = {"STRING": "string", "INTEGER": "integer", "BOOLEAN": "boolean"}
CONFIG_TYPES = {"STRING": "string", "INTEGER": "int", "BOOLEAN": "boolean"}
VNF_FOLDERS = ("charms", "cloud_init", "icons", "images", "scripts")
NS_FOLDERS = ("charms", "icons")


class Violation(namedtuple("Violation", "descriptor path rule message")):
    def __str__(self):
        return "{}: {}: {} [{}]".format(self.descriptor, self.path or "/", self.message, self.rule)


class ValidationFailed(Exception):
    def __init__(self, violations):
        self.violations = list(violations)
        Exception.__init__(self, "{} violation(s):\n{}".format(
            len(self.violations), "\n".join("  - {}".format(v) for v in self.violations)))


class Package(object):
    """A package's files in memory: {name relative to the archive root: bytes}."""

    def __init__(self, source, files):
        self.source = str(source)
        self.files = dict(files)

    @classmethod
    def from_dir(cls, path):
        path = Path(path)
        files = {}
        for file in sorted(path.rglob("*")):
            if file.is_file():
                files["{}/{}".format(path.name, file.relative_to(path).as_posix())] = file.read_bytes()
        return cls(path, files)

    @classmethod
    def from_archive(cls, path):
        files = {}
        with tarfile.open(str(path), "r:gz") as archive:
            for member in archive.getmembers():
                if member.isfile():
                    files[member.name] = archive.extractfile(member).read()
                elif not member.isdir():
                    files[member.name] = None  # links and devices: reported by layout()
        return cls(path, files)

    @classmethod
    def load(cls, path):
        path = Path(path)
        return cls.from_dir(path) if path.is_dir() else cls.from_archive(path)

    @property
    def top(self):
        tops = {name.split("/")[0] for name in self.files}
        return tops.pop() if len(tops) == 1 else None

    def descriptor_names(self):
        return sorted(n for n in self.files if n.count("/") == 1 and n.endswith(DESCRIPTOR_SUFFIXES))

    def has(self, relative):
        return "{}/{}".format(self.top, relative) in self.files

    def has_dir(self, relative):
        prefix = "{}/{}/".format(self.top, relative.rstrip("/"))
        return any(name.startswith(prefix) for name in self.files)

    def text(self, relative):
        return self.files["{}/{}".format(self.top, relative)].decode("utf-8")


def md5(data):
    return hashlib.md5(data).hexdigest()  # noqa: S324 - md5sum format, not security


def checksums_text(files):
    """md5sum output over ``files`` ({path relative to the package dir: bytes})."""
    return "".join("{}  {}\n".format(md5(files[name]), name) for name in sorted(files))


# --- layout ---------------------------------------------------------------

def layout(package):
    """NBI upload rules and checksums.txt; returns (violations, descriptor doc or None)."""
    out = []
    where = Path(package.source).name

    def fail(path, rule, message):
        out.append(Violation(where, path, rule, message))

    for name in sorted(package.files):
        parts = name.split("/")
        if not parts[0] or ".." in parts:
            fail(name, "archive-relative-names", "absolute path or '..' in the archive")
        elif len(parts) == 1:
            fail(name, "archive-top-directory", "every file must be inside the package directory")
        if package.files[name] is None:
            fail(name, "archive-regular-files", "only regular files and directories are allowed")
    if package.top is None:
        fail("", "archive-top-directory", "expected exactly one top directory, found {}".format(
            sorted({n.split("/")[0] for n in package.files}) or "none"))
        return out, None
    descriptors = package.descriptor_names()
    if len(descriptors) != 1:
        fail(package.top, "single-descriptor",
             "expected one descriptor (YAML/JSON) at depth 2, found {}".format(descriptors or "none"))
        return out, None
    name = descriptors[0]
    expected = ("{0}/{0}_vnfd.yaml".format(package.top), "{0}/{0}_nsd.yaml".format(package.top))
    if name not in expected:
        fail(name, "descriptor-name", "the descriptor must be <dir>/<dir>_vnfd.yaml or _nsd.yaml")
    try:
        document = yaml.load(package.files[name].decode("utf-8"), Loader=YAML_LOADER)
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        fail(name, "descriptor-yaml", "not valid YAML: {}".format(error))
        return out, None
    out.extend(checksums(package, where))
    allowed = VNF_FOLDERS if name.endswith("_vnfd.yaml") else NS_FOLDERS
    for other in sorted(package.files):
        parts = other.split("/")
        if len(parts) == 2 and other not in (name, "{}/{}".format(package.top, CHECKSUMS)):
            fail(other, "package-folders", "only the descriptor and checksums.txt belong at the top")
        elif len(parts) > 2 and parts[1] not in allowed:
            fail(other, "package-folders", "{}/ is not a package folder ({})".format(parts[1], ", ".join(allowed)))
    return out, document


def checksums(package, where):
    out = []
    listed_name = "{}/{}".format(package.top, CHECKSUMS)
    if listed_name not in package.files:
        return [Violation(where, CHECKSUMS, "checksums", "checksums.txt is missing")]
    listed = {}
    for number, line in enumerate(package.files[listed_name].decode("utf-8").splitlines(), 1):
        match = re.match(r"^([0-9a-f]{32})  (\S.*)$", line)
        if not match:
            out.append(Violation(where, "{}:{}".format(CHECKSUMS, number), "checksums",
                                 "not '<md5>  <path>' (md5sum format)"))
            continue
        listed[match.group(2)] = match.group(1)
    prefix = package.top + "/"
    actual = {n[len(prefix):]: md5(d) for n, d in package.files.items()
              if d is not None and n != listed_name}
    for path in sorted(set(actual) - set(listed)):
        out.append(Violation(where, path, "checksums", "file not listed in checksums.txt"))
    for path in sorted(set(listed) - set(actual)):
        out.append(Violation(where, path, "checksums", "listed in checksums.txt but not in the package"))
    for path in sorted(set(listed) & set(actual)):
        if listed[path] != actual[path]:
            out.append(Violation(where, path, "checksums", "md5 differs from checksums.txt"))
    return out


# --- schema ---------------------------------------------------------------

def _path(parts):
    out = ""
    for part in parts:
        out += "[{}]".format(part) if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def schema(document, where):
    """IM-subset schema violations of a VNFD or NSD document."""
    if isinstance(document, dict) and "nsd:nsd-catalog" in document:
        validator = jsonschema.Draft7Validator(NSD_DOCUMENT)
    else:
        validator = jsonschema.Draft7Validator(VNFD_DOCUMENT)
    out = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        message = error.message
        if error.validator == "oneOf" and "connection-point-ref" in str(error.schema):
            message = "give exactly one of external-connection-point-ref or internal-connection-point-ref"
        elif error.validator == "not" and "required" in error.schema.get("not", {}):
            message = "{} are exclusive (a YANG choice)".format(" and ".join(error.schema["not"]["required"]))
        out.append(Violation(where, _path(error.absolute_path), "schema", message))
    return out


# --- VNFD rules -------------------------------------------------------------

def _items(value):
    return value if isinstance(value, list) else []


def unique_ids(descriptor, where, position=""):
    """NBI: in every list of objects, the first item's key ("id", else "name")
    must be unique across the list."""
    out = []
    for key, value in descriptor.items():
        if not isinstance(value, list) or not value:
            continue
        key_name = None
        seen = set()
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                continue
            path = "{}{}{}[{}]".format(position, "." if position else "", key, index)
            out.extend(unique_ids(item, where, path))
            if index == 0 and (item.get("id") or item.get("name")):
                key_name = "id" if item.get("id") else "name"
            if key_name and item.get(key_name):
                if item[key_name] in seen:
                    out.append(Violation(where, path, "unique-id",
                                         "{} {!r} repeats in this list".format(key_name, item[key_name])))
                seen.add(item[key_name])
    return out


class VnfdRules(object):
    """The NBI v8.0 VnfdTopic cross-reference checks and what LCM needs."""

    def __init__(self, vnfd, package, where):
        self.vnfd = vnfd
        self.package = package
        self.where = where
        self.out = []

    def fail(self, path, rule, message):
        self.out.append(Violation(self.where, path, rule, message))

    def run(self):
        v = self.vnfd
        self.out.extend(unique_ids(v, self.where))
        cps = {cp.get("name") for cp in _items(v.get("connection-point"))}
        if v.get("vdu"):
            if not v.get("mgmt-interface"):
                self.fail("mgmt-interface", "mgmt-interface", "required when the VNFD has VDUs")
            elif v["mgmt-interface"].get("cp") not in cps:
                self.fail("mgmt-interface.cp", "mgmt-interface",
                          "{!r} is not a connection-point".format(v["mgmt-interface"].get("cp")))
        internal_cps = {}
        for i, vdu in enumerate(_items(v.get("vdu"))):
            self.vdu("vdu[{}]".format(i), vdu, cps, internal_cps)
        self.configuration("vnf-configuration", v.get("vnf-configuration"), None)
        self.internal_vlds(internal_cps)
        self.scaling_groups()
        if v.get("logo") and self.package is not None and not self.package.has("icons/" + v["logo"]):
            self.fail("logo", "logo-in-package", "icons/{} is not in the package".format(v["logo"]))
        return self.out

    def vdu(self, path, vdu, cps, internal_cps):
        own = {cp.get("id"): cp for cp in _items(vdu.get("internal-connection-point"))}
        for cp_id in own:
            internal_cps[cp_id] = vdu.get("id")
        used_ext, used_int, mgmt = set(), set(), 0
        for j, nic in enumerate(_items(vdu.get("interface"))):
            nic_path = "{}.interface[{}]".format(path, j)
            ext, inner = nic.get("external-connection-point-ref"), nic.get("internal-connection-point-ref")
            if ext:
                if ext in used_ext:
                    self.fail(nic_path, "interface-cp", "external cp {!r} is used by another interface".format(ext))
                used_ext.add(ext)
                if ext not in cps:
                    self.fail(nic_path, "interface-cp", "external cp {!r} is not a connection-point".format(ext))
                if nic.get("type", "EXTERNAL") != "EXTERNAL":
                    self.fail(nic_path, "interface-type", "an external cp needs type EXTERNAL")
            elif inner:
                if inner in used_int:
                    self.fail(nic_path, "interface-cp", "internal cp {!r} is used by another interface".format(inner))
                used_int.add(inner)
                if inner not in own:
                    self.fail(nic_path, "interface-cp",
                              "internal cp {!r} is not an internal-connection-point of this VDU".format(inner))
                if nic.get("type") != "INTERNAL":
                    self.fail(nic_path, "interface-type", "an internal cp needs type INTERNAL")
            if nic.get("mgmt-interface"):
                mgmt += 1
                if not ext:
                    self.fail(nic_path, "vdu-mgmt-interface", "the management interface must use an external cp")
        positions = [nic.get("position") for nic in _items(vdu.get("interface"))]
        if None not in positions and len(set(positions)) != len(positions):
            self.fail(path + ".interface", "interface-position", "positions must be distinct")
        if mgmt != 1:
            self.fail(path + ".interface", "vdu-mgmt-interface",
                      "exactly one interface needs mgmt-interface: true (found {})".format(mgmt))
        if vdu.get("cloud-init-file") and self.package is not None \
                and not self.package.has("cloud_init/" + vdu["cloud-init-file"]):
            self.fail(path + ".cloud-init-file", "cloud-init-in-package",
                      "cloud_init/{} is not in the package".format(vdu["cloud-init-file"]))
        self.configuration(path + ".vdu-configuration", vdu.get("vdu-configuration"), vdu)

    def configuration(self, path, config, vdu):
        if not config:
            return
        juju = config.get("juju") or {}
        charm = juju.get("charm")
        if charm:
            if self.package is not None and not self.package.has("charms/{}/metadata.yaml".format(charm)):
                self.fail(path + ".juju.charm", "charm-in-package",
                          "charms/{}/ (a built charm with metadata.yaml) is not in the package".format(charm))
            if juju.get("proxy", True) is False:
                access = (config.get("config-access") or {}).get("ssh-access") or {}
                if access.get("required") is not True or not access.get("default-user"):
                    self.fail(path + ".config-access", "native-charm-ssh",
                              "a native charm needs ssh-access required: true and a default-user")
                if vdu is None:
                    self.fail(path + ".juju", "native-charm-vdu", "a native charm belongs to a VDU")
        seqs = set()
        for i, primitive in enumerate(_items(config.get("initial-config-primitive"))):
            p_path = "{}.initial-config-primitive[{}]".format(path, i)
            if primitive.get("seq") in seqs:
                self.fail(p_path, "primitive-seq", "seq {} repeats".format(primitive.get("seq")))
            seqs.add(primitive.get("seq"))
            for j, parameter in enumerate(_items(primitive.get("parameter"))):
                # The schema made every value a string (NBI calls .startswith on it).
                q_path = "{}.parameter[{}].value".format(p_path, j)
                name = placeholder(parameter.get("value"))
                if name is not None and name not in OSM_PROVIDED and not PARAM_KEY.match(name):
                    self.fail(q_path, "param-key", "<{}> is not an additionalParams key "
                                                   "(^[a-zA-Z_][a-zA-Z0-9_]*$)".format(name))
        if charm and self.package is not None and self.package.has("charms/{}/metadata.yaml".format(charm)):
            self.charm_contract(path, config, charm)

    def charm_contract(self, path, config, charm):
        """Every primitive is an action of the charm with exactly these
        parameters; "config" names charm config options."""
        def load(relative):
            if not self.package.has(relative):
                return {}
            return yaml.load(self.package.text(relative), Loader=YAML_LOADER) or {}

        try:
            actions = load("charms/{}/actions.yaml".format(charm))
            options = load("charms/{}/config.yaml".format(charm)).get("options") or {}
        except yaml.YAMLError as error:
            self.fail(path + ".juju.charm", "charm-contract", "charm {}: unreadable YAML: {}".format(charm, error))
            return
        for kind in ("initial-config-primitive", "config-primitive"):
            for i, primitive in enumerate(_items(config.get(kind))):
                p_path = "{}.{}[{}]".format(path, kind, i)
                parameters = _items(primitive.get("parameter"))
                names = [p.get("name") for p in parameters]
                if primitive.get("name") == CONFIG_PRIMITIVE:
                    for parameter in parameters:
                        option = options.get(parameter.get("name"))
                        if not isinstance(option, dict):
                            self.fail(p_path, "charm-contract", "{!r} is not an option in charms/{}/config.yaml"
                                      .format(parameter.get("name"), charm))
                        elif option.get("type") != CONFIG_TYPES.get(parameter.get("data-type", "STRING")):
                            self.fail(p_path, "charm-contract", "{!r} is {} in the descriptor but {} in charms/{}/"
                                      "config.yaml".format(parameter.get("name"), parameter.get("data-type"),
                                                           option.get("type"), charm))
                    continue
                action = actions.get(primitive.get("name"))
                if not isinstance(action, dict):
                    self.fail(p_path, "charm-contract", "{!r} is not an action in charms/{}/actions.yaml".format(
                        primitive.get("name"), charm))
                    continue
                declared = action.get("params") or {}
                if set(declared) != set(names):
                    self.fail(p_path, "charm-contract",
                              "parameters {} differ from action {!r} of {} ({})".format(
                                  sorted(names), primitive.get("name"), charm, sorted(declared)))
                    continue
                for parameter in parameters:
                    wanted = ACTION_TYPES.get(parameter.get("data-type", "STRING"))
                    if (declared[parameter.get("name")] or {}).get("type") != wanted:
                        self.fail(p_path, "charm-contract", "{!r} is {} in the descriptor but {} in action {!r} of {}"
                                  .format(parameter.get("name"), parameter.get("data-type"),
                                          (declared[parameter.get("name")] or {}).get("type"),
                                          primitive.get("name"), charm))

    def internal_vlds(self, internal_cps):
        v = self.vnfd
        profiles = {p.get("name"): p for p in _items(v.get("ip-profiles"))}
        names = set()
        for i, vld in enumerate(_items(v.get("internal-vld"))):
            path = "internal-vld[{}]".format(i)
            if vld.get("name") in names:
                self.fail(path + ".name", "internal-vld-name", "duplicated VLD name {!r}".format(vld.get("name")))
            names.add(vld.get("name"))
            subnet = None
            if vld.get("ip-profile-ref"):
                profile = profiles.get(vld["ip-profile-ref"])
                if profile is None:
                    self.fail(path + ".ip-profile-ref", "ip-profile-ref",
                              "{!r} is not an ip-profile".format(vld["ip-profile-ref"]))
                else:
                    subnet = (profile.get("ip-profile-params") or {}).get("subnet-address")
            for j, icp in enumerate(_items(vld.get("internal-connection-point"))):
                icp_path = "{}.internal-connection-point[{}]".format(path, j)
                if icp.get("id-ref") not in internal_cps:
                    self.fail(icp_path, "internal-vld-cp",
                              "{!r} is not a VDU internal-connection-point".format(icp.get("id-ref")))
                if subnet and icp.get("ip-address"):
                    self.address_in(icp_path + ".ip-address", icp["ip-address"], subnet)
        for i, profile in enumerate(profiles.values()):
            params = profile.get("ip-profile-params") or {}
            subnet = params.get("subnet-address")
            if not subnet:
                continue
            for key in ("gateway-address",):
                if params.get(key):
                    self.address_in("ip-profiles[{}].ip-profile-params.{}".format(i, key), params[key], subnet)
            dhcp = params.get("dhcp-params") or {}
            if dhcp.get("start-address"):
                self.address_in("ip-profiles[{}].ip-profile-params.dhcp-params.start-address".format(i),
                                dhcp["start-address"], subnet, dhcp.get("count") or 1)

    def address_in(self, path, address, subnet, count=1):
        try:
            net = ipaddress.ip_network(subnet, strict=True)
            first = ipaddress.ip_address(address)
            last = first + max(count, 1) - 1
        except ValueError as error:
            self.fail(path, "address-in-subnet", str(error))
            return
        if first not in net or last not in net:
            self.fail(path, "address-in-subnet", "{}{} is outside {}".format(
                address, " (+{})".format(count - 1) if count > 1 else "", subnet))

    def scaling_groups(self):
        v = self.vnfd
        vdus = {vdu.get("id") for vdu in _items(v.get("vdu"))}
        primitives = {p.get("name") for p in _items((v.get("vnf-configuration") or {}).get("config-primitive"))}
        for i, group in enumerate(_items(v.get("scaling-group-descriptor"))):
            path = "scaling-group-descriptor[{}]".format(i)
            for j, ref in enumerate(_items(group.get("vdu"))):
                if ref.get("vdu-id-ref") not in vdus:
                    self.fail("{}.vdu[{}].vdu-id-ref".format(path, j), "scaling-vdu",
                              "{!r} does not match any vdu".format(ref.get("vdu-id-ref")))
            low, high = group.get("min-instance-count", 0), group.get("max-instance-count", 10)
            if isinstance(low, int) and isinstance(high, int) and low > high:
                self.fail(path, "scaling-limits", "min-instance-count {} exceeds max-instance-count {}".format(
                    low, high))
            for j, action in enumerate(_items(group.get("scaling-config-action"))):
                a_path = "{}.scaling-config-action[{}]".format(path, j)
                if not v.get("vnf-configuration"):
                    self.fail(a_path, "scaling-config-action",
                              "needs a vnf-configuration (none is defined)")
                elif action.get("vnf-config-primitive-name-ref") not in primitives:
                    self.fail(a_path + ".vnf-config-primitive-name-ref", "scaling-config-action",
                              "{!r} is not a vnf-configuration config-primitive".format(
                                  action.get("vnf-config-primitive-name-ref")))


# --- NSD rules --------------------------------------------------------------

def nsd_rules(nsd, vnfds, package, where):
    """NBI v8.0 NsdTopic checks; ``vnfds`` are the VNFDs onboarded with it."""
    out = list(unique_ids(nsd, where))

    def fail(path, rule, message):
        out.append(Violation(where, path, rule, message))

    constituents = {}
    for i, member in enumerate(_items(nsd.get("constituent-vnfd"))):
        index = member.get("member-vnf-index")
        if index in constituents:
            fail("constituent-vnfd[{}]".format(i), "member-vnf-index", "index {!r} repeats".format(index))
        constituents[index] = member.get("vnfd-id-ref")
        if member.get("vnfd-id-ref") not in vnfds:
            fail("constituent-vnfd[{}].vnfd-id-ref".format(i), "constituent-vnfd",
                 "VNFD {!r} is not among the packages built/onboarded with this NSD".format(
                     member.get("vnfd-id-ref")))
    profiles = {p.get("name") for p in _items(nsd.get("ip-profiles"))}
    mgmt = 0
    for i, vld in enumerate(_items(nsd.get("vld"))):
        path = "vld[{}]".format(i)
        if vld.get("mgmt-network"):
            mgmt += 1
            if vld.get("ip-profile-ref"):
                fail(path + ".ip-profile-ref", "mgmt-vld-ip-profile",
                     "a mgmt-network VLD cannot have an ip-profile-ref")
        if vld.get("ip-profile-ref") and vld["ip-profile-ref"] not in profiles:
            fail(path + ".ip-profile-ref", "ip-profile-ref", "{!r} is not an ip-profile".format(vld["ip-profile-ref"]))
        for j, ref in enumerate(_items(vld.get("vnfd-connection-point-ref"))):
            r_path = "{}.vnfd-connection-point-ref[{}]".format(path, j)
            index = ref.get("member-vnf-index-ref")
            if index not in constituents:
                fail(r_path + ".member-vnf-index-ref", "vld-member",
                     "{!r} is not a constituent-vnfd member-vnf-index".format(index))
                continue
            if ref.get("vnfd-id-ref") and ref["vnfd-id-ref"] != constituents[index]:
                fail(r_path + ".vnfd-id-ref", "vld-member", "{!r} differs from member {!r}'s VNFD {!r}".format(
                    ref["vnfd-id-ref"], index, constituents[index]))
            vnfd = vnfds.get(constituents[index])
            if vnfd is not None:
                names = {cp.get("name") for cp in _items(vnfd.get("connection-point"))}
                if ref.get("vnfd-connection-point-ref") not in names:
                    fail(r_path + ".vnfd-connection-point-ref", "vld-cp",
                         "{!r} is not a connection-point of VNFD {!r}".format(
                             ref.get("vnfd-connection-point-ref"), vnfd.get("id")))
    if mgmt > 1:
        fail("vld", "mgmt-vld", "more than one mgmt-network VLD")
    if nsd.get("logo") and package is not None and not package.has("icons/" + nsd["logo"]):
        fail("logo", "logo-in-package", "icons/{} is not in the package".format(nsd["logo"]))
    return out


# --- instantiation parameters ---------------------------------------------

def params_rules(nsd, vnfds, packages, member_params, where):
    """Every <param> and cloud-init variable of each member's VNFD is in that
    member's additionalParams; every key matches the NBI pattern."""
    out = []
    constituents = {m.get("member-vnf-index"): m.get("vnfd-id-ref") for m in _items(nsd.get("constituent-vnfd"))}
    for index in sorted(set(member_params) - set(constituents)):
        out.append(Violation(where, "additionalParamsForVnf[{}]".format(index), "params-member",
                             "member-vnf-index {!r} is not in the NSD".format(index)))
    for index, vnfd_id in constituents.items():
        vnfd = vnfds.get(vnfd_id)
        if vnfd is None:
            continue
        params = member_params.get(index, {})
        for key in params:
            if not isinstance(key, str) or not PARAM_KEY.match(key):
                out.append(Violation(where, "additionalParamsForVnf[{}].{}".format(index, key), "param-key",
                                     "keys must match ^[a-zA-Z_][a-zA-Z0-9_]*$"))
        needed = {name: "initial-config-primitive" for name in required_params(vnfd)}
        for name in required_params(vnfd, include_day2=True) - set(needed):
            needed[name] = "config-primitive default"
        package = packages.get(vnfd_id)
        for vdu in _items(vnfd.get("vdu")):
            file = vdu.get("cloud-init-file")
            if file and package is not None and package.has("cloud_init/" + file):
                try:
                    names = cloud_init_params(package.text("cloud_init/" + file))
                except jinja2.TemplateSyntaxError as error:
                    out.append(Violation(vnfd_id, "cloud_init/{}:{}".format(file, error.lineno),
                                         "cloud-init-jinja", "OSM cannot render it: {}".format(error.message)))
                    continue
                for name in names:
                    needed.setdefault(name, "cloud_init/" + file)
        for name in sorted(set(needed) - set(params)):
            out.append(Violation(vnfd_id, "additionalParamsForVnf[member-vnf-index={}]".format(index),
                                 "params-provided", "<{}> used by {} is not provided".format(name, needed[name])))
        out.extend(param_types(vnfd, vnfd_id, index, params))
    return out


PYTHON_TYPES = {"STRING": (str,), "INTEGER": (int,), "BOOLEAN": (bool,)}
CONFIG_TEXT = {"INTEGER": re.compile(r"^-?[0-9]+$"), "BOOLEAN": re.compile(r"^(true|false)$"),
               "STRING": re.compile(r"^")}


def _config_value_problem(data_type, value):
    """The "config" primitive becomes Juju's ApplicationSet, a map of strings
    that Juju coerces by the option's type: a string of the right form."""
    if not isinstance(value, str):
        return "needs a string (Juju config is set as text), got {}".format(type(value).__name__)
    if not CONFIG_TEXT.get(data_type, CONFIG_TEXT["STRING"]).match(value):
        return "{!r} is not a {} in text form".format(value, data_type)
    return None


def param_types(vnfd, vnfd_id, index, params):
    """A <param>'s value has the primitive parameter's data-type (a bool is no
    INTEGER); the "config" primitive's values are text (see above)."""
    out = []
    configs = [vnfd.get("vnf-configuration") or {}] + [
        vdu.get("vdu-configuration") or {} for vdu in _items(vnfd.get("vdu"))]
    for config in configs:
        for kind, field in (("initial-config-primitive", "value"), ("config-primitive", "default-value")):
            for primitive in _items(config.get(kind)):
                for parameter in _items(primitive.get("parameter")):
                    name = placeholder(parameter.get(field))
                    wanted = PYTHON_TYPES.get(parameter.get("data-type", "STRING"))
                    if name is None or name not in params or wanted is None:
                        continue
                    value = params[name]
                    path = "additionalParamsForVnf[member-vnf-index={}].{}".format(index, name)
                    if primitive.get("name") == CONFIG_PRIMITIVE:
                        problem = _config_value_problem(parameter.get("data-type", "STRING"), value)
                        if problem:
                            out.append(Violation(vnfd_id, path, "params-type", "config {}: {}".format(
                                parameter.get("name"), problem)))
                        continue
                    if not isinstance(value, wanted) or (wanted == (int,) and isinstance(value, bool)):
                        out.append(Violation(vnfd_id, path, "params-type", "{} {}.{} needs {}, got {}".format(
                                primitive.get("name"), parameter.get("name"), field,
                                parameter.get("data-type", "STRING"), type(value).__name__)))
    return out


# --- everything -------------------------------------------------------------

def validate_packages(packages, member_params=None):
    """Violations of a set of packages validated together (the VNF packages
    and the NS package that references them).  ``member_params`` ({index:
    {param: value}}) adds the instantiation-parameter rules."""
    out = []
    documents = {}
    for package in packages:
        problems, document = layout(package)
        out.extend(problems)
        if document is None:
            continue
        name = package.top
        problems = schema(document, name)
        out.extend(problems)
        if problems:
            continue
        documents[name] = (package, document)
    vnfds, vnf_packages, nsds = {}, {}, []
    for name, (package, document) in sorted(documents.items()):
        if "vnfd:vnfd-catalog" in document:
            vnfd = document["vnfd:vnfd-catalog"]["vnfd"][0]
            out.extend(VnfdRules(vnfd, package, vnfd.get("id", name)).run())
            vnfds[vnfd.get("id")] = vnfd
            vnf_packages[vnfd.get("id")] = package
        else:
            nsds.append((package, document["nsd:nsd-catalog"]["nsd"][0]))
    for package, nsd in nsds:
        out.extend(nsd_rules(nsd, vnfds, package, nsd.get("id")))
        if member_params is not None:
            out.extend(params_rules(nsd, vnfds, vnf_packages, member_params, nsd.get("id")))
    return out


def find_packages(path):
    """The packages under ``path``: one archive or package dir, or a build dir
    holding vnf-packages/ and ns-packages/ (archives preferred)."""
    path = Path(path)
    if path.is_file():
        return [Package.load(path)]
    if (path / "vnf-packages").is_dir() or (path / "ns-packages").is_dir():
        found = []
        for sub in ("vnf-packages", "ns-packages"):
            for item in sorted((path / sub).glob("*.tar.gz")) if (path / sub).is_dir() else []:
                found.append(Package.load(item))
        return found
    if path.is_dir():
        return [Package.load(path)]
    raise FileNotFoundError("{}: no such package or directory".format(path))
