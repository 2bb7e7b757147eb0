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
exactly that: networks and images get the tag ``mecpool-<site>``, flavors and
the security group are named ``mecpool-...``; networks and images that were
there before are used as they are and never removed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mecpool.site.model import Site

from .errors import DeployError
from .openstack import OpenStack
from .osmcli import Osm
from .runner import MASK

ANYWHERE = "0.0.0.0/0"
MGMT_PLACEHOLDER = "<CIDR of each subnet of network {}>"

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


def flavor_name(key: str) -> str:
    return "mecpool-" + key.replace("_", "-")


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
            plan.flavors[flavor_name(key)] = (f.vcpus, f.ram_mb, f.disk_gb)
        for key in ("s1c", "s1u", "sgi"):
            net = getattr(site.networks, key)
            plan.networks.append(Network(net.vim_network, net.subnet, net.gateway))
    if "registrar" in roles or "pool-element" in roles:
        image = site.images[site.pool.image]
        plan.images[site.pool.image] = (image.name, image.file)
        plan.networks.append(Network(vim.pool_network.name, vim.pool_network.subnet, vim.pool_network.gateway))
    if "registrar" in roles:
        f = site.flavors.registrar
        plan.flavors[flavor_name("registrar")] = (f.vcpus, f.ram_mb, f.disk_gb)
    if "pool-element" in roles:
        f = site.flavors.pool_element
        plan.flavors[flavor_name("pool_element")] = (f.vcpus, f.ram_mb, f.disk_gb)
    plan.service_rules = service_rules(site, roles)
    return plan


def vim_config(site: Site, name: str) -> dict:
    """The ``--config`` of ``osm vim-create`` (keys of OSM's OpenStack connector)."""
    account = site.vims[name].openstack
    config = {"security_groups": security_group_name(site), "use_existing_flavors": True,
              "project_domain_name": account.domain, "user_domain_name": account.domain}
    if account.region:
        config["region_name"] = account.region
    if account.insecure:
        config["insecure"] = True
    return config


def vim_create_args(site: Site, name: str, password: str) -> list[str]:
    vim = site.vims[name]
    return ["vim-create", "--name", vim.osm_account, "--user", vim.openstack.user, "--password", password,
            "--auth_url", vim.openstack.auth_url, "--tenant", vim.openstack.project,
            "--account_type", "openstack",
            "--config", yaml.safe_dump(vim_config(site, name), default_flow_style=True, sort_keys=True, width=1000).strip()]


def disk_format(path: Path) -> str:
    with path.open("rb") as handle:
        magic = handle.read(4)
    return "qcow2" if magic == b"QFI\xfb" else "raw"


def image_file(site_dir: Path, file: str | None, key: str) -> Path:
    if not file:
        raise DeployError(f"images.{key}.file: not set, and the image is missing on the VIM (give the file to upload)")
    path = Path(file) if Path(file).is_absolute() else site_dir / file
    if not path.is_file():
        raise DeployError(f"images.{key}.file: {path} does not exist")
    return path


def image_create_args(name: str, path: Path | str, fmt: str) -> list[str]:
    return ["image", "create", name, "--file", str(path), "--disk-format", fmt, "--container-format", "bare"]


def flavor_create_args(name: str, size: tuple[int, int, int]) -> list[str]:
    vcpus, ram, disk = size
    return ["flavor", "create", name, "--vcpus", str(vcpus), "--ram", str(ram), "--disk", str(disk)]


def subnet_create_args(net: Network) -> list[str]:
    args = ["subnet", "create", f"{net.name}-subnet", "--network", net.name, "--subnet-range", net.cidr]
    return args + (["--gateway", net.gateway] if net.gateway else ["--gateway", "none"])


# --- dry run -------------------------------------------------------------------------------

def print_plan(site: Site, site_dir: Path, plan: VimPlan, openstack: OpenStack, osm: Osm, echo) -> None:
    vim = site.vims[plan.name]
    if not plan.roles:
        echo(f"# VIM {plan.name}: nothing of the NS is placed here; skipped")
        return
    echo(f"# VIM {plan.name} ({', '.join(plan.roles)}): {vim.openstack.auth_url}")
    for key, (name, file) in plan.images.items():
        openstack.show("image", "list", "--name", name, note="check")
        path = image_file(site_dir, file, key)  # the run fails on a missing file: so does the dry run
        openstack.show(*image_create_args(name, path, disk_format(path)), "--tag", site_tag(site),
                       note="only if missing")
    openstack.show("flavor", "list", "--all", note="check")
    for name, size in plan.flavors.items():
        openstack.show(*flavor_create_args(name, size), note="only if missing")
    openstack.show("network", "list", "--name", vim.mgmt_network, note="must exist (management network)")
    openstack.show("subnet", "list", "--network", vim.mgmt_network, note="its CIDRs: sources of SSH and ICMP")
    for net in plan.networks:
        openstack.show("network", "list", "--name", net.name, note="check")
        openstack.show("network", "create", net.name, "--tag", site_tag(site), note="only if missing")
        openstack.show("subnet", "list", "--network", net.name, note="check")
        openstack.show(*subnet_create_args(net), note=f"only if no {net.cidr} subnet")
    sg = plan.security_group
    openstack.show("security", "group", "list", "--project", vim.openstack.project, note="check")
    openstack.show("security", "group", "create", sg, "--description", "MEC-Pool", note="only if missing")
    openstack.show("security", "group", "rule", "list", sg, "--long", note="check")
    for rule in plan.service_rules + access_rules(vim.osm_sources):
        openstack.show(*rule.create_args(sg), note="only if missing")
    for rule in access_rules([MGMT_PLACEHOLDER.format(vim.mgmt_network)]):
        openstack.show(*rule.create_args(sg), note="for each subnet CIDR the subnet list above returns")
    echo("#   ingress rules of the group beyond these are deleted (openstack security group rule delete ID)")
    osm.show("vim-list", note="check")
    osm.show(*vim_create_args(site, plan.name, MASK), note=f"only if {vim.osm_account} is not registered")
    osm.show("vim-show", vim.osm_account, note=f"if it is: its config must have security_groups {sg}")


# --- apply ---------------------------------------------------------------------------------

class Preparer:
    """Brings one VIM to its plan; ``changes`` lists what it did."""

    def __init__(self, site: Site, site_dir: Path, plan: VimPlan, openstack: OpenStack, echo) -> None:
        self.site, self.site_dir, self.plan, self.os, self.echo = site, site_dir, plan, openstack, echo
        self.changes: list[str] = []

    def change(self, text: str) -> None:
        self.changes.append(text)
        self.echo(f"  + {text}")

    def run(self) -> list[str]:
        self.mgmt_cidrs = self.management_subnets()
        self.images()
        self.flavors()
        for net in self.plan.networks:
            self.network(net)
        self.security_group()
        return self.changes

    def access_cidrs(self) -> list[str]:
        return sorted(set(self.mgmt_cidrs) | set(self.site.vims[self.plan.name].osm_sources))

    def management_subnets(self) -> list[str]:
        name = self.site.vims[self.plan.name].mgmt_network
        if not self.os.call("network", "list", "--name", name):
            raise DeployError(f"vims.{self.plan.name}.mgmt_network: network {name!r} does not exist on the VIM "
                              "(create the management network, routed to OSM, first)")
        cidrs = sorted({row["Subnet"] for row in self.os.call("subnet", "list", "--network", name) or []})
        if not cidrs:
            raise DeployError(f"vims.{self.plan.name}.mgmt_network: network {name!r} has no subnet")
        return cidrs

    def images(self) -> None:
        for key, (name, file) in self.plan.images.items():
            found = self.os.call("image", "list", "--name", name)
            if found:
                status = found[0].get("Status", "active")
                if status != "active":
                    self.echo(f"  ! image {name} exists but is {status}")
                continue
            path = image_file(self.site_dir, file, key)
            self.os.call(*image_create_args(name, path, disk_format(path)), "--tag", site_tag(self.site))
            self.change(f"image {name} uploaded from {path}")

    def flavors(self) -> None:
        existing = {row["Name"]: row for row in self.os.call("flavor", "list", "--all") or []}
        for name, size in self.plan.flavors.items():
            row = existing.get(name)
            if row is None:
                self.os.call(*flavor_create_args(name, size))
                self.change(f"flavor {name} ({size[0]} vCPU, {size[1]} MB, {size[2]} GB)")
                continue
            have = (int(row["VCPUs"]), int(row["RAM"]), int(row["Disk"]))
            if have != size:
                raise DeployError(f"flavor {name} exists on VIM {self.plan.name} with vcpus/ram/disk {have}, the "
                                  f"site file wants {size}; flavors cannot be changed: delete it "
                                  f"(openstack flavor delete {name}) or fix the site's flavors")

    def network(self, net: Network) -> None:
        if not self.os.call("network", "list", "--name", net.name):
            self.os.call("network", "create", net.name, "--tag", site_tag(self.site))
            self.change(f"network {net.name} (tagged {site_tag(self.site)})")
        subnets = self.os.call("subnet", "list", "--network", net.name) or []
        if not any(row["Subnet"] == net.cidr for row in subnets):
            self.os.call(*subnet_create_args(net))
            self.change(f"subnet {net.name}-subnet {net.cidr} (gateway {net.gateway or 'none'})")

    def security_group(self) -> None:
        sg = self.plan.security_group
        project = self.site.vims[self.plan.name].openstack.project
        groups = [g for g in self.os.call("security", "group", "list", "--project", project) or []
                  if g["Name"] == sg]
        if len(groups) > 1:
            raise DeployError(f"VIM {self.plan.name}: {len(groups)} security groups named {sg}; delete the extras")
        if groups:
            group_id = groups[0]["ID"]
        else:
            group_id = self.os.call("security", "group", "create", sg, "--description", "MEC-Pool")["id"]
            self.change(f"security group {sg}")
        wanted = set(self.plan.service_rules) | set(access_rules(self.access_cidrs()))
        have: dict[Rule, str] = {}
        extra: list[tuple[str, str]] = []
        for row in self.os.call("security", "group", "rule", "list", group_id, "--long") or []:
            if row.get("Direction") != "ingress":
                continue
            rule = parse_rule(row)
            if rule in wanted and rule not in have:
                have[rule] = row["ID"]
            else:
                extra.append((row["ID"], describe_row(row)))
        for rule in sorted(wanted - set(have)):
            self.os.call(*rule.create_args(group_id))
            self.change(f"rule {rule.text()} in {sg}")
        for rule_id, text in extra:
            self.os.run_plain("security", "group", "rule", "delete", rule_id)
            self.change(f"removed ingress rule {text} from {sg} (not needed by MEC-Pool)")


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


def register_vim(site: Site, name: str, osm: Osm, password: str, registered: set[str], echo) -> bool:
    account = site.vims[name].osm_account
    if account in registered:
        groups = account_security_groups(osm, account)
        wanted = security_group_name(site)
        if groups != wanted:
            raise DeployError(
                f"VIM account {account} is registered in OSM with security_groups {groups!r}, not {wanted}: its VDUs "
                f"would get none of MEC-Pool's rules (SCTP, SSH for the VCA). Fix it with:\n"
                f"  osm vim-update {account} --config '{{security_groups: {wanted}}}'\n"
                f"or remove it (osm vim-delete {account}) and run openstack-prepare again")
        echo(f"  = VIM account {account} already registered in OSM (security_groups {wanted})")
        return False
    osm.call(*vim_create_args(site, name, password))
    echo(f"  + VIM account {account} registered in OSM")
    return True
