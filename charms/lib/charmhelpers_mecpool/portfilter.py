"""Close TCP ports on every interface but a few, with an nftables table of our own.

Some daemons bind listeners to all addresses with no option to restrict them
(the OAI HSS binds its REST/OSS ports with Pistache::Ipv4::any()).  A
PortFilter keeps one table (``table inet <name>``) that accepts those ports on
the listed interfaces and drops them on every other one.  It never touches the
system's other tables: the ruleset file deletes and recreates only our table,
so applying it again (at configure, at boot) gives the same state.

The syntax is what nftables 0.8.3 (Ubuntu 18.04 bionic) reads: ``add table`` /
``delete table`` / ``table {}`` in one file (one transaction), family ``inet``
(IPv4 and IPv6), a numeric hook priority, ``iifname`` string matches (they work
before the interface exists, unlike ``iif``) and a port range.  A systemd unit
loads the file at boot before the network comes up.

No ops import: the workload calls it; tests pass the command runner and root.
"""

import collections
import os
import re

from . import files, process
from .errors import CommandError, MecpoolError, ValidationError

NFT = "/usr/sbin/nft"
PACKAGE = "nftables"
RULES_DIR = "/etc/mecpool/nftables"
CHAIN = "input"
_TABLE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# Linux interface names: at most 15 bytes, no '/', no whitespace; we also refuse
# quotes and backslashes, which would end the nft string.
_IFNAME = re.compile(r"^[A-Za-z0-9_.:@+-]{1,15}$")

# What the filter should look like: the table, the TCP ports (first, last) and
# the interfaces on which they stay open.
PortRule = collections.namedtuple("PortRule", "table first_port last_port interfaces")


def port_rule(table, first_port, last_port, interfaces):
    """A validated PortRule (ValidationError names the field that is wrong)."""
    if not isinstance(table, str) or not _TABLE.match(table):
        raise ValidationError("table", "must be a lower-case nftables name such as "
                                       "mecpool_hss, got {!r}".format(table))
    for name, port in (("first-port", first_port), ("last-port", last_port)):
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ValidationError(name, "must be a TCP port from 1 to 65535, got {!r}".format(
                port))
    if first_port > last_port:
        raise ValidationError("last-port", "must not be below first-port ({} > {})".format(
            first_port, last_port))
    interfaces = list(interfaces)
    if not interfaces:
        raise ValidationError("interfaces", "name at least one interface that keeps the "
                                            "ports open (e.g. lo)")
    for name in interfaces:
        if not isinstance(name, str) or not _IFNAME.match(name):
            raise ValidationError("interfaces", "{!r} is not an interface name (1 to 15 "
                                                "letters, digits or _.:@+-)".format(name))
    unique = []
    for name in interfaces:
        if name not in unique:
            unique.append(name)
    return PortRule(table, first_port, last_port, tuple(unique))


def _ports(rule):
    if rule.first_port == rule.last_port:
        return str(rule.first_port)
    return "{}-{}".format(rule.first_port, rule.last_port)


def rule_lines(rule):
    """The chain's rules, one per line, as `nft list table` prints them."""
    ports = _ports(rule)
    lines = ['iifname "{}" tcp dport {} accept'.format(name, ports) for name in rule.interfaces]
    lines.append("tcp dport {} drop".format(ports))
    return lines


def render(rule, owner):
    """The ruleset file: deletes and recreates our table only (one transaction)."""
    body = "".join("\t\t{}\n".format(line) for line in rule_lines(rule))
    return (
        "# Written by the MEC-Pool {owner} charm; changes are overwritten.\n"
        "# TCP {ports} only on {interfaces}; dropped on every other interface.\n"
        "# Only this table is replaced: the host's other rules stay as they are.\n"
        "add table inet {table}\n"
        "delete table inet {table}\n"
        "table inet {table} {{\n"
        "\tchain {chain} {{\n"
        "\t\ttype filter hook input priority 0; policy accept;\n"
        "{body}"
        "\t}}\n"
        "}}\n").format(owner=owner, ports=_ports(rule), interfaces=", ".join(rule.interfaces),
                       table=rule.table, chain=CHAIN, body=body)


def listed_rules(text):
    """The rule lines of our chain in `nft list table` output (hook line left out:
    its priority prints as "0" in 0.8.3 and as "filter" in later versions)."""
    rules, inside = [], False
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if line == "chain {} {{".format(CHAIN):
            inside = True
        elif inside and line == "}":
            inside = False
        elif inside and line and not line.startswith("type "):
            rules.append(line)
    return rules


def unit_name(table):
    """The boot unit of our table: mecpool_hss -> mecpool-hss-nftables.service."""
    return "{}-nftables.service".format(table.replace("_", "-"))


def unit(rule, owner, rules_path, before=()):
    """A oneshot unit loading the file at boot, before the network and ``before``."""
    after = "".join(" " + name for name in before)
    return (
        "# Written by the MEC-Pool {owner} charm; changes are overwritten.\n"
        "[Unit]\n"
        "Description=MEC-Pool: TCP {ports} only on {interfaces} (nftables table inet {table})\n"
        "DefaultDependencies=no\n"
        "Wants=network-pre.target\n"
        "Before=network-pre.target shutdown.target{after}\n"
        "Conflicts=shutdown.target\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        "RemainAfterExit=yes\n"
        "ExecStart={nft} -f {path}\n"
        "\n"
        "[Install]\n"
        "WantedBy=sysinit.target\n").format(
            owner=owner, ports=_ports(rule), interfaces=", ".join(rule.interfaces),
            table=rule.table, after=after, nft=NFT, path=rules_path)


class PortFilter(object):
    """Install, apply and check one PortRule on this machine."""

    def __init__(self, owner, systemd, apt, run=process.run, root="/", before=()):
        self.owner = owner
        self.systemd = systemd
        self.apt = apt
        self.run = run
        self.root = root
        self.before = tuple(before)

    def rules_path(self, rule):
        """Where the ruleset lives on the machine (the unit names this path)."""
        return os.path.join(RULES_DIR, rule.table + ".nft")

    def apply(self, rule, budget=None):
        """Make the live table and the boot unit match ``rule``; True when either changed
        (apt-get within ``budget`` when given)."""
        self.apt.install([PACKAGE], budget)
        path = self.rules_path(rule)
        changed = files.write_file(files.rooted(self.root, path), render(rule, self.owner),
                                   mode=0o644)
        if changed or self.problem(rule) is not None:
            self.run([NFT, "-f", path])
            changed = True
            problem = self.problem(rule)
            if problem is not None:
                raise MecpoolError("nftables table inet {} was loaded but {}".format(
                    rule.table, problem))
        changed |= self.systemd.install_unit(unit_name(rule.table),
                                             unit(rule, self.owner, path, self.before))
        return changed

    def problem(self, rule):
        """None when the live table holds exactly our rules, else what is wrong (words)."""
        try:
            listed = self.run([NFT, "list", "table", "inet", rule.table], check=False)
        except CommandError as error:  # nft missing
            return "cannot be read ({})".format(error.reason or error)
        if listed.returncode != 0:
            return "is not loaded"
        found = listed_rules(listed.stdout)
        expected = rule_lines(rule)
        if found != expected:
            return "holds other rules ({}) than expected ({})".format(
                "; ".join(found) or "none", "; ".join(expected))
        return None
