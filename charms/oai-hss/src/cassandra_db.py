"""Cassandra 2.1 for the OAI HSS: bound to the S6a address, Java 8, cqlsh access.

OAI's build_cassandra installs Cassandra 2.1 and OpenJDK 8; this module edits
/etc/cassandra/cassandra.yaml (parsed and rewritten, no yq), wipes the system
keyspace when the cluster name changes (Cassandra refuses to start otherwise),
and runs CQL through cqlsh.
"""

import os
import re
import shutil

import yaml

from charmhelpers_mecpool import files, net, process
from charmhelpers_mecpool.errors import CommandError, MecpoolError, NotFound

CLUSTER_NAME = "HSS Cluster"
SNITCH = "GossipingPropertyFileSnitch"
CQL_PORT = 9042
JAVA8 = "/usr/lib/jvm/java-8-openjdk-amd64/jre/bin/java"
SERVICE = "cassandra"
WIPED_ON_RENAME = ("data/system", "commitlog", "saved_caches")


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
        self.proc_root = files.rooted(root, "/proc")
        self.data_dir = files.rooted(root, "/var/lib/cassandra")
        self.wait_kwargs = {}
        if sleep is not None:
            self.wait_kwargs["sleep"] = sleep
        if clock is not None:
            self.wait_kwargs["clock"] = clock

    def ensure_java8(self):
        """Make Java 8 the default `java` (Cassandra 2.1 does not run on 11)."""
        query = self.run(["update-alternatives", "--query", "java"], check=False)
        match = re.search(r"^Value:\s*(\S+)", query.stdout, re.MULTILINE)
        if match and match.group(1) == JAVA8:
            return False
        if JAVA8 not in query.stdout:
            raise NotFound("OpenJDK 8 is not installed (Cassandra 2.1 needs it)")
        self.run(["update-alternatives", "--set", "java", JAVA8])
        return True

    def configure(self, address):
        """Bind Cassandra to ``address``.  Returns True if cassandra.yaml changed."""
        text = files.read_text(self.yaml_path)
        if text is None:
            raise NotFound("{} is missing (is Cassandra installed?)".format(self.yaml_path))
        current = yaml.safe_load(text) or {}
        wanted = desired_config(current, address)
        if wanted == current:
            return False
        renamed = current.get("cluster_name") != CLUSTER_NAME
        self.systemd.stop(SERVICE)
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
