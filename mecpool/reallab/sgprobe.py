"""Probe the site's security group from inside the VMs: does the cloud admit exactly what
`mecpool openstack-prepare` promises (docs/deploy.md; the rules of mecpool.deploy.prepare)?

A probe is one connection attempt from a VM to an address of another VM: SCTP and TCP connects,
ICMP echo.  What is expected is worked out after the attempt, from the source address the VM's kernel
chose and the target VIM's rules (service rules by role, SSH and ICMP from the VIM's management subnets
and `osm_sources`): admitted -> "open", not admitted -> "filtered" (no answer at all: the group drops).
Every target port that must be filtered has a listener (the VM's sshd, or the TCP listener the probe
starts for it), so "filtered" cannot be mistaken for "nobody listens" and an admitted port answers.

The probe script runs with the VM's own python3 as root (ICMP needs a raw socket); it reads its
targets as JSON on stdin and prints one JSON object."""

from __future__ import annotations

import ipaddress
import json
import shlex
from dataclasses import dataclass

from mecpool.deploy import prepare
from mecpool.site.model import Site

OPEN, REFUSED, FILTERED = "open", "refused", "filtered"
CONNECT_TIMEOUT_S = 6
LISTENER_PORT = 8080          # TCP: no rule admits it; the probe listens there so "filtered" means dropped
LISTENER_SECONDS = 600


@dataclass(frozen=True)
class Probe:
    source_vm: str          # where the attempt starts
    target_vm: str
    target_vim: str         # whose security group decides
    address: str
    protocol: str           # sctp | tcp | icmp
    port: int = 0           # 0 for icmp

    def text(self) -> str:
        port = "" if self.protocol == "icmp" else f" {self.port}"
        return f"{self.source_vm} -> {self.target_vm} {self.address} {self.protocol.upper()}{port}"


@dataclass(frozen=True)
class ProbeVm:
    name: str
    vim: str
    mgmt: str           # its address on the VIM's management network
    pool: str           # its address on the VIM's pool network


def plan(home_registrar: ProbeVm, other_registrar: ProbeVm, pe: ProbeVm, pe_port: int) -> list[Probe]:
    """Across VIMs over the pool networks (the other registrar to the home registrar and the PE, and back)
    and within a VIM over the management network (the PE to its registrar): the pool's SCTP ports, SSH,
    ICMP and the listener's TCP port, each on an address where something answers if the group admits it."""
    h, o = home_registrar, other_registrar
    across = [Probe(o.name, h.name, h.vim, h.pool, "sctp", 3863),              # ASAP
              Probe(o.name, h.name, h.vim, h.pool, "sctp", 9901),              # ENRP
              Probe(o.name, pe.name, pe.vim, pe.pool, "sctp", pe_port),         # the PE's service
              Probe(o.name, h.name, h.vim, h.pool, "tcp", 22),                 # sshd, from outside mgmt
              Probe(o.name, h.name, h.vim, h.pool, "tcp", LISTENER_PORT),
              Probe(o.name, h.name, h.vim, h.pool, "icmp"),
              Probe(h.name, o.name, o.vim, o.pool, "sctp", 3863),              # the other VIM's group
              Probe(h.name, o.name, o.vim, o.pool, "tcp", LISTENER_PORT)]
    within = [Probe(pe.name, h.name, h.vim, h.mgmt, "tcp", 22),                # from the mgmt subnet
              Probe(pe.name, h.name, h.vim, h.mgmt, "icmp"),
              Probe(pe.name, h.name, h.vim, h.mgmt, "tcp", LISTENER_PORT)]
    return across + within


def admitted_rules(site: Site, vim: str, mgmt_cidrs: list[str]) -> list[prepare.Rule]:
    """The ingress rules openstack-prepare gives VIM `vim`'s group (its service rules by role, and SSH and
    ICMP from its management subnets and osm_sources): one source of truth with prepare."""
    plan = prepare.plan_vim(site, vim)
    cidrs = sorted(set(mgmt_cidrs) | set(site.vims[vim].osm_sources))
    return sorted(set(plan.service_rules) | set(prepare.access_rules(cidrs)))


def admits(rules: list[prepare.Rule], protocol: str, port: int, source: str) -> bool:
    src = ipaddress.ip_address(source)
    return any(r.protocol == protocol and (protocol == "icmp" or r.port == port)
               and src in ipaddress.ip_network(r.remote, strict=False) for r in rules)


def expected(rules: list[prepare.Rule], probe: Probe, source: str) -> str:
    return OPEN if admits(rules, probe.protocol, probe.port, source) else FILTERED


def judge(probes: list[Probe], answers: list[dict], rules_of: dict[str, list[prepare.Rule]]) -> dict:
    """Each probe with what the VM saw, the source it used and what the rules say it should have seen."""
    rows, wrong = [], []
    for probe, answer in zip(probes, answers):
        source = answer.get("source")
        want = expected(rules_of[probe.target_vim], probe, source) if source else OPEN
        row = {"probe": probe.text(), "source": source, "saw": answer.get("verdict"), "expected": want,
               "detail": answer.get("detail", "")}
        row["ok"] = row["saw"] == want
        rows.append(row)
        if not row["ok"]:
            wrong.append(f"{probe.text()} from {source}: {row['saw']}, expected {want} ({row['detail']})")
    if len(answers) != len(probes):
        wrong.append(f"{len(probes)} probes, {len(answers)} answers")
    return {"ran": True, "probes": rows, "wrong": wrong, "exact": not wrong and bool(rows)}


# Runs on the VM (its python3, as root): {"targets": [...]} on stdin -> {"answers": [...]} on stdout.
PROBE_SCRIPT = r'''
import errno, json, os, select, socket, struct, sys, time
TIMEOUT = float(sys.argv[1])

def source_for(address):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect((address, 9))
        return s.getsockname()[0]
    finally:
        s.close()

def connect(address, port, proto):
    kind = 132 if proto == "sctp" else socket.IPPROTO_TCP    # IPPROTO_SCTP
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, kind)
    except OSError as e:
        return "error", "no %s socket: %s" % (proto, e.strerror)
    s.settimeout(TIMEOUT)
    try:
        s.connect((address, port))
        return "open", "connected from %s" % s.getsockname()[0]
    except ConnectionRefusedError:
        return "refused", "refused"
    except socket.timeout:
        return "filtered", "no answer in %g s" % TIMEOUT
    except OSError as e:
        return "error", "%s %s" % (errno.errorcode.get(e.errno, e.errno), e.strerror)
    finally:
        s.close()

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xffff)
    total += total >> 16
    return ~total & 0xffff

def ping(address):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xffff
    packet = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"mecpool-sg-probe"
    packet = packet[:2] + struct.pack("!H", checksum(packet)) + packet[4:]
    s.sendto(packet, (address, 0))
    end = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < end:
            ready, _, _ = select.select([s], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                break
            data, peer = s.recvfrom(2048)
            header = (data[0] & 0x0f) * 4
            kind, _, _, got_ident, _ = struct.unpack("!BBHHH", data[header:header + 8])
            if peer[0] == address and kind == 0 and got_ident == ident:
                return "open", "echo reply"
            if kind == 3:
                return "refused", "destination unreachable from %s" % peer[0]
        return "filtered", "no echo reply in %g s" % TIMEOUT
    finally:
        s.close()

answers = []
for t in json.load(sys.stdin)["targets"]:
    try:
        src = source_for(t["address"])
    except OSError as e:
        answers.append({"verdict": "error", "source": None, "detail": "no route: %s" % e})
        continue
    verdict, detail = ping(t["address"]) if t["protocol"] == "icmp" else connect(t["address"], t["port"], t["protocol"])
    answers.append({"verdict": verdict, "source": src, "detail": detail})
print(json.dumps({"answers": answers}))
'''

# Started on a target VM before the probes: a TCP listener on a port no rule admits.
LISTENER_SCRIPT = ("import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                   "s.bind(('0.0.0.0',{port}))\ns.listen(16)\ns.settimeout(1)\nend=time.time()+{seconds}\n"
                   "while time.time()<end:\n"
                   "    try:\n        s.accept()[0].close()\n    except OSError:\n        pass\n")


def listener_command(port: int = LISTENER_PORT, seconds: int = LISTENER_SECONDS) -> str:
    """Shell command that leaves a TCP listener running on the VM for `seconds` (detached from ssh)."""
    script = LISTENER_SCRIPT.format(port=port, seconds=seconds)
    return (f"nohup setsid python3 -c {shlex.quote(script)} </dev/null >/dev/null 2>&1 & "
            f"sleep 1; ss -ltn 'sport = :{port}' | grep -q LISTEN")


def probe_command(timeout: float = CONNECT_TIMEOUT_S, as_root: str = "sudo ") -> str:
    """The shell line that runs the probe script (root for ICMP's raw socket: sudo on a VM)."""
    return f"{as_root}python3 -c {shlex.quote(PROBE_SCRIPT)} {timeout:g}"


def probe_input(probes: list[Probe]) -> bytes:
    """The script's stdin (Guest.run sends bytes)."""
    return json.dumps({"targets": [{"address": p.address, "protocol": p.protocol, "port": p.port}
                                   for p in probes]}).encode()


def parse_answers(stdout: str) -> list[dict]:
    return json.loads(stdout.strip().splitlines()[-1])["answers"]
