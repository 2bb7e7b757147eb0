"""The runbook's NS steps against the real stack and OSM, after openstack-prepare: our `mecpool build`,
`onboard`, `instantiate --wait`, `status`, day 2 (mecpool.reallab.runbook_day2: pool-status, pool users,
pe-action, the security group probe, scale-pe --out and --in) and `teardown --all` inside the lab, each
run with its exit, output and time kept, then the checks in the real records:

- every VDU's server ACTIVE in Nova, with the site's fixed addresses on the site's networks (Neutron ports);
- cloud-init done on every VM (over SSH with the lab VCA's key, as LCM's connector reaches them);
- the day-1 primitives LCM ran, per VDU in the order of the VNFD (LCM's own log lines and its NS record's
  `_admin.deployed.VCA`);
- day 2's checks (runbook_day2);
- after teardown --all, no server, port or network of the NS left, and nothing openstack-prepare and
  onboard made for the site: flavors, security groups, tagged networks, VIM accounts, packages.

What the VDUs need of the lab host (an operator's cloud gives them a router): the lab holds each mgmt
and pool subnet's gateway address on a router port of that network's Linux bridge (a veth pair, as
Neutron's L3 agent wires its `qr-` ports) inside the namespace, so OSM (LCM's SSH connector)
reaches the VDUs, from OSM's own address beyond that router (10.200.0.2, admitted by the site's
`osm_sources` alone), and the VDUs reach the VDU lab's package mirror, served at the address the lab
image's apt names (10.200.0.1); both addresses are on the namespace's loopback.  A check that cannot run says so in the result."""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import sys
import time
from pathlib import Path

from mecpool.deploy import prepare
from mecpool.deploy.epcresume import EPC_VDUS
from mecpool.site.loader import load_site
from mecpool.vdulab import checks as vm_checks
from mecpool.vdulab.guest import Guest, GuestError
from mecpool.vdulab.image import ensure_image
from mecpool.vdulab.lab import MIRROR_PACKAGES
from mecpool.vdulab.mirror import ensure_mirror
from mecpool.vdulab.topology import LAB_HOST

from . import regwatch, runbook_day2
from . import site as lab_site
from .runbook_steps import cloud, host_step, step
from .services import Service
from .smoke import MIRROR_URL

NS_NAME = "labns"
INSTANTIATE_TIMEOUT_S = 5400       # our --timeout: LCM's timeout_ns_deploy and our wait (TCG VMs, 2 cores)
BRIDGE_WAIT_S = 120


class NsRunError(RuntimeError):
    """The lab could not set up what the NS steps need (not: a step of ours failed, which is recorded)."""


def bridge_of(network_id: str) -> str:
    """The Linux bridge Neutron's linuxbridge agent makes for a network."""
    return "brq" + network_id[:11]


def router_port_names(network_id: str) -> tuple[str, str]:
    """(the end holding the gateway, the bridge's port): 15 characters, as Linux allows."""
    return "rtr" + network_id[:11], "rtp" + network_id[:11]


def router_port(network_id: str, bridge: str, cidr: str) -> list[list[str]]:
    """Commands (in the lab's namespace) that give a network its gateway as a cloud's router port would be:
    a veth pair, one end a port of the network's bridge, the other holding `<gateway>/<prefix>`.  Traffic
    the lab routes between networks then enters the bridge through a port and is bridged to the VM's tap,
    where Neutron's iptables firewall filters it (its rules match `--physdev-is-bridged`); a gateway held
    on the bridge device itself sends routed packets past them (run 5 of 2026-12-06: across the VIMs the
    security group admitted everything)."""
    inside, port = router_port_names(network_id)
    return [["ip", "link", "add", inside, "type", "veth", "peer", "name", port],
            ["ip", "link", "set", port, "master", bridge, "up"],
            ["ip", "addr", "replace", cidr, "dev", inside],
            ["ip", "link", "set", inside, "up"]]


def osm_source_route(cidr: str, device: str, source: str = lab_site.OSM_HOST) -> list[str]:
    """The connected route to a management subnet with OSM's own address as the source the lab's
    namespace picks: LCM's SSH to the VDUs (and the runbook's) then comes from OSM's host, not from the
    gateway inside the subnet, and only the site's `osm_sources` rule admits it, as on a cloud where OSM
    sits beyond a router."""
    network = ipaddress.ip_interface(cidr).network
    return ["ip", "route", "replace", str(network), "dev", device, "proto", "kernel", "scope", "link",
            "src", source]


def gateway_cidr(subnet: dict) -> str:
    """`<gateway>/<prefix>` of a Neutron subnet (openstack subnet show -f json)."""
    if not subnet.get("gateway_ip"):
        raise NsRunError(f"subnet {subnet.get('name')}: no gateway_ip (the lab holds it for the VDUs)")
    return f"{subnet['gateway_ip']}/{ipaddress.ip_network(subnet['cidr']).prefixlen}"


def lab_networks(vims=lab_site.VIMS) -> list[tuple[str, str]]:
    """(project, network name) whose gateway the lab holds: each VIM's mgmt network (OSM reaches the VDUs,
    the VDUs the mirror) and pool network (the lab routes between the VIMs' pool subnets, as a cloud's
    router would: a PE registers with the other VIM's registrar, the registrars peer)."""
    return [(v.project, lab_site.mgmt_network(v)) for v in vims] + [(v.project, f"pool-{v.name}") for v in vims]


EPC_WORKLOADS = {"hss": "HssWorkload", "mme": "MmeWorkload", "spgwc": "SpgwcWorkload", "spgwu": "SpgwuWorkload"}


def epc_charm_packages(repo: Path = Path(__file__).resolve().parents[2]) -> list[str]:
    """What the EPC charms' install hook apt-installs (each OAI workload's PACKAGES: git, nftables...),
    read from the charms themselves: the lab's mirror serves them beside the pool's, as Ubuntu's archive
    would on a real VDU, so that LCM's day 1 of the EPC gets to its `build`."""
    import importlib
    paths = [str(repo / "charms" / "lib")] + [str(repo / "charms" / f"oai-{vdu}" / "src") for vdu in EPC_WORKLOADS]
    added = [p for p in paths if p not in sys.path]
    sys.path[:0] = added
    try:
        packages = set()
        for vdu, name in EPC_WORKLOADS.items():
            packages |= set(getattr(importlib.import_module(f"{vdu}_workload"), name).PACKAGES)
    finally:
        for p in added:
            sys.path.remove(p)
    return sorted(packages)


def reach_vdus(stack, osm, cache_root: Path, log) -> dict:
    """The gateways on router ports of their bridges (forwarding on), the mirror's and OSM's addresses on
    lo (OSM's the source towards the mgmt subnets), the VDU lab's mirror there."""
    out = {}
    for address in (LAB_HOST, lab_site.OSM_HOST):          # the mirror's and OSM's, as hosts beyond a router
        stack.sandbox.run(["ip", "addr", "replace", f"{address}/32", "dev", "lo"])
    mgmt = {name for name, _ in lab_mgmt().values()}
    for project, name in lab_networks():
        net = json.loads(stack.openstack("network", "list", "--project", project, "--name", name,
                                         "-f", "json").stdout)
        if len(net) != 1:
            raise NsRunError(f"project {project}: {len(net)} networks named {name}")
        subnet = json.loads(stack.openstack("subnet", "list", "--network", net[0]["ID"], "-f", "json").stdout)
        subnet = json.loads(stack.openstack("subnet", "show", subnet[0]["ID"], "-f", "json").stdout)
        bridge, cidr = bridge_of(net[0]["ID"]), gateway_cidr(subnet)
        deadline = time.monotonic() + BRIDGE_WAIT_S
        while stack.sandbox.run(["ip", "link", "show", bridge], check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise NsRunError(f"no bridge {bridge} for {project}'s {name} after {BRIDGE_WAIT_S} s (the "
                                 "DHCP agent's port makes it)")
            time.sleep(2)
        inside, port = router_port_names(net[0]["ID"])
        for argv in router_port(net[0]["ID"], bridge, cidr) + (
                [osm_source_route(cidr, inside)] if name in mgmt else []):
            stack.sandbox.run(argv)
        out[f"{project}/{name}"] = {"bridge": bridge, "gateway": cidr, "router_port": port,
                                    "source": lab_site.OSM_HOST if name in mgmt else None}
        log(f"reallab ns: {project}'s {name} gateway {cidr} on a router port of {bridge}")
    stack.sandbox.run(["sysctl", "-w", "net.ipv4.ip_forward=1"])
    image = ensure_image(cache_root, MIRROR_URL, log)
    mirror_dir = ensure_mirror(image, list(MIRROR_PACKAGES) + epc_charm_packages(), cache_root, log)
    root = osm.paths.base / "mirror-root"
    root.mkdir(parents=True, exist_ok=True)
    link = root / MIRROR_URL.rstrip("/").rsplit("/", 1)[1]
    if not link.is_symlink():
        link.symlink_to(mirror_dir.resolve())
    service = Service("vdu-mirror", ("python3", "-m", "http.server", "80", "--bind", str(LAB_HOST),
                                     "--directory", str(root)), settle=2.0, group="osm")
    stack.launcher.start(service)
    stack.launcher.wait_ready((service,), timeout=60)
    out["mirror"] = {"url": MIRROR_URL, "dir": str(mirror_dir)}
    return out


def expected_addresses(site_path: Path) -> dict[str, tuple[str, str]]:
    """address -> (role, site network) the site gives: the EPC's fixed addresses, the registrars' pool ones."""
    data = lab_site.yaml.safe_load(Path(site_path).read_text())
    nets = data["networks"]
    out = {}
    for vdu, by_net in data["epc"]["addresses"].items():
        for net, address in by_net.items():
            out[address] = (f"epc-{vdu}", nets[net].get("vim_network", net))
    for r in data["pool"]["registrars"]:
        out[r["address"]] = (r["name"], data["vims"][r["vim"]]["pool_network"]["name"])
    return out


def check_servers(stack, site_path: Path) -> dict:
    """Nova and Neutron's view: every server ACTIVE; each of the site's addresses on a port of a server on
    the network of that name (the NS's own VLDs are networks RO names after the NS)."""
    servers = nova_servers(stack)
    networks = {n["ID"]: n["Name"] for n in cloud(stack, "network", "list")}
    subnet_network = {n["ID"]: n["Network"] for n in cloud(stack, "subnet", "list")}
    found = {}
    for server in servers:
        for port in cloud(stack, "port", "list", "--server", server["id"]):
            for ip in port.get("Fixed IP Addresses") or []:
                found[ip["ip_address"]] = networks.get(subnet_network.get(ip["subnet_id"]), "?")
    wanted = expected_addresses(site_path)
    addresses = {}
    for address, (role, net) in wanted.items():
        on = found.get(address)
        addresses[address] = {"role": role, "site_network": net, "found_on": on,
                              "ok": on is not None and (on == net or on.endswith(net))}
    return {"servers": servers, "all_active": bool(servers) and all(s["status"] == "ACTIVE" for s in servers),
            "addresses": addresses, "addresses_ok": all(a["ok"] for a in addresses.values())}


def mgmt_addresses(servers: list[dict]) -> dict[str, str]:
    """Each server's address on a mgmt network of the lab's site."""
    mgmt = {network for network, _ in lab_mgmt().values()}
    return {where["server"]: address for address, where in runbook_day2.servers_by_address(servers).items()
            if where["network"] in mgmt}


STATUS_MARK, GUEST_MARK = "--- status.json", "--- guest"
CLOUD_INIT_ASK = (f"cloud-init status --long; echo '{STATUS_MARK}'; cat /run/cloud-init/status.json; echo; "
                  f"echo '{GUEST_MARK}'; cat /sys/devices/system/clocksource/clocksource0/current_clocksource; "
                  "grep -m1 '^model name' /proc/cpuinfo; echo \"ssh from: ${SSH_CONNECTION%% *}\"")


def check_cloud_init(stack, osm, servers: list[dict]) -> dict:
    """`cloud-init status --long` on every VM over SSH with the lab VCA's key (the key LCM injected), when
    its final stage finished (cloud-init's status.json), the CPU model and clocksource the guest runs
    with (what Nova's `cpu_mode: none` gives a TCG guest, against the VDU lab's `-cpu max`: boot times),
    and the address the VM saw this SSH come from (the lab's SSH leaves as LCM's connector's does)."""
    out = {}
    for name, address in mgmt_addresses(servers).items():
        guest = Guest(name, address, osm.paths.vca_key, stack.sandbox)
        try:
            done = guest.run(CLOUD_INIT_ASK, check=False, timeout=120)
            text, _, rest = done.stdout.partition(STATUS_MARK)
            status, _, facts = rest.partition(GUEST_MARK)
            text = (text + done.stderr).strip()
            out[name] = {"address": address, "said": text, "done": "status: done" in text,
                         "boot_to_done_s": boot_to_cloud_init_done(status), "guest": guest_facts(facts)}
        except GuestError as error:
            out[name] = {"address": address, "said": str(error), "done": False, "boot_to_done_s": None}
    return out


def guest_facts(text: str) -> dict:
    """The clocksource line, /proc/cpuinfo's first `model name` line and the SSH client's address as the
    VM's sshd saw it, as CLOUD_INIT_ASK prints them."""
    lines = [line.strip() for line in text.strip().splitlines()]
    ssh_from = [line.split(":", 1)[1].strip() for line in lines if line.startswith("ssh from:")]
    return {"clocksource": lines[0] if lines else None,
            "cpu": lines[1].split(":", 1)[1].strip() if len(lines) > 1 and lines[1].startswith("model name") else None,
            "ssh_from": (ssh_from[0] or None) if ssh_from else None}


def ssh_not_from_osm(cloud_init: dict) -> list[str]:
    """VMs that answered but saw our SSH come from elsewhere than OSM's address: then the security group's
    `osm_sources` rule is not what admitted LCM (the subnet's own rule would admit the mgmt gateway)."""
    return [f"{name} saw {v['guest'].get('ssh_from')}" for name, v in sorted(cloud_init.items())
            if isinstance(v, dict) and v.get("guest") is not None and v["guest"].get("ssh_from") != lab_site.OSM_HOST]


def boot_to_cloud_init_done(status_json: str) -> float | None:
    """Seconds from the guest's boot to the end of cloud-init's final stage: status.json's
    `v1.modules-final.finished`, which cloud-init (22.x, the VDUs' Debian and Ubuntu) writes as the
    guest's uptime; None while the stage has not finished or the file is not there."""
    try:
        finished = json.loads(status_json)["v1"]["modules-final"]["finished"]
    except (ValueError, KeyError, TypeError):
        return None
    return round(float(finished), 1) if finished is not None else None


def nova_servers(stack) -> list[dict]:
    """Nova's servers in every project: name, id, status, networks and when Nova launched each
    (`OS-SRV-USG:launched_at`, epoch seconds), the start of the VM's times in the table."""
    out = []
    for s in cloud(stack, "server", "list", "--all-projects", "--long"):
        shown = cloud(stack, "server", "show", s["ID"])
        launched = shown.get("OS-SRV-USG:launched_at") or shown.get("launched_at")    # OSC 6 (Zed) / later
        out.append({"name": s["Name"], "id": s["ID"], "status": s["Status"], "networks": s.get("Networks"),
                    "launched_at": nova_time(launched) if launched else None})
    return out


def look_at_new_vms(stack, osm, known: list[dict]) -> dict:
    """Nova's servers now, and cloud-init on those not in `known` (the scaled-out VM)."""
    servers = nova_servers(stack)
    names = {s["name"] for s in known}
    return {"ran": True, "servers": servers,
            "cloud_init": check_cloud_init(stack, osm, [s for s in servers if s["name"] not in names])}


def registration_watch(stack, osm, site) -> regwatch.RegistrationWatch:
    """The watch on the registrars' handlespaces (mecpool.reallab.regwatch): hsdump from the first PE
    group's VM over SSH with the lab VCA's key, found in Nova's list."""
    group = site.pool.pe_groups[sorted(site.pool.pe_groups)[0]]
    pool_network = site.vims[group.vim].pool_network.name
    mgmt_network = lab_mgmt()[group.vim][0]
    registrars = {r.name: r.address for r in site.pool.registrars}

    def find_probe():
        by_address = runbook_day2.servers_by_address(cloud(stack, "server", "list", "--all-projects", "--long"))
        return pe_probe_vm(by_address, pool_network, group.vim, mgmt_network, registrars.values())

    def dump(vm, address: str):
        return vm_checks.handlespace(runbook_day2.guest_of(stack, osm, vm), address)

    return regwatch.RegistrationWatch(find_probe, dump, registrars, site.pool.handle)


def pe_probe_vm(by_address: dict, pool_network: str, vim: str, mgmt_network: str, registrar_addresses):
    """The first PE VM (by server name) on the group's pool network that has a management address: its
    pool address is on `pool_network` and no registrar's (runbook_day2.probe_vm finds the rest)."""
    registrars = set(registrar_addresses)
    pools = sorted((where["server"], address) for address, where in by_address.items()
                   if where["network"] == pool_network and address not in registrars)
    for _, address in pools:
        vm = runbook_day2.probe_vm(by_address, address, vim, mgmt_network)
        if vm is not None:
            return vm
    return None


def nova_time(text: str) -> float:
    """Nova's `2026-12-06T20:50:12.000000` (UTC, no zone) as epoch seconds."""
    return datetime.datetime.fromisoformat(text.rstrip("Z")).replace(tzinfo=datetime.timezone.utc).timestamp()


# LCM's DEBUG line just before it calls the connector; its ERROR line for a failed VCA ("Task ns=.. instantiate=..
# Deploying VCA 1.hss: execute primitive 'build' ..." ) names the same primitive again and is not a run.
PRIMITIVE_LINE = re.compile(r"Task ns=(?P<ns>\S+) instantiate=\S+ (?P<who>member_vnf_index=.*?) ?"
                            r"execute primitive '(?P<name>[^']+)'")


def day1_from_lcm_log(log_text: str) -> list[dict]:
    """LCM's own lines for each initial-config-primitive it ran, in the order it ran them."""
    out = []
    for line in log_text.splitlines():
        match = PRIMITIVE_LINE.search(line)
        if match:
            out.append({"time": line[:23], "who": match.group("who").strip(), "primitive": match.group("name")})
    return out


def vnfd_day1(build_dir: Path) -> dict[str, list[str]]:
    """Per VDU with a charm, its initial-config-primitive names in seq order (the built VNFDs)."""
    import tarfile
    import yaml
    out = {}
    for package in sorted((build_dir / "vnf-packages").glob("*.tar.gz")):
        with tarfile.open(package) as archive:
            member = next(m for m in archive.getmembers() if m.name.endswith("_vnfd.yaml"))
            vnfd = yaml.safe_load(archive.extractfile(member).read())
        for descriptor in vnfd["vnfd:vnfd-catalog"]["vnfd"] if "vnfd:vnfd-catalog" in vnfd else vnfd["vnfd-catalog"]["vnfd"]:
            for vdu in descriptor.get("vdu", []):
                prims = (vdu.get("vdu-configuration") or {}).get("initial-config-primitive") or []
                if prims:
                    out[f"{descriptor['id']}/{vdu['id']}"] = [p["name"] for p in sorted(prims, key=lambda p: int(p["seq"]))]
    return out


def check_day1(lcm_log: Path, build_dir: Path, nsr: dict | None) -> dict:
    ran = day1_from_lcm_log(lcm_log.read_text(errors="replace")) if lcm_log.is_file() else []
    wanted = vnfd_day1(build_dir)
    by_who: dict[str, list[str]] = {}
    for r in ran:
        by_who.setdefault(r["who"], []).append(r["primitive"])
    order = {}
    for who, names in by_who.items():
        vdu = re.search(r"vdu_id=([^,\s]+)", who)
        key = next((k for k in wanted if vdu and k.split("/", 1)[1] == vdu.group(1)), None)
        in_order = key is not None and wanted[key][:len(names)] == names
        order[who] = {"ran": names, "vnfd": key, "in_vnfd_order": in_order,
                      "complete": in_order and wanted[key] == names}
    vca = ((nsr or {}).get("_admin") or {}).get("deployed", {}).get("VCA") or []
    return {"lcm_lines": ran, "by_vca": order, "vnfd_day1": wanted,
            "nsr_vca": [{k: v.get(k) for k in ("member-vnf-index", "vdu_id", "ee_id", "config_sw_installed", "status",
                                               "detailed-status", "entity-type")} for v in vca],
            "all_in_vnfd_order": bool(order) and all(o["in_vnfd_order"] for o in order.values())}


def nsr_record(osm) -> dict | None:
    done = osm.osm("ns-show", NS_NAME, "--literal", check=False)
    if done.returncode != 0:
        return None
    try:
        return lab_site.yaml.safe_load(done.stdout)
    except lab_site.yaml.YAMLError:
        return None


def ns_resources(stack) -> dict:
    return {"servers": {s["ID"]: s["Name"] for s in cloud(stack, "server", "list", "--all-projects")},
            "ports": {p["ID"]: p.get("Device Owner", "") for p in cloud(stack, "port", "list", "--long")
                      if p.get("Device Owner", "").startswith("compute:")},
            "networks": {n["ID"]: n["Name"] for n in cloud(stack, "network", "list")}}


def run(osm, stack, cache_root: Path, site_path: Path, env: dict, log, result: dict) -> dict:
    """build, onboard, instantiate --wait (the registration watch beside it until day 2 ends), status,
    day 2, teardown --all, and the checks."""
    t = result.setdefault("seconds", {})
    started = time.monotonic()
    result["reach"] = reach_vdus(stack, osm, cache_root, log)
    t["mgmt gateways and mirror"] = round(time.monotonic() - started, 1)
    build_dir = osm.paths.base / "build"
    site = str(site_path)
    networks_before = ns_resources(stack)["networks"]
    if host_step(osm, result, "build", "build", "--site", site, "--out", str(build_dir), env=env)["exit"] != 0:
        result["failed"] = failed(result)
        return result
    if step(osm, result, "onboard", "onboard", "--site", site, "--build-dir", str(build_dir), env=env)["exit"] != 0:
        result["failed"] = failed(result)
        return result
    commands = runbook_day2.Commands(osm, NS_NAME, site, str(build_dir), env)
    parsed_site = load_site(site_path)
    watch = registration_watch(stack, osm, parsed_site).start()
    inst = commands.run(result, "instantiate", "instantiate", "--wait", "--timeout", str(INSTANTIATE_TIMEOUT_S),
                        timeout=INSTANTIATE_TIMEOUT_S + 900)
    from .osm import memory_mib
    result["osm_ram_after_instantiate_mib"] = memory_mib(stack.sandbox)
    checks = result.setdefault("checks", {})
    try:
        checks["servers"] = check_servers(stack, site_path)
    except Exception as error:          # a check that cannot run says so
        checks["servers"] = {"ran": False, "why": f"{type(error).__name__}: {error}"}
    servers = checks["servers"].get("servers") or []
    checks["cloud_init"] = check_cloud_init(stack, osm, servers) if servers else {"ran": False, "why": "no servers"}
    nsr = nsr_record(osm)
    result["nsr_state"] = {k: (nsr or {}).get(k) for k in ("nsState", "config-status", "operational-status",
                                                           "errorDescription", "detailed-status")}
    checks["day1"] = check_day1(stack.launcher.log_path("osm-lcm"), build_dir, nsr)
    commands.run(result, "status", "status", "-o", "json")
    checks["epc_lab_limit"] = epc_lab_limit(nsr, parsed_site) if inst["exit"] != 0 else {"needed": False}
    if inst["exit"] == 0 or checks["epc_lab_limit"].get("only_that"):
        started = time.monotonic()
        runbook_day2.run(osm, stack, parsed_site, commands, servers, lab_mgmt(), result,
                         look_at_vms=lambda: look_at_new_vms(stack, osm, servers))
        t["day 2"] = round(time.monotonic() - started, 1)
    else:
        checks["registered"] = {"ran": False, "why": f"instantiate exited {inst['exit']}: no day 2"}
    checks["registration_watch"] = watch.stop()
    before = ns_resources(stack)
    before_site = site_resources(stack, osm, parsed_site)
    commands.run(result, "teardown --all", "teardown", "--all", timeout=3600)
    after = ns_resources(stack)
    ns_networks = {i: n for i, n in before["networks"].items() if i not in networks_before}
    left = {"servers": [n for i, n in before["servers"].items() if i in after["servers"]],
            "ports": [i for i in before["ports"] if i in after["ports"]],
            "networks": [n for i, n in ns_networks.items() if i in after["networks"]]}
    checks["teardown_left"] = {"ns_had": {"servers": len(before["servers"]), "ports": len(before["ports"]),
                                          "networks": sorted(ns_networks.values())},
                               "left": left, "clean": not any(left.values())}
    checks["site_left"] = site_left(before_site, site_resources(stack, osm, parsed_site))
    result["vms"] = vm_rows(checks)
    (osm.paths.base / "ns-vms.md").write_text(vm_table(result["vms"]))
    result["failed"] = failed(result)
    return result


def vm_rows(checks: dict) -> list[dict]:
    """Per VM of the NS (and the scaled-out one): Nova's status, its addresses (with the site role of a
    fixed one), cloud-init, which registrars list its pool address (first pool-status, and after the
    scale-out), and its times: guest boot to cloud-init done (the guest's status.json), Nova's launch to
    listed by every registrar (the registration watch, late by at most its poll interval)."""
    first = checks.get("servers", {}).get("servers") or []
    known = {s["name"] for s in first}
    later = checks.get("scale", {}).get("vms_after_out") or {}
    scaled = [s for s in later.get("servers") or [] if s["name"] not in known]
    cloud_init = {**(later.get("cloud_init") or {}), **checks.get("cloud_init", {})}
    fixed = checks.get("servers", {}).get("addresses", {})
    views = [checks.get("registered", {}).get("by_registrar") or {},
             checks.get("scale", {}).get("after_out", {}).get("by_registrar") or {}]
    listed = checks.get("registration_watch", {}).get("first_listed_by_every_registrar") or {}
    rows = []
    for server in first + scaled:
        init = cloud_init.get(server["name"], {})
        row = {"vm": server["name"] + (" (scale-out)" if server in scaled else ""), "status": server.get("status"),
               "addresses": [], "cloud_init_done": init.get("done"), "boot_to_cloud_init_done_s":
               init.get("boot_to_done_s"), "launch_to_listed_s": None, "registered_in": []}
        for address, where in sorted(runbook_day2.servers_by_address([server]).items()):
            role = fixed.get(address, {}).get("role")
            row["addresses"].append(f"{where['network']} {address}" + (f" ({role})" if role else ""))
            row["registered_in"] = sorted(set(row["registered_in"]) | {r for view in views
                                                                       for r, seen in view.items() if address in seen})
            if address in listed and server.get("launched_at") is not None:
                row["launch_to_listed_s"] = round(listed[address] - server["launched_at"])
        rows.append(row)
    return rows


def vm_table(rows: list[dict]) -> str:
    """The rows as a Markdown table (the run directory's ns-vms.md)."""
    def shown(value):
        return "-" if value is None else f"{value:.0f}"
    done = {True: "yes", False: "no", None: "-"}     # None: not asked (the scaled-out VM)
    lines = ["| VM | Nova | addresses | cloud-init done | boot to cloud-init done (s) | Nova launch to listed by "
             "every registrar (s) | registered in |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['vm']} | {r['status']} | {'<br>'.join(r['addresses'])} | "
                     f"{done[r['cloud_init_done']]} | {shown(r['boot_to_cloud_init_done_s'])} | "
                     f"{shown(r['launch_to_listed_s'])} | {', '.join(r['registered_in']) or '-'} |")
    return "\n".join(lines) + "\n"


def epc_sources(site) -> list[str]:
    """The URLs the EPC charms' build fetches (OAI's repositories, Cassandra's archive and keys)."""
    return sorted({getattr(site.epc.git, vdu).repository for vdu in EPC_VDUS}
                  | {site.epc.cassandra.repository, site.epc.cassandra.key_url})


def epc_lab_limit(nsr: dict | None, site) -> dict:
    """Whether instantiate failed only where the lab cannot help it: the EPC VDUs' `build` primitive, which
    fetches from GitHub and Cassandra's archive (no route out of this machine).  LCM v8.0 marks a VCA whose
    day 1 failed BROKEN in the NS record's configurationStatus (same index as _admin.deployed.VCA) and puts
    "execute primitive 'build' ..." with the charm's error into errorDetail.  When that is all, the pool's
    VNFs are up and day 2 goes on (mecpool warns about the BROKEN NS); anything else fails the run."""
    if not nsr:
        return {"needed": True, "only_that": False, "why": "no NS record"}
    status = nsr.get("configurationStatus") or []
    vcas = ((nsr.get("_admin") or {}).get("deployed") or {}).get("VCA") or []
    broken = [vcas[i] for i, s in enumerate(status) if isinstance(s, dict) and s.get("status") == "BROKEN"
              and i < len(vcas)]
    detail = str(nsr.get("errorDetail") or "")
    urls = epc_sources(site)
    epc = [v for v in broken if v.get("vdu_id") in EPC_VDUS]
    named = [u for u in urls if u.rstrip("/").removesuffix(".git") in detail]
    only_that = (bool(broken) and len(epc) == len(broken)
                 and detail.count("execute primitive 'build'") >= len(epc) and bool(named))
    return {"needed": True, "only_that": only_that, "broken": [f"{v.get('member-vnf-index')}/{v.get('vdu_id')}"
                                                              for v in broken],
            "sources_named": named, "error_detail": detail[-3000:]}


def lab_mgmt(vims=lab_site.VIMS) -> dict[str, tuple[str, str]]:
    """Each VIM of the lab's site: (its management network, that network's subnet)."""
    return {v.name: (lab_site.mgmt_network(v), v.mgmt_subnet) for v in vims}


def site_resources(stack, osm, site) -> dict:
    """What openstack-prepare and onboard made for the site and teardown --all must remove: the flavors
    (mecpool-<site>-*), the security groups, the networks with the site's tag, the VIM accounts and the
    packages in OSM.  The image is the lab's own (uploaded before the runbook, so never the site's to
    remove) and listed to show it stays."""
    tag = prepare.site_tag(site)
    group = prepare.security_group_name(site)
    accounts = {vim.osm_account for vim in site.vims.values()}
    vim_list = osm.osm("vim-list", check=False).stdout
    return {"flavors": sorted(f["Name"] for f in cloud(stack, "flavor", "list", "--all")
                              if f["Name"].startswith(f"{tag}-")),
            "security_groups": sorted(g["ID"] for g in cloud(stack, "security", "group", "list", "--all-projects")
                                      if g["Name"] == group),
            "networks": sorted(n["Name"] for n in cloud(stack, "network", "list", "--tags", tag)),
            "vim_accounts": sorted(a for a in accounts if a in vim_list),
            "packages": sorted(line for line in (osm.osm("nsd-list", check=False).stdout
                                                 + osm.osm("vnfd-list", check=False).stdout).splitlines()
                               if re.search(r"\|\s*[0-9a-f]{8}-", line)),
            "image": sorted(i["Name"] for i in cloud(stack, "image", "list") if i["Name"] == lab_site.IMAGE_NAME)}


def site_left(before: dict, after: dict) -> dict:
    """What of the site's resources teardown --all left (the lab's image aside)."""
    left = {kind: after[kind] for kind in before if kind != "image" and after[kind]}
    return {"had": before, "left": left, "clean": not left and all(before[k] for k in ("flavors", "vim_accounts")),
            "image_kept": bool(after.get("image"))}


def failed(result: dict) -> list[str]:
    """What of the NS steps and checks did not pass (empty: all passed)."""
    c = result.get("checks", {})
    excused = {"instantiate"} if c.get("epc_lab_limit", {}).get("only_that") else set()
    out = [f"mecpool {name} exited {s['exit']}" + (f" (not {s['expected_exit']})" if s.get("expected_exit") else "")
           for name, s in result.get("steps", {}).items()
           if s["exit"] != s.get("expected_exit", 0) and name not in excused]
    if not c:
        return out or ["no checks ran"]
    servers = c.get("servers", {})
    if not servers.get("all_active"):
        out.append("not every server ACTIVE" if servers.get("servers") else "no servers")
    if servers.get("servers") and not servers.get("addresses_ok"):
        out.append("site addresses missing or on other networks: " + ", ".join(
            a for a, v in servers.get("addresses", {}).items() if not v["ok"]))
    ci = c.get("cloud_init", {})
    if ci.get("ran") is False or any(not v["done"] for k, v in ci.items() if isinstance(v, dict)):
        out.append("cloud-init not done on every VM")
    elsewhere = ssh_not_from_osm(ci)
    if elsewhere:
        out.append(f"SSH to the VDUs did not come from OSM's address {lab_site.OSM_HOST}: " + ", ".join(elsewhere))
    day1 = c.get("day1", {})
    if not day1.get("all_in_vnfd_order"):
        out.append("day-1 primitives not all run in VNFD order")
    unfinished = [who for who, o in (day1.get("by_vca") or {}).items() if not o.get("complete")
                  and not (excused and any(f"vdu_id={vdu}," in who + "," for vdu in EPC_VDUS))]
    if unfinished:
        out.append("day 1 not complete: " + "; ".join(unfinished))
    out += runbook_day2.failed(c)
    if not c.get("teardown_left", {}).get("clean"):
        out.append("teardown left NS resources")
    site_gone = c.get("site_left", {})
    if not site_gone.get("clean"):
        out.append("teardown --all left site resources: " + json.dumps(site_gone.get("left") or site_gone.get("had")))
    return out
