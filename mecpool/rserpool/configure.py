"""Write the registrar or pool element unit from a JSON settings file.

Run on a VDU by cloud-init (``python3 -m mecpool.rserpool.configure
pool-element /etc/mecpool/pool-element.json``) and used by the charms through
:func:`pool_element_from_settings` / :func:`registrar_from_settings`, so both paths
validate and render the same way.  Exit status 2 and a one-line message naming
the field on bad settings; nothing is written then.

Python 3.6 compatible, standard library only.
"""

import json
import os
import re
import subprocess
import sys

from .commands import (ASAP_PORT, ConfigError, Endpoint, PoolElementConfig, RegistrarConfig,
                       pool_element_command, registrar_argv)
from .units import (PE_WATCHDOG_SERVICE, POOL_ELEMENT_SERVICE, POOL_ELEMENT_STATE_DIR, REGISTRAR_SERVICE,
                    pe_watchdog_unit, pool_element_unit, registrar_unit)

UNIT_DIR = "/etc/systemd/system"
# The settings files the PE cloud-init and the charms share (one per role).
SETTINGS_DIR = "/etc/mecpool"
SETTINGS_FILES = {
    "pool-element": SETTINGS_DIR + "/pool-element.json",
    "registrar": SETTINGS_DIR + "/registrar.json",
}

PE_KEYS = ("pool_handle", "registrars", "local_address", "local_port", "capacity",
           "max_jobs", "load_increment", "policy", "identifier", "loglevel", "preload")
# The service's CalcApp result files.  Without them rspserver writes both into its
# working directory; the vector grows by one line per job for the life of the
# VDU, so the service keeps only the scalars (totals, written when it stops) and
# the journal keeps each job's "accepted" line.
PE_SCALAR_FILE = POOL_ELEMENT_STATE_DIR + "/calcapppoolelement.sca"
PE_VECTOR_FILE = "/dev/null"

PR_KEYS = ("address", "peers", "identifier", "loglevel", "asap_port", "enrp_port",
           "endpoint_keepalive_ms")


def split_list(value):
    """Accept a list or a comma/space separated string (charm config, OSM params)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v for v in re.split(r"[,\s]+", str(value)) if v]


def _check_keys(settings, allowed, role):
    if not isinstance(settings, dict):
        raise ConfigError(role, "settings must be a mapping")
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise ConfigError("{}.{}".format(role, unknown[0]), "unknown setting")


def route_source_argv(destination):
    """argv asking the kernel which source address it uses towards ``destination``."""
    return ["ip", "-o", "route", "get", destination]


def parse_route_source(output, destination):
    """The ``src`` address of ``ip -o route get`` output."""
    match = re.search(r"\bsrc\s+(\S+)", output)
    if not match:
        raise ConfigError("pool_element.local_address",
                          "no route with a source address towards {}".format(destination))
    return match.group(1)


def source_address_towards(destination):
    """The local address the kernel would use to reach ``destination``."""
    output = subprocess.check_output(route_source_argv(destination), universal_newlines=True)
    return parse_route_source(output, destination)


def pool_element_from_settings(settings, resolve=source_address_towards):
    """PoolElementConfig from a settings mapping; ``local_address: auto`` picks the
    address that routes to the first registrar (the pool network interface)."""
    _check_keys(settings, PE_KEYS, "pool_element")
    values = dict(settings)
    values["registrars"] = split_list(values.get("registrars"))
    if not values["registrars"]:
        raise ConfigError("pool_element.registrars", "at least one address is required")
    if values.get("local_address", "auto") in (None, "", "auto"):
        # Check the registrar first, so a typo there is not reported as a routing error.
        first = Endpoint.parse(values["registrars"][0], ASAP_PORT, "pool_element.registrars[0]")
        values["local_address"] = resolve(first.address)
    for key in ("identifier", "preload"):
        if values.get(key) in ("", None):
            values.pop(key, None)
    return PoolElementConfig(scalar_file=PE_SCALAR_FILE, vector_file=PE_VECTOR_FILE, **values)


def registrar_from_settings(settings, action_log_file=None):
    """RegistrarConfig from a settings mapping; ``action_log_file``: every message the
    registrar handles, timed (the VDU lab's freshness measurement turns it on)."""
    _check_keys(settings, PR_KEYS, "registrar")
    values = dict(settings, action_log_file=action_log_file)
    values["peers"] = split_list(values.get("peers"))
    if values.get("identifier") in ("", None):
        values.pop("identifier", None)
    return RegistrarConfig(**values)


def render(role, settings, resolve=source_address_towards):
    """(unit name, unit text) for ``role`` in {registrar, pool-element}.

    ``resolve`` finds the PE's local address when it is "auto" (a seam for tests).
    """
    if role == "pool-element":
        config = pool_element_from_settings(settings, resolve=resolve)
        return POOL_ELEMENT_SERVICE, pool_element_unit(pool_element_command(config),
                                                       config.pool_handle)
    if role == "registrar":
        config = registrar_from_settings(settings)
        return REGISTRAR_SERVICE, registrar_unit(registrar_argv(config), config.address)
    raise ConfigError("role", "{!r} is not registrar or pool-element".format(role))


def check_preload(role, settings):
    """On the VDU: a PE's preload must be there, else rspserver would run without it
    (ld.so only warns)."""
    preload = settings.get("preload") if role == "pool-element" else None
    if preload and not os.path.isfile(preload):
        raise ConfigError("pool_element.preload", "{} does not exist".format(preload))


def companion_units(role, settings_path):
    """[(unit name, unit text)] installed beside the role's service: the PE's watchdog."""
    if role == "pool-element":
        return [(PE_WATCHDOG_SERVICE, pe_watchdog_unit(settings_path))]
    return []


def settings_text(settings):
    """The canonical JSON text of a settings mapping (sorted keys, one per line)."""
    return json.dumps(settings, indent=2, sort_keys=True) + "\n"


def write_atomic(path, text, mode=0o644):
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (2, 3):
        sys.stderr.write("usage: python3 -m mecpool.rserpool.configure "
                         "registrar|pool-element SETTINGS.json [UNIT_DIR]\n")
        return 2
    role, settings_path = args[0], args[1]
    unit_dir = args[2] if len(args) == 3 else UNIT_DIR
    try:
        with open(settings_path) as handle:
            settings = json.load(handle)
        name, text = render(role, settings)
        check_preload(role, settings)
    except (OSError, ValueError) as error:  # ConfigError is a ValueError
        sys.stderr.write("mecpool: {}\n".format(error))
        return 2
    units = [(name, text)] + companion_units(role, settings_path)
    for unit_name, unit_text in units:
        write_atomic(os.path.join(unit_dir, unit_name), unit_text)
    sys.stdout.write("".join("{}\n".format(unit_name) for unit_name, _ in units))
    return 0


if __name__ == "__main__":
    sys.exit(main())
