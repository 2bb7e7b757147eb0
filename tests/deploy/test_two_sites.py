"""Issue 21, point 4: two sites on one OSM.  Onboarding never overwrites another site's packages;
teardown --all of an NS that is not there removes nothing without --force and reports only what it did."""

import json

from deploy_helpers import FAST


def writes(fakes):
    return [c for c in fakes.calls("osm") if c[0].endswith(("-update", "-create", "-delete"))]


def test_onboarding_refuses_packages_of_another_site(fakes, mecpool):
    mecpool("onboard", "--site", "site.yaml")
    # the same OSM now holds another site's build of the same package ids
    state = fakes.osm_state()
    for item in state["vnfds"][:2]:
        item["description"] = item["description"].replace("[mecpool site simula-mec]", "[mecpool site lab-b]")
    (fakes.state / "osm.json").write_text(json.dumps(state))
    fakes.reset_calls()
    result = mecpool("onboard", "--site", "site.yaml", expect=2)
    assert "OSM holds packages of another site under the same ids:" in result.stderr
    assert "(site lab-b, " in result.stderr and "its own OSM project (--project / OSM_PROJECT)" in result.stderr
    assert writes(fakes) == []
    # packages of this site are updated as before
    state["vnfds"] = [dict(i, description=i["description"].replace("lab-b", "simula-mec")) for i in state["vnfds"]]
    (fakes.state / "osm.json").write_text(json.dumps(state))
    out = mecpool("onboard", "--site", "site.yaml").stdout
    assert out.count("updated") == 4


def test_teardown_all_of_a_missing_ns_removes_nothing(fakes, mecpool):
    fakes.register_vims()
    mecpool("onboard", "--site", "site.yaml")
    mecpool("instantiate", "mec3", "--site", "site.yaml", "--wait", *FAST)
    fakes.reset_calls()
    result = mecpool("teardown", "mec-3", "--site", "site.yaml", "--all", *FAST, expect=2)
    assert "NS mec-3 is not in OSM (its NS instances: mec3): teardown --all removed nothing" in result.stderr
    assert "already deleted" not in result.stdout + result.stderr
    assert writes(fakes) == [] and not [c for c in fakes.calls("openstack") if "delete" in c]
    assert len(fakes.osm_state()["nsds"]) == 1
    # once mec3 is gone, --force removes the rest and does not claim an NS deletion it did not make
    mecpool("teardown", "mec3", "--wait", *FAST)
    result = mecpool("teardown", "mec3", "--site", "site.yaml", "--all", "--force", *FAST)
    assert "NS mec3 deleted" not in result.stdout and "not in OSM; --force" in result.stdout
    assert "package mec-offload deleted" in result.stdout and fakes.osm_state()["nsds"] == []


def test_teardown_all_leaves_another_sites_packages(fakes, mecpool):
    """Package ids are global: a package another site onboarded under our id is not ours to delete."""
    fakes.register_vims()
    mecpool("onboard", "--site", "site.yaml")
    state = fakes.osm_state()
    theirs = state["vnfds"][0]
    theirs["description"] = theirs["description"].replace("[mecpool site simula-mec]", "[mecpool site lab-b]")
    (fakes.state / "osm.json").write_text(json.dumps(state))
    result = mecpool("teardown", "mec3", "--site", "site.yaml", "--all", "--force", *FAST)
    assert "is site lab-b's: left in OSM" in result.stdout
    assert [v["id"] for v in fakes.osm_state()["vnfds"]] == [theirs["id"]]
    assert fakes.osm_state()["nsds"] == []
