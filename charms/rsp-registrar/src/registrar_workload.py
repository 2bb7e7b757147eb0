"""What the Pool Registrar charm does on the VDU; no ops import.

The registrar's settings live in /etc/mecpool/registrar.json (address, peers,
identifier, loglevel); mecpool.rserpool turns them into the one unit
rsp-registrar.service.  Every input is validated (and the address checked to
be one of this VDU's) before anything is written; a unit that does not come
up is replaced by the previous one again.  Python 3.6, standard library plus
the vendored shared library.
"""

import json
import re
import time

from charmhelpers_mecpool import process
from charmhelpers_mecpool.apt import Apt
from charmhelpers_mecpool.errors import MecpoolError, ValidationError
from charmhelpers_mecpool.net import local_addresses
from charmhelpers_mecpool.settingsservice import SettingsService
from charmhelpers_mecpool.status import short
from charmhelpers_mecpool.systemd import UNIT_DIR, Systemd, exec_start
from mecpool.rserpool import configure, hsdump
from mecpool.rserpool.commands import ASAP_PORT, ENRP_PORT, ConfigError, hsdump_argv
from mecpool.rserpool.units import REGISTRAR_SERVICE

# rspregistrar is in rsplib-registrar, hsdump (pool-status) in rsplib-tools.
PACKAGES = ("rsplib-registrar", "rsplib-tools")
# Debian's SysV script starts a registrar with default options on install;
# it would answer multicast announces next to ours, so it is masked.
PACKAGED_SERVICE = "rsplib-registrar.service"
HSDUMP_TIMEOUT = 30
SETTLE_SECONDS = 3.0  # rspregistrar fails to bind within about a second


def param_of(error):
    """The action/config parameter a mecpool.rserpool ConfigError is about."""
    name = re.split(r"[.\[]", error.field.split(".", 1)[-1])[0]
    return name.replace("_", "-")


def check_config(config):
    """identifier (0 = RSPLIB picks one), loglevel and endpoint-keepalive-ms from the
    charm config."""
    values = {}
    identifier = config.get("identifier", 0)
    if isinstance(identifier, bool) or not isinstance(identifier, int):
        raise ValidationError("identifier", "must be an integer, got {!r}".format(identifier))
    if not 0 <= identifier <= 0xFFFFFFFF:
        raise ValidationError("identifier", "must be 0 (random) or 1..4294967295, got {}"
                              .format(identifier))
    values["identifier"] = identifier or None
    loglevel = config.get("loglevel", 2)
    if isinstance(loglevel, bool) or not isinstance(loglevel, int) or not 0 <= loglevel <= 9:
        raise ValidationError("loglevel", "must be an integer 0..9, got {!r}".format(loglevel))
    values["loglevel"] = loglevel
    keepalive = config.get("endpoint-keepalive-ms", 0)   # 0: RSPLIB's default
    if isinstance(keepalive, bool) or not isinstance(keepalive, int):
        raise ValidationError("endpoint-keepalive-ms",
                              "must be an integer (ms), got {!r}".format(keepalive))
    values["endpoint_keepalive_ms"] = keepalive  # its range: mecpool.rserpool's check
    return values


class RegistrarWorkload(object):
    """Packages, settings file, unit and hsdump of one Pool Registrar VDU."""

    def __init__(self, run=process.run, settings_path=configure.SETTINGS_FILES["registrar"],
                 unit_dir=UNIT_DIR, sleep=time.sleep, settle_seconds=SETTLE_SECONDS):
        self.run = run
        self.settings_path = settings_path
        self.apt = Apt(run=run)
        self.systemd = Systemd(run=run, unit_dir=unit_dir)
        self.service = SettingsService(self.systemd, run, settings_path, REGISTRAR_SERVICE,
                                       sleep, settle_seconds)

    # -- state ---------------------------------------------------------------

    def settings(self):
        """The applied settings, or None before the first configure."""
        return self.service.settings()

    def status(self):
        """(kind, message) for the unit status: waiting (before day 1), active or blocked."""
        settings = self.settings()
        if settings is None:
            # Before OSM runs the day-1 primitive the unit waits for it: nothing is wrong yet.
            return "waiting", "waiting for OSM's day-1 'configure' action"
        if not self.systemd.is_active(REGISTRAR_SERVICE):
            return "blocked", "{} is not running".format(REGISTRAR_SERVICE)
        peers = configure.split_list(settings.get("peers"))
        return "active", short("registrar {} (ASAP {}, ENRP {}), {} peer{}".format(
            settings["address"], ASAP_PORT, ENRP_PORT, len(peers), "" if len(peers) == 1 else "s"))

    # -- events and actions ----------------------------------------------------

    def install(self):
        """Install the packages and mask Debian's own registrar service."""
        installed = self.apt.install(PACKAGES)
        state = self.run(["systemctl", "is-enabled", PACKAGED_SERVICE], check=False)
        if state.stdout.strip() != "masked":
            self.systemd.stop(PACKAGED_SERVICE)
            self.run(["systemctl", "mask", PACKAGED_SERVICE])
        return installed

    def configure(self, params, config):
        """The ``configure`` action: address and peers, plus the charm config."""
        address = params.get("address")
        if not isinstance(address, str) or not address.strip():
            raise ValidationError("address", "is required (this VDU's pool-network address)")
        peers = params.get("peers", "")
        if not isinstance(peers, str):
            raise ValidationError("peers", "must be a comma-separated string of ADDR[:9901]")
        settings = {"address": address.strip(), "peers": configure.split_list(peers)}
        settings.update(check_config(config))
        return self._apply(settings, check_local=True)

    def apply_config(self, config, previous):
        """config-changed: re-render with the options that changed since ``previous``, the
        config the charm last applied (None: Juju's first config-changed, at deploy).

        The registrar cloud-init started has its settings from the site; Juju's deploy-time
        config-changed carries the charm's defaults (identifier 0 = random, say), and
        applying them would restart the registrar with them until OSM's day-1 "config"
        sets the site's values again. So an option applies when it changes; ``configure``
        applies them all. Returns the results of the apply, or None when nothing applies
        (no change, or before the first configure).
        """
        values = check_config(config)
        try:
            seen = None if previous is None else check_config(previous)
        except ValidationError:     # an option of an older charm: take every value as new
            seen = {}
        settings = self.settings()
        changed = {} if seen is None else {k: v for k, v in values.items() if k not in seen or seen[k] != v}
        if settings is None or not changed:
            return None
        settings.update(changed)
        return self._apply(settings, check_local=False)

    def restart(self):
        return self.service.restart()

    def pool_status(self):
        """hsdump against this registrar's ENRP endpoint, as action results."""
        settings = self.service.require_configured()
        if not self.systemd.is_active(REGISTRAR_SERVICE):
            raise MecpoolError("{} is not running".format(REGISTRAR_SERVICE))
        argv = hsdump_argv(settings["address"], settings.get("enrp_port", ENRP_PORT))
        result = self.run(argv, timeout=HSDUMP_TIMEOUT)
        try:
            parsed = hsdump.parse(result.stdout)
        except hsdump.HsdumpError as error:
            raise MecpoolError("cannot read hsdump's output: {}".format(error))
        return pool_status_results(parsed)

    # -- internals -------------------------------------------------------------

    def _render(self, settings):
        try:
            return configure.render("registrar", settings)
        except ConfigError as error:
            raise ValidationError(param_of(error), error.problem)

    def _apply(self, settings, check_local):
        name, unit = self._render(settings)
        if check_local and settings["address"] not in local_addresses(self.run):
            raise ValidationError("address", "{} is not an address of this VDU".format(
                settings["address"]))
        changed, restarted = self.service.apply_with_rollback(
            unit, configure.settings_text(settings))
        return {"service": name, "changed": "yes" if changed else "no",
                "restarted": "yes" if restarted else "no", "command": exec_start(unit)}


def pool_status_results(parsed):
    """Juju action results (lower-case, hyphenated keys; string values)."""
    pools = {}
    for number, pool in enumerate(parsed["pools"], 1):
        elements = {}
        for element in pool["elements"]:
            elements["pe-" + element["identifier"][2:]] = {
                "identifier": element["identifier"],
                "addresses": ",".join(element["addresses"]),
                "port": str(element["port"]),
                "load": "{:g}".format(element["load"]),
                "load-increment": "{:g}".format(element["load_increment"]),
                "home-registrar": element.get("home_registrar", ""),
            }
        pools["pool-{}".format(number)] = {
            "handle": pool["handle"], "policy": pool["policy"],
            "pe-count": str(len(pool["elements"])), "elements": elements,
        }
    peers = {}
    for peer in parsed["peers"]:
        peers["pr-" + peer["identifier"][2:]] = {
            "identifier": peer["identifier"], "addresses": ",".join(peer["addresses"]),
            "port": str(peer["port"]),
        }
    pe_count = sum(len(p["elements"]) for p in parsed["pools"])
    results = {
        "summary": "{} pool{}, {} pool element{}".format(
            len(parsed["pools"]), "" if len(parsed["pools"]) == 1 else "s",
            pe_count, "" if pe_count == 1 else "s"),
        "pool-count": str(len(parsed["pools"])),
        "pe-count": str(pe_count),
        # The whole parse for programs (mecpool status reads this key).
        "json": json.dumps(parsed, sort_keys=True),
    }
    if pools:
        results["pools"] = pools
    if peers:
        results["peers"] = peers
    return results
