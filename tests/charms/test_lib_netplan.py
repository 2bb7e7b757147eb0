import json
import os
import stat

import pytest
import yaml

import epc_fakes
from charmhelpers_mecpool import cloudmeta
from charmhelpers_mecpool.errors import NotFound, WaitTimeout
from charmhelpers_mecpool.netplan import Network, parse_ip_json, parse_ip_oneline

IP_JSON = json.dumps([
    {"ifname": "lo", "flags": ["LOOPBACK", "UP"], "address": "00:00:00:00:00:00",
     "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8}]},
    {"ifname": "ens3", "flags": ["BROADCAST", "UP", "LOWER_UP"], "address": "FA:16:3E:00:00:03",
     "addr_info": [{"family": "inet", "local": "10.0.0.5", "prefixlen": 24},
                   {"family": "inet6", "local": "fe80::1", "prefixlen": 64}]},
    {"ifname": "ens4", "flags": ["BROADCAST", "UP"], "address": "fa:16:3e:00:00:04",
     "addr_info": [{"family": "inet", "local": "172.16.6.129", "prefixlen": 24}]},
    {"ifname": "ens5", "flags": ["BROADCAST"], "address": "fa:16:3e:00:00:05", "addr_info": []},
])

IP_O_LINK = """1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT \\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
2: ens3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP \\    link/ether fa:16:3e:00:00:03 brd ff:ff:ff:ff:ff:ff
3: ens5: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN \\    link/ether fa:16:3e:00:00:05 brd ff:ff:ff:ff:ff:ff
"""
IP_O_ADDR = """1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: ens3    inet 10.0.0.5/24 brd 10.0.0.255 scope global dynamic ens3\\       valid_lft 85000sec
"""


def test_parse_ip_json():
    links = parse_ip_json(IP_JSON)
    assert links[1] == {"ifname": "ens3", "mac": "fa:16:3e:00:00:03",
                        "addresses": ["10.0.0.5/24"], "up": True}
    assert links[3]["up"] is False and links[3]["addresses"] == []


def test_parse_ip_oneline():
    links = parse_ip_oneline(IP_O_LINK, IP_O_ADDR)
    assert [(l["ifname"], l["mac"], l["addresses"], l["up"]) for l in links] == [
        ("lo", "00:00:00:00:00:00", ["127.0.0.1/8"], True),
        ("ens3", "fa:16:3e:00:00:03", ["10.0.0.5/24"], True),
        ("ens5", "fa:16:3e:00:00:05", [], False)]


def test_real_ip_json_of_this_host_parses():
    from charmhelpers_mecpool import process
    links = Network(run=process.run).interfaces()
    assert any(l["ifname"] == "lo" and "127.0.0.1/8" in l["addresses"] for l in links)


def test_lookup_by_address_and_mac():
    net = Network(run=epc_fakes.FakeRunner().on(["ip", "-j"], stdout=IP_JSON))
    assert net.interface_with_address("172.16.6.129") == "ens4"
    assert net.interface_by_mac("FA:16:3E:00:00:05") == "ens5"
    with pytest.raises(NotFound):
        net.interface_with_address("172.16.6.2")
    with pytest.raises(NotFound):
        net.interface_by_mac("fa:16:3e:99:99:99")


def test_falls_back_when_ip_json_is_broken():
    run = (epc_fakes.FakeRunner().on(["ip", "-j"], stdout="[{\"ifname\": broken")
           .on(["ip", "-o", "link"], stdout=IP_O_LINK).on(["ip", "-o", "-4"], stdout=IP_O_ADDR))
    assert Network(run=run).interface_with_address("10.0.0.5") == "ens3"
    assert run.argvs[1:] == [["ip", "-o", "link", "show"], ["ip", "-o", "-4", "addr", "show"]]


def test_netplan_static_and_dhcp(tmp_path):
    static = yaml.safe_load(Network.netplan_config("ens6", mac="FA:16:3E:00:00:06",
                                                   address="192.168.247.102/24", mtu=1500))
    assert static == {"network": {"version": 2, "ethernets": {"ens6": {
        "match": {"macaddress": "fa:16:3e:00:00:06"}, "set-name": "ens6",
        "dhcp4": False, "addresses": ["192.168.247.102/24"], "mtu": 1500}}}}
    dhcp = yaml.safe_load(Network.netplan_config("ens4", dhcp=True))
    assert dhcp["network"]["ethernets"]["ens4"] == {
        "dhcp4": True, "dhcp4-overrides": {"use-routes": False, "use-dns": False}}
    with pytest.raises(ValueError):
        Network.netplan_config("ens4")
    with pytest.raises(ValueError):
        Network.netplan_config("ens4", address="1.2.3.4/24", dhcp=True)


def test_configure_interface_applies_only_on_change(tmp_path):
    run = epc_fakes.FakeRunner()
    net = Network(run=run, netplan_dir=str(tmp_path))
    assert net.configure_interface("ens6", address="192.168.247.102/24") is True
    path = tmp_path / "60-mecpool-ens6.yaml"
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert run.argvs == [["netplan", "apply"]]
    assert net.configure_interface("ens6", address="192.168.247.102/24") is False
    assert run.argvs == [["netplan", "apply"]]


def test_ensure_address_present_needs_nothing(tmp_path):
    run = epc_fakes.FakeRunner().on(["ip", "-j"], stdout=IP_JSON)
    net = Network(run=run, netplan_dir=str(tmp_path))
    assert net.ensure_address("172.16.6.129") == "ens4"
    assert run.count(["netplan"]) == 0


def test_ensure_address_configures_the_port_the_cloud_names(tmp_path):
    state = {"applied": False}

    def ip_json(argv, kwargs):
        data = json.loads(IP_JSON)
        if state["applied"]:
            data[3]["addr_info"] = [{"family": "inet", "local": "192.168.247.102",
                                     "prefixlen": 24}]
        return 0, json.dumps(data), ""

    def apply(argv, kwargs):
        state["applied"] = True
        return 0, "", ""

    run = epc_fakes.FakeRunner().on(["ip", "-j"], handler=ip_json).on(["netplan"], handler=apply)
    clock = epc_fakes.FakeClock()
    net = Network(run=run, netplan_dir=str(tmp_path), sleep=clock.sleep, clock=clock)
    lookup = {"192.168.247.102": "fa:16:3e:00:00:05"}.get
    assert net.ensure_address("192.168.247.102", 24, mac_lookup=lookup) == "ens5"
    written = yaml.safe_load((tmp_path / "60-mecpool-ens5.yaml").read_text())
    assert written["network"]["ethernets"]["ens5"]["addresses"] == ["192.168.247.102/24"]


def test_ensure_address_times_out_or_reports_missing_port(tmp_path):
    run = epc_fakes.FakeRunner().on(["ip", "-j"], stdout=IP_JSON)
    clock = epc_fakes.FakeClock()
    net = Network(run=run, netplan_dir=str(tmp_path), sleep=clock.sleep, clock=clock)
    with pytest.raises(NotFound):
        net.ensure_address("192.168.247.102", 24)
    with pytest.raises(NotFound) as info:
        net.ensure_address("192.168.247.102", 24, mac_lookup=lambda a: None)
    assert "cloud names no port" in str(info.value)
    with pytest.raises(WaitTimeout) as info:
        net.ensure_address("192.168.247.102", 24, mac_lookup=lambda a: "fa:16:3e:00:00:05",
                           timeout=5)
    assert "within 5 s" in str(info.value) and clock.now >= 5


NETWORK_DATA = {
    "links": [{"id": "tap1", "type": "ovs", "ethernet_mac_address": "FA:16:3E:00:00:05"},
              {"id": "tap2", "type": "ovs", "ethernet_mac_address": "fa:16:3e:00:00:06"}],
    "networks": [{"id": "network0", "link": "tap1", "type": "ipv4",
                  "ip_address": "192.168.247.102", "netmask": "255.255.255.0"},
                 {"id": "network1", "link": "tap2", "type": "ipv4_dhcp"}],
}


def test_cloud_metadata_mac_lookup():
    assert cloudmeta.mac_for_address(NETWORK_DATA, "192.168.247.102") == "fa:16:3e:00:00:05"
    assert cloudmeta.mac_for_address(NETWORK_DATA, "10.9.9.9") is None
    lookup = cloudmeta.metadata_mac_lookup(fetch=lambda: NETWORK_DATA)
    assert lookup("192.168.247.102") == "fa:16:3e:00:00:05"

    def unreachable():
        raise OSError("no route to 169.254.169.254")
    assert cloudmeta.metadata_mac_lookup(fetch=unreachable)("192.168.247.102") is None


def test_fetch_network_data_uses_url_and_timeout():
    import io
    seen = {}

    class Response(io.BytesIO):
        pass

    def opener(url, timeout):
        seen.update(url=url, timeout=timeout)
        return Response(json.dumps(NETWORK_DATA).encode())
    assert cloudmeta.fetch_network_data(opener=opener) == NETWORK_DATA
    assert seen == {"url": cloudmeta.METADATA_URL, "timeout": 10}


def test_ensure_address_without_prefix_uses_dhcp_without_routes(tmp_path):
    state = {"applied": False}

    def ip_json(argv, kwargs):
        data = json.loads(IP_JSON)
        if state["applied"]:
            data[3]["addr_info"] = [{"family": "inet", "local": "172.16.1.102", "prefixlen": 24}]
        return 0, json.dumps(data), ""

    def apply(argv, kwargs):
        state["applied"] = True
        return 0, "", ""
    run = epc_fakes.FakeRunner().on(["ip", "-j"], handler=ip_json).on(["netplan"], handler=apply)
    clock = epc_fakes.FakeClock()
    net = Network(run=run, netplan_dir=str(tmp_path), sleep=clock.sleep, clock=clock)
    assert net.ensure_address("172.16.1.102", mac_lookup=lambda a: "fa:16:3e:00:00:05") == "ens5"
    entry = yaml.safe_load((tmp_path / "60-mecpool-ens5.yaml").read_text())
    assert entry["network"]["ethernets"]["ens5"] == {
        "match": {"macaddress": "fa:16:3e:00:00:05"}, "set-name": "ens5", "dhcp4": True,
        "dhcp4-overrides": {"use-routes": False, "use-dns": False}}


def test_bridge_for_internal_endpoints(tmp_path):
    run = epc_fakes.FakeRunner()
    net = Network(run=run, netplan_dir=str(tmp_path))
    assert net.ensure_bridge("s5s8-sgw", ["172.58.58.102/24"]) is True
    doc = yaml.safe_load((tmp_path / "60-mecpool-s5s8-sgw.yaml").read_text())
    assert doc == {"network": {"version": 2, "bridges": {"s5s8-sgw": {
        "interfaces": [], "dhcp4": False, "addresses": ["172.58.58.102/24"]}}}}
    assert net.ensure_bridge("s5s8-sgw", ["172.58.58.102/24"]) is False
    assert run.argvs == [["netplan", "apply"]]
    with pytest.raises(ValueError):
        net.ensure_bridge("a-name-that-is-too-long", ["10.0.0.1/24"])
