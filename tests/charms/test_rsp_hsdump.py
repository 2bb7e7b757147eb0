"""mecpool.rserpool.hsdump: parse real hsdump output (testbed fixtures) and edge cases."""

from pathlib import Path

import pytest

from mecpool.rserpool import hsdump

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "tests" / "testbed" / "fixtures" / "smoke-1pu-1pe" / "hsdump.txt"
RECONSTRUCTED = Path(__file__).resolve().parent / "fixtures" / "hsdump-source-format.txt"
ALL_REAL = sorted((ROOT / "tests" / "testbed" / "fixtures").rglob("hsdump*.txt"))


def test_real_output_of_rsplib_3_4_4():
    parsed = hsdump.parse(REAL.read_text())
    assert parsed["home"] == "0x4c2866c4"
    assert parsed["peers"] == []
    assert len(parsed["pools"]) == 1
    pool = parsed["pools"][0]
    assert (pool["handle"], pool["policy"], pool["protocol"], pool["control_channel"]) == (
        "CalcAppPool", "PriorityLeastUsed", "SCTP", True)
    # The run's PE: capacity 1e6, max jobs 4, PLU +10 %, idle when dumped.
    assert pool["elements"] == [{
        "identifier": "0x9e0ac1e6", "home_registrar": "0xf2c8aaa7",
        "registration_life_ms": 90000, "unreachability_reports": 0,
        "policy_type": 0x40000003, "weight": 0, "load": 0.0, "load_increment": 0.1,
        "addresses": ["10.1.0.2"], "port": 9000, "protocol": "SCTP", "control_channel": True,
        "registrator_transport": {"addresses": ["10.1.0.2"], "port": 33534, "protocol": "SCTP",
                                  "control_channel": False},
    }]


def test_real_output_starts_with_hsdumps_stderr_peer_warning():
    # hsdump prints "Failed to add peer ... to peer list" for the registrar
    # itself; its "addrs:" line must not be taken for a peer or a PE.
    text = REAL.read_text()
    assert text.startswith("Failed to add peer")
    assert hsdump.parse(text)["peers"] == []


@pytest.mark.parametrize("path", ALL_REAL, ids=[str(p.relative_to(ROOT)) for p in ALL_REAL])
def test_every_real_hsdump_fixture_parses(path):
    parsed = hsdump.parse(path.read_text())
    for pool in parsed["pools"]:
        for element in pool["elements"]:
            assert element["identifier"].startswith("0x") and element["addresses"]
            assert 0.0 <= element["load"] <= 1.0 and 0.0 <= element["load_increment"] <= 1.0


def test_several_pes_addresses_and_a_static_peer():
    parsed = hsdump.parse(RECONSTRUCTED.read_text())
    assert parsed["peers"] == [{"identifier": "0x00000002", "static": True,
                                "addresses": ["10.1.0.2"], "port": 9901, "protocol": "SCTP",
                                "control_channel": False}]
    first, second = parsed["pools"][0]["elements"]
    assert (first["identifier"], first["load"], first["load_increment"]) == ("0x1a2b3c4d", 0.25, 0.1)
    assert second["addresses"] == ["10.2.0.7", "192.168.50.7"]
    assert second["load_increment"] == 0.3


def test_find_element():
    parsed = hsdump.parse(REAL.read_text())
    pool, element = hsdump.find_element(parsed, "10.1.0.2", 9000)
    assert pool["handle"] == "CalcAppPool" and element["identifier"] == "0x9e0ac1e6"
    assert hsdump.find_element(parsed, "10.1.0.2", 9001) == (None, None)
    assert hsdump.find_element(parsed, "10.1.0.3") == (None, None)


def drop_lines(text, start, count):
    lines = text.splitlines(True)
    return "".join(lines[:start] + lines[start + count:])


def test_empty_handlespace():
    text = ("Got 0 pools, 0 PEs => now having 0 pools, 0 PEs\n--- No peers ---\n"
            "Handlespace[home=$00000001]: (0 Pools, 0 PoolElements, 0 Owned)\n"
            "-- Checksums: Handlespace=$0000ffff, Ownership=$0000ffff\n"
            "*-- Index:\n*-- Selection:\n*-- Ownership:\n")
    assert hsdump.parse(text) == {"home": "0x00000001", "peers": [], "pools": []}


@pytest.mark.parametrize("mangle, message", [
    (lambda t: "", "not hsdump output"),
    (lambda t: "ERROR: Unable to connect to registrar\n", "not hsdump output"),
    (lambda t: t.replace("(1 Pools, 1 PoolElements", "(2 Pools, 1 PoolElements"), "2 pools"),
    (lambda t: t.replace("(1 Pools, 1 PoolElements", "(1 Pools, 3 PoolElements"), "3 PEs"),
    (lambda t: t.replace("CtrlCh=yes: (1 nodes)", "CtrlCh=yes: (2 nodes)"), "header says 2 PEs"),
    (lambda t: t.replace(" ldeg=10.000%($1999999a)", ""), "lacks ldeg"),
    (lambda t: t.replace("     userT: {10.1.0.2} 9000/SCTP+CtrlCh\n", ""), "lacks its policy or transport"),
    (lambda t: t.replace("l=0.000%($00000000)", "l=zero"), "unexpected l value"),
    (lambda t: t + "--- HandleTableRequest has been rejected ---\n", "rejected"),
])
def test_broken_output_is_an_error_not_a_short_list(mangle, message):
    with pytest.raises(hsdump.HsdumpError, match=message.replace("(", r"\(")):
        hsdump.parse(mangle(REAL.read_text()))
