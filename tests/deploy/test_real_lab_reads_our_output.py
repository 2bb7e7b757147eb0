"""The real-stack lab's day-2 checks (mecpool.reallab.runbook_day2) read what our CLI prints: here they
read the real output of `mecpool pool-status -o json` and `mecpool pe-action` against the fake `osm`, so
a change of either output breaks this test, not an hour-long lab run."""

import json

from deploy_helpers import ready_ns

from mecpool.reallab import runbook_day2


def test_registered_check_reads_pool_status_json_and_names_what_a_registrar_misses(fakes, mecpool):
    ready_ns(fakes, mecpool)
    pool = json.loads(mecpool("pool-status", "mec1", "-o", "json").stdout)
    check = runbook_day2.check_registered(pool, "CalcAppPool")
    assert check["all"] is True and check["missing"] == {}
    assert set(check["by_registrar"]) == {"pr-mec", "pr-stavanger"}
    assert "10.101.0.101" in check["pes"] and "10.101.0.101" in check["by_registrar"]["pr-stavanger"]
    fakes.scenario({"registrar_misses": {"3": ["10.101.0.101"]}})   # pr-stavanger lost a PE of the MEC
    pool = json.loads(mecpool("pool-status", "mec1", "-o", "json").stdout)
    check = runbook_day2.check_registered(pool, "CalcAppPool")
    assert check["all"] is False and check["missing"] == {"pr-stavanger": ["10.101.0.101"]}
    assert check["disagreements"]
    assert runbook_day2.check_registered(pool, "OtherPool")["all"] is False     # no PE in that pool
    assert runbook_day2.check_registered(None, "CalcAppPool") == {"ran": False, "why": "pool-status gave no JSON"}


def test_pe_action_check_reads_what_pe_action_says_it_reached(fakes, mecpool):
    ready_ns(fakes, mecpool)   # group mec has count 2 in the example: its second PE VDU is scaled out
    result = mecpool("pe-action", "mec1", "--site", "site.yaml", "--group", "mec", "pe-status", expect=3)
    entry = {"exit": result.exit_code, "said": result.stdout + result.stderr}
    check = runbook_day2.check_pe_action(entry, pes=2, charmed=1)
    assert check["ok"] and len(check["reached"]) == 1 and len(check["not_reached"]) == 1, check
    assert runbook_day2.check_pe_action(entry, pes=2, charmed=2)["ok"] is False     # it must reach both
    result = mecpool("pe-action", "mec1", "--site", "site.yaml", "--group", "haikou", "pe-status")
    entry = {"exit": result.exit_code, "said": result.stdout + result.stderr}
    assert runbook_day2.check_pe_action(entry, pes=1, charmed=1)["ok"]
    assert runbook_day2.check_pe_action(entry, pes=2, charmed=1)["ok"] is False     # exit 0 where 3 is due
