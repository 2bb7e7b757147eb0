"""The build end to end from the example site, read back with tarfile."""

import hashlib
import os
import re
import tarfile
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from mecpool.cli import main as cli
from mecpool.descriptors import members
from mecpool.packaging.archive import FIXED_MTIME
from mecpool.packaging.builder import build, default_charm_provider
from mecpool.packaging.schema import NSD_DOCUMENT, VNFD_DOCUMENT
from mecpool.packaging.validate import ValidationFailed
from pkgfixtures import REPO, build_example, contract_charms

PACKAGES = {
    "vnf-packages/oai-epc.tar.gz": ("oai-epc", "vnfd", {"oai-hss", "oai-mme", "oai-spgwc", "oai-spgwu"}),
    "vnf-packages/rsp-registrar.tar.gz": ("rsp-registrar", "vnfd", {"rsp-registrar"}),
    "vnf-packages/rsp-pool-element.tar.gz": ("rsp-pool-element", "vnfd", {"rsp-pool-element"}),
    "ns-packages/mec-offload.tar.gz": ("mec-offload", "nsd", set()),
}


def read_archive(path):
    with tarfile.open(str(path), "r:gz") as archive:
        members_ = archive.getmembers()
        files = {m.name: archive.extractfile(m).read() for m in members_ if m.isfile()}
    return members_, files


def descriptor(out, relative):
    top, kind = PACKAGES[relative][0], PACKAGES[relative][1]
    _, files = read_archive(out / relative)
    return yaml.safe_load(files["{0}/{0}_{1}.yaml".format(top, kind)])


def test_builds_the_four_packages(built):
    out, result = built
    assert sorted(str(b.path.relative_to(out)) for b in result) == sorted(PACKAGES)
    for item in result:
        assert item.size == item.path.stat().st_size > 0
        assert item.md5 == hashlib.md5(item.path.read_bytes()).hexdigest()


@pytest.mark.parametrize("relative", sorted(PACKAGES))
def test_archive_layout(built, relative):
    out, _ = built
    top, kind, charms = PACKAGES[relative]
    entries, files = read_archive(out / relative)
    names = [m.name for m in entries]
    assert names == sorted(names, key=lambda n: n.split("/")), "members in sorted order"
    assert {n.split("/")[0] for n in names} == {top}
    assert all(not n.startswith("/") and ".." not in n.split("/") for n in names)
    depth2_yaml = [n for n in names if n.count("/") == 1 and n.endswith((".yaml", ".yml", ".json"))]
    assert depth2_yaml == ["{0}/{0}_{1}.yaml".format(top, kind)]
    folders = {n.split("/")[1] for n in names if n.count("/") >= 2}
    allowed = {"charms", "cloud_init", "icons", "images", "scripts"} if kind == "vnfd" else {"charms", "icons"}
    assert folders <= allowed
    assert {n.split("/")[2] for n in names if n.startswith(top + "/charms/") and n.count("/") >= 3} == charms
    for m in entries:
        assert (m.uid, m.gid, m.uname, m.gname, m.mtime) == (0, 0, "root", "root", FIXED_MTIME)
        assert m.isdir() or m.isfile()
    # checksums.txt: md5sum format over every other file, and correct.
    listed = {}
    for line in files["{}/checksums.txt".format(top)].decode().splitlines():
        digest, path = re.fullmatch(r"([0-9a-f]{32})  (.+)", line).groups()
        listed[path] = digest
    actual = {n[len(top) + 1:]: hashlib.md5(d).hexdigest() for n, d in files.items()
              if n != top + "/checksums.txt"}
    assert listed == actual
    icon = [n for n in names if n.startswith(top + "/icons/")]
    assert icon and files[icon[0]].startswith(b"\x89PNG\r\n\x1a\n")


def test_gzip_header_has_no_name_or_time(built):
    out, _ = built
    for relative in PACKAGES:
        head = (out / relative).read_bytes()[:10]
        assert head[:3] == b"\x1f\x8b\x08"
        assert head[3] & 0x08 == 0, "no FNAME in the gzip header"
        assert head[4:8] == b"\x00\x00\x00\x00", "gzip mtime 0"


@pytest.mark.parametrize("relative", sorted(PACKAGES))
def test_descriptors_parse_and_pass_schema(built, relative):
    out, _ = built
    document = descriptor(out, relative)
    schema = VNFD_DOCUMENT if PACKAGES[relative][1] == "vnfd" else NSD_DOCUMENT
    jsonschema.Draft7Validator(schema).validate(document)


def test_epc_vnfd(built, site):
    out, _ = built
    vnfd = descriptor(out, "vnf-packages/oai-epc.tar.gz")["vnfd:vnfd-catalog"]["vnfd"][0]
    vdus = {v["id"]: v for v in vnfd["vdu"]}
    assert list(vdus) == ["hss", "mme", "spgwc", "spgwu"]
    for vdu_id, vdu in vdus.items():
        assert vdu["image"] == site.images[site.epc.image].name
        flavor = getattr(site.flavors, vdu_id)
        assert vdu["vm-flavor"] == {"vcpu-count": flavor.vcpus, "memory-mb": flavor.ram_mb,
                                    "storage-gb": flavor.disk_gb}
        first = vdu["interface"][0]
        assert first["position"] == 1 and first.get("mgmt-interface") is True
        assert [i["position"] for i in vdu["interface"]] == list(range(1, len(vdu["interface"]) + 1))
        config = vdu["vdu-configuration"]
        assert config["juju"] == {"charm": "oai-" + vdu_id, "proxy": False}
        assert config["config-access"] == {"ssh-access": {"required": True, "default-user": "ubuntu"}}
    assert [i["name"] for i in vdus["spgwu"]["interface"]] == ["ens3", "ens4", "ens5", "ens6"]
    assert [i["external-connection-point-ref"] for i in vdus["spgwu"]["interface"][2:]] == \
        ["spgwu-s1u-cp", "spgwu-sgi-cp"]
    security = {cp["name"]: cp["port-security-enabled"] for cp in vnfd["connection-point"]}
    assert security["spgwu-s1u-cp"] is False and security["spgwu-sgi-cp"] is False
    assert security["mme-s1c-cp"] is True
    fixed = {icp["id-ref"]: icp["ip-address"] for vld in vnfd["internal-vld"]
             for icp in vld["internal-connection-point"]}
    assert fixed == {"hss-s6a-cp": site.epc.addresses.hss.s6a, "mme-s6a-cp": site.epc.addresses.mme.s6a,
                     "mme-s11-cp": site.epc.addresses.mme.s11, "spgwc-s11-cp": site.epc.addresses.spgwc.s11,
                     "spgwc-sxab-cp": site.epc.addresses.spgwc.sxab,
                     "spgwu-sxab-cp": site.epc.addresses.spgwu.sxab}
    profiles = {p["name"]: p["ip-profile-params"]["subnet-address"] for p in vnfd["ip-profiles"]}
    assert profiles == {"s6a": site.networks.s6a.subnet, "s11": site.networks.s11.subnet,
                        "sxab": site.networks.sxab.subnet}


def test_pool_element_vnfd_scaling(built, site):
    out, _ = built
    vnfd = descriptor(out, "vnf-packages/rsp-pool-element.tar.gz")["vnfd:vnfd-catalog"]["vnfd"][0]
    assert [v["count"] for v in vnfd["vdu"]] == [1]
    assert vnfd["vdu"][0]["image"] == site.images[site.pool.image].name
    (group,) = vnfd["scaling-group-descriptor"]
    assert group["name"] == "pe-scale"
    assert group["vdu"] == [{"vdu-id-ref": "pool-element", "count": 1}]
    # shared by all PE members: LCM R8 counts scale operations per group name, NS-wide
    assert group["max-instance-count"] == sum(g.max_count - 1 for g in site.pool.pe_groups.values())


def test_nsd_members_and_vlds(built, site):
    out, _ = built
    nsd = descriptor(out, "ns-packages/mec-offload.tar.gz")["nsd:nsd-catalog"]["nsd"][0]
    assert [(c["member-vnf-index"], c["vnfd-id-ref"]) for c in nsd["constituent-vnfd"]] == \
        [(m.index, m.vnfd_id) for m in members(site)]
    vlds = {v["id"]: v for v in nsd["vld"]}
    assert set(vlds) == {"mgmt", "s1c", "s1u", "sgi", "pool"}
    assert vlds["mgmt"]["mgmt-network"] is True and "ip-profile-ref" not in vlds["mgmt"]
    assert "vim-network-name" not in vlds["pool"] and "ip-profile-ref" not in vlds["pool"]
    pool_members = {r["member-vnf-index-ref"] for r in vlds["pool"]["vnfd-connection-point-ref"]}
    assert pool_members == {m.index for m in members(site) if m.kind != "epc"}
    assert vlds["sgi"]["vim-network-name"] == site.networks.sgi.vim_network
    assert vlds["sgi"]["vnfd-connection-point-ref"][0]["ip-address"] == site.epc.addresses.spgwu.sgi


def test_reproducible(tmp_path, site):
    charms = tmp_path / "charms"
    first = build_example(tmp_path / "a", charms, site)
    second = build_example(tmp_path / "b", charms, site)
    for a, b in zip(first, second):
        assert a.path.read_bytes() == b.path.read_bytes(), a.name
        assert a.md5 == b.md5


def test_invalid_build_writes_nothing(tmp_path, site):
    out = tmp_path / "build"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    charms = contract_charms(tmp_path / "charms", names=["oai-hss", "rsp-registrar"])
    with pytest.raises(ValidationFailed) as caught:
        build(site, out, charm_provider=lambda root, staging: dict(charms))
    assert {v.rule for v in caught.value.violations} == {"charm-in-package"}
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".mecpool-build-")]


def test_executable_bits_survive(built):
    _, files = read_archive(built[0] / "vnf-packages/rsp-registrar.tar.gz")
    with tarfile.open(str(built[0] / "vnf-packages/rsp-registrar.tar.gz")) as archive:
        modes = {m.name: m.mode for m in archive.getmembers()}
    assert modes["rsp-registrar/charms/rsp-registrar/dispatch"] == 0o755
    assert modes["rsp-registrar/charms/rsp-registrar/metadata.yaml"] == 0o644


def test_real_charms_in_packages(tmp_path, site):
    """The charms that exist are built by mecpool.packaging.charms and pass the
    primitive contract check against their real actions.yaml / config.yaml."""
    from mecpool.packaging import charms as charm_builder
    real = charm_builder.existing_charms(REPO)
    assert real, "no charm source yet"
    stand_ins = contract_charms(tmp_path / "stand-ins")

    def provider(source_root, staging):
        out = dict(stand_ins)
        out.update(default_charm_provider(source_root, staging, REPO / "build" / "vendor"))
        return out

    result = build(site, tmp_path / "build", charm_provider=provider).packages
    for name in real:
        assert (tmp_path / "build" / "charms" / name / "dispatch").is_file()
    by_charm = {"rsp-registrar": "rsp-registrar", "rsp-pool-element": "rsp-pool-element"}
    for item in result:
        _, files = read_archive(item.path)
        for charm in real:
            if by_charm.get(charm, "oai-epc") == item.name:
                assert "{}/charms/{}/lib/ops/__init__.py".format(item.name, charm) in files


def test_cli_build_and_validate(tmp_path, monkeypatch):
    stand_ins = contract_charms(tmp_path / "charms")
    monkeypatch.setattr("mecpool.packaging.builder.default_charm_provider",
                        lambda root, staging, vendor: dict(stand_ins))
    runner = CliRunner()
    out = tmp_path / "build"
    result = runner.invoke(cli, ["build", "--site", str(REPO / "site.example.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for relative in PACKAGES:
        digest = hashlib.md5((out / relative).read_bytes()).hexdigest()
        assert digest in result.output and Path(relative).name in result.output
    result = runner.invoke(cli, ["validate", str(out), "--site", str(REPO / "site.example.yaml")])
    assert result.exit_code == 0, result.output
    assert result.output.count("valid: ") == 4
    # A broken archive fails validation with the rule named.
    broken = out / "vnf-packages" / "rsp-registrar.tar.gz"
    broken.write_bytes(b"")
    with tarfile.open(str(broken), "w:gz") as archive:
        info = tarfile.TarInfo("loose.yaml")
        archive.addfile(info)
    result = runner.invoke(cli, ["validate", str(broken)])
    assert result.exit_code == 1
    assert "[archive-top-directory]" in result.output


def test_cli_bad_site_writes_nothing(tmp_path):
    bad = tmp_path / "site.yaml"
    bad.write_text((REPO / "site.example.yaml").read_text().replace('mcc: "242"', 'mcc: "24"'))
    out = tmp_path / "build"
    result = CliRunner().invoke(cli, ["build", "--site", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    assert "epc.mcc" in result.output
    assert not out.exists()
    assert os.listdir(str(tmp_path)) == ["site.yaml"]
