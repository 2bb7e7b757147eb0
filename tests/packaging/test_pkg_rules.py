"""Each validation rule with a failing example: a valid built package is
mutated in memory and validate_packages must name the rule and the path."""

import copy
import io
import tarfile

import pytest
import yaml

from mecpool.descriptors import additional_params
from mecpool.packaging.validate import (Package, checksums_text, find_packages,
                                        validate_packages)

NAMES = {"epc": "oai-epc", "pr": "rsp-registrar", "pe": "rsp-pool-element", "ns": "mec-offload"}


@pytest.fixture(scope="module")
def packages(built):
    return {p.top: p for p in find_packages(built[0])}


@pytest.fixture(scope="module")
def params(site):
    return additional_params(site, reveal_secrets=False)


def descriptor_name(package):
    return package.descriptor_names()[0]


def document(package):
    return yaml.safe_load(package.files[descriptor_name(package)])


def inner(doc):
    key = "vnfd:vnfd-catalog" if "vnfd:vnfd-catalog" in doc else "nsd:nsd-catalog"
    return doc[key]["vnfd" if key.startswith("vnfd") else "nsd"][0]


def refresh_checksums(package):
    top = package.top
    files = {n[len(top) + 1:]: d for n, d in package.files.items() if n != top + "/checksums.txt"}
    package.files[top + "/checksums.txt"] = checksums_text(files).encode()


def mutated(packages, which, change, files_change=None, checksums=True):
    out = {name: Package(p.source, copy.deepcopy(p.files)) for name, p in packages.items()}
    package = out[NAMES[which]]
    if change is not None:
        doc = document(package)
        change(inner(doc))
        package.files[descriptor_name(package)] = yaml.safe_dump(doc, sort_keys=False).encode()
    if files_change is not None:
        files_change(package)
    if checksums:
        refresh_checksums(package)
    return list(out.values())


def rules(violations):
    return {(v.rule, v.path) for v in violations}


def assert_violation(violations, rule, path_part=""):
    hits = [v for v in violations if v.rule == rule and path_part in v.path]
    assert hits, "expected [{}] at ...{}...; got:\n{}".format(rule, path_part, "\n".join(map(str, violations)))
    return hits


def test_the_built_packages_are_valid(packages, params):
    assert validate_packages(list(packages.values()), params) == []


def vdu(d, vdu_id):
    return next(v for v in d["vdu"] if v["id"] == vdu_id)


def mgmt_with_ip_profile(d):
    d["vld"][0].pop("vim-network-name")
    d["vld"][0]["ip-profile-ref"] = "mgmt"
    d["ip-profiles"] = [{"name": "mgmt", "ip-profile-params": {"ip-version": "ipv4",
                                                               "subnet-address": "10.0.0.0/24"}}]


# (package, mutation, rule, path fragment)
DESCRIPTOR_CASES = [
    ("epc", lambda d: d.update({"colour": "blue"}), "schema", ""),
    ("epc", lambda d: vdu(d, "hss").update({"count": "one"}), "schema", "vdu[0].count"),
    ("epc", lambda d: d["internal-vld"][0].update({"vim-network-name": "x"}), "schema", "internal-vld[0]"),
    ("epc", lambda d: vdu(d, "hss")["interface"][1].update({"external-connection-point-ref": "hss-mgmt-cp"}),
     "schema", "vdu[0].interface[1]"),
    ("epc", lambda d: vdu(d, "hss")["vdu-configuration"]["initial-config-primitive"][0]["parameter"][0]
     .update({"value": 7}), "schema", "parameter[0].value"),
    ("ns", lambda d: d["constituent-vnfd"][0].update({"member-vnf-index": 1}), "schema",
     "constituent-vnfd[0].member-vnf-index"),
    ("ns", lambda d: d["vld"][1].update({"ip-profile-ref": "p"}), "schema", "vld[1]"),
    ("epc", lambda d: d["connection-point"].append(dict(d["connection-point"][0])), "unique-id",
     "connection-point[7]"),
    ("epc", lambda d: d.pop("mgmt-interface"), "mgmt-interface", "mgmt-interface"),
    ("epc", lambda d: d["mgmt-interface"].update({"cp": "nowhere"}), "mgmt-interface", "mgmt-interface.cp"),
    ("epc", lambda d: vdu(d, "mme")["interface"][3].update({"external-connection-point-ref": "ghost-cp"}),
     "interface-cp", "vdu[1].interface[3]"),
    ("epc", lambda d: vdu(d, "mme")["interface"][2].update({"internal-connection-point-ref": "hss-s6a-cp"}),
     "interface-cp", "vdu[1].interface[2]"),
    ("epc", lambda d: vdu(d, "mme")["interface"][2].update({"internal-connection-point-ref": "mme-s6a-cp"}),
     "interface-cp", "vdu[1].interface[2]"),
    ("epc", lambda d: vdu(d, "hss")["interface"][1].update({"type": "EXTERNAL"}), "interface-type",
     "vdu[0].interface[1]"),
    ("epc", lambda d: vdu(d, "hss")["interface"][0].pop("mgmt-interface"), "vdu-mgmt-interface",
     "vdu[0].interface"),
    ("epc", lambda d: vdu(d, "hss")["interface"][1].update({"mgmt-interface": True}), "vdu-mgmt-interface",
     "vdu[0].interface[1]"),
    ("epc", lambda d: vdu(d, "hss")["interface"][1].update({"position": 1}), "interface-position",
     "vdu[0].interface"),
    ("epc", lambda d: vdu(d, "hss").update({"cloud-init-file": "nothere.cfg"}), "cloud-init-in-package",
     "vdu[0].cloud-init-file"),
    ("epc", lambda d: vdu(d, "hss")["vdu-configuration"]["juju"].update({"charm": "oai-nothere"}),
     "charm-in-package", "vdu[0].vdu-configuration.juju.charm"),
    ("epc", lambda d: vdu(d, "hss")["vdu-configuration"].pop("config-access"), "native-charm-ssh",
     "vdu[0].vdu-configuration.config-access"),
    ("pe", lambda d: d.update({"vnf-configuration": {"juju": {"charm": "rsp-pool-element", "proxy": False},
                                                     "config-access": {"ssh-access": {
                                                         "required": True, "default-user": "ubuntu"}}}}),
     "native-charm-vdu", "vnf-configuration.juju"),
    ("pr", lambda d: d["vdu"][0]["vdu-configuration"]["initial-config-primitive"][1].update({"seq": 1}),
     "primitive-seq", "initial-config-primitive[1]"),
    ("pr", lambda d: d["vdu"][0]["vdu-configuration"]["initial-config-primitive"][1]["parameter"][0]
     .update({"value": "<pr-address>"}), "param-key", "initial-config-primitive[1].parameter[0].value"),
    ("pe", lambda d: d["vdu"][0]["vdu-configuration"]["config-primitive"].append({"name": "dance"}),
     "charm-contract", "config-primitive[3]"),
    ("pe", lambda d: d["vdu"][0]["vdu-configuration"]["initial-config-primitive"][0]["parameter"].pop(),
     "charm-contract", "initial-config-primitive[0]"),
    ("pr", lambda d: d["vdu"][0]["vdu-configuration"]["initial-config-primitive"][0]["parameter"].append(
        {"name": "colour", "data-type": "STRING", "value": "red"}), "charm-contract", "initial-config-primitive[0]"),
    ("pe", lambda d: d["vdu"][0]["vdu-configuration"]["initial-config-primitive"][0]["parameter"][2].update(
        {"data-type": "STRING"}), "charm-contract", "initial-config-primitive[0]"),
    ("pr", lambda d: d["vdu"][0]["vdu-configuration"]["initial-config-primitive"][0]["parameter"][1].update(
        {"data-type": "BOOLEAN"}), "charm-contract", "initial-config-primitive[0]"),
    ("epc", lambda d: d["internal-vld"][1].update({"name": d["internal-vld"][0]["name"]}), "internal-vld-name",
     "internal-vld[1].name"),
    ("epc", lambda d: d["internal-vld"][0]["internal-connection-point"][0].update({"id-ref": "ghost-cp"}),
     "internal-vld-cp", "internal-vld[0].internal-connection-point[0]"),
    ("epc", lambda d: d["internal-vld"][0].update({"ip-profile-ref": "ghost"}), "ip-profile-ref",
     "internal-vld[0].ip-profile-ref"),
    ("epc", lambda d: d["internal-vld"][0]["internal-connection-point"][0].update({"ip-address": "10.9.9.9"}),
     "address-in-subnet", "internal-vld[0].internal-connection-point[0].ip-address"),
    ("epc", lambda d: d["ip-profiles"][0]["ip-profile-params"]["dhcp-params"].update({"count": 1000}),
     "address-in-subnet", "ip-profiles[0].ip-profile-params.dhcp-params.start-address"),
    ("pe", lambda d: d["scaling-group-descriptor"][0]["vdu"][0].update({"vdu-id-ref": "ghost"}), "scaling-vdu",
     "scaling-group-descriptor[0].vdu[0].vdu-id-ref"),
    ("pe", lambda d: d["scaling-group-descriptor"][0].update(
        {"min-instance-count": d["scaling-group-descriptor"][0]["max-instance-count"] + 1}), "scaling-limits",
     "scaling-group-descriptor[0]"),
    ("pe", lambda d: d["scaling-group-descriptor"][0].update({"scaling-config-action": [
        {"trigger": "post-scale-out", "vnf-config-primitive-name-ref": "configure"}]}),
     "scaling-config-action", "scaling-group-descriptor[0].scaling-config-action[0]"),
    ("pe", lambda d: (d.update({"vnf-configuration": {"config-primitive": [{"name": "touch"}]}}),
                      d["scaling-group-descriptor"][0].update({"scaling-config-action": [
                          {"trigger": "post-scale-out", "vnf-config-primitive-name-ref": "configure"}]})),
     "scaling-config-action", "vnf-config-primitive-name-ref"),
    ("pr", lambda d: d.update({"logo": "ghost.png"}), "logo-in-package", "logo"),
    ("ns", lambda d: d["constituent-vnfd"][2].update({"member-vnf-index": "2"}), "member-vnf-index",
     "constituent-vnfd[2]"),
    ("ns", lambda d: d["constituent-vnfd"][0].update({"vnfd-id-ref": "ghost-vnfd"}), "constituent-vnfd",
     "constituent-vnfd[0].vnfd-id-ref"),
    ("ns", lambda d: mgmt_with_ip_profile(d), "mgmt-vld-ip-profile", "vld[0].ip-profile-ref"),
    ("ns", lambda d: d["vld"][4].update({"ip-profile-ref": "ghost"}), "ip-profile-ref", "vld[4].ip-profile-ref"),
    ("ns", lambda d: d["vld"][4]["vnfd-connection-point-ref"][0].update({"member-vnf-index-ref": "99"}),
     "vld-member", "vld[4].vnfd-connection-point-ref[0].member-vnf-index-ref"),
    ("ns", lambda d: d["vld"][4]["vnfd-connection-point-ref"][0].update({"vnfd-id-ref": "oai-epc"}),
     "vld-member", "vld[4].vnfd-connection-point-ref[0].vnfd-id-ref"),
    ("ns", lambda d: d["vld"][1]["vnfd-connection-point-ref"][0].update({"vnfd-connection-point-ref": "x-cp"}),
     "vld-cp", "vld[1].vnfd-connection-point-ref[0].vnfd-connection-point-ref"),
    ("ns", lambda d: d["vld"][4].update({"mgmt-network": True}), "mgmt-vld", "vld"),
    ("ns", lambda d: d.update({"logo": "ghost.png"}), "logo-in-package", "logo"),
]


@pytest.mark.parametrize("which,change,rule,path", DESCRIPTOR_CASES,
                         ids=["{}-{}-{}".format(c[0], c[2], i) for i, c in enumerate(DESCRIPTOR_CASES)])
def test_descriptor_rule(packages, params, which, change, rule, path):
    violations = validate_packages(mutated(packages, which, change), params)
    hits = assert_violation(violations, rule, path)
    assert all(h.descriptor in NAMES.values() for h in hits)
    assert all(str(h).startswith(h.descriptor + ": ") for h in hits)


def drop_param(name):
    def change(params):
        for member in params.values():
            member.pop(name, None)
    return change


@pytest.mark.parametrize("change,rule,path", [
    (drop_param("pe_capacity"), "params-provided", "member-vnf-index=4"),
    (drop_param("pool_routes"), "params-provided", "member-vnf-index=2"),   # a cloud-init variable
    (drop_param("k"), "params-provided", "member-vnf-index=1"),             # a day-1 secret
    (lambda p: p.update({"42": {}}), "params-member", "additionalParamsForVnf[42]"),
    (lambda p: p["4"].update({"pe-capacity": 1}), "param-key", "pe-capacity"),
    (lambda p: p["4"].update({"pe_capacity": "1000000"}), "params-type", "pe_capacity"),
    (lambda p: p["1"].update({"nat": 1}), "params-type", "nat"),
    (lambda p: p["1"].update({"tac": True}), "params-type", "tac"),
    (lambda p: p["2"].update({"pr_loglevel": 2}), "params-type", "pr_loglevel"),      # config wants text
    (lambda p: p["2"].update({"pr_identifier": "0x101"}), "params-type", "pr_identifier"),
])
def test_params_rule(packages, params, change, rule, path):
    params = copy.deepcopy(params)
    change(params)
    assert_violation(validate_packages(list(packages.values()), params), rule, path)


def test_params_rule_names_the_missing_param(packages, params):
    params = copy.deepcopy(params)
    params["2"].pop("pr_peers")
    (hit,) = [v for v in validate_packages(list(packages.values()), params) if v.rule == "params-provided"]
    assert "<pr_peers>" in hit.message and hit.descriptor == "rsp-registrar"


def test_cloud_init_osm_cannot_render(packages, params):
    def broken(package):
        name = package.top + "/cloud_init/pool-element.cfg"
        package.files[name] += b"\n# {{ pe_capacity \n"
    violations = validate_packages(mutated(packages, "pe", None, broken), params)
    assert_violation(violations, "cloud-init-jinja", "cloud_init/pool-element.cfg")


# --- layout ------------------------------------------------------------------

def test_checksum_mismatch_and_unlisted(packages):
    def tamper(package):
        package.files[package.top + "/icons/rsp-registrar.png"] += b"x"
        package.files[package.top + "/cloud_init/extra.cfg"] = b"#cloud-config\n"
    violations = validate_packages(list(mutated(packages, "pr", None, tamper, checksums=False)))
    assert_violation(violations, "checksums", "icons/rsp-registrar.png")
    assert_violation(violations, "checksums", "cloud_init/extra.cfg")


def test_checksums_missing(packages):
    def drop(package):
        del package.files[package.top + "/checksums.txt"]
    assert_violation(validate_packages(mutated(packages, "pr", None, drop, checksums=False)), "checksums")


def test_second_descriptor_at_depth_two(packages):
    def extra(package):
        package.files[package.top + "/other.yaml"] = b"a: 1\n"
    assert_violation(validate_packages(mutated(packages, "pe", None, extra)), "single-descriptor")


@pytest.mark.parametrize("which,extra", [("pe", "notes.txt"), ("pe", "docs/readme.md"),
                                         ("ns", "cloud_init/x.cfg")])
def test_package_folders(packages, which, extra):
    def add(package):
        package.files["{}/{}".format(package.top, extra)] = b"x"
    assert_violation(validate_packages(mutated(packages, which, None, add)), "package-folders", extra)


def test_descriptor_name(packages):
    def rename(package):
        name = descriptor_name(package)
        package.files[package.top + "/descriptor.yaml"] = package.files.pop(name)
    assert_violation(validate_packages(mutated(packages, "pe", None, rename)), "descriptor-name")


def test_descriptor_not_yaml(packages):
    def garble(package):
        package.files[descriptor_name(package)] = b"vnfd: [unclosed\n"
    assert_violation(validate_packages(mutated(packages, "pe", None, garble)), "descriptor-yaml")


def test_two_top_directories(packages):
    def stray(package):
        package.files["elsewhere/readme.txt"] = b"x"
    assert_violation(validate_packages(mutated(packages, "pe", None, stray, checksums=False)),
                     "archive-top-directory")


def test_file_outside_the_directory(packages):
    def loose(package):
        package.files["loose.txt"] = b"x"
    assert_violation(validate_packages(mutated(packages, "pe", None, loose, checksums=False)),
                     "archive-top-directory", "loose.txt")


def test_relative_names_and_links(tmp_path):
    path = tmp_path / "bad.tar.gz"
    with tarfile.open(str(path), "w:gz") as archive:
        for name in ("pkg/pkg_vnfd.yaml", "pkg/../escape.txt"):
            data = b"a: 1\n"
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("pkg/link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    violations = validate_packages([Package.load(path)])
    assert_violation(violations, "archive-relative-names", "pkg/../escape.txt")
    assert_violation(violations, "archive-regular-files", "pkg/link")
