"""The SPGW-U's SGi policy routing, checked with `ip route get` where it runs.

The oai-spgwu charm's routing script (charms/oai-spgwu/templates/sgi-routable.sh.j2,
rendered by its workload's ``routing_context``) is loaded from the charm, run on a
host that has the SPGW-U's devices, and asked where each kind of traffic goes:
the SPGW-U's own replies from its UE gateway address, downlink from a host on the
SGi subnet, UE to UE, Internet to UE, uplink, and the host's own traffic.  The
tests run it in a network namespace; the VDU lab on its SPGW-U VM
(``check_vm``).  A "guest" is anything with ``sudo(command, check=, timeout=)``
returning a CompletedProcess-like object (``.returncode``, ``.stdout``, ``.stderr``).
"""

from __future__ import annotations

import importlib
import ipaddress
import shlex
import sys
from collections import namedtuple
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHARM_PATHS = (ROOT / "charms" / "lib", ROOT / "charms" / "oai-spgwu" / "src")
SCRIPT_PATH = "/run/mecpool-sgi-routable.sh"

# ``expect``: {"dev": name} and optionally {"via": gateway}, or {"unreachable": True}.
RouteCase = namedtuple("RouteCase", "name query expect")


def spgwu_module():
    """The oai-spgwu charm's workload module (no ops import), loaded from the charm."""
    for path in CHARM_PATHS:
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    return importlib.import_module("spgwu_workload")


def routing_script(sgi_cidr, sgi_gateway, pdn_network, sgi_interface, pdn_device):
    """The SPGW-U's sgi-routable script as its charm renders it for these values."""
    module = spgwu_module()
    config = {"sgi-address": str(sgi_cidr), "sgi-gateway": str(sgi_gateway),
              "pdn-network": str(pdn_network)}
    return module.render_routing("sgi-routable.sh.j2",
                                 module.routing_context(config, sgi_interface, pdn_device))


def route_cases(sgi_cidr, sgi_gateway, pdn_network, sgi_interface, pdn_device,
                mgmt_interface, mgmt_gateway, internet="192.0.2.10"):
    """The `ip route get` questions and their answers once the script ran."""
    sgi = ipaddress.IPv4Interface(str(sgi_cidr))
    pdn = ipaddress.IPv4Network(str(pdn_network))
    ue_gateway, ue, other_ue = pdn.network_address + 1, pdn.network_address + 5, \
        pdn.network_address + 6
    sgi_host = next(h for h in sgi.network.hosts()
                    if h not in (sgi.ip, ipaddress.IPv4Address(str(sgi_gateway))))
    to_ue = {"dev": pdn_device}
    to_sgi_gateway = {"dev": sgi_interface, "via": str(sgi_gateway)}
    return [
        RouteCase("reply of the SPGW-U's UE gateway address to a UE",
                  "{} from {}".format(ue, ue_gateway), to_ue),
        RouteCase("downlink from a host on the SGi subnet",
                  "{} from {} iif {}".format(ue, sgi_host, sgi_interface), to_ue),
        RouteCase("UE to UE", "{} from {} iif {}".format(other_ue, ue, pdn_device), to_ue),
        RouteCase("Internet to UE", "{} from {} iif {}".format(ue, internet, sgi_interface), to_ue),
        RouteCase("uplink from a UE", "{} from {} iif {}".format(internet, ue, pdn_device),
                  to_sgi_gateway),
        RouteCase("the SPGW-U's own SGi address to the Internet",
                  "{} from {}".format(internet, sgi.ip), to_sgi_gateway),
        RouteCase("the host's own traffic (management default route)", internet,
                  {"dev": mgmt_interface, "via": str(mgmt_gateway)}),
    ]


def answer(text):
    """{"dev", "via"} or {"unreachable": True} from `ip route get`'s first line."""
    words = text.split()
    if not words or words[0] in ("unreachable", "prohibit", "blackhole"):
        return {"unreachable": True}
    found = {}
    for key in ("dev", "via"):
        if key in words and words.index(key) + 1 < len(words):
            found[key] = words[words.index(key) + 1]
    return found


def ask(guest, case):
    """(ok, detail) of one case on ``guest``."""
    done = guest.sudo("ip -4 route get {}".format(case.query), check=False, timeout=30)
    if done.returncode != 0:
        got = {"unreachable": True} if "unreachable" in done.stderr.lower() \
            or "no route" in done.stderr.lower() else {"error": done.stderr.strip()}
    else:
        got = answer(done.stdout.splitlines()[0] if done.stdout.strip() else "")
    ok = all(got.get(key) == value for key, value in case.expect.items())
    detail = "ip route get {}: {} (expected {})".format(
        case.query, (done.stdout or done.stderr).strip().splitlines()[0]
        if (done.stdout or done.stderr).strip() else "no output", case.expect)
    return ok, detail


def apply_script(guest, script, sgi_interface):
    """Write ``script`` to the guest and run it as networkd-dispatcher would."""
    guest.sudo("cat > {} <<'MECPOOL_EOF'\n{}MECPOOL_EOF\n".format(SCRIPT_PATH, script), timeout=30)
    return guest.sudo("IFACE={} /bin/sh {}".format(shlex.quote(sgi_interface), SCRIPT_PATH),
                      check=False, timeout=60)


def check_vm(outcome, guest, site, vm):
    """The VDU lab's check on the SPGW-U VM (nothing for other VMs): make the UE
    device and turn on the forwarding spgwu would (it is not built in the lab), run the
    charm's routing script, and record one ``outcome.check`` per route case."""
    if vm.vdu_id != "spgwu":
        return
    sgi_port, mgmt_port = vm.port("sgi"), vm.ports[0]
    sgi_cidr = "{}/{}".format(sgi_port.address,
                              ipaddress.IPv4Network(site.networks.sgi.subnet).prefixlen)
    pdn = ipaddress.IPv4Network(site.epc.ue_pool)
    gateway = site.networks.sgi.gateway
    device = "pdn"
    # What spgwu itself does when it runs (it is not built in the lab): its UE device, and IP
    # forwarding (without it, `ip route get ... iif` answers "No route to host", as the lab showed).
    guest.sudo("sysctl -qw net.ipv4.ip_forward=1 && {{ ip link show dev {0} >/dev/null 2>&1 || "
               "{{ ip tuntap add mode tun dev {0} && ip link set dev {0} up && ip addr add {1}/{2} dev {0}; }}; }}"
               .format(device, pdn.network_address + 1, pdn.prefixlen), timeout=60)
    done = apply_script(guest, routing_script(sgi_cidr, gateway, pdn, sgi_port.nic, device),
                        sgi_port.nic)
    outcome.check("{}: SGi routing script runs".format(vm.name), done.returncode == 0,
                  (done.stderr or "").strip()[-300:])
    default = guest.sudo("ip -4 route show default", check=False, timeout=30).stdout.split()
    mgmt_gateway = default[default.index("via") + 1] if "via" in default else ""
    for case in route_cases(sgi_cidr, gateway, pdn, sgi_port.nic, device, mgmt_port.nic,
                            mgmt_gateway):
        ok, detail = ask(guest, case)
        outcome.check("{}: SGi routing: {}".format(vm.name, case.name), ok, detail)
