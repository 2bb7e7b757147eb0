"""The whole workflow against the fake CLIs: exactly the calls a user would
type, and OSM's state after each step."""

import stat

import yaml

from deploy_constants import K, MEC_PASSWORD, OP, PMC_PASSWORD

FAST = ("--poll-interval", "0")


def osm_calls(fakes):
    return fakes.calls("osm")


def test_whole_workflow(fakes, mecpool, workdir):
    # Day 0: OpenStack and VIM registration -------------------------------------------------
    mecpool("openstack-prepare", "--site", "site.yaml")
    vim_creates = [c for c in osm_calls(fakes) if c[0] == "vim-create"]
    assert [c[c.index("--name") + 1] for c in vim_creates] == [
        "mec-openstack", "pmc-longyearbyen", "pmc-gjovik", "pmc-tromso", "pmc-haikou", "pmc-stavanger"]
    assert vim_creates[0] == [
        "vim-create", "--name", "mec-openstack", "--user", "osm", "--password", MEC_PASSWORD,
        "--auth_url", "https://mec.openstack.example.org:5000/v3", "--tenant", "mecpool",
        "--account_type", "openstack",
        "--config", "{project_domain_name: Default, region_name: RegionOne, security_groups: mecpool-simula-mec, "
                    "use_existing_flavors: true, user_domain_name: Default}"]
    assert vim_creates[1][vim_creates[1].index("--password") + 1] == PMC_PASSWORD
    # the VIM passwords reach openstack in its environment only
    import hashlib
    records = [r for r in fakes.records() if r["tool"] == "openstack"]
    assert all(MEC_PASSWORD not in " ".join(r["argv"]) for r in records)
    mec = [r for r in records if r["auth_url"] == "https://mec.openstack.example.org:5000/v3"]
    assert {r["password_sha256"] for r in mec} == {hashlib.sha256(MEC_PASSWORD.encode()).hexdigest()}

    # Onboarding: VNFs first, then the NS ---------------------------------------------------
    fakes.reset_calls()
    mecpool("onboard", "--site", "site.yaml")
    assert osm_calls(fakes) == [   # every package looked up (of another site? refused) before the first write
        ["nfpkg-list", "--filter", "id=oai-epc"], ["nfpkg-list", "--filter", "id=rsp-pool-element"],
        ["nfpkg-list", "--filter", "id=rsp-registrar"], ["nspkg-list", "--filter", "id=mec-offload"],
        ["nfpkg-create", "build/vnf-packages/oai-epc.tar.gz"],
        ["nfpkg-create", "build/vnf-packages/rsp-pool-element.tar.gz"],
        ["nfpkg-create", "build/vnf-packages/rsp-registrar.tar.gz"],
        ["nspkg-create", "build/ns-packages/mec-offload.tar.gz"],
    ]

    # Instantiation, wait, the scale-out of the MEC group (count 2) ------------------------
    fakes.reset_calls()
    result = mecpool("instantiate", "mec1", "--site", "site.yaml", "--wait", *FAST)
    config_file = "build/deploy/mec1/instantiate-config.yaml"
    assert config_file in result.stdout
    calls = osm_calls(fakes)
    # the name is free, the NS package and the VIM accounts are there, no other NS of the site runs
    assert calls[:4] == [["ns-list", "--filter", "name=mec1"], ["nspkg-list", "--filter", "id=mec-offload"],
                         ["vim-list"], ["ns-list"]]
    assert calls[4] == ["ns-create", "--ns_name", "mec1", "--nsd_name", "mec-offload", "--vim_account",
                        "mec-openstack", "--config_file", config_file]
    assert calls[5] == ["ns-op-list", "mec1"]
    state = fakes.osm_state()
    ops = {op["lcmOperationType"]: op["id"] for op in state["ops"]}
    scale_at = calls.index(["vnf-scale", "mec1", "4", "--scaling-group", "pe-scale", "--scale-out"])
    between = set(map(tuple, calls[6:scale_at]))   # the wait, then the PE groups' counts from the VNF records
    assert {c for c in between if c[0] == "ns-op-show"} == {("ns-op-show", ops["instantiate"], "--literal")}
    assert {c[0] for c in between} == {"ns-op-show", "vnf-list", "vnf-show"}
    assert set(map(tuple, calls[scale_at + 1:])) == {("ns-op-show", ops["scale"], "--literal")}
    assert [c for c in calls if c[0] == "vnf-scale"] == [
        ["vnf-scale", "mec1", "4", "--scaling-group", "pe-scale", "--scale-out"]]  # only mec has count > 1
    assert state["nsrs"][0]["nsState"] == "READY"
    pe_vdus = {v["member-vnf-index-ref"]: len(v["vdur"]) for v in state["vnfrs"] if v["vnfd-ref"] == "rsp-pool-element"}
    assert pe_vdus == {"4": 2, "5": 1, "6": 1, "7": 1, "8": 1}
    # the file holds the secrets, is private, and is what OSM got
    path = workdir / config_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = yaml.safe_load(path.read_text())
    epc_params = config["additionalParamsForVnf"][0]["additionalParams"]
    assert (epc_params["k"], epc_params["op"]) == (K, OP)
    placement = {v["member-vnf-index"]: v["vim_account"] for v in config["vnf"]}
    assert placement == {"1": "mec-openstack", "2": "mec-openstack", "3": "pmc-stavanger", "4": "mec-openstack",
                         "5": "pmc-longyearbyen", "6": "pmc-gjovik", "7": "pmc-tromso", "8": "pmc-haikou"}
    vims = {v["_id"]: v["name"] for v in state["vims"]}
    assert {v["member-vnf-index-ref"]: vims[v["vim-account-id"]] for v in state["vnfrs"]} == placement
    registrar = next(v for v in state["vnfrs"] if v["member-vnf-index-ref"] == "2")
    assert "10.101.0.10" in [i["ip-address"] for i in registrar["vdur"][0]["interfaces"]]

    # Day 2: one more MEC PE, waiting until it is registered --------------------------------
    fakes.reset_calls()
    fakes.scenario({"registration_delay": 2})
    result = mecpool("scale-pe", "mec1", "--site", "site.yaml", "--group", "mec", "--out", "--wait", *FAST)
    calls = osm_calls(fakes)
    pe4 = next(v["_id"] for v in fakes.osm_state()["vnfrs"] if v["member-vnf-index-ref"] == "4")
    action = ["ns-action", "mec1", "--vnf_name", "2", "--vdu_id", "registrar", "--action_name", "pool-status",
              "--wait"]
    assert calls[:4] == [["ns-show", "mec1", "--literal"], ["vnf-list", "--ns", "mec1"],
                         ["vnf-show", pe4, "--literal"], action]
    assert calls[5] == ["vnf-scale", "mec1", "4", "--scaling-group", "pe-scale", "--scale-out"]
    assert calls.count(action) == 4  # before, then until the new PE shows up (it registers on the 3rd read)
    assert "pool before the scale-out (6 PEs)" in result.stdout
    assert "pool after the scale-out (7 PEs)" in result.stdout

    # pool-status, scale-in, status ---------------------------------------------------------
    fakes.reset_calls()
    result = mecpool("pool-status", "mec1", "--site", "site.yaml")
    assert osm_calls(fakes)[0] == action
    assert "7 PE address(es)" in result.stdout
    fakes.reset_calls()
    mecpool("scale-pe", "mec1", "--site", "site.yaml", "--group", "mec", "--in", "--wait", *FAST)
    assert ["vnf-scale", "mec1", "4", "--scaling-group", "pe-scale", "--scale-in"] in osm_calls(fakes)
    assert len(next(v for v in fakes.osm_state()["vnfrs"] if v["member-vnf-index-ref"] == "4")["vdur"]) == 2
    result = mecpool("status", "mec1")
    assert "READY" in result.stdout and "pmc-haikou" in result.stdout and "10.101.0.10" in result.stdout

    # Teardown ------------------------------------------------------------------------------
    fakes.reset_calls()
    mecpool("teardown", "mec1", "--wait", *FAST)
    calls = osm_calls(fakes)
    assert calls[:2] == [["ns-show", "mec1", "--literal"], ["ns-delete", "mec1"]]
    assert set(map(tuple, calls[2:])) == {("ns-op-list", "mec1")}
    assert fakes.osm_state()["nsrs"] == []


def test_onboard_twice_updates_without_duplicates(fakes, mecpool):
    mecpool("onboard", "--site", "site.yaml")
    first = fakes.osm_state()
    ids = {v["id"]: v["_id"] for v in first["vnfds"]}
    fakes.reset_calls()
    mecpool("onboard", "--site", "site.yaml")
    state = fakes.osm_state()
    assert sorted(v["id"] for v in state["vnfds"]) == ["oai-epc", "rsp-pool-element", "rsp-registrar"]
    assert [n["id"] for n in state["nsds"]] == ["mec-offload"]
    calls = fakes.calls("osm")
    assert ["nfpkg-update", ids["oai-epc"], "--content", "build/vnf-packages/oai-epc.tar.gz"] in calls
    assert ["nspkg-update", state["nsds"][0]["_id"], "--content", "build/ns-packages/mec-offload.tar.gz"] in calls
    assert not [c for c in calls if c[0].endswith("-create") or c[0].endswith("-delete")]


def test_dry_runs_change_nothing(fakes, mecpool):
    """Dry runs call nothing, except openstack-prepare's, which reads the VIMs and OSM as its run does
    (lists and shows only) to print the exact writes."""
    import os
    from pathlib import Path
    (Path(os.environ["JUJU_DATA"]) / "controllers.yaml").write_text("controllers: {}\n")
    outputs = {}
    for args in (("openstack-prepare", "--site", "site.yaml"), ("onboard", "--site", "site.yaml"),
                 ("instantiate", "mec1", "--site", "site.yaml", "--wait"),
                 ("scale-pe", "mec1", "--site", "site.yaml", "--group", "mec", "--out", "--wait"),
                 ("pool-status", "mec1", "--site", "site.yaml"), ("status", "mec1"),
                 ("teardown", "mec1", "--wait"), ("juju-status", "mec1"), ("failed-actions", "mec1"),
                 ("teardown", "mec1", "--all", "--site", "site.yaml")):
        outputs[" ".join(args[:1] + (("--all",) if "--all" in args else ()))] = mecpool(*args, "--dry-run").stdout
        if args[0] == "openstack-prepare":
            reads = fakes.calls()
            assert reads and all(c[0] == "vim-list" or "list" in c[:3] or c[:2] in (["limits", "show"], ["token", "issue"])
                                 for c in reads), reads
            fakes.reset_calls()
    assert fakes.records() == []
    osm = fakes.osm_state()
    assert all(osm[key] == [] for key in ("vims", "vnfds", "nsds", "nsrs", "ops"))
    assert "osm vim-create --name mec-openstack --user osm --password '****'" in outputs["openstack-prepare"]
    assert ("openstack --insecure" not in outputs["openstack-prepare"]
            and "security group rule create mecpool-simula-mec --ingress --ethertype IPv4 --protocol sctp "
                "--dst-port 36412:36412 --remote-ip 0.0.0.0/0" in outputs["openstack-prepare"])
    assert ("osm ns-create --ns_name mec1 --nsd_name mec-offload --vim_account mec-openstack --config_file "
            "build/deploy/mec1/instantiate-config.yaml") in outputs["instantiate"]
    assert "'**REDACTED**'" in outputs["instantiate"]
    assert not (fakes.state.parent / "build" / "deploy").exists()
    assert "osm vnf-scale mec1 4 --scaling-group pe-scale --scale-out" in outputs["scale-pe"]
    assert "osm ns-delete mec1" in outputs["teardown"]
    assert "osm nfpkg-create build/vnf-packages/oai-epc.tar.gz" in outputs["onboard"]
    assert "osm nspkg-delete '<_id of mec-offload>'" in outputs["teardown --all"]
    assert "openstack security group delete '<id of mecpool-simula-mec>'" in outputs["teardown --all"]
    assert "osm vim-delete pmc-haikou" in outputs["teardown --all"]
