"""Issue 21, point 6: preconditions said with the step to run next, not as raw remote errors."""

import hashlib

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
