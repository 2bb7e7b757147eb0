"""Sites as network namespaces on one bridge, with pairwise delays.

One *namespace set* is a complete, isolated copy of a scenario's network: a
bridge and, per site, a namespace joined to the bridge by a veth pair.  Sets
do not share anything, so every set reuses the same site addresses and
concurrent runs cannot reach each other.

Delays: every site's veth end (inside its namespace) gets a ``prio`` qdisc
with one band per distinct one-way delay towards the other sites; ``u32``
filters put packets into the band of their destination address and each band
holds a ``netem delay``.  So the delay from a to b is RTT(a, b) / 2 and the
round trip a -> b -> a is exactly the scenario's RTT(a, b), for every pair
(a star of single delays could only give sums of per-site delays).
Unclassified traffic (ARP) takes the last band, which has no delay.

All commands are argument lists for ``ip`` and ``tc`` given by full path.
"""

from .scenario import ScenarioError

MAX_BANDS = 16       # TCA_PRIO_MAX: prio supports at most 16 bands
NETEM_LIMIT = 100000  # packets a netem band may hold (its default of 1000 is low for 320 ms)


def _us(ms):
    """A delay in ms as a whole number of microseconds for tc."""
    return "{}us".format(int(round(ms * 1000)))


class SiteLink:
    """One site's namespace, veth pair and delay bands."""

    def __init__(self, name, namespace, device, bridge_port, address, bands):
        self.name = name
        self.namespace = namespace
        self.device = device            # inside the namespace
        self.bridge_port = bridge_port  # the veth end on the bridge (root namespace)
        self.address = address
        self.bands = bands              # [(one-way delay ms, [destination addresses])]


class Topology:
    """The namespace set ``index`` of ``scenario``."""

    def __init__(self, scenario, index, ip="/usr/bin/ip", tc="/usr/bin/tc"):
        if not 0 <= index <= 99:
            raise ValueError("namespace set index {} is outside 0..99".format(index))
        self.scenario = scenario
        self.index = index
        self.ip = ip
        self.tc = tc
        self.prefix = "t{:02d}".format(index)
        self.bridge = self.prefix + "br"
        self.prefixlen = scenario.subnet.prefixlen
        self.sites = {}
        for name, site in scenario.sites.items():
            delays = {}
            for other in scenario.sites:
                if other != name:
                    one_way = scenario.rtt_ms(name, other) / 2.0
                    delays.setdefault(one_way, []).append(scenario.address(other))
            bands = sorted((delay, addrs) for delay, addrs in delays.items() if delay > 0)
            if len(bands) > MAX_BANDS - 1:
                raise ScenarioError("sites.{}".format(name), "{} distinct delays to other sites; "
                                    "at most {} are possible".format(len(bands), MAX_BANDS - 1))
            self.sites[name] = SiteLink(
                name, "{}-{}".format(self.prefix, name),
                "{}v{:02d}".format(self.prefix, site.index),
                "{}b{:02d}".format(self.prefix, site.index),
                scenario.address(name), bands)

    def namespace(self, site):
        return self.sites[site].namespace

    def setup_argv(self):
        """Commands that build the set, in order."""
        ip = self.ip
        steps = [[ip, "link", "add", self.bridge, "type", "bridge"],
                 [ip, "link", "set", self.bridge, "up"]]
        for link in self.sites.values():
            ns = link.namespace
            steps += [
                [ip, "netns", "add", ns],
                # No IPv6 in the sites: only the scenario's IPv4 addresses exist, so
                # SCTP cannot pick an undelayed link-local address.
                [ip, "netns", "exec", ns, "sh", "-c",
                 "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6;"
                 " echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6"],
                [ip, "link", "add", link.device, "type", "veth", "peer", "name", link.bridge_port],
                [ip, "link", "set", link.bridge_port, "master", self.bridge],
                [ip, "link", "set", link.bridge_port, "up"],
                [ip, "link", "set", link.device, "netns", ns],
                [ip, "-n", ns, "link", "set", "lo", "up"],
                [ip, "-n", ns, "addr", "add", "{}/{}".format(link.address, self.prefixlen),
                 "dev", link.device],
                [ip, "-n", ns, "link", "set", link.device, "up"],
            ]
            steps += self._delay_argv(link)
        return steps

    def setup_batches(self):
        """setup_argv() grouped for ``ip -batch`` / ``tc -batch``: a handful of
        processes instead of ~130 (each exec costs tens of ms under TCG).

        Returns [(argv prefix, [batch lines] or None)]; None means run the
        prefix as it is.  Order: the root namespace's commands (bridge,
        namespaces, veth pairs), then per site its sysctl, ip and tc batches.
        """
        root, per_site = [], {link.namespace: ([], [], []) for link in self.sites.values()}
        for argv in self.setup_argv():
            if argv[0] == self.ip and argv[1] == "-n":
                per_site[argv[2]][1].append(argv[3:])
            elif argv[0] == self.tc and argv[1] == "-n":
                per_site[argv[2]][2].append(argv[3:])
            elif argv[0] == self.ip and argv[1:3] == ["netns", "exec"]:
                per_site[argv[3]][0].append(argv)
            elif argv[0] == self.ip:
                root.append(argv[1:])
            else:
                raise ValueError("unexpected set-up command {}".format(argv))
        steps = [([self.ip, "-batch"], root)]
        for namespace, (execs, ip_lines, tc_lines) in per_site.items():
            steps += [(argv, None) for argv in execs]
            if ip_lines:
                steps.append(([self.ip, "-n", namespace, "-batch"], ip_lines))
            if tc_lines:
                steps.append(([self.tc, "-n", namespace, "-batch"], tc_lines))
        return steps

    def _delay_argv(self, link):
        if not link.bands:
            return []
        tc, ns, dev = self.tc, link.namespace, link.device
        default_band = str(len(link.bands))  # the last band: no delay
        steps = [[tc, "-n", ns, "qdisc", "add", "dev", dev, "root", "handle", "1:", "prio",
                  "bands", str(len(link.bands) + 1), "priomap"] + [default_band] * 16]
        for number, (delay, addresses) in enumerate(link.bands, start=1):
            steps.append([tc, "-n", ns, "qdisc", "add", "dev", dev, "parent", "1:{}".format(number),
                          "handle", "{}:".format(number + 10), "netem", "delay", _us(delay),
                          "limit", str(NETEM_LIMIT)])
            for address in addresses:
                steps.append([tc, "-n", ns, "filter", "add", "dev", dev, "parent", "1:",
                              "protocol", "ip", "prio", "1", "u32", "match", "ip", "dst",
                              address + "/32", "flowid", "1:{}".format(number)])
        return steps

    def link_loss_argv(self, site, lost):
        """Cut (lost=True) or restore a site's link: netem loss 100 % both ways.

        Towards the site: a netem on the bridge-side veth end.  From the site:
        every delay band (or a root netem for a site without delays) loses all.
        """
        link = self.sites[site]
        tc, ns, dev = self.tc, link.namespace, link.device
        loss = ["loss", "100%"] if lost else []
        steps = []
        if lost:
            steps.append([tc, "qdisc", "add", "dev", link.bridge_port, "root", "netem"] + loss)
        else:
            steps.append([tc, "qdisc", "del", "dev", link.bridge_port, "root"])
        if link.bands:
            for number, (delay, _) in enumerate(link.bands, start=1):
                steps.append([tc, "-n", ns, "qdisc", "change", "dev", dev, "parent",
                              "1:{}".format(number), "handle", "{}:".format(number + 10), "netem",
                              "delay", _us(delay), "limit", str(NETEM_LIMIT)] + loss)
        elif lost:
            steps.append([tc, "-n", ns, "qdisc", "add", "dev", dev, "root", "netem"] + loss)
        else:
            steps.append([tc, "-n", ns, "qdisc", "del", "dev", dev, "root"])
        return steps

    def teardown_argv(self):
        """Delete the veth pairs from the root side first: a namespace's own devices
        go only when the kernel's asynchronous netns clean-up runs, which under load
        came after the lane's next run had tried to create the same names."""
        steps = [[self.ip, "link", "del", link.bridge_port] for link in self.sites.values()]
        steps += [[self.ip, "netns", "del", link.namespace] for link in self.sites.values()]
        steps.append([self.ip, "link", "del", self.bridge])
        return steps
