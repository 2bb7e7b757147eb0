"""The lab's router ports, for real: Linux bridges, veth "taps" and VM network namespaces in `unshare -rnm`
(root there, the host untouched), the gateways wired by `runbook_ns.router_port`, and a security-group rule
in the form Neutron Zed's iptables firewall writes (`-m physdev --physdev-out tap... --physdev-is-bridged`).

Run 5 of the real lab (2026-12-06) found every port open across the VIMs: the lab held each gateway on the
bridge device, so the packets it routed left through the bridge's own device and were never bridged from a
port, and Neutron's per-port chains were never entered.  The second test keeps that wiring as the witness:
the same rule there drops nothing.  And OSM's own SSH to a VDU leaves the lab's namespace from OSM's
address (`runbook_ns.osm_source_route`), so only the site's `osm_sources` rule admits it."""

import shlex
import shutil
import subprocess

from mecpool.reallab import runbook_ns, site

NET_A, NET_B = "0f6c2e4a-1b2c-4d5e-8f90-123456789abc", "7d1e9b30-5a6f-4c2d-9e8b-0a1b2c3d4e5f"
DROPPED, ADMITTED = 8080, 8081

# Two Neutron-like networks: a bridge each, a VM namespace on a tap port, the VM's default route via the
# gateway; the lab's namespace routes between them.  A listener on both ports in VM b; VM a connects.
SETUP = """set -e
mount -t tmpfs none /run && mkdir -p /run/netns
ip link set lo up
for n in a b; do
  ip netns add vm$n
  ip link add br$n type bridge && ip link set br$n up
  ip link add tap$n type veth peer name eth0 netns vm$n
  ip link set tap$n master br$n up
done
ip netns exec vma sh -c 'ip link set lo up; ip link set eth0 up; ip addr add 10.221.1.5/24 dev eth0; ip route add default via 10.221.1.1'
ip netns exec vmb sh -c 'ip link set lo up; ip link set eth0 up; ip addr add 10.221.2.5/24 dev eth0; ip route add default via 10.221.2.1'
"""
PROBE = f"""echo 1 > /proc/sys/net/ipv4/ip_forward
echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables
iptables -A FORWARD -m physdev --physdev-out tapb --physdev-is-bridged -p tcp --dport {DROPPED} -j DROP
ip netns exec vmb python3 -c '
import socket, time
for port in ({DROPPED}, {ADMITTED}):
    s = socket.socket(); s.bind(("10.221.2.5", port)); s.listen(); globals()["keep%d" % port] = s
open("/run/listening", "w").close(); time.sleep(60)' &
listener=$!
while [ ! -e /run/listening ]; do sleep 0.1; done
for port in {DROPPED} {ADMITTED}; do
  ip netns exec vma python3 -c "
import socket, sys
s = socket.socket(); s.settimeout(5)
print($port, 'open' if s.connect_ex(('10.221.2.5', $port)) == 0 else 'closed')"
done
kill $listener
"""


def in_namespaces(script: str) -> list[str]:
    """SETUP then `script` in `unshare -rnm`; the lines it printed."""
    assert shutil.which("iptables"), "iptables missing: scripts/install-deps.sh installs it"
    done = subprocess.run(["unshare", "-rnm", "sh", "-c", SETUP + script], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def run_lab(gateways: str) -> dict[int, str]:
    return {int(port): state for port, state in (line.split() for line in in_namespaces(gateways + PROBE))}


def test_traffic_routed_through_router_ports_meets_the_ports_security_group():
    wiring = "".join(shlex.join(argv) + "\n"
                     for net, bridge, cidr in ((NET_A, "bra", "10.221.1.1/24"), (NET_B, "brb", "10.221.2.1/24"))
                     for argv in runbook_ns.router_port(net, bridge, cidr))
    assert run_lab(wiring) == {DROPPED: "closed", ADMITTED: "open"}


def test_a_gateway_held_on_the_bridge_device_bypasses_it():
    """Run 5's wiring: the rule is never entered, both ports answer (why router_port exists)."""
    wiring = "ip addr add 10.221.1.1/24 dev bra\nip addr add 10.221.2.1/24 dev brb\n"
    assert run_lab(wiring) == {DROPPED: "open", ADMITTED: "open"}


# OSM's SSH to a VDU: from the lab's namespace itself, to VM a over its network's router port.  The
# VM's port admits SSH-like TCP (port 8080 here) only from the site's osm_sources, as the security group
# openstack-prepare makes does for TCP 22 from outside the management subnet; VM a says whom it saw (in a
# file, read once it ended: printed, its line and the client's interleaved on a busy host).
OSM_PROBE = f"""echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables
iptables -A FORWARD -m physdev --physdev-out tapa --physdev-is-bridged -p tcp --dport {DROPPED} ! -s {site.OSM_HOST}/32 -j DROP
ip netns exec vma python3 -c '
import socket
import os
s = socket.socket(); s.bind(("10.221.1.5", {DROPPED})); s.listen(); s.settimeout(0.2)
open("/run/listening", "w").close()
seen = "nothing"
while seen == "nothing":                 # until the client has tried, however long that takes
    asked = os.path.exists("/run/asked")
    try:
        seen = s.accept()[1][0]
    except OSError:
        if asked:
            break
open("/run/seen", "w").write("seen " + seen + "\\n")' &
listener=$!
while [ ! -e /run/listening ]; do sleep 0.1; done
python3 -c "
import socket
s = socket.socket(); s.settimeout(5)
print('connect', 'open' if s.connect_ex(('10.221.1.5', {DROPPED})) == 0 else 'closed')"
touch /run/asked
wait $listener
cat /run/seen
"""


def osm_reaches_vm_a(extra: list[list[str]]) -> dict[str, str]:
    wiring = f"ip addr add {site.OSM_HOST}/32 dev lo\n" + "".join(      # as reach_vdus: OSM's address first
        shlex.join(argv) + "\n" for argv in runbook_ns.router_port(NET_A, "bra", "10.221.1.1/24") + extra)
    return dict(line.split(" ", 1) for line in in_namespaces(wiring + OSM_PROBE))


def test_osm_reaches_a_vdu_from_its_own_address_admitted_by_osm_sources_alone():
    inside = runbook_ns.router_port_names(NET_A)[0]
    said = osm_reaches_vm_a([runbook_ns.osm_source_route("10.221.1.1/24", inside)])
    assert said == {"connect": "open", "seen": site.OSM_HOST}


def test_without_the_source_route_osm_comes_from_the_gateway_and_only_the_subnet_rule_would_admit_it():
    assert osm_reaches_vm_a([]) == {"connect": "closed", "seen": "nothing"}
