"""Each class of site-file error, with a failing example: the error names the
field path and the problem, and `mecpool build` writes nothing."""

import copy
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mecpool.cli import main as cli
from mecpool.site import SiteError, load_site, parse_site

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = yaml.safe_load((REPO / "site.example.yaml").read_text())


def edited(change):
    data = copy.deepcopy(EXAMPLE)
    change(data)
    return data


def problems_of(data):
    with pytest.raises(SiteError) as caught:
        parse_site(data)
    return caught.value.problems


def test_example_is_valid():
    assert parse_site(copy.deepcopy(EXAMPLE)).name == "simula-mec"


def test_oai_default_realm_and_apn_are_accepted():
    """OAI's own defaults: realm openair4G.eur (written lower-case, as every charm
    writes it) and the dotted APN oai.ipv4 (case kept)."""
    site = parse_site(edited(lambda d: d["epc"].update(realm="openair4G.eur", apn="oai.ipv4",
                                                        apn2="Internet.Example")))
    assert site.epc.realm == "openair4g.eur"
    assert (site.epc.apn, site.epc.apn2) == ("oai.ipv4", "Internet.Example")


def set_(path, value):
    """A change setting dotted ``path`` (list indexes as ints) to ``value``."""
    def change(data):
        node = data
        *parents, last = path
        for key in parents:
            node = node[key]
        node[last] = value
    return change


def delete(path):
    def change(data):
        node = data
        *parents, last = path
        for key in parents:
            node = node[key]
        del node[last]
    return change


CASES = [
    # (id, change, field path, words in the message)
    ("wrong type", set_(("flavors", "hss", "vcpus"), "four"), "flavors.hss.vcpus", "integer"),
    ("wrong type list", set_(("epc", "dns"), "8.8.8.8"), "epc.dns", "list"),
    ("address outside subnet", set_(("epc", "addresses", "mme", "s11"), "172.16.2.5"),
     "epc.addresses.mme.s11", "outside"),
    ("network address", set_(("epc", "addresses", "hss", "s6a"), "172.16.6.0"),
     "epc.addresses.hss.s6a", "network or broadcast"),
    ("gateway outside subnet", set_(("networks", "sgi", "gateway"), "10.254.2.1"), "networks.sgi", "outside"),
    ("overlapping subnets", set_(("networks", "s11", "subnet"), "172.16.0.0/16"), "networks.s11.subnet",
     "overlaps"),
    ("ue pool overlaps", set_(("epc", "ue_pool"), "10.254.1.0/24"), "epc.ue_pool", "overlaps"),
    ("not CIDR", set_(("networks", "s6a", "subnet"), "172.16.6.1/24"), "networks.s6a.subnet", "CIDR"),
    ("mcc two digits", set_(("epc", "mcc"), "24"), "epc.mcc", "three digits"),
    ("mcc as number", set_(("epc", "mcc"), 242), "epc.mcc", "string"),
    ("mnc one digit", set_(("epc", "mnc"), "8"), "epc.mnc", "two or three digits"),
    ("imsi prefix", set_(("epc", "imsi_first"), "999991234500000"), "epc", "MCC+MNC"),
    ("unknown vim", set_(("pool", "pe_groups", "mec", "vim"), "mars"), "pool.pe_groups.mec.vim", "unknown VIM"),
    ("unknown epc vim", set_(("epc", "vim"), "mars"), "epc.vim", "unknown VIM"),
    ("unknown image", set_(("pool", "image"), "xenial"), "pool.image", "unknown image"),
    ("negative capacity", set_(("pool", "pe_groups", "mec", "capacity"), -5), "pool.pe_groups.mec.capacity",
     "greater than 0"),
    ("fractional capacity", set_(("pool", "pe_groups", "mec", "capacity"), 1000.5), "pool.pe_groups.mec.capacity",
     "whole number"),
    ("load increment above 1", set_(("pool", "pe_groups", "mec", "load_increment"), 1.5),
     "pool.pe_groups.mec.load_increment", "less than or equal to 1"),
    ("max below count", set_(("pool", "pe_groups", "mec", "max_count"), 1), "pool.pe_groups.mec", "below count"),
    ("unknown key", set_(("epc", "colour"), "blue"), "epc.colour", "Extra inputs"),
    ("unknown top key", set_(("extras",), 1), "extras", "Extra inputs"),
    ("missing key", delete(("epc", "realm")), "epc.realm", "required"),
    ("unknown peer", set_(("pool", "registrars", 0, "peers"), ["pr-nowhere"]), "pool.registrars[0].peers",
     "unknown registrar"),
    ("self peer", set_(("pool", "registrars", 0, "peers"), ["pr-mec"]), "pool.registrars[0].peers", "itself"),
    ("registrar outside pool subnet", set_(("pool", "registrars", 1, "address"), "10.101.0.99"),
     "pool.registrars[1].address", "outside"),
    ("duplicate registrar name", set_(("pool", "registrars", 1, "name"), "pr-mec"), "pool.registrars[1].name",
     "used twice"),
    ("bad external peer", set_(("pool", "registrars", 0, "external_peers"), ["10.1.1.1:99999"]),
     "pool.registrars[0].external_peers", "port"),
    ("loglevel range", set_(("pool", "registrars", 0, "loglevel"), 12), "pool.registrars[0].loglevel",
     "less than or equal to 9"),
    ("keep-alive below RSPLIB's range", set_(("pool", "registrars", 0, "endpoint_keepalive_ms"), 100),
     "pool.registrars[0].endpoint_keepalive_ms", "greater than or equal to 300"),
    ("sgi gateway missing", delete(("networks", "sgi", "gateway")), "networks.sgi.gateway", "required"),
    ("pool gateway missing", delete(("vims", "haikou", "pool_network", "gateway")),
     "vims.haikou.pool_network.gateway", "required"),
    ("k and k_env", set_(("epc", "k"), "449C4B91AEACD0ACE182CF3A5A72BFA1"), "epc", "exactly one of k or k_env"),
    ("k not hex", lambda d: (d["epc"].pop("k_env"), d["epc"].update(k="nothex")), "epc", "32 hexadecimal"),
    ("bad realm", set_(("epc", "realm"), "Not A Realm"), "epc.realm", "a DNS name"),
    ("bad apn", set_(("epc", "apn"), "oai..ipv4"), "epc.apn", "dot-separated labels"),
    ("bad imsi", set_(("epc", "imsi_first"), "24288"), "epc.imsi_first", "15 digits"),
    ("bad name", set_(("name",), "Bad Name!"), "name", "pattern"),
    ("cassandra repository not a URL", set_(("epc", "cassandra", "repository"), "deb x 41x main"),
     "epc.cassandra.repository", "not an http:// or https:// URL"),
    ("cassandra suite with a space", set_(("epc", "cassandra", "suite"), "41x main"),
     "epc.cassandra.suite", "pattern"),
    ("cassandra key URL", set_(("epc", "cassandra", "key_url"), "file:///etc/passwd"),
     "epc.cassandra.key_url", "not an http:// or https:// URL"),
    ("spdlog commit a branch", set_(("epc", "spdlog_commit"), "master"), "epc.spdlog_commit", "pattern"),
    ("vim password twice", set_(("vims", "mec", "openstack", "password"), "secret"), "vims.mec.openstack",
     "exactly one of password"),
]


@pytest.mark.parametrize("change,path,words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_site_error(change, path, words):
    problems = problems_of(edited(change))
    hits = [p for p in problems if p.startswith(path + ":") or p.startswith(path + ".")]
    assert hits, "no problem at {}: {}".format(path, problems)
    assert any(words.lower() in p.lower() for p in hits), problems


def test_secret_values_never_in_errors():
    secret = "0123456789ABCDEF0123456789ABCDEG"  # 32 chars, not hex
    problems = problems_of(edited(lambda d: (d["epc"].pop("k_env"), d["epc"].update(k=secret))))
    assert not any(secret in p for p in problems)


def test_several_problems_reported_together():
    problems = problems_of(edited(lambda d: (set_(("epc", "mcc"), "1")(d),
                                             set_(("pool", "pe_groups", "mec", "vim"), "mars")(d))))
    assert any(p.startswith("epc.mcc") for p in problems)


def write(tmp_path, text):
    path = tmp_path / "site.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text,words", [
    ("name: [unclosed\n", "not valid YAML"),
    ("- just\n- a list\n", "mapping at the top level"),
    ("", "mapping at the top level"),
])
def test_file_errors(tmp_path, text, words):
    with pytest.raises(SiteError) as caught:
        load_site(write(tmp_path, text))
    assert any(words in p for p in caught.value.problems)
    assert str(tmp_path / "site.yaml") in str(caught.value)


def test_bad_yaml_names_the_line(tmp_path):
    with pytest.raises(SiteError) as caught:
        load_site(write(tmp_path, "name: ok\nvims:\n  mec: [unclosed\n"))
    assert "line " in caught.value.problems[0]


def test_missing_file(tmp_path):
    with pytest.raises(SiteError, match="cannot read"):
        load_site(tmp_path / "absent.yaml")


def test_not_utf8(tmp_path):
    path = tmp_path / "site.yaml"
    path.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(SiteError, match="UTF-8"):
        load_site(path)


@pytest.mark.parametrize("change", [c[1] for c in CASES[:6]], ids=[c[0] for c in CASES[:6]])
def test_build_writes_nothing_on_site_error(tmp_path, change):
    site = write(tmp_path, yaml.safe_dump(edited(change)))
    out = tmp_path / "build"
    result = CliRunner().invoke(cli, ["build", "--site", str(site), "--out", str(out)])
    assert result.exit_code == 2
    assert "invalid site file" in result.output
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["site.yaml"]
