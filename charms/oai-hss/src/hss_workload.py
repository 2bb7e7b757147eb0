"""OAI HSS (Release 14) on its VDU: build, Cassandra, configuration, subscribers.

No ops import: charm.py calls these methods; tests replace the command runner
(and the root directory) at the seams.  Secrets (OP, K) are only written to
0600 files and never returned or put in an error message.
"""

import hashlib
import hmac
import json
import os
import time

from charmhelpers_mecpool import budget as budgets
from charmhelpers_mecpool import epc, files, net, process
from charmhelpers_mecpool import validate as v
from charmhelpers_mecpool.certs import DiameterCerts
from charmhelpers_mecpool.errors import CommandError, MecpoolError, NotFound, ValidationError
from charmhelpers_mecpool.hosts import ensure_hosts
from charmhelpers_mecpool.oaibuild import BuildStep
from charmhelpers_mecpool.oaidaemon import OaiDaemon
from charmhelpers_mecpool.portfilter import PortFilter, port_rule, unit_name
from charmhelpers_mecpool.sourcecheck import ConfigFile, SupportedLayout
from charmhelpers_mecpool.status import short

import subscribers as subs
from cassandra_db import CQL_PORT, Cassandra, CassandraSource
from cassandra_db import parse_source as parse_cassandra_source
from cassandra_db import SERVICE as CASSANDRA_SERVICE

NAME = "oai-hss"
SERVICE = "hss.service"
DIAMETER_PORT = 3868
# oai_hss binds its REST/OSS listeners (9080-9082, hss_rel14.json's restport and
# ossport among them) with Pistache::Ipv4::any() (src/hss_rel14/src/fdhss.cpp):
# no option restricts them, so nftables closes them on every interface but lo
# and the S6a one (docs/epc.md).
REST_FIRST_PORT, REST_LAST_PORT = 9080, 9082
REST_FILTER_TABLE = "mecpool_hss"
REST_FILTER_UNIT = unit_name(REST_FILTER_TABLE)
SOURCE_DIR = epc.SRC_ROOT + "/openair-hss"
BINARY = epc.BIN_DIR + "/oai_hss"
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "templates")
# Not OAI's build_cassandra: at the pinned refs it adds ppa:webupd8team/java and
# Apache's retired "21x" repository and stops when apt-get update fails; `build`
# installs Java 8 and Cassandra itself first (cassandra_db.CassandraSource).
BUILD_STEPS = [
    BuildStep(["./build_hss_rel14", "--check-installed-software", "--force"], "scripts"),
    BuildStep(["./build_hss_rel14", "--clean"], "scripts"),
]
# One key layout of hss_rel14.json/.conf from 2020.w36 to v1.1.0 (docs/epc.md).
LAYOUTS = (SupportedLayout("hss-rel14-2020", ("dreibh/cassandra-build-fix-22oct2020 (932f6f8d)",
                                              "2020.w36", "v1.1.0"),
                           (ConfigFile("hss_rel14.json.j2", "etc/hss_rel14.json", "json"),
                            ConfigFile("hss_rel14.conf.j2", "etc/hss_rel14.conf", "libconfig")),
                           {}),)
# OAI's own example values (etc/hss_rel14.json, CI), for the layout check of `build`.
SAMPLE_PARAMS = {"git-repository": "https://github.com/OPENAIRINTERFACE/openair-hss.git",
                 "git-commit": "v1.1.0", "realm": "openair4G.eur", "s6a-address": "172.16.6.129",
                 "mme-s6a-address": "172.16.6.2", "op": "11111111111111111111111111111111",
                 "apn": "oai.ipv4", "apn2": "oai2.ipv4"}
CONFIGURE_PARAMS = ("git-repository", "git-commit", "realm", "s6a-address", "mme-s6a-address",
                    "op", "apn", "apn2")
PROVISION_PARAMS = ("imsi-first", "msisdn-first", "users", "k", "op")


def parse_build(params):
    """The `build` action's parameters: the HSS sources and the Cassandra source."""
    v.required(params, ("git-repository", "git-commit", "cassandra-apt", "cassandra-key-url"))
    return dict(v.build_source(params), cassandra=parse_cassandra_source(params))


def parse_configure(params):
    """Validated `configure` parameters (raises ValidationError naming the parameter)."""
    v.required(params, CONFIGURE_PARAMS)
    config = dict(v.git_source(params), **{
        "realm": v.realm("realm", params["realm"]),
        "s6a-address": v.ipv4("s6a-address", params["s6a-address"]),
        "mme-s6a-address": v.ipv4("mme-s6a-address", params["mme-s6a-address"]),
        "op": v.hex_key("op", params["op"]),
        "apn": v.apn("apn", params["apn"]),
        "apn2": v.apn("apn2", params["apn2"]),
    })
    if config["s6a-address"] == config["mme-s6a-address"]:
        raise ValidationError("mme-s6a-address", "must differ from s6a-address")
    if config["apn"] == config["apn2"]:
        raise ValidationError("apn2", "must differ from apn")
    return config


def parse_provision(params):
    v.required(params, PROVISION_PARAMS)
    users = v.integer("users", params["users"], 1, subs.MAX_USERS)
    subscribers = subs.SubscriberRange(v.imsi("imsi-first", params["imsi-first"]),
                                       v.msisdn("msisdn-first", params["msisdn-first"]), users)
    if not subscribers.fits():
        raise ValidationError("users", "{} users from imsi-first/msisdn-first overflow the "
                                       "number of digits".format(users))
    return {"subscribers": subscribers, "k": v.hex_key("k", params["k"]),
            "op": v.hex_key("op", params["op"])}


class HssWorkload(OaiDaemon):
    # the module's constants, for OaiDaemon
    NAME, SERVICE, SOURCE_DIR, BINARY, TEMPLATES = NAME, SERVICE, SOURCE_DIR, BINARY, TEMPLATES
    BUILD_STEPS, LAYOUTS = BUILD_STEPS, LAYOUTS
    PACKAGES = epc.BASE_PACKAGES + ["nftables"]
    # The REST ports' filter first: `start` after a reboot finds them closed.
    START_SERVICES = (REST_FILTER_UNIT, CASSANDRA_SERVICE, SERVICE)
    _CASSANDRA = ("Cassandra CQL", budgets.CASSANDRA_TIMEOUT)
    _DIAMETER = ("HSS Diameter listener", budgets.LISTEN_TIMEOUT)
    WAITS = dict(OaiDaemon.WAITS, **{
        "configure": (_CASSANDRA, _DIAMETER),
        # the Diameter wait only when hss_rel14.json changed (OP)
        "provision-subscribers": (_CASSANDRA, _DIAMETER),
        "restart": (_CASSANDRA, _DIAMETER),
    })

    def __init__(self, run=process.run, root="/", mac_lookup=None, sleep=time.sleep,
                 clock=time.monotonic, cassandra_timeout=budgets.CASSANDRA_TIMEOUT,
                 listen_timeout=budgets.LISTEN_TIMEOUT, cert_bits=2048, fetch=None,
                 **build):
        super(HssWorkload, self).__init__(run, root, mac_lookup, sleep, clock, listen_timeout,
                                          **build)
        self.cassandra_timeout = cassandra_timeout
        self.fd_dir = self.prefix + "/freeDiameter"
        self.json_path = self.prefix + "/hss_rel14.json"
        self.conf_path = self.prefix + "/hss_rel14.conf"
        self.fd_conf = self.fd_dir + "/hss_rel14_fd.conf"
        self.acl_path = self.fd_dir + "/acl.conf"
        self.cassandra = Cassandra(run, self.systemd, root=root, sleep=sleep, clock=clock)
        self.cassandra_source = CassandraSource(run, self.apt, self.state_dir,
                                                **({"fetch": fetch} if fetch else {}))
        self.certs = DiameterCerts(run=run, bits=cert_bits)
        self.provision_record = os.path.join(self.state_dir, NAME + "-subscribers.json")
        self.rest_filter = PortFilter(NAME, self.systemd, self.apt, run=run, root=root,
                                      before=[SERVICE])

    @staticmethod
    def rest_rule(s6a_interface):
        """TCP 9080-9082 open on lo and the S6a interface only."""
        return port_rule(REST_FILTER_TABLE, REST_FIRST_PORT, REST_LAST_PORT,
                         ["lo", s6a_interface])

    def install_runtime(self, source, budget):
        """OpenJDK 8 and Cassandra, before the HSS sources (OaiDaemon.build)."""
        self.cassandra_source.install(source["cassandra"], budget)

    # ---- configure ----------------------------------------------------------
    def context(self, config, op):
        realm = config["realm"]
        return {
            "realm": realm, "hss_fqdn": "hss." + realm, "mme_fqdn": "mme." + realm,
            "s6a_address": config["s6a-address"], "cassandra_address": config["s6a-address"],
            "fd_conf": self.fd_conf, "fd_dir": self.fd_dir, "op": op,
            "log_dir": self.log_dir, "oss_file": self.src_dir + "/etc/oss.json",
            "extension_dir": epc.FD_EXTENSION_DIR, "dictionaries": epc.FD_DICTIONARIES,
        }

    def sample_context(self):
        config = parse_configure(SAMPLE_PARAMS)
        return self.context(config, config["op"])

    def unit(self, realm):
        # oai_hss adds one Diameter peer, named by MME_IDENTITY, else "mme.localdomain"
        # (src/hss_rel14/src/fdhss.cpp), which it then keeps trying to reach.
        return epc.oai_unit(NAME, "OpenAirInterface HSS (Release 14)",
                            [BINARY, "-j", self.json_path], self.log_dir + "/hss.log",
                            self.state_dir, after=["cassandra.service"],
                            environment=[("MME_IDENTITY", "mme." + realm)])

    def render_json(self, config, op):
        return self.renderer.render_to("hss_rel14.json.j2", self.json_path,
                                       self.context(config, op), secret=True)

    def configure(self, config):
        """Bring the HSS up as ``config`` (from parse_configure) says; results dict."""
        budget = self.budget("configure")
        self.install(budget)
        address = config["s6a-address"]
        interface = self.network.ensure_address(address, mac_lookup=self.mac_lookup)
        # Before anything listens: the REST ports never see the management network.
        # (nftables acts at once: a changed filter needs no HSS restart)
        rest_rule = self.rest_rule(interface)
        self.rest_filter.apply(rest_rule, budget)
        build, _ = self.prepare_source(config, self.context(config, config["op"]), budget)
        self.cassandra.ensure_java8()
        cassandra_changed = self.cassandra.configure(address)
        self.cassandra.ensure_running(address, cassandra_changed, self.cassandra_timeout, budget)
        log = os.path.join(self.log_dir, "cqlsh.log")
        schema = self.src_dir + "/src/hss_rel14/db/oai_db.cql"
        if not os.path.isfile(schema):
            raise NotFound("the HSS sources have no {}".format(schema))
        # CREATE ... IF NOT EXISTS: idempotent
        self.cassandra.run_file(address, schema, log,
                                timeout=budget.allot("cqlsh (HSS schema)", 1800))
        previous = self.settings.load() or {}
        if previous.get("realm") != config["realm"] or previous.get("s6a-address") != address:
            self._run_cql(address, subs.mme_identity_statements(config["realm"]), log, budget)
        changed = self.certs.ensure(self.fd_dir, "hss", "hss." + config["realm"])
        context = self.context(config, config["op"])
        changed |= self.render_json(config, config["op"])
        changed |= self.renderer.render_to("hss_rel14.conf.j2", self.conf_path, context)
        changed |= self.renderer.render_to("hss_rel14_fd.conf.j2", self.fd_conf, context)
        changed |= self.renderer.render_to("acl.conf.j2", self.acl_path, context)
        ensure_hosts([(address, ["hss." + config["realm"], "hss"]),
                      (config["mme-s6a-address"], ["mme." + config["realm"], "mme"])],
                     NAME, path=self.hosts_path)
        changed |= self.systemd.install_unit(SERVICE, self.unit(config["realm"]))
        saved = dict((k, val) for k, val in config.items() if k != "op")
        saved["commit"] = build["commit"]
        saved["s6a-interface"] = interface
        changed |= self.settings.save(saved)
        restarted = self.systemd.ensure_running(SERVICE, changed or cassandra_changed)
        self._wait_listening(saved, budget)
        return dict(build, **{"interface": interface, "restarted": epc.yes_no(restarted),
                              "diameter": "{}:{}".format(address, DIAMETER_PORT),
                              "rest-ports": self._rest_ports_text(rest_rule)})

    @staticmethod
    def _rest_ports_text(rule):
        return "TCP {}-{} open on {} only".format(rule.first_port, rule.last_port,
                                                  ", ".join(rule.interfaces))

    def rest_filter_problem(self, settings):
        """None when TCP 9080-9082 are closed beyond lo and S6a, else what is wrong."""
        interface = settings.get("s6a-interface")
        if not interface:
            return "not installed yet (run configure)"
        return self.rest_filter.problem(self.rest_rule(interface))

    def _wait_listening(self, settings, budget):
        address = settings["s6a-address"]
        budget.wait_for(lambda: net.listening("tcp", DIAMETER_PORT, address, self.proc_root),
                        "HSS Diameter listener {}:{}".format(address, DIAMETER_PORT),
                        self.listen_timeout, interval=2)

    def _run_cql(self, address, statements, log, budget, secrets=()):
        """Run statements from a 0600 file that is deleted afterwards (cqlsh is cut
        off where the primitive's budget ends)."""
        files.ensure_dir(self.state_dir, 0o700)
        path = os.path.join(self.state_dir, NAME + "-provision.cql")
        files.write_file(path, "\n".join(statements) + "\n", secret=True)
        try:
            timeout = budget.allot("cqlsh ({} statements)".format(len(statements)),
                                   600 + len(statements) // 20)
            self.cassandra.run_file(address, path, log, secrets=secrets, timeout=timeout)
        finally:
            files.remove(path)

    # ---- subscribers ----------------------------------------------------------
    def _fingerprint(self, salt, settings, request):
        rng = request["subscribers"]
        text = "|".join([request["k"], request["op"], rng.imsi_first, rng.msisdn_first,
                         str(rng.users), settings["realm"], settings["apn"], settings["apn2"]])
        return hmac.new(salt.encode(), text.encode(), hashlib.sha256).hexdigest()

    def provision(self, request):
        """(Re)provision exactly the requested subscriber range; results dict."""
        settings = self._configured()
        address = settings["s6a-address"]
        rng = request["subscribers"]
        secrets = [request["k"], request["op"]]
        budget = self.budget("provision-subscribers")
        self.cassandra.wait_ready(address, self.cassandra_timeout, budget)
        record = json.loads(files.read_text(self.provision_record, "{}") or "{}")
        salt = record.get("salt") or os.urandom(16).hex()
        fingerprint = self._fingerprint(salt, settings, request)
        json_changed = self.render_json(settings, request["op"])
        results = {"imsi-first": rng.imsi_first, "imsi-last": rng.imsi_last,
                   "msisdn-first": rng.msisdn_first, "msisdn-last": rng.msisdn_last,
                   "users": str(rng.users)}
        if (not json_changed and record.get("fingerprint") == fingerprint
                and self.cassandra.count(address, "vhss.users_imsi") == rng.users):
            results["changed"] = "false"
            return results
        log = os.path.join(self.log_dir, "provisioning.log")
        files.ensure_dir(self.log_dir, 0o700)
        self._run_cql(address, subs.subscriber_statements(
            rng, request["k"], settings["realm"], settings["apn"], settings["apn2"]),
            log, budget, secrets=secrets)
        try:
            self.run([self.binary, "-j", self.json_path, "--onlyloadkey"],
                     timeout=budget.allot("oai_hss --onlyloadkey", 1800),
                     log_path=log, secrets=secrets)
        except CommandError as error:  # its output holds keys: point at the 0700 log only
            raise MecpoolError("computing OPc (oai_hss --onlyloadkey) failed ({}); see {}".format(
                error.reason or "exit code {}".format(error.returncode), log))
        count = self.cassandra.count(address, "vhss.users_imsi")
        if count != rng.users:
            raise MecpoolError("provisioned {} subscribers, the database holds {}".format(
                rng.users, count))
        files.write_file(self.provision_record, json.dumps(
            {"salt": salt, "fingerprint": fingerprint, "imsi-first": rng.imsi_first,
             "imsi-last": rng.imsi_last, "users": rng.users}, sort_keys=True) + "\n",
            secret=True)
        if json_changed and self.systemd.is_active(SERVICE):
            self.systemd.restart(SERVICE)
            self._wait_listening(settings, budget)
        results["changed"] = "true"
        return results

    # ---- day 2 ------------------------------------------------------------------
    def restart(self):
        """Reapply the REST ports' filter, bring Cassandra up, restart the HSS."""
        settings = self._configured()
        budget = self.budget("restart")
        interface = settings.get("s6a-interface")
        if not interface:
            raise MecpoolError("the HSS was configured before the REST port filter existed: "
                               "run configure once so that restart can reapply it")
        # Before the HSS (re)opens its REST ports: a flushed ruleset is restored first.
        self.rest_filter.apply(self.rest_rule(interface), budget)
        if not self.systemd.is_active(CASSANDRA_SERVICE):
            self.systemd.restart(CASSANDRA_SERVICE)
        self.cassandra.wait_ready(settings["s6a-address"], self.cassandra_timeout, budget)
        self._start(settings, budget)
        return self.report(count_subscribers=False)

    def report(self, count_subscribers=True):
        """The `status` action's results (strings; no secrets)."""
        settings = self._configured()
        address = settings["s6a-address"]
        listening = net.listening("tcp", DIAMETER_PORT, address, self.proc_root)
        peers = net.tcp_established_from(DIAMETER_PORT, self.proc_root)
        result = dict(self.service_state(), **{
            "cassandra": "active" if self.systemd.is_active(CASSANDRA_SERVICE) else "inactive",
            "cassandra-cql-listening": epc.yes_no(net.listening("tcp", CQL_PORT, address,
                                                                self.proc_root)),
            "diameter-listening": epc.yes_no(listening),
            "diameter-address": "{}:{}".format(address, DIAMETER_PORT),
            "s6a-peers": ",".join("{}:{}".format(ip, port) for ip, port in peers) or "none",
            "realm": settings["realm"],
            "commit": settings.get("commit", ""),
            "rest-ports-filter": self.rest_filter_problem(settings) or "ok",
        })
        if count_subscribers:
            try:
                result["subscribers"] = str(self.cassandra.count(address, "vhss.users_imsi"))
            except MecpoolError as error:
                result["subscribers"] = short("unknown ({})".format(error), 80)
        return result

    def service_status(self):
        """(kind, message) for the unit status."""
        settings = self.settings.load()
        if not settings:
            return "blocked", "run the 'configure' action"
        address = settings["s6a-address"]
        if not self.systemd.is_active(CASSANDRA_SERVICE):
            return "blocked", "cassandra is not active"
        if not self.systemd.is_active(SERVICE):
            return "blocked", "hss.service is not active"
        problem = self.rest_filter_problem(settings)
        if problem is not None:
            return "blocked", short("HSS REST ports {}-{} not filtered: nftables table inet {} "
                                    "{}".format(REST_FIRST_PORT, REST_LAST_PORT,
                                                REST_FILTER_TABLE, problem))
        if not net.listening("tcp", DIAMETER_PORT, address, self.proc_root):
            return "waiting", "HSS not listening on {}:{} yet".format(address, DIAMETER_PORT)
        record = json.loads(files.read_text(self.provision_record, "{}") or "{}")
        peers = len(net.tcp_established_from(DIAMETER_PORT, self.proc_root))
        return "active", short("HSS ready on {}:{}; {} subscribers; {} S6a peer(s)".format(
            address, DIAMETER_PORT, record.get("users", 0), peers))
