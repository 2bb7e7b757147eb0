"""OAI MME on its VDU: build, mme.conf and freeDiameter config, ordered start.

The MME starts only once the HSS answers on TCP 3868.  `configure` probes the
HSS once: if it does not answer yet (OSM runs the HSS's day-1 list side by
side with the MME's), configure succeeds with a pending start, the unit stays
enabled but stopped (Waiting), and the `wait-peer` steps after it, or
update-status, start it when the HSS answers (charmhelpers_mecpool.peerstart).
"""

import os
import time

from charmhelpers_mecpool import budget as budgets
from charmhelpers_mecpool import epc, net, process
from charmhelpers_mecpool import validate as v
from charmhelpers_mecpool.certs import DiameterCerts
from charmhelpers_mecpool.errors import ValidationError
from charmhelpers_mecpool.hosts import ensure_hosts
from charmhelpers_mecpool.oaibuild import BuildStep
from charmhelpers_mecpool.oaidaemon import OaiDaemon
from charmhelpers_mecpool.peerstart import PeerStart
from charmhelpers_mecpool.sourcecheck import ConfigFile, SupportedLayout
from charmhelpers_mecpool.status import short

NAME = "oai-mme"
SERVICE = "mme.service"
SOURCE_DIR = epc.SRC_ROOT + "/openair-mme"
BINARY = epc.BIN_DIR + "/mme"
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "templates")
BUILD_STEPS = [
    BuildStep(["./build_mme", "--check-installed-software", "--force"], "scripts"),
    BuildStep(["./build_mme", "--clean"], "scripts"),
]
# One key layout of mme.conf from 2020.w36 to v1.1.0; v1.1.0 itself clones asn1c
# from gitlab.eurecom.fr, which the fork's branch replaced by GitHub (docs/epc.md).
LAYOUTS = (SupportedLayout("mme-2020", ("dreibh/asn1c-url-fix-14Oct2020 (3bda02cd)",
                                        "2020.w36", "v1.1.0"),
                           (ConfigFile("mme.conf.j2", "etc/mme.conf", "libconfig"),), {}),)
# OAI's own example values (etc/mme.conf, CI), for the layout check of `build`.
SAMPLE_PARAMS = {"git-repository": "https://github.com/OPENAIRINTERFACE/openair-mme.git",
                 "git-commit": "v1.1.0", "realm": "openair4G.eur", "mcc": "208", "mnc": "93",
                 "tac": 1, "s1c-address": "192.168.247.102/24", "s11-address": "172.16.1.102/24",
                 "s6a-address": "172.16.6.2", "hss-s6a-address": "172.16.6.129",
                 "spgwc-s11-address": "172.16.1.104"}
S1_MME_PORT = 36412
GTPV2C_PORT = 2123
HSS_DIAMETER_PORT = 3868
MME_DIAMETER_PORT = 3870
# S10 (MME to MME) is unused in a one-MME EPC, but the MME wants an interface
# for it: a port-less bridge with a private address, as in the reference VNF.
S10_BRIDGE = "s10-mme"
S10_CIDR = "192.168.10.110/24"
MME_GID = "32768"
MME_CODE = "3"
PARAMS = ("git-repository", "git-commit", "realm", "mcc", "mnc", "tac", "s1c-address",
          "s11-address", "s6a-address", "hss-s6a-address", "spgwc-s11-address")


def sgw_selection_id(mcc, mnc, tac):
    """The name the MME resolves to pick the SGW for a TAI (mme_app_wrr_selection.c):
    TAC low and high byte in lower-case hex, MNC as 3 digits, MCC as given."""
    return "tac-lb{:02x}.tac-hb{:02x}.tac.epc.mnc{:03d}.mcc{}.3gppnetwork.org".format(
        tac & 0xFF, tac >> 8, int(mnc), mcc)


def parse_configure(params):
    v.required(params, PARAMS)
    config = dict(v.git_source(params), **{
        "realm": v.realm("realm", params["realm"]),
        "mcc": v.mcc("mcc", params["mcc"]),
        "mnc": v.mnc("mnc", params["mnc"]),
        # 0x0000 and 0xFFFE are reserved TAC values (the MME asserts on them).
        "tac": v.integer("tac", params["tac"], 1, 0xFFFD),
        "s1c-address": str(v.interface_cidr("s1c-address", params["s1c-address"])),
        "s11-address": str(v.interface_cidr("s11-address", params["s11-address"])),
        "s6a-address": v.ipv4("s6a-address", params["s6a-address"]),
        "hss-s6a-address": v.ipv4("hss-s6a-address", params["hss-s6a-address"]),
        "spgwc-s11-address": v.ipv4("spgwc-s11-address", params["spgwc-s11-address"]),
    })
    own = {config["s1c-address"].split("/")[0], config["s11-address"].split("/")[0],
           config["s6a-address"]}
    if config["hss-s6a-address"] in own:
        raise ValidationError("hss-s6a-address", "is one of this MME's own addresses")
    if config["spgwc-s11-address"] in own:
        raise ValidationError("spgwc-s11-address", "is one of this MME's own addresses")
    return config


class MmeWorkload(PeerStart, OaiDaemon):
    # the module's constants, for OaiDaemon
    NAME, SERVICE, SOURCE_DIR, BINARY, TEMPLATES = NAME, SERVICE, SOURCE_DIR, BINARY, TEMPLATES
    BUILD_STEPS, LAYOUTS = BUILD_STEPS, LAYOUTS
    # configure probes the HSS once; wait-peer waits one step; restart waits
    # peer-timeout at its largest (PeerWaitingCharm refuses more); then S1-MME.
    _LISTEN = ("MME S1-MME listener", budgets.LISTEN_TIMEOUT)
    WAITS = dict(OaiDaemon.WAITS,
                 configure=(("HSS Diameter (one probe)", budgets.PEER_PROBE_TIMEOUT), _LISTEN),
                 restart=(("HSS Diameter (peer-timeout)", budgets.PEER_TIMEOUT_MAX), _LISTEN),
                 **{"wait-peer": (("HSS Diameter (one wait-peer step)", budgets.PEER_WAIT_STEP),
                                  _LISTEN)})

    def __init__(self, run=process.run, root="/", mac_lookup=None, sleep=time.sleep,
                 clock=time.monotonic, probe=net.tcp_probe, listen_timeout=budgets.LISTEN_TIMEOUT,
                 cert_bits=2048,
                 **build):
        super(MmeWorkload, self).__init__(run, root, mac_lookup, sleep, clock, listen_timeout,
                                          **build)
        self.probe = probe
        self.fd_dir = self.prefix + "/freeDiameter"
        self.conf_path = self.prefix + "/mme.conf"
        self.fd_conf = self.fd_dir + "/mme_fd.conf"
        self.certs = DiameterCerts(run=run, bits=cert_bits)

    def context(self, config, s1c_interface, s11_interface):
        realm = config["realm"]
        return {
            "realm": realm, "mme_fqdn": "mme." + realm, "hss_fqdn": "hss." + realm,
            "mcc": config["mcc"], "mnc": config["mnc"], "tac": config["tac"],
            "mme_gid": MME_GID, "mme_code": MME_CODE,
            "s1c_interface": s1c_interface, "s1c_cidr": config["s1c-address"],
            "s11_interface": s11_interface, "s11_cidr": config["s11-address"],
            "s10_interface": S10_BRIDGE, "s10_cidr": S10_CIDR,
            "wrr_id": sgw_selection_id(config["mcc"], config["mnc"], config["tac"]),
            "sgw_s11_address": config["spgwc-s11-address"],
            "s6a_address": config["s6a-address"], "hss_address": config["hss-s6a-address"],
            "fd_conf": self.fd_conf, "fd_dir": self.fd_dir,
            "extension_dir": epc.FD_EXTENSION_DIR, "dictionaries": epc.FD_DICTIONARIES,
        }

    def sample_context(self):
        return self.context(parse_configure(SAMPLE_PARAMS), "ens6", "ens5")

    def unit(self):
        return epc.oai_unit(NAME, "OpenAirInterface MME", [BINARY, "-c", self.conf_path],
                            self.log_dir + "/mme.log", self.state_dir,
                            exec_start_pre=["-/sbin/modprobe sctp"])

    def configure(self, config):
        budget = self.budget("configure")
        self.install(budget)
        s1c = self._interface(config["s1c-address"])
        s11 = self._interface(config["s11-address"])
        s6a = self.network.ensure_address(config["s6a-address"], mac_lookup=self.mac_lookup)
        self.network.ensure_bridge(S10_BRIDGE, [S10_CIDR])
        context = self.context(config, s1c, s11)
        build, _ = self.prepare_source(config, context, budget)
        realm = config["realm"]
        changed = self.certs.ensure(self.fd_dir, "mme", "mme." + realm,
                                    ca_name="mme.cacert.pem")
        changed |= self.renderer.render_to("mme.conf.j2", self.conf_path, context)
        changed |= self.renderer.render_to("mme_fd.conf.j2", self.fd_conf, context)
        ensure_hosts([(config["s6a-address"], ["mme." + realm, "mme"]),
                      (config["hss-s6a-address"], ["hss." + realm, "hss"])],
                     NAME, path=self.hosts_path)
        changed |= self.systemd.install_unit(SERVICE, self.unit())
        needs_start = changed or not self.systemd.is_active(SERVICE)
        saved = dict(config)
        saved.update({"commit": build["commit"], "s1c-interface": s1c, "s11-interface": s11,
                      "s6a-interface": s6a, "pending-start": needs_start})
        self.settings.save(saved)
        results = dict(build, **{"s1c-interface": s1c, "s11-interface": s11,
                                 "s6a-interface": s6a, "sgw-selection": context["wrr_id"],
                                 "restarted": "false", "pending-start": "false"})
        if not needs_start:
            return results  # same configuration, already running: nothing to do
        return self.start_if_peer_answers(saved, budget, results)

    # ---- the HSS, for peerstart.PeerStart ------------------------------------------
    def peer_label(self, settings):
        return "HSS {}:{}".format(settings["hss-s6a-address"], HSS_DIAMETER_PORT)

    def peer_answers(self, settings):
        try:
            return bool(self.probe(settings["hss-s6a-address"], HSS_DIAMETER_PORT))
        except OSError:
            return False

    def wait_for_peer(self, settings, timeout, budget):
        hss = settings["hss-s6a-address"]
        budget.wait_for(lambda: self.probe(hss, HSS_DIAMETER_PORT), self.peer_label(settings),
                        timeout, interval=budgets.PEER_WAIT_INTERVAL)

    def _wait_listening(self, settings, budget):
        s1c = settings["s1c-address"].split("/")[0]
        budget.wait_for(lambda: net.listening("sctp", S1_MME_PORT, s1c, self.proc_root),
                        "MME S1-MME listener (SCTP) {}:{}".format(s1c, S1_MME_PORT),
                        self.listen_timeout, interval=2)

    def restart(self, peer_timeout):
        settings = self._configured()
        budget = self.budget("restart")
        self.wait_for_peer(settings, peer_timeout, budget)
        self._start(settings, budget)
        return self.report()

    def report(self):
        settings = self._configured()
        s1c = settings["s1c-address"].split("/")[0]
        s11 = settings["s11-address"].split("/")[0]
        hss = settings["hss-s6a-address"]
        return dict(self.service_state(), **{
            "pending-start": epc.yes_no(settings.get("pending-start")),
            "s1-mme-listening": epc.yes_no(net.listening("sctp", S1_MME_PORT, s1c,
                                                         self.proc_root)),
            "s1-mme-address": "{}:{}".format(s1c, S1_MME_PORT),
            "s11-listening": epc.yes_no(net.listening("udp", GTPV2C_PORT, s11, self.proc_root)),
            "s6a-connected": epc.yes_no(net.tcp_established(hss, HSS_DIAMETER_PORT,
                                                            self.proc_root)),
            "hss": "{}:{}".format(hss, HSS_DIAMETER_PORT),
            "plmn": settings["mcc"] + settings["mnc"],
            "tac": str(settings["tac"]),
            "sgw-selection": sgw_selection_id(settings["mcc"], settings["mnc"], settings["tac"]),
            "sgw-s11-address": settings["spgwc-s11-address"],
            "commit": settings.get("commit", ""),
        })

    def service_status(self):
        settings = self.settings.load()
        if not settings:
            return "blocked", "run the 'configure' action"
        hss = "{}:{}".format(settings["hss-s6a-address"], HSS_DIAMETER_PORT)
        if settings.get("pending-start"):
            return "waiting", "waiting for HSS {} before starting the MME".format(hss)
        if not self.systemd.is_active(SERVICE):
            return "blocked", "mme.service is not active"
        s1c = settings["s1c-address"].split("/")[0]
        if not net.listening("sctp", S1_MME_PORT, s1c, self.proc_root):
            return "waiting", "S1-MME (SCTP {}:{}) not listening yet".format(s1c, S1_MME_PORT)
        if not net.tcp_established(settings["hss-s6a-address"], HSS_DIAMETER_PORT,
                                   self.proc_root):
            return "waiting", "S6a association to HSS {} not up".format(hss)
        return "active", short("MME ready: S1-MME {}:{}, PLMN {}-{}, TAC {}".format(
            s1c, S1_MME_PORT, settings["mcc"], settings["mnc"], settings["tac"]))
