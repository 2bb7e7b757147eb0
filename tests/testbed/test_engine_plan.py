"""The testbed engine's planning, without booting anything: scenario file, topology
and delays, the RSPLIB command lines in the run scripts, lanes, run.json."""

import json
import re
import shlex
import subprocess
import sys

import pytest
import yaml

from mecpool import rsplibfix
from mecpool.rserpool import commands
from mecpool.testbed import engine, plan as planmod, scenario as sc
from mecpool.testbed.topology import Topology


@pytest.fixture(scope="module")
def paper():
    return sc.load()


def _data():
    return yaml.safe_load(sc.default_scenario_path().read_text())


def _error(data):
    with pytest.raises(sc.ScenarioError) as info:
        sc.Scenario(data, "test")
    return info.value


# ------------------------------------------------------------------ scenario file

def test_paper_scenario_matches_the_reference(paper):
    groups = paper.pe_groups
    assert [(g, groups[g].capacity, groups[g].load_increment, sum(1 for _ in groups[g].sites) *
             groups[g].per_site) for g in ("ue", "mec", "pmc")] == [
        ("ue", 200000.0, 1.0, 1), ("mec", 1000000.0, 0.1, 2), ("pmc", 1000000.0, 0.5, 4)]
    assert paper.max_jobs == 4
    # PEs with librspfreshload by default, so the registrars keep RSPLIB's keep-alive
    assert (paper.rsplib, paper.endpoint_keepalive_ms) == ("fixed", None)
    assert sorted(paper.registrars) == ["pr-mec", "pr-stavanger", "pr-ue"]
    assert paper.pool_users.job_size == 1e6 and paper.pool_users.job_interval_s == 10
    assert paper.profiles["paper"].pus == [1, 2, 4, 8, 16, 32, 48, 64]
    assert (paper.profiles["paper"].runtime_s, paper.profiles["paper"].runs) == (300, 5)
    # ~20 ms within Norway, > 300 ms to China, a radio-like UE <-> MEC delay
    assert paper.rtt_ms("pmc-gjovik", "pmc-tromso") == 20
    assert paper.rtt_ms("mec", "pmc-longyearbyen") == 20
    assert all(paper.rtt_ms("pmc-haikou", other) > 300 for other in paper.sites if other != "pmc-haikou")
    assert 10 <= paper.rtt_ms("ue", "mec") <= 20


@pytest.mark.parametrize("mutate, field, words", [
    (lambda d: d.update(endpoint_keepalive_ms=100), "endpoint_keepalive_ms", "outside"),
    (lambda d: d["pool_elements"]["mec"].update(capacity=-5), "pool_elements.mec.capacity", "outside"),
    (lambda d: d["pool_elements"]["mec"].update(capacity="fast"), "pool_elements.mec.capacity", "number"),
    (lambda d: d["pool_elements"]["mec"].update(load_increment=1.5),
     "pool_elements.mec.load_increment", "outside"),
    (lambda d: d["pool_elements"]["mec"].update(sites=["mars"]), "pool_elements.mec.sites[0]", "not a site"),
    (lambda d: d["pool_elements"].update(edge=d["pool_elements"]["mec"]), "pool_elements.edge", "PE group"),
    (lambda d: d["pool_users"].update(registrars=["pr-nowhere"]), "pool_users.registrars[0]", "registrar"),
    (lambda d: d["sites"]["ue"].update(region="moon"), "network.regions", "moon"),
    (lambda d: d["sites"]["ue"].update(access_rtt_ms=float("nan")), "sites.ue.access_rtt_ms", "finite"),
    (lambda d: d["sites"].update({"Bad Site;rm": {"region": "mec"}}), "sites.Bad Site;rm", "not a name"),
    (lambda d: d["network"].update(subnet="8.8.8.0/24"), "network.subnet", "private"),
    (lambda d: d["network"].update(subnet="10.77.0.1/24"), "network.subnet", "IPv4 network"),
    (lambda d: d["registrars"].update({"pr-two": {"site": "mec"}}), "registrars.pr-two.site", "already"),
    (lambda d: d["profiles"]["quick"].update(pus=[1, 1]), "profiles.quick.pus[1]", "twice"),
    (lambda d: d["profiles"]["quick"].update(runs=0), "profiles.quick.runs", "outside"),
    (lambda d: d.update(surprise=1), "surprise", "unknown field"),
    (lambda d: d.pop("pool_users"), "pool_users", "required"),
    (lambda d: d.update(policy="Fastest"), "policy", "not one of"),
    (lambda d: d.update(pool_handle="pool; reboot"), "pool_handle", "pool handle"),
])
def test_bad_scenario_values_name_the_field(mutate, field, words):
    data = _data()
    mutate(data)
    error = _error(data)
    assert error.field == field
    assert words in str(error)


def test_load_reports_unreadable_and_invalid_files(tmp_path):
    with pytest.raises(sc.ScenarioError, match="cannot read"):
        sc.load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sites: [unclosed\n")
    with pytest.raises(sc.ScenarioError, match="not valid YAML"):
        sc.load(bad)
    bad.write_text("- a list\n")
    with pytest.raises(sc.ScenarioError, match="must be a mapping"):
        sc.load(bad)


def test_policy_and_overrides(paper):
    assert sc.parse_policy("pmc=0.5, mec=0.1,ue=1.0") == {"pmc": 0.5, "mec": 0.1, "ue": 1.0}
    for text, words in (("pmc", "GROUP=INCREMENT"), ("cloud=0.1", "not a PE group"),
                        ("mec=fast", "not a number"), ("mec=-0.1", "fraction"), (",", "empty")):
        with pytest.raises(sc.ScenarioError, match=words):
            sc.parse_policy(text)
    changed = paper.with_increments({"mec": 0.3})
    assert changed.pe_groups["mec"].load_increment == 0.3
    assert paper.pe_groups["mec"].load_increment == 0.1  # the original stays
    settings = sc.RunSettings(paper, "paper", pus=[16], runtime_s=120)
    assert (settings.pus, settings.runtime_s, settings.runs) == ([16], 120, 5)
    assert settings.run_keys() == [(16, k) for k in range(1, 6)]
    with pytest.raises(sc.ScenarioError, match="--runtime"):
        sc.RunSettings(paper, "quick", runtime_s=1)


# ------------------------------------------------------------------ topology

def _one_way_delays(topology):
    """destination address -> one-way delay (ms) as the tc commands configure it, per site."""
    result = {}
    for name, link in topology.sites.items():
        handles, filters = {}, {}
        for argv in topology._delay_argv(link):
            if "netem" in argv:
                handle = argv[argv.index("parent") + 1]
                handles[handle] = int(argv[argv.index("delay") + 1][:-2]) / 1000.0
            if "filter" in argv:
                address = argv[argv.index("dst") + 1].split("/")[0]
                filters[address] = argv[argv.index("flowid") + 1]
        result[name] = {address: handles[flow] for address, flow in filters.items()}
    return result


def test_netem_bands_give_every_pairwise_rtt(paper):
    topology = Topology(paper, 3)
    delays = _one_way_delays(topology)
    for a in paper.sites:
        for b in paper.sites:
            if a == b:
                continue
            rtt = delays[a][paper.address(b)] + delays[b][paper.address(a)]
            assert rtt == pytest.approx(paper.rtt_ms(a, b)), (a, b)


def test_topology_commands_use_full_paths_and_isolated_names(paper):
    first, second = Topology(paper, 0), Topology(paper, 12)
    steps = first.setup_argv() + first.teardown_argv() + first.link_loss_argv("ue", True)
    assert {argv[0] for argv in steps} == {"/usr/bin/ip", "/usr/bin/tc"}
    names = lambda t: {t.bridge} | {l.namespace for l in t.sites.values()} | {
        l.device for l in t.sites.values()} | {l.bridge_port for l in t.sites.values()}
    assert not names(first) & names(second)
    assert all(len(l.device) <= 15 and len(l.bridge_port) <= 15 for l in second.sites.values())
    # every set reuses the same site addresses (the sets are isolated)
    assert [l.address for l in first.sites.values()] == [l.address for l in second.sites.values()]
    loss = first.link_loss_argv("ue", True)
    assert any(argv[-2:] == ["loss", "100%"] for argv in loss)
    assert any("t00b00" in argv and "add" in argv for argv in loss)
    restore = first.link_loss_argv("ue", False)
    assert not any("loss" in argv for argv in restore)


def test_setup_batches_hold_every_setup_command_in_order(paper):
    topology = Topology(paper, 5)
    flat = []
    for prefix, batch in topology.setup_batches():
        if batch is None:
            flat.append(prefix)
            continue
        assert prefix[-1] == "-batch"
        flat += [prefix[:-1] + line for line in batch]
    assert sorted(map(tuple, flat)) == sorted(map(tuple, topology.setup_argv()))
    position = {tuple(argv): index for index, argv in enumerate(flat)}
    for link in topology.sites.values():
        moved = position[("/usr/bin/ip", "link", "set", link.device, "netns", link.namespace)]
        addressed = next(i for argv, i in position.items() if "addr" in argv and link.device in argv)
        assert moved < addressed
    # a few processes instead of one per command
    assert len(topology.setup_batches()) < len(topology.setup_argv()) / 4


def test_too_many_distinct_delays_is_an_error():
    data = _data()
    data["sites"] = {"s{}".format(i): {"region": "mec", "access_rtt_ms": i} for i in range(18)}
    for group in data["pool_elements"].values():
        group["sites"] = ["s0"]
    data["registrars"] = {"pr-ue": {"site": "s0"}, "pr-mec": {"site": "s1"},
                          "pr-stavanger": {"site": "s2"}}
    data["pool_users"]["site"] = "s0"
    scenario = sc.Scenario(data, "test")
    with pytest.raises(sc.ScenarioError, match="distinct delays"):
        Topology(scenario, 0)


# ------------------------------------------------------------------ run scripts

def _commands(script, helper):
    """argv lists of every `helper NAME NS ARGV...` line of a script."""
    found = []
    for line in script.splitlines():
        if line.startswith(helper + " "):
            found.append(shlex.split(line)[1:])
    return found


@pytest.fixture(scope="module")
def run_plan(paper):
    return planmod.RunPlan(paper, 16, 2, 120, 1, "/tmp/mecpool/test-id")


def test_run_script_starts_exactly_the_generated_rsplib_commands(paper, run_plan):
    script = run_plan.script(planmod.lib_text())
    started = {args[0]: args[2:] for args in _commands(script, "start")}
    assert len([n for n in started if n.startswith("pu-")]) == 16
    assert sorted(n for n in started if n.startswith("pe-")) == [
        "pe-mec-1", "pe-mec-2", "pe-pmc-1", "pe-pmc-2", "pe-pmc-3", "pe-pmc-4", "pe-ue-1"]
    # PEs: exactly mecpool.rserpool's argv, with their own object and files, and the
    # fixed variant's preload (the paper scenario's default)
    mec = paper.pe_groups["mec"]
    expected = commands.pool_element_argv(commands.PoolElementConfig(
        "CalcAppPool", ["10.77.0.2:3863", "10.77.0.3:3863"], "10.77.0.2", capacity=1e6, max_jobs=4,
        load_increment=0.1, local_port=9001, identifier=planmod.PE_ID_BASE + 2,
        object_name="pe-mec-2", scalar_file="/tmp/mecpool/test-id/pus-16/run-2/pe-mec-2.sca",
        vector_file="/tmp/mecpool/test-id/pus-16/run-2/pe-mec-2.vec"))
    assert started["pe-mec-2"] == ["env", "LD_PRELOAD=" + rsplibfix.INSTALL_PATH] + expected
    assert mec.registrars == ["pr-mec", "pr-stavanger"]
    pu = started["pu-07"]
    assert pu == commands.pool_user_argv(commands.PoolUserConfig(
        "CalcAppPool", ["10.77.0.1:3863"], job_interval_s=10, job_size=1e6, runtime_s=120,
        object_name="pu-07", scalar_file="/tmp/mecpool/test-id/pus-16/run-2/pu-07.sca",
        vector_file="/tmp/mecpool/test-id/pus-16/run-2/pu-07.vec"))
    # registrars: full ENRP mesh
    pr = started["pr-mec"]
    assert pr[0] == "rspregistrar"
    assert sorted(a for a in pr if a.startswith("-peer=")) == ["-peer=10.77.0.1:9901",
                                                                "-peer=10.77.0.3:9901"]
    objects = [a for argv in started.values() for a in argv if a.startswith(("-object=", "-capobject="))]
    assert len(objects) == len(set(objects)) == 16 + 7


def test_run_script_order_registration_check_and_sigint(run_plan):
    script = run_plan.script(planmod.lib_text())
    body = script[script.index('progress setup'):]
    # leftovers of an earlier run in the lane are removed before the set-up
    assert body.index("teardown  #") < body.index("step /usr/bin/ip -batch")
    order = [body.index(marker) for marker in (
        "progress registrars", "start pr-ue", "progress pool-elements", "start pe-ue-1",
        "wait_registered 60 pr-ue-registered", "alive pe-ue-1", "T0=$(uptime_s)", "start pu-01",
        "sleep_until 120", "wait_all 100 past-runtime pu-01", "stop_all INT 15 pe-ue-1",
        "stop_all INT 15 pr-ue", 'teardown\necho ok > "$WORK/status"', "collect")]
    assert order == sorted(order)
    # the fixed variant leaves RSPLIB's endpoint keep-alive on every registrar
    for pr in run_plan.registrars:
        assert not any(a.startswith("-endpointkeepalive") for a in pr.argv)
    # every PE identifier is awaited in every registrar's handlespace
    for pr in run_plan.registrars:
        line = next(l for l in script.splitlines() if "{}-registered".format(pr.name) in l)
        for pe in run_plan.pool_elements:
            assert pe.info["identifier"] in line
    assert "KILL" not in body.split("wait_all 100")[0]  # nobody is killed before the stop
    # calcappclient 3.4.4 has no break detector: PUs are never signalled, they end themselves
    assert not re.search(r"(signal|stop_all) \S+ .*pu-", script)
    assert "TERM" not in script


def test_endpoint_keepalive_override_reaches_every_registrar_and_keeps_the_original(paper):
    one_second = paper.with_endpoint_keepalive(1000)
    plan = planmod.RunPlan(one_second, 4, 1, 60, 1, "/tmp/mecpool/test-id")
    assert all("-endpointkeepalivetransmissioninterval=1000" in pr.argv for pr in plan.registrars)
    assert paper.endpoint_keepalive_ms is None
    plan = planmod.RunPlan(paper, 4, 1, 60, 1, "/tmp/mecpool/test-id")
    assert not any(a.startswith("-endpointkeepalive") for pr in plan.registrars for a in pr.argv)


def test_stock_rsplib_runs_plain_pes_with_the_one_second_keepalive(paper):
    stock = paper.with_rsplib("stock")
    assert stock.endpoint_keepalive_ms == 1000
    plan = planmod.RunPlan(stock, 4, 1, 60, 1, "/tmp/mecpool/test-id")
    assert all(pe.argv[0] == "rspserver" for pe in plan.pool_elements)
    assert all("-endpointkeepalivetransmissioninterval=1000" in pr.argv for pr in plan.registrars)
    # an explicit keep-alive wins over the variant's
    assert stock.with_endpoint_keepalive(5000).endpoint_keepalive_ms == 5000


def test_fixed_rsplib_preloads_the_fix_into_every_pe_and_no_other_process(paper):
    plan = planmod.RunPlan(paper.with_rsplib("fixed"), 4, 1, 60, 1, "/tmp/mecpool/test-id",
                           tools={"rspfix": "/opt/fix/librspfreshload.so"})
    for pe in plan.pool_elements:
        assert pe.argv[:3] == ["env", "LD_PRELOAD=/opt/fix/librspfreshload.so", "rspserver"]
    assert not any("LD_PRELOAD" in " ".join(c.argv) for c in plan.registrars + plan.pool_users)
    guest = planmod.RunPlan(paper, 4, 1, 60, 1, "/tmp/mecpool/test-id")
    assert guest.pool_elements[0].argv[1] == "LD_PRELOAD=/usr/lib/mecpool/librspfreshload.so"


def test_unknown_rsplib_variant_names_the_field(paper):
    with pytest.raises(sc.ScenarioError) as info:
        paper.with_rsplib("patched")
    assert info.value.field == "--rsplib" and "stock, fixed" in str(info.value)
    data = _data()
    data["rsplib"] = "newest"
    with pytest.raises(sc.ScenarioError, match="^rsplib: 'newest' is not one of stock, fixed"):
        sc.Scenario(data, "test")


def test_run_script_is_valid_posix_sh(tmp_path, run_plan):
    path = tmp_path / "run.sh"
    path.write_text(run_plan.script(planmod.lib_text()))
    assert subprocess.run(["sh", "-n", str(path)]).returncode == 0
    assert subprocess.run(["busybox", "sh", "-n", str(path)]).returncode == 0


def test_lib_helpers_run_under_busybox(tmp_path):
    """The helpers themselves, on real processes (sleep), without namespaces."""
    script = "\n".join([
        "RUN=t", "WORK={}".format(tmp_path / "w"), "OUT={}".format(tmp_path / "o"), "IP=/bin/false",
        "NSENTER=/bin/false", "NETNS=/nonexistent",
        "T0=0", planmod.lib_text(), "teardown() { true; }",
        'mkdir -p "$WORK/logs" "$WORK/pids"', "T0=$(uptime_s)",
        # Background jobs of a script start with SIGINT ignored; like RSPLIB's break
        # detector, "a" installs its own handler, "b" keeps ignoring it.
        "start_here a {} -c {}".format(sys.executable, shlex.quote(
            "import signal, time; signal.signal(signal.SIGINT, lambda *_: exit(0)); time.sleep(30)")),
        "start_here b sh -c 'while :; do sleep 0.1; done'", "sleep 0.5",
        "alive a || exit 3", "sleep_until 0.3",
        "stop_all INT 1 a b", "alive a && exit 4", "alive b && exit 5", "wait",
        'cat "$WORK/warnings"', "collect"])
    result = subprocess.run(["busybox", "sh", "-c", script], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "killed after SIGINT: b"
    events = (tmp_path / "o" / "events.txt").read_text()
    assert "INT:a" in events and "KILL:b" in events


def test_lanes_balance_pus_and_mix_heavy_and_light_runs(paper):
    keys = sc.RunSettings(paper, "paper").run_keys()
    lanes = planmod.schedule(keys, 8)
    assert len(lanes) == 8 and all(len(lane) == 5 for lane in lanes)
    assert sorted(k for lane in lanes for k in lane) == sorted(keys)
    totals = [sum(p for p, _ in lane) for lane in lanes]
    assert max(totals) - min(totals) <= 64  # serpentine dealing keeps lanes even
    # at every step the lanes run a mix: no step holds only the heaviest runs
    steps = [sum(lane[i][0] for lane in lanes) for i in range(5)]
    assert max(steps) < 8 * 48 and max(steps) - min(steps) < 175
    assert planmod.schedule(keys, 100) == [[k] for k in sorted(keys, key=lambda k: (-k[0], k[1]))]
    with pytest.raises(ValueError):
        planmod.schedule(keys, 0)


def test_batch_writes_scripts_scenario_and_run_json(tmp_path, paper):
    settings = sc.RunSettings(paper, "quick", pus=[1, 4], runtime_s=30, runs=2)
    batch = engine.Batch(paper, settings, "vm", 3, tmp_path / "run-x")
    batch.write()
    plan_sh = (tmp_path / "run-x" / "plan" / "plan.sh").read_text()
    # 4 runs, at most 3 at a time: 3 lanes side by side, one namespace set per lane
    assert plan_sh.count(") &\n") == 3 and plan_sh.count("\nwait\n") == 1
    slots = [[p.topology.prefix for p in lane] for lane in batch.lanes]
    assert slots == [["t00"], ["t01"], ["t02", "t02"]]
    assert [[p.pus for p in lane] for lane in batch.lanes] == [[4], [4], [1, 1]]
    lane_line = next(l for l in plan_sh.splitlines() if "MECPOOL-LANE 3 2" in l)
    assert lane_line.index("pus-1-run-1.sh") < lane_line.index("pus-1-run-2.sh")
    resolved = yaml.safe_load((tmp_path / "run-x" / "scenario.yaml").read_text())
    assert resolved["resolved"]["pus"] == [1, 4] and resolved["resolved"]["runtime_s"] == 30
    assert resolved["resolved"]["rtt_ms"]["mec ue"] == 16
    # what the guest records -> run.json, readable by the results side of the contract
    plan = batch.plans[0]
    raw = tmp_path / "run-x" / "raw" / plan.key
    raw.mkdir(parents=True)
    (raw / "status").write_text("ok\n")
    (raw / "events.txt").write_text("start:pr-ue 10.0\nT0 20.5\nstart:pu-1 20.6\nend 50.5\n")
    (tmp_path / "run-x" / "clock").write_text("1795678000 5.0\n")
    assert engine.finish_run(plan, tmp_path / "run-x", engine._read_clock(tmp_path / "run-x")) == "ok"
    info = json.loads((raw / "run.json").read_text())
    assert info["started"] == "2026-11-26T07:26:55.500+00:00"
    assert info["ended"] == "2026-11-26T07:27:25.500+00:00"
    assert {pe["group"] for pe in info["pes"]} == {"ue", "mec", "pmc"}
    assert len(info["pus_list"]) == info["pus"]
    from mecpool.testbed.results import read_run_json
    checked = read_run_json(raw / "run.json")
    assert checked["pus"] == plan.pus and len(checked["pes"]) == 7


def test_guest_memory_grows_with_the_concurrent_processes(paper):
    small = engine.Batch(paper, sc.RunSettings(paper, "quick", pus=[1], runs=1), "vm", 1, "/tmp/x")
    big = engine.Batch(paper, sc.RunSettings(paper, "paper"), "vm", 8, "/tmp/y")
    assert engine.guest_memory_mb(small.lanes) == 1024
    assert engine.guest_memory_mb(big.lanes) > 1024


# ------------------------------------------------------------------ CLI and measure

@pytest.mark.parametrize("args, words", [
    (["testbed", "run", "--pus", "x"], "--pus: 'x' is not a whole number"),
    (["testbed", "run", "--pus", "0"], "--pus[0]: 0 is outside"),
    (["testbed", "run", "--runtime", "2"], "--runtime: 2.0 is outside"),
    (["testbed", "run", "--policy", "edge=0.1"], "not a PE group"),
    (["testbed", "run", "--endpoint-keepalive", "50"], "--endpoint-keepalive: 50 is outside 300..300000"),
    (["testbed", "run", "--profile", "huge"], "'huge' is not a profile"),
    (["testbed", "run", "--scenario", "/nonexistent.yaml"], "cannot read"),
    (["testbed", "fault", "meteor"], "unknown fault 'meteor'"),
    (["testbed", "fault", "pr-crash", "--runtime", "30"], "needs at least 90"),
])
def test_cli_rejects_bad_input_before_writing_anything(tmp_path, monkeypatch, args, words):
    from click.testing import CliRunner
    from mecpool.cli import main
    monkeypatch.setenv("MECPOOL_BUILD", str(tmp_path / "build"))
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert words in result.output
    assert not (tmp_path / "build").exists()


def test_measure_plan_runs_the_same_pu_commands_without_namespaces(tmp_path):
    from mecpool.testbed.measure import MeasurePlan
    measure = MeasurePlan(["192.0.2.10:3863"], 3, 120, "CalcAppPool", 1e6, 10, "/tmp/mecpool/m")
    script = measure.script(planmod.lib_text())
    started = _commands(script, "start_here")
    assert [args[0] for args in started] == ["pu-01", "pu-02", "pu-03"]
    assert started[1][1:] == commands.pool_user_argv(commands.PoolUserConfig(
        "CalcAppPool", ["192.0.2.10:3863"], job_interval_s=10, job_size=1e6, runtime_s=120,
        object_name="pu-02", scalar_file="/tmp/mecpool/m/pus-3/run-1/pu-02.sca",
        vector_file="/tmp/mecpool/m/pus-3/run-1/pu-02.vec"))
    assert "nsenter" not in script.split("teardown() { true; }")[1]
    assert "wait_all 100 past-runtime pu-01 pu-02 pu-03" in script
    path = tmp_path / "m.sh"
    path.write_text(script)
    assert subprocess.run(["sh", "-n", str(path)]).returncode == 0
    assert measure.description()["pes"] == [] and len(measure.description()["pus_list"]) == 3


# ------------------------------------------------------------------ fault plans

@pytest.mark.parametrize("name", ["pe-crash", "pe-stop", "scale-out", "pr-crash",
                                  "coverage-loss", "overload"])
def test_fault_plans_are_valid_scripts_with_their_actions(tmp_path, paper, name):
    from mecpool.testbed import faults
    spec, customize, pus, runtime = faults.plan_fault(name)
    plan = planmod.RunPlan(paper, pus, 1, runtime, 0, "/tmp/mecpool/f")
    customize(plan)
    script = plan.script(planmod.lib_text())
    path = tmp_path / "f.sh"
    path.write_text(script)
    assert subprocess.run(["busybox", "sh", "-n", str(path)]).returncode == 0
    assert plan.faults and plan.faults[0]["name"] == name
    times = [float(line.split()[1]) for line in script.splitlines()
             if re.match(r"^sleep_until [0-9]", line)]
    assert times == sorted(times) and times[-1] == runtime
    body = script[script.index("progress running"):]
    if name in ("pe-crash", "pe-stop"):
        signal = "KILL" if name == "pe-crash" else "INT"
        assert body.index("wait_busy 30 pe-mec-1") < body.index("signal {} pe-mec-1".format(signal))
    if name == "pr-crash":
        assert body.index("signal KILL pr-mec") < body.index("start pr-mec")
        assert body.count("hsdump_to") >= 3 * 10
    if name == "coverage-loss":
        down, up = body.index("loss 100%"), body.index("qdisc del dev t00b00 root")
        assert down < up


def test_scale_out_pe_comes_from_the_cloud_init_settings(paper):
    from mecpool.rserpool.configure import pool_element_from_settings
    from mecpool.testbed import faults
    spec, customize, pus, runtime = faults.plan_fault("scale-out")
    plan = planmod.RunPlan(paper, pus, 1, runtime, 0, "/tmp/mecpool/f")
    customize(plan)
    new = plan.component("pe-mec-new")
    assert new.deferred and "start pe-mec-new" not in plan.script(planmod.lib_text()).split(
        "progress running")[0]
    settings = new.info["settings"]
    assert settings["local_address"] == "auto" and settings["local_port"] == 9002
    config = pool_element_from_settings(settings, resolve=lambda _d: "10.77.0.2")
    expected = commands.pool_element_argv(config)
    # the same argv the VDU would run, with the testbed's object and result files
    # instead of the service's (its state directory, no vector)
    files = ("-capobject=", "-capscalar=", "-capvector=")
    assert new.argv[:2] == ["env", "LD_PRELOAD=" + rsplibfix.INSTALL_PATH]   # the fixed variant
    argv = new.argv[2:]
    assert [a for a in argv if not a.startswith(files)] == [a for a in expected if not a.startswith(files)]
    assert [a for a in argv if a.startswith(files)] == [
        "-capobject=pe-mec-new", "-capscalar=/tmp/mecpool/f/pus-32/run-1/pe-mec-new.sca",
        "-capvector=/tmp/mecpool/f/pus-32/run-1/pe-mec-new.vec"]
