"""Issue 21, point 11: mecpool checks `osm version` (client and NBI) and refuses another major release."""


def test_another_osm_release_is_refused_before_any_other_call(fakes, mecpool):
    mecpool("onboard", "--site", "site.yaml")
    versions = [c["argv"] for c in fakes.records(with_version=True) if c["tool"] == "osm"]
    assert versions[0] == ["version"]
    fakes.scenario({"osm_version": {"server": "10.1.0 2021-06-18", "client": "8.0.1rc1"}})
    fakes.reset_calls()
    result = mecpool("status", "mec1", "--hostname", "127.0.0.1", expect=1)
    assert "OSM at 127.0.0.1 (--hostname): server 10.1.0 is not Release EIGHT" in result.stderr
    assert "mecpool drives OSM Release EIGHT (osmclient v8, NBI v8) only" in result.stderr
    assert [c["argv"] for c in fakes.records(with_version=True)] == [["--hostname", "127.0.0.1", "version"]]
    fakes.scenario({"osm_version": {"server": "8.0.4", "client": "9.1.2"}})
    result = mecpool("status", "mec1", expect=1)
    assert "client 9.1.2 is not Release EIGHT" in result.stderr
    fakes.scenario({"osm_version": {"server": "garbage", "client": "8.0.1"}})
    result = mecpool("status", "mec1", expect=1)
    assert "cannot tell OSM's release from `osm version`" in result.stderr
