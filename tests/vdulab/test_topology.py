"""The lab's networks and VMs from the example site, and the DHCP config that
hands each port its address (no VM is booted here)."""

import ipaddress
from pathlib import Path

import pytest
import yaml

from mecpool.site import load_site
from mecpool.vdulab import network, topology

EXAMPLE = Path(__file__).resolve().parents[2] / "site.example.yaml"


@pytest.fixture(scope="module")
def site():
    return load_site(EXAMPLE)


@pytest.fixture(scope="module")
def lab(site):
    return topology.build_topology(site)


def test_networks_follow_the_site(lab, site):
    names = [n.name for n in lab.networks]
    assert names == ["mgmt", "pool-mec", "pool-svg", "s6a", "s11", "sxab", "s1c", "s1u", "sgi"]
    # The router joins the two VIMs' pool networks at the site's gateways.
    assert lab.network("pool-mec").host_address == ipaddress.IPv4Address("10.101.0.1")
    assert lab.network("pool-svg").host_address == ipaddress.IPv4Address("10.106.0.1")
    assert lab.network("s6a").gateway is None
    assert lab.network("s6a").host_address == ipaddress.IPv4Address("172.16.6.254")
    for net in lab.networks:
        assert len(net.bridge) <= 15 and net.host_address in net.subnet


def test_vms_and_their_ports(lab, site):
    assert [v.name for v in lab.vms] == ["pr-mec", "pr-stavanger", "pe-mec-1", "pe-mec-2", "pe-mec-3",
                                         "hss", "mme", "spgwc", "spgwu"]
    assert [v.name for v in lab.vms if v.scale_out] == ["pe-mec-3"]
    assert {v.member for v in lab.of_kind("pe-group")} == {"4"}
    assert lab.vm("pr-mec").port("pool-mec").address == ipaddress.IPv4Address("10.101.0.10")
    assert lab.vm("pr-stavanger").port("pool-svg").address == ipaddress.IPv4Address("10.106.0.10")
    assert [str(p.address) for p in lab.vm("mme").ports[1:]] == ["172.16.6.2", "172.16.1.102", "192.168.247.102"]
    assert [p.nic for p in lab.vm("mme").ports] == ["ens3", "ens4", "ens5", "ens6"]
    macs = [p.mac for v in lab.vms for p in v.ports]
    assert len(set(macs)) == len(macs) and all(m.startswith("fa:16:3e:") for m in macs)
    for net in lab.networks:
        addresses = [p.address for v in lab.vms for p in v.ports if p.network == net.name]
        assert len(set(addresses)) == len(addresses)
        assert all(a in net.subnet and a != net.host_address for a in addresses)


def test_dhcp_config_fixes_every_port(lab, tmp_path):
    text = network.dnsmasq_config(lab, tmp_path)
    for vm in lab.vms:
        for port in vm.ports:
            assert "dhcp-host={},{}\n".format(port.mac, port.address) in text
    assert "dhcp-option=tag:pool_mec,option:router,10.101.0.1\n" in text
    assert "dhcp-option=tag:s6a,option:router\n" in text      # no gateway: no default route offered
    assert "port=0\n" in text                                 # no DNS service
    assert "interface=br-pool-svg\n" in text


def test_tap_names_fit_linux(lab):
    taps = [network.tap_name(v.name, p.network) for v in lab.vms for p in v.ports]
    assert len(set(taps)) == len(taps) and all(len(t) == 14 and t.startswith("tap") for t in taps)


def test_site_without_pe_on_a_registrar_vim(tmp_path):
    data = yaml.safe_load(EXAMPLE.read_text())
    del data["pool"]["pe_groups"]["mec"]
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match="pool.pe_groups: no PE group runs on a registrar's VIM"):
        topology.build_topology(load_site(path))
