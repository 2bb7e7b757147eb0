"""The HSS's `build` installs Java 8 and Cassandra itself, from the source the site
names: served by a real HTTP server on this host (or by none), on a fake VDU."""

import http.server
import os
import socket
import threading

import pytest
import yaml

import charmtest
import epc_fakes
from charmhelpers_mecpool.budget import BudgetExhausted
from charmhelpers_mecpool.errors import MecpoolError, ValidationError

hss = charmtest.load_charm_module("oai-hss", "hss_workload")
cassandra_db = charmtest.load_charm_module("oai-hss", "cassandra_db")

KEYS = ("This file contains the PGP keys of developers who have signed releases.\n"
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQINBF...\n-----END PGP PUBLIC KEY BLOCK-----\n")


class Repository(http.server.BaseHTTPRequestHandler):
    """A tiny apt repository: dists/41x/InRelease and the KEYS file."""
    files = {"/debian/dists/41x/InRelease": "Origin: Apache Cassandra\nSuite: 41x\n",
             "/KEYS": KEYS}
    requests = []

    def do_GET(self):  # noqa: N802 - http.server's name
        Repository.requests.append(self.path)
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def repository():
    Repository.requests = []
    server = http.server.HTTPServer(("127.0.0.1", 0), Repository)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:{}".format(server.server_address[1])
    server.shutdown()
    server.server_close()


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def vdu(tmp_path):
    host = epc_fakes.FakeHost(tmp_path, interfaces={"ens3": ["10.0.0.5/24"]})
    host.clock = epc_fakes.FakeClock()
    host.installed = set(["git", "ca-certificates", "openssl", "iproute2", "netplan.io",
                          "nftables"])

    def dpkg(argv, kwargs):
        names = [n for n in argv[4:] if n in host.installed]
        return 0, "".join("{} install ok installed\n".format(n) for n in names), ""

    def apt_install(argv, kwargs):
        host.installed.update(a for a in argv[4:] if not a.startswith("-"))
        return 0, "", ""
    host.runner.on(["dpkg-query"], handler=dpkg)
    host.runner.on(["apt-get", "install"], handler=apt_install)
    epc_fakes.attach_workload(host, hss, "HssWorkload", "hss")
    return host


def build_params(uri, key_url, suite="41x"):
    return {"git-repository": "https://github.com/simula/openairinterface-openair-hss.git",
            "git-commit": "932f6f8d952d474349f46b550939eab370557ff4",
            "cassandra-apt": "deb {} {} main".format(uri, suite),
            "cassandra-key-url": key_url}


def test_build_installs_java8_from_ubuntu_then_cassandra_from_the_site_source(vdu, repository):
    params = build_params(repository + "/debian", repository + "/KEYS")
    results = vdu.workload.build(hss.parse_build(params))
    assert results["build"] == "started"
    assert Repository.requests == ["/debian/dists/41x/InRelease", "/KEYS"]
    listing = open(vdu.path("/etc/apt/sources.list.d/mecpool-cassandra.list")).read()
    assert listing == "deb {}/debian 41x main\n".format(repository)
    key_path = vdu.path("/var/lib/mecpool/mecpool-cassandra.asc")
    assert open(key_path).read() == KEYS
    argvs = vdu.runner.argvs
    installs = [a for a in argvs if a[:2] == ["apt-get", "install"]]
    assert installs[-2:] == [
        ["apt-get", "install", "-y", "--no-install-recommends", "openjdk-8-jre-headless"],
        ["apt-get", "install", "-y", "--no-install-recommends", "cassandra"]]
    add_key = argvs.index(["apt-key", "add", key_path])
    # the source and its key before the apt-get update that reads them
    assert add_key < max(i for i, a in enumerate(argvs) if a == ["apt-get", "update"])
    # OAI's build without its Cassandra step
    started = [s.argv for s in hss.BUILD_STEPS]
    assert started == [["./build_hss_rel14", "--check-installed-software", "--force"],
                       ["./build_hss_rel14", "--clean"]]
    # build again: installed from this source, so no request and no apt
    Repository.requests = []
    calls = len(vdu.runner.calls)
    vdu.workload.build(hss.parse_build(params))
    assert Repository.requests == []
    assert not [a for a, _ in vdu.runner.calls[calls:] if a[0] in ("apt-get", "apt-key")]


def test_a_source_that_does_not_answer_fails_build_naming_the_url(vdu):
    uri = "http://127.0.0.1:{}/debian".format(closed_port())
    with pytest.raises(MecpoolError) as info:
        vdu.workload.build(hss.parse_build(build_params(uri, "https://example.invalid/KEYS")))
    text = str(info.value)
    assert "Cassandra source does not answer" in text
    assert uri + "/dists/41x/InRelease" in text and "epc.cassandra" in text
    # nothing written, nothing installed, nothing built
    assert not os.path.exists(vdu.path("/etc/apt/sources.list.d/mecpool-cassandra.list"))
    assert "cassandra" not in vdu.installed and vdu.builds.starts == []


def test_a_missing_key_file_fails_build_naming_the_key_url(vdu, repository):
    params = build_params(repository + "/debian", repository + "/NO-KEYS")
    with pytest.raises(MecpoolError) as info:
        vdu.workload.build(hss.parse_build(params))
    assert repository + "/NO-KEYS" in str(info.value) and "404" in str(info.value)
    assert not os.path.exists(vdu.path("/etc/apt/sources.list.d/mecpool-cassandra.list"))


def test_a_silent_source_is_cut_off_within_the_primitive_budget(vdu, monkeypatch):
    # A server that accepts the connection and never answers: the request gets
    # what is left of the budget (at most FETCH_TIMEOUT), here one real second.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    uri = "http://127.0.0.1:{}/debian".format(listener.getsockname()[1])
    vdu.clock.now = 0
    budget = vdu.workload.budget("build")
    vdu.clock.now = budget.total - 1   # one second left
    try:
        with pytest.raises(MecpoolError) as info:
            vdu.workload.cassandra_source.install(
                hss.parse_build(build_params(uri, uri + "/KEYS"))["cassandra"], budget)
    finally:
        listener.close()
    assert uri + "/dists/41x/InRelease" in str(info.value) and "timed out" in str(info.value)
    vdu.clock.now = budget.total + 1
    with pytest.raises(BudgetExhausted) as info:
        vdu.workload.cassandra_source.install(
            hss.parse_build(build_params(uri, uri + "/KEYS"))["cassandra"], budget)
    assert "the repository's Release file " + uri in str(info.value)


@pytest.mark.parametrize("param,value", [
    ("cassandra-apt", "deb http://www.apache.org/dist/cassandra/debian"),
    ("cassandra-apt", "rpm https://debian.cassandra.apache.org 41x main"),
    ("cassandra-apt", "deb ftp://example.org 41x main"),
    ("cassandra-apt", "deb https://example.org 41x main;reboot"),
    ("cassandra-key-url", "file:///etc/passwd"),
    ("cassandra-key-url", ""),
])
def test_build_rejects_a_bad_cassandra_source_naming_the_parameter(vdu, param, value):
    params = dict(build_params("https://debian.cassandra.apache.org", "https://x.org/KEYS"),
                  **{param: value})
    with pytest.raises(ValidationError) as info:
        hss.parse_build(params)
    assert info.value.param == param


def test_configure_sets_the_data_centre_and_wipes_the_system_keyspace_once(tmp_path):
    host = epc_fakes.FakeHost(tmp_path)
    path = "/etc/cassandra/cassandra.yaml"
    host.make_file(path, yaml.safe_dump({
        "cluster_name": "HSS Cluster", "listen_address": "172.16.6.129",
        "rpc_address": "172.16.6.129", "endpoint_snitch": "GossipingPropertyFileSnitch",
        "seed_provider": [{"class_name": "org.apache.cassandra.locator.SimpleSeedProvider",
                           "parameters": [{"seeds": "172.16.6.129"}]}]}))
    host.make_file("/etc/cassandra/cassandra-rackdc.properties", "dc=dc1\nrack=rack1\n")
    host.make_file("/var/lib/cassandra/data/system/local/x.db", "old")
    cassandra = cassandra_db.Cassandra(host.runner, None, root=host.root)

    class Units(object):
        stopped = []

        def stop(self, unit):
            self.stopped.append(unit)
    cassandra.systemd = Units()
    # the cluster name is right already; only the data centre is not
    assert cassandra.configure("172.16.6.129") is True
    assert open(host.path("/etc/cassandra/cassandra-rackdc.properties")).read().startswith(
        "dc=DC1\nrack=rack1\n")
    assert not os.path.exists(host.path("/var/lib/cassandra/data/system"))
    assert cassandra.systemd.stopped == ["cassandra"]
    assert cassandra.configure("172.16.6.129") is False
