"""NS members and their additionalParams, checked against the built descriptors."""

import ipaddress

import pytest

from mecpool.descriptors import (PARAM_KEY, REDACTED, additional_params, build_context, member_for,
                                 members, package_params, required_params)
from mecpool.descriptors.context import dhcp_range
from mecpool.site import parse_site
from pkgfixtures import EXAMPLE_SITE
import yaml

K = "449C4B91AEACD0ACE182CF3A5A72BFA1"
OP = "1006020F0A478BF6B699F15C062E42B3"


def test_member_indexes(example):
    got = [(m.index, m.vnfd_id, m.vim, m.osm_account, m.kind, m.role) for m in members(example)]
    assert got == [
        ("1", "oai-epc", "mec", "mec-openstack", "epc", "epc"),
        ("2", "rsp-registrar", "mec", "mec-openstack", "registrar", "pr-mec"),
        ("3", "rsp-registrar", "stavanger", "pmc-stavanger", "registrar", "pr-stavanger"),
        ("4", "rsp-pool-element", "mec", "mec-openstack", "pe-group", "mec"),
        ("5", "rsp-pool-element", "longyearbyen", "pmc-longyearbyen", "pe-group", "longyearbyen"),
        ("6", "rsp-pool-element", "gjovik", "pmc-gjovik", "pe-group", "gjovik"),
        ("7", "rsp-pool-element", "tromso", "pmc-tromso", "pe-group", "tromso"),
        ("8", "rsp-pool-element", "haikou", "pmc-haikou", "pe-group", "haikou"),
    ]
    assert member_for(example, "pe-group", "tromso").index == "7"
    with pytest.raises(KeyError, match="nowhere"):
        member_for(example, "pe-group", "nowhere")


def test_every_param_the_packages_use_is_provided(example, example_build):
    out, built = example_build
    params = additional_params(example, reveal_secrets=False)
    needed = {}
    for item in built:
        needed.update(package_params(item.path))
    assert set(needed) == {"oai-epc", "rsp-registrar", "rsp-pool-element"}
    for member in members(example):
        keys = set(params[member.index])
        assert needed[member.vnfd_id] <= keys, (member, needed[member.vnfd_id] - keys)
        # Nothing superfluous either: every key is used by a primitive or the cloud-init.
        assert keys <= needed[member.vnfd_id], (member, keys - needed[member.vnfd_id])
        assert all(PARAM_KEY.match(k) for k in keys)
        assert all(isinstance(v, (str, int, bool)) for v in params[member.index].values())


def test_package_params_reads_directories_too(example_build, tmp_path):
    import tarfile
    out, built = example_build
    archive = next(b.path for b in built if b.name == "rsp-pool-element")
    with tarfile.open(str(archive)) as t:
        t.extractall(str(tmp_path), filter="data")
    assert package_params(tmp_path / "rsp-pool-element") == package_params(archive)
    assert "pe_capacity" in package_params(archive)["rsp-pool-element"]
    assert "pool_routes" in package_params(archive)["rsp-pool-element"]  # from the cloud-init


def test_secrets_redacted_unless_revealed(example, monkeypatch):
    monkeypatch.setenv("MECPOOL_EPC_K", K)
    monkeypatch.setenv("MECPOOL_EPC_OP", OP)
    hidden = additional_params(example, reveal_secrets=False)["1"]
    assert hidden["k"] == hidden["op"] == REDACTED
    assert K not in repr(hidden) and OP not in repr(hidden)
    shown = additional_params(example, reveal_secrets=True)["1"]
    assert (shown["k"], shown["op"]) == (K, OP)


def test_revealing_needs_the_environment(example, monkeypatch):
    monkeypatch.delenv("MECPOOL_EPC_K", raising=False)
    with pytest.raises(ValueError, match="MECPOOL_EPC_K"):
        additional_params(example, reveal_secrets=True)


def test_epc_values(example):
    p = additional_params(example, reveal_secrets=False)["1"]
    assert p["mcc"] == "242" and p["mnc"] == "88" and isinstance(p["tac"], int)
    assert p["mme_s1c_cidr"] == "192.168.247.102/24"
    assert p["spgwc_s11_address"] == "172.16.1.104" and p["spgwc_s11_cidr"] == "172.16.1.104/24"
    assert p["spgwc_list"] == example.epc.addresses.spgwc.sxab
    assert p["sgi_gateway"] == "10.254.1.1" and p["nat"] is True
    assert p["hss_git_commit"] == "932f6f8d952d474349f46b550939eab370557ff4"
    assert p["cassandra_apt"] == "deb https://debian.cassandra.apache.org 41x main"
    assert p["cassandra_key_url"] == "https://downloads.apache.org/cassandra/KEYS"
    assert p["spdlog_commit"] == "4a9ccf7e38e257feecce0c579a782741254eaeef"
    for key, value in p.items():
        if key.endswith("_cidr"):
            ipaddress.IPv4Interface(value)


def test_pool_values(example):
    params = additional_params(example, reveal_secrets=False)
    pr_mec, pr_svg = params["2"], params["3"]
    assert pr_mec["pr_address"] == "10.101.0.10" and pr_mec["pr_peers"] == "10.106.0.10:9901"
    # "config" primitive values are Juju config text
    assert pr_mec["pr_identifier"] == str(0x101) and pr_mec["pr_loglevel"] == "2"
    # rsplib.freshload (default true): RSPLIB's default keep-alive ("0": no option)
    assert pr_mec["pr_endpoint_keepalive_ms"] == "0" and pr_svg["pr_endpoint_keepalive_ms"] == "0"
    # the registrar on the group's own VIM comes first ("auto" routes towards it)
    assert params["4"]["pe_registrars"] == "10.101.0.10:3863,10.106.0.10:3863"
    assert params["5"]["pe_load_increment"] == "0.5" and params["4"]["pe_load_increment"] == "0.1"
    assert params["5"]["pe_capacity"] == 1000000 and params["5"]["pe_local_address"] == "auto"
    # pool routes: every other VIM's pool subnet through the local gateway
    assert pr_svg["pool_gateway"] == "10.106.0.1"
    assert "10.106.0.0/24" not in pr_svg["pool_routes"].split(",")
    assert len(pr_svg["pool_routes"].split(",")) == 5


def site_data():
    return yaml.safe_load(EXAMPLE_SITE.read_text())


def test_identifier_derived_from_address_when_absent():
    data = site_data()
    del data["pool"]["registrars"][1]["identifier"]
    params = additional_params(parse_site(data), reveal_secrets=False)
    assert params["3"]["pr_identifier"] == str(int(ipaddress.IPv4Address("10.106.0.10")))


def test_single_vim_pool_has_no_routes():
    data = site_data()
    data["pool"]["registrars"] = [data["pool"]["registrars"][0] | {"peers": []}]
    data["pool"]["pe_groups"] = {"mec": data["pool"]["pe_groups"]["mec"]}
    site = parse_site(data)
    params = additional_params(site, reveal_secrets=False)
    assert params["2"]["pool_routes"] == "" and params["3"]["pool_routes"] == ""
    assert [m.index for m in members(site)] == ["1", "2", "3"]


def test_one_dns_server_fills_both():
    data = site_data()
    data["epc"]["dns"] = ["9.9.9.9"]
    p = additional_params(parse_site(data), reveal_secrets=False)["1"]
    assert p["dns1"] == p["dns2"] == "9.9.9.9"


def test_required_params_skips_osm_values():
    vnfd = {"vdu": [{"vdu-configuration": {
        "initial-config-primitive": [{"seq": 1, "name": "x", "parameter": [
            {"name": "a", "value": "<rw_mgmt_ip>"}, {"name": "b", "value": "<mine>"},
            {"name": "c", "value": "literal"}, {"name": "d", "value": "<VDU_SCALE_INFO>"}]}],
        "config-primitive": [{"name": "y", "parameter": [{"name": "e", "default-value": "<later>"}]}]}}]}
    assert required_params(vnfd) == {"mine"}
    assert required_params({"vnfd:vnfd-catalog": {"vnfd": [vnfd]}}, include_day2=True) == {"mine", "later"}


def test_dhcp_range_avoids_fixed_addresses():
    start, count = dhcp_range("172.16.6.0/24", [None, "172.16.6.129", "172.16.6.2"])
    first = ipaddress.IPv4Address(start)
    pool = {first + i for i in range(count)}
    assert ipaddress.IPv4Address("172.16.6.129") not in pool
    assert ipaddress.IPv4Address("172.16.6.2") not in pool
    assert count == 126 and start == "172.16.6.3"
    with pytest.raises(ValueError):
        dhcp_range("10.0.0.0/30", ["10.0.0.1", "10.0.0.2"])


def test_context_is_plain_data(example):
    """The context has no IM-specific keys: a SOL006 renderer can read it."""
    ctx = build_context(example)
    text = yaml.safe_dump(ctx)  # plain types only
    for im_word in ("vnfd-catalog", "connection-point-ref", "initial-config-primitive", "vdu-configuration"):
        assert im_word not in text


def site_with(changes):
    data = yaml.safe_load(EXAMPLE_SITE.read_text())
    changes(data)
    return parse_site(data)


@pytest.mark.parametrize("freshload,own,expected", [
    (True, None, "0"),        # every PE has librspfreshload: RSPLIB's default keep-alive
    (False, None, "1000"),    # stock PEs: the 1 s workaround
    (True, 2000, "2000"),     # a registrar's own value wins either way
    (False, 5000, "5000"),
])
def test_registrar_keepalive_follows_the_rsplib_switch(freshload, own, expected):
    def change(data):
        data["rsplib"] = {"freshload": freshload}
        for registrar in data["pool"]["registrars"]:
            registrar.pop("endpoint_keepalive_ms", None)
        if own is not None:
            data["pool"]["registrars"][0]["endpoint_keepalive_ms"] = own
    site = site_with(change)
    params = additional_params(site, reveal_secrets=False)
    assert params["2"]["pr_endpoint_keepalive_ms"] == expected
    assert params["3"]["pr_endpoint_keepalive_ms"] == ("0" if freshload else "1000")
    assert build_context(site)["rsplib"]["freshload"] is freshload


def test_rsplib_switch_defaults_to_the_library_and_refuses_non_booleans():
    assert site_with(lambda data: data.pop("rsplib", None)).rsplib.freshload is True
    with pytest.raises(ValueError, match=r"rsplib\.freshload: Input should be a valid boolean"):
        site_with(lambda data: data.update(rsplib={"freshload": "yes"}))
