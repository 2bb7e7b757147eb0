"""The runbook's day 2 against the real stack, after `instantiate --wait`: what an operator does with a
running NS, through our CLI and OSM R8's real LCM and RO, and the checks in what the VMs and the
registrars say.

- `pool-status`: every PE VDU of the NS (OSM's records) is in both registrars' handlespace;
- pool users (calcappclient on the home registrar's VM, with the testbed's argv) complete their jobs;
- `pe-action pe-status` reaches every PE VDU with a charm (exit 0);
- the security group admits exactly what openstack-prepare promises (mecpool.reallab.sgprobe);
- `scale-pe --out --wait`: LCM and RO add a PE VDU, which registers in both registrars; `pe-action` then
  reaches the charmed PE and says the scaled-out one has no charm (exit 3: R8 deploys none on it);
- `scale-pe --in --wait`: LCM removes the newest PE VDU, which leaves both registrars' handlespace.

A check that cannot run says why in its entry ({"ran": False, "why": ...})."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from mecpool.deploy import poolstatus
from mecpool.deploy.peaction import NOT_REACHED
from mecpool.site.model import Site
from mecpool.vdulab import checks as vm_checks
from mecpool.vdulab.guest import Guest, GuestError

from . import sgprobe
from .runbook_steps import json_of, step

ASAP_PORT = 3863
# Pool users: a short run of the VDU lab's kind (2 PUs, 30 s, 200k-calculation jobs every 2 s).
PU_COUNT, PU_RUNTIME_S, PU_JOB_INTERVAL_S, PU_JOB_SIZE = 2, 30, 2.0, 200000
# A PE VM deleted by RO sends nothing: the registrars drop it when its keep-alives go unanswered
# (seconds) or its registration lifetime ends; pool-status is an OSM action each time (tens of s).
LEAVE_TIMEOUT_S = 900
# scale-pe's own wait (OSM's operation, then the new PE in the pool): a TCG VM's boot on two cores.
SCALE_WAIT_S = 3600
LEAVE_POLL_S = 20


@dataclass(frozen=True)
class Commands:
    """What every step of ours is given: the NS, its site and build, the secrets' environment."""
    osm: object
    ns: str
    site_path: str
    build_dir: str
    env: dict

    def run(self, result: dict, name: str, command: str, *args: str, timeout: float = 900) -> dict:
        """`mecpool <command> <ns> <args> --site .. --build-dir ..`, recorded under `name`."""
        return step(self.osm, result, name, command, self.ns, *args, "--site", self.site_path, "--build-dir",
                    self.build_dir, env=self.env, timeout=timeout)


def registrar_views(pool: dict, handle: str) -> dict[str, list[str]]:
    """Registrar name -> the PE addresses it lists in pool `handle` (`pool-status -o json`)."""
    return {name: sorted(poolstatus.addresses(view, handle)) for name, view in pool["registrars"].items()}


def check_registered(pool, handle: str) -> dict:
    """Every PE VDU OSM's records give an address (pool-status' pe_owners) in every registrar's view."""
    if not isinstance(pool, dict) or "registrars" not in pool:
        return {"ran": False, "why": "pool-status gave no JSON"}
    owners = pool.get("pe_owners") or {}
    views = registrar_views(pool, handle)
    missing = {name: sorted(set(owners) - set(seen)) for name, seen in views.items() if set(owners) - set(seen)}
    return {"ran": True, "pes": owners, "by_registrar": views, "missing": missing,
            "disagreements": pool.get("disagreements") or [], "all": bool(owners) and bool(views) and not missing}


def servers_by_address(servers: list[dict]) -> dict[str, dict]:
    """Fixed address -> {"server", "network"} from `openstack server list --long -f json` rows, whose
    Networks is {network: [addresses]} (or "net=a, b; net2=c" from older clients)."""
    out = {}
    for s in servers:
        networks = s.get("networks") if "networks" in s else s.get("Networks")
        if isinstance(networks, str):
            networks = {part.split("=", 1)[0].strip(): [a.strip() for a in part.split("=", 1)[1].split(",")]
                        for part in networks.split(";") if "=" in part}
        for network, addresses in (networks or {}).items():
            for address in addresses:
                out[address] = {"server": s.get("name") or s.get("Name"), "network": network}
    return out


def probe_vm(by_address: dict, pool_address: str, vim: str, mgmt_network: str):
    """The VM holding `pool_address`, with its address on the VIM's management network."""
    server = by_address.get(pool_address, {}).get("server")
    if server is None:
        return None
    mgmt = next((a for a, v in by_address.items() if v["server"] == server and v["network"] == mgmt_network), None)
    return sgprobe.ProbeVm(server, vim, mgmt, pool_address) if mgmt else None


def guest_of(stack, osm, vm: sgprobe.ProbeVm) -> Guest:
    return Guest(vm.name, vm.mgmt, osm.paths.vca_key, stack.sandbox)


def run_pool_users(guest: Guest, site: Site, registrar_address: str) -> dict:
    """calcappclients on the registrar's VM against the pool; every started job must complete (a PU's
    -runtime may cut the one job it runs)."""
    try:
        binary = vm_checks.install_pool_user(guest)
        results = vm_checks.run_pool_users(guest, binary, site.pool.handle, [f"{registrar_address}:{ASAP_PORT}"],
                                           PU_COUNT, PU_RUNTIME_S, PU_JOB_INTERVAL_S, PU_JOB_SIZE)
    except GuestError as error:
        return {"ran": False, "why": str(error)}
    per_user = {r.name: {"queued": r.queued, "started": r.started, "completed": r.completed} for r in results}
    completed = sum(r.completed for r in results)
    cut = [r.name for r in results if r.started - r.completed > 1]
    return {"ran": True, "on": guest.name, "users": per_user, "completed": completed,
            "ok": completed > 0 and not cut}


def reached_lines(said: str) -> dict:
    """What `mecpool pe-action` said it reached and did not."""
    lines = [line.strip() for line in said.splitlines()]
    return {"reached": [line for line in lines if line.startswith("reached: ")],
            "not_reached": [line for line in lines if line.startswith(NOT_REACHED)]}


def check_pe_action(entry: dict, pes: int, charmed: int) -> dict:
    """pe-action on a group of `pes` PE VDUs of which `charmed` have a charm: it reaches exactly those,
    says so of the others, and exits 0 only when it reached all (3 otherwise)."""
    seen = reached_lines(entry["said"])
    want_exit = 0 if charmed == pes else 3
    return {"exit": entry["exit"], "expected_exit": want_exit, **seen,
            "ok": entry["exit"] == want_exit and len(seen["reached"]) == charmed
            and len(seen["not_reached"]) == pes - charmed}


def run_sg_probe(stack, osm, site: Site, home: sgprobe.ProbeVm, other: sgprobe.ProbeVm, pe: sgprobe.ProbeVm,
                 mgmt_cidrs: dict[str, list[str]]) -> dict:
    """Listeners on the registrars' VMs, then each prober's probes; judged against prepare's rules."""
    probes = sgprobe.plan(home, other, pe, site.pool.pe_port)
    rules = {vim: sgprobe.admitted_rules(site, vim, cidrs) for vim, cidrs in mgmt_cidrs.items()}
    answers: dict[sgprobe.Probe, dict] = {}
    try:
        for vm in (home, other):
            guest_of(stack, osm, vm).run(sgprobe.listener_command(), timeout=120)
        for prober in (other, home, pe):
            mine = [p for p in probes if p.source_vm == prober.name]
            done = guest_of(stack, osm, prober).run(sgprobe.probe_command(), stdin=sgprobe.probe_input(mine),
                                                    timeout=60 + 3 * sgprobe.CONNECT_TIMEOUT_S * len(mine))
            answers.update(zip(mine, sgprobe.parse_answers(done.stdout)))
    except (GuestError, ValueError, KeyError) as error:
        return {"ran": False, "why": f"{type(error).__name__}: {error}"}
    ordered = [p for p in probes if p in answers]
    judged = sgprobe.judge(ordered, [answers[p] for p in ordered], rules)
    judged["rules"] = {vim: [r.text() for r in rs] for vim, rs in rules.items()}
    return judged


def wait_left(commands: Commands, result: dict, address: str, handle: str) -> dict:
    """Poll pool-status until no registrar lists `address` in pool `handle`."""
    started = time.monotonic()
    polls = 0
    while True:
        polls += 1
        entry = commands.run(result, "pool-status after scale-in", "pool-status", "-o", "json", timeout=1800)
        pool = json_of(entry)
        views = registrar_views(pool, handle) if isinstance(pool, dict) and "registrars" in pool else None
        listed_by = sorted(name for name, seen in (views or {}).items() if address in seen)
        waited = round(time.monotonic() - started, 1)
        if views is not None and not listed_by:
            return {"ran": True, "address": address, "left": True, "seconds": waited, "polls": polls}
        if waited >= LEAVE_TIMEOUT_S:
            return {"ran": True, "address": address, "left": False, "seconds": waited, "polls": polls,
                    "still_listed_by": listed_by, "pool_status_ok": views is not None}
        time.sleep(LEAVE_POLL_S)


def scale_cycle(commands: Commands, result: dict, site: Site, group: str, before: dict, look_at_vms) -> dict:
    """scale-pe --out --wait, pool-status (and the VMs then), pe-action; scale-pe --in --wait, then the
    PE's leave."""
    out = {}
    handle = site.pool.handle
    wait = ("--wait", "--timeout", str(SCALE_WAIT_S))
    if commands.run(result, "scale-pe --out", "scale-pe", "--group", group, "--out", *wait,
                    timeout=2 * SCALE_WAIT_S + 600)["exit"] != 0:
        return {"ran": False, "why": "scale-pe --out failed (see steps)"}
    pool = check_registered(json_of(commands.run(result, "pool-status after scale-out", "pool-status", "-o",
                                                 "json", timeout=1800)), handle)
    new = sorted(set(pool.get("pes", {})) - set(before.get("pes", {})))
    out["after_out"] = {**pool, "new": new, "ok": pool.get("all", False) and len(new) == 1}
    try:
        out["vms_after_out"] = look_at_vms()
    except Exception as error:          # only the table's row of the new VM depends on it
        out["vms_after_out"] = {"ran": False, "why": f"{type(error).__name__}: {error}"}
    pes = len(pool.get("pes", {}))
    said = commands.run(result, "pe-action after scale-out", "pe-action", "--group", group, "pe-status")
    out["pe_action_after_out"] = check_pe_action(said, pes, pes - len(new))
    said["expected_exit"] = out["pe_action_after_out"]["expected_exit"]     # 3: the scaled-out PE has no charm
    if commands.run(result, "scale-pe --in", "scale-pe", "--group", group, "--in", *wait,
                    timeout=SCALE_WAIT_S + 600)["exit"] != 0:
        out["left"] = {"ran": False, "why": "scale-pe --in failed (see steps)"}
        return out
    out["left"] = (wait_left(commands, result, new[0], handle) if len(new) == 1
                   else {"ran": False, "why": f"{len(new)} new PE addresses after the scale-out"})
    out["ran"] = True
    return out


def run(osm, stack, site: Site, commands: Commands, servers: list[dict], mgmt: dict[str, tuple[str, str]],
        result: dict, look_at_vms) -> None:
    """Day 2 on the instantiated NS; `mgmt` maps each VIM to (its management network, its subnet);
    `look_at_vms()` gives Nova's servers then and cloud-init on the new ones (the scaled-out VM's row)."""
    checks = result.setdefault("checks", {})
    handle = site.pool.handle
    group = sorted(site.pool.pe_groups)[0]
    pool = check_registered(json_of(commands.run(result, "pool-status", "pool-status", "-o", "json",
                                                 timeout=1800)), handle)
    checks["registered"] = pool
    by_address = servers_by_address(servers)
    home_r, other_r = site.pool.registrars[0], site.pool.registrars[1]
    home = probe_vm(by_address, home_r.address, home_r.vim, mgmt[home_r.vim][0])
    other = probe_vm(by_address, other_r.address, other_r.vim, mgmt[other_r.vim][0])
    pe_address = next(iter(sorted(pool.get("pes", {}))), None)
    pe = probe_vm(by_address, pe_address, site.pool.pe_groups[group].vim,
                  mgmt[site.pool.pe_groups[group].vim][0]) if pe_address else None
    if home is None:
        checks["pool_users"] = {"ran": False, "why": f"no VM with {home_r.address} and a management address"}
    else:
        checks["pool_users"] = run_pool_users(guest_of(stack, osm, home), site, home_r.address)
    pes = len(pool.get("pes", {}))
    checks["pe_action"] = check_pe_action(commands.run(result, "pe-action", "pe-action", "--group", group, "pe-status"),
                                          pes, pes)
    if None in (home, other, pe):
        checks["security_group"] = {"ran": False, "why": "the registrars' and a PE's VMs not all found in Nova"}
    else:
        checks["security_group"] = run_sg_probe(stack, osm, site, home, other, pe,
                                                {vim: [cidr] for vim, (_, cidr) in mgmt.items()})
    checks["scale"] = scale_cycle(commands, result, site, group, pool, look_at_vms) if pool.get("ran") else {
        "ran": False, "why": "no pool-status before the scale-out"}


def failed(checks: dict) -> list[str]:
    """What of day 2 did not pass."""
    out = []
    reg = checks.get("registered", {})
    if not reg.get("all"):
        out.append("PEs not registered in every registrar: " + (json.dumps(reg.get("missing")) if reg.get("ran")
                                                                 else reg.get("why", "?")))
    if not checks.get("pool_users", {}).get("ok"):
        out.append("pool users' jobs did not all complete: " + json.dumps(checks.get("pool_users")))
    if not checks.get("pe_action", {}).get("ok"):
        out.append("pe-action did not reach exactly the charmed PEs")
    sg = checks.get("security_group", {})
    if not sg.get("exact"):
        out.append("security group: " + ("; ".join(sg.get("wrong", [])) if sg.get("ran") else sg.get("why", "?")))
    scale = checks.get("scale", {})
    if not scale.get("ran"):
        out.append("scale cycle: " + scale.get("why", "?"))
    else:
        if not scale.get("after_out", {}).get("ok"):
            out.append("the scaled-out PE is not registered in every registrar")
        later = scale.get("vms_after_out", {})
        if not later.get("cloud_init"):
            out.append("the scaled-out VM not looked at: " + later.get("why", "no new server in Nova"))
        elif any(not v["done"] for v in later["cloud_init"].values()):
            out.append("cloud-init not done on the scaled-out VM")
        if not scale.get("pe_action_after_out", {}).get("ok"):
            out.append("pe-action after the scale-out did not say which PE it could not reach")
        if not scale.get("left", {}).get("left"):
            out.append("the scaled-in PE did not leave the handlespace")
    return out
