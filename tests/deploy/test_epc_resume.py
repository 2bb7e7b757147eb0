"""`mecpool epc-resume`: an EPC VDU's failed day 1 finished through OSM, one day-2 action per
remaining day-1 primitive (issue 20, item 4)."""

import pytest
import yaml

from mecpool.deploy import epcresume
from mecpool.deploy.errors import InputError
from mecpool.descriptors.primitives import CHARMS

FAST = ("--poll-interval", "0")
OAI = ("oai-hss", "oai-mme", "oai-spgwc", "oai-spgwu")


@pytest.mark.parametrize("charm", OAI)
def test_every_day1_primitive_is_a_day2_primitive_with_the_same_parameters(charm):
    # osm ns-action refuses a primitive the VNFD does not declare as config-primitive:
    # the steps the docs and the charms send an operator to must be there.
    day2 = {p.name: p for p in CHARMS[charm].day2}
    for primitive in CHARMS[charm].day1:
        assert primitive.name in day2, primitive.name
        assert [p.name for p in day2[primitive.name].params] == [p.name for p in primitive.params]


def test_the_built_vnfd_offers_them(built):
    import tarfile
    with tarfile.open(str(built / "vnf-packages" / "oai-epc.tar.gz")) as archive:
        vnfd = yaml.safe_load(archive.extractfile("oai-epc/oai-epc_vnfd.yaml").read())
    for vdu in vnfd["vnfd:vnfd-catalog"]["vnfd"][0]["vdu"]:
        config = vdu["vdu-configuration"]
        day2 = {p["name"]: p for p in config["config-primitive"]}
        for primitive in config["initial-config-primitive"]:
            assert primitive["name"] in day2, (vdu["id"], primitive["name"])
        # day-2 parameters default to the instantiation's values (no secrets typed again)
        if vdu["id"] == "hss":
            defaults = {p["name"]: p["default-value"] for p in day2["configure"]["parameter"]}
            assert defaults["op"] == "<op>" and defaults["s6a-address"] == "<hss_s6a_address>"
            build = {p["name"]: p["default-value"] for p in day2["build"]["parameter"]}
            assert build["cassandra-apt"] == "<cassandra_apt>"


def test_plan_starts_at_the_first_occurrence_and_keeps_the_fixed_parameters():
    steps = epcresume.plan("mme", "configure")
    # build first: the day-1 wait-peer steps count their deadline from the last build
    assert [s.name for s in steps[:3]] == ["build", "configure", "wait-peer"]
    assert steps[2].params == {"step": "1/14"} and steps[-1].params == {"step": "14/14"}
    assert steps[1].params == {}          # OSM fills configure's from the instantiation
    assert [s.name for s in epcresume.plan("spgwc", "configure")] == ["configure"]
    assert steps[-1].seq == steps[-1].total == len(CHARMS["oai-mme"].day1)
    assert [s.name for s in epcresume.plan("hss", "wait-build")][:10] == ["wait-build"] * 10
    assert epcresume.plan("spgwc", None)[0].name == "build"
    with pytest.raises(InputError) as info:
        epcresume.plan("spgwc", "provision-subscribers")
    assert "--from: 'provision-subscribers' is not a day-1 primitive of the spgwc VDU (build, " \
           "wait-build, configure)" in str(info.value)


def test_the_failed_primitive_is_read_from_lcms_error():
    detail = ("Deploying VCA vnf 1 vdu mme: execute primitive 'wait-build' params '{}' "
              "Action wait-build failed: the build of 3bda02cd18a4 failed at step 1/2")
    assert epcresume.failed_primitive(detail, "mme") == "wait-build"
    assert epcresume.failed_primitive(detail, "spgwc") == "wait-build"
    assert epcresume.failed_primitive("timeout", "mme") is None
    two = detail + "; execute primitive 'configure' params '{}'"
    assert epcresume.failed_primitive(two, "mme") is None
    assert epcresume.failed_primitive("execute primitive 'provision-subscribers'", "mme") is None


def test_epc_resume_runs_the_remaining_steps_through_osm(fakes, mecpool):
    fakes.register_vims()
    mecpool("onboard", "--site", "site.yaml")
    mecpool("instantiate", "mec1", "--site", "site.yaml", "--wait", *FAST)
    fakes.reset_calls()
    out = mecpool("epc-resume", "mec1", "--site", "site.yaml", "--vdu", "spgwu", "--from", "configure").stdout
    actions = [c for c in fakes.calls("osm") if c[0] == "ns-action"]
    assert actions[0][:9] == ["ns-action", "mec1", "--vnf_name", "1", "--vdu_id", "spgwu", "--vdu_count", "0",
                              "--action_name"]
    assert [a[9] for a in actions[:2]] == ["build", "configure"]
    assert actions[1][-3:] == ["--timeout", "1800", "--wait"] and "--params" not in actions[1]
    assert actions[2][-5:] == ["--params", "{step: 1/10}", "--timeout", "1800", "--wait"]
    assert len(actions) == 12
    assert "spgwu: day 1 done" in out and "18/18 wait-peer {'step': '10/10'}: COMPLETED" in out


def test_epc_resume_refuses_bad_input_before_any_call(fakes, mecpool):
    result = mecpool("epc-resume", "mec1", "--site", "site.yaml", "--vdu", "hss", "--from", "reboot", expect=2)
    assert "--from: 'reboot' is not a day-1 primitive of the hss VDU" in result.stderr
    mecpool("epc-resume", "mec1", "--site", "site.yaml", "--vdu", "pgw", expect=2)
    assert fakes.records() == []
