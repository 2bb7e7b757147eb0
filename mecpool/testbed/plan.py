"""Plan testbed runs: from a scenario to the shell scripts that run them.

A plan is the same in both modes: a POSIX shell script per run (busybox sh in
the QEMU guest, /bin/sh on a host with SCTP) plus a batch script that runs
them in lanes side by side.  Every RSPLIB command line comes from :mod:`mecpool.rserpool`;
every argument is quoted with :func:`shlex.quote` (the values are validated
there and here before, so nothing from a user reaches a shell unquoted).
"""

import shlex
from importlib import resources

from mecpool import rsplibfix
from mecpool.rserpool.commands import (ASAP_PORT, ENRP_PORT, PE_PORT, PoolElementConfig,
                                       PoolUserConfig, RegistrarConfig, pool_element_command,
                                       pool_user_argv, registrar_argv)

from .topology import Topology

PR_ID_BASE = 0x7E000001   # registrar identifiers (distinct from the PEs' in hsdump output)
PE_ID_BASE = 0x5E000001
REGISTER_TIMEOUT_S = 60   # PE registration and ENRP spread (the China PE needs a few 320 ms RTTs)
# Debian's calcappclient 3.4.4 is built with FAST_BREAK: no break detector, so
# SIGINT/SIGTERM end it without its scalars (and a script's background jobs
# ignore SIGINT anyway).  It writes them itself when -runtime has passed, but it
# checks that only while it works on a job: an idle PU ends when its next job
# arrives (negative-exponential, mean = job interval).  So the PUs are never
# signalled; the run waits for them, allowing 10 mean intervals (a PU still
# idle then, probability e^-10, is killed and reported without scalars).
PU_EXIT_INTERVALS = 10
PU_EXIT_MIN_S = 60
STOP_TIMEOUT_S = 15
HSDUMP_PAUSE_S = 1.0   # between two dumps of one registrar in an hsdump loop
NETNS_DIR = "/run/netns"  # where `ip netns add` puts the namespace handles (iproute2)


def q(argv):
    return " ".join(shlex.quote(str(arg)) for arg in argv)


class Component:
    """A process of the run: registrar, pool element or pool user."""

    def __init__(self, kind, name, site, namespace, argv, **info):
        self.kind = kind            # pr | pe | pu
        self.name = name
        self.site = site
        self.namespace = namespace
        self.argv = argv
        self.info = info            # group, capacity, identifier, files ...
        self.deferred = False       # started by a fault action, not at the beginning


class Action:
    """One timed step of a run's timeline (a fault or a check)."""

    def __init__(self, at_s, kind, target=None, note=""):
        self.at_s = float(at_s)
        self.kind = kind            # signal:SIG | start | link-down | link-up | hsdump | hsdump-loop | wait-busy
        self.target = target
        self.note = note

    def label(self):
        return "{}@{:g}".format(self.kind if self.target is None else
                                "{}:{}".format(self.kind, self.target), self.at_s)


class RunPlan:
    """One run (PU count, repetition) in namespace set ``set_index``."""

    def __init__(self, scenario, pus, run, runtime_s, set_index, work_root, tools=None,
                 fault=None):
        tools = tools or {}
        self.scenario = scenario
        self.pus = pus
        self.run = run
        self.runtime_s = float(runtime_s)
        self.fault = fault
        self.topology = Topology(scenario, set_index, ip=tools.get("ip", "/usr/bin/ip"),
                                 tc=tools.get("tc", "/usr/bin/tc"))
        self.nsenter = tools.get("nsenter", "/usr/bin/nsenter")
        self.rspfix = tools.get("rspfix", rsplibfix.INSTALL_PATH)
        self.key = "pus-{}/run-{}".format(pus, run)
        self.work = "{}/{}".format(work_root.rstrip("/"), self.key)
        self.registrars = []
        self.pool_elements = []
        self.pool_users = []
        self.actions = []
        self.faults = []            # run.json "faults": {name, target, at_s, duration_s, ...}
        self._build_registrars()
        self._build_pool_elements()
        self._build_pool_users()

    # -- components
    def _file(self, name, ext):
        return "{}/{}.{}".format(self.work, name, ext)

    def _build_registrars(self, action_logs=False):
        scenario = self.scenario
        self.registrars = []
        for name, registrar in scenario.registrars.items():
            peers = ["{}:{}".format(scenario.address(other.site), ENRP_PORT)
                     for other in scenario.registrars.values() if other.name != name]
            config = RegistrarConfig(scenario.address(registrar.site), peers=peers,
                                     identifier=PR_ID_BASE + registrar.index,
                                     endpoint_keepalive_ms=scenario.endpoint_keepalive_ms,
                                     action_log_file=self._file(name, "actions") if action_logs else None)
            self.registrars.append(Component(
                "pr", name, registrar.site, self.topology.namespace(registrar.site),
                registrar_argv(config), address=config.address,
                identifier="{:08x}".format(config.identifier),
                enrp="{}:{}".format(config.address, ENRP_PORT),
                action_log=name + ".actions" if action_logs else None))

    def log_registrar_actions(self):
        """Let every registrar write its action log (``<name>.actions``: each ASAP/ENRP
        message it handled, with its time in microseconds)."""
        self._build_registrars(action_logs=True)

    def registrar_endpoints(self, names):
        return ["{}:{}".format(self.scenario.address(self.scenario.registrars[n].site), ASAP_PORT)
                for n in names]

    def _build_pool_elements(self):
        ports = {}
        for group in self.scenario.pe_groups.values():
            number = 0
            for site in group.sites:
                for _ in range(group.per_site):
                    number += 1
                    self.add_pool_element(group, site, "pe-{}-{}".format(group.name, number), ports)
        self._ports = ports

    def add_pool_element(self, group, site, name, ports=None, config=None):
        """Add a PE of ``group`` at ``site``; ``config`` overrides the generated one
        (scale-out builds it from a settings JSON like the PE VDU's cloud-init)."""
        ports = self._ports if ports is None else ports
        if config is None:
            port = ports.get(site, PE_PORT)
            ports[site] = port + 1
            config = PoolElementConfig(
                self.scenario.pool_handle, self.registrar_endpoints(group.registrars),
                self.scenario.address(site), capacity=group.capacity,
                max_jobs=self.scenario.max_jobs, load_increment=group.load_increment,
                policy=self.scenario.policy, local_port=port,
                identifier=PE_ID_BASE + len(self.pool_elements),
                object_name=name, scalar_file=self._file(name, "sca"),
                vector_file=self._file(name, "vec"), preload=self.pe_preload())
        component = Component(
            "pe", name, site, self.topology.namespace(site), pool_element_command(config),
            group=group.name, capacity=config.capacity, max_jobs=config.max_jobs,
            load_increment=config.load_increment, identifier="{:08x}".format(config.identifier),
            port=config.local_port, scalar=name + ".sca", vector=name + ".vec")
        self.pool_elements.append(component)
        return component

    def pe_preload(self):
        """The library the scenario's RSPLIB variant runs its PEs with (None: stock)."""
        return self.rspfix if self.scenario.rsplib == rsplibfix.FIXED else None

    def next_pe_identifier(self):
        return PE_ID_BASE + len(self.pool_elements)

    def next_port(self, site):
        port = self._ports.get(site, PE_PORT)
        self._ports[site] = port + 1
        return port

    def pe_file(self, name, ext):
        return self._file(name, ext)

    def _build_pool_users(self):
        users = self.scenario.pool_users
        width = max(2, len(str(self.pus)))
        for number in range(1, self.pus + 1):
            name = "pu-{:0{}d}".format(number, width)
            config = PoolUserConfig(
                self.scenario.pool_handle, self.registrar_endpoints(users.registrars),
                job_interval_s=users.job_interval_s, job_size=users.job_size,
                runtime_s=self.runtime_s, object_name=name,
                scalar_file=self._file(name, "sca"), vector_file=self._file(name, "vec"))
            self.pool_users.append(Component(
                "pu", name, users.site, self.topology.namespace(users.site),
                pool_user_argv(config), scalar=name + ".sca", vector=name + ".vec"))

    def component(self, name):
        for item in self.registrars + self.pool_elements + self.pool_users:
            if item.name == name:
                return item
        raise KeyError(name)

    # -- script
    def script(self, lib_text):
        lines = ["#!/bin/sh",
                 "# Generated by mecpool testbed: run {} in namespace set {}.".format(
                     self.key, self.topology.prefix),
                 "RUN={}".format(shlex.quote(self.key)),
                 "WORK={}".format(shlex.quote(self.work)),
                 'OUT="${{MECPOOL_OUT:?}}/raw/{}"'.format(self.key),
                 "IP={}".format(shlex.quote(self.topology.ip)),
                 "NSENTER={}".format(shlex.quote(self.nsenter)),
                 "NETNS={}".format(NETNS_DIR),
                 "T0=0",
                 lib_text,
                 "teardown() {"]
        lines += ["    {} >> \"$WORK/logs/setup.log\" 2>&1".format(q(argv))
                  for argv in self.topology.teardown_argv()]
        lines += ["    true", "}", "",
                  'rm -rf "$WORK"; mkdir -p "$WORK/logs" "$WORK/pids"',
                  "progress setup",
                  "teardown  # leftovers of a failed earlier run in this lane, if any"]
        for number, (argv, batch) in enumerate(self.topology.setup_batches()):
            if batch is None:
                lines.append("step {}".format(q(argv)))
                continue
            path = '"$WORK/setup-{}.batch"'.format(number)
            lines.append("cat > {} <<'MECPOOL_BATCH'".format(path))
            lines += [q(item) for item in batch]
            lines += ["MECPOOL_BATCH", "step {} {}".format(q(argv), path)]
        lines += ["", "progress registrars"]
        for pr in self.registrars:
            lines.append("start {} {} {}".format(pr.name, pr.namespace, q(pr.argv)))
        # A registrar is up when hsdump gets its (empty) handlespace.
        for pr in self.registrars:
            lines.append("wait_registered 30 {}-up {} {} >/dev/null || fail {}".format(
                pr.name, pr.namespace, q([pr.info["enrp"]]),
                shlex.quote("registrar {} did not answer hsdump".format(pr.name))))
        lines += ["", "progress pool-elements"]
        initial = [pe for pe in self.pool_elements if not pe.deferred]
        for pe in initial:
            lines.append("start {} {} {}".format(pe.name, pe.namespace, q(pe.argv)))
        # rspserver exits 0 even when its start-up failed: every PE must show
        # up in every registrar's handlespace (registration + ENRP) before the PUs.
        ids = " ".join(pe.info["identifier"] for pe in initial)
        for pr in self.registrars:
            lines.append('missing=$(wait_registered {} {}-registered {} {} {}) || fail '
                         '"PEs not in the handlespace of {} after {} s (identifiers:$missing); '
                         'see the pe-*.log files"'.format(
                             REGISTER_TIMEOUT_S, pr.name, pr.namespace, q([pr.info["enrp"]]),
                             ids, pr.name, REGISTER_TIMEOUT_S))
        for pe in initial:
            lines.append("alive {0} || fail 'pool element {0} exited during start-up'".format(pe.name))
        lines += ["", "progress pool-users {}".format(self.pus),
                  "T0=$(uptime_s); echo \"T0 $T0\" >> \"$WORK/events.txt\""]
        for pu in self.pool_users:
            lines.append("start {} {} {}".format(pu.name, pu.namespace, q(pu.argv)))
        lines.append("progress running {:g}".format(self.runtime_s))
        for action in sorted(self.actions, key=lambda a: a.at_s):
            lines += self._action_lines(action)
        names = " ".join(pu.name for pu in self.pool_users)
        started_pes = " ".join(pe.name for pe in self.pool_elements)
        prs = " ".join(pr.name for pr in self.registrars)
        lines += ["sleep_until {:g}".format(self.runtime_s),
                  "progress stopping",
                  "event end",
                  "wait_all {} {} {}".format(self.pu_exit_timeout(), "past-runtime", names),
                  "event pus-stopped",
                  "stop_all INT {} {}".format(STOP_TIMEOUT_S, started_pes),
                  "stop_all INT {} {}".format(STOP_TIMEOUT_S, prs),
                  "wait",
                  "teardown",
                  'echo ok > "$WORK/status"',
                  "collect",
                  "progress done",
                  ""]
        return "\n".join(lines)

    def pu_exit_timeout(self):
        return int(max(PU_EXIT_MIN_S, PU_EXIT_INTERVALS * self.scenario.pool_users.job_interval_s))

    def _action_lines(self, action):
        lines = ["sleep_until {:g}".format(action.at_s),
                 "progress fault {}".format(shlex.quote(action.label())),
                 "event {}".format(shlex.quote("action:" + action.label()))]
        if action.kind == "wait-busy":
            lines.append("wait_busy 30 {}".format(action.target))
        elif action.kind.startswith("signal:"):
            lines.append("signal {} {}".format(action.kind.split(":", 1)[1], action.target))
        elif action.kind == "start":
            item = self.component(action.target)
            lines.append("start {} {} {}".format(item.name, item.namespace, q(item.argv)))
        elif action.kind in ("link-down", "link-up"):
            lost = action.kind == "link-down"
            for argv in self.topology.link_loss_argv(action.target, lost):
                lines.append("{} >> \"$WORK/logs/setup.log\" 2>&1 || echo {} >> \"$WORK/warnings\""
                             .format(q(argv), shlex.quote("failed: " + " ".join(argv))))
        elif action.kind == "hsdump":
            # In the background: a dead registrar must not hold up the timeline.
            for pr in self.registrars:
                lines.append('hsdump_to "$WORK/logs/hsdump-{}-{}.txt" {} {} &'.format(
                    action.target, pr.name, pr.namespace, q([pr.info["enrp"]])))
        elif action.kind == "hsdump-loop":
            # Every registrar's handlespace for ``target`` seconds, HSDUMP_PAUSE_S apart
            # (hsdump joins the registrar as an ENRP peer: back to back, it loads them).
            for pr in self.registrars:
                lines.append('hsdump_loop "$WORK/logs/hsdump-loop-{}.txt" {} {} {:g} {:g} &'.format(
                    pr.name, pr.namespace, q([pr.info["enrp"]]), float(action.target),
                    HSDUMP_PAUSE_S))
        else:
            raise ValueError("unknown action {!r}".format(action.kind))
        return lines

    # -- metadata for run.json (the host completes it with the timing)
    def description(self):
        return {
            "pus": self.pus,
            "run": self.run,
            "runtime_s": self.runtime_s,
            "namespace_set": self.topology.prefix,
            "pes": [{"name": pe.name, "group": pe.info["group"], "site": pe.site,
                     "capacity": pe.info["capacity"], "max_jobs": pe.info["max_jobs"],
                     "load_increment": pe.info["load_increment"],
                     "identifier": "0x" + pe.info["identifier"], "deferred": pe.deferred,
                     "scalar": pe.info["scalar"], "vector": pe.info["vector"]}
                    for pe in self.pool_elements],
            "pus_list": [{"name": pu.name, "site": pu.site, "scalar": pu.info["scalar"],
                          "vector": pu.info["vector"]} for pu in self.pool_users],
            "registrars": [{"name": pr.name, "site": pr.site, "address": pr.info["address"],
                            "identifier": "0x" + pr.info["identifier"],
                            "action_log": pr.info["action_log"]} for pr in self.registrars],
            "faults": [dict(fault) for fault in self.faults],
            "actions": [{"action": a.kind, "target": a.target, "at_s": a.at_s, "note": a.note,
                         "label": a.label()}
                        for a in sorted(self.actions, key=lambda a: a.at_s)],
        }


def lib_text():
    return resources.files("mecpool.testbed").joinpath("plan_lib.sh").read_text()


def schedule(keys, jobs):
    """``jobs`` lanes of runs: the lanes run side by side, each its runs one after another.

    ``keys`` are (pus, run) pairs.  Runs are sorted by PU count and dealt out
    like cards (serpentine), so every lane carries about the same number of
    PUs; each lane's sequence is rotated by its index, so heavy and light runs
    mix at any moment instead of all heavy ones running first.  A lane has no
    barrier with the others (a run's slow end, waiting for idle PUs, does not
    hold up the other lanes); its namespace set is its lane number.
    """
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    count = min(jobs, len(keys))
    lanes = [[] for _ in range(count)]
    ordered = sorted(keys, key=lambda key: (-key[0], key[1]))
    for index, key in enumerate(ordered):
        lap, pos = divmod(index, count)
        lanes[pos if lap % 2 == 0 else count - 1 - pos].append(key)
    return [lane[i % len(lane):] + lane[:i % len(lane)] for i, lane in enumerate(lanes) if lane]


def lane_stagger_s(runtime_s, lanes):
    """Delay between lane starts.  Starting RSPLIB processes is the costly part of a run
    under TCG (dynamic linking, SCTP set-up); with every lane starting together the guest
    was starved for tens of seconds (first jobs waited 25 s, PEs looked unreachable)."""
    return 0.0 if lanes < 2 else round(min(20.0, runtime_s / (2.0 * lanes)), 1)


def batch_script(lanes, script_names, stagger_s=0.0):
    """The script the guest init (or the host) runs: every lane in the background.

    It first pins wall-clock time to /proc/uptime (waiting for a second to
    turn over, as busybox date has whole seconds only) so run times can be
    given as dates.
    """
    lines = ["#!/bin/sh",
             "# Generated by mecpool testbed: the lanes side by side, each its runs in turn.",
             'OUT="${MECPOOL_OUT:?}"',
             's=$(date +%s); while [ "$(date +%s)" = "$s" ]; do :; done',
             'read -r up _ < /proc/uptime; echo "$((s + 1)) $up" > "$OUT/clock"',
             ""]
    for number, lane in enumerate(lanes, start=1):
        runs = "; ".join('sh "$OUT/plan/{}"'.format(script_names[plan.key]) for plan in lane)
        lines.append('( sleep {:g}; echo "MECPOOL-LANE {} {}"; {} ) &'.format(
            stagger_s * (number - 1), number, len(lane), runs))
    lines += ["wait", 'echo "MECPOOL-DONE"', ""]
    return "\n".join(lines)
