"""The probes' evaluation on written raw files (the runs themselves: test_probes_testbed.py)."""

import json

import pytest

from mecpool.testbed import plan as planmod, probes, scenario as sc

PE_ID = "0x5e000001"


def action_line(number, at, direction, protocol, action, pe=PE_ID):
    return ('{:06d}   {:.6f} 1.000000   "{}" "{}" "{}" "Requested"   0x0 0 0.000000   '
            '"CalcAppPool" {}   0x7e000002 0x0 0x0   0').format(number, at, direction, protocol, action, pe)


def hsdump_text(load_percent):
    return "\n".join([
        "Handlespace[home=$7e000002]: (1 Pools, 1 PoolElements, 1 Owned)",
        "*-- Index:",
        ' +-- Pool "CalcAppPool", Policy "PriorityLeastUsed", Protocol SCTP, CtrlCh=yes: (1 nodes)',
        " +-- Index:",
        "   - idx:#0001: $5e000001 flags=[new][updated]",
        "     chsum=$00001963 home=$7e000002 life=90000ms ur=0",
        "     t=$40000003 [w=0 l={:.3f}%($3fffffff) ldeg=10.000%($1999999a) ldpf=0 wdpf=0 dist=0]".format(
            load_percent),
        "     userT: {10.77.0.2} 9000/SCTP+CtrlCh",
        "     regT:  {10.77.0.2} 33534/SCTP",
        ""])


@pytest.fixture
def raw(tmp_path):
    """A freshness run: two jobs on the PE (accepted at 100.0 and 110.0, done at 102.0 and 112.0)."""
    info = {"pes": [{"name": "pe-mec-1", "identifier": PE_ID, "max_jobs": 4, "vector": "pe-mec-1.vec"}],
            "pus_list": [{"name": "pu-01", "vector": "pu-01.vec"}],
            "registrars": [{"name": "pr-mec", "action_log": "pr-mec.actions"}]}
    (tmp_path / "run.json").write_text(json.dumps(info))
    header = ("ObjectName PID JobID JobSize JobInterval   QueueLength QueuingDelay StartupDelay ProcessingTime "
              "HandlingTime HandlingSpeed   QueuingTimeStamp StartupTimeStamp AcceptTimeStamp CompleteTimeStamp")
    (tmp_path / "pu-01.vec").write_text("\n".join([
        header,
        "000001 pu-01 1 1 1e6 6 0 0 0.05 2 2 5e5 99.9 99.95 100.0 102.0",
        "000002 pu-01 1 2 1e6 6 0 0 0.05 2 2 5e5 109.9 109.95 110.0 112.0", ""]))
    (tmp_path / "pe-mec-1.vec").write_text("\n".join([
        "ObjectName PID PoolElementIdentifier CurrentTimeStamp Runtime AvailableCalculations "
        "UsedCalculations Utilization CurrentJobs MaxJobs",
        "000001 pe-mec-1 9 0x5e000001 102.0 2 2 2 1 1 4",
        "000002 pe-mec-1 9 0x5e000001 112.0 2 2 2 1 1 4", ""]))
    (tmp_path / "logs").mkdir()
    # the PE added each job's session 20 ms before the PU stamped the accept (epoch 99.98 = 1970...)
    (tmp_path / "logs" / "pe-mec-1.log").write_text(
        "01-Jan-1970 00:01:39.9800: NOTIFICATION: RSERPOOL_SESSION_CHANGE for session 1, "
        "state=RSERPOOL_SESSION_ADD\n"
        "01-Jan-1970 00:01:49.9800: NOTIFICATION: RSERPOOL_SESSION_CHANGE for session 1, "
        "state=RSERPOOL_SESSION_ADD\n")
    return tmp_path


def write_registrar(raw, messages, dumps):
    (raw / "pr-mec.actions").write_text("\n".join(
        ["AbsTime RelTime   Direction Protocol Action Reason   Flags Counter Time   PoolHandle PoolElementID"]
        + [action_line(i + 1, at, "Recv", proto, action) for i, (at, proto, action) in enumerate(messages)]
        # noise: what the registrar sends, and other PEs' messages, must not count
        + [action_line(90, 100.001, "Send", "ENRP", "Update"),
           action_line(91, 100.002, "Recv", "ASAP", "Registration", pe="0x5e000009")]) + "\n")
    (raw / "logs" / "hsdump-loop-pr-mec.txt").write_text("".join(
        "=== {:.6f} {:.6f}\n{}".format(start, end, hsdump_text(load)) for start, end, load in dumps))


def test_fresh_registrar_has_no_late_change_and_no_stale_dump(raw):
    write_registrar(raw, [(100.01, "ASAP", "Registration"), (102.005, "ASAP", "Registration"),
                          (110.02, "ASAP", "Registration"), (112.003, "ASAP", "Registration")],
                    [(100.5, 100.8, 25.0), (101.0, 101.3, 25.0), (103.0, 103.2, 0.0), (110.5, 110.7, 25.0)])
    outcome = probes.evaluate_freshness(raw)
    (registrar,) = outcome["registrars"]
    assert outcome["changes"] == 4
    assert registrar["delays_s"] == [0.03, 0.005, 0.04, 0.003]   # from the session add / the PE's stamp
    assert outcome["late_changes"] == 0 and outcome["stale_dumps"] == 0
    assert outcome["checked_dumps"] == 4    # the last change is followed by nothing known


def test_stale_registrar_is_reported_with_its_delay_and_the_dumps_that_showed_the_old_load(raw):
    # keep-alive style: the accept at 100.0 arrives only at 101.5
    write_registrar(raw, [(101.5, "ENRP", "Update"), (102.005, "ENRP", "Update"),
                          (110.02, "ENRP", "Update"), (112.003, "ENRP", "Update")],
                    [(100.5, 100.8, 0.0), (101.6, 101.9, 25.0)])
    outcome = probes.evaluate_freshness(raw)
    (registrar,) = outcome["registrars"]
    assert registrar["late"] == [{"change_at": pytest.approx(99.98), "cause": "accept", "delay_s": 1.52}]
    assert [item["dump_started"] for item in registrar["stale"]] == [100.5]
    assert not probes.passed(dict(outcome, probe="freshness"))


def test_a_change_never_reported_counts_as_late(raw):
    write_registrar(raw, [(100.01, "ASAP", "Registration"), (115.0, "ASAP", "Registration")], [])
    outcome = probes.evaluate_freshness(raw)
    delays = outcome["registrars"][0]["delays_s"]
    assert delays[0] == 0.03 and delays[1] == 13.0   # the completion at 102.0


def test_a_job_shorter_than_the_goal_gets_no_delay_but_still_bounds_the_dumps(raw):
    """A third job of 50,000 calculations at the PE's 1,000,000 per second (50 ms), accepted at
    105.0 and done at 105.05, which the registrar never heard of (rspserver accepted and ended
    it in one pass of its loop): neither its accept nor its completion is measured, and a dump
    during the long job's run is still checked against the two jobs' changes."""
    info = json.loads((raw / "run.json").read_text())
    info["pes"][0]["capacity"] = 1e6
    (raw / "run.json").write_text(json.dumps(info))
    with (raw / "pu-01.vec").open("a") as vector:
        vector.write("000003 pu-01 1 3 5e4 6 0 0 0.05 0.1 0.1 5e5 104.9 104.95 105.0 105.06\n")
    pe_rows = (raw / "pe-mec-1.vec").read_text().splitlines()
    pe_rows.insert(2, "000003 pe-mec-1 9 0x5e000001 105.05 2 2 2 1 1 4")
    (raw / "pe-mec-1.vec").write_text("\n".join(pe_rows) + "\n")
    messages = [(100.01, "ASAP", "Registration"), (102.005, "ASAP", "Registration"),
                (110.02, "ASAP", "Registration"), (112.003, "ASAP", "Registration")]
    write_registrar(raw, messages, [(103.0, 103.2, 0.0), (106.0, 106.2, 0.0)])
    outcome = probes.evaluate_freshness(raw)
    (registrar,) = outcome["registrars"]
    assert (outcome["changes"], outcome["short_changes"]) == (6, 2)
    assert registrar["delays_s"] == [0.03, 0.005, 0.04, 0.003] and outcome["late_changes"] == 0
    assert outcome["stale_dumps"] == 0 and outcome["checked_dumps"] == 2
    # Without the PE's capacity the job's length is unknown: it is measured, and late.
    info["pes"][0].pop("capacity")
    (raw / "run.json").write_text(json.dumps(info))
    outcome = probes.evaluate_freshness(raw)
    assert outcome["short_changes"] == 0 and outcome["late_changes"] == 2


def test_no_measurement_does_not_pass(raw):
    write_registrar(raw, [], [])
    outcome = probes.evaluate_freshness(raw)
    assert outcome["delays_measured"] == 0
    assert not probes.passed(dict(outcome, probe="freshness"))


def test_stress_counts_each_pes_registrations_per_second(raw):
    # only the PE's own ASAP Registrations count: not its ENRP updates, nor what the registrar
    # sent, nor another PE's registrations (write_registrar's noise)
    write_registrar(raw, [(100.0, "ASAP", "Registration"), (100.5, "ENRP", "Update"),
                          (101.0, "ASAP", "Registration"), (101.5, "ASAP", "Registration")], [])
    info = json.loads((raw / "run.json").read_text())
    assert probes.registrations_per_s(raw, info, 2.0) == {"pe-mec-1": 1.5}


def test_probe_scenarios_are_the_paper_scenario_cut_down():
    paper = sc.load(None)
    fresh = probes.probe_scenario(paper, "freshness", "fixed")
    assert fresh.endpoint_keepalive_ms == 5000 and fresh.rsplib == "fixed"
    assert list(fresh.pe_groups) == ["mec"] and fresh.pe_groups["mec"].per_site == 1
    assert fresh.pool_users.site == "mec"
    stress = probes.probe_scenario(paper, "abort-stress", "stock")
    assert (stress.endpoint_keepalive_ms, stress.rsplib) == (1000, "stock")
    assert stress.pool_users.job_interval_s < 1
    with pytest.raises(probes.ProbeError, match="unknown probe 'fuzz'"):
        probes.probe_scenario(paper, "fuzz", "stock")


def test_freshness_plan_logs_registrar_actions_and_loops_hsdump():
    scenario = probes.probe_scenario(sc.load(None), "freshness", "fixed")
    plan = planmod.RunPlan(scenario, 1, 1, 90, 0, "/tmp/mecpool/p")
    plan.log_registrar_actions()
    plan.actions.append(planmod.Action(0, "hsdump-loop", 90))
    script = plan.script(planmod.lib_text())
    for pr in plan.registrars:
        assert "-actionlogfile=/tmp/mecpool/p/pus-1/run-1/{}.actions".format(pr.name) in pr.argv
        assert 'hsdump_loop "$WORK/logs/hsdump-loop-{}.txt"'.format(pr.name) in script
    assert plan.description()["registrars"][0]["action_log"].endswith(".actions")
