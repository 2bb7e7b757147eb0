"""Error paths: osm missing, osm failing, a FAILED operation, a timeout, the
scaling limits (refused before any call), bad instantiation parameters."""

import json


FAST = ("--poll-interval", "0")


def deployed(fakes, mecpool, **scenario):
    fakes.register_vims()  # openstack-prepare itself is tested in test_prepare / test_workflow
    mecpool("onboard", "--site", "site.yaml")
    fakes.scenario(scenario)
    fakes.reset_calls()


def test_osm_missing_says_how_to_install(fakes, mecpool, env, tmp_path):
    env.setenv("PATH", str(tmp_path))  # no osm anywhere
    result = mecpool("status", "mec1", expect=1)
    assert "osmclient is not on PyPI" in result.stderr and "apt" in result.stderr and "snap" in result.stderr
    env.setenv("OSM_CLI", "/nonexistent/osm")
    result = mecpool("status", "mec1", expect=1)
    assert "OSM_CLI=/nonexistent/osm is not an executable file" in result.stderr


def test_osm_failure_reports_command_exit_code_and_output_and_leaves_nothing(fakes, mecpool, workdir):
    deployed(fakes, mecpool, ns_create_error="failed to create ns: 503 NBI unavailable")
    result = mecpool("instantiate", "mec1", "--site", "site.yaml", expect=1)
    assert ("command failed (exit code 1): osm ns-create --ns_name mec1 --nsd_name mec-offload --vim_account "
            "mec-openstack --config_file build/deploy/mec1/instantiate-config.yaml") in result.stderr
    assert "stdout:\n  ERROR: failed to create ns: 503 NBI unavailable" in result.stderr
    assert not (workdir / "build" / "deploy" / "mec1").exists()   # the K/OP file went with the failure


def test_instantiate_before_onboard_or_prepare_names_the_step(fakes, mecpool, workdir):
    result = mecpool("instantiate", "mec1", "--site", "site.yaml", expect=2)
    assert "the NS package mec-offload is not onboarded in OSM: run mecpool onboard --site" in result.stderr
    mecpool("onboard", "--site", "site.yaml")   # no VIM account registered
    result = mecpool("instantiate", "mec1", "--site", "site.yaml", expect=2)
    assert "VIM account(s) mec-openstack, pmc-longyearbyen" in result.stderr
    assert "not registered in OSM: run mecpool openstack-prepare --site" in result.stderr
    assert not (workdir / "build" / "deploy").exists()
    assert "ns-create" not in [c[0] for c in fakes.calls("osm")]


def test_hostname_and_password_are_passed_through(fakes, mecpool):
    result = mecpool("status", "mec1", "--hostname", "10.0.0.9", "--password", "osm-secret", "--user", "ops",
                     expect=1)
    record = fakes.records()[0]
    assert record["argv"] == ["--hostname", "10.0.0.9", "--user", "ops", "ns-show", "mec1", "--literal"]
    assert record["osm_password_sha256"] == __import__("hashlib").sha256(b"osm-secret").hexdigest()
    assert "NS instance 'mec1' not found" in result.stderr and "osm-secret" not in result.stderr


def test_failed_instantiation_reports_osm_detail_and_undo(fakes, mecpool):
    detail = "FAILED Deploying at VIM: Error creating VM: Flavor mecpool-hss not found (HTTP 404)"
    deployed(fakes, mecpool, instantiate={"polls": 2, "result": "FAILED", "detail": detail})
    result = mecpool("instantiate", "mec1", "--site", "site.yaml", "--wait", *FAST, expect=1)
    assert "instantiate mec1 FAILED in OSM" in result.stderr and detail in result.stderr
    assert "Already done:" in result.stderr and "NS mec1 created" in result.stderr
    assert "$ mecpool teardown mec1 --wait" in result.stderr
    assert not [c for c in fakes.calls("osm") if c[0] == "vnf-scale"]


def test_timeout_says_osm_goes_on(fakes, mecpool):
    deployed(fakes, mecpool, instantiate={"polls": -1})
    result = mecpool("instantiate", "mec1", "--site", "site.yaml", "--wait", "--timeout", "1",
                     "--poll-interval", "0.2", expect=1)
    assert "still PROCESSING after 1 s (timeout)" in result.stderr and "osm ns-op-show" in result.stderr


def test_existing_ns_of_the_site_is_resumed_not_created_again(fakes, mecpool):
    deployed(fakes, mecpool)
    mecpool("instantiate", "mec1", "--site", "site.yaml")
    result = mecpool("instantiate", "mec1", "--site", "site.yaml", *FAST)
    assert "NS mec1 exists (instantiated from" in result.stdout
    assert [c[0] for c in fakes.calls("osm")].count("ns-create") == 1


def test_scaling_limits_are_refused_before_any_change(fakes, mecpool, workdir):
    deployed(fakes, mecpool)
    mecpool("instantiate", "mec1", "--site", "site.yaml", "--wait", *FAST)
    # gjovik: count 1, max_count 3
    mecpool("scale-pe", "mec1", "--site", "site.yaml", "--group", "gjovik", "--out", "--wait", *FAST)
    mecpool("scale-pe", "mec1", "--site", "site.yaml", "--group", "gjovik", "--out", "--wait", *FAST)
    fakes.reset_calls()
    result = mecpool("scale-pe", "mec1", "--site", "site.yaml", "--group", "gjovik", "--out", expect=1)
    assert "refused: PE group gjovik has 3 PE(s)" in result.stderr and "max_count is 3" in result.stderr
    assert not [c for c in fakes.calls("osm") if c[0] in ("vnf-scale", "ns-action")]
    result = mecpool("scale-pe", "mec1", "--site", "site.yaml", "--group", "tromso", "--in", expect=1)
    assert "refused: PE group tromso has 1 PE(s)" in result.stderr and "count (the floor) is 1" in result.stderr
    assert not [c for c in fakes.calls("osm") if c[0] == "vnf-scale"]
    result = mecpool("scale-pe", "mec1", "--site", "site.yaml", "--group", "nowhere", "--out", expect=2)
    assert "--group: no PE group 'nowhere'" in result.stderr


def test_shared_scale_counter_of_release_eight_is_checked(fakes, mecpool):
    """LCM R8 counts scale-outs per scaling-group name in the NS record (shared
    by every PE member): beyond the VNFD's max-instance-count it would fail."""
    deployed(fakes, mecpool)
    mecpool("instantiate", "mec1", "--site", "site.yaml", "--wait", *FAST)  # mec: 1 scale-out
    state = fakes.osm_state()
    # the VNFD's max-instance-count: the sum of every group's own steps (max_count - 1)
    limit = sum(g.max_count - 1 for g in fakes.site.pool.pe_groups.values())
    state["nsrs"][0]["_admin"]["scaling-group"][0]["nb-scale-op"] = limit
    (fakes.state / "osm.json").write_text(json.dumps(state))
    fakes.reset_calls()
    result = mecpool("scale-pe", "mec1", "--site", "site.yaml", "--group", "haikou", "--out", expect=1)
    assert f"OSM counts {limit} scale-out(s) of scaling group pe-scale" in result.stderr
    assert not [c for c in fakes.calls("osm") if c[0] == "vnf-scale"]


def test_failed_pool_status_action_reports_detail(fakes, mecpool):
    deployed(fakes, mecpool, **{"pool-status": {"result": "FAILED", "detail": "rsp-registrar is not running"}})
    mecpool("instantiate", "mec1", "--site", "site.yaml", "--wait", *FAST)
    result = mecpool("pool-status", "mec1", "--site", "site.yaml", expect=1)
    assert "pool-status action on member 2 failed: rsp-registrar is not running" in result.stderr


def test_missing_secret_stops_instantiate_before_any_call(fakes, mecpool, env):
    env.delenv("MECPOOL_EPC_OP")
    result = mecpool("instantiate", "mec1", "--site", "site.yaml", expect=2)
    assert "epc.op: environment variable MECPOOL_EPC_OP is not set" in result.stderr
    assert fakes.records() == []


def test_missing_packages_say_how_to_build(fakes, mecpool, workdir):
    import shutil
    shutil.rmtree(workdir / "build")
    result = mecpool("onboard", "--site", "site.yaml", expect=1)
    assert "mecpool build" in result.stderr


def test_a_failed_command_told_as_part_of_a_half_done_operation():
    # Found against the real stack: copy.copy of a CommandFailed called its __init__ with one argument.
    from mecpool.deploy.errors import CommandFailed
    told = CommandFailed("openstack flavor create x", 1, "403").with_progress(["mec: image y"], [])
    assert isinstance(told, CommandFailed) and told.returncode == 1
    assert told.report().startswith("command failed (exit code 1): openstack flavor create x")
    assert "Already done:\n  - mec: image y" in told.report()
