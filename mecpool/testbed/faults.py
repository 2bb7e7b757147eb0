"""Fault and day-2 scenarios on the testbed (issue 4): nothing may be lost.

Each scenario is one run of the paper scenario with timed actions (see
:class:`mecpool.testbed.plan.Action`) and checks evaluated afterwards on the
files the real tools wrote:

* every job is accounted for, with the report's own definitions
  (:func:`mecpool.testbed.accounting.job_accounting`, from the PUs' files):
  lost = generated - completed - still queued - in flight must be 0;
* the fault did what it should (a busy PE was killed, a PE deregistered, the
  new PE took a job, the handlespace stayed complete, the UE PE covered the
  outage, the overload was rejected and retried ...).
"""

import json
from pathlib import Path

from mecpool.rserpool import hsdump
from mecpool.rserpool.commands import PoolElementConfig
from mecpool.rserpool.configure import pool_element_from_settings, settings_text

from . import engine, ledger
from .plan import Action
from .results import fault_cost, job_accounting, load_run
from .scenario import RunSettings, load


class FaultError(RuntimeError):
    """An unknown fault, or the fault's run could not be evaluated."""


class FaultSpec:
    def __init__(self, name, pus, runtime_s, apply, check, summary):
        self.name = name
        self.pus = pus
        self.runtime_s = runtime_s
        self.apply = apply      # apply(plan, at): add actions and the run.json fault entries
        self.check = check      # check(raw, plan, info, accounting) -> [(what, passed, detail)]
        self.summary = summary


def _fraction(runtime_s, share):
    return round(runtime_s * share, 1)


def _read_hsdump(raw, label, registrar):
    path = raw / "logs" / "hsdump-{}-{}.txt".format(label, registrar)
    if not path.is_file():
        return None, "{} missing".format(path.name)
    try:
        return hsdump.parse(path.read_text(errors="replace")), None
    except hsdump.HsdumpError as error:
        return None, "{}: {}".format(path.name, error)


def _pe_ids(parsed):
    return {element["identifier"] for pool in parsed["pools"] for element in pool["elements"]}


def _pe_load(parsed, identifier):
    for pool in parsed["pools"]:
        for element in pool["elements"]:
            if element["identifier"] == identifier:
                return element["load"]
    return None


def _run_json(raw):
    return json.loads((raw / "run.json").read_text())


def _t0_epoch(info):
    from datetime import datetime
    return datetime.fromisoformat(info["started"]).timestamp()


def _pe_completions(raw, info, group=None, name=None):
    """Completion times (epoch s) from the PEs' vector files (one line per completed job)."""
    stamps = []
    for pe in info["pes"]:
        if (group is None or pe["group"] == group) and (name is None or pe["name"] == name):
            stamps += [row["CurrentTimeStamp"] for row in ledger.read_vector(raw / pe["vector"])]
    return stamps


def _action_time(info, label):
    for action in info["actions"]:
        if action["label"] == label:
            return action["done_s"]
    return None


# What calcappclient prints when a job must move to another PE: the session
# layer reported the association broken (FAILOVER_NECESSARY) or a keep-alive
# timed out.  (A reject also triggers rsp_forcefailover, but that is a retry of a
# job no PE had accepted; it is counted as a reject.)
SESSION_FAILOVER = "--- FAILOVER ---"
KEEPALIVE_FAILOVER = "Timeout -> Failover"


def count_failovers(raw, plan):
    return (_pu_log_count(raw, plan, SESSION_FAILOVER)
            + _pu_log_count(raw, plan, KEEPALIVE_FAILOVER))


def _pu_log_count(raw, plan, text):
    total = 0
    for pu in plan.pool_users:
        path = raw / "logs" / (pu.name + ".log")
        if path.is_file():
            total += path.read_text(errors="replace").count(text)
    return total


# ------------------------------------------------------------------ pe-crash / pe-stop

def _apply_pe_signal(signal, name):
    def apply(plan, at):
        target = "pe-mec-1"
        # At ``at`` wait (up to 30 s) until the PE runs a job, then signal it at once.
        plan.actions.append(Action(at, "wait-busy", target, "until it runs a job"))
        plan.actions.append(Action(at, "signal:" + signal, target, "{} {}".format(signal, target)))
        plan.actions.append(Action(at + 8.0, "hsdump", "after", "handlespace after the fault"))
        plan.faults.append({"name": name, "target": target, "at_s": at, "duration_s": None,
                            "signal": signal})
    return apply


def _check_pe_signal(graceful):
    def check(raw, plan, info, accounting):
        target = plan.component("pe-mec-1")
        ident = "0x" + target.info["identifier"]
        checks = []
        busy = [int(e["event"].rsplit(":", 1)[1]) for e in info.get("events", [])
                if e["event"].startswith("busy:pe-mec-1:")]
        # PEs RSPLIB aborted on its own (3.4.4's timer race) are gone too.
        others = len(plan.pool_elements) - 1 - len(set(ledger.aborted_pes(raw)) - {"pe-mec-1"})
        checks.append(("pe-mec-1 was busy when the fault hit (its own log)",
                       bool(busy) and busy[0] > 0,
                       "{} job(s) running".format(busy[0]) if busy else "not recorded"))
        for pr in plan.registrars:
            after, problem = _read_hsdump(raw, "after", pr.name)
            present = after is not None and ident in _pe_ids(after)
            checks.append(("pe-mec-1 gone from {}'s handlespace 8 s later".format(pr.name)
                           if graceful else "{} still serves the other PEs".format(pr.name),
                           (not present) if graceful else (after is not None and
                                                           len(_pe_ids(after)) >= others),
                           problem or "PEs: {}".format(sorted(_pe_ids(after)) if after else "-")))
        timeouts = _pu_log_count(raw, plan, KEEPALIVE_FAILOVER)
        if graceful:
            checks.append(("no PU waited for a keep-alive timeout", timeouts == 0,
                           "{} keep-alive timeouts in the PU logs".format(timeouts)))
        else:
            failovers = count_failovers(raw, plan)
            checks.append(("the PUs of the killed PE failed over", failovers > 0,
                           "{} failovers in the PU logs".format(failovers)))
        return checks
    return check


# ------------------------------------------------------------------ scale-out

def scale_out_settings(plan, port):
    """The settings JSON a scaled-out MEC PE VDU gets (cloud-init writes it to
    /etc/mecpool/pool-element.json; ``local_address: auto`` is resolved there)."""
    group = plan.scenario.pe_groups["mec"]
    return {
        "pool_handle": plan.scenario.pool_handle,
        "registrars": ",".join(plan.registrar_endpoints(group.registrars)),
        "local_address": "auto",
        "local_port": port,
        "capacity": group.capacity,
        "max_jobs": plan.scenario.max_jobs,
        "load_increment": group.load_increment,
        "policy": plan.scenario.policy,
        "identifier": plan.next_pe_identifier(),
    }


def _apply_scale_out(plan, at):
    site = plan.scenario.pe_groups["mec"].sites[0]
    name = "pe-mec-new"
    settings = scale_out_settings(plan, plan.next_port(site))
    # The VDU's resolver asks the kernel for the route; here the topology knows
    # which site address reaches the registrar's subnet: the MEC site's own.
    base = pool_element_from_settings(json.loads(settings_text(settings)),
                                      resolve=lambda _dest: plan.scenario.address(site))
    config = PoolElementConfig(
        base.pool_handle, base.registrars, base.local_address, capacity=base.capacity,
        max_jobs=base.max_jobs, load_increment=base.load_increment, policy=base.policy,
        local_port=base.local_port, identifier=base.identifier,
        reregister_interval_ms=base.reregister_interval_ms, object_name=name,
        scalar_file=plan.pe_file(name, "sca"), vector_file=plan.pe_file(name, "vec"),
        preload=plan.pe_preload())
    component = plan.add_pool_element(plan.scenario.pe_groups["mec"], site, name, config=config)
    component.deferred = True
    component.info["settings"] = settings
    plan.actions.append(Action(at, "start", name, "scale-out: one more MEC PE"))
    plan.faults.append({"name": "scale-out", "target": name, "at_s": at, "duration_s": None,
                        "settings": settings})


def _check_scale_out(raw, plan, info, accounting):
    started = _action_time(info, next(a.label() for a in plan.actions if a.kind == "start"))
    completions = _pe_completions(raw, info, name="pe-mec-new")
    first = None
    if completions and started is not None:
        first = min(completions) - (_t0_epoch(info) + started)
    accepted = ledger.accepted(raw, "pe-mec-new")
    return [
        ("the new PE registered and accepted jobs", accepted > 0,
         "{} jobs accepted".format(accepted)),
        ("time from its start to its first completed job", first is not None,
         "{:.2f} s".format(first) if first is not None else "no job completed"),
    ]


# ------------------------------------------------------------------ pr-crash

PR_SNAPSHOT_S = 5.0


def _apply_pr_crash(plan, at, down_s=25.0):
    plan.actions.append(Action(at, "signal:KILL", "pr-mec", "kill the MEC registrar"))
    plan.actions.append(Action(at + down_s, "start", "pr-mec", "restart the MEC registrar"))
    # Every registrar's handlespace every 5 s, to see when it is complete again.
    moment = at + PR_SNAPSHOT_S
    while moment <= plan.runtime_s - PR_SNAPSHOT_S:
        plan.actions.append(Action(moment, "hsdump", "t{:g}".format(moment), "handlespaces"))
        moment += PR_SNAPSHOT_S
    plan.faults.append({"name": "pr-crash", "target": "pr-mec", "at_s": at,
                        "duration_s": down_s})


def _check_pr_crash(raw, plan, info, accounting):
    fault = plan.faults[0]
    at, back = fault["at_s"], fault["at_s"] + fault["duration_s"]
    crashed = next(pr for pr in plan.registrars if pr.name == "pr-mec")
    aborted = ledger.aborted_pes(raw)  # RSPLIB's own aborts leave the handlespaces rightly
    wanted = {"0x" + pe.info["identifier"] for pe in plan.pool_elements if pe.name not in aborted}
    before = hsdump.parse((raw / "logs" / "hsdump-pr-ue-registered.txt").read_text())
    homed_there = {e["identifier"] for pool in before["pools"] for e in pool["elements"]
                   if e["home_registrar"] == "0x" + crashed.info["identifier"]}
    snapshots = sorted(a.at_s for a in plan.actions if a.kind == "hsdump")
    checks = []
    for pr in plan.registrars:
        complete_at, others_kept = None, True
        for moment in snapshots:
            if pr.name == crashed.name and moment < back + PR_SNAPSHOT_S:
                continue
            parsed, _ = _read_hsdump(raw, "t{:g}".format(moment), pr.name)
            have = _pe_ids(parsed) if parsed else set()
            if pr.name != crashed.name and (wanted - homed_there) - have:
                others_kept = False
            if wanted <= have and complete_at is None and moment >= at + PR_SNAPSHOT_S:
                complete_at = moment
        if pr.name != crashed.name:
            checks.append(("{} kept every PE not homed at pr-mec throughout".format(pr.name),
                           others_kept, "PEs homed at pr-mec: {}".format(sorted(homed_there))))
            checks.append(("{}'s handlespace complete again after the crash".format(pr.name),
                           complete_at is not None,
                           "complete {:g} s after the crash".format(complete_at - at)
                           if complete_at is not None else "not complete by the end"))
        else:
            checks.append(("pr-mec resynchronised the full handlespace after its restart",
                           complete_at is not None,
                           "complete {:g} s after the restart".format(complete_at - back)
                           if complete_at is not None else "not complete by the end"))
    return checks


# ------------------------------------------------------------------ pe-before-registrar

EARLY_PE = "pe-mec-early"


def _apply_pe_before_registrar(plan, at, down_s=40.0):
    """OSM starts an NS's VNFs in no order: a PE whose only registrar is not listening when
    it starts.  Its first registration fails; stock RSPLIB then never registers (the ASAP
    thread sleeps through the re-registration timer that the main thread starts, see
    docs/vdu-lab.md); librspfreshload wakes it, so it registers one re-registration
    interval later.  pr-mec is killed, the PE started with pr-mec as its only registrar,
    pr-mec restarted ``down_s`` later; every registrar's handlespace at the end."""
    group = plan.scenario.pe_groups["mec"]
    site = group.sites[0]
    config = PoolElementConfig(
        plan.scenario.pool_handle, plan.registrar_endpoints(["pr-mec"]), plan.scenario.address(site),
        capacity=group.capacity, max_jobs=plan.scenario.max_jobs, load_increment=group.load_increment,
        policy=plan.scenario.policy, local_port=plan.next_port(site),
        identifier=plan.next_pe_identifier(), object_name=EARLY_PE,
        scalar_file=plan.pe_file(EARLY_PE, "sca"), vector_file=plan.pe_file(EARLY_PE, "vec"),
        preload=plan.pe_preload())
    component = plan.add_pool_element(group, site, EARLY_PE, config=config)
    component.deferred = True
    plan.actions.append(Action(at, "signal:KILL", "pr-mec", "no registrar at pr-mec"))
    plan.actions.append(Action(at + 2.0, "start", EARLY_PE, "a PE whose only registrar is pr-mec"))
    plan.actions.append(Action(at + down_s, "start", "pr-mec", "pr-mec starts listening"))
    plan.actions.append(Action(plan.runtime_s - 3.0, "hsdump", "end", "handlespaces at the end"))
    plan.faults.append({"name": "pe-before-registrar", "target": EARLY_PE, "at_s": at,
                        "duration_s": down_s})


def _check_pe_before_registrar(raw, plan, info, accounting):
    early = next(pe for pe in plan.pool_elements if pe.name == EARLY_PE)
    wanted = "0x" + early.info["identifier"]
    checks = []
    for pr in plan.registrars:
        parsed, problem = _read_hsdump(raw, "end", pr.name)
        listed = parsed is not None and wanted in _pe_ids(parsed)
        checks.append(("{} lists the PE that started before its registrar".format(pr.name), listed,
                       problem or ("listed" if listed else "{} not in the handlespace".format(wanted))))
    return checks


# ------------------------------------------------------------------ coverage-loss

STAMP_SLACK_S = 0.05

def _apply_coverage_loss(plan, at, down_s=40.0):
    site = plan.scenario.pool_users.site
    plan.actions.append(Action(at, "link-down", site, "radio link lost (netem loss 100 %)"))
    plan.actions.append(Action(at + down_s, "link-up", site, "coverage back"))
    plan.faults.append({"name": "coverage-loss", "target": site, "at_s": at,
                        "duration_s": down_s})


def _check_coverage_loss(raw, plan, info, accounting):
    t0 = _t0_epoch(info)
    # When the link really went down and came back (a loaded guest runs actions late).
    labels = {a.kind: a.label() for a in plan.actions}
    down_s, up_s = _action_time(info, labels["link-down"]), _action_time(info, labels["link-up"])
    if down_s is None or up_s is None:
        return [("the link was cut and restored", False, "actions not recorded")]
    down, up = t0 + down_s, t0 + up_s
    ue_capacity = max(pe["capacity"] for pe in info["pes"] if pe["group"] == "ue")
    ue_during = sum(1 for t in _pe_completions(raw, info, group="ue") if down <= t < up)
    # Seen from the PUs: a job accepted while the link was down can only have run
    # on the UE's own PE, so it cannot have been faster than that PE's capacity.
    during = [row for row in ledger.jobs(raw)
              if down + 1.0 <= row["AcceptTimeStamp"] < up and row["ProcessingTime"] > 0]
    # The PU stamps accept and completion when it reads them: on a busy host each can be tens
    # of ms late, which made a 0.1 s UE job look 24 % too fast (2026-12-06, load 6); a job of
    # a MEC PE (5 x the UE's speed) stays far above the bound with that slack.
    too_fast = [row for row in during
                if row["JobSize"] / (row["ProcessingTime"] + STAMP_SLACK_S) > ue_capacity * 1.05]
    mec_after = sum(1 for t in _pe_completions(raw, info, group="mec")
                    if up + 5.0 <= t < t0 + info["runtime_s"] + 5.0)
    return [
        ("the UE's own PE did jobs while the link was down", ue_during > 0,
         "{} jobs completed on the UE PE during the outage".format(ue_during)),
        ("jobs accepted during the outage ran on the UE PE (at most its {:g} calc/s)".format(
            ue_capacity), bool(during) and not too_fast,
         "{} jobs accepted during the outage, {} faster than the UE PE".format(
             len(during), len(too_fast))),
        ("work moved back to the MEC when the link returned", mec_after > 0,
         "{} jobs completed on MEC PEs from 5 s after the link came back".format(mec_after)),
    ]


# ------------------------------------------------------------------ overload

def _apply_overload(plan, at):
    plan.faults.append({"name": "overload", "target": None, "at_s": 0.0, "duration_s": None,
                        "pus": plan.pus})


def _check_overload(raw, plan, info, accounting):
    accepted = ledger.accepted_by_group(raw)
    return [
        ("the PEs rejected jobs and the PUs retried them", accounting.rejects > 0,
         "{} rejects".format(accounting.rejects)),
        ("queues grew (jobs still queued at the end)", accounting.still_queued > 0,
         "{} still queued".format(accounting.still_queued)),
        # PLU sums are capped at full load: the UE PE (0 + 100 %) ties with a network
        # PE only when that one looks full, and wins the tie when every one does.
        ("the UE PE, the last resort, took work",
         accepted.get("ue", 0) > 0,
         "accepted: " + ", ".join("{} {}".format(g, accepted.get(g, 0))
                                  for g in ("mec", "pmc", "ue"))),
    ]


FAULTS = {
    "pe-crash": FaultSpec("pe-crash", 24, 60.0, _apply_pe_signal("KILL", "pe-crash"),
                          _check_pe_signal(graceful=False), "SIGKILL a busy MEC PE mid-run"),
    "pe-stop": FaultSpec("pe-stop", 24, 60.0, _apply_pe_signal("INT", "pe-stop"),
                         _check_pe_signal(graceful=True), "SIGINT a busy MEC PE (scale-in)"),
    "scale-out": FaultSpec("scale-out", 32, 60.0, _apply_scale_out, _check_scale_out,
                           "start one more MEC PE from its settings JSON mid-run"),
    "pr-crash": FaultSpec("pr-crash", 16, 110.0, _apply_pr_crash, _check_pr_crash,
                          "SIGKILL the MEC registrar, restart it 25 s later"),
    "pe-before-registrar": FaultSpec("pe-before-registrar", 8, 100.0, _apply_pe_before_registrar,
                                     _check_pe_before_registrar,
                                     "a PE starts while its only registrar is down; listed at the end"),
    "coverage-loss": FaultSpec("coverage-loss", 8, 110.0, _apply_coverage_loss,
                               _check_coverage_loss, "cut the UE's radio link for 40 s"),
    # 90 s: the UE PE's share needs the queues built up (60 s gave it 8 jobs).
    "overload": FaultSpec("overload", 96, 90.0, _apply_overload, _check_overload,
                          "96 PUs: 1.6 x the network PEs' capacity"),
}
FAULT_AT = {"pe-crash": 0.4, "pe-stop": 0.4, "scale-out": 0.3, "pr-crash": 0.2,
            "pe-before-registrar": 0.1, "coverage-loss": 0.2, "overload": 0.0}


def plan_fault(name, pus=None, runtime_s=None):
    """(spec, customize, pus, runtime) for a fault; checks the name first."""
    if name not in FAULTS:
        raise FaultError("unknown fault {!r}; one of {}".format(name, ", ".join(FAULTS)))
    spec = FAULTS[name]
    pus = pus or spec.pus
    runtime_s = float(runtime_s or spec.runtime_s)
    minimum = {"pr-crash": 90.0, "coverage-loss": 90.0, "pe-before-registrar": 90.0}.get(name, 30.0)
    if runtime_s < minimum:
        raise FaultError("--runtime: {} needs at least {:g} s (its timeline), not {:g}".format(
            name, minimum, runtime_s))
    at = _fraction(runtime_s, FAULT_AT[name])

    def customize(plan):
        spec.apply(plan, at)
    return spec, customize, pus, runtime_s


def evaluate(name, run_dir, plan):
    """Account for every job of the fault's run and run its checks."""
    spec = FAULTS[name]
    raw = Path(run_dir) / "raw" / plan.key
    info = _run_json(raw)
    run = load_run(raw / "run.json")
    accounting = job_accounting(run)
    extra, affected = None, None
    if run.faults and run.faults[0].at_s is not None:
        cost = fault_cost(run, run.faults[0])
        extra, affected = cost.extra_s, cost.affected
    checks = [("every job accounted for (scalars agree with vectors)", accounting.consistent,
               "; ".join(accounting.problems) or "consistent")]
    checks += spec.check(raw, plan, info, accounting)
    return {
        "fault": name, "run_dir": str(run_dir), "pus": plan.pus, "runtime_s": plan.runtime_s,
        "generated": accounting.generated, "completed": accounting.completed,
        # calcappclient's own failover messages (see count_failovers), not accepts
        "failed_over": count_failovers(raw, plan), "still_queued": accounting.still_queued,
        "in_flight": accounting.in_flight, "rejects": accounting.rejects,
        "lost": accounting.lost, "extra_handling_s": extra, "affected_jobs": affected,
        "rsplib_aborts": ledger.aborted_pes(raw),
        "checks": [{"check": what, "passed": bool(ok), "detail": detail}
                   for what, ok, detail in checks],
        "passed": accounting.lost == 0 and all(ok for _, ok, _ in checks),
    }


def run_fault(name, scenario_file=None, pus=None, runtime_s=None, mode="auto", runner=None, rsplib=None):
    """Run one fault scenario and evaluate it; the outcome is saved as fault.json.
    ``rsplib``: the PEs' RSPLIB variant (default: the scenario's)."""
    spec, customize, pus, runtime_s = plan_fault(name, pus, runtime_s)
    scenario = load(scenario_file)
    if rsplib is not None:
        scenario = scenario.with_rsplib(rsplib)
    if "mec" not in scenario.pe_groups or "pr-mec" not in scenario.registrars:
        raise FaultError("the fault scenarios need a 'mec' PE group and a 'pr-mec' registrar")
    settings = RunSettings(scenario, next(iter(scenario.profiles)), pus=[pus],
                           runtime_s=runtime_s, runs=1)
    plans = []

    def capture(plan):
        customize(plan)
        plans.append(plan)

    run_dir = (runner or engine.run_without_report)(scenario, settings, mode, 1,
                                          label=name if rsplib is None else "{}-{}".format(name, rsplib),
                                          customize=capture)
    outcome = evaluate(name, run_dir, plans[0])
    (Path(run_dir) / "fault.json").write_text(json.dumps(outcome, indent=2) + "\n")
    return outcome


def summary_lines(outcome):
    lines = ["fault {}: {} PUs, {:g} s ({})".format(outcome["fault"], outcome["pus"],
                                                    outcome["runtime_s"], outcome["run_dir"])]
    for check in outcome["checks"]:
        lines.append("  [{}] {}: {}".format("ok" if check["passed"] else "FAIL", check["check"],
                                            check["detail"]))
    extra = outcome["extra_handling_s"]
    lines += [
        "jobs generated: {}".format(outcome["generated"]),
        "jobs completed: {}".format(outcome["completed"]),
        "jobs failed over: {}".format(outcome["failed_over"]),
        "jobs still queued: {}".format(outcome["still_queued"]),
        "jobs in flight: {}".format(outcome["in_flight"]),
        "extra handling time per affected job: {}".format(
            "{:.2f} s ({} jobs)".format(extra, outcome["affected_jobs"]) if extra is not None else "-"),
    ]
    lines += ["{} aborted by RSPLIB itself ({})".format(name, where)
              for name, where in sorted(outcome.get("rsplib_aborts", {}).items())]
    lines.append("lost: {}".format(outcome["lost"]))
    return lines
