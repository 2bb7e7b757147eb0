"""Issue 21, point 10: -o json|yaml for status, pool-status, juju-status, failed-actions and the build's
report; pool-status asks each registrar and shows where they disagree."""

import json
from pathlib import Path

import yaml

from deploy_constants import REPO
from deploy_helpers import ready_ns


def test_status_as_json_and_yaml(fakes, mecpool):
    ready_ns(fakes, mecpool)
    data = json.loads(mecpool("status", "mec1", "-o", "json").stdout)
    assert data["name"] == "mec1" and data["state"] == "READY" and data["site_differences"] == []
    pe = next(v for v in data["vnfs"] if v["member"] == "4")
    assert pe["role"] == "PE group mec (mec)" and len(pe["vdus"]) == 2
    assert [op["operation"] for op in data["operations"]][:1] == ["instantiate"]
    assert yaml.safe_load(mecpool("status", "mec1", "-o", "yaml").stdout) == data


def test_pool_status_asks_each_registrar_and_shows_where_they_disagree(fakes, mecpool):
    ready_ns(fakes, mecpool)
    fakes.scenario({"registrar_misses": {"3": ["10.101.0.101"]}})   # pr-stavanger lost a PE of the MEC
    fakes.reset_calls()
    result = mecpool("pool-status", "mec1")
    asked = [c[c.index("--vnf_name") + 1] for c in fakes.calls("osm") if c[0] == "ns-action"]
    assert asked == ["2", "3"]
    assert "pools seen by registrar pr-mec (member 2)" in result.stdout
    assert "pools seen by registrar pr-stavanger (member 3)" in result.stdout
    assert "! PE 10.101.0.101 (mec: mec1-4-pool-element-1 (scaled out)): seen by pr-mec, not by pr-stavanger" \
        in result.stdout
    assert "it stays in the operation history of NS mec1" in result.stdout
    result = mecpool("pool-status", "mec1", "-o", "json")
    data = json.loads(result.stdout)
    assert set(data["registrars"]) == {"pr-mec", "pr-stavanger"}
    assert data["disagreements"] == [
        "PE 10.101.0.101 (mec: mec1-4-pool-element-1 (scaled out)): seen by pr-mec, not by pr-stavanger"]
    assert "operation history" in result.stderr


def test_juju_status_and_failed_actions_as_json(fakes, mecpool, monkeypatch):
    ready_ns(fakes, mecpool)
    from mecpool.deploy import jujudebug
    recorded = json.loads((Path(__file__).parent / "fixtures" / "juju-model.json").read_text())
    monkeypatch.setattr(jujudebug, "fetch", lambda connection, model: recorded)
    monkeypatch.setattr(jujudebug, "check_client_files", lambda controller: None)
    data = json.loads(mecpool("juju-status", "mec1", "-o", "json").stdout)
    assert data["model"] == fakes.osm_state()["nsrs"][0]["_id"] and len(data["juju_status"]) == 2
    data = yaml.safe_load(mecpool("failed-actions", "mec1", "-o", "yaml").stdout)
    assert [a["action"] for a in data["failed_actions"]] == ["configure", "pool-status"]


def test_build_report_as_json(tmp_path, mecpool, env):
    result = mecpool("build", "--site", str(REPO / "site.example.yaml"), "--build-dir", str(tmp_path / "b"),
                     "-o", "json")   # --build-dir, as the deploy commands say (or --out)
    data = json.loads(result.stdout)
    assert data["site"] == "simula-mec" and len(data["packages"]) == 4
    assert all(Path(p["path"]).is_file() and len(p["md5"]) == 32 for p in data["packages"])
    assert data["user_data"] and "site: simula-mec" in result.stderr
