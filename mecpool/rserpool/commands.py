"""RSPLIB command lines: registrar, pool element (CalcApp), pool user, hsdump.

Every value is checked here, once, before any argv is produced; callers (the
charms, the cloud-init configurator, the testbed) never assemble options.
Pitfalls this module encodes (see shared docs, rsplib.md):

* ports are always explicit: without one RSPLIB binds a random port;
* the PE policy ``PriorityLeastUsed`` needs its increment (``:0.1``);
* ``-runtime`` of rspserver is in milliseconds, of calcappclient in seconds;
* calcappclient rejects the ``-registrar*timeout`` options ("Bad arguments");
* announces are switched off: pools here are configured statically.

Python 3.6 compatible, standard library only.
"""

import ipaddress
import re

ASAP_PORT = 3863
ENRP_PORT = 9901
PE_PORT = 9000  # CalcApp PE port; fixed so security groups can name it

POLICIES = ("PriorityLeastUsed", "LeastUsed", "RoundRobin", "Random")
# rspregistrar clamps -endpointkeepalivetransmissioninterval to this (ms); we refuse instead.
ENDPOINT_KEEPALIVE_MS = (300, 300000)
_POOL_HANDLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_OBJECT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\[\]-]{0,127}$")
_PATH_RE = re.compile(r"^/?[A-Za-z0-9._/-]{1,255}$")


class ConfigError(ValueError):
    """A configuration value is invalid; ``field`` names it."""

    def __init__(self, field, problem):
        ValueError.__init__(self, "{}: {}".format(field, problem))
        self.field = field
        self.problem = problem


def check_address(field, value):
    """Return ``value`` as a normalised IPv4/IPv6 address string."""
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        raise ConfigError(field, "{!r} is not an IP address".format(value))


def check_port(field, value):
    port = check_int(field, value, 1, 65535)
    return port


def check_int(field, value, low, high):
    if isinstance(value, bool):
        raise ConfigError(field, "must be an integer, not a boolean")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(field, "{!r} is not an integer".format(value))
    if isinstance(value, float) and value != number:
        raise ConfigError(field, "{!r} is not a whole number".format(value))
    if number < low or number > high:
        raise ConfigError(field, "{} is outside {}..{}".format(number, low, high))
    return number


def check_float(field, value, low, high):
    if isinstance(value, bool):
        raise ConfigError(field, "must be a number, not a boolean")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(field, "{!r} is not a number".format(value))
    if number != number or number < low or number > high:  # NaN fails too
        raise ConfigError(field, "{} is outside {}..{}".format(number, low, high))
    return number


def check_pool_handle(field, value):
    if not isinstance(value, str) or not _POOL_HANDLE_RE.match(value):
        raise ConfigError(field, "{!r} is not a pool handle (letters, digits, . _ -; "
                                 "at most 64 characters)".format(value))
    return value


def check_identifier(field, value):
    """A PR/PE identifier: 1..2^32-1, rendered as 0x hex for RSPLIB."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = int(value, 0)
        except ValueError:
            raise ConfigError(field, "{!r} is not an integer identifier".format(value))
    return check_int(field, value, 1, 0xFFFFFFFF)


def check_path(field, value):
    if value is None:
        return None
    if not isinstance(value, str) or not _PATH_RE.match(value) or ".." in value.split("/"):
        raise ConfigError(field, "{!r} is not a safe file path".format(value))
    return value


def check_object(field, value):
    if value is None:
        return None
    if not isinstance(value, str) or not _OBJECT_RE.match(value):
        raise ConfigError(field, "{!r} is not a valid object name".format(value))
    return value


class Endpoint(object):
    """A transport address: IP and explicit port."""

    __slots__ = ("address", "port")

    def __init__(self, address, port, field="endpoint"):
        self.address = check_address(field + ".address", address)
        self.port = check_port(field + ".port", port)

    @classmethod
    def parse(cls, text, default_port, field="endpoint"):
        """Parse ``ADDR``, ``ADDR:PORT`` or ``[V6]:PORT``."""
        text = str(text).strip()
        match = re.match(r"^\[([^\]]+)\](?::(\d+))?$", text)
        if match:
            return cls(match.group(1), match.group(2) or default_port, field)
        if text.count(":") == 1:
            address, port = text.split(":")
            return cls(address, port, field)
        return cls(text, default_port, field)

    def __str__(self):
        if ":" in self.address:
            return "[{}]:{}".format(self.address, self.port)
        return "{}:{}".format(self.address, self.port)

    def __eq__(self, other):
        return isinstance(other, Endpoint) and str(self) == str(other)

    def __hash__(self):
        return hash(str(self))

    def __repr__(self):
        return "Endpoint({!r})".format(str(self))


def _endpoints(field, values, default_port, allow_empty=False):
    if isinstance(values, (str, Endpoint)):
        values = [values]
    result = []
    for index, value in enumerate(values or []):
        item_field = "{}[{}]".format(field, index)
        if isinstance(value, Endpoint):
            result.append(value)
        else:
            result.append(Endpoint.parse(value, default_port, item_field))
    if not result and not allow_empty:
        raise ConfigError(field, "at least one address is required")
    seen = set()
    for index, endpoint in enumerate(result):
        if endpoint in seen:
            raise ConfigError("{}[{}]".format(field, index), "{} is listed twice".format(endpoint))
        seen.add(endpoint)
    return result


def _policy_option(field, policy, load_increment):
    if policy not in POLICIES:
        raise ConfigError(field, "{!r} is not one of {}".format(policy, ", ".join(POLICIES)))
    if policy == "PriorityLeastUsed":
        increment = check_float(field + ".load_increment", load_increment, 0.0, 1.0)
        # RSPLIB parses the value with %lf; keep it short and exact.
        return "-policy=PriorityLeastUsed:{}".format(_format_fraction(increment))
    return "-policy={}".format(policy)


def _format_fraction(value):
    text = "{:.6f}".format(value).rstrip("0")
    return text + "0" if text.endswith(".") else text


class RegistrarConfig(object):
    """Settings of one Pool Registrar (rspregistrar)."""

    def __init__(self, address, peers=(), identifier=None, asap_port=ASAP_PORT,
                 enrp_port=ENRP_PORT, loglevel=2, logfile=None, statsfile=None,
                 statsinterval_ms=1000, pidfile=None, endpoint_keepalive_ms=None,
                 action_log_file=None):
        self.address = check_address("registrar.address", address)
        self.asap_port = check_port("registrar.asap_port", asap_port)
        self.enrp_port = check_port("registrar.enrp_port", enrp_port)
        self.peers = _endpoints("registrar.peers", peers, ENRP_PORT, allow_empty=True)
        own = Endpoint(self.address, self.enrp_port)
        if own in self.peers:
            raise ConfigError("registrar.peers", "lists the registrar itself ({})".format(own))
        self.identifier = check_identifier("registrar.identifier", identifier)
        self.loglevel = check_int("registrar.loglevel", loglevel, 0, 9)
        self.logfile = check_path("registrar.logfile", logfile)
        self.statsfile = check_path("registrar.statsfile", statsfile)
        self.statsinterval_ms = check_int("registrar.statsinterval_ms", statsinterval_ms, 100, 3600000)
        self.pidfile = check_path("registrar.pidfile", pidfile)
        # Every ASAP/ENRP message the registrar handles, with its time in microseconds.
        self.action_log_file = check_path("registrar.action_log_file", action_log_file)
        # How often the registrar sends ASAP Endpoint Keep-Alives to its PEs (RSPLIB
        # default 5000 ms).  In stock RSPLIB 3.4.4 a PE's load change waits in its ASAP
        # thread until that thread wakes up, normally for this keep-alive, so the
        # interval bounds how stale the loads are that PLU selects by (mecpool.rsplibfix
        # removes that wait).  None or 0 (also "0": OSM passes strings): RSPLIB's default.
        self.endpoint_keepalive_ms = None
        if endpoint_keepalive_ms not in (None, ""):
            keepalive = check_int("registrar.endpoint_keepalive_ms", endpoint_keepalive_ms,
                                  0, ENDPOINT_KEEPALIVE_MS[1])
            if 0 < keepalive < ENDPOINT_KEEPALIVE_MS[0]:
                raise ConfigError("registrar.endpoint_keepalive_ms",
                                  "{} is outside {}..{} (0: RSPLIB's default)".format(
                                      keepalive, *ENDPOINT_KEEPALIVE_MS))
            self.endpoint_keepalive_ms = keepalive or None


def registrar_argv(config, binary="rspregistrar"):
    """argv for ``rspregistrar`` with explicit ASAP and ENRP ports."""
    argv = [
        binary,
        "-asap={}".format(Endpoint(config.address, config.asap_port)),
        "-enrp={}".format(Endpoint(config.address, config.enrp_port)),
        "-asapannounce=off",
        "-enrpannounce=off",
        "-loglevel={}".format(config.loglevel),
        "-logcolor=off",
    ]
    for peer in config.peers:
        argv.append("-peer={}".format(peer))
    if config.identifier is not None:
        argv.append("-identifier=0x{:08x}".format(config.identifier))
    if config.endpoint_keepalive_ms is not None:
        argv.append("-endpointkeepalivetransmissioninterval={}".format(
            config.endpoint_keepalive_ms))
    if config.logfile:
        argv.append("-logfile={}".format(config.logfile))
    if config.statsfile:
        argv.append("-statsfile={}".format(config.statsfile))
        argv.append("-statsinterval={}".format(config.statsinterval_ms))
    if config.pidfile:
        argv.append("-daemonpidfile={}".format(config.pidfile))
    if config.action_log_file:
        argv.append("-actionlogfile={}".format(config.action_log_file))
    return argv


class PoolElementConfig(object):
    """Settings of one CalcApp Pool Element (``rspserver -calcapp``)."""

    def __init__(self, pool_handle, registrars, local_address, capacity=1000000,
                 max_jobs=4, load_increment=0.1, policy="PriorityLeastUsed",
                 local_port=PE_PORT, identifier=None, reregister_interval_ms=30000,
                 object_name=None, scalar_file=None, vector_file=None, runtime_ms=None,
                 loglevel=2, logfile=None, preload=None):
        self.pool_handle = check_pool_handle("pool_element.pool_handle", pool_handle)
        self.registrars = _endpoints("pool_element.registrars", registrars, ASAP_PORT)
        self.local_address = check_address("pool_element.local_address", local_address)
        self.local_port = check_port("pool_element.local_port", local_port)
        self.capacity = check_float("pool_element.capacity", capacity, 1.0, 1e12)
        self.max_jobs = check_int("pool_element.max_jobs", max_jobs, 1, 10000)
        self.policy = policy
        self.load_increment = load_increment
        self.policy_option = _policy_option("pool_element.policy", policy, load_increment)
        self.identifier = check_identifier("pool_element.identifier", identifier)
        self.reregister_interval_ms = check_int("pool_element.reregister_interval_ms",
                                                reregister_interval_ms, 1000, 3600000)
        self.object_name = check_object("pool_element.object_name", object_name)
        self.scalar_file = check_path("pool_element.scalar_file", scalar_file)
        self.vector_file = check_path("pool_element.vector_file", vector_file)
        self.runtime_ms = None if runtime_ms is None else check_int(
            "pool_element.runtime_ms", runtime_ms, 1, 10 ** 9)
        self.loglevel = check_int("pool_element.loglevel", loglevel, 0, 9)
        self.logfile = check_path("pool_element.logfile", logfile)
        # A library rspserver runs with (LD_PRELOAD): our librspfreshload (mecpool.rsplibfix).
        self.preload = check_path("pool_element.preload", preload)
        if self.preload is not None and not self.preload.startswith("/"):
            raise ConfigError("pool_element.preload", "{!r} must be an absolute path".format(preload))


def pool_element_environment(config):
    """Environment variables rspserver needs besides its argv (the preload, if any)."""
    return {"LD_PRELOAD": config.preload} if config.preload else {}


def pool_element_command(config, binary="rspserver"):
    """rspserver's argv, behind ``env`` when it needs environment variables: only
    rspserver gets them (not a unit's ExecStartPre), and ``env`` execs it, so its PID
    is still rspserver's."""
    environment = pool_element_environment(config)
    prefix = ["env"] + ["{}={}".format(k, v) for k, v in sorted(environment.items())]
    return (prefix if environment else []) + pool_element_argv(config, binary)


def pool_element_argv(config, binary="rspserver"):
    """argv for ``rspserver -calcapp``; capacity is shared by up to max_jobs jobs."""
    argv = [
        binary,
        "-calcapp",
        "-poolhandle={}".format(config.pool_handle),
        "-local={}".format(Endpoint(config.local_address, config.local_port)),
        "-asapannounce=off",
    ]
    argv.extend("-registrar={}".format(r) for r in config.registrars)
    argv.extend([
        config.policy_option,
        "-capcapacity={}".format(_format_number(config.capacity)),
        "-capmaxjobs={}".format(config.max_jobs),
        "-rereginterval={}".format(config.reregister_interval_ms),
        "-loglevel={}".format(config.loglevel),
        "-logcolor=off",
    ])
    if config.identifier is not None:
        argv.append("-identifier=0x{:08x}".format(config.identifier))
    if config.object_name:
        argv.append("-capobject={}".format(config.object_name))
    if config.scalar_file:
        argv.append("-capscalar={}".format(config.scalar_file))
    if config.vector_file:
        argv.append("-capvector={}".format(config.vector_file))
    if config.logfile:
        argv.append("-logfile={}".format(config.logfile))
    if config.runtime_ms is not None:
        argv.append("-runtime={}".format(config.runtime_ms))
    return argv


def _format_number(value):
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class PoolUserConfig(object):
    """Settings of one CalcApp Pool User (``calcappclient``)."""

    def __init__(self, pool_handle, registrars, job_interval_s=10.0, job_size=1000000,
                 runtime_s=300, object_name=None, scalar_file=None, vector_file=None,
                 loglevel=1, logfile=None):
        self.pool_handle = check_pool_handle("pool_user.pool_handle", pool_handle)
        self.registrars = _endpoints("pool_user.registrars", registrars, ASAP_PORT)
        self.job_interval_s = check_float("pool_user.job_interval_s", job_interval_s, 0.001, 1e6)
        self.job_size = check_float("pool_user.job_size", job_size, 1.0, 1e12)
        self.runtime_s = check_float("pool_user.runtime_s", runtime_s, 1.0, 1e7)
        self.object_name = check_object("pool_user.object_name", object_name)
        self.scalar_file = check_path("pool_user.scalar_file", scalar_file)
        self.vector_file = check_path("pool_user.vector_file", vector_file)
        self.loglevel = check_int("pool_user.loglevel", loglevel, 0, 9)
        self.logfile = check_path("pool_user.logfile", logfile)


def pool_user_argv(config, binary="calcappclient"):
    """argv for ``calcappclient``.  Scalars are written only when -runtime expires
    or on SIGINT, so a runner must stop it with SIGINT, never SIGTERM."""
    argv = [binary, "-poolhandle={}".format(config.pool_handle)]
    argv.extend("-registrar={}".format(r) for r in config.registrars)
    argv.extend([
        "-asapannounce=off",
        "-jobinterval={}".format(_format_number(config.job_interval_s)),
        "-jobsize={}".format(_format_number(config.job_size)),
        "-runtime={}".format(_format_number(config.runtime_s)),
        "-loglevel={}".format(config.loglevel),
        "-logcolor=off",
    ])
    if config.object_name:
        argv.append("-object={}".format(config.object_name))
    if config.scalar_file:
        argv.append("-scalar={}".format(config.scalar_file))
    if config.vector_file:
        argv.append("-vector={}".format(config.vector_file))
    if config.logfile:
        argv.append("-logfile={}".format(config.logfile))
    return argv


def hsdump_argv(registrar_address, enrp_port=ENRP_PORT, binary="hsdump"):
    """argv for ``hsdump``: poses as a peer PR at the registrar's ENRP port."""
    return [binary, str(Endpoint(registrar_address, enrp_port, "hsdump.registrar"))]
