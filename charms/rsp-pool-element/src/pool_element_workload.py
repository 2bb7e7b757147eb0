"""What the Pool Element charm does on the VDU; no ops import.

The PE's settings live in /etc/mecpool/pool-element.json, the file the PE
VDU's cloud-init also writes; mecpool.rserpool renders it into the one unit
rsp-pool-element.service.  So a PE that cloud-init started is *adopted*: when
the requested settings render the same unit and the service runs, configure
changes nothing.  Every input is validated before anything is written; a unit
that does not come up is replaced by the previous one again.
Python 3.6, standard library plus the vendored shared library.
"""

import json
import os
import re
import time

from charmhelpers_mecpool import files, process
from charmhelpers_mecpool.apt import Apt
from charmhelpers_mecpool.errors import CommandError, MecpoolError, ValidationError
from charmhelpers_mecpool.net import local_addresses
from charmhelpers_mecpool.settingsservice import SettingsService
from charmhelpers_mecpool.status import short
from charmhelpers_mecpool.systemd import UNIT_DIR, Systemd, exec_start
from mecpool.rserpool import configure, hsdump, preload
from mecpool.rserpool.commands import ENRP_PORT, PE_PORT, ConfigError, Endpoint, hsdump_argv
from mecpool.rserpool import units
from mecpool.rserpool.units import PE_WATCHDOG_SERVICE, POOL_ELEMENT_SERVICE

# rspserver and hsdump are both in rsplib-tools (rsplib-services holds the
# pool users: calcappclient and friends).
PACKAGES = ("rsplib-tools",)
SERVICE = POOL_ELEMENT_SERVICE
# The watchdog runs mecpool.rserpool from here (cloud-init's copy, refreshed with the charm's).
LIBRARY_PACKAGE = os.path.join(units.LIBRARY_DIR, "mecpool", "rserpool")
WATCHDOG_STATE = "/run/mecpool/pe-watchdog.json"
HSDUMP_TIMEOUT = 20
SETTLE_SECONDS = 3.0  # rspserver exits within a second when it cannot start
# Before OSM runs the day-1 primitive the unit waits for it: nothing is wrong yet.
AWAITING_DAY1 = "waiting for OSM's day-1 'configure' action"

# action parameter -> settings key
CONFIGURE_PARAMS = (("pool-handle", "pool_handle"), ("registrars", "registrars"),
                    ("capacity", "capacity"), ("max-jobs", "max_jobs"),
                    ("load-increment", "load_increment"), ("local-address", "local_address"))
RECONFIGURE_PARAMS = (("capacity", "capacity"), ("max-jobs", "max_jobs"),
                      ("load-increment", "load_increment"))


def param_of(error):
    """The action parameter a mecpool.rserpool ConfigError is about."""
    field = error.field.split(".", 1)[-1]
    if field.startswith("policy.load_increment"):
        return "load-increment"
    return re.split(r"[.\[]", field)[0].replace("_", "-")


def _text(value):
    return ",".join(str(v) for v in value) if isinstance(value, list) else str(value)


class PoolElementWorkload(object):
    """Packages, settings file, unit and registration check of one PE VDU."""

    def __init__(self, run=process.run, settings_path=configure.SETTINGS_FILES["pool-element"],
                 unit_dir=UNIT_DIR, sleep=time.sleep, settle_seconds=SETTLE_SECONDS,
                 library_package=LIBRARY_PACKAGE, watchdog_state=WATCHDOG_STATE, proc_dir="/proc"):
        self.run = run
        self.proc_dir = proc_dir
        self.settings_path = settings_path
        self.library_package = library_package
        self.watchdog_state = watchdog_state
        self.apt = Apt(run=run)
        self.systemd = Systemd(run=run, unit_dir=unit_dir)
        self.service = SettingsService(self.systemd, run, settings_path, SERVICE, sleep,
                                       settle_seconds)

    # -- state ---------------------------------------------------------------

    def settings(self):
        """The settings in the file (charm's or cloud-init's), or None."""
        return self.service.settings()

    def status(self):
        """(kind, message) for the unit status: waiting before day 1, blocked when the service
        is down, active only while a registrar lists this PE in its pool (asked each time: the
        status follows the registration on every update-status)."""
        settings = self.settings()
        if settings is None:
            return "waiting", AWAITING_DAY1
        if not self.systemd.is_active(SERVICE):
            return "blocked", "{} is not running".format(SERVICE)
        registration = self._registration(settings)
        pool = settings.get("pool_handle")
        if registration["registered"] == "yes":
            return "active", short("PE of {} registered at {}: {} calc/s, {} jobs, load increment {}".format(
                pool, registration["registrar"].split(":")[0], settings.get("capacity", 1000000),
                settings.get("max_jobs", 4), settings.get("load_increment", 0.1)))
        if registration["registered"] == "no":
            return "waiting", short("running, not (yet) registered in {} at {}".format(
                pool, registration["registrar"].split(":")[0]))
        return "waiting", short("running; registrars not reachable: {}".format(
            registration.get("registrar-error", "")))

    def resolve(self, destination):
        """The source address towards ``destination`` (local-address "auto")."""
        try:
            output = self.run(configure.route_source_argv(destination)).stdout
        except CommandError as error:
            raise ConfigError("pool_element.local_address",
                              "no route towards the first registrar {} ({})".format(
                                  destination, error.stderr.strip() or error))
        return configure.parse_route_source(output, destination)

    # -- events and actions ----------------------------------------------------

    def install(self):
        return self.apt.install(PACKAGES)

    def configure(self, params):
        """The ``configure`` action; keeps settings only cloud-init sets (policy, ...)."""
        for name in ("pool-handle", "registrars"):
            if not isinstance(params.get(name), str) or not params[name].strip():
                raise ValidationError(name, "is required")
        existing = self._existing_settings()
        settings = dict(existing or {})
        for param, key in CONFIGURE_PARAMS:
            if param not in params:
                raise ValidationError(param, "is required")
            settings[key] = params[param]
        settings["registrars"] = configure.split_list(settings["registrars"])
        local = settings["local_address"]
        if not isinstance(local, str):
            raise ValidationError("local-address", "must be \"auto\" or an IP address")
        settings["local_address"] = local.strip() or "auto"
        return self._apply(settings, check_local=settings["local_address"] != "auto")

    def reconfigure(self, params):
        """The ``reconfigure`` action: capacity, max-jobs, load-increment."""
        unknown = sorted(set(params) - set(p for p, _ in RECONFIGURE_PARAMS))
        if unknown:
            raise ValidationError(unknown[0], "cannot be changed by reconfigure")
        settings = dict(self.service.require_configured())
        for param, key in RECONFIGURE_PARAMS:
            if param in params:
                settings[key] = params[param]
        return self._apply(settings, check_local=False)

    def restart(self):
        return self.service.restart()

    def pe_status(self):
        """Service state, settings and the registrars' view of this PE."""
        settings = self.service.require_configured()
        results = {
            "service": "active" if self.systemd.is_active(SERVICE) else "inactive",
            "settings": dict((param, _text(settings[key]))
                             for param, key in CONFIGURE_PARAMS if key in settings),
        }
        results.update(self._registration(settings))
        results["watchdog"] = self._watchdog_summary()
        results["freshload"], results["freshload-detail"] = self._freshload(settings)
        return results

    def _freshload(self, settings):
        """Whether the running rspserver has librspfreshload mapped (its /proc maps)."""
        pid = self.systemd.main_pid(SERVICE) if self.systemd.is_active(SERVICE) else 0
        maps = files.read_text(os.path.join(self.proc_dir, str(pid), "maps")) if pid else None
        return preload.verdict(settings.get("preload"), pid, maps)

    # -- internals -------------------------------------------------------------

    def _existing_settings(self):
        try:
            return self.settings()
        except MecpoolError:
            return None  # a broken file is replaced by configure

    def _render(self, settings):
        try:
            return configure.render("pool-element", settings, resolve=self.resolve)
        except ConfigError as error:
            raise ValidationError(param_of(error), error.problem)

    def _renders_to(self, text, unit):
        """Whether settings ``text`` (e.g. cloud-init's) render exactly ``unit``."""
        try:
            return self._render(json.loads(text))[1] == unit
        except (ValueError, TypeError, MecpoolError):
            return False

    def _ensure_watchdog(self):
        """The PE's watchdog (mecpool.rserpool.watchdog) from the charm's own copy of
        mecpool.rserpool, with the unit cloud-init installs; running."""
        source = os.path.dirname(os.path.abspath(configure.__file__))
        changed = False
        for name in sorted(os.listdir(source)):
            if name.endswith(".py"):
                changed = files.write_file(os.path.join(self.library_package, name),
                                           files.read_text(os.path.join(source, name))) or changed
        unit = configure.companion_units("pool-element", self.settings_path)[0][1]
        changed = self.systemd.install_unit(PE_WATCHDOG_SERVICE, unit) or changed
        self.systemd.ensure_running(PE_WATCHDOG_SERVICE, changed)

    def _watchdog_summary(self):
        """The watchdog's last verdict (its state file), or why there is none."""
        if not self.systemd.is_active(PE_WATCHDOG_SERVICE):
            return "{} is not running".format(PE_WATCHDOG_SERVICE)
        try:
            state = json.loads(files.read_text(self.watchdog_state) or "{}")
        except ValueError:
            state = {}
        return short("{} (checked {}, {} restarts)".format(
            state.get("verdict", "no check yet"), state.get("checked_at", "-"), state.get("restarts", 0)), 300)

    def _apply(self, settings, check_local):
        result = self._apply_service(settings, check_local)
        self._ensure_watchdog()
        return result

    def _apply_service(self, settings, check_local):
        name, unit = self._render(settings)
        if check_local and settings["local_address"] not in local_addresses(self.run):
            raise ValidationError("local-address", "{} is not an address of this VDU".format(
                settings["local_address"]))
        old_settings = files.read_text(self.settings_path)
        same_settings = old_settings is not None and self._renders_to(old_settings, unit)
        # Adoption: what cloud-init (or an earlier configure) started is left alone.
        if (files.read_text(self.systemd.unit_path(name)) == unit and same_settings
                and self.systemd.is_active(name)):
            return {"service": name, "changed": "no", "restarted": "no",
                    "command": exec_start(unit)}
        changed, restarted = self.service.apply_with_rollback(
            unit, None if same_settings else configure.settings_text(settings))
        return {"service": name, "changed": "yes" if changed else "no",
                "restarted": "yes" if restarted else "no", "command": exec_start(unit)}

    def _registration(self, settings):
        """Ask the registrars (hsdump at their ENRP port) whether they list this PE."""
        try:
            registrars = [Endpoint.parse(r, 3863).address
                          for r in configure.split_list(settings.get("registrars"))]
            config = configure.pool_element_from_settings(settings, resolve=self.resolve)
        except (ConfigError, MecpoolError) as error:
            return {"registered": "unknown", "registrar-error": short(str(error))}
        errors = []
        for address in registrars:
            argv = hsdump_argv(address, ENRP_PORT)
            try:
                parsed = hsdump.parse(self.run(argv, timeout=HSDUMP_TIMEOUT).stdout)
            except (CommandError, hsdump.HsdumpError) as error:
                errors.append("{}: {}".format(argv[1], error))
                continue
            pool, element = hsdump.find_element(parsed, config.local_address,
                                                config.local_port or PE_PORT)
            if element is None or pool["handle"] != config.pool_handle:
                return {"registered": "no", "registrar": argv[1],
                        "local-endpoint": str(Endpoint(config.local_address, config.local_port))}
            return {"registered": "yes", "registrar": argv[1],
                    "identifier": element["identifier"],
                    "load": "{:g}".format(element["load"]),
                    "load-increment": "{:g}".format(element["load_increment"]),
                    "home-registrar": element.get("home_registrar", "")}
        return {"registered": "unknown",
                "registrar-error": short("; ".join(errors) or "no registrar listed", 400)}
