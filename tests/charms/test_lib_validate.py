import ipaddress

import pytest

import epc_fakes  # noqa: F401  (puts charms/lib on sys.path)
from charmhelpers_mecpool import validate as v
from charmhelpers_mecpool.errors import ValidationError


def fails(func, *args, **kwargs):
    with pytest.raises(ValidationError) as info:
        func(*args, **kwargs)
    return info.value


def test_ipv4_normalises_and_names_param():
    assert v.ipv4("s6a-address", " 172.16.6.129 ") == "172.16.6.129"
    err = fails(v.ipv4, "s6a-address", "172.16.6.300")
    assert err.param == "s6a-address" and "s6a-address" in str(err)
    assert fails(v.ipv4, "x", "").message == "must not be empty"
    assert "string" in fails(v.ipv4, "x", 17).message
    assert fails(v.ipv4, "x", "10.0.0.1/24").param == "x"


def test_ip_accepts_v6():
    assert v.ip("dns1", "2001:db8::1") == "2001:db8::1"
    fails(v.ip, "dns1", "dns.example")


def test_interface_cidr():
    iface = v.interface_cidr("s1c-address", "192.168.247.102/24")
    assert iface == ipaddress.IPv4Interface("192.168.247.102/24")
    assert "prefix" in fails(v.interface_cidr, "s1c-address", "192.168.247.102").message
    assert "network or broadcast" in fails(v.interface_cidr, "a", "10.0.0.0/24").message
    assert "network or broadcast" in fails(v.interface_cidr, "a", "10.0.0.255/24").message
    fails(v.interface_cidr, "a", "10.0.0.1/33")
    assert v.interface_cidr("a", "10.0.0.1/32").ip == ipaddress.IPv4Address("10.0.0.1")


def test_network():
    assert v.network("ue-pool", "12.1.1.0/24") == ipaddress.IPv4Network("12.1.1.0/24")
    assert "host bits" in fails(v.network, "ue-pool", "12.1.1.1/24").message
    assert "prefix length" in fails(v.network, "ue-pool", "12.1.1.0").message
    assert "prefix length must be" in fails(v.network, "p", "12.1.1.0/31").message


def test_integer():
    assert v.integer("users", 1024, 1, 100000) == 1024
    assert v.integer("users", "12", 1) == 12
    assert v.integer("users", 3.0) == 3
    assert ">= 1" in fails(v.integer, "users", 0, 1).message
    assert "<= 10" in fails(v.integer, "users", 11, 1, 10).message
    assert "boolean" in fails(v.integer, "users", True).message
    fails(v.integer, "users", "twelve")
    fails(v.integer, "users", 2.5)
    fails(v.integer, "users", float("inf"))


def test_boolean():
    assert v.boolean("nat", True) is True
    assert v.boolean("nat", "no") is False
    assert v.boolean("nat", "TRUE") is True
    assert fails(v.boolean, "nat", "maybe").param == "nat"
    fails(v.boolean, "nat", 1)


def test_hex_key_never_echoes_value():
    key = "449c4b91aeace2f80f3ee1c0ded0ff57"
    assert v.hex_key("k", key) == key.upper()
    bad = "449C4B91AEACE2F80F3EE1C0DED0FFZZ"
    err = fails(v.hex_key, "k", bad)
    assert bad not in str(err) and "not all hex" in err.message
    err = fails(v.hex_key, "op", key[:30])
    assert key[:30] not in str(err) and "30 characters" in err.message
    fails(v.hex_key, "op", 12345)


def test_mcc_mnc_keep_leading_zeros():
    assert v.mcc("mcc", "001") == "001"
    assert v.mnc("mnc", "01") == "01"
    assert v.mnc("mnc", "001") == "001"
    fails(v.mcc, "mcc", 242)
    fails(v.mcc, "mcc", "24")
    fails(v.mnc, "mnc", "1")
    fails(v.mnc, "mnc", "0001")
    fails(v.mnc, "mnc", 1)


def test_imsi_msisdn():
    assert v.imsi("imsi-first", "242881234500000") == "242881234500000"
    assert v.imsi("imsi-first", 242881234500000) == "242881234500000"
    fails(v.imsi, "imsi-first", "2428812345000001")
    fails(v.imsi, "imsi-first", "24288x")
    assert v.msisdn("msisdn-first", "24288880000000") == "24288880000000"


def test_git_url_and_ref():
    url = "https://github.com/simula/openairinterface-openair-hss.git"
    assert v.git_url("git-repository", url) == url
    assert v.git_url("git-repository", "git@github.com:simula/x.git")
    assert v.git_url("git-repository", "/srv/mirror/hss.git")
    fails(v.git_url, "git-repository", "--upload-pack=evil")
    fails(v.git_url, "git-repository", "ftp://example.org/x")
    fails(v.git_url, "git-repository", "https://exa mple.org/x")
    for ref in ("dreibh/cassandra-build-fix-v1.1.1", "v1.1.0", "2020.w36",
                "464127c", "0123456789abcdef0123456789abcdef01234567"):
        assert v.git_ref("git-commit", ref) == ref
    for ref in ("-b", "a..b", "x.lock", "feat/", "a b", "/x", "x//y", "a/.b"):
        fails(v.git_ref, "git-commit", ref)


def test_hostname_realm_apn():
    assert v.realm("realm", "Simula.NorNet.") == "simula.nornet"
    assert "two labels" in fails(v.realm, "realm", "nornet").message
    fails(v.realm, "realm", "-bad.org")
    fails(v.realm, "realm", "a_b.org")
    fails(v.hostname, "h", "a" * 64 + ".org")
    assert v.apn("apn", "internet") == "internet"


def test_address_list():
    assert v.address_list("spgwc-list", "172.55.55.101, 172.55.55.103") == [
        "172.55.55.101", "172.55.55.103"]
    assert v.address_list("spgwc-list", ["10.0.0.1"]) == ["10.0.0.1"]
    assert "item 2" in fails(v.address_list, "spgwc-list", "10.0.0.1,10.0.0").message
    assert "twice" in fails(v.address_list, "spgwc-list", "10.0.0.1 10.0.0.1").message
    assert "at least 1" in fails(v.address_list, "spgwc-list", " , ").message
    fails(v.address_list, "spgwc-list", 5)


def test_required_names_the_first_missing_or_empty_param():
    v.required({"a": 1, "b": 0, "c": False}, ["a", "b", "c"])
    for params, missing in (({"a": 1}, "b"), ({"a": 1, "b": ""}, "b"), ({"b": 2}, "a")):
        with pytest.raises(ValidationError, match="^{}: is required$".format(missing)):
            v.required(params, ["a", "b"])


def test_git_source_validates_both_fields():
    source = v.git_source({"git-repository": "https://github.com/simula/openair-hss.git",
                           "git-commit": "v1.1.0", "realm": "ignored"})
    assert source == {"git-repository": "https://github.com/simula/openair-hss.git",
                      "git-commit": "v1.1.0"}
    with pytest.raises(ValidationError, match="^git-commit: "):
        v.git_source({"git-repository": "https://github.com/simula/openair-hss.git",
                      "git-commit": "--upload-pack=x"})
