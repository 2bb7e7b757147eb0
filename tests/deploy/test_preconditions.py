"""Issue 21, point 6: preconditions said with the step to run next, not as raw remote errors."""

import hashlib
import json

from deploy_constants import PMC_PASSWORD
from deploy_helpers import FAST


def test_day_two_on_an_ns_still_building_says_to_wait(fakes, mecpool):
    fakes.register_vims()
    mecpool("onboard", "--site", "site.yaml")
    fakes.scenario({"instantiate": {"polls": -1}})
    mecpool("instantiate", "mec1", "--site", "site.yaml")
    for args in (("scale-pe", "mec1", "--group", "gjovik", "--out"), ("pe-action", "mec1", "--group", "mec",
                                                                       "restart")):
        result = mecpool(*args, *FAST, expect=1)
        assert "NS mec1 is still being instantiated (INSTANTIATING): wait for it with mecpool instantiate mec1 " \
               "--wait" in result.stderr
    assert not [c for c in fakes.calls("osm") if c[0] in ("vnf-scale", "ns-action")]


def test_a_rejected_vim_password_names_osms_copy(fakes, mecpool):
    fakes.scenario({"rejected_passwords": [hashlib.sha256(PMC_PASSWORD.encode()).hexdigest()]})
    result = mecpool("openstack-prepare", "--site", "site.yaml", "--vim", "gjovik", expect=1)
    assert ("VIM gjovik: Keystone at https://gjovik.nornet.example.org:5000/v3 refused user osm in project mecpool "
            "(HTTP 401") in result.stderr
    assert "where vims.gjovik.openstack takes it" in result.stderr
    assert "osm vim-update pmc-gjovik --password <new>" in result.stderr
    assert PMC_PASSWORD not in result.stderr


def test_an_unreachable_osm_is_named(fakes, mecpool, env):
    fakes.scenario({"unreachable": True})
    result = mecpool("status", "mec1", "--hostname", "127.0.0.1", expect=1)
    assert "OSM at 127.0.0.1 (--hostname) did not answer osm version" in result.stderr
    assert "port 9999) is reachable" in result.stderr
    result = mecpool("status", "mec1", expect=1)
    assert "OSM at 127.0.0.1 (osmclient's default: OSM_HOSTNAME is not set)" in result.stderr


def test_day_two_on_a_broken_ns_goes_on_with_a_warning_as_release_eight_allows(fakes, mecpool):
    """An EPC VDU's build that could not fetch its sources leaves the NS BROKEN after RO made every VDU.
    OSM R8 still takes actions and scaling on it (NBI checks only _admin.nsState, LCM not nsState): the
    pool's day 2 goes on, with a warning naming OSM's error and how to finish the EPC."""
    fakes.register_vims()
    mecpool("onboard", "--site", "site.yaml")
    detail = "hss: build: the apt source https://debian.cassandra.apache.org did not answer"
    fakes.scenario({"instantiate": {"result": "FAILED", "deployed": True, "detail": detail}})
    mecpool("instantiate", "mec1", "--site", "site.yaml", "--wait", *FAST, expect=1)
    assert fakes.osm_state()["nsrs"][0]["nsState"] == "BROKEN"
    result = mecpool("pool-status", "mec1", "-o", "json", *FAST)
    assert json.loads(result.stdout)["registrars"]          # stdout stays JSON
    assert f"warning: NS mec1 is BROKEN ({detail}); day 2 goes on" in result.stderr
    assert "mecpool epc-resume mec1 --vdu <vdu>" in result.stderr
    result = mecpool("pe-action", "mec1", "--group", "haikou", "pe-status", *FAST)
    assert "1 of 1 PE VDU(s) have a charm" in result.stdout and "is BROKEN" in result.stderr
    mecpool("scale-pe", "mec1", "--group", "gjovik", "--out", "--wait", *FAST)
    assert [c[0] for c in fakes.calls("osm")].count("vnf-scale") == 1
    # LCM cleared the error fields at the end of those operations, the scale the detailed-status too
    result = mecpool("pe-action", "mec1", "--group", "haikou", "pe-status", *FAST)
    assert "is BROKEN (OSM's record no longer says why: a later operation cleared it)" in result.stderr


def test_day_two_on_an_ns_osm_never_instantiated_is_refused(fakes, mecpool):
    fakes.register_vims()
    mecpool("onboard", "--site", "site.yaml")
    fakes.scenario({"instantiate": {"polls": -1}})
    mecpool("instantiate", "mec1", "--site", "site.yaml")
    state_file = fakes.state / "osm.json"
    state = json.loads(state_file.read_text())
    # LCM failed before it set _admin.nsState (e.g. it could not read the NSD): NBI refuses day 2 then
    state["nsrs"][0].update({"nsState": "BROKEN", "currentOperation": "IDLE"})
    state["nsrs"][0]["_admin"]["nsState"] = "NOT_INSTANTIATED"
    state_file.write_text(json.dumps(state))
    fakes.reset_calls()
    result = mecpool("pe-action", "mec1", "--group", "haikou", "pe-status", *FAST, expect=1)
    assert "NS mec1 is BROKEN and OSM never instantiated it: see why with mecpool status mec1" in result.stderr
    assert not [c for c in fakes.calls("osm") if c[0] == "ns-action"]
