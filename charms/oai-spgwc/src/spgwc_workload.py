"""OAI SPGW-C on its VDU: build, spgw_c.conf (S11, SX, DNS, APNs, UE pools), start.

S5/S8-C between the SGW-C and PGW-C parts of the one process needs two
interfaces to read addresses from: port-less bridges with private addresses,
as in the reference VNF.
"""

import ipaddress
import os
import time

from charmhelpers_mecpool import budget as budgets
from charmhelpers_mecpool import epc, net, process
from charmhelpers_mecpool import validate as v
from charmhelpers_mecpool.errors import ValidationError
from charmhelpers_mecpool.hosts import ensure_hosts
from charmhelpers_mecpool.oaibuild import BuildStep
from charmhelpers_mecpool.oaipins import SpdlogPinned
from charmhelpers_mecpool.oaipins import parse_build  # noqa: F401 - the charm's build parser
from charmhelpers_mecpool.oaidaemon import OaiDaemon
from charmhelpers_mecpool.sourcecheck import ConfigFile, SupportedLayout
from charmhelpers_mecpool.status import short

NAME = "oai-spgwc"
SERVICE = "spgwc.service"
SOURCE_DIR = epc.SRC_ROOT + "/openair-spgwc"
BINARY = epc.BIN_DIR + "/spgwc"
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "templates")
BUILD_STEPS = [
    BuildStep(["./build_spgwc", "-I", "-f"], "build/scripts"),
    BuildStep(["./build_spgwc", "-c", "-V", "-b", "Debug", "-j"], "build/scripts"),
]
GTPV2C_PORT = 2123
PFCP_PORT = 8805
S5S8_BRIDGES = (("s5s8-sgw", "172.58.58.102/24"), ("s5s8-pgw", "172.58.58.101/24"))
# One key layout of spgw_c.conf from 2020.w36 to v1.1.0 (docs/epc.md).  UE_MTU is
# read by the code but is not in the template: left out, its default is 1500.
LAYOUTS = (SupportedLayout("spgwc-2020", ("2020.w36 (4b4c60ac)", "v1.1.0"),
                           (ConfigFile("spgw_c.conf.j2", "etc/spgw_c.conf", "libconfig"),), {}),)
# OAI's own example values (etc/spgw_c.conf, CI), for the layout check of `build`.
SAMPLE_PARAMS = {"git-repository": "https://github.com/OPENAIRINTERFACE/openair-spgwc.git",
                 "git-commit": "v1.1.0", "realm": "openair4G.eur", "dns1": "8.8.8.8",
                 "dns2": "8.8.4.4", "s11-address": "172.16.1.104/24",
                 "sx-address": "172.55.55.101/24", "ue-pool": "12.1.1.0/24",
                 "apn": "oai.ipv4", "apn2": "apn1"}
PARAMS = ("git-repository", "git-commit", "realm", "dns1", "dns2", "s11-address", "sx-address",
          "ue-pool", "apn", "apn2")


def ue_pools(network):
    """Two address ranges for the two APNs.  .1 of the pool is left out: it is the
    gateway address the SPGW-U puts on its `pdn` device."""
    first = network.network_address + 2
    last = network.broadcast_address - 1
    middle = first + (int(last) - int(first)) // 2
    return [(str(first), str(middle)), (str(middle + 1), str(last))]


def parse_configure(params):
    v.required(params, PARAMS)
    config = dict(v.git_source(params), **{
        "realm": v.realm("realm", params["realm"]),
        "dns1": v.ipv4("dns1", params["dns1"]),
        "dns2": v.ipv4("dns2", params["dns2"]),
        "s11-address": str(v.interface_cidr("s11-address", params["s11-address"])),
        "sx-address": str(v.interface_cidr("sx-address", params["sx-address"])),
        # At least 8 addresses: .0, .1 (gateway), broadcast and two non-empty ranges.
        "ue-pool": str(v.network("ue-pool", params["ue-pool"], 8, 29)),
        "apn": v.apn("apn", params["apn"]),
        "apn2": v.apn("apn2", params["apn2"]),
    })
    if config["apn"] == config["apn2"]:
        raise ValidationError("apn2", "must differ from apn")
    pool = ipaddress.IPv4Network(config["ue-pool"])
    for name in ("s11-address", "sx-address"):
        if ipaddress.IPv4Interface(config[name]).network.overlaps(pool):
            raise ValidationError("ue-pool", "overlaps the {} network".format(name))
    return config


class SpgwcWorkload(SpdlogPinned, OaiDaemon):
    # the module's constants, for OaiDaemon
    NAME, SERVICE, SOURCE_DIR, BINARY, TEMPLATES = NAME, SERVICE, SOURCE_DIR, BINARY, TEMPLATES
    BUILD_STEPS, LAYOUTS = BUILD_STEPS, LAYOUTS
    _LISTEN = (("SPGW-C sockets", budgets.LISTEN_TIMEOUT),)
    WAITS = dict(OaiDaemon.WAITS, configure=_LISTEN, restart=_LISTEN)

    def __init__(self, run=process.run, root="/", mac_lookup=None, sleep=time.sleep,
                 clock=time.monotonic, listen_timeout=budgets.LISTEN_TIMEOUT, **build):
        super(SpgwcWorkload, self).__init__(run, root, mac_lookup, sleep, clock, listen_timeout,
                                            **build)
        self.conf_path = self.prefix + "/spgw_c.conf"

    def unit(self):
        return epc.oai_unit(NAME, "OpenAirInterface SPGW-C",
                            [BINARY, "-c", self.conf_path, "-o"], self.log_dir + "/spgwc.log",
                            self.state_dir)

    def context(self, config, s11_interface, sx_interface):
        return {
            "s11_interface": s11_interface, "sx_interface": sx_interface,
            "sgw_s5s8_interface": S5S8_BRIDGES[0][0], "pgw_s5s8_interface": S5S8_BRIDGES[1][0],
            "pools": ue_pools(ipaddress.IPv4Network(config["ue-pool"])),
            "apns": [config["apn"], config["apn2"]],
            "dns1": config["dns1"], "dns2": config["dns2"],
        }

    def sample_context(self):
        return self.context(parse_configure(SAMPLE_PARAMS), "ens5", "ens4")

    def configure(self, config):
        budget = self.budget("configure")
        self.install(budget)
        s11 = self._interface(config["s11-address"])
        sx = self._interface(config["sx-address"])
        for name, cidr in S5S8_BRIDGES:
            self.network.ensure_bridge(name, [cidr])
        context = self.context(config, s11, sx)
        build, _ = self.prepare_source(config, context, budget)
        changed = self.renderer.render_to("spgw_c.conf.j2", self.conf_path, context)
        ensure_hosts([(config["s11-address"].split("/")[0], ["spgwc." + config["realm"]])],
                     NAME, path=self.hosts_path)
        changed |= self.systemd.install_unit(SERVICE, self.unit())
        saved = dict(config, commit=build["commit"])
        saved.update({"s11-interface": s11, "sx-interface": sx})
        self.settings.save(saved)
        restarted = self.systemd.ensure_running(SERVICE, changed)
        self._wait_listening(saved, budget)
        return dict(build, **{
                "s11-interface": s11, "sx-interface": sx, "restarted": epc.yes_no(restarted),
                "ue-pools": ",".join("{}-{}".format(*p) for p in ue_pools(
                    ipaddress.IPv4Network(config["ue-pool"])))})

    def _addresses(self, settings):
        return settings["s11-address"].split("/")[0], settings["sx-address"].split("/")[0]

    def _wait_listening(self, settings, budget):
        s11, sx = self._addresses(settings)

        def ready():
            return (net.listening("udp", GTPV2C_PORT, s11, self.proc_root)
                    and net.listening("udp", PFCP_PORT, sx, self.proc_root))
        budget.wait_for(ready, "SPGW-C sockets (GTPv2-C {}:{}, PFCP {}:{})".format(
            s11, GTPV2C_PORT, sx, PFCP_PORT), self.listen_timeout, interval=2)

    def restart(self):
        self._start(self._configured(), self.budget("restart"))
        report = self.report()
        # The SPGW-U associates only once at its start-up: it must be restarted too.
        report["note"] = "restart the SPGW-U so that it associates again"
        return report

    def report(self):
        settings = self._configured()
        s11, sx = self._addresses(settings)
        return dict(self.service_state(), **{
            "s11-listening": epc.yes_no(net.listening("udp", GTPV2C_PORT, s11, self.proc_root)),
            "s11-address": "{}:{}".format(s11, GTPV2C_PORT),
            "sx-listening": epc.yes_no(net.listening("udp", PFCP_PORT, sx, self.proc_root)),
            "sx-address": "{}:{}".format(sx, PFCP_PORT),
            "apns": "{},{}".format(settings["apn"], settings["apn2"]),
            "ue-pool": settings["ue-pool"],
            "dns": "{},{}".format(settings["dns1"], settings["dns2"]),
            "commit": settings.get("commit", ""),
        })

    def service_status(self):
        settings = self.settings.load()
        if not settings:
            return "blocked", "run the 'configure' action"
        if not self.systemd.is_active(SERVICE):
            return "blocked", "spgwc.service is not active"
        s11, sx = self._addresses(settings)
        if not net.listening("udp", GTPV2C_PORT, s11, self.proc_root):
            return "waiting", "S11 (UDP {}:{}) not listening yet".format(s11, GTPV2C_PORT)
        if not net.listening("udp", PFCP_PORT, sx, self.proc_root):
            return "waiting", "SX (PFCP UDP {}:{}) not listening yet".format(sx, PFCP_PORT)
        return "active", short("SPGW-C ready: S11 {}, SX {}, APNs {} {}".format(
            s11, sx, settings["apn"], settings["apn2"]))
