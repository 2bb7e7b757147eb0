"""OaiDaemon: what the four OAI EPC workloads (HSS, MME, SPGW-C, SPGW-U) share.

Their paths under ``root`` (the tests' seam), the helpers they drive (systemd,
netplan, apt, the OAI build, templates, the settings file) and the lifecycle
steps that are the same for every OAI daemon.  A workload subclasses it with
its NAME, SERVICE, SOURCE_DIR, BINARY, TEMPLATES (and PACKAGES, START_SERVICES
where they differ) and implements ``_wait_listening(settings)``.
"""

from . import epc, files
from .apt import Apt
from .cloudmeta import metadata_mac_lookup
from .errors import MecpoolError
from .netplan import Network
from .oaibuild import OaiBuild
from .systemd import Systemd
from .templates import Renderer


class OaiDaemon(object):
    NAME = None
    SERVICE = None
    SOURCE_DIR = None
    BINARY = None
    TEMPLATES = None
    PACKAGES = epc.BASE_PACKAGES
    # What `start` brings up, in order (None: just SERVICE).
    START_SERVICES = None

    def __init__(self, run, root, mac_lookup, sleep, clock, listen_timeout):
        self.run = run
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
                       keyring_dir=self.path("/etc/apt/trusted.gpg.d"))
        self.build = OaiBuild(self.NAME, run=run, state_dir=self.state_dir,
                              log_dir=self.path("/var/log/mecpool"))
        self.renderer = Renderer(self.TEMPLATES)
        self.settings = epc.Settings(self.NAME, root=root)

    def path(self, path):
        return files.rooted(self.root, path)

    def install(self):
        self.apt.install(self.PACKAGES)
        files.ensure_dir(self.state_dir, 0o700)
        files.ensure_dir(self.log_dir, 0o700)

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

    def _start(self, settings):
        """(Re)start, wait for the listeners, clear a pending start."""
        self.systemd.restart(self.SERVICE)
        self._wait_listening(settings)
        if settings.get("pending-start"):
            self.settings.save(dict(settings, **{"pending-start": False}))

    def _wait_listening(self, settings):
        raise NotImplementedError("each OAI workload knows its own listeners")
