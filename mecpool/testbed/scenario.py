"""Load and validate a testbed scenario file (YAML) and resolve a profile.

A scenario describes the sites (one network namespace each) and the delays
between them, the registrars, the PE groups and the PUs; profiles name the PU
counts, run length and repetitions.  Every problem is reported as
``ScenarioError`` naming the field path (``pool_elements.mec.capacity``) and
what is wrong, before anything is started or written.
"""

import ipaddress
import math
import re
from importlib import resources
from pathlib import Path

import yaml

from mecpool import rsplibfix
from mecpool.rserpool.commands import ENDPOINT_KEEPALIVE_MS, POLICIES

GROUPS = ("ue", "mec", "pmc")  # the PE groups the results and the report know
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
MAX_PUS = 1000


class ScenarioError(ValueError):
    """A scenario value is invalid; ``field`` is its path."""

    def __init__(self, field, problem):
        ValueError.__init__(self, "{}: {}".format(field, problem))
        self.field = field
        self.problem = problem


# ------------------------------------------------------------------ checkers

def _mapping(field, value, required=(), optional=()):
    if not isinstance(value, dict):
        raise ScenarioError(field, "must be a mapping, not {}".format(_kind(value)))
    for key in value:
        if key not in required and key not in optional:
            raise ScenarioError(_join(field, key), "unknown field (expected one of {})".format(
                ", ".join(list(required) + list(optional))))
    for key in required:
        if key not in value:
            raise ScenarioError(_join(field, key), "is required")
    return value


def _join(field, key):
    return "{}.{}".format(field, key) if field else str(key)


def _kind(value):
    return "null" if value is None else type(value).__name__


def _name(field, value):
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise ScenarioError(field, "{!r} is not a name (lower-case letters, digits and -, "
                                   "starting with a letter, at most 24 characters)".format(value))
    return value


def _number(field, value, low, high, integer=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(field, "must be a number, not {}".format(_kind(value)))
    if isinstance(value, float) and not math.isfinite(value):
        raise ScenarioError(field, "{} is not a finite number".format(value))
    if integer and value != int(value):
        raise ScenarioError(field, "{} is not a whole number".format(value))
    if value < low or value > high:
        raise ScenarioError(field, "{} is outside {}..{}".format(value, low, high))
    return int(value) if integer else float(value)


def _list(field, value, min_items=1):
    if not isinstance(value, list):
        raise ScenarioError(field, "must be a list, not {}".format(_kind(value)))
    if len(value) < min_items:
        raise ScenarioError(field, "needs at least {} item(s)".format(min_items))
    return value


def _names(field, value, known, what):
    names = []
    for index, item in enumerate(_list(field, value)):
        item_field = "{}[{}]".format(field, index)
        _name(item_field, item)
        if item not in known:
            raise ScenarioError(item_field, "{!r} is not a {} of this scenario (known: {})".format(
                item, what, ", ".join(sorted(known))))
        if item in names:
            raise ScenarioError(item_field, "{!r} is listed twice".format(item))
        names.append(item)
    return names


# ------------------------------------------------------------------ model

class Site:
    def __init__(self, name, region, access_rtt_ms, index):
        self.name = name
        self.region = region
        self.access_rtt_ms = access_rtt_ms
        self.index = index


class Registrar:
    def __init__(self, name, site, index):
        self.name = name
        self.site = site
        self.index = index


class PeGroup:
    def __init__(self, name, sites, per_site, capacity, load_increment, registrars):
        self.name = name
        self.sites = sites
        self.per_site = per_site
        self.capacity = capacity
        self.load_increment = load_increment
        self.registrars = registrars


class PoolUsers:
    def __init__(self, site, registrars, job_size, job_interval_s):
        self.site = site
        self.registrars = registrars
        self.job_size = job_size
        self.job_interval_s = job_interval_s


class Profile:
    def __init__(self, name, pus, runtime_s, runs):
        self.name = name
        self.pus = pus
        self.runtime_s = runtime_s
        self.runs = runs


class Scenario:
    """A validated scenario; ``data`` keeps the mapping it was made from."""

    def __init__(self, data, source):
        self.data = data
        self.source = source
        _mapping("", data, required=("name", "pool_handle", "network", "sites", "registrars",
                                     "pool_elements", "pool_users", "profiles"),
                 optional=("policy", "max_jobs", "endpoint_keepalive_ms", "rsplib"))
        self.name = _name("name", data["name"])
        handle = data["pool_handle"]
        if not isinstance(handle, str) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", handle):
            raise ScenarioError("pool_handle", "{!r} is not a pool handle".format(handle))
        self.pool_handle = handle
        self.policy = data.get("policy", "PriorityLeastUsed")
        if self.policy not in POLICIES:
            raise ScenarioError("policy", "{!r} is not one of {}".format(self.policy,
                                                                         ", ".join(POLICIES)))
        self.max_jobs = _number("max_jobs", data.get("max_jobs", 4), 1, 1000, integer=True)
        # Stock RSPLIB pool elements, or the same binaries with our librspfreshload.
        self.rsplib = data.get("rsplib", rsplibfix.DEFAULT_VARIANT)
        if self.rsplib not in rsplibfix.VARIANTS:
            raise ScenarioError("rsplib", "{!r} is not one of {}".format(
                self.rsplib, ", ".join(rsplibfix.VARIANTS)))
        # The registrars' endpoint keep-alive interval (None: RSPLIB's 5000 ms).  Stock PEs
        # report load changes only when it wakes them, so unset it follows the variant.
        keepalive = data.get("endpoint_keepalive_ms")
        self.endpoint_keepalive_ms = (
            rsplibfix.VARIANT_KEEPALIVE_MS[self.rsplib] if keepalive is None else
            _number("endpoint_keepalive_ms", keepalive, *ENDPOINT_KEEPALIVE_MS, integer=True))
        self._load_network(data["network"])
        self._load_sites(data["sites"])
        self._check_region_pairs()
        self._load_registrars(data["registrars"])
        self._load_pool_elements(data["pool_elements"])
        self._load_pool_users(data["pool_users"])
        self._load_profiles(data["profiles"])

    # -- sections
    def _load_network(self, network):
        _mapping("network", network, required=("subnet", "regions"))
        try:
            self.subnet = ipaddress.IPv4Network(str(network["subnet"]), strict=True)
        except ValueError as error:
            raise ScenarioError("network.subnet", "{!r} is not an IPv4 network ({})".format(
                network["subnet"], error))
        if not self.subnet.is_private:
            raise ScenarioError("network.subnet", "{} is not a private (site-local) network; "
                                "RSPLIB registers only site-local or better addresses and the "
                                "testbed must not shadow real ones".format(self.subnet))
        self.region_rtt = {}
        for index, item in enumerate(_list("network.regions", network["regions"])):
            field = "network.regions[{}]".format(index)
            _mapping(field, item, required=("between", "rtt_ms"))
            pair = _list(field + ".between", item["between"], 2)
            if len(pair) != 2:
                raise ScenarioError(field + ".between", "must name exactly two regions")
            a = _name(field + ".between[0]", pair[0])
            b = _name(field + ".between[1]", pair[1])
            key = frozenset((a, b))
            if key in self.region_rtt:
                raise ScenarioError(field, "the pair {}/{} is given twice".format(a, b))
            self.region_rtt[key] = _number(field + ".rtt_ms", item["rtt_ms"], 0, 10000)

    def _load_sites(self, sites):
        _mapping("sites", sites, optional=tuple(sites) if isinstance(sites, dict) else ())
        if not sites:
            raise ScenarioError("sites", "needs at least one site")
        capacity = self.subnet.num_addresses - 2
        if len(sites) > capacity:
            raise ScenarioError("sites", "{} sites do not fit into network.subnet {}".format(
                len(sites), self.subnet))
        self.sites = {}
        for index, (name, value) in enumerate(sites.items()):
            field = "sites.{}".format(name)
            _name(field, name)
            _mapping(field, value, required=("region",), optional=("access_rtt_ms",))
            region = _name(field + ".region", value["region"])
            access = _number(field + ".access_rtt_ms", value.get("access_rtt_ms", 0), 0, 10000)
            self.sites[name] = Site(name, region, access, index)

    def _check_region_pairs(self):
        regions = sorted({site.region for site in self.sites.values()})
        for a in regions:
            for b in regions:
                if frozenset((a, b)) not in self.region_rtt:
                    raise ScenarioError("network.regions", "no round-trip time between regions "
                                        "{} and {} (used by sites)".format(a, b))

    def _load_registrars(self, registrars):
        if not isinstance(registrars, dict) or not registrars:
            raise ScenarioError("registrars", "must be a non-empty mapping of registrar names")
        self.registrars = {}
        used_sites = {}
        for index, (name, value) in enumerate(registrars.items()):
            field = "registrars.{}".format(name)
            _name(field, name)
            _mapping(field, value, required=("site",))
            site = _names(field + ".site", [value["site"]], self.sites, "site")[0]
            if site in used_sites:
                raise ScenarioError(field + ".site", "site {} already runs registrar {} (one per "
                                    "site: the ASAP/ENRP ports are fixed)".format(site, used_sites[site]))
            used_sites[site] = name
            self.registrars[name] = Registrar(name, site, index)

    def _load_pool_elements(self, groups):
        if not isinstance(groups, dict) or not groups:
            raise ScenarioError("pool_elements", "must be a non-empty mapping of PE groups")
        self.pe_groups = {}
        for name, value in groups.items():
            field = "pool_elements.{}".format(name)
            if name not in GROUPS:
                raise ScenarioError(field, "{!r} is not a PE group (one of {})".format(
                    name, ", ".join(GROUPS)))
            _mapping(field, value, required=("sites", "capacity", "load_increment", "registrars"),
                     optional=("per_site",))
            self.pe_groups[name] = PeGroup(
                name,
                _names(field + ".sites", value["sites"], self.sites, "site"),
                _number(field + ".per_site", value.get("per_site", 1), 1, 50, integer=True),
                _number(field + ".capacity", value["capacity"], 1, 1e12),
                _number(field + ".load_increment", value["load_increment"], 0, 1),
                _names(field + ".registrars", value["registrars"], self.registrars, "registrar"))

    def _load_pool_users(self, value):
        field = "pool_users"
        _mapping(field, value, required=("site", "registrars", "job_size", "job_interval_s"))
        self.pool_users = PoolUsers(
            _names(field + ".site", [value["site"]], self.sites, "site")[0],
            _names(field + ".registrars", value["registrars"], self.registrars, "registrar"),
            _number(field + ".job_size", value["job_size"], 1, 1e12),
            _number(field + ".job_interval_s", value["job_interval_s"], 0.001, 1e6))

    def _load_profiles(self, profiles):
        if not isinstance(profiles, dict) or not profiles:
            raise ScenarioError("profiles", "must be a non-empty mapping of profile names")
        self.profiles = {}
        for name, value in profiles.items():
            field = "profiles.{}".format(name)
            _name(field, name)
            _mapping(field, value, required=("pus", "runtime_s", "runs"))
            self.profiles[name] = Profile(
                name, check_pus(field + ".pus", value["pus"]),
                _number(field + ".runtime_s", value["runtime_s"], 5, 86400),
                _number(field + ".runs", value["runs"], 1, 100, integer=True))

    # -- derived values
    def rtt_ms(self, a, b):
        """Round-trip time between two distinct sites."""
        site_a, site_b = self.sites[a], self.sites[b]
        return (site_a.access_rtt_ms + site_b.access_rtt_ms
                + self.region_rtt[frozenset((site_a.region, site_b.region))])

    def address(self, site):
        return str(self.subnet.network_address + self.sites[site].index + 1)

    def with_increments(self, increments):
        """A copy whose PE groups use other PLU load increments ({group: fraction})."""
        data = _deep_copy(self.data)
        for group, value in increments.items():
            if group not in data["pool_elements"]:
                raise ScenarioError("policy.{}".format(group), "no PE group {!r} in this "
                                    "scenario (groups: {})".format(group, ", ".join(self.pe_groups)))
            data["pool_elements"][group]["load_increment"] = value
        return Scenario(data, self.source)

    def with_rsplib(self, variant):
        """A copy whose pool elements run the ``stock`` or ``fixed`` RSPLIB (mecpool.rsplibfix)."""
        return self._with("rsplib", variant, "--rsplib")

    def with_endpoint_keepalive(self, milliseconds):
        """A copy whose registrars use another endpoint keep-alive interval (ms)."""
        return self._with("endpoint_keepalive_ms", milliseconds, "--endpoint-keepalive")

    def _with(self, key, value, option):
        """A copy with one top-level value changed; its problem is reported against ``option``."""
        data = _deep_copy(self.data)
        data[key] = value
        try:
            return Scenario(data, self.source)
        except ScenarioError as error:
            raise ScenarioError(option, error.problem)


def _deep_copy(value):
    if isinstance(value, dict):
        return {key: _deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy(item) for item in value]
    return value


def check_pus(field, value):
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    counts = []
    for index, item in enumerate(_list(field, value)):
        count = _number("{}[{}]".format(field, index), item, 1, MAX_PUS, integer=True)
        if count in counts:
            raise ScenarioError("{}[{}]".format(field, index), "{} is listed twice".format(count))
        counts.append(count)
    return counts


def parse_policy(text):
    """``pmc=0.5,mec=0.1,ue=1.0`` -> {group: increment}; errors name ``--policy``."""
    increments = {}
    for part in [p.strip() for p in str(text).split(",") if p.strip()]:
        group, sep, value = part.partition("=")
        group = group.strip()
        if not sep:
            raise ScenarioError("--policy", "{!r} is not GROUP=INCREMENT".format(part))
        if group not in GROUPS:
            raise ScenarioError("--policy", "{!r} is not a PE group (one of {})".format(
                group, ", ".join(GROUPS)))
        try:
            number = float(value)
        except ValueError:
            raise ScenarioError("--policy", "{}={!r}: the increment is not a number".format(
                group, value))
        if not 0 <= number <= 1:
            raise ScenarioError("--policy", "{}={}: the increment must be a fraction 0..1 "
                                "(0.1 = +10 %)".format(group, number))
        increments[group] = number
    if not increments:
        raise ScenarioError("--policy", "is empty")
    return increments


def default_scenario_path():
    return resources.files("mecpool.testbed") / "scenarios" / "paper.yaml"


def load(path=None):
    """Load and validate a scenario file (the packaged paper.yaml by default)."""
    source = Path(str(path)) if path else default_scenario_path()
    try:
        text = source.read_text()
    except OSError as error:
        raise ScenarioError("scenario", "cannot read {}: {}".format(source, error.strerror))
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError("scenario", "{} is not valid YAML: {}".format(source, error))
    return Scenario(data, str(source))


class RunSettings:
    """What to run: PU counts, runtime, repetitions (a profile plus overrides)."""

    def __init__(self, scenario, profile="quick", pus=None, runtime_s=None, runs=None):
        if profile not in scenario.profiles:
            raise ScenarioError("--profile", "{!r} is not a profile of {} (profiles: {})".format(
                profile, scenario.name, ", ".join(scenario.profiles)))
        base = scenario.profiles[profile]
        self.profile = profile
        self.pus = check_pus("--pus", pus) if pus is not None else list(base.pus)
        self.runtime_s = (_number("--runtime", runtime_s, 5, 86400)
                          if runtime_s is not None else base.runtime_s)
        self.runs = _number("--runs", runs, 1, 100, integer=True) if runs is not None else base.runs

    def run_keys(self):
        """(pus, run) for every run, run numbers from 1."""
        return [(pus, run) for pus in self.pus for run in range(1, self.runs + 1)]


def resolved(scenario, settings):
    """The mapping written as scenario.yaml next to the results."""
    data = _deep_copy(scenario.data)
    data["resolved"] = {
        "source": scenario.source,
        "profile": settings.profile,
        "pus": list(settings.pus),
        "runtime_s": settings.runtime_s,
        "runs": settings.runs,
        "addresses": {name: scenario.address(name) for name in scenario.sites},
        "rtt_ms": {"{} {}".format(a, b): scenario.rtt_ms(a, b)
                   for a in scenario.sites for b in scenario.sites if a < b},
    }
    return data
