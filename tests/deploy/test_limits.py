"""Issue 21, points 5 and 7: limits found before OSM and the VIM find them (pool subnets against
max_count, the projects' quotas, one NS per site), and every image file checked before the first upload."""

from deploy_helpers import FAST, edit_site

from mecpool.site import SiteError, load_site

MEC = "https://mec.openstack.example.org:5000/v3"
NOVA_DEFAULTS = {"maxTotalInstances": 10, "maxTotalCores": 20, "maxTotalRAMSize": 51200}


def writes(fakes):
    return [c for c in fakes.calls() if "create" in c or "delete" in c or c[0] == "vim-create"]


def test_a_pool_subnet_too_small_for_max_count_is_refused(fakes, mecpool, workdir):
    def small(d):
        d["vims"]["mec"]["pool_network"].update(subnet="10.101.0.0/29", gateway="10.101.0.1")
        d["pool"]["registrars"][0]["address"] = "10.101.0.2"
        d["pool"]["pe_groups"]["mec"]["max_count"] = 12
    edit_site(workdir, small)
    try:
        load_site(workdir / "site.yaml")
    except SiteError as error:
        message = str(error)
    else:
        raise AssertionError("a /29 for 13 pool members was accepted")
    assert "vims.mec.pool_network.subnet (line " in message
    assert ("10.101.0.0/29 leaves 4 addresses for VDUs (less network, broadcast, gateway and Neutron's DHCP port); "
            "the pool members on VIM mec need 13 at max_count (1 registrar(s), PE group mec: 12)") in message
    result = mecpool("openstack-prepare", "--site", "site.yaml", "--dry-run", expect=2)
    assert "10.101.0.0/29 leaves 4 addresses" in result.stderr
    assert fakes.records() == []


def test_quotas_are_read_before_the_first_write(fakes, mecpool):
    fakes.scenario({"limits": {MEC: NOVA_DEFAULTS}})
    result = mecpool("openstack-prepare", "--site", "site.yaml", expect=1)
    # mec: 4 EPC VDUs (16 vCPUs), 1 registrar (1), PE group mec at max_count 6 (12)
    assert ("VIM mec: vCPUs: the NS at max_count needs 29, the quota is 20 (raise it: openstack quota set "
            "--cores 29 mecpool)") in result.stderr
    assert "VIM mec: instances: the NS at max_count needs 11, the quota is 10" in result.stderr
    assert "nothing was changed" in result.stderr and writes(fakes) == []
    # quota enough, but most of it in use: a warning, and the run goes on
    fakes.scenario({"limits": {MEC: {"maxTotalCores": 40, "totalCoresUsed": 30}}})
    out = mecpool("openstack-prepare", "--site", "site.yaml", "--vim", "mec").stdout
    assert "! VIM mec: vCPUs: the NS at max_count needs 29, 10 of 40 are free now (30 in use)" in out


def test_a_second_ns_of_the_same_site_is_refused(fakes, mecpool):
    fakes.register_vims()
    mecpool("onboard", "--site", "site.yaml")
    mecpool("instantiate", "mec1", "--site", "site.yaml", "--wait", *FAST)
    fakes.reset_calls()
    result = mecpool("instantiate", "mec2", "--site", "site.yaml", expect=2)
    assert "NS mec1 of site simula-mec runs already" in result.stderr
    assert "the same fixed addresses (10.101.0.10, 10.106.0.10" in result.stderr
    assert "ns-create" not in [c[0] for c in fakes.calls("osm")]


def test_every_image_file_is_checked_before_the_first_upload(fakes, mecpool, workdir):
    (workdir / "images" / "focal-server-cloudimg-amd64.img").unlink()
    result = mecpool("openstack-prepare", "--site", "site.yaml", expect=2)
    assert "image files missing (nothing was uploaded)" in result.stderr
    assert "images.focal.file:" in result.stderr and "focal-server-cloudimg-amd64.img does not exist" in result.stderr
    assert "download https://cloud-images.ubuntu.com/focal/current/focal-server-cloudimg-amd64.img" in result.stderr
    assert writes(fakes) == []   # the bionic image (its file is there) was not uploaded either
