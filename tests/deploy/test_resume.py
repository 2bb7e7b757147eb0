"""Issue 21, points 2 and 3: a wait survives a failed poll, Ctrl-C says what runs and how to resume,
instantiate on an NS of the same site resumes it to the site's counts, status flags a group below its
count; an NS is tied to its site file and build."""

import shutil

from deploy_helpers import FAST, edit_site


def deployed(fakes, mecpool, **scenario):
    fakes.register_vims()
    mecpool("onboard", "--site", "site.yaml")
    fakes.scenario(scenario)
    fakes.reset_calls()


def pe_count(fakes, member):
    return sum(len(v["vdur"]) for v in fakes.osm_state()["vnfrs"] if v["member-vnf-index-ref"] == member)


def mec_member(fakes):
    from mecpool.descriptors import PE_GROUP, member_for
    return member_for(fakes.site, PE_GROUP, "mec").index


def test_one_failed_poll_does_not_end_the_wait(fakes, mecpool):
    deployed(fakes, mecpool, failed_polls=1, instantiate={"polls": 2})
    out = mecpool("instantiate", "mec1", "--site", "site.yaml", "--wait", *FAST).stdout
    assert "a poll of OSM failed (ERROR: (7, 'Failed to connect to 127.0.0.1 port 9999" in out
    assert "retrying (1 of 5)" in out and "NS mec1 is ready" in out
    assert pe_count(fakes, mec_member(fakes)) == 2


def test_an_nbi_that_stays_away_ends_the_wait_with_how_to_go_on(fakes, mecpool):
    deployed(fakes, mecpool, failed_polls=50, instantiate={"polls": 2})
    result = mecpool("instantiate", "mec1", "--site", "site.yaml", "--wait", *FAST, expect=1)
    assert "OSM did not answer 6 poll(s) in a row" in result.stderr
    assert "To go on:\n  $ mecpool instantiate mec1 --site site.yaml --wait" in result.stderr


def test_ctrl_c_says_what_runs_and_instantiate_resumes(fakes, mecpool):
    deployed(fakes, mecpool, instantiate={"polls": 3})
    import mecpool.deploy.wait as wait

    class CtrlC:
        """time.sleep of the wait module: the operator presses Ctrl-C at the first pause."""
        sleep = staticmethod(lambda _seconds: (_ for _ in ()).throw(KeyboardInterrupt()))
        monotonic = staticmethod(wait.time.monotonic)
    real, wait.time = wait.time, CtrlC
    try:
        result = mecpool("instantiate", "mec1", "--site", "site.yaml", "--wait", *FAST, expect=130)
    finally:
        wait.time = real
    assert "interrupted while waiting for instantiate mec1: OSM goes on with it" in result.stderr
    assert "nothing was cancelled" in result.stderr and "Aborted!" not in result.stderr
    assert "To go on:\n  $ mecpool instantiate mec1 --site site.yaml --wait" in result.stderr
    # status (no --site: the NS's recorded site) flags the group below its count
    out = mecpool("status", "mec1").stdout
    assert "! PE group mec has 1 PE VDU(s), the site says count 2" in out
    assert "mecpool instantiate mec1 --site " in out
    out = mecpool("instantiate", "mec1", "--site", "site.yaml", "--wait", *FAST).stdout
    assert "NS mec1 exists (instantiated from" in out and "resuming" in out
    assert [c[0] for c in fakes.calls("osm")].count("ns-create") == 1
    assert pe_count(fakes, mec_member(fakes)) == 2
    assert "! PE group" not in mecpool("status", "mec1").stdout


def test_an_ns_is_tied_to_its_site(fakes, mecpool, workdir, env):
    deployed(fakes, mecpool)
    mecpool("instantiate", "mec1", "--site", "site.yaml", "--wait", *FAST)
    record = workdir / "build" / "deploy" / "mec1" / "ns.json"
    assert record.is_file()
    # another lab's directory with its own site.yaml: status of mec1 uses mec1's site, not that one
    other = workdir / "other-lab"
    other.mkdir()
    shutil.copy(workdir / "site.yaml", other / "site.yaml")
    edit_site(other, lambda d: d.update(name="other-lab"))
    env.chdir(other)
    out = mecpool("status", "mec1").stdout
    assert "PE group mec (mec)" in out and "not of this NS" not in out
    result = mecpool("status", "mec1", "--site", "site.yaml", expect=2)
    assert f"NS mec1 was instantiated from {workdir / 'site.yaml'}" in result.stderr
    assert f"{other / 'site.yaml'} (site 'other-lab') is another site" in result.stderr
    # an NS that exists but was not made from this build is not resumed
    env.chdir(workdir)
    fakes.reset_calls()
    shutil.rmtree(workdir / "build" / "deploy" / "mec1")
    env.setenv("XDG_DATA_HOME", str(workdir / "empty-index"))
    result = mecpool("instantiate", "mec1", "--site", "site.yaml", expect=1)
    assert "exists already and was not instantiated from this build" in result.stderr
    assert "ns-create" not in [c[0] for c in fakes.calls("osm")]
