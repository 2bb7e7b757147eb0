"""The lab's virtual networks: one network namespace that holds every bridge,
every VM's tap, the router between the VIMs' pool networks, Neutron's DHCP
(dnsmasq with one fixed address per port) and the package mirror (HTTP).

The namespace has no link to the host's networks: nothing the VMs send can
leave the machine.  QEMU runs inside the namespace to open its taps there.
"""

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from . import lifetime
from .topology import LAB_HOST


class LabNetworkError(RuntimeError):
    """A lab network step failed; the message names the command."""


def tap_name(vm_name, network):
    """Nova names a port's tap ``tap`` + the port id's first 11 characters."""
    return "tap" + hashlib.sha256("{}/{}".format(vm_name, network).encode()).hexdigest()[:11]


def _run(argv):
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise LabNetworkError("{}: {}".format(" ".join(argv), (done.stderr or done.stdout).strip()))
    return done.stdout


def dnsmasq_config(topology, run_dir):
    """Neutron's DHCP for every lab network: static ranges, one host per port,
    the subnet's gateway as router option (none where the subnet has none),
    no DNS (the lab has no resolver and nothing to resolve)."""
    lines = ["port=0", "bind-interfaces", "except-interface=lo", "dhcp-authoritative", "log-dhcp",
             "dhcp-leasefile={}".format(run_dir / "dnsmasq.leases"),
             "log-facility={}".format(run_dir / "dnsmasq.log")]
    for net in topology.networks:
        tag = net.name.replace("-", "_")
        lines.append("interface={}".format(net.bridge))
        lines.append("dhcp-range=set:{},{},static,{},infinite".format(tag, net.subnet.network_address,
                                                                       net.subnet.netmask))
        lines.append("dhcp-option=tag:{},option:router{}".format(tag, "," + str(net.gateway) if net.gateway else ""))
    for vm in topology.vms:
        for port in vm.ports:
            lines.append("dhcp-host={},{}".format(port.mac, port.address))
    return "\n".join(lines) + "\n"


class LabNamespace(object):
    """Set up with :meth:`up`, removed with :meth:`down` (also after a failed
    ``up``): processes stopped, the namespace and everything in it deleted."""

    def __init__(self, name, topology, run_dir, mirror_dir):
        self.name = name
        self.topology = topology
        self.run_dir = Path(run_dir)
        self.mirror_dir = Path(mirror_dir)
        self.processes = {}

    def argv(self, argv):
        """``argv`` run inside the lab namespace."""
        return ["ip", "netns", "exec", self.name] + list(argv)

    def ip(self, *args):
        return _run(self.argv(["ip"] + list(args)))

    def up(self):
        for tool, package in (("ip", "iproute2"), ("dnsmasq", "dnsmasq-base")):
            if shutil.which(tool) is None:
                raise LabNetworkError("{} is missing: install the Debian package {}".format(tool, package))
        self.remove_stale()
        _run(["ip", "netns", "add", self.name])
        try:
            self._links()
            self._services()
        except BaseException:
            self.down()
            raise

    def remove_stale(self):
        """A namespace left by a killed run would hold our addresses."""
        if self.name in _run(["ip", "netns", "list"]).split():
            _run(["ip", "netns", "delete", self.name])

    def _links(self):
        self.ip("link", "set", "lo", "up")
        _run(self.argv(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]))
        for net in self.topology.networks:
            self.ip("link", "add", net.bridge, "type", "bridge")
            self.ip("addr", "add", "{}/{}".format(net.host_address, net.subnet.prefixlen), "dev", net.bridge)
            self.ip("link", "set", net.bridge, "up")
        for vm in self.topology.vms:
            for port in vm.ports:
                tap = tap_name(vm.name, port.network)
                self.ip("tuntap", "add", "dev", tap, "mode", "tap")
                self.ip("link", "set", tap, "master", self.topology.network(port.network).bridge)
                self.ip("link", "set", tap, "up")

    def _services(self):
        self.run_dir.mkdir(parents=True, exist_ok=True)
        config = self.run_dir / "dnsmasq.conf"
        config.write_text(dnsmasq_config(self.topology, self.run_dir))
        self.start("dnsmasq", ["dnsmasq", "--keep-in-foreground", "--conf-file={}".format(config)])
        serve = self.run_dir / "www"
        serve.mkdir(exist_ok=True)
        link = serve / "debian"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(self.mirror_dir.resolve())
        self.start("mirror", ["python3", "-m", "http.server", "80", "--bind", str(LAB_HOST),
                              "--directory", str(serve)])
        time.sleep(0.5)
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise LabNetworkError("{} exited at once (code {}); see {}".format(
                    name, process.returncode, self.run_dir / (name + ".log")))

    def start(self, name, argv, cwd=None):
        """A long-running process in the namespace, its output in run_dir/<name>.log."""
        log = open(str(self.run_dir / (name + ".log")), "ab")
        try:
            self.processes[name] = subprocess.Popen(self.argv(argv), stdout=log, stderr=subprocess.STDOUT,
                                                    cwd=cwd, start_new_session=True,
                                                    preexec_fn=lifetime.die_with_parent)
        finally:
            log.close()
        return self.processes[name]

    def stop(self, name, timeout=10):
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def down(self):
        for name in list(self.processes):
            self.stop(name)
        if self.name in _run(["ip", "netns", "list"]).split():
            _run(["ip", "netns", "delete", self.name])
