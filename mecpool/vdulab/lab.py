"""The lab's resources and their lifecycle: the cached image and package mirror,
the N2VC keys, the networks, and one QEMU VM per lab VDU booted the way Nova
boots it (config drive with user data, meta data and network data).

``with Lab(...) as lab:`` removes every VM, process and network on the way out,
also after a failure."""

import hashlib
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from mecpool.descriptors import additional_params

from . import checks, configdrive, image as image_mod, mirror as mirror_mod, qemu
from .guest import Guest
from .network import LabNamespace, tap_name
from .topology import MIRROR_URL, build_topology
from .vdus import vm_user_data

NAMESPACE_PREFIX = "mecpool-vdulab-"


def namespace_for(run_dir):
    """The lab's network namespace, one per run directory: two labs (a user's `make vdu-lab`
    and the test suite's, say) run side by side, and a run removes only its own leftovers."""
    return NAMESPACE_PREFIX + hashlib.sha1(str(Path(run_dir).resolve()).encode()).hexdigest()[:8]
# What the VMs install from the lab mirror: the pool VDUs' cloud-init and charms
# (rsplib-registrar, rsplib-tools) and the pool users the lab runs (calcappclient,
# taken from rsplib-services' .deb without its Qt dependencies).
MIRROR_PACKAGES = ("rsplib-registrar", "rsplib-tools", "rsplib-services")
KEY_COMMENTS = ("juju-client-key", "n2vc-osm-key")
# From QEMU's start to cloud-init done, per VM.  On two busy cores (load 5-8) the slowest took
# 594 s (2026-12-06, run 1); a VM slower than three times that has failed.
BOOT_TIMEOUT_S = 1800


@dataclass
class VmRun:
    """One booted VM and what the lab measured on it (monotonic seconds)."""
    vm: object              # topology.LabVm
    user_data: str
    user_data_bytes: int    # after novaclient's base64, as Nova measures it
    spec: object            # qemu.VmSpec
    guest: Guest
    started: float = None
    ssh_ready: float = None
    registered: float = None
    cloud_init_done: float = None
    cloud_init: object = None   # checks.CloudInitResult
    failure: str = ""
    watcher: threading.Thread = None   # waits from boot for SSH and cloud-init (Lab.wait_booted)


def make_keys(directory):
    """Two 4096-bit RSA key pairs, as N2VC generates (R8 sends both as key-pairs)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for comment in KEY_COMMENTS:
        path = directory / comment
        if not path.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "4096", "-N", "", "-C", comment,
                            "-f", str(path)], check=True)
        paths.append(path)
    return paths


class Lab(object):
    def __init__(self, site, built, run_dir, cache_root, log=print, memory_mb=768, vcpus=1, disk_gb=4):
        self.site = site
        self.built = built
        # Absolute: dnsmasq and QEMU run with another working directory (`make vdu-lab`'s
        # default --out build/vdu-lab made dnsmasq fail to open its log).
        self.run_dir = Path(run_dir).resolve()
        self.cache_root = Path(cache_root).resolve()
        self.namespace = namespace_for(self.run_dir)
        self.log = log
        self.memory_mb = memory_mb
        self.vcpus = vcpus
        self.disk_gb = disk_gb
        self.topology = build_topology(site)
        self.params = additional_params(site, reveal_secrets=False)
        self.network = None
        self.image = None
        self.key_path = None
        self.runs = {}
        self.processes = {}
        self.timings = {}
        self.schema_cache = {}

    # --- set-up and tear-down ------------------------------------------------
    def __enter__(self):
        try:
            self.open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _timed(self, name, function, *args):
        start = time.monotonic()
        result = function(*args)
        self.timings[name] = time.monotonic() - start
        return result

    def open(self):
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.image = self._timed("image", image_mod.ensure_image, self.cache_root, MIRROR_URL, self.log)
        mirror_dir = self._timed("mirror", mirror_mod.ensure_mirror, self.image, list(MIRROR_PACKAGES),
                                 self.cache_root, self.log)
        keys = make_keys(self.run_dir / "keys")
        self.key_path = keys[0]
        key_pairs = [Path(str(k) + ".pub").read_text().strip() for k in keys]
        for vm in self.topology.vms:
            text, size = vm_user_data(self.built, vm.vnfd_id, vm.vdu_id, self.params[vm.member], key_pairs)
            self.runs[vm.name] = VmRun(vm, text, size.user_data_bytes, self._spec(vm), None)
        self.network = LabNamespace(self.namespace, self.topology, self.run_dir / "net", mirror_dir)
        self.network.up()
        for run in self.runs.values():
            run.guest = Guest(run.vm.name, run.vm.mgmt_address, self.key_path, self.network)

    def close(self):
        threads = [threading.Thread(target=self.power_off, args=(name,)) for name in list(self.processes)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.network is not None:
            self.network.down()

    # --- VMs -------------------------------------------------------------------
    def _spec(self, vm):
        directory = self.run_dir / "vms" / vm.name
        return qemu.VmSpec(
            name=vm.name, image=self.image, overlay=directory / "disk.qcow2", disk_gb=self.disk_gb,
            memory_mb=self.memory_mb, vcpus=self.vcpus, config_drive=directory / "config-drive.iso",
            nics=tuple((tap_name(vm.name, p.network), p.mac) for p in vm.ports),
            serial_log=directory / "serial.log", pidfile=directory / "qemu.pid",
            qmp_socket=directory / "qmp.sock", uuid=str(uuid.uuid4()), netns=self.namespace)

    def boot(self, names, timeout_s=BOOT_TIMEOUT_S):
        """Start the VMs ``names`` (disk overlay, config drive, QEMU in the lab namespace) and,
        for each, a thread that waits for SSH and cloud-init from that moment: its times are
        the VM's own even when the lab asks for them later (``wait_booted``)."""
        for name in names:
            run = self.runs[name]
            spec = run.spec
            spec.overlay.parent.mkdir(parents=True, exist_ok=True)
            qemu.create_overlay(self.image, spec.overlay, spec.disk_gb)
            # OSM R8's RO names a VM <ns>-<member>-<vdu>-<n>; Nova derives the hostname from it.
            configdrive.write_config_drive(
                spec.config_drive,
                meta_data=configdrive.nova_meta_data(spec.uuid, "vdulab-{}-{}".format(run.vm.member, run.vm.name)),
                network_data=configdrive.nova_network_data([self._nic(p) for p in run.vm.ports]),
                user_data=run.user_data.encode("utf-8"))
            run.started = time.monotonic()
            self.processes[name] = qemu.start_vm(spec)
            self.log("booting {} ({:,} bytes of user data)".format(name, run.user_data_bytes))
            # A daemon: a lab stopped midway powers the VM off and does not wait for it.
            run.watcher = threading.Thread(target=self._watch_boot, args=(run, run.started + timeout_s),
                                           name="boot-" + name, daemon=True)
            run.watcher.start()

    def _nic(self, port):
        net = self.topology.network(port.network)
        return configdrive.Nic(mac=port.mac, network_name=net.name,
                               network_id=str(uuid.uuid5(uuid.NAMESPACE_DNS, net.name + ".vdulab")),
                               address=str(port.address), prefix=net.subnet.prefixlen,
                               gateway=str(net.gateway) if net.gateway else None, dhcp=True, mtu=1500)

    def hard_reboot(self, name):
        """As Nova's ``server reboot --hard``: the VM's QEMU is stopped and started again on
        the same disk and config drive (cloud-init sees the same instance: per-instance
        steps do not run again; enabled services start as on any boot)."""
        self.power_off(name)
        spec = self.runs[name].spec
        if spec.serial_log.exists():   # QEMU truncates it: keep the first boot's console
            spec.serial_log.rename(spec.serial_log.with_name("serial-before-reboot.log"))
        self.processes[name] = qemu.start_vm(spec)
        self.log("hard reboot of {}".format(name))

    def power_off(self, name):
        """No clean shutdown needed: the lab's VMs are thrown away."""
        process = self.processes.pop(name, None)
        if process is not None:
            qemu.stop_vm(self.runs[name].spec, timeout=5)
            try:
                process.wait(timeout=15)   # reap it: no zombie QEMU while the lab goes on
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _watch_boot(self, run, deadline):
        """SSH up and cloud-init finished on ``run``'s VM by ``deadline``; records the times
        and cloud-init's verdict, or the failure."""
        try:
            run.guest.wait_ssh(deadline)
            run.ssh_ready = time.monotonic()
            run.cloud_init = checks.cloud_init_result(run.guest, run.user_data,
                                                      timeout=max(60, deadline - time.monotonic()),
                                                      schema_cache=self.schema_cache)
            run.cloud_init_done = time.monotonic()
        except Exception as error:  # noqa: BLE001 - reported per VM in the table
            run.failure = str(error)

    def wait_booted(self, names):
        """Until every VM of ``names`` booted (SSH and cloud-init done) or failed; the failed
        runs.  Each VM's deadline runs from its own boot (``boot``'s ``timeout_s``)."""
        for name in names:
            run = self.runs[name]
            if run.watcher is None:
                raise RuntimeError("{} was never booted".format(name))
            run.watcher.join()
        for name in names:
            process = self.processes.get(name)
            if process is not None and process.poll() is not None and not self.runs[name].failure:
                self.runs[name].failure = "QEMU exited with {}".format(process.returncode)
        return [self.runs[n] for n in names if self.runs[n].failure]
