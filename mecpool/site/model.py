"""The site-parameters model: one YAML file describes one testbed.

Every field is checked here, with cross-references (VIM names, registrar peers,
addresses inside their subnets, non-overlapping subnets), before anything is
built or any remote call is made.  Secrets (K, OP, VIM passwords) are SecretStr
or the name of an environment variable; they are only revealed by
:meth:`Secret.reveal` when an instantiation config or VIM call needs them.
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Annotated, Literal

from pydantic import (BaseModel, ConfigDict, Field, SecretStr, StrictBool, StringConstraints,
                      field_validator, model_validator)

from mecpool import rsplibfix
from mecpool.rserpool.commands import ENDPOINT_KEEPALIVE_MS

# Names end up in descriptor ids, OSM member names, file names and command lines:
# keep them to a safe alphabet so nothing user-given can inject anything.
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$")]
# VIM-side names (networks, images, accounts): OpenStack allows more, we allow what is safe.
VimName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]{0,63}$")]
Digits = Annotated[str, StringConstraints(pattern=r"^[0-9]+$")]
HexKey = re.compile(r"^[0-9A-Fa-f]{32}$")
GitRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


def _network(value: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"{value!r} is not an IPv4 subnet in CIDR form ({error})") from None


def _address(value: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 address") from None


class Subnet(Strict):
    subnet: str
    gateway: str | None = None

    @field_validator("subnet")
    @classmethod
    def _subnet(cls, value: str) -> str:
        return str(_network(value))

    @field_validator("gateway")
    @classmethod
    def _gateway(cls, value: str | None) -> str | None:
        return None if value is None else str(_address(value))

    @model_validator(mode="after")
    def _gateway_inside(self) -> "Subnet":
        if self.gateway is not None:
            check_inside(self.gateway, self.subnet, "gateway")
        return self

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.subnet)


def check_inside(address: str, subnet: str, field: str) -> None:
    net = ipaddress.IPv4Network(subnet)
    addr = ipaddress.IPv4Address(address)
    if addr not in net:
        raise ValueError(f"{field} {address} is outside its subnet {subnet}")
    if addr in (net.network_address, net.broadcast_address):
        raise ValueError(f"{field} {address} is the network or broadcast address of {subnet}")


class Secret(Strict):
    """A secret given inline (``value``) or by environment variable (``env``)."""

    value: SecretStr | None = None
    env: EnvName | None = None

    def reveal(self, field: str) -> str:
        if self.value is not None:
            return self.value.get_secret_value()
        if self.env and os.environ.get(self.env):
            return os.environ[self.env]
        raise ValueError(f"{field}: environment variable {self.env} is not set")


class PoolNetwork(Subnet):
    name: VimName


def exactly_one(model: BaseModel, name: str) -> None:
    """A secret ``name`` given inline or by ``name_env``, exactly one of them."""
    if (getattr(model, name) is None) == (getattr(model, name + "_env") is None):
        raise ValueError(f"give exactly one of {name} or {name}_env")


class PasswordSource(Strict):
    """A password given inline or by environment variable, exactly one of them."""

    password: SecretStr | None = None
    password_env: EnvName | None = None

    @model_validator(mode="after")
    def _one_password_source(self):
        exactly_one(self, "password")
        return self

    def secret_password(self) -> Secret:
        return Secret(value=self.password, env=self.password_env)


FilePath = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._/~-]+$")]


class ApplicationCredential(Strict):
    """A Keystone application credential: mecpool's own ``openstack`` calls use it instead of a password."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    secret: SecretStr | None = None
    secret_env: EnvName | None = None

    @model_validator(mode="after")
    def _one_secret_source(self):
        exactly_one(self, "secret")
        return self


class OpenStackAccount(Strict):
    """How mecpool reaches one VIM, in one of three OpenStack conventions:
    ``auth_url`` + ``project`` + ``user`` + a password; the same with an ``application_credential``
    (then the password only serves OSM's VIM account, which Release EIGHT keeps as user/password);
    or ``cloud``, an entry of a clouds.yaml (``clouds_file``, else the standard places)."""

    auth_url: Annotated[str, StringConstraints(pattern=r"^https?://[A-Za-z0-9.:/_-]+$")] | None = None
    project: VimName | None = None
    user: VimName | None = None
    password: SecretStr | None = None
    password_env: EnvName | None = None
    region: VimName | None = None
    insecure: bool = False
    domain: VimName = "Default"
    cacert: FilePath | None = None              # CA bundle of the VIM's endpoints (relative to the site file)
    application_credential: ApplicationCredential | None = None
    cloud: VimName | None = None                # an entry of clouds.yaml
    clouds_file: FilePath | None = None         # relative to the site file

    @model_validator(mode="after")
    def _one_convention(self):
        if self.password is not None and self.password_env is not None:
            raise ValueError("give exactly one of password or password_env")
        if self.insecure and self.cacert:
            raise ValueError("insecure and cacert exclude each other (cacert verifies, insecure does not)")
        if self.cloud is not None:
            given = [f for f in ("auth_url", "project", "user", "password", "password_env", "application_credential")
                     if getattr(self, f) is not None]
            if given:
                raise ValueError(f"cloud {self.cloud!r} takes the account from clouds.yaml: leave out "
                                 f"{', '.join(given)}")
            return self
        if self.clouds_file is not None:
            raise ValueError("clouds_file needs cloud (the entry of that file to use)")
        missing = [f for f in ("auth_url", "project") if getattr(self, f) is None]
        if self.application_credential is None:
            missing += [f for f in ("user",) if getattr(self, f) is None]
            if self.password is None and self.password_env is None:
                missing.append("password or password_env")
        if missing:
            raise ValueError(f"missing {', '.join(missing)} (or give cloud: an entry of clouds.yaml)")
        if (self.password is not None or self.password_env is not None) and self.user is None:
            raise ValueError("a password needs user")
        return self

    def secret_password(self) -> Secret | None:
        """The password for OSM's VIM account, None where the site gives none."""
        if self.password is None and self.password_env is None:
            return None
        return Secret(value=self.password, env=self.password_env)


class Vim(Strict):
    osm_account: VimName
    mgmt_network: VimName
    pool_network: PoolNetwork
    openstack: OpenStackAccount
    # Where OSM's VCA (N2VC: it installs the native charms over SSH) and the operator connect from, as
    # the VDUs see them (CIDRs).  The security group allows SSH and ICMP from these and from the
    # management subnets; without them the VCA must sit on the management network.
    osm_sources: Annotated[list[str], Field(max_length=16)] = []

    @field_validator("osm_sources")
    @classmethod
    def _sources(cls, value: list[str]) -> list[str]:
        out = []
        for item in value:
            try:
                out.append(str(ipaddress.IPv4Network(item, strict=False)))
            except ValueError:
                raise ValueError(f"{item!r} is not an IPv4 address or subnet (CIDR)") from None
        return out


class Image(Strict):
    name: VimName
    file: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._/-]+$")] | None = None


class Flavor(Strict):
    vcpus: Annotated[int, Field(ge=1, le=128)]
    ram_mb: Annotated[int, Field(ge=256, le=1048576)]
    disk_gb: Annotated[int, Field(ge=1, le=16384)]


class Flavors(Strict):
    hss: Flavor
    mme: Flavor
    spgwc: Flavor
    spgwu: Flavor
    registrar: Flavor
    pool_element: Flavor


class ExternalNetwork(Subnet):
    vim_network: VimName


class Networks(Strict):
    s1c: ExternalNetwork
    s1u: ExternalNetwork
    sgi: ExternalNetwork
    s6a: Subnet
    s11: Subnet
    sxab: Subnet


class GitSource(Strict):
    repository: str
    commit: str

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        if not re.fullmatch(r"(https://|git://|ssh://)[A-Za-z0-9._~:/@%+-]+", value):
            raise ValueError(f"{value!r} is not a git URL: expected https://, git:// or ssh:// "
                             "and a path, e.g. https://github.com/OPENAIRINTERFACE/openair-mme.git")
        return value

    @field_validator("commit")
    @classmethod
    def _commit(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,127}", value) or ".." in value:
            raise ValueError(f"{value!r} is not a commit hash, tag or branch name (letters, digits "
                             "and . _ / -, e.g. v1.1.0 or dreibh/asn1c-url-fix-14Oct2020)")
        return value


_DNS_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"


def apn_problem(value: str) -> str | None:
    """What is wrong with an APN network identifier (TS 23.003 9.1.1), in words."""
    labels = value.split(".")
    if not value or not all(re.fullmatch(_DNS_LABEL, label) for label in labels):
        return ("expected dot-separated labels of letters, digits and inner hyphens, such as "
                "internet or oai.ipv4")
    if sum(len(label) + 1 for label in labels) > 63:
        return "longer than the 63 octets an APN network identifier may have"
    if value.lower().startswith(("rac", "lac", "sgsn", "rnc")) or value.lower().endswith(".gprs"):
        return "may not start with rac, lac, sgsn or rnc, nor end in .gprs (TS 23.003 9.1.1)"
    return None


_HTTP_URL = r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%/+:@=-]*)?"


class EpcCassandra(Strict):
    """Where the HSS VDU installs Cassandra from (not OAI's build_cassandra: its
    "21x" repository is gone): an apt repository (the line "deb <repository> <suite>
    <component>") and the URL of its signing keys.  The default is Apache's Debian
    repository of the 4.1 series, which runs on the VDU's OpenJDK 8 (docs/epc.md)."""
    repository: str = "https://debian.cassandra.apache.org"
    suite: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._~/+-]*$")] = "41x"
    component: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._~/+-]*$")] = "main"
    key_url: str = "https://downloads.apache.org/cassandra/KEYS"

    @field_validator("repository", "key_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.fullmatch(_HTTP_URL, value):
            raise ValueError(f"{value!r} is not an http:// or https:// URL, e.g. "
                             "https://debian.cassandra.apache.org")
        return value

    def apt_line(self) -> str:
        return f"deb {self.repository} {self.suite} {self.component}"


class EpcGit(Strict):
    hss: GitSource
    mme: GitSource
    spgwc: GitSource
    spgwu: GitSource


class HssAddresses(Strict):
    s6a: str


class MmeAddresses(Strict):
    s6a: str
    s11: str
    s1c: str


class SpgwcAddresses(Strict):
    s11: str
    sxab: str


class SpgwuAddresses(Strict):
    sxab: str
    s1u: str
    sgi: str


class EpcAddresses(Strict):
    hss: HssAddresses
    mme: MmeAddresses
    spgwc: SpgwcAddresses
    spgwu: SpgwuAddresses

    def items(self) -> list[tuple[str, str, str]]:
        """(vdu, network, address) for every fixed EPC address."""
        out = []
        for vdu in ("hss", "mme", "spgwc", "spgwu"):
            for network, address in getattr(self, vdu).model_dump().items():
                out.append((vdu, network, address))
        return out


class Epc(Strict):
    vim: Name
    image: Name
    realm: str
    mcc: str
    mnc: str
    tac: Annotated[int, Field(ge=1, le=65533)] = 600
    k: SecretStr | None = None
    k_env: EnvName | None = None
    op: SecretStr | None = None
    op_env: EnvName | None = None
    imsi_first: str
    msisdn_first: str
    users: Annotated[int, Field(ge=1, le=100000)]
    dns: Annotated[list[str], Field(min_length=1, max_length=2)]
    apn: str = "default"
    apn2: str = "internet"
    ue_pool: str
    nat: bool = True
    git: EpcGit
    cassandra: EpcCassandra = EpcCassandra()
    # The spdlog commit OAI's SPGW-C/U build checks out instead of master: v1.8.0
    # (2020-09-01), master when openair-spgwc 2020.w36 (2020-09-02) was made (docs/epc.md).
    spdlog_commit: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")] = \
        "4a9ccf7e38e257feecce0c579a782741254eaeef"
    addresses: EpcAddresses

    @field_validator("mcc", "mnc", mode="before")
    @classmethod
    def _quoted(cls, value):
        # YAML reads an unquoted 001 as the number 1: say so instead of "should be a valid string".
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError(f"got the number {value}: write the digits as a quoted string, e.g. \"001\" "
                             "(YAML drops leading zeros of unquoted numbers)")
        return value

    @field_validator("realm")
    @classmethod
    def _realm(cls, value: str) -> str:
        """A Diameter realm (RFC 6733: a DNS name).  Diameter compares identities
        without case, OAI's HSS stores them as text: written lower-case everywhere,
        so hss.REALM and mme.REALM agree on every VDU ("openair4G.eur" works)."""
        labels = value.rstrip(".").split(".")
        if (len(value) > 200 or len(labels) < 2
                or not all(re.fullmatch(_DNS_LABEL, label) for label in labels)):
            raise ValueError(f"{value!r} is not a realm: expected a DNS name of two or more "
                             "labels of letters, digits and inner hyphens, such as example.org "
                             "or openair4G.eur")
        return value.rstrip(".").lower()

    @field_validator("apn", "apn2")
    @classmethod
    def _apn(cls, value: str) -> str:
        """An APN network identifier (3GPP TS 23.003, 9.1): dot-separated labels
        ("internet", OAI's "oai.ipv4"), at most 63 octets encoded, case kept."""
        problem = apn_problem(value)
        if problem:
            raise ValueError(f"{value!r} is not an APN: {problem}")
        return value

    @field_validator("imsi_first")
    @classmethod
    def _imsi(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9]{15}", value):
            raise ValueError(f"{value!r} is not an IMSI: expected 15 digits as a string "
                             "(quote it in YAML), such as \"208930000000001\"")
        return value

    @field_validator("msisdn_first")
    @classmethod
    def _msisdn(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9]{6,15}", value):
            raise ValueError(f"{value!r} is not an MSISDN: expected 6 to 15 digits as a string "
                             "(quote it in YAML), such as \"33638060010\"")
        return value

    @field_validator("mcc")
    @classmethod
    def _mcc(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9]{3}", value):
            raise ValueError(f"MCC must be three digits as a string (quote it in YAML), got {value!r}")
        return value

    @field_validator("mnc")
    @classmethod
    def _mnc(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9]{2,3}", value):
            raise ValueError(f"MNC must be two or three digits as a string (quote it in YAML), got {value!r}")
        return value

    @field_validator("dns")
    @classmethod
    def _dns(cls, value: list[str]) -> list[str]:
        return [str(_address(v)) for v in value]

    @field_validator("ue_pool")
    @classmethod
    def _ue_pool(cls, value: str) -> str:
        net = _network(value)
        if net.prefixlen > 30:
            raise ValueError(f"{value} is too small for UE addresses")
        return str(net)

    @model_validator(mode="after")
    def _checks(self) -> "Epc":
        for name in ("k", "op"):
            inline, env = getattr(self, name), getattr(self, name + "_env")
            if (inline is None) == (env is None):
                raise ValueError(f"give exactly one of {name} or {name}_env")
            if inline is not None and not HexKey.match(inline.get_secret_value()):
                raise ValueError(f"{name} must be 32 hexadecimal digits")
        if not self.imsi_first.startswith(self.mcc + self.mnc):
            raise ValueError(f"imsi_first must start with MCC+MNC ({self.mcc}{self.mnc})")
        if int(self.imsi_first) + self.users - 1 >= 10 ** 15:
            raise ValueError("imsi_first + users overflows 15 digits")
        if int(self.msisdn_first) + self.users - 1 >= 10 ** len(self.msisdn_first):
            raise ValueError("msisdn_first + users overflows its digit count")
        for vdu, network, address in self.addresses.items():
            _address(address)
        return self

    def secret(self, name: str) -> str:
        """K or OP, revealed for the instantiation config only; checked to be hex."""
        inline, env = getattr(self, name), getattr(self, name + "_env")
        value = Secret(value=inline, env=env).reveal(f"epc.{name}")
        if not HexKey.match(value):
            raise ValueError(f"epc.{name}: must be 32 hexadecimal digits")
        return value


class Registrar(Strict):
    name: Name
    vim: Name
    address: str
    identifier: Annotated[int, Field(ge=1, le=0xFFFFFFFF)] | None = None
    peers: list[Name] = []
    external_peers: list[str] = []
    loglevel: Annotated[int, Field(ge=0, le=9)] = 2
    # ASAP endpoint keep-alive to the PEs, ms.  Unset: what rsplib.freshload asks for
    # (Site.endpoint_keepalive_ms): RSPLIB's default with our library on every PE, else
    # the 1 s workaround stock PEs need to report their loads (docs/rsplib-fix.md).
    endpoint_keepalive_ms: Annotated[int, Field(ge=ENDPOINT_KEEPALIVE_MS[0],
                                                le=ENDPOINT_KEEPALIVE_MS[1])] | None = None

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return str(_address(value))

    @field_validator("external_peers")
    @classmethod
    def _external(cls, value: list[str]) -> list[str]:
        out = []
        for item in value:
            host, _, port = item.partition(":")
            _address(host)
            if port and not (port.isdigit() and 1 <= int(port) <= 65535):
                raise ValueError(f"{item!r}: port must be 1..65535")
            out.append(item)
        return out


class PeGroup(Strict):
    # A label (MEC or public cloud) shown next to the group in status and pool-status; nothing else
    # depends on it.
    kind: Literal["mec", "pmc"] | None = None
    vim: Name
    count: Annotated[int, Field(ge=1, le=64)]
    max_count: Annotated[int, Field(ge=1, le=64)]
    capacity: Annotated[float, Field(gt=0, le=1e12)]
    max_jobs: Annotated[int, Field(ge=1, le=10000)] = 4
    load_increment: Annotated[float, Field(ge=0, le=1)]

    @field_validator("capacity")
    @classmethod
    def _whole_capacity(cls, value: float) -> float:
        # The PE charm's capacity parameter is an INTEGER (calculations/s).
        if not float(value).is_integer():
            raise ValueError(f"capacity must be a whole number of calculations/s, got {value}")
        return value

    @model_validator(mode="after")
    def _limits(self) -> "PeGroup":
        if self.max_count < self.count:
            raise ValueError(f"max_count {self.max_count} is below count {self.count}")
        return self


class Pool(Strict):
    handle: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    policy: Literal["PriorityLeastUsed", "LeastUsed", "RoundRobin", "Random"] = "PriorityLeastUsed"
    image: Name
    pe_port: Annotated[int, Field(ge=1024, le=65535)] = 9000
    registrars: Annotated[list[Registrar], Field(min_length=1)]
    pe_groups: Annotated[dict[Name, PeGroup], Field(min_length=1)]


class Rsplib(Strict):
    # true: every PE VDU gets librspfreshload from its user data (LD_PRELOAD of rspserver) and
    # the registrars run RSPLIB's default keep-alive; false: stock RSPLIB, 1 s keep-alive.
    freshload: StrictBool = True

    @property
    def variant(self) -> str:
        return rsplibfix.FIXED if self.freshload else rsplibfix.STOCK


class Vca(PasswordSource):
    """OSM's VCA, the Juju controller that runs the NS's charms (for
    ``mecpool juju-status`` / ``failed-actions``).  Without this section the
    standard Juju client files (~/.local/share/juju) are used."""

    endpoint: Annotated[str, StringConstraints(pattern=r"^(\[[0-9A-Fa-f:]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):[0-9]{1,5}$")]
    user: VimName = "admin"
    cacert_file: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._/~-]+$")] | None = None

    @field_validator("endpoint")
    @classmethod
    def _port(cls, value: str) -> str:
        port = int(value.rsplit(":", 1)[1])
        if not 1 <= port <= 65535:
            raise ValueError(f"port {port} is not in 1..65535")
        return value


class Site(Strict):
    name: Name
    vims: Annotated[dict[Name, Vim], Field(min_length=1)]
    images: Annotated[dict[Name, Image], Field(min_length=1)]
    flavors: Flavors
    networks: Networks
    epc: Epc
    pool: Pool
    rsplib: Rsplib = Rsplib()
    vca: Vca | None = None

    def endpoint_keepalive_ms(self, registrar: Registrar) -> int | None:
        """The registrar's keep-alive: its own, else the one of the site's RSPLIB variant
        (None: RSPLIB's default)."""
        if registrar.endpoint_keepalive_ms is not None:
            return registrar.endpoint_keepalive_ms
        return rsplibfix.VARIANT_KEEPALIVE_MS[self.rsplib.variant]

    @model_validator(mode="after")
    def _cross_references(self) -> "Site":
        errors = CrossCheck(self)
        errors.run()
        return self


class CrossCheck:
    """Rules that span sections; each error names the field path."""

    def __init__(self, site: Site) -> None:
        self.site = site

        self.problems: list[str] = []

    def fail(self, path: str, problem: str) -> None:
        self.problems.append(f"{path}: {problem}")

    def run(self) -> None:
        """Collect every cross-reference problem; raise them together.  pydantic
        reports them at the model root, so each line carries its own path."""
        self.check()
        if self.problems:
            raise ValueError("\n".join(self.problems))

    def check(self) -> None:
        site = self.site
        self.vim_ref("epc.vim", site.epc.vim)
        self.image_ref("epc.image", site.epc.image)
        self.image_ref("pool.image", site.pool.image)
        self.subnets_do_not_overlap()
        self.epc_addresses()
        self.registrars()
        self.gateways()
        self.pool_subnet_sizes()
        for name, group in site.pool.pe_groups.items():
            self.vim_ref(f"pool.pe_groups.{name}.vim", group.vim)

    def vim_ref(self, path: str, name: str) -> None:
        if name not in self.site.vims:
            self.fail(path, f"unknown VIM {name!r} (known: {', '.join(sorted(self.site.vims))})")

    def image_ref(self, path: str, name: str) -> None:
        if name not in self.site.images:
            self.fail(path, f"unknown image {name!r} (known: {', '.join(sorted(self.site.images))})")

    def subnets_do_not_overlap(self) -> None:
        subnets = [(f"networks.{n}.subnet", getattr(self.site.networks, n).network)
                   for n in ("s1c", "s1u", "sgi", "s6a", "s11", "sxab")]
        subnets += [(f"vims.{n}.pool_network.subnet", v.pool_network.network)
                    for n, v in self.site.vims.items()]
        subnets.append(("epc.ue_pool", ipaddress.IPv4Network(self.site.epc.ue_pool)))
        for i, (path_a, net_a) in enumerate(subnets):
            for path_b, net_b in subnets[i + 1:]:
                if net_a.overlaps(net_b):
                    self.fail(path_b, f"{net_b} overlaps {path_a} ({net_a})")

    def epc_addresses(self) -> None:
        seen: dict[str, str] = {}
        for vdu, network, address in self.site.epc.addresses.items():
            path = f"epc.addresses.{vdu}.{network}"
            subnet = getattr(self.site.networks, network).subnet
            try:
                check_inside(address, subnet, "address")
            except ValueError as error:
                self.fail(path, str(error))
                continue
            if address in seen:
                self.fail(path, f"{address} is already used by {seen[address]}")
            seen[address] = path
            gateway = getattr(self.site.networks, network).gateway
            if address == gateway:
                self.fail(path, f"{address} is the gateway of networks.{network} (give the VDU its own address)")

    def gateways(self) -> None:
        """Gateways the VDUs route through: the SPGW-U's SGi default route, and
        each pool network's gateway when pool members span several VIMs (the
        pool VDUs route the other VIMs' pool subnets through it)."""
        if self.site.networks.sgi.gateway is None:
            self.fail("networks.sgi.gateway", "required: the SPGW-U routes UE traffic through it")
        pool = self.site.pool
        vims = sorted({r.vim for r in pool.registrars} | {g.vim for g in pool.pe_groups.values()})
        if len(vims) > 1:
            for name in vims:
                vim = self.site.vims.get(name)
                if vim is not None and vim.pool_network.gateway is None:
                    self.fail(f"vims.{name}.pool_network.gateway",
                              "required: pool members on several VIMs reach each other through it")

    def pool_subnet_sizes(self) -> None:
        """Each pool subnet holds its VIM's registrars and PEs at max_count, besides the network and
        broadcast addresses, the gateway and Neutron's DHCP port."""
        pool = self.site.pool
        for name, vim in self.site.vims.items():
            registrars = sum(1 for r in pool.registrars if r.vim == name)
            groups = {g: group.max_count for g, group in pool.pe_groups.items() if group.vim == name}
            need = registrars + sum(groups.values())
            if not need:
                continue
            net = vim.pool_network.network
            free = net.num_addresses - 2 - (1 if vim.pool_network.gateway else 0) - 1
            if need > free:
                parts = ([f"{registrars} registrar(s)"] if registrars else []) + [
                    f"PE group {g}: {n}" for g, n in groups.items()]
                self.fail(f"vims.{name}.pool_network.subnet",
                          f"{net} leaves {max(free, 0)} addresses for VDUs (less network, broadcast, gateway and "
                          f"Neutron's DHCP port); the pool members on VIM {name} need {need} at max_count "
                          f"({', '.join(parts)}): use a larger subnet or lower max_count")

    def registrars(self) -> None:
        names = [r.name for r in self.site.pool.registrars]
        for index, registrar in enumerate(self.site.pool.registrars):
            path = f"pool.registrars[{index}]"
            if names.count(registrar.name) > 1:
                self.fail(f"{path}.name", f"{registrar.name!r} is used twice")
            self.vim_ref(f"{path}.vim", registrar.vim)
            if registrar.vim not in self.site.vims:
                continue
            pool_net = self.site.vims[registrar.vim].pool_network
            try:
                check_inside(registrar.address, pool_net.subnet, "address")
            except ValueError as error:
                self.fail(f"{path}.address", f"{error} (pool network of VIM {registrar.vim})")
            if registrar.address == pool_net.gateway:
                self.fail(f"{path}.address", f"{registrar.address} is the gateway of vims.{registrar.vim}."
                                             "pool_network (give the registrar its own address)")
            for peer in registrar.peers:
                if peer not in names:
                    self.fail(f"{path}.peers", f"unknown registrar {peer!r}")
                if peer == registrar.name:
                    self.fail(f"{path}.peers", "a registrar cannot peer with itself")
        addresses = [r.address for r in self.site.pool.registrars]
        for index, address in enumerate(addresses):
            if addresses.count(address) > 1:
                self.fail(f"pool.registrars[{index}].address", f"{address} is used twice")
