"""``mecpool openstack-prepare``: per VIM of the site file, make OpenStack hold
what the NS needs (images, flavors, networks with their subnets, one security
group), then register the VIM in OSM.  Idempotent: it reads first and only
creates what is missing, so a second run changes nothing.

The security group opens exactly what the system uses (ingress, IPv4):
on the EPC's VIM SCTP 36412 (S1-C), UDP 2152/2123/8805 (GTP-U, GTP-C, PFCP),
TCP and SCTP 3868 (Diameter); on VIMs with registrars or PEs SCTP 3863 (ASAP),
9901 (ENRP) and the PE port; SSH (TCP 22) and ICMP from the management
subnets and from the VIM's ``osm_sources`` (where OSM's VCA connects from:
N2VC installs the native charms over SSH; ICMP for ping/traceroute when
debugging).  Ingress rules beyond these are removed (the group belongs to
MEC-Pool).

What it creates carries the site's mark, so that ``teardown --all`` removes
exactly that: networks and images get the tag ``mecpool-<site>``, flavors are
named ``mecpool-<site>-<role>`` (cloud-wide: the site's name keeps sites apart)
and the security group ``mecpool-<site>``; networks and images that were
there before are used as they are and never removed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mecpool.site.model import Site

from .errors import CommandFailed, DeployError, InputError
from .openstack import OpenStack
from .osmcli import Osm
from .runner import MASK
from .vimauth import VimAccount

ANYWHERE = "0.0.0.0/0"

EPC_FLAVORS = ("hss", "mme", "spgwc", "spgwu")


@dataclass(frozen=True, order=True)
class Rule:
    protocol: str      # tcp | udp | sctp | icmp
    port: int          # 0 for icmp (no port)
    remote: str        # CIDR

    def create_args(self, group: str) -> list[str]:
        ports = [] if self.protocol == "icmp" else ["--dst-port", f"{self.port}:{self.port}"]
        return ["security", "group", "rule", "create", group, "--ingress", "--ethertype", "IPv4",
                "--protocol", self.protocol, *ports, "--remote-ip", self.remote]

    def text(self) -> str:
        return f"{self.protocol.upper()}{'' if self.protocol == 'icmp' else f' {self.port}'} from {self.remote}"


def access_rules(cidrs) -> list[Rule]:
    """SSH (the VCA installs the native charms over it) and ICMP from each CIDR."""
    return sorted({rule for cidr in cidrs for rule in (Rule("tcp", 22, cidr), Rule("icmp", 0, cidr))})


def site_tag(site: Site) -> str:
    """The tag on every network and image openstack-prepare creates."""
    return f"mecpool-{site.name}"


@dataclass
class Network:
    name: str
    cidr: str
    gateway: str | None
    field: str = ""        # where the site file names it (for errors)


@dataclass
class VimPlan:
    name: str
    roles: list[str]
    images: dict[str, tuple[str, str | None]] = field(default_factory=dict)   # key: (VIM name, file)
    flavors: dict[str, tuple[int, int, int]] = field(default_factory=dict)   # name: (vcpus, ram, disk)
    networks: list[Network] = field(default_factory=list)
    service_rules: list[Rule] = field(default_factory=list)
    security_group: str = ""


def security_group_name(site: Site) -> str:
    return f"mecpool-{site.name}"


def flavor_name(site: Site, key: str) -> str:
    """Flavors are cloud-wide: the site's name in them keeps two sites on one cloud apart, so that
    teardown --all of one never removes a flavor the other uses (OSM picks flavors by size, not name,
    with use_existing_flavors)."""
    return f"mecpool-{site.name}-" + key.replace("_", "-")


def service_rules(site: Site, roles: list[str]) -> list[Rule]:
    rules = []
    if "epc" in roles:
        rules += [Rule("sctp", 36412, ANYWHERE)]
        rules += [Rule("udp", port, ANYWHERE) for port in (2152, 2123, 8805)]
        rules += [Rule("tcp", 3868, ANYWHERE), Rule("sctp", 3868, ANYWHERE)]
    if "registrar" in roles or "pool-element" in roles:
        rules += [Rule("sctp", port, ANYWHERE) for port in (3863, 9901, site.pool.pe_port)]
    return sorted(set(rules))


def plan_vim(site: Site, name: str) -> VimPlan:
    vim = site.vims[name]
    roles = []
    if site.epc.vim == name:
        roles.append("epc")
    if any(r.vim == name for r in site.pool.registrars):
        roles.append("registrar")
    if any(g.vim == name for g in site.pool.pe_groups.values()):
        roles.append("pool-element")
    plan = VimPlan(name=name, roles=roles, security_group=security_group_name(site))
    if not roles:
        return plan
    if "epc" in roles:
        image = site.images[site.epc.image]
        plan.images[site.epc.image] = (image.name, image.file)
        for key in EPC_FLAVORS:
            f = getattr(site.flavors, key)
            plan.flavors[flavor_name(site, key)] = (f.vcpus, f.ram_mb, f.disk_gb)
        for key in ("s1c", "s1u", "sgi"):
            net = getattr(site.networks, key)
            plan.networks.append(Network(net.vim_network, net.subnet, net.gateway, f"networks.{key}.vim_network"))
    if "registrar" in roles or "pool-element" in roles:
        image = site.images[site.pool.image]
        plan.images[site.pool.image] = (image.name, image.file)
        plan.networks.append(Network(vim.pool_network.name, vim.pool_network.subnet, vim.pool_network.gateway,
                                     f"vims.{name}.pool_network.name"))
    if "registrar" in roles:
        f = site.flavors.registrar
        plan.flavors[flavor_name(site, "registrar")] = (f.vcpus, f.ram_mb, f.disk_gb)
    if "pool-element" in roles:
        f = site.flavors.pool_element
        plan.flavors[flavor_name(site, "pool_element")] = (f.vcpus, f.ram_mb, f.disk_gb)
    plan.service_rules = service_rules(site, roles)
    return plan


def vim_config(site: Site, account: VimAccount) -> dict:
    """The ``--config`` of ``osm vim-create`` (keys of OSM's OpenStack connector)."""
    config = {"security_groups": security_group_name(site), "use_existing_flavors": True,
              "project_domain_name": account.project_domain, "user_domain_name": account.user_domain}
    if account.region:
        config["region_name"] = account.region
    if account.insecure:
        config["insecure"] = True
    return config


def vim_create_args(site: Site, account: VimAccount, password: str) -> list[str]:
    vim = site.vims[account.vim]
    return ["vim-create", "--name", vim.osm_account, "--user", account.user, "--password", password,
            "--auth_url", account.auth_url, "--tenant", account.project,
            "--account_type", "openstack",
            "--config", yaml.safe_dump(vim_config(site, account), default_flow_style=True, sort_keys=True,
                                       width=1000).strip()]


def disk_format(path: Path) -> str:
    with path.open("rb") as handle:
        magic = handle.read(4)
    return "qcow2" if magic == b"QFI\xfb" else "raw"


UBUNTU_IMAGE = re.compile(r"^([a-z]+)-server-cloudimg-amd64\.img$")


def download_hint(file: str | None) -> str:
    """Where an image file comes from (Ubuntu's cloud images by their file name)."""
    found = UBUNTU_IMAGE.match(Path(file or "").name)
    if found:
        return f"download https://cloud-images.ubuntu.com/{found.group(1)}/current/{found.group(0)}"
    return "put the image's file there (README, 'Images')"


def image_file(site_dir: Path, file: str | None, key: str) -> Path:
    if not file:
        raise InputError(f"images.{key}.file: not set, and the image is missing on the VIM (give the file to upload)")
    path = Path(file) if Path(file).is_absolute() else site_dir / file
    if not path.is_file():
        raise InputError(f"images.{key}.file: {path} does not exist: {download_hint(file)}")
    return path


def check_image_files(site: Site, site_dir: Path, plans: list[VimPlan], vims: dict) -> None:
    """Every file of an image some VIM lacks exists, checked before the first upload (all named at once)."""
    lacking: dict[str, list[str]] = {}
    for plan in plans:
        for key, (name, _) in plan.images.items():
            if plan.roles and not vims[plan.name].call("image", "list", "--name", name):
                lacking.setdefault(key, []).append(plan.name)
    problems = []
    for key, where in lacking.items():
        try:
            image_file(site_dir, site.images[key].file, key)
        except InputError as error:
            problems.append(f"{error.message} (VIM(s) {', '.join(where)} lack the image)")
    if problems:
        raise InputError("image files missing (nothing was uploaded):\n" + "\n".join(f"  - {p}" for p in problems))


def image_create_args(name: str, path: Path | str, fmt: str) -> list[str]:
    return ["image", "create", name, "--file", str(path), "--disk-format", fmt, "--container-format", "bare"]


def flavor_create_args(site: Site, name: str, size: tuple[int, int, int]) -> list[str]:
    vcpus, ram, disk = size
    return ["flavor", "create", name, "--vcpus", str(vcpus), "--ram", str(ram), "--disk", str(disk),
            "--property", f"mecpool:site={site.name}"]


def flavor_refused(site: Site, plan: VimPlan, error: CommandFailed) -> DeployError:
    """Nova lets only the cloud's admin create flavors (policy os-flavor-manage:create): say so, with the
    commands an admin runs, instead of openstack's bare 403."""
    if "403" not in error.stderr and "flavor-manage" not in error.stderr:
        return error
    commands = "\n".join("  openstack " + " ".join(flavor_create_args(site, name, size))
                         for name, size in plan.flavors.items())
    return DeployError(f"VIM {plan.name}: the account may not create flavors (Nova allows it to the cloud's admin "
                       f"only: {error.stderr.strip()[-200:]}). Have an admin create them, then run again:\n"
                       f"{commands}\nor give the account's user the admin role")


def subnet_create_args(net: Network, network_id: str | None = None) -> list[str]:
    args = ["subnet", "create", f"{net.name}-subnet", "--network", network_id or net.name, "--subnet-range", net.cidr]
    return args + (["--gateway", net.gateway] if net.gateway else ["--gateway", "none"])


# --- apply (or, in a dry run, read and show) -------------------------------------------------

class Preparer:
    """Brings one VIM to its plan; ``changes`` lists what it did.

    In a dry run it makes the same read-only calls (list/show) as the run and prints, instead of
    running them, the exact write commands the run would execute with what it read (the mgmt
    subnets' CIDRs, which images/flavors/networks/rules exist), so the dry run shows real values."""

    def __init__(self, site: Site, site_dir: Path, plan: VimPlan, openstack: OpenStack, echo,
                 dry_run: bool = False) -> None:
        self.site, self.site_dir, self.plan, self.os, self.echo = site, site_dir, plan, openstack, echo
        self.dry_run = dry_run
        self.changes: list[str] = []
        self.project_id: str | None = None

    def change(self, text: str) -> None:
        self.changes.append(text)
        self.echo(f"  + {text}")

    def write(self, text: str, *args: str, plain: bool = False):
        """A write: run it (and report ``text``), or in a dry run show the command and return None."""
        if self.dry_run:
            (self.os.show_plain if plain else self.os.show)(*args, note=text)
            self.changes.append(text)
            return None
        answer = self.os.run_plain(*args) if plain else self.os.call(*args)
        self.change(text)
        return answer

    def same(self, text: str) -> None:
        """Something that is there already (shown in a dry run, where no '+' lines tell the story)."""
        if self.dry_run:
            self.echo(f"# = {text}")

    def run(self) -> list[str]:
        self.check_names_unique()
        self.mgmt_cidrs = self.management_subnets()
        self.images()
        self.flavors()
        for net in self.plan.networks:
            self.network(net)
        self.security_group()
        return self.changes

    def access_cidrs(self) -> list[str]:
        return sorted(set(self.mgmt_cidrs) | set(self.site.vims[self.plan.name].osm_sources))

    def check_names_unique(self) -> None:
        """Before any write: every network the site names is the only one of that name the account sees.
        OSM Release EIGHT's RO looks a VIM network up by name among all its account lists (RO's
        vimconn_openstack.get_network_list: no project filter); with the admin role that is every
        project's, and instantiate fails "More than one network found with this criteria" (found by the
        real-stack lab, docs/real-lab.md)."""
        vim = self.site.vims[self.plan.name]
        wanted = [(vim.mgmt_network, f"vims.{self.plan.name}.mgmt_network")] + \
            [(n.name, n.field or n.name) for n in self.plan.networks]
        clashes = []
        for name, field in wanted:
            rows = self.os.call("network", "list", "--name", name, "--long") or []
            if self.project_id is None and rows:
                self.project_id = (self.os.call("token", "issue") or {}).get("project_id")
            others = [r for r in rows if r.get("Project") != self.project_id]
            foreign = [r for r in others if str(r.get("Shared")) not in ("True", "true")]
            # RO must see exactly one: ours, or one shared network we use (find_network); a foreign
            # one beside ours (there or to be made), or two of any kind, make it fail.
            if foreign or len(rows) > 1:
                clashes.append(f"{field}: {name!r} is also the name of {len(others)} network(s) of other projects "
                               f"({', '.join(sorted({str(r.get('Project')) for r in others}))})")
        if clashes:
            raise DeployError(
                f"VIM {self.plan.name}: the account sees other projects' networks of the names the site gives "
                "(its admin role lists every project's). OSM Release EIGHT's RO finds a VIM network by name among "
                "all the account sees and instantiate would fail 'More than one network found'; give these "
                "networks names unique on the cloud (nothing was changed):\n"
                + "\n".join(f"  - {c}" for c in clashes))

    def find_network(self, name: str) -> dict | None:
        """The network of that name this project may use: its own, else a shared one; None if there is
        none.  An account with the admin role lists every project's networks (names repeat across
        projects; `--network NAME` is then ambiguous or another project's)."""
        rows = self.os.call("network", "list", "--name", name, "--long") or []
        if rows:
            if self.project_id is None:
                self.project_id = (self.os.call("token", "issue") or {}).get("project_id")
            rows = [r for r in rows if r.get("Project") == self.project_id] or \
                [r for r in rows if str(r.get("Shared")) in ("True", "true")]
        if len(rows) > 1:
            raise DeployError(f"VIM {self.plan.name}: {len(rows)} networks named {name} in the project; "
                              "delete the extras")
        return rows[0] if rows else None

    def management_subnets(self) -> list[str]:
        name = self.site.vims[self.plan.name].mgmt_network
        found = self.find_network(name)
        if not found:
            raise DeployError(f"vims.{self.plan.name}.mgmt_network: network {name!r} does not exist on the VIM "
                              "(create the management network, routed to OSM, first)")
        cidrs = sorted({row["Subnet"] for row in self.os.call("subnet", "list", "--network", found["ID"]) or []})
        if not cidrs:
            raise DeployError(f"vims.{self.plan.name}.mgmt_network: network {name!r} has no subnet")
        self.same(f"management network {name}: subnets {', '.join(cidrs)} (sources of SSH and ICMP)")
        return cidrs

    def images(self) -> None:
        for key, (name, file) in self.plan.images.items():
            found = self.os.call("image", "list", "--name", name)
            if found:
                status = found[0].get("Status", "active")
                if status != "active":
                    self.echo(f"  ! image {name} exists but is {status}")
                self.same(f"image {name} exists ({status})")
                continue
            path = image_file(self.site_dir, file, key)
            self.write(f"image {name} uploaded from {path}",
                       *image_create_args(name, path, disk_format(path)), "--tag", site_tag(self.site))

    def flavors(self) -> None:
        existing = {row["Name"]: row for row in self.os.call("flavor", "list", "--all") or []}
        for name, size in self.plan.flavors.items():
            row = existing.get(name)
            if row is None:
                try:
                    self.write(f"flavor {name} ({size[0]} vCPU, {size[1]} MB, {size[2]} GB)",
                               *flavor_create_args(self.site, name, size))
                except CommandFailed as error:
                    raise flavor_refused(self.site, self.plan, error) from None
                continue
            have = (int(row["VCPUs"]), int(row["RAM"]), int(row["Disk"]))
            if have != size:
                raise DeployError(f"flavor {name} exists on VIM {self.plan.name} with vcpus/ram/disk {have}, the "
                                  f"site file wants {size}; flavors cannot be changed: delete it "
                                  f"(openstack flavor delete {name}) or fix the site's flavors")
            self.same(f"flavor {name} exists")

    def network(self, net: Network) -> None:
        found = self.find_network(net.name)
        if not found:
            created = self.write(f"network {net.name} (tagged {site_tag(self.site)})",
                                 "network", "create", net.name, "--tag", site_tag(self.site))
            network_id = created["id"] if created else None   # a dry run shows the name
            subnets = []
        else:
            self.same(f"network {net.name} exists")
            network_id = found["ID"]
            subnets = self.os.call("subnet", "list", "--network", network_id) or []
        if not any(row["Subnet"] == net.cidr for row in subnets):
            self.write(f"subnet {net.name}-subnet {net.cidr} (gateway {net.gateway or 'none'})",
                       *subnet_create_args(net, network_id))

    def security_group(self) -> None:
        sg = self.plan.security_group
        project = self.os.account.project
        groups = [g for g in self.os.call("security", "group", "list", "--project", project) or []
                  if g["Name"] == sg]
        if len(groups) > 1:
            raise DeployError(f"VIM {self.plan.name}: {len(groups)} security groups named {sg}; delete the extras")
        rows = []
        if groups:
            group_id = groups[0]["ID"]
            self.same(f"security group {sg} exists ({group_id})")
            rows = self.os.call("security", "group", "rule", "list", group_id, "--long") or []
        else:
            created = self.write(f"security group {sg}", "security", "group", "create", sg, "--description",
                                 "MEC-Pool")
            group_id = created["id"] if created else sg   # a dry run: the name (unique in the project)
        wanted = set(self.plan.service_rules) | set(access_rules(self.access_cidrs()))
        have: dict[Rule, str] = {}
        extra: list[tuple[str, str]] = []
        for row in rows:
            if row.get("Direction") != "ingress":
                continue
            rule = parse_rule(row)
            if rule in wanted and rule not in have:
                have[rule] = row["ID"]
            else:
                extra.append((row["ID"], describe_row(row)))
        if have:
            self.same(f"{len(have)} of the {len(wanted)} ingress rules are in {sg}")
        for rule in sorted(wanted - set(have)):
            self.write(f"rule {rule.text()} in {sg}", *rule.create_args(group_id))
        for rule_id, text in extra:
            self.write(f"removed ingress rule {text} from {sg} (not needed by MEC-Pool)",
                       "security", "group", "rule", "delete", rule_id, plain=True)


PROTOCOL_NAMES = {"1": "icmp", "6": "tcp", "17": "udp", "132": "sctp"}


def parse_rule(row: dict) -> Rule | None:
    """A rule row of ``security group rule list --long`` as a Rule (None if not one of ours' shape)."""
    protocol = str(row.get("IP Protocol") or "").lower()
    protocol = PROTOCOL_NAMES.get(protocol, protocol)
    ports = str(row.get("Port Range") or "")
    if protocol == "icmp" and not ports and row.get("Ethertype", "IPv4") == "IPv4" \
            and not row.get("Remote Security Group"):
        return Rule("icmp", 0, row.get("IP Range") or ANYWHERE)
    low, _, high = ports.partition(":")
    if row.get("Ethertype", "IPv4") != "IPv4" or not low.isdigit() or low != high or row.get("Remote Security Group"):
        return None
    return Rule(protocol, int(low), row.get("IP Range") or ANYWHERE)


def describe_row(row: dict) -> str:
    return (f"{row.get('IP Protocol') or 'any'} {row.get('Port Range') or 'all ports'} "
            f"from {row.get('IP Range') or row.get('Remote Security Group') or 'anywhere'} ({row.get('Ethertype')})")


def account_security_groups(osm: Osm, account: str) -> str | None:
    """The security_groups of a registered VIM account's config (``osm vim-show``)."""
    rows = {row["key"]: row["attribute"] for row in osm.table("vim-show", account)}
    text = "".join((rows.get("config") or "{}").splitlines())  # osmclient wraps long cells
    try:
        config = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        raise DeployError(f"osm vim-show {account}: unreadable config {text[:200]!r}") from None
    return config.get("security_groups") if isinstance(config, dict) else None


def register_vim(site: Site, account: VimAccount, osm: Osm, registered: set[str], echo,
                 dry_run: bool = False) -> bool:
    """osm vim-create unless the account is registered (then its security_groups must be ours).
    A dry run reads the same and shows the vim-create (password masked) instead of running it."""
    name = account.vim
    osm_account = site.vims[name].osm_account
    if osm_account in registered:
        groups = account_security_groups(osm, osm_account)
        wanted = security_group_name(site)
        if groups != wanted:
            raise DeployError(
                f"VIM account {osm_account} is registered in OSM with security_groups {groups!r}, not {wanted}: its "
                f"VDUs would get none of MEC-Pool's rules (SCTP, SSH for the VCA). Fix it with:\n"
                f"  osm vim-update {osm_account} --config '{{security_groups: {wanted}}}'\n"
                f"or remove it (osm vim-delete {osm_account}) and run openstack-prepare again")
        echo(f"{'#' if dry_run else ' '} = VIM account {osm_account} already registered in OSM (security_groups {wanted})")
        return False
    password = account.osm_password()
    if dry_run:
        osm.show(*vim_create_args(site, account, MASK), note=f"VIM account {osm_account} in OSM")
        return True
    osm.call(*vim_create_args(site, account, password))
    echo(f"  + VIM account {osm_account} registered in OSM")
    return True
