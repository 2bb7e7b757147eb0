"""Day 0-2 as an OSM operator lives it (issue 12): tools in the venv, NS names, stale builds,
teardown --all, the security group for OSM's VCA, dry runs that fail like runs, one grammar
and error format, site errors with line numbers, group names in tables."""

import sys
from pathlib import Path

import yaml

from mecpool.deploy.names import ns_name_problem
from mecpool.deploy.openstack import find_openstack
from mecpool.site import load_site
from mecpool.site.buildinfo import stale_reason

from deploy_helpers import FAST, edit_site


def test_openstack_client_is_found_next_to_mecpool_without_path():
    venv_bin = Path(sys.executable).parent
    assert (venv_bin / "openstack").exists(), "the test venv has python-openstackclient"
    assert find_openstack({"PATH": "/nonexistent"}) == str(venv_bin / "openstack")


def test_ns_names_follow_osm_and_stay_in_build(fakes, mecpool, workdir):
    assert ns_name_problem("mec1") is None
    assert "starts with '-'" in ns_name_problem("--wait")
    assert "breaks OSM's rule" in ns_name_problem("a;b")
    assert "no spaces or '/'" in ns_name_problem("../../tmp/x y")
    result = mecpool("instantiate", "../../tmp/x y", "--site", "site.yaml", expect=2)
    assert "no spaces or '/'" in result.stderr
    result = mecpool("instantiate", "--site", "site.yaml", "--wait", expect=2)
    assert "missing the NS instance name" in result.stderr
    assert not (workdir / "build" / "deploy").exists() and fakes.records() == []
    mecpool("status", "a(b", expect=2)


def test_stale_build_is_refused_by_every_command_reading_it(fakes, mecpool, workdir):
    edit_site(workdir, lambda d: d["pool"]["pe_groups"].update(
        extra={"kind": "pmc", "vim": "haikou", "count": 1, "max_count": 2, "capacity": 1000,
               "load_increment": 0.5}))
    for args in (("onboard",), ("instantiate", "mec1"), ("scale-pe", "mec1", "--group", "extra", "--out"),
                 ("pool-status", "mec1")):
        for dry in ((), ("--dry-run",)):
            result = mecpool(*args, "--site", "site.yaml", *dry, expect=2)
            assert "stale build" in result.stderr and "run mecpool build --site site.yaml" in result.stderr
    assert fakes.records() == []


def test_stale_sources_are_named(tmp_path, built):
    site = load_site(Path(__file__).resolve().parents[2] / "site.example.yaml")
    sources = tmp_path / "src"
    (sources / "charms").mkdir(parents=True)
    (sources / "charms" / "x.py").write_text("a")
    from mecpool.site.buildinfo import write_build_info
    write_build_info(tmp_path, site, sources)
    assert stale_reason(tmp_path, site, "site.yaml", sources) is None
    (sources / "charms" / "x.py").write_text("b")
    assert "package sources" in stale_reason(tmp_path, site, "site.yaml", sources)
    (tmp_path / "build-info.json").unlink()
    assert "is missing" in stale_reason(tmp_path, site, "site.yaml", sources)


def test_teardown_all_removes_what_the_deployment_created(fakes, mecpool, workdir):
    mecpool("openstack-prepare", "--site", "site.yaml")
    mecpool("onboard", "--site", "site.yaml")
    mecpool("instantiate", "mec1", "--site", "site.yaml", "--wait", *FAST)
    config = workdir / "build" / "deploy" / "mec1" / "instantiate-config.yaml"
    assert config.exists()
    # a network that was there before openstack-prepare is used and kept
    fakes.reset_calls()
    result = mecpool("teardown", "mec1", "--site", "site.yaml", "--all", *FAST)
    assert "teardown --all of NS mec1 and site simula-mec: done" in result.stdout
    state = fakes.osm_state()
    assert state["nsrs"] == [] and state["vnfds"] == [] and state["nsds"] == [] and state["vims"] == []
    assert not config.parent.exists()
    for url, vim in fakes.openstack_state().items():
        assert vim["groups"] == [] and vim["flavors"] == [] and vim["images"] == [], url
        assert [n["name"] for n in vim["networks"]] == ["mgmt"], url
    # a second run removes nothing without --force; with it, it finds nothing more and says so
    result = mecpool("teardown", "mec1", "--site", "site.yaml", "--all", *FAST, expect=2)
    assert "NS mec1 is not in OSM (its NS instances: none): teardown --all removed nothing" in result.stderr
    result = mecpool("teardown", "mec1", "--site", "site.yaml", "--all", "--force", *FAST)
    assert "NS mec1: not in OSM; --force" in result.stdout and "not onboarded" in result.stdout


def test_teardown_all_keeps_networks_and_accounts_it_did_not_make(fakes, mecpool, workdir):
    fakes.register_vims()  # accounts without the site's security group (made by someone else)
    mec = "https://mec.openstack.example.org:5000/v3"
    fakes.scenario({"openstack_seed": {mec: {"networks": {"mgmt": "192.168.100.0/24",
                                                           "nornet-simula-s1c": "192.168.247.0/24"}}}})
    result = mecpool("openstack-prepare", "--site", "site.yaml", "--vim", "mec", expect=1)
    assert "registered in OSM with security_groups None, not mecpool-simula-mec" in result.stderr
    assert "osm vim-update mec-openstack --config '{security_groups: mecpool-simula-mec}'" in result.stderr
    result = mecpool("teardown", "mec1", "--site", "site.yaml", "--all", "--force", *FAST)   # no NS: --force
    assert "VIM account mec-openstack kept" in result.stdout
    assert "network nornet-simula-s1c kept (not tagged mecpool-simula-mec" in result.stdout
    assert len(fakes.osm_state()["vims"]) == 6
    assert "nornet-simula-s1c" in [n["name"] for n in fakes.openstack_state()[mec]["networks"]]


def test_security_group_lets_the_vca_in(fakes, mecpool, workdir):
    edit_site(workdir, lambda d: d["vims"]["gjovik"].update(osm_sources=["10.0.0.5"]))
    # the site changed: openstack-prepare does not read build/, so it needs no rebuild
    mecpool("openstack-prepare", "--site", "site.yaml", "--vim", "gjovik")
    url = "https://gjovik.nornet.example.org:5000/v3"
    rules = {(r["protocol"], r["port_range_min"], r["remote_ip_prefix"])
             for r in fakes.openstack_state()[url]["rules"] if r["direction"] == "ingress"}
    assert {("tcp", 22, "10.0.0.5/32"), ("icmp", None, "10.0.0.5/32"), ("tcp", 22, "192.168.100.0/24"),
            ("icmp", None, "192.168.100.0/24")} <= rules


def test_dry_run_fails_like_the_run_and_prints_complete_commands(fakes, mecpool, workdir, env):
    env.setenv("OSM_HOSTNAME", "10.0.0.9")
    out = mecpool("openstack-prepare", "--site", "site.yaml", "--vim", "mec", "--dry-run").stdout
    assert "# OSM: 10.0.0.9 (OSM_HOSTNAME)" in out
    assert "--disk-format qcow2" in out and "qcow2|raw" not in out
    for var in ("OS_AUTH_URL", "OS_IDENTITY_API_VERSION", "OS_PROJECT_DOMAIN_NAME", "OS_REGION_NAME",
                "OS_USERNAME", "OS_USER_DOMAIN_NAME", "OS_PASSWORD='****'"):
        assert var in out
    (workdir / "images" / "focal-server-cloudimg-amd64.img").unlink()
    result = mecpool("openstack-prepare", "--site", "site.yaml", "--vim", "haikou", "--dry-run", expect=2)
    assert "images.focal.file:" in result.stderr
    env.delenv("MECPOOL_EPC_K")
    result = mecpool("instantiate", "mec1", "--site", "site.yaml", "--dry-run", expect=2)
    assert "epc.k: environment variable MECPOOL_EPC_K is not set" in result.stderr
    env.delenv("MECPOOL_PMC_PASSWORD")
    result = mecpool("teardown", "mec1", "--site", "site.yaml", "--all", "--dry-run", expect=2)
    assert "MECPOOL_PMC_PASSWORD is not set" in result.stderr
    assert fakes.calls() and all(is_read(argv) for argv in fakes.calls())   # openstack-prepare read, wrote nothing


READS = {"list", "show", "vim-list", "vim-show", "issue"}


def is_read(argv):
    words = [w for w in argv if not w.startswith("-")]
    return any(w in READS for w in words[:4])


def test_prepare_dry_run_reads_the_vim_and_prints_what_the_run_will_do(fakes, mecpool, workdir):
    mec = "https://mec.openstack.example.org:5000/v3"
    fakes.scenario({"openstack_seed": {mec: {"networks": {"mgmt": "192.168.100.0/24",
                                                           "nornet-simula-s1c": "192.168.247.0/24"}}}})
    out = mecpool("openstack-prepare", "--site", "site.yaml", "--vim", "mec", "--dry-run").stdout
    assert fakes.calls() and all(is_read(argv) for argv in fakes.calls())
    assert fakes.openstack_state()[mec]["flavors"] == [] and fakes.openstack_state()[mec]["groups"] == []
    # real values: the mgmt subnet's CIDR as the source of SSH and ICMP, no placeholder
    assert "# = management network mgmt: subnets 192.168.100.0/24" in out
    assert "--protocol tcp --dst-port 22:22 --remote-ip 192.168.100.0/24" in out and "<CIDR" not in out
    assert "# = network nornet-simula-s1c exists" in out and "network create nornet-simula-s1c" not in out
    shown = [line.split("$ openstack ", 1)[1].split("    #")[0] for line in out.splitlines()
             if line.startswith("$ openstack ")]
    # the run executes exactly the commands the dry run printed (the group by id instead of its name)
    fakes.reset_calls()
    mecpool("openstack-prepare", "--site", "site.yaml", "--vim", "mec")
    group_id = fakes.openstack_state()[mec]["groups"][0]["id"]
    import shlex
    # a network the run just created is then named by its ID (the dry run: by name)
    names = {n["id"]: n["name"] for n in fakes.openstack_state()[mec]["networks"]}
    ran = [" ".join(names.get(w, shlex.quote(w)) for w in argv).replace(group_id, "mecpool-simula-mec")
           for argv in fakes.calls("openstack") if not is_read(argv)]
    assert ran == shown and len(ran) > 10
    # and a second dry run has nothing left to do
    out = mecpool("openstack-prepare", "--site", "site.yaml", "--vim", "mec", "--dry-run").stdout
    assert "# = nothing to change" in out and "# 0 change(s) the run would make" in out


def test_teardown_all_keeps_the_flavors_of_another_site_on_the_same_cloud(fakes, mecpool, workdir):
    other = workdir / "other"
    other.mkdir()
    data = yaml.safe_load((workdir / "site.yaml").read_text())
    data["name"] = "other-site"
    for image in data["images"].values():
        image["file"] = str(workdir / image["file"])
    for vim in data["vims"].values():   # its own VIM accounts in OSM
        vim["osm_account"] = "other-" + vim["osm_account"]
    (other / "site.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    mecpool("openstack-prepare", "--site", "site.yaml", "--vim", "gjovik")
    mecpool("openstack-prepare", "--site", str(other / "site.yaml"), "--vim", "gjovik")
    url = "https://gjovik.nornet.example.org:5000/v3"
    assert sorted(f["name"] for f in fakes.openstack_state()[url]["flavors"]) == [
        "mecpool-other-site-pool-element", "mecpool-simula-mec-pool-element"]
    create = [c for c in fakes.calls("openstack") if c[:2] == ["flavor", "create"]]
    assert create[0][-4:-2] == ["--property", "mecpool:site=simula-mec"]
    mecpool("teardown", "mec1", "--site", "site.yaml", "--all", "--force", *FAST)
    assert [f["name"] for f in fakes.openstack_state()[url]["flavors"]] == ["mecpool-other-site-pool-element"]


def test_one_grammar_and_error_format(fakes, mecpool, workdir):
    for command in ("status", "teardown", "pool-status", "juju-status", "failed-actions", "scale-pe",
                    "instantiate"):
        assert "--site" in mecpool(command, "--help").stdout
    assert "Seconds to wait for OSM" in mecpool("teardown", "--help").stdout
    edit_site(workdir, lambda d: d["epc"].update(mcc=1))
    for args in (("onboard",), ("instantiate", "mec1"), ("openstack-prepare",)):
        result = mecpool(*args, "--site", "site.yaml", expect=2)
        assert result.stderr.startswith("mecpool: invalid site file site.yaml")
        assert "epc.mcc (line" in result.stderr and 'quoted string, e.g. "001"' in result.stderr


def test_site_mistakes_an_operator_makes(workdir):
    from mecpool.site import SiteError
    import pytest
    edit_site(workdir, lambda d: (d["pool"]["registrars"][0].update(address="10.101.0.1"),
                                  d["epc"]["addresses"]["spgwu"].update(sgi="10.254.1.1")))
    with pytest.raises(SiteError) as error:
        load_site(workdir / "site.yaml")
    text = str(error.value)
    assert "pool.registrars[0].address (line" in text and "is the gateway of vims.mec.pool_network" in text
    assert "epc.addresses.spgwu.sgi (line" in text and "is the gateway of networks.sgi" in text
    edit_site(workdir, lambda d: d["pool"]["pe_groups"]["mec"].pop("kind"))
    edit_site(workdir, lambda d: (d["pool"]["registrars"][0].update(address="10.101.0.10"),
                                  d["epc"]["addresses"]["spgwu"].update(sgi="10.254.1.203")))
    assert load_site(workdir / "site.yaml").pool.pe_groups["mec"].kind is None


def test_juju_status_without_a_way_to_the_vca_says_what_to_add(fakes, mecpool, workdir):
    result = mecpool("juju-status", "mec1", "--site", "site.yaml", expect=2)
    assert "the site file has no vca: section" in result.stderr and "controllers.yaml does not exist" \
        in result.stderr and "Traceback" not in result.stderr and "FileNotFoundError" not in result.stderr


def test_vca_cacert_is_read_relative_to_the_site_file(fakes, mecpool, workdir, env, tmp_path):
    site_dir = workdir / "conf"
    site_dir.mkdir()
    data = yaml.safe_load((workdir / "site.yaml").read_text())
    data["vca"] = {"endpoint": "10.0.0.5:17070", "password_env": "VCA_PW", "cacert_file": "ca.pem"}
    (site_dir / "site.yaml").write_text(yaml.safe_dump(data))
    env.setenv("VCA_PW", "vca-secret")
    from mecpool.deploy.cli import juju_connection
    (site_dir / "ca.pem").write_text("CERT")
    connection = juju_connection(load_site(site_dir / "site.yaml"), site_dir / "site.yaml", None)
    assert connection.cacert == "CERT" and connection.endpoint == "10.0.0.5:17070"


def test_status_names_members_by_group(fakes, mecpool):
    fakes.register_vims()
    mecpool("onboard", "--site", "site.yaml")
    mecpool("instantiate", "mec1", "--site", "site.yaml", "--wait", *FAST)
    out = mecpool("status", "mec1", "--site", "site.yaml").stdout
    assert "4 PE group mec (mec)" in out and "2 registrar pr-mec" in out and "1 EPC" in out


def scaled_ns(fakes, mecpool):
    """NS mec1 with PE group mec scaled out by one (two PE VDUs: count-index 0 with a charm, 1 without)."""
    fakes.register_vims()
    mecpool("onboard", "--site", "site.yaml")
    mecpool("instantiate", "mec1", "--site", "site.yaml", "--wait", *FAST)
    mecpool("scale-pe", "mec1", "--site", "site.yaml", "--group", "gjovik", "--out", "--wait", *FAST)


def test_pool_status_names_the_group_and_vdu_of_every_pe(fakes, mecpool):
    scaled_ns(fakes, mecpool)
    out = mecpool("pool-status", "mec1", "--site", "site.yaml").stdout
    rows = {line.split("│")[4].strip(): line.split("│")[5].strip() for line in out.splitlines()
            if line.count("│") > 8 and "CalcAppPool" in line}
    assert rows["10.101.0.100"] == "mec: mec1-4-pool-element-0"
    assert rows["10.101.0.101"] == "mec: mec1-4-pool-element-1 (scaled out)"   # the example's mec count is 2
    assert rows["10.103.0.100"] == "gjovik: mec1-6-pool-element-0"
    assert rows["10.103.0.101"] == "gjovik: mec1-6-pool-element-1 (scaled out)"
    assert len(rows) == 7


def test_pe_action_reaches_the_charmed_vdu_and_names_the_scaled_out_ones(fakes, mecpool):
    scaled_ns(fakes, mecpool)
    fakes.reset_calls()
    result = mecpool("pe-action", "mec1", "--site", "site.yaml", "--group", "gjovik", "reconfigure", "capacity=2000",
                     "load-increment=0.25", expect=3)   # not every intended PE VDU was reached
    out = result.stdout
    assert "reconfigure on PE group gjovik (member 6): 1 of 2 PE VDU(s) have a charm" in out
    assert "  reached: mec1-6-pool-element-0 (10.103.0.100): COMPLETED" in out
    assert "  not reached (scaled out: OSM Release EIGHT deployed no charm on it): mec1-6-pool-element-1 " \
           "(10.103.0.101)" in out
    assert "reconfigure reached 1 of 2 PE VDU(s) of group gjovik" in result.stderr
    actions = [c for c in fakes.calls("osm") if c[0] == "ns-action"]
    assert actions == [["ns-action", "mec1", "--vnf_name", "6", "--vdu_id", "pool-element", "--vdu_count", "0",
                        "--action_name", "reconfigure", "--params", "{capacity: 2000, load-increment: '0.25'}",
                        "--timeout", "1800", "--wait"]]
    op = [o for o in fakes.osm_state()["ops"] if o["lcmOperationType"] == "action"][-1]
    assert op["operationParams"]["primitive_params"] == {"capacity": 2000, "load-increment": "0.25"}
    # the fake refuses an action on the scaled-out VDU as LCM v8.0 does (no execution environment)
    import subprocess
    done = subprocess.run([str(fakes.bin / "osm"), "ns-action", "mec1", "--vnf_name", "6", "--vdu_id",
                           "pool-element", "--vdu_count", "1", "--action_name", "restart", "--wait"],
                          capture_output=True, text=True)
    assert done.returncode == 1 and "vdu_count_index=1 is not deployed" in done.stderr
    out = mecpool("pe-action", "mec1", "--site", "site.yaml", "--group", "haikou", "pe-status").stdout
    assert "1 of 1 PE VDU(s) have a charm" in out and "summary: running, registered" in out
    assert "not reached" not in out
    # one PE VDU, by count-index or by name: exit 0 when it is reached, 3 when it cannot be
    fakes.reset_calls()
    out = mecpool("pe-action", "mec1", "--site", "site.yaml", "--group", "gjovik", "--index", "0", "restart").stdout
    assert "1 of 1 PE VDU(s) have a charm" in out and "reached: mec1-6-pool-element-0" in out
    assert [c[c.index("--vdu_count") + 1] for c in fakes.calls("osm") if c[0] == "ns-action"] == ["0"]
    result = mecpool("pe-action", "mec1", "--site", "site.yaml", "--group", "gjovik", "--vdu",
                     "mec1-6-pool-element-1", "restart", expect=3)
    assert "restart reached 0 of 1 PE VDU(s) of group gjovik" in result.stderr
    result = mecpool("pe-action", "mec1", "--site", "site.yaml", "--group", "gjovik", "--index", "7", "restart",
                     expect=2)
    assert "--index 7: no such PE VDU in group gjovik (it has: mec1-6-pool-element-0 (index 0), " \
           "mec1-6-pool-element-1 (index 1))" in result.stderr


def test_pe_action_refuses_bad_input_before_any_call(fakes, mecpool):
    cases = [(("--group", "nope", "restart"), "--group: no PE group 'nope'"),
             (("--group", "mec", "reboot"), "no day-2 primitive 'reboot' (the VNFD offers: reconfigure, restart, "
                                            "pe-status)"),
             (("--group", "mec", "reconfigure", "capacity=lots"), "parameter 'capacity': 'lots' is not a whole"),
             (("--group", "mec", "reconfigure", "colour=red"), "parameter 'colour': reconfigure has no such"),
             (("--group", "mec", "restart", "now"), "parameter 'now': write KEY=VALUE")]
    for args, message in cases:
        for dry in ((), ("--dry-run",)):
            result = mecpool("pe-action", "mec1", "--site", "site.yaml", *args, *dry, expect=2)
            assert result.stderr.startswith("mecpool: ") and message in result.stderr, result.stderr
    assert fakes.records() == []
    out = mecpool("pe-action", "mec1", "--site", "site.yaml", "--group", "mec", "restart", "--dry-run").stdout
    assert "$ osm ns-action mec1 --vnf_name 4 --vdu_id pool-element --vdu_count 0 --action_name restart " \
           "--timeout 1800 --wait" in out
    assert "are not reached (scaled out" in out and fakes.records() == []


def test_scale_in_names_the_pe_vdu_it_removes(fakes, mecpool):
    scaled_ns(fakes, mecpool)
    out = mecpool("scale-pe", "mec1", "--site", "site.yaml", "--group", "gjovik", "--in", "--wait", *FAST).stdout
    assert "OSM removes the newest PE VDU of group gjovik: mec1-6-pool-element-1 (10.103.0.101)" in out
    assert "removed from PE group gjovik: mec1-6-pool-element-1 (10.103.0.101); 1 PE VDU(s) left" in out
