"""The SPGW-U's SGi routing script and spgwu.service's hooks, run for real.

The routing script is rendered as the charm renders it and run in a network
namespace of its own (``ip netns``) that has the SPGW-U's devices (veth pairs for
the NICs, a tun device for the UE device of either layout); `ip route get` then
says where each kind of traffic goes (mecpool.vdulab.epc_routing, which the VDU
lab runs on its SPGW-U VM too).  The SNAT hook runs under /bin/sh against an
iptables stand-in (this host has no iptables).
"""

import os
import shlex
import subprocess
import time
import uuid

import pytest

from mecpool.vdulab import epc_routing

spgwu = epc_routing.spgwu_module()

SGI_CIDR, SGI_GATEWAY, POOL = "10.254.1.203/24", "10.254.1.1", "12.1.1.0/24"
MGMT_GATEWAY = "10.0.0.1"
CONFIG = {"sgi-address": SGI_CIDR, "sgi-gateway": SGI_GATEWAY, "pdn-network": POOL}

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="ip netns needs root")


class Namespace(object):
    """A network namespace as a guest: ``sudo`` runs a shell line inside it."""

    def __init__(self):
        self.name = "mecpool-t-" + uuid.uuid4().hex[:8]
        subprocess.run(["ip", "netns", "add", self.name], check=True)

    def sudo(self, command, check=True, timeout=60):
        done = subprocess.run(["ip", "netns", "exec", self.name, "sh", "-c", command],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError("{!r} exited {}: {}".format(command, done.returncode,
                                                             done.stderr))
        return done

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], check=False)


def add_ue_device(guest, device):
    guest.sudo("ip tuntap add mode tun dev {0} && ip link set dev {0} up && "
               "ip addr add 12.1.1.1/24 dev {0}".format(device))


def make_host(device):
    """The SPGW-U's devices: mgmt ens3 (main default route), SGi ens6, the UE device."""
    guest = Namespace()
    guest.device = device
    try:
        guest.sudo("ip link set lo up && sysctl -qw net.ipv4.ip_forward=1 && "
                   "ip link add ens3 type veth peer name peer3 && "
                   "ip link add ens6 type veth peer name peer6 && "
                   "for d in ens3 peer3 ens6 peer6; do ip link set dev $d up; done && "
                   "ip addr add 10.0.0.5/24 dev ens3 && ip addr add {} dev ens6 && "
                   "ip route add default via {} dev ens3".format(SGI_CIDR, MGMT_GATEWAY))
        add_ue_device(guest, guest.device)
    except BaseException:
        guest.delete()
        raise
    return guest


@pytest.fixture(params=["pdn", "tun0"], ids=["pdn-device", "tun-device"])
def spgwu_host(request):
    guest = make_host(request.param)
    yield guest
    guest.delete()


@pytest.fixture
def lab_spgwu():
    guest = make_host("pdn")
    yield guest
    guest.delete()


def render(template, device, **extra):
    context = dict(spgwu.routing_context(CONFIG, "ens6", device), **extra)
    return spgwu.render_routing(template, context)


def cases(device):
    return epc_routing.route_cases(SGI_CIDR, SGI_GATEWAY, POOL, "ens6", device, "ens3",
                                   MGMT_GATEWAY)


def verdicts(guest, device):
    return {case.name: epc_routing.ask(guest, case) for case in cases(device)}


def test_every_kind_of_traffic_takes_its_way_in_both_device_layouts(spgwu_host):
    device = spgwu_host.device
    done = epc_routing.apply_script(spgwu_host, render("sgi-routable.sh.j2", device), "ens6")
    assert done.returncode == 0, done.stderr
    results = verdicts(spgwu_host, device)
    failed = {name: detail for name, (ok, detail) in results.items() if not ok}
    assert failed == {}
    # the three that went out of the SGi gateway before the UE network was in table 1000
    for name in ("reply of the SPGW-U's UE gateway address to a UE",
                 "downlink from a host on the SGi subnet", "UE to UE"):
        assert "dev {}".format(device) in results[name][1]
    # running it again (networkd-dispatcher does) changes nothing
    rules = spgwu_host.sudo("ip rule show; ip route show table 1000").stdout
    epc_routing.apply_script(spgwu_host, render("sgi-routable.sh.j2", device), "ens6")
    assert spgwu_host.sudo("ip rule show; ip route show table 1000").stdout == rules


def test_without_the_ue_device_the_ue_network_is_unreachable_not_sent_out_sgi(spgwu_host):
    device = spgwu_host.device
    epc_routing.apply_script(spgwu_host, render("sgi-routable.sh.j2", device), "ens6")
    spgwu_host.sudo("ip link del {}".format(device))
    by_name = {case.name: case for case in cases(device)}
    case = by_name["downlink from a host on the SGi subnet"]
    ok, detail = epc_routing.ask(spgwu_host, case._replace(expect={"unreachable": True}))
    assert ok, detail
    # the script itself runs while the device is missing (at boot, before spgwu)
    done = epc_routing.apply_script(spgwu_host, render("sgi-routable.sh.j2", device), "ens6")
    assert done.returncode == 0, done.stderr


def test_post_start_hook_routes_the_device_spgwu_makes_again(spgwu_host, tmp_path):
    device = spgwu_host.device
    routable = tmp_path / "routable.sh"
    routable.write_text(render("sgi-routable.sh.j2", device))
    hooks = tmp_path / "hooks.sh"
    hooks.write_text(render("spgwu-hooks.sh.j2", device, routable_script=str(routable)))
    epc_routing.apply_script(spgwu_host, routable.read_text(), "ens6")
    # spgwu stops: post-stop removes the device (and with it its route in table 1000)
    assert spgwu_host.sudo("/bin/sh {} post-stop".format(hooks)).returncode == 0
    assert "dev {}".format(device) not in spgwu_host.sudo("ip route show table 1000").stdout
    # spgwu starts: post-start waits until spgwu made the device and gave it .1
    waiting = subprocess.Popen(["ip", "netns", "exec", spgwu_host.name, "/bin/sh", str(hooks),
                                "post-start"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True)
    time.sleep(1.5)
    assert waiting.poll() is None   # still waiting for the device
    add_ue_device(spgwu_host, device)
    out, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 0, err
    failed = {name: detail for name, (ok, detail) in verdicts(spgwu_host, device).items()
              if not ok}
    assert failed == {}


def test_off_script_removes_what_the_routable_script_added(spgwu_host):
    device = spgwu_host.device
    before = spgwu_host.sudo("ip rule show").stdout
    epc_routing.apply_script(spgwu_host, render("sgi-routable.sh.j2", device), "ens6")
    done = epc_routing.apply_script(spgwu_host, render("sgi-off.sh.j2", device), "ens6")
    assert done.returncode == 0, done.stderr
    assert spgwu_host.sudo("ip rule show").stdout == before
    assert spgwu_host.sudo("ip route show table 1000").stdout.strip() == ""


IPTABLES = """#!/bin/sh
# iptables/iptables-save stand-in: the nat table's rules, one per line, in $RULES
case "$(basename "$0")" in
iptables-save) echo '*nat'; cat "$RULES"; echo COMMIT; exit 0;;
esac
[ "$1 $2" = "-t nat" ] || exit 2
shift 2
op=$1; shift
rule="-A $*"
case "$op" in
-A) echo "$rule" >> "$RULES";;
-D) grep -qxF -- "$rule" "$RULES" || exit 1
    awk -v r="$rule" 'done || $0 != r {print; next} {done=1}' "$RULES" > "$RULES.new" && mv "$RULES.new" "$RULES";;
*) exit 2;;
esac
"""


@pytest.mark.parametrize("snat", [
    "-A POSTROUTING -s 12.1.1.0/24 -j SNAT --to-source 10.254.1.203",           # pdn-device
    "-A POSTROUTING -s 12.1.1.0/24 -o ens6 -j SNAT --to-source 10.254.1.203",   # tun-device
])
def test_pre_start_hook_leaves_one_snat_rule_per_start(tmp_path, snat):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("iptables", "iptables-save"):
        (bindir / name).write_text(IPTABLES)
        os.chmod(str(bindir / name), 0o755)
    rules = tmp_path / "rules"
    other = "-A POSTROUTING -s 10.0.0.0/24 -o ens3 -j MASQUERADE"
    rules.write_text(other + "\n")
    hooks = tmp_path / "hooks.sh"
    hooks.write_text(render("spgwu-hooks.sh.j2", "pdn"))
    env = {"PATH": "{}:/usr/bin:/bin".format(bindir), "RULES": str(rules)}
    spgwu_start = "iptables -t nat " + snat   # what spgwu runs at every start
    for _ in range(3):
        subprocess.run(["/bin/sh", str(hooks), "pre-start"], env=env, check=True)
        subprocess.run(shlex.split(spgwu_start), env=env, check=True)
    assert rules.read_text().splitlines() == [other, snat]
    # NAT switched off: the next start removes it and spgwu adds none
    subprocess.run(["/bin/sh", str(hooks), "pre-start"], env=env, check=True)
    assert rules.read_text().splitlines() == [other]


def test_the_unit_runs_the_hooks(tmp_path):
    unit = spgwu.SpgwuWorkload(root=str(tmp_path), mac_lookup=lambda a: None).unit()
    lines = unit.splitlines()
    for hook, key in (("pre-start", "ExecStartPre"), ("post-start", "ExecStartPost"),
                      ("post-stop", "ExecStopPost")):
        assert "{}=-/bin/sh {} {}".format(key, spgwu.HOOKS, hook) in lines


def test_the_lab_check_on_an_spgwu_vm(lab_spgwu):
    """mecpool.vdulab.epc_routing.check_vm with a namespace for the SPGW-U VM: it makes
    the UE device the lab has no spgwu for, runs the charm's script, asks every case."""
    from types import SimpleNamespace
    spgwu_host = lab_spgwu
    # As the lab's VM is: no UE device, forwarding off (spgwu, which does both, is not built
    # there; with forwarding off every `ip route get ... iif` says "No route to host").
    spgwu_host.sudo("ip link del pdn && sysctl -qw net.ipv4.ip_forward=0")
    port = SimpleNamespace
    vm = SimpleNamespace(name="spgwu", vdu_id="spgwu",
                         ports=(port(nic="ens3", network="mgmt", address="10.0.0.5"),
                                port(nic="ens6", network="sgi", address="10.254.1.203")))
    vm.port = lambda network: next(p for p in vm.ports if p.network == network)
    site = SimpleNamespace(networks=SimpleNamespace(sgi=SimpleNamespace(
        subnet="10.254.1.0/24", gateway=SGI_GATEWAY)), epc=SimpleNamespace(ue_pool=POOL))
    checks = []
    outcome = SimpleNamespace(check=lambda name, ok, detail: checks.append((name, ok, detail)))
    epc_routing.check_vm(outcome, spgwu_host, site, vm)
    assert [c for c in checks if not c[1]] == []
    assert len(checks) == 1 + len(cases("pdn"))
    assert "spgwu: SGi routing: downlink from a host on the SGi subnet" in [c[0] for c in checks]
    # another VM: nothing
    epc_routing.check_vm(outcome, spgwu_host, site, SimpleNamespace(vdu_id="hss"))
    assert len(checks) == 1 + len(cases("pdn"))
