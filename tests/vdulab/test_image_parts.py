"""The VDU lab's parts: config drive (read back with a real ISO reader), Nova's meta_data /
network_data shapes, the QEMU command line, the image and mirror cache keys, overlays.
Building the image and booting VMs from it is the VDU lab's job (test_vdu_lab.py)."""

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mecpool.vdulab import configdrive, image, mirror, qemu
from mecpool.vdulab.configdrive import Nic, nova_meta_data, nova_network_data, write_config_drive

MAC1, MAC2 = "FA:16:3E:00:00:01", "fa:16:3e:00:00:02"


def need(tool, package):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} missing (Debian package {package}; scripts/install-deps.sh)")


def iso_read(iso, path):
    return subprocess.run(["isoinfo", "-R", "-i", str(iso), "-x", path], check=True,
                          capture_output=True).stdout


def fake_image(tmp_path, mirror_url="http://10.0.0.1/"):
    disk = tmp_path / "disk.raw"
    with open(disk, "wb") as f:
        f.truncate(64 << 20)
    for name in ("vmlinuz", "initrd.img", "dpkg-status"):
        (tmp_path / name).write_text(name)
    return image.LabImage(disk=disk, kernel=tmp_path / "vmlinuz", initrd=tmp_path / "initrd.img",
                          cmdline=image.CMDLINE, release="trixie", key="k" * 64,
                          kernel_version="6.12.0-test-amd64", dpkg_status=tmp_path / "dpkg-status",
                          mirror_url=mirror_url)


def spec_for(tmp_path, nics=(("tap1", "fa:16:3e:00:00:01"), ("tap2", "fa:16:3e:00:00:02")), **kw):
    img = fake_image(tmp_path)
    args = dict(name="pe,1", image=img, overlay=tmp_path / "disk.qcow2", disk_gb=4, memory_mb=768,
                vcpus=2, config_drive=tmp_path / "disk.config", nics=tuple(nics),
                serial_log=tmp_path / "serial.log", pidfile=tmp_path / "qemu.pid",
                qmp_socket=tmp_path / "qmp.sock", accel="tcg")
    args.update(kw)
    return qemu.VmSpec(**args)


# --- network_data.json ----------------------------------------------------------------------

def test_network_data_dhcp_port_is_ipv4_dhcp_with_link_and_services():
    nd = nova_network_data([Nic(mac=MAC1, network_name="mgmt", network_id="net-1", address="10.0.0.5",
                                dns=("10.0.0.2", "10.0.0.3"), port_id="0123456789ab-cdef")])
    assert nd["links"] == [{"id": "tap0123456789a", "vif_id": "0123456789ab-cdef", "type": "ovs",
                            "mtu": 1500, "ethernet_mac_address": MAC1.lower()}]
    assert nd["networks"] == [{"id": "network0", "type": "ipv4_dhcp", "link": "tap0123456789a",
                               "network_id": "net-1"}]
    assert nd["services"] == [{"type": "dns", "address": "10.0.0.2"}, {"type": "dns", "address": "10.0.0.3"}]


def test_network_data_static_port_has_address_netmask_routes_and_its_dns():
    nic = Nic(mac=MAC2, network_name="pool", network_id="net-2", address="10.1.0.5", prefix=26,
              gateway="10.1.0.1", dhcp=False, mtu=1450, dns=("10.1.0.2",),
              routes=(("10.2.0.0/16", "10.1.0.254"),))
    (net,) = nova_network_data([nic])["networks"]
    assert net["type"] == "ipv4" and net["ip_address"] == "10.1.0.5"
    assert net["netmask"] == "255.255.255.192"
    assert net["routes"] == [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.1.0.1"},
                             {"network": "10.2.0.0", "netmask": "255.255.0.0", "gateway": "10.1.0.254"}]
    assert net["services"] == [{"type": "dns", "address": "10.1.0.2"}]
    assert nova_network_data([nic])["links"][0]["mtu"] == 1450


def test_network_data_numbers_networks_skips_portless_addresses_and_dedups_dns():
    nics = [Nic(mac=MAC1, network_name="a", network_id="a", address="10.0.0.5", dns=("10.0.0.2",)),
            Nic(mac="fa:16:3e:00:00:03", network_name="b", network_id="b", address=None),
            Nic(mac=MAC2, network_name="c", network_id="c", address="10.2.0.5", dns=("10.0.0.2",),
                vif_type="macvtap")]
    nd = nova_network_data(nics)
    assert [n["id"] for n in nd["networks"]] == ["network0", "network1"]
    assert [link["ethernet_mac_address"] for link in nd["links"]] == [MAC1.lower(), MAC2]
    assert nd["links"][1]["type"] == "phy"    # not one of Nova's legacy exposed vif types
    assert nd["services"] == [{"type": "dns", "address": "10.0.0.2"}]
    # Port ids are stable per MAC, and the link id is Nova's tap name for the port.
    assert nd["links"][0]["id"] == ("tap" + nd["links"][0]["vif_id"])[:14]
    assert nova_network_data(nics) == nd


# --- meta_data.json and the drive ------------------------------------------------------------

def test_meta_data_has_novas_keys():
    md = nova_meta_data("5d1e0c1a-0000-4000-8000-000000000001", "MEC PE_1", {"n2vc": "ssh-rsa AAA n2vc"},
                        project_id="p1")
    assert md["uuid"] == "5d1e0c1a-0000-4000-8000-000000000001"
    assert md["hostname"] == "mec-pe-1.novalocal" and md["name"] == "MEC PE_1"
    assert md["public_keys"] == {"n2vc": "ssh-rsa AAA n2vc"}
    assert md["keys"] == [{"name": "n2vc", "type": "ssh", "data": "ssh-rsa AAA n2vc"}]
    assert md["availability_zone"] == "nova" and md["launch_index"] == 0 and md["devices"] == []
    assert md["project_id"] == "p1" and len(md["random_seed"]) > 600
    assert "meta" not in md
    assert "public_keys" not in nova_meta_data("u", "x")


def test_drive_files_follow_novas_versions():
    files = configdrive.drive_files({"uuid": "u", "random_seed": "r", "project_id": "p", "devices": []},
                                    {"links": []}, b"#cloud-config\n")
    for version in configdrive.OPENSTACK_VERSIONS + ("latest",):
        assert f"openstack/{version}/meta_data.json" in files
        assert files[f"openstack/{version}/user_data"] == b"#cloud-config\n"
    assert "openstack/2013-04-04/vendor_data.json" not in files
    assert "openstack/2013-10-17/network_data.json" not in files
    assert "openstack/2016-06-30/vendor_data2.json" not in files
    assert json.loads(files["openstack/2012-08-10/meta_data.json"]) == {"uuid": "u"}
    assert "devices" not in json.loads(files["openstack/2015-10-15/meta_data.json"])
    assert json.loads(files["openstack/latest/meta_data.json"])["devices"] == []
    assert files["openstack/latest/network_data.json"] == files["openstack/2018-08-27/network_data.json"]


def test_config_drive_reads_back_with_isoinfo(tmp_path):
    need("genisoimage", "genisoimage")
    need("isoinfo", "genisoimage")
    md = nova_meta_data("u-1", "pr-mec", {"k": "ssh-ed25519 AAAA k"})
    nd = nova_network_data([Nic(mac=MAC1, network_name="m", network_id="n", address="10.0.0.9")])
    user_data = b"#cloud-config\npackages: [rsplib-tools]\n\xff binary ok"
    iso = write_config_drive(tmp_path / "disk.config", md, nd, user_data, vendor_data={"v": 1})
    info = subprocess.run(["isoinfo", "-d", "-i", str(iso)], check=True, capture_output=True, text=True)
    assert "Volume id: config-2" in info.stdout
    for version in ("latest", "2018-08-27"):
        assert json.loads(iso_read(iso, f"/openstack/{version}/meta_data.json")) == md
        assert json.loads(iso_read(iso, f"/openstack/{version}/network_data.json")) == nd
        assert json.loads(iso_read(iso, f"/openstack/{version}/vendor_data.json")) == {"v": 1}
        assert iso_read(iso, f"/openstack/{version}/user_data") == user_data
    assert not (tmp_path / "disk.config.part").exists()


# --- QEMU ----------------------------------------------------------------------------------

def test_qemu_argv_places_nics_from_slot_3_then_the_disk(tmp_path):
    argv = qemu.qemu_argv(spec_for(tmp_path))
    devices = [argv[i + 1] for i, a in enumerate(argv) if a == "-device"]
    assert devices[0].startswith("virtio-net-pci,netdev=hostnet0,id=net0,mac=fa:16:3e:00:00:01,")
    assert devices[0].endswith("addr=0x3") and devices[1].endswith("addr=0x4")
    assert devices[2].startswith("virtio-blk-pci,") and "addr=0x5" in devices[2]
    assert devices[3] == "ide-cd,bus=ide.1,unit=1,drive=drive-ide0-1-1,id=ide0-1-1"
    assert "tap,id=hostnet0,ifname=tap1,script=no,downscript=no" in argv
    assert any(a.startswith("file=") and "readonly=on,media=cdrom" in a for a in argv)


def test_qemu_argv_tcg_kvm_and_the_rest(tmp_path):
    spec = spec_for(tmp_path)
    argv = qemu.qemu_argv(spec)
    assert argv[argv.index("-accel") + 1] == "tcg,thread=multi,tb-size=256"
    assert argv[argv.index("-cpu") + 1] == "max"
    assert argv[argv.index("-smp") + 1] == "2,sockets=2,cores=1,threads=1"
    assert argv[argv.index("-m") + 1] == "768"
    assert argv[argv.index("-append") + 1] == image.CMDLINE
    assert "-no-reboot" in argv and argv[argv.index("-display") + 1] == "none"
    assert "product=OpenStack Nova" in argv[argv.index("-smbios") + 1]
    assert argv[argv.index("-uuid") + 1] == spec.uuid
    assert argv[argv.index("-name") + 1] == "guest=pe,,1,debug-threads=on"   # commas doubled
    assert argv[argv.index("-qmp") + 1] == f"unix:{tmp_path}/qmp.sock,server=on,wait=off"
    kvm = qemu.qemu_argv(dataclasses.replace(spec, accel="kvm"))
    assert kvm[kvm.index("-cpu") + 1] == "host" and kvm[kvm.index("-accel") + 1] == "kvm"
    assert "tap,id=hostnet1,ifname=tap2,script=no,downscript=no,vhost=on" in kvm
    assert qemu.launch_argv(spec)[0] == "qemu-system-x86_64"
    wrapped = qemu.launch_argv(dataclasses.replace(spec, netns="lab"))
    assert wrapped[:4] == ["ip", "netns", "exec", "lab"] and wrapped[4:] == argv


def test_vm_uuid_is_stable_per_name_unless_given(tmp_path):
    assert spec_for(tmp_path).uuid == spec_for(tmp_path).uuid
    assert spec_for(tmp_path, uuid="abc").uuid == "abc"


def test_accel_can_be_forced(monkeypatch):
    monkeypatch.setenv("MECPOOL_VDULAB_ACCEL", "tcg")
    qemu.accel.cache_clear()
    try:
        assert qemu.accel() == "tcg"
    finally:
        qemu.accel.cache_clear()


def test_create_overlay_is_qcow2_backed_by_the_base(tmp_path):
    need("qemu-img", "qemu-utils")
    img = fake_image(tmp_path)
    path = qemu.create_overlay(img, tmp_path / "vm.qcow2", 3)
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(path)], check=True,
                                     capture_output=True, text=True).stdout)
    assert info["format"] == "qcow2" and info["virtual-size"] == 3 << 30
    assert info["backing-filename"] == str(img.disk) and info["backing-filename-format"] == "raw"
    with pytest.raises(image.VdulabError, match="smaller than the image"):
        qemu.create_overlay(dataclasses.replace(img, disk=_big_file(tmp_path)), tmp_path / "x.qcow2", 1)


def _big_file(tmp_path):
    path = tmp_path / "big.raw"
    with open(path, "wb") as f:
        f.truncate(2 << 30)
    return path


def test_stop_vm_of_a_vm_that_is_not_running(tmp_path):
    assert qemu.stop_vm(spec_for(tmp_path)) == "not running"


# --- cache keys and the cache ----------------------------------------------------------------

def test_image_key_changes_with_every_input():
    base = image.recipe("http://10.0.0.1:8080/")
    changed = {
        "release": "forky", "arch": "arm64", "archive": "http://mirror.example/debian",
        "packages": base.packages + ("vim",), "units": base.units[:1],
        "masked_generators": (), "files": base.files[1:], "cmdline": base.cmdline + " quiet",
        "mirror_url": "http://10.0.0.2:8080/", "format": "0",
    }
    assert set(changed) == {f.name for f in dataclasses.fields(image.ImageRecipe)}
    keys = {dataclasses.replace(base, **{name: value}).key for name, value in changed.items()}
    assert len(keys) == len(changed) and base.key not in keys
    assert image.recipe("http://10.0.0.1:8080/").key == base.key
    assert image.recipe("http://10.0.0.9:8080/").key != base.key   # the URL is in the sources file
    edited = tuple((p, t + "# edited\n" if p.endswith("datasource.cfg") else t) for p, t in base.files)
    assert dataclasses.replace(base, files=edited).key != base.key


def test_image_files_configure_cloud_init_like_ubuntus_images():
    files = image.image_files("http://10.0.0.1:8080/")
    cfg = "".join(text for path, text in files.items() if path.startswith("etc/cloud/cloud.cfg.d/"))
    assert "datasource_list: [ConfigDrive, None]" in cfg
    assert "name: ubuntu" in cfg and "NOPASSWD:ALL" in cfg and "lock_passwd: true" in cfg
    assert "renderers: [netplan]" in cfg and "preserve_sources_list: true" in cfg
    assert all(text.startswith("#") for path, text in files.items() if "cloud.cfg.d" in path)
    sources = files["etc/apt/sources.list.d/lab-mirror.sources"]
    assert "URIs: http://10.0.0.1:8080/\n" in sources and "Trusted: yes" in sources
    assert "Suites: trixie" in sources
    assert "LABEL=cloudimg-rootfs\t/\text4" in files["etc/fstab"]
    assert "root=LABEL=cloudimg-rootfs" in image.CMDLINE and "console=ttyS0" in image.CMDLINE


def test_mirror_key_depends_on_image_and_package_set(tmp_path):
    img = fake_image(tmp_path)
    key = mirror.mirror_key(img, ["rsplib-tools", "rsplib-registrar"])
    assert key == mirror.mirror_key(img, ["rsplib-registrar", "rsplib-tools", "rsplib-tools"])
    assert key != mirror.mirror_key(img, ["rsplib-registrar"])
    assert key != mirror.mirror_key(dataclasses.replace(img, key="j" * 64), ["rsplib-tools", "rsplib-registrar"])


def test_cached_image_is_loaded_and_half_built_ones_are_not(tmp_path):
    key = image.recipe("http://10.0.0.1/").key
    final = tmp_path / "images" / key
    final.mkdir(parents=True)
    img = fake_image(final)
    meta = {"disk": "disk.raw", "kernel": "vmlinuz", "initrd": "initrd.img", "cmdline": img.cmdline,
            "release": "trixie", "key": key, "kernel_version": img.kernel_version,
            "dpkg_status": "dpkg-status", "mirror_url": "http://10.0.0.1/"}
    (final / "image.json").write_text(json.dumps(meta))
    loaded = image.ensure_image(tmp_path, "http://10.0.0.1/", log=lambda m: pytest.fail(m))
    assert loaded.disk == final / "disk.raw" and loaded.key == key
    (final / "disk.raw").unlink()      # incomplete: not used (ensure_image would rebuild it)
    assert image._load(final) is None


def test_default_cache_root(monkeypatch, tmp_path):
    monkeypatch.setenv("MECPOOL_CACHE", str(tmp_path))
    assert image.default_cache_root() == tmp_path
    monkeypatch.delenv("MECPOOL_CACHE")
    assert image.default_cache_root() == Path.home() / ".cache" / "mecpool"


def test_missing_tool_names_its_package():
    with pytest.raises(image.VdulabError, match="install Debian package no-such-pkg"):
        image.require_tool("no-such-tool-vdulab", "no-such-pkg")
