"""OAI SPGW-U (spgwu-tiny) on its VDU: build, spgw_u.conf, SGi policy routing, ordered start.

spgwu sends its PFCP Association Setup Request once, at start-up, so it is
(re)started only after every SPGW-C in its list answers a PFCP Heartbeat.
`configure` probes them once: if one is silent (OSM runs the SPGW-C's day-1
list side by side with this one), configure succeeds with a pending start and
the `wait-peer` steps after it, or update-status, start spgwu when they answer
(charmhelpers_mecpool.peerstart).
"""

import ipaddress
import os
import time

from charmhelpers_mecpool import budget as budgets
from charmhelpers_mecpool import epc, files, net, process
from charmhelpers_mecpool import validate as v
from charmhelpers_mecpool.errors import ValidationError
from charmhelpers_mecpool.oaibuild import BuildStep
from charmhelpers_mecpool.oaipins import SpdlogPinned
from charmhelpers_mecpool.oaipins import parse_build  # noqa: F401 - the charm's build parser
from charmhelpers_mecpool.oaidaemon import OaiDaemon
from charmhelpers_mecpool.peerstart import PeerStart
from charmhelpers_mecpool.sourcecheck import ConfigFile, SupportedLayout
from charmhelpers_mecpool.status import short
from charmhelpers_mecpool.templates import Renderer

import pfcp

NAME = "oai-spgwu"
SERVICE = "spgwu.service"
SOURCE_DIR = epc.SRC_ROOT + "/openair-spgwu-tiny"
BINARY = epc.BIN_DIR + "/spgwu"
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "templates")
BUILD_STEPS = [
    BuildStep(["./build_spgwu", "-I", "-f"], "build/scripts"),
    BuildStep(["./build_spgwu", "-c", "-V", "-b", "Debug", "-j"], "build/scripts"),
]
CONFIG = ConfigFile("spgw_u.conf.j2", "etc/spgw_u.conf", "libconfig")
# The two key layouts of spgwu-tiny's spgw_u.conf (docs/epc.md): until early 2021
# SNAT is per PDN network and spgwu makes a dummy device `pdn`; from v1.1.0 SNAT is
# one top-level key, interfaces have SCHED_PARAMS, and the UE side is a tun device.
LAYOUTS = (
    SupportedLayout("pdn-device", ("dreibh/tx-checksum-ip-generic-off (fa782bb)", "2020.w36"),
                    (CONFIG,), {"layout": "pdn-device", "pdn_device": "pdn"}),
    SupportedLayout("tun-device", ("v1.1.0 (c6c4e18)",),
                    (CONFIG,), {"layout": "tun-device", "pdn_device": "tun0"}),
)
# OAI's own example values (spgw_u.conf, CI), for the layout check of `build`.
SAMPLE_PARAMS = {"git-repository": "https://github.com/OPENAIRINTERFACE/openair-spgwu-tiny.git",
                 "git-commit": "v1.1.0", "s1u-address": "192.168.248.159/24",
                 "sx-address": "172.55.55.102/24", "sgi-address": "10.254.1.203/24",
                 "sgi-gateway": "10.254.1.1", "spgwc-list": "172.55.55.101",
                 "pdn-network": "12.1.1.0/24", "nat": True}
GTPU_PORT = 2152
ROUTING_TABLE = 1000
RULE_PREF = 100
# Table 1000's "unreachable PDN network" route, behind the one through the UE device.
UNREACHABLE_METRIC = 4096
# spgwu.service's post-start hook waits this long (s) for spgwu to set up its UE device.
DEVICE_WAIT = 30
DISPATCHER = "/etc/networkd-dispatcher"
SCRIPT_NAME = "60-mecpool-sgi"
ROUTABLE_SCRIPT = "{}/routable.d/{}".format(DISPATCHER, SCRIPT_NAME)
OFF_SCRIPT = "{}/off.d/{}".format(DISPATCHER, SCRIPT_NAME)
HOOKS = epc.STATE_DIR + "/oai-spgwu-hooks.sh"
PACKAGES = epc.BASE_PACKAGES + ["networkd-dispatcher", "iptables", "ethtool"]
PARAMS = ("git-repository", "git-commit", "s1u-address", "sx-address", "sgi-address",
          "sgi-gateway", "spgwc-list", "pdn-network", "nat")


def parse_configure(params):
    v.required(params, PARAMS)
    config = dict(v.git_source(params), **{
        "s1u-address": str(v.interface_cidr("s1u-address", params["s1u-address"])),
        "sx-address": str(v.interface_cidr("sx-address", params["sx-address"])),
        "sgi-address": str(v.interface_cidr("sgi-address", params["sgi-address"])),
        "sgi-gateway": v.ipv4("sgi-gateway", params["sgi-gateway"]),
        "spgwc-list": v.address_list("spgwc-list", params["spgwc-list"]),
        "pdn-network": str(v.network("pdn-network", params["pdn-network"], 8, 30)),
        "nat": v.boolean("nat", params["nat"]),
    })
    sgi = ipaddress.IPv4Interface(config["sgi-address"])
    gateway = ipaddress.IPv4Address(config["sgi-gateway"])
    if gateway not in sgi.network or gateway == sgi.ip:
        raise ValidationError("sgi-gateway", "{} is not another host of the SGi network {}".format(
            gateway, sgi.network))
    pdn = ipaddress.IPv4Network(config["pdn-network"])
    for name in ("s1u-address", "sx-address", "sgi-address"):
        if ipaddress.IPv4Interface(config[name]).network.overlaps(pdn):
            raise ValidationError("pdn-network", "overlaps the {} network".format(name))
    own = {config[n].split("/")[0] for n in ("s1u-address", "sx-address", "sgi-address")}
    for address in config["spgwc-list"]:
        if address in own:
            raise ValidationError("spgwc-list", "{} is one of this VDU's own addresses".format(
                address))
    return config


def routing_context(config, sgi_interface, pdn_device):
    """What sgi-routable.sh.j2, sgi-off.sh.j2 and spgwu-hooks.sh.j2 are rendered with
    (the VDU lab renders the routing script with it too: mecpool.vdulab.epc_routing)."""
    pdn = ipaddress.IPv4Network(config["pdn-network"])
    return {"sgi_interface": sgi_interface, "pdn_device": pdn_device,
            "sgi_network": str(ipaddress.IPv4Interface(config["sgi-address"]).network),
            "sgi_gateway": config["sgi-gateway"], "pdn_network": str(pdn),
            # spgwu gives its UE device the network's first address (pfcp_switch.cpp)
            "ue_gateway": str(pdn.network_address + 1),
            "table": ROUTING_TABLE, "pref": RULE_PREF,
            "unreachable_metric": UNREACHABLE_METRIC,
            "routable_script": ROUTABLE_SCRIPT,
            "device_wait_steps": DEVICE_WAIT * 2}


def render_routing(template, context):
    """One of the routing templates, rendered (the workload writes them with its renderer)."""
    return Renderer(TEMPLATES).render(template, context)


class SpgwuWorkload(PeerStart, SpdlogPinned, OaiDaemon):
    # the module's constants, for OaiDaemon
    NAME, SERVICE, SOURCE_DIR, BINARY, TEMPLATES = NAME, SERVICE, SOURCE_DIR, BINARY, TEMPLATES
    PACKAGES, BUILD_STEPS, LAYOUTS = PACKAGES, BUILD_STEPS, LAYOUTS
    # configure probes the SPGW-Cs once; wait-peer waits one step; restart waits
    # peer-timeout at its largest (for all SPGW-Cs together); then the sockets.
    _LISTEN = ("SPGW-U sockets", budgets.LISTEN_TIMEOUT)
    WAITS = dict(OaiDaemon.WAITS,
                 configure=(("SPGW-C PFCP heartbeats (one probe)", budgets.PEER_PROBE_TIMEOUT),
                            _LISTEN),
                 restart=(("SPGW-C PFCP heartbeats (peer-timeout)", budgets.PEER_TIMEOUT_MAX),
                          _LISTEN),
                 **{"wait-peer": (("SPGW-C PFCP heartbeats (one wait-peer step)",
                                   budgets.PEER_WAIT_STEP), _LISTEN)})

    def __init__(self, run=process.run, root="/", mac_lookup=None, sleep=time.sleep,
                 clock=time.monotonic, heartbeat=pfcp.heartbeat,
                 listen_timeout=budgets.LISTEN_TIMEOUT, **build):
        super(SpgwuWorkload, self).__init__(run, root, mac_lookup, sleep, clock, listen_timeout,
                                            **build)
        self.heartbeat = heartbeat
        self.conf_path = self.prefix + "/spgw_u.conf"
        self.routable_script = self.path(ROUTABLE_SCRIPT)
        self.off_script = self.path(OFF_SCRIPT)
        self.hooks = self.path(HOOKS)

    def unit(self):
        def hook(name):
            # "-": a hook that fails (iptables, ip) is logged, spgwu runs all the same
            return "-/bin/sh {} {}".format(HOOKS, name)
        return epc.oai_unit(NAME, "OpenAirInterface SPGW-U (spgwu-tiny)",
                            [BINARY, "-c", self.conf_path, "-o"], self.log_dir + "/spgwu.log",
                            self.state_dir, exec_start_pre=[hook("pre-start")],
                            exec_start_post=[hook("post-start")],
                            exec_stop_post=[hook("post-stop")])

    def context(self, config, s1u, sx, sgi):
        return {"s1u_interface": s1u, "sx_interface": sx, "sgi_interface": sgi,
                "pdn_network": config["pdn-network"], "nat": config["nat"],
                "spgwc_list": config["spgwc-list"]}

    def sample_context(self):
        return self.context(parse_configure(SAMPLE_PARAMS), "ens5", "ens4", "ens6")

    def configure_routing(self, config, sgi_interface, layout):
        """Write the networkd-dispatcher scripts and spgwu.service's hooks, and apply
        the rules now (the SGi interface may be routable already, so no event would
        run them)."""
        context = routing_context(config, sgi_interface, layout.context["pdn_device"])
        changed = self.renderer.render_to("sgi-routable.sh.j2", self.routable_script, context,
                                          mode=0o755)
        changed |= self.renderer.render_to("sgi-off.sh.j2", self.off_script, context, mode=0o755)
        changed |= self.renderer.render_to("spgwu-hooks.sh.j2", self.hooks, context, mode=0o755)
        if changed:
            self.run(["/bin/sh", self.routable_script], env={"IFACE": sgi_interface})
        return changed

    def configure(self, config):
        budget = self.budget("configure")
        self.install(budget)
        s1u = self._interface(config["s1u-address"])
        sx = self._interface(config["sx-address"])
        sgi = self._interface(config["sgi-address"])
        context = self.context(config, s1u, sx, sgi)
        build, layout = self.prepare_source(config, context, budget)
        self.configure_routing(config, sgi, layout)
        changed = self.renderer.render_to("spgw_u.conf.j2", self.conf_path,
                                          dict(context, **layout.context))
        changed |= self.systemd.install_unit(SERVICE, self.unit())
        needs_start = changed or not self.systemd.is_active(SERVICE)
        saved = dict(config, commit=build["commit"])
        saved.update({"s1u-interface": s1u, "sx-interface": sx, "sgi-interface": sgi,
                      "pending-start": needs_start, "layout": layout.name,
                      "pdn-device": layout.context["pdn_device"]})
        self.settings.save(saved)
        results = dict(build, **{"s1u-interface": s1u, "sx-interface": sx, "sgi-interface": sgi,
                                 "restarted": "false", "pending-start": "false"})
        if not needs_start:
            return results
        return self.start_if_peer_answers(saved, budget, results)

    # ---- the SPGW-Cs, for peerstart.PeerStart ---------------------------------------
    def peer_label(self, settings):
        return "SPGW-C PFCP {}".format(", ".join(
            "{}:{}".format(spgwc, pfcp.PFCP_PORT) for spgwc in settings["spgwc-list"]))

    def peer_answers(self, settings):
        for spgwc in settings["spgwc-list"]:
            try:
                if not self._probe(settings, spgwc):
                    return False
            except OSError:
                return False
        return True

    def wait_for_peer(self, settings, timeout, budget):
        self.wait_for_spgwc(settings, timeout, budget)

    def _probe(self, settings, spgwc):
        source = settings["sx-address"].split("/")[0]
        return self.heartbeat(spgwc, source=source) is not None

    def wait_for_spgwc(self, settings, timeout, budget):
        """Every SPGW-C answers, within ``timeout`` s for all of them together."""
        deadline = self.clock() + timeout
        for spgwc in settings["spgwc-list"]:
            remaining = max(0, deadline - self.clock())
            budget.wait_for(lambda: self._probe(settings, spgwc),
                            "SPGW-C PFCP {}:{}".format(spgwc, pfcp.PFCP_PORT), remaining,
                            interval=budgets.PEER_WAIT_INTERVAL)

    def _wait_listening(self, settings, budget):
        s1u = settings["s1u-address"].split("/")[0]
        sx = settings["sx-address"].split("/")[0]

        def ready():
            return (net.listening("udp", GTPU_PORT, s1u, self.proc_root)
                    and net.listening("udp", pfcp.PFCP_PORT, sx, self.proc_root))
        budget.wait_for(ready, "SPGW-U sockets (GTP-U {}:{}, PFCP {}:{})".format(
            s1u, GTPU_PORT, sx, pfcp.PFCP_PORT), self.listen_timeout, interval=2)

    def restart(self, peer_timeout):
        settings = self._configured()
        budget = self.budget("restart")
        self.wait_for_spgwc(settings, peer_timeout, budget)
        self._start(settings, budget)
        return self.report()

    def _pdn_up(self, settings):
        device = settings.get("pdn-device", "pdn")
        result = self.run(["ip", "-j", "link", "show", "dev", device], check=False)
        return result.returncode == 0 and '"UP"' in result.stdout

    def _snat_present(self, settings):
        result = self.run(["iptables-save", "-t", "nat"], check=False)
        pdn = settings["pdn-network"]
        return any("-s {}".format(pdn) in line and "SNAT" in line
                   for line in result.stdout.splitlines())

    def _ip_forward(self):
        text = files.read_text(os.path.join(self.proc_root, "sys/net/ipv4/ip_forward"), "0")
        return text.strip() == "1"

    def report(self):
        settings = self._configured()
        s1u = settings["s1u-address"].split("/")[0]
        sx = settings["sx-address"].split("/")[0]
        return dict(self.service_state(), **{
            "pending-start": epc.yes_no(settings.get("pending-start")),
            "s1u-listening": epc.yes_no(net.listening("udp", GTPU_PORT, s1u, self.proc_root)),
            "s1u-address": "{}:{}".format(s1u, GTPU_PORT),
            "sx-listening": epc.yes_no(net.listening("udp", pfcp.PFCP_PORT, sx,
                                                     self.proc_root)),
            "sx-address": "{}:{}".format(sx, pfcp.PFCP_PORT),
            "spgwc-list": ",".join(settings["spgwc-list"]),
            "pdn-device": settings.get("pdn-device", "pdn"),
            "pdn-up": epc.yes_no(self._pdn_up(settings)),
            "pdn-network": settings["pdn-network"],
            "nat": epc.yes_no(settings["nat"]),
            "snat-rule": epc.yes_no(self._snat_present(settings)),
            "ip-forward": epc.yes_no(self._ip_forward()),
            "commit": settings.get("commit", ""),
        })

    def service_status(self):
        settings = self.settings.load()
        if not settings:
            return "blocked", "run the 'configure' action"
        if settings.get("pending-start"):
            return "waiting", short("waiting for SPGW-C PFCP ({}) before starting".format(
                ",".join(settings["spgwc-list"])))
        if not self.systemd.is_active(SERVICE):
            return "blocked", "spgwu.service is not active"
        s1u = settings["s1u-address"].split("/")[0]
        if not net.listening("udp", GTPU_PORT, s1u, self.proc_root):
            return "waiting", "S1-U (GTP-U UDP {}:{}) not listening yet".format(s1u, GTPU_PORT)
        return "active", short("SPGW-U ready: S1-U {}, PDN {}{}".format(
            s1u, settings["pdn-network"], " with NAT" if settings["nat"] else ""))
