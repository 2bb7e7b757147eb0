"""The pieces on their own: table reading, masking, the NBI rules, the Juju
report (on a recorded libjuju answer), the pool-status result."""

import copy
import json
from pathlib import Path

import pytest
from rich.console import Console

from mecpool.deploy import jujureport, nbirules, poolstatus, tables
from mecpool.deploy.errors import CommandFailed, DeployError
from mecpool.deploy.instantiate import build_config
from mecpool.deploy.packages import BuiltPackages
from mecpool.deploy.runner import Masker, show_command
from mecpool.site import load_site

from deploy_constants import K, OP, REPO

FIXTURES = Path(__file__).parent / "fixtures"

TABLE = """+--------------------------------------+-------------+-------------+--------+---------------------+----------------------+
| id                                   | operation   | action_name | status | date                | detail               |
+--------------------------------------+-------------+-------------+--------+---------------------+----------------------+
| 0b9a2c1e-0d84-4c3c-9f51-1f3b7a1c2d3e | instantiate | N/A         | FAILED | 2021-05-03T10:02:00 | FAILED Deploying at  |
|                                      |             |             |        |                     | VIM: a | b           |
| 9c8d7e6f-1111-2222-3333-444455556666 | action      | pool-status | COMPLETED | 2021-05-03T10:09:00 | -                 |
+--------------------------------------+-------------+-------------+--------+---------------------+----------------------+
To get the history of all operations over a NS, run "osm ns-op-list NS_ID"
"""


def test_tables_join_wrapped_cells_and_keep_pipes():
    rows = tables.parse(TABLE.replace("| COMPLETED | 2021-05-03T10:09:00 | -                 |",
                                      "| DONE   | 2021-05-03T10:09:00 | -                    |"))
    assert [r["id"][:8] for r in rows] == ["0b9a2c1e", "9c8d7e6f"]
    assert rows[0]["detail"] == "FAILED Deploying at\nVIM: a | b"
    assert rows[1]["action_name"] == "pool-status"
    with pytest.raises(tables.TableError):
        tables.parse("ERROR: ns 'x' not found")


def test_masker_and_command_display():
    masker = Masker(["s3cret-pass", "ab"])  # too short values are not masked
    assert masker("--password s3cret-pass ab") == "--password **** ab"
    shown = show_command(["osm", "vim-create", "--password", "s3cret-pass"], {"OSM_PASSWORD": "x"}, masker)
    assert shown == "OSM_PASSWORD='****' osm vim-create --password '****'"
    error = CommandFailed(shown, 1, "", "ERROR: Error 409: conflict")
    assert "exit code 1" in error.report() and "stdout:\n  ERROR: Error 409" in error.report()


@pytest.fixture
def config_and_packages(built, env):
    site = load_site(REPO / "site.example.yaml")
    packages = BuiltPackages(built)
    return site, packages, build_config(site, packages, reveal_secrets=True, timeout=3600)


def accounts(site):
    return {v.osm_account for v in site.vims.values()}


def test_generated_config_passes_the_nbi_rules(config_and_packages):
    site, packages, config = config_and_packages
    assert nbirules.check(config, packages, accounts(site)) == []
    epc = config["additionalParamsForVnf"][0]["additionalParams"]
    assert (epc["k"], epc["op"]) == (K, OP)
    assert config["timeout_ns_deploy"] == 3600


def test_missing_and_misspelt_params_are_named(config_and_packages):
    site, packages, config = config_and_packages
    broken = copy.deepcopy(config)
    pe = broken["additionalParamsForVnf"][3]["additionalParams"]
    pe["pe_capacty"] = pe.pop("pe_capacity")
    del broken["additionalParamsForVnf"][1]["additionalParams"]["pr_address"]
    broken["additionalParamsForVnf"][2]["additionalParams"]["bad-key"] = 1
    problems = nbirules.check(broken, packages, accounts(site))
    assert ("additionalParamsForVnf[member-vnf-index=4]: missing 'pe_capacity', used by an initial-config-primitive "
            "of VNFD rsp-pool-element (misspelt as 'pe_capacty'?)") in problems
    assert any(p.startswith("additionalParamsForVnf[member-vnf-index=2]: missing 'pr_address'") for p in problems)
    assert any("key 'bad-key' must match" in p for p in problems)


def test_structure_errors_are_named(config_and_packages):
    site, packages, config = config_and_packages
    broken = copy.deepcopy(config)
    broken["vld"][0]["name"] = "mgmnt"
    broken["vnf"][1]["member-vnf-index"] = "42"
    broken["vnf"][0]["internal-vld"][0]["internal-connection-point"][0]["id-ref"] = "hss-s11-cp"
    broken["vld"][4]["vnfd-connection-point-ref"][0]["ip-address"] = "10.101.0.300"
    broken["vld"][1]["vim-network-name"] = {"unknown-account": "x"}
    broken["timeout_ns_deploy"] = 0
    broken["vnfs"] = []
    problems = nbirules.check(broken, packages, accounts(site))
    expected = [
        "config: unknown key 'vnfs'",
        "vld[0].name: 'mgmnt' is not a vld of NSD mec-offload",
        "vnf[1].member-vnf-index: '42' is not a member of the NSD",
        "vnf[member-vnf-index=1].internal-vld[0].internal-connection-point[0].id-ref: 'hss-s11-cp' is not on",
        "vld[name=pool].vnfd-connection-point-ref[0].ip-address: '10.101.0.300' is not an IPv4 address",
        "vld[name=s1c].vim-network-name: 'unknown-account' is not a VIM account of the site",
        "timeout_ns_deploy: must be an integer >= 1",
        "vnf: member 2 has no entry",
    ]
    for text in expected:
        assert any(p.startswith(text) for p in problems), (text, problems)


def test_juju_report_from_a_recorded_answer():
    fetched = json.loads((FIXTURES / "juju-model.json").read_text())
    nsr = {"_admin": {"deployed": {"VCA": [
        {"application": "app-vnf-7a1c2e4b9d01-vdu-hss-cnt-0", "member-vnf-index": "1", "vdu_id": "hss"},
        {"application": "app-vnf-9b2d3f5c8e02-vdu-registrar-cnt-0", "member-vnf-index": "2", "vdu_id": "registrar"}]}}}
    units = jujureport.units(fetched, nsr)
    assert [(u["member"], u["vdu"], u["workload"], u["address"]) for u in units] == [
        ("1", "hss", "blocked", "192.168.100.11"), ("2", "registrar", "active", "192.168.100.12")]
    failed = jujureport.failed_actions(fetched, Masker([OP, K]))
    assert [(a["unit"], a["action"], a["id"]) for a in failed] == [
        ("app-vnf-7a1c2e4b9d01-vdu-hss-cnt-0-0", "configure", "12"),
        ("app-vnf-9b2d3f5c8e02-vdu-registrar-cnt-0-0", "pool-status", "20")]
    assert failed[0]["parameters"]["op"] == "****" and failed[0]["parameters"]["realm"] == "simula.nornet"
    assert failed[0]["output"]["Stderr"] == "Cassandra: op=**** rejected\n"
    assert failed[0]["message"] == "configure failed: cassandra did not start"
    console = Console(width=200, record=True)
    jujureport.render_failed(failed, console)
    text = console.export_text()
    assert OP not in text and "configure on app-vnf-7a1c2e4b9d01-vdu-hss-cnt-0-0 (failed, id 12" in text
    assert "building cassandra" in text and "rsp-registrar is not running" in text


def test_failed_actions_mask_secret_keys_even_when_values_are_unknown():
    fetched = json.loads((FIXTURES / "juju-model.json").read_text())
    fetched["actions"]["actions"][0]["actions"][1]["status"] = "failed"
    failed = jujureport.failed_actions(fetched, Masker())
    subscribers = next(a for a in failed if a["action"] == "provision-subscribers")
    assert subscribers["parameters"] == {"k": "****", "users": 1024}


def test_pool_status_result_forms():
    parsed = {"home": "0x00000101", "peers": [], "pools": [{"handle": "CalcAppPool", "policy": "PriorityLeastUsed",
                                                            "protocol": "SCTP", "elements": []}]}
    results = {"summary": "1 pool, 0 pool elements", "json": json.dumps(parsed), "Code": "0"}
    assert poolstatus.parse_results(poolstatus.results_of(results)) == parsed
    assert poolstatus.parse_results(poolstatus.results_of(str(results))) == parsed   # str() of the dict
    with pytest.raises(DeployError, match="no 'json' key"):
        poolstatus.parse_results({"summary": "x"})
