"""The HSS workload on a fake VDU: exact commands, rendered files parsed back."""

import json
import os
import re
import stat

import libconf
import pytest
import yaml

import charmtest
import epc_fakes
from charmhelpers_mecpool.errors import MecpoolError, NotFound, ValidationError, WaitTimeout

hss = charmtest.load_charm_module("oai-hss", "hss_workload")
subs = charmtest.load_charm_module("oai-hss", "subscribers")
cassandra_db = charmtest.load_charm_module("oai-hss", "cassandra_db")

OP = "1006020F0A478BF6B699F15C062E42B3"
K = "449C4B91AEACE2F80F3EE1C0DED0FFBA"
S6A = "172.16.6.129"
MME = "172.16.6.2"
PARAMS = {"git-repository": "https://github.com/simula/openairinterface-openair-hss.git",
          "git-commit": "dreibh/cassandra-build-fix-22oct2020", "realm": "simula.nornet",
          "s6a-address": S6A, "mme-s6a-address": MME, "op": OP.lower(),
          "apn": "default", "apn2": "internet"}
PROVISION = {"imsi-first": "242881234500000", "msisdn-first": "24288880000000", "users": 5,
             "k": K, "op": OP}
DEFAULT_CASSANDRA_YAML = {
    "cluster_name": "Test Cluster", "listen_address": "localhost", "rpc_address": "localhost",
    "endpoint_snitch": "SimpleSnitch", "num_tokens": 256, "native_transport_port": 9042,
    "seed_provider": [{"class_name": "org.apache.cassandra.locator.SimpleSeedProvider",
                       "parameters": [{"seeds": "127.0.0.1"}]}]}


def parse_insert(statement):
    """(table, {column: value}) of one INSERT statement (CQL text literals unquoted)."""
    match = re.match(r"^INSERT INTO (\S+) \((.*?)\) VALUES \((.*)\);$", statement)
    assert match, statement
    columns = [c.strip() for c in match.group(2).split(",")]
    values, rest = [], match.group(3)
    while rest:
        rest = rest.lstrip(", ")
        if rest.startswith("'"):
            m = re.match(r"'((?:[^']|'')*)'", rest)
            values.append(m.group(1).replace("''", "'"))
        else:
            m = re.match(r"([^,]+)", rest)
            values.append(int(m.group(1)))
        rest = rest[m.end():]
    assert len(columns) == len(values), statement
    return match.group(1), dict(zip(columns, values))


class FakeDb(object):
    """cqlsh against a tiny in-memory vhss: --file statements and SELECT COUNT(*)."""

    def __init__(self):
        self.tables = {"vhss.users_imsi": {}, "vhss.msisdn_imsi": {}, "vhss.mmeidentity": {},
                       "vhss.mmeidentity_host": {}}
        self.files = []

    def cqlsh(self, argv, kwargs):
        if argv[1] == "--file":
            path = argv[2]
            with open(path) as handle:
                text = handle.read()
            self.files.append((path, text, stat.S_IMODE(os.stat(path).st_mode)))
            for line in text.splitlines():
                if line.startswith("TRUNCATE "):
                    self.tables[line.split()[1].rstrip(";")].clear()
                elif line.startswith("INSERT INTO "):
                    table, row = parse_insert(line)
                    self.tables[table][list(row.values())[0]] = row
            return 0, "", ""
        table = re.search(r"FROM (\S+);", argv[2]).group(1)
        return 0, "\n count\n-------\n  {}\n\n(1 rows)\n".format(len(self.tables[table])), ""


@pytest.fixture
def vdu(tmp_path):
    host = epc_fakes.FakeHost(tmp_path, interfaces={"ens3": ["10.0.0.5/24"],
                                                   "ens4": [S6A + "/24"]})
    host.clock = epc_fakes.FakeClock()
    host.db = FakeDb()
    host.make_file("/etc/cassandra/cassandra.yaml", yaml.safe_dump(DEFAULT_CASSANDRA_YAML))
    host.make_file("/var/lib/cassandra/data/system/local/x.db", "old")
    host.make_file("/var/lib/cassandra/data/vhss/keep.db", "keep")
    host.make_file(hss.SOURCE_DIR + "/src/hss_rel14/db/oai_db.cql",
                   "CREATE KEYSPACE IF NOT EXISTS vhss WITH replication = "
                   "{'class': 'NetworkTopologyStrategy', 'DC1': '1'};\n")
    binary = host.path(hss.BINARY)

    def build(argv, kwargs):
        host.make_file(hss.BINARY, "elf")
        return 0, "", ""
    host.runner.on(["./build_hss_rel14", "--clean"], handler=build)
    host.runner.on(["update-alternatives", "--query", "java"], stdout=(
        "Name: java\nLink: /usr/bin/java\nStatus: manual\nBest: x\n"
        "Value: /usr/lib/jvm/java-11-openjdk-amd64/bin/java\n\n"
        "Alternative: /usr/lib/jvm/java-11-openjdk-amd64/bin/java\n"
        "Alternative: " + cassandra_db.JAVA8 + "\n"))
    host.runner.on(["cqlsh"], handler=host.db.cqlsh)
    host.on_start = {"cassandra": [("tcp", S6A, 9042), ("tcp", S6A, 7000)],
                     "hss.service": [("tcp", S6A, 3868)]}
    host.binary = binary
    host.builds = epc_fakes.FakeBuildRunner(host, host.clock)
    epc_fakes.install_templates(host.path(hss.SOURCE_DIR), "hss")
    host.workload = hss.HssWorkload(build_runner=host.builds, run=host.runner, root=host.root, mac_lookup=lambda a: None,
                                    sleep=host.clock.sleep, clock=host.clock,
                                    cert_bits=1024)
    return host


def configure(vdu, **changes):
    params = dict(PARAMS, **changes)
    return vdu.workload.configure(hss.parse_configure(params))


# ---- validation -------------------------------------------------------------
def test_parse_configure_normalises():
    config = hss.parse_configure(dict(PARAMS, realm="Simula.NorNet"))
    assert config["realm"] == "simula.nornet" and config["op"] == OP


@pytest.mark.parametrize("param,value", [
    ("git-repository", "--upload-pack=x"), ("git-commit", "a..b"), ("realm", "nornet"),
    ("s6a-address", "172.16.6.300"), ("mme-s6a-address", "mme"), ("op", "1234"),
    ("apn", "bad_apn"), ("apn2", "")])
def test_parse_configure_rejects_each_bad_param(param, value):
    with pytest.raises(ValidationError) as info:
        hss.parse_configure(dict(PARAMS, **{param: value}))
    assert info.value.param == param


def test_parse_configure_cross_checks():
    with pytest.raises(ValidationError) as info:
        hss.parse_configure(dict(PARAMS, **{"mme-s6a-address": S6A}))
    assert info.value.param == "mme-s6a-address"
    with pytest.raises(ValidationError) as info:
        hss.parse_configure(dict(PARAMS, apn2="default"))
    assert info.value.param == "apn2"
    params = dict(PARAMS)
    del params["op"]
    with pytest.raises(ValidationError) as info:
        hss.parse_configure(params)
    assert info.value.param == "op" and "required" in str(info.value)


def test_parse_provision():
    request = hss.parse_provision(PROVISION)
    assert request["subscribers"].imsi_last == "242881234500004"
    assert request["k"] == K
    for param, value in (("users", 0), ("users", 100001), ("imsi-first", "24288x"),
                         ("k", K[:-1]), ("op", "zz" * 16), ("msisdn-first", "")):
        with pytest.raises(ValidationError) as info:
            hss.parse_provision(dict(PROVISION, **{param: value}))
        assert info.value.param == param
        assert K not in str(info.value) and OP not in str(info.value)
    with pytest.raises(ValidationError) as info:
        hss.parse_provision(dict(PROVISION, **{"imsi-first": "999999999999998", "users": 3}))
    assert info.value.param == "users" and "overflow" in str(info.value)


# ---- configure ------------------------------------------------------------------
def test_configure_builds_configures_and_starts(vdu):
    results = configure(vdu)
    assert results == {"interface": "ens4", "commit": vdu.commit, "built": "true",
                       "restarted": "true", "diameter": S6A + ":3868",
                       "layout": "hss-rel14-2020",
                       "rest-ports": "TCP 9080-9082 open on lo, ens4 only"}
    argvs = vdu.runner.argvs
    src = vdu.path(hss.SOURCE_DIR)
    steps = [(argv, kw["cwd"]) for argv, kw in vdu.runner.calls if argv[0].startswith("./build")]
    # Not OAI's build_cassandra (its apt sources are gone): build installs Cassandra itself.
    assert steps == [(["./build_hss_rel14", "--check-installed-software", "--force"],
                      src + "/scripts"),
                     (["./build_hss_rel14", "--clean"], src + "/scripts")]
    assert ["update-alternatives", "--set", "java", cassandra_db.JAVA8] in argvs
    assert ["cqlsh", "--file", src + "/src/hss_rel14/db/oai_db.cql", S6A] in argvs
    # Cassandra: bound to the S6a address, renamed cluster, system keyspace wiped once.
    cass = yaml.safe_load(open(vdu.path("/etc/cassandra/cassandra.yaml")).read())
    assert cass["cluster_name"] == "HSS Cluster"
    assert cass["listen_address"] == cass["rpc_address"] == S6A
    assert cass["seed_provider"][0]["parameters"][0]["seeds"] == S6A
    assert cass["endpoint_snitch"] == "GossipingPropertyFileSnitch"
    assert cass["num_tokens"] == 256  # the rest of the package's file is kept
    # The data centre oai_db.cql replicates vhss to (NetworkTopologyStrategy 'DC1').
    rackdc = open(vdu.path("/etc/cassandra/cassandra-rackdc.properties")).read()
    assert rackdc.splitlines()[:2] == ["dc=DC1", "rack=rack1"]
    assert not os.path.exists(vdu.path("/var/lib/cassandra/data/system"))
    assert os.path.exists(vdu.path("/var/lib/cassandra/data/vhss/keep.db"))
    # The MME identity rows.
    assert vdu.db.tables["vhss.mmeidentity"][3]["mmehost"] == "mme.simula.nornet"
    assert vdu.db.tables["vhss.mmeidentity_host"][3]["mmerealm"] == "simula.nornet"
    # hss_rel14.json: parsed back, key by key; mode 0600 (it holds OP).
    prefix = vdu.path("/usr/local/etc/oai")
    with open(prefix + "/hss_rel14.json") as handle:
        config = json.load(handle)
    assert stat.S_IMODE(os.stat(prefix + "/hss_rel14.json").st_mode) == 0o600
    assert config["common"] == {"fdcfg": prefix + "/freeDiameter/hss_rel14_fd.conf",
                                "originhost": "hss.simula.nornet",
                                "originrealm": "simula.nornet"}
    assert config["hss"]["casssrv"] == S6A and config["hss"]["optkey"] == OP
    assert config["hss"]["roamallow"] is True and config["hss"]["cassdb"] == "vhss"
    assert config["hss"]["logname"] == vdu.path("/var/log/oai") + "/hss_rel14.log"
    assert config["hss"]["ossfile"] == src + "/etc/oss.json"
    with open(prefix + "/hss_rel14.conf") as handle:
        assert libconf.load(handle) == {"HSS": {"cassandra_Server_IP": S6A}}
    fd = open(prefix + "/freeDiameter/hss_rel14_fd.conf").read()
    assert 'Identity = "hss.simula.nornet";' in fd.splitlines()
    assert 'Realm = "simula.nornet";' in fd.splitlines()
    assert 'ListenOn = "{}";'.format(S6A) in fd.splitlines()
    assert "Port = 3868;" in fd.splitlines() and "No_SCTP;" in fd.splitlines()
    assert 'LoadExtension = "acl_wl.fdx" : "{}/freeDiameter/acl.conf";'.format(prefix) \
        in fd.splitlines()
    assert 'LoadExtension = "/usr/local/lib/freeDiameter/dict_S6as6d.fdx";' in fd.splitlines()
    assert "127.0.0.1" not in fd
    assert "ALLOW_OLD_TLS mme.simula.nornet" in open(prefix + "/freeDiameter/acl.conf").read()
    for name in ("hss.cert.pem", "hss.key.pem", "cacert.pem"):
        assert os.path.isfile(prefix + "/freeDiameter/" + name)
    assert stat.S_IMODE(os.stat(prefix + "/freeDiameter/hss.key.pem").st_mode) == 0o600
    hosts = open(vdu.path("/etc/hosts")).read()
    assert "{} hss.simula.nornet hss\n".format(S6A) in hosts
    assert "{} mme.simula.nornet mme\n".format(MME) in hosts
    unit = open(vdu.path("/etc/systemd/system/hss.service")).read()
    assert ('ExecStart=/bin/sh -c "exec /usr/local/bin/oai_hss -j {}/hss_rel14.json '
            '>>{}/hss.log 2>&1"'.format(prefix, vdu.path("/var/log/oai"))) in unit
    assert "After=network-online.target cassandra.service" in unit
    assert "WantedBy=multi-user.target" in unit
    assert argvs.index(["systemctl", "daemon-reload"]) < argvs.index(
        ["systemctl", "enable", "hss.service"]) < argvs.index(
        ["systemctl", "restart", "hss.service"])
    assert stat.S_IMODE(os.stat(vdu.path("/var/log/oai")).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(vdu.path("/var/lib/mecpool")).st_mode) == 0o700
    settings = json.load(open(vdu.path("/var/lib/mecpool/oai-hss.json")))
    assert "op" not in settings and OP not in json.dumps(settings)
    assert settings["s6a-address"] == S6A and settings["s6a-interface"] == "ens4"


def test_configure_closes_rest_ports_before_anything_starts(vdu):
    configure(vdu)
    argvs = vdu.runner.argvs
    load = ["/usr/sbin/nft", "-f", "/etc/mecpool/nftables/mecpool_hss.nft"]
    assert ["dpkg-query", "-W", "-f", "${Package} ${Status}\\n", "git", "ca-certificates",
            "openssl", "iproute2", "netplan.io", "nftables"] in argvs
    # loaded (by the real nft) before the build, Cassandra and the HSS start
    first_build = [a for a in argvs if a[0].startswith("./build")][0]
    assert argvs.index(load) < argvs.index(first_build)
    assert argvs.index(load) < argvs.index(["systemctl", "restart", "cassandra"])
    assert argvs.index(load) < argvs.index(["systemctl", "restart", "hss.service"])
    listed = vdu.runner(["/usr/sbin/nft", "list", "table", "inet", "mecpool_hss"]).stdout
    rules = [" ".join(line.split()) for line in listed.splitlines()]
    assert rules[rules.index("chain input {") + 2:rules.index("chain input {") + 5] == [
        'iifname "lo" tcp dport 9080-9082 accept',
        'iifname "ens4" tcp dport 9080-9082 accept',
        "tcp dport 9080-9082 drop"]
    # the management interface ens3 is nowhere allowed
    assert "ens3" not in listed
    unit = open(vdu.path("/etc/systemd/system/mecpool-hss-nftables.service")).read()
    assert "ExecStart=/usr/sbin/nft -f /etc/mecpool/nftables/mecpool_hss.nft" in unit
    assert "Before=network-pre.target shutdown.target hss.service" in unit
    assert "mecpool-hss-nftables.service" in vdu.enabled
    # configured again: nothing reloaded
    loads = vdu.nft.loads
    configure(vdu)
    assert vdu.nft.loads == loads


def test_configure_on_another_s6a_interface_moves_the_filter(vdu):
    configure(vdu)
    vdu.interfaces = {"ens3": ["10.0.0.5/24"], "ens5": [S6A + "/24"]}
    results = configure(vdu)
    assert results["interface"] == "ens5"
    assert results["rest-ports"] == "TCP 9080-9082 open on lo, ens5 only"
    listed = vdu.runner(["/usr/sbin/nft", "list", "table", "inet", "mecpool_hss"]).stdout
    assert 'iifname "ens5"' in listed and 'iifname "ens4"' not in listed
    assert vdu.workload.report()["rest-ports-filter"] == "ok"


def test_configure_fails_when_nft_refuses_the_rules(vdu):
    vdu.runner.on(["/usr/sbin/nft", "-f"], returncode=1,
                  stderr="Error: Could not process rule: No such file or directory")
    with pytest.raises(MecpoolError) as info:
        configure(vdu)
    assert "nft" in str(info.value) and "No such file or directory" in str(info.value)
    assert not any(a[0].startswith("./build") for a in vdu.runner.argvs)
    assert ["systemctl", "restart", "hss.service"] not in vdu.runner.argvs


def test_configure_twice_changes_nothing(vdu):
    configure(vdu)
    watched = [vdu.path(p) for p in ("/usr/local/etc/oai/hss_rel14.json",
                                     "/usr/local/etc/oai/freeDiameter/hss_rel14_fd.conf",
                                     "/usr/local/etc/oai/freeDiameter/hss.cert.pem",
                                     "/etc/cassandra/cassandra.yaml", "/etc/hosts",
                                     "/etc/systemd/system/hss.service")]
    before = [(open(p).read(), os.stat(p).st_mtime_ns) for p in watched]
    vdu.runner.calls.clear()
    results = configure(vdu)
    assert results["built"] == "false" and results["restarted"] == "false"
    argvs = vdu.runner.argvs
    assert not any(a[0].startswith("./build") for a in argvs)
    assert not any(a[:2] in (["systemctl", "restart"], ["systemctl", "stop"],
                             ["systemctl", "daemon-reload"]) for a in argvs)
    assert not any(a[0] == "openssl" and a[1] in ("req", "genrsa") for a in argvs)
    assert [(open(p).read(), os.stat(p).st_mtime_ns) for p in watched] == before
    assert len([f for f in vdu.db.files if "provision" in f[0]]) == 1  # MME identity once


def test_configure_new_op_restarts_hss(vdu):
    configure(vdu)
    vdu.runner.calls.clear()
    configure(vdu, op="8E27B6AF0E692E750F32667A3B14605D")
    assert ["systemctl", "restart", "hss.service"] in vdu.runner.argvs
    assert ["systemctl", "restart", "cassandra"] not in vdu.runner.argvs


def test_configure_without_the_s6a_interface(vdu):
    vdu.interfaces = {"ens3": ["10.0.0.5/24"]}
    with pytest.raises(NotFound) as info:
        configure(vdu)
    assert S6A in str(info.value)
    assert not any(a[0].startswith("./build") for a in vdu.runner.argvs)


def test_configure_fails_clearly_when_hss_never_listens(vdu):
    vdu.on_start["hss.service"] = []
    with pytest.raises(WaitTimeout) as info:
        configure(vdu)
    assert "HSS Diameter listener {}:3868 not reachable within 90 s".format(S6A) \
        in str(info.value)


def test_configure_fails_when_cassandra_does_not_come_up(vdu):
    vdu.on_start["cassandra"] = []
    with pytest.raises(WaitTimeout) as info:
        configure(vdu)
    assert "Cassandra CQL {}:9042".format(S6A) in str(info.value)
    assert ["systemctl", "restart", "hss.service"] not in vdu.runner.argvs


def test_configure_without_java8(vdu):
    vdu.runner.on(["update-alternatives", "--query", "java"],
                  stdout="Value: /usr/lib/jvm/java-11-openjdk-amd64/bin/java\n")
    with pytest.raises(NotFound) as info:
        configure(vdu)
    assert "OpenJDK 8" in str(info.value)


def test_build_failure_is_reported_without_starting(vdu):
    vdu.runner.on(["./build_hss_rel14", "--clean"], returncode=2, stderr="make: *** Error 1")
    with pytest.raises(MecpoolError) as info:
        configure(vdu)
    assert "exit code 2" in str(info.value)
    assert not any(a[:2] == ["systemctl", "restart"] for a in vdu.runner.argvs)


# ---- subscribers -------------------------------------------------------------------
def test_provision_requires_configure(vdu):
    with pytest.raises(MecpoolError) as info:
        vdu.workload.provision(hss.parse_provision(PROVISION))
    assert "configure" in str(info.value)


def test_provision_writes_rows_and_computes_opc(vdu):
    configure(vdu)
    vdu.runner.calls.clear()
    results = vdu.workload.provision(hss.parse_provision(PROVISION))
    assert results == {"imsi-first": "242881234500000", "imsi-last": "242881234500004",
                       "msisdn-first": "24288880000000", "msisdn-last": "24288880000004",
                       "users": "5", "changed": "true"}
    assert K not in json.dumps(results) and OP not in json.dumps(results)
    path, text, mode = vdu.db.files[-1]
    assert mode == 0o600 and not os.path.exists(path)  # secret file gone afterwards
    users = vdu.db.tables["vhss.users_imsi"]
    assert sorted(users) == ["24288123450000{}".format(i) for i in range(5)]
    row = users["242881234500003"]
    assert row["key"] == K and row["msisdn"] == 24288880000003
    assert row["mmehost"] == "mme.simula.nornet" and row["mmerealm"] == "simula.nornet"
    assert row["sqn"] == 96 and row["access_restriction"] == 41
    assert row["mmeidentity_idmmeidentity"] == 3
    data = json.loads(row["subscription_data"], object_pairs_hook=lambda pairs: pairs)
    top = dict(data)["Subscription-Data"]
    profile = dict(top)["APN-Configuration-Profile"]
    apns = [dict(value)["Service-Selection"] for key, value in profile
            if key == "APN-Configuration"]
    assert apns == ["default", "internet"]
    assert dict(top)["MSISDN"] == "0x24288880000003"
    assert vdu.db.tables["vhss.msisdn_imsi"][24288880000003]["imsi"] == "242881234500003"
    onlyloadkey = [(a, kw) for a, kw in vdu.runner.calls if a[-1] == "--onlyloadkey"]
    prefix = vdu.path("/usr/local/etc/oai")
    assert [a for a, _ in onlyloadkey] == [[vdu.binary, "-j", prefix + "/hss_rel14.json",
                                            "--onlyloadkey"]]
    assert onlyloadkey[0][1]["log_path"].startswith(vdu.path("/var/log/oai"))
    assert not any(K in " ".join(a) or OP in " ".join(a) for a in vdu.runner.argvs)
    record = vdu.path("/var/lib/mecpool/oai-hss-subscribers.json")
    assert stat.S_IMODE(os.stat(record).st_mode) == 0o600
    assert K not in open(record).read() and OP not in open(record).read()


def test_provision_twice_changes_nothing_and_new_range_replaces(vdu):
    configure(vdu)
    vdu.workload.provision(hss.parse_provision(PROVISION))
    files_before = len(vdu.db.files)
    vdu.runner.calls.clear()
    again = vdu.workload.provision(hss.parse_provision(PROVISION))
    assert again["changed"] == "false"
    assert len(vdu.db.files) == files_before
    assert not any(a[-1] == "--onlyloadkey" for a in vdu.runner.argvs)
    assert not any(a[:2] == ["systemctl", "restart"] for a in vdu.runner.argvs)
    other = vdu.workload.provision(hss.parse_provision(dict(PROVISION, users=3,
                                                            **{"imsi-first": "242880000000010"})))
    assert other["changed"] == "true"
    assert sorted(vdu.db.tables["vhss.users_imsi"]) == [
        "242880000000010", "242880000000011", "242880000000012"]
    changed_k = vdu.workload.provision(hss.parse_provision(dict(
        PROVISION, users=3, k="0" * 32, **{"imsi-first": "242880000000010"})))
    assert changed_k["changed"] == "true"


def test_provision_with_new_op_updates_json_and_restarts(vdu):
    configure(vdu)
    vdu.runner.calls.clear()
    vdu.workload.provision(hss.parse_provision(dict(PROVISION, op="A" * 32)))
    config = json.load(open(vdu.path("/usr/local/etc/oai/hss_rel14.json")))
    assert config["hss"]["optkey"] == "A" * 32
    assert ["systemctl", "restart", "hss.service"] in vdu.runner.argvs


def test_provision_onlyloadkey_failure_hides_output(vdu):
    configure(vdu)
    vdu.runner.on([vdu.binary], returncode=1, stderr="KEY: {} OPC: {}".format(K, OP))
    with pytest.raises(MecpoolError) as info:
        vdu.workload.provision(hss.parse_provision(PROVISION))
    text = str(info.value)
    assert "onlyloadkey" in text and "exit code 1" in text and "/var/log/oai" in text
    assert K not in text and OP not in text


def test_provision_detects_missing_rows(vdu):
    configure(vdu)
    original = vdu.db.cqlsh

    def lossy(argv, kwargs):
        code, out, err = original(argv, kwargs)
        if argv[1] == "--file":
            vdu.db.tables["vhss.users_imsi"].pop("242881234500000", None)
        return code, out, err
    vdu.runner.on(["cqlsh"], handler=lossy)
    with pytest.raises(MecpoolError) as info:
        vdu.workload.provision(hss.parse_provision(PROVISION))
    assert "provisioned 5 subscribers, the database holds 4" in str(info.value)


# ---- day 2 -----------------------------------------------------------------------------
def test_status_report_and_unit_status(vdu):
    assert vdu.workload.status() == ("blocked", "run the 'configure' action")
    with pytest.raises(MecpoolError):
        vdu.workload.report()
    configure(vdu)
    vdu.workload.provision(hss.parse_provision(PROVISION))
    vdu.connections = [(S6A, 3868, MME, 41394)]
    vdu.write_proc()
    report = vdu.workload.report()
    assert report == {"service": "active", "enabled": "true", "cassandra": "active",
                      "cassandra-cql-listening": "true", "diameter-listening": "true",
                      "diameter-address": S6A + ":3868", "s6a-peers": MME + ":41394",
                      "realm": "simula.nornet", "commit": vdu.commit, "subscribers": "5",
                      "rest-ports-filter": "ok"}
    kind, message = vdu.workload.status()
    assert kind == "active" and "5 subscribers" in message and "1 S6a peer" in message
    # someone flushes the ruleset: the unit says the REST ports are open
    vdu.nft.forget()
    kind, message = vdu.workload.status()
    assert kind == "blocked"
    assert message == ("HSS REST ports 9080-9082 not filtered: nftables table inet "
                       "mecpool_hss is not loaded")
    assert vdu.workload.report()["rest-ports-filter"] == "is not loaded"
    # configure puts it back
    configure(vdu)
    assert vdu.workload.status()[0] == "active"
    vdu.active.discard("hss.service")
    assert vdu.workload.status() == ("blocked", "hss.service is not active")
    vdu.active.discard("cassandra")
    assert vdu.workload.status() == ("blocked", "cassandra is not active")


def test_restart_waits_for_listener(vdu):
    configure(vdu)
    vdu.runner.calls.clear()
    report = vdu.workload.restart()
    assert ["systemctl", "restart", "hss.service"] in vdu.runner.argvs
    assert report["diameter-listening"] == "true" and "subscribers" not in report
    vdu.failing.add("hss.service")
    with pytest.raises(MecpoolError) as info:
        vdu.workload.restart()
    assert "hss.service" in str(info.value)


def test_start_brings_enabled_services_up(vdu):
    vdu.workload.start()
    assert vdu.runner.argvs == []
    configure(vdu)
    vdu.active.clear()
    vdu.runner.calls.clear()
    vdu.workload.start()
    argvs = vdu.runner.argvs
    assert argvs.index(["systemctl", "restart", "mecpool-hss-nftables.service"]) < \
        argvs.index(["systemctl", "restart", "cassandra"]) < \
        argvs.index(["systemctl", "restart", "hss.service"])


# ---- the charm on this VDU: the REST-port filter through events and actions -----------
@pytest.fixture
def harness(vdu, monkeypatch):
    module = charmtest.load_charm_module("oai-hss")
    monkeypatch.setattr(module, "HssWorkload", lambda: vdu.workload)
    harness = charmtest.make_harness("oai-hss", module.OaiHssCharm)
    harness.begin()
    yield harness
    harness.cleanup()


def test_charm_configure_action_reports_the_rest_filter(vdu, harness):
    output = harness.run_action("configure", dict(PARAMS))
    assert output.results["rest-ports"] == "TCP 9080-9082 open on lo, ens4 only"
    assert harness.run_action("status").results["rest-ports-filter"] == "ok"
    assert harness.model.unit.status.name == "active"


def test_charm_update_status_blocks_when_the_filter_is_gone(vdu, harness):
    from ops.model import BlockedStatus
    harness.run_action("configure", dict(PARAMS))
    vdu.nft.forget()
    harness.charm.on.update_status.emit()
    assert harness.model.unit.status == BlockedStatus(
        "HSS REST ports 9080-9082 not filtered: nftables table inet mecpool_hss is not loaded")


def test_charm_start_after_reboot_runs_the_filter_unit_first(vdu, harness):
    harness.run_action("configure", dict(PARAMS))
    vdu.active.clear()   # a reboot: the units are enabled, nothing runs yet
    vdu.runner.calls.clear()
    harness.charm.on.start.emit()
    restarts = [a[2] for a in vdu.runner.argvs if a[:2] == ["systemctl", "restart"]]
    assert restarts == ["mecpool-hss-nftables.service", "cassandra", "hss.service"]


# ---- the primitive's time budget (docs/epc.md) ------------------------------------
def test_configure_fails_when_its_budget_runs_out_and_runs_again(vdu):
    from charmhelpers_mecpool import budget
    schema_time = budget.PRIMITIVE_BUDGET - budget.LISTEN_TIMEOUT // 2   # a slow cqlsh
    quick = vdu.runner.rules[("cqlsh",)]

    slow = [schema_time]

    def slow_cqlsh(argv, kwargs):   # the first run (the schema) is slow, within its timeout
        assert kwargs["timeout"] <= budget.PRIMITIVE_BUDGET
        if slow:
            vdu.clock.sleep(min(slow.pop(), kwargs["timeout"]))
        return quick(argv, kwargs)
    vdu.runner.on(["cqlsh"], handler=slow_cqlsh)
    vdu.on_start["hss.service"] = []
    before = vdu.clock()
    with pytest.raises(budget.BudgetExhausted) as info:
        configure(vdu)
    message = str(info.value)
    assert message.startswith("configure: its time budget of {} s".format(budget.PRIMITIVE_BUDGET))
    assert "while waiting for HSS Diameter listener {}:3868".format(S6A) in message
    assert "Cassandra CQL {}:9042 0 s".format(S6A) in message
    assert message.endswith("running 'configure' again continues where it stopped")
    assert vdu.clock() - before <= budget.PRIMITIVE_BUDGET + 2   # one poll interval at most
    # run again (the schema is there now, cqlsh is quick): it finishes the job
    vdu.runner.on(["cqlsh"], handler=quick)
    vdu.listeners.append(("tcp", S6A, 3868))   # the HSS came up late
    vdu.write_proc()
    assert configure(vdu)["diameter"] == S6A + ":3868"


def test_restart_reapplies_the_rest_filter_before_the_hss(vdu):
    configure(vdu)
    vdu.nft.forget()            # the ruleset was flushed
    vdu.runner.calls.clear()
    report = vdu.workload.restart()
    argvs = vdu.runner.argvs
    load = ["/usr/sbin/nft", "-f", "/etc/mecpool/nftables/mecpool_hss.nft"]
    assert argvs.index(load) < argvs.index(["systemctl", "restart", "hss.service"])
    assert report["rest-ports-filter"] == "ok"
    assert vdu.workload.status()[0] == "active"


def test_restart_without_a_recorded_s6a_interface_asks_for_configure(vdu):
    configure(vdu)
    settings = vdu.workload.settings.load()
    del settings["s6a-interface"]
    vdu.workload.settings.save(settings)
    vdu.runner.calls.clear()
    with pytest.raises(MecpoolError, match="run configure once"):
        vdu.workload.restart()
    assert ["systemctl", "restart", "hss.service"] not in vdu.runner.argvs
