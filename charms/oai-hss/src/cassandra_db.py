"""Cassandra for the OAI HSS: installed from the site's source, bound to the S6a
address, Java 8, cqlsh access.

OAI's build_cassandra (the pinned HSS refs) adds ppa:webupd8team/java and
Apache's retired "21x" Debian repository, and stops when apt-get update fails;
so the charm installs OpenJDK 8 from the VDU's Ubuntu archive and Cassandra
from the apt source the site names (``CassandraSource``; docs/epc.md says which
versions OAI's cpp-driver and CQL work with).  ``Cassandra`` edits
/etc/cassandra/cassandra.yaml (parsed and rewritten, no yq) and
cassandra-rackdc.properties (the data centre oai_db.cql replicates to), wipes the
system keyspace when the cluster name or the data centre changes (Cassandra
refuses to start otherwise), and runs CQL through cqlsh.
"""

import os
import re
import shutil
import socket

import yaml

from charmhelpers_mecpool import files, net, process
from charmhelpers_mecpool import validate as v
from charmhelpers_mecpool.errors import CommandError, MecpoolError, NotFound

try:  # Python 3 on the VDU; the module stays importable for the tests either way
    from urllib.request import Request, urlopen
except ImportError:  # pragma: no cover
    Request = urlopen = None

CLUSTER_NAME = "HSS Cluster"
SNITCH = "GossipingPropertyFileSnitch"
CQL_PORT = 9042
JAVA8 = "/usr/lib/jvm/java-8-openjdk-amd64/jre/bin/java"
SERVICE = "cassandra"
WIPED_ON_RENAME = ("data/system", "commitlog", "saved_caches")
# oai_db.cql: CREATE KEYSPACE vhss ... {'class': 'NetworkTopologyStrategy', 'DC1': '1'}.
# The package's GossipingPropertyFileSnitch file says dc=dc1 (names are case
# sensitive): without DC1 the keyspace has no replica (2.1-3.11) or is refused (4.0+).
DATA_CENTRE = "DC1"
RACK = "rack1"
RACKDC = "dc={}\nrack={}\nprefer_local=true\n".format(DATA_CENTRE, RACK)
# The site's default (mecpool/site/model.py, EpcCassandra): Apache's Debian
# repository of the 4.1 series (Java 8 or 11, cqlsh on Python 3.6+).
JAVA_PACKAGE = "openjdk-8-jre-headless"
CASSANDRA_PACKAGE = "cassandra"
SOURCE_NAME = "mecpool-cassandra"
# One HTTP request for the key or the repository's Release file.
FETCH_TIMEOUT = 30


def desired_config(current, address):
    """cassandra.yaml content with the HSS settings applied to ``current``."""
    config = dict(current or {})
    config["cluster_name"] = CLUSTER_NAME
    config["listen_address"] = address
    config["rpc_address"] = address
    config["endpoint_snitch"] = SNITCH
    config["seed_provider"] = [{
        "class_name": "org.apache.cassandra.locator.SimpleSeedProvider",
        "parameters": [{"seeds": address}]}]
    # Never listen on every interface (the reference left rpc_address open).
    config.pop("listen_interface", None)
    config.pop("rpc_interface", None)
    return config


def parse_source(params):
    """The `build` action's Cassandra parameters: {"apt": (line, uri, suite), "key-url": url}."""
    v.required(params, ("cassandra-apt", "cassandra-key-url"))
    return {"apt": v.apt_line("cassandra-apt", params["cassandra-apt"]),
            "key-url": v.http_url("cassandra-key-url", params["cassandra-key-url"])}


def http_get(url, timeout):
    """The body of ``url`` (bytes); OSError (URLError, timeout) when it does not answer."""
    request = Request(url, headers={"User-Agent": "mecpool-oai-hss"})
    with urlopen(request, timeout=timeout) as response:
        return response.read(4 * 1024 * 1024)


class CassandraSource(object):
    """Java 8 from Ubuntu, Cassandra from the apt source the site names.

    The source is probed first (its Release file and key, each one HTTP request
    within the primitive's budget): a source that does not answer fails `build`
    naming the URL, before apt-get update would fail on it less clearly."""

    def __init__(self, run, apt, state_dir, fetch=http_get):
        self.run = run
        self.apt = apt
        self.fetch = fetch
        self.key_path = os.path.join(state_dir, SOURCE_NAME + ".asc")

    def _get(self, url, what, budget):
        timeout = budget.allot("{} {}".format(what, url), FETCH_TIMEOUT)
        try:
            return self.fetch(url, timeout)
        except (OSError, socket.timeout, ValueError) as error:
            raise MecpoolError(
                "the Cassandra source does not answer: {} {} failed ({}); set epc.cassandra in "
                "the site file to a source that is served, then run 'build' again".format(
                    what, url, error if hasattr(error, "code")   # HTTPError: "HTTP Error 404: ..."
                    else getattr(error, "reason", None) or error))

    def install(self, source, budget):
        """Install OpenJDK 8 and Cassandra (nothing when both are there from this
        source).  Returns the list of packages installed."""
        line, uri, suite = source["apt"]
        packages = [JAVA_PACKAGE, CASSANDRA_PACKAGE]
        current = files.read_text(os.path.join(self.apt.sources_dir, SOURCE_NAME + ".list"))
        if (current or "").strip() == line and self.apt.installed(packages) == packages:
            return []
        release = "{}/dists/{}/InRelease".format(uri, suite)
        self._get(release, "the repository's Release file", budget)
        key = self._get(source["key-url"], "its signing keys", budget)
        if b"BEGIN PGP PUBLIC KEY BLOCK" not in key:
            raise MecpoolError("the Cassandra source's key URL {} returned no PGP public key; "
                               "set epc.cassandra.key_url in the site file".format(
                                   source["key-url"]))
        files.ensure_dir(os.path.dirname(self.key_path), 0o700)
        if files.write_file(self.key_path, key.decode("ascii", "replace"), mode=0o600):
            # Bionic's apt-key imports every key of Apache's KEYS file (a .asc in
            # trusted.gpg.d would take the first block only).
            budget.run(self.run, ["apt-key", "add", self.key_path], "apt-key add", 120)
        self.apt.add_source(SOURCE_NAME, line)
        # Java 8 first, from Ubuntu: the cassandra package accepts it (or 11).
        installed = self.apt.install([JAVA_PACKAGE], budget)
        return installed + self.apt.install([CASSANDRA_PACKAGE], budget)


def parse_count(output):
    """The number in cqlsh's `SELECT COUNT(*)` table output."""
    lines = [line.strip() for line in output.splitlines()]
    for index, line in enumerate(lines):
        if re.match(r"^-+$", line) and index + 1 < len(lines) and lines[index + 1].isdigit():
            return int(lines[index + 1])
    raise MecpoolError("cannot read a count from cqlsh output")


class Cassandra(object):
    def __init__(self, run, systemd, root="/", sleep=None, clock=None):
        self.run = run
        self.systemd = systemd
        self.yaml_path = files.rooted(root, "/etc/cassandra/cassandra.yaml")
        self.rackdc_path = files.rooted(root, "/etc/cassandra/cassandra-rackdc.properties")
        self.proc_root = files.rooted(root, "/proc")
        self.data_dir = files.rooted(root, "/var/lib/cassandra")
        self.wait_kwargs = {}
        if sleep is not None:
            self.wait_kwargs["sleep"] = sleep
        if clock is not None:
            self.wait_kwargs["clock"] = clock

    def ensure_java8(self):
        """Make Java 8 the default `java` (Cassandra up to 3.11 does not run on 11)."""
        query = self.run(["update-alternatives", "--query", "java"], check=False)
        match = re.search(r"^Value:\s*(\S+)", query.stdout, re.MULTILINE)
        if match and match.group(1) == JAVA8:
            return False
        if JAVA8 not in query.stdout:
            raise NotFound("OpenJDK 8 is not installed (run 'build': it installs {} and "
                           "Cassandra)".format(JAVA_PACKAGE))
        self.run(["update-alternatives", "--set", "java", JAVA8])
        return True

    def configure(self, address):
        """Bind Cassandra to ``address``, data centre DC1.  Returns True if
        cassandra.yaml or cassandra-rackdc.properties changed."""
        text = files.read_text(self.yaml_path)
        if text is None:
            raise NotFound("{} is missing (is Cassandra installed? run 'build')".format(
                self.yaml_path))
        current = yaml.safe_load(text) or {}
        wanted = desired_config(current, address)
        rackdc = files.read_text(self.rackdc_path)
        if wanted == current and rackdc == RACKDC:
            return False
        # A node keeps its cluster name and data centre in the system keyspace.
        renamed = current.get("cluster_name") != CLUSTER_NAME or rackdc != RACKDC
        self.systemd.stop(SERVICE)
        files.write_file(self.rackdc_path, RACKDC, mode=0o644)
        if renamed:
            for relative in WIPED_ON_RENAME:
                path = os.path.join(self.data_dir, relative)
                if os.path.isdir(path):
                    shutil.rmtree(path)
        header = "# Written by the MEC-Pool oai-hss charm (from the package's file).\n"
        files.write_file(self.yaml_path, header + yaml.safe_dump(
            wanted, default_flow_style=False), mode=0o644)
        return True

    def ensure_running(self, address, changed, timeout, budget):
        self.systemd.ensure_running(SERVICE, changed)
        self.wait_ready(address, timeout, budget)

    def wait_ready(self, address, timeout, budget):
        """Wait until Cassandra's CQL port listens on ``address`` (it is local), for
        ``timeout`` s at most and within the primitive's ``budget``."""
        budget.wait_for(lambda: net.listening("tcp", CQL_PORT, address, self.proc_root),
                        "Cassandra CQL {}:{}".format(address, CQL_PORT), timeout, interval=3)

    def run_file(self, address, path, log_path, secrets=(), timeout=1800):
        """cqlsh --file; on failure the message points at the log (it may hold secrets)."""
        try:
            self.run(["cqlsh", "--file", path, address], timeout=timeout, log_path=log_path,
                     secrets=secrets)
        except CommandError as error:
            raise MecpoolError("cqlsh --file failed ({}); see {}".format(
                error.reason or "exit code {}".format(error.returncode), log_path))

    def count(self, address, table):
        result = self.run(["cqlsh", "-e", "SELECT COUNT(*) FROM {};".format(table), address],
                          timeout=300)
        return parse_count(result.stdout)
