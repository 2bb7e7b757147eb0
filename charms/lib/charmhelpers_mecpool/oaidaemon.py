"""OaiDaemon: what the four OAI EPC workloads (HSS, MME, SPGW-C, SPGW-U) share.

Their paths under ``root`` (the tests' seam), the helpers they drive (systemd,
netplan, apt, the OAI build, templates, the settings file) and the lifecycle
steps that are the same for every OAI daemon.  A workload subclasses it with
its NAME, SERVICE, SOURCE_DIR, BINARY, TEMPLATES, BUILD_STEPS, LAYOUTS (and
PACKAGES, START_SERVICES where they differ) and implements
``_wait_listening(settings)``, ``service_status()`` and ``sample_context()``.

The day-1 sequence (docs/epc.md): ``build`` checks the source out, checks its
configuration layout and starts the build in the background; ``wait-build``
watches it for at most one WAIT_STEP; ``configure`` does not wait for the build
(the wait-build steps before it did): it finds it built, or fails at once.
Every wait of a primitive draws from its ``budget.Budget``; ``WAITS`` lists the
waits of each action, so the tests can add up the worst case.
"""

import time

from . import budget as budgets
from . import aptlock, epc, files, sourcecheck
from .apt import Apt
from .cloudmeta import metadata_mac_lookup
from .errors import MecpoolError, WaitTimeout
from .netplan import Network
from .oaibuild import WAIT_STEP, OaiBuild
from .status import short
from .systemd import Systemd
from .templates import Renderer


class OaiDaemon(object):
    NAME = None
    SERVICE = None
    SOURCE_DIR = None
    BINARY = None
    TEMPLATES = None
    BUILD_STEPS = ()
    LAYOUTS = ()          # sourcecheck.SupportedLayout, first match wins
    PACKAGES = epc.BASE_PACKAGES
    # What `start` brings up, in order (None: just SERVICE).
    START_SERVICES = None
    # action -> ((what, seconds), ...): every wait the action may make, at its longest.
    # A workload adds its own actions (configure, restart, ...).
    WAITS = {
        "build": (),
        "wait-build": (("the OAI build", budgets.BUILD_WAIT_STEP + budgets.BUILD_POLL_INTERVAL),),
        "status": (),
    }

    def __init__(self, run, root, mac_lookup, sleep, clock, listen_timeout, build_runner=None,
                 build_wait=WAIT_STEP, wall_clock=time.time):
        self.run = run
        self.wall_clock = wall_clock
        self.root = root
        self.sleep = sleep
        self.clock = clock
        self.listen_timeout = listen_timeout
        self.mac_lookup = mac_lookup or metadata_mac_lookup()
        self.prefix = self.path(epc.OAI_PREFIX)
        self.log_dir = self.path(epc.OAI_LOG_DIR)
        self.state_dir = self.path(epc.STATE_DIR)
        self.src_dir = self.path(self.SOURCE_DIR)
        self.binary = self.path(self.BINARY)
        self.proc_root = self.path("/proc")
        self.hosts_path = self.path("/etc/hosts")
        self.systemd = Systemd(run=run, unit_dir=self.path("/etc/systemd/system"))
        self.network = Network(run=run, netplan_dir=self.path("/etc/netplan"), sleep=sleep,
                               clock=clock)
        self.apt = Apt(run=run, sources_dir=self.path("/etc/apt/sources.list.d"),
                       keyring_dir=self.path("/etc/apt/trusted.gpg.d"),
                       dpkg_dir=self.path("/var/lib/dpkg"),
                       locks=aptlock.LockWait(root, self.proc_root))
        self.builder = OaiBuild(self.NAME, run=run, state_dir=self.state_dir,
                                log_dir=self.path("/var/log/mecpool"), runner=build_runner,
                                systemd=self.systemd, sleep=sleep, clock=clock)
        self.build_wait = build_wait
        self.renderer = Renderer(self.TEMPLATES)
        self.settings = epc.Settings(self.NAME, root=root)
        # The source the last `build`/`configure` asked for (repository, ref, commit, layout).
        self.source = epc.Settings(self.NAME + "-source", root=root)
        # When `build` last started (wall clock): the day-1 clock wait-peer counts against.
        self.day1 = epc.Settings(self.NAME + "-day1", root=root)

    def path(self, path):
        return files.rooted(self.root, path)

    def budget(self, primitive):
        """The time budget of one run of ``primitive`` (budget.PRIMITIVE_BUDGET)."""
        return budgets.Budget(primitive, sleep=self.sleep, clock=self.clock)

    def install(self, budget=None):
        """The packages (apt-get within ``budget``) and the state directories.  No
        other apt may run from here on: the units that start one are masked, and
        every apt-get waits for a run still going (aptlock)."""
        aptlock.quiesce(self.run)
        self.apt.install(self.PACKAGES, budget)
        files.ensure_dir(self.state_dir, 0o700)
        files.ensure_dir(self.log_dir, 0o700)

    # ---- source, layout and build -------------------------------------------------
    def sample_context(self):
        """A rendering context with OAI's own example values: the layout check of
        `build` runs before configure's values are known (values do not change
        the key layout)."""
        raise NotImplementedError("each OAI workload renders its own templates")

    def check_source(self, repository, ref, context):
        """The SupportedLayout of the checkout (sourcecheck.UnsupportedSource if none)."""
        def render(layout, config_file):
            return self.renderer.render(config_file.template, dict(context, **layout.context))
        return sourcecheck.select(self.src_dir, self.LAYOUTS, render, repository, ref)

    def _checkout(self, repository, ref, context, budget):
        commit = self.builder.checkout(repository, ref, self.src_dir, budget)
        layout = self.check_source(repository, ref, context)
        self.source.save({"repository": repository, "ref": ref, "commit": commit,
                          "layout": layout.name})
        return commit, layout

    def _progress_results(self, progress, layout):
        return {"commit": progress.commit, "layout": layout.name, "build": progress.state,
                "step": "{}/{}".format(progress.step, progress.steps),
                "minutes": str(progress.minutes)}

    def build(self, source):
        """The `build` action: check out, check the layout, start the build; returns
        at once (the build runs as a service)."""
        budget = self.budget("build")
        self.day1.save({"build-started": int(self.wall_clock())})
        self.install(budget)
        self.install_runtime(source, budget)
        commit, layout = self._checkout(source["git-repository"], source["git-commit"],
                                        self.sample_context(), budget)
        self.pin_sources(source)
        progress = self.builder.start(source["git-repository"], commit, self.src_dir,
                                      self.BUILD_STEPS, [self.binary])
        return self._progress_results(progress, layout)

    def install_runtime(self, source, budget):
        """`build`'s step before the checkout: what the component needs that OAI's
        build scripts do not install (the HSS: Java and Cassandra)."""

    def pin_sources(self, source):
        """`build`'s step after the checkout: pin what OAI's scripts would fetch
        unpinned (the SPGW-C/U: spdlog, oaipins)."""

    def _requested(self):
        source = self.source.load()
        if not source:
            raise MecpoolError("no build requested yet: run the 'build' action first")
        return source

    def wait_build(self):
        """The `wait-build` action: watch the build for at most one step; success
        while it runs, failure (with the log's tail) when it failed."""
        source = self._requested()
        max_wait = self.budget("wait-build").allot("the OAI build", self.build_wait)
        progress = self.builder.wait(source["repository"], source["commit"], self.src_dir,
                                     self.BUILD_STEPS, [self.binary], max_wait)
        layout = [l for l in self.LAYOUTS if l.name == source.get("layout")] or self.LAYOUTS[:1]
        return self._progress_results(progress, layout[0])

    def prepare_source(self, config, context, budget):
        """configure's first steps: checkout, layout check with the values about to be
        written, then the build's state (no wait: the wait-build steps before configure
        waited; a build that is not done fails configure at once).  Returns (results, layout)."""
        repository, ref = config["git-repository"], config["git-commit"]
        commit, layout = self._checkout(repository, ref, context, budget)
        was_built = self.builder.state.is_current(repository, commit, [self.binary])
        progress = self.builder.wait(repository, commit, self.src_dir, self.BUILD_STEPS,
                                     [self.binary], max_wait=0)
        if progress.state != "built":
            raise WaitTimeout(
                "the OAI build of {} is still running (step {}/{}, {} min); configure does not "
                "wait for it: run wait-build until it reports built, then configure again".format(
                    commit[:12], progress.step, progress.steps, progress.minutes))
        return {"commit": commit, "built": epc.yes_no(not was_built),
                "layout": layout.name}, layout

    def build_status(self):
        """(kind, message) while a requested build runs or after it failed; else None."""
        source = self.source.load()
        if not source:
            return None
        progress, status = self.builder.status(source["repository"], source["commit"],
                                               [self.binary])
        if progress.state in ("running", "interrupted"):
            return "maintenance", short("building OAI {} (step {}/{}, {} min)".format(
                source["commit"][:8], progress.step, progress.steps, progress.minutes))
        if progress.state == "failed":
            return "blocked", short("OAI build of {} failed at step {}/{}; see {}".format(
                source["commit"][:8], status.step, status.steps, self.builder.log_path))
        return None

    def status(self):
        """The unit status: the build's while one runs or failed, else the daemon's."""
        return self.build_status() or self.service_status()

    def service_status(self):
        raise NotImplementedError("each OAI workload knows its own service")

    def start(self):
        """Juju `start` (also after a reboot): enabled units should run, unless the
        start still waits for a peer (update-status does it then)."""
        settings = self.settings.load()
        if settings and not settings.get("pending-start"):
            for service in self.START_SERVICES or (self.SERVICE,):
                self.systemd.ensure_running(service, False)

    def service_state(self):
        """The first lines of every `status` action's results."""
        return {"service": "active" if self.systemd.is_active(self.SERVICE) else "inactive",
                "enabled": epc.yes_no(self.systemd.is_enabled(self.SERVICE))}

    def _interface(self, cidr):
        """Put ``cidr`` on the interface that should have it; its name."""
        address, prefix = cidr.split("/")
        return self.network.ensure_address(address, int(prefix), mac_lookup=self.mac_lookup)

    def _configured(self):
        settings = self.settings.load()
        if not settings:
            raise MecpoolError("not configured yet: run the 'configure' action first")
        return settings

    def _start(self, settings, budget):
        """(Re)start, wait for the listeners (within ``budget``), clear a pending start."""
        self.systemd.restart(self.SERVICE)
        self._wait_listening(settings, budget)
        if settings.get("pending-start"):
            self.settings.save(dict(settings, **{"pending-start": False}))

    def _wait_listening(self, settings, budget):
        raise NotImplementedError("each OAI workload knows its own listeners")
