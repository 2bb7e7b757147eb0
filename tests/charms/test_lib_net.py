import socket

import pytest

import epc_fakes
from charmhelpers_mecpool import net
from charmhelpers_mecpool.errors import WaitTimeout

TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0B00007F:0F1E 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 020610AC:A1B2 810610AC:0F1C 01 00000000:00000000 00:00000000 00000000     0        0 2 1
   2: 810610AC:0F1C 020610AC:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 3 1
"""
TCP6 = """  sl  local_address                         remote_address                        st
   0: 00000000000000000000000000000000:0F1C 00000000000000000000000000000000:0000 0A 0
   1: 0000000000000000FFFF0000810610AC:1F90 0000000000000000FFFF0000020610AC:C000 01 0
"""
UDP = """  sl  local_address rem_address   st
  10: 660110AC:084B 00000000:0000 07 00000000:00000000
  11: 00000000:2265 00000000:0000 07 00000000:00000000
"""
SCTP_EPS = """ ENDPT     SOCK   STY SST HBKT LPORT   UID INODE LADDRS
ffff8800b7d4c000 ffff8800b7c61400 2   10  29   36412     0 20361 192.168.247.102
ffff8800b7d4c001 ffff8800b7c61401 2   10  30   9999     0 20362 10.1.1.1 10.2.2.2
"""


@pytest.fixture
def proc(tmp_path):
    (tmp_path / "net" / "sctp").mkdir(parents=True)
    (tmp_path / "net" / "tcp").write_text(TCP)
    (tmp_path / "net" / "tcp6").write_text(TCP6)
    (tmp_path / "net" / "udp").write_text(UDP)
    (tmp_path / "net" / "sctp" / "eps").write_text(SCTP_EPS)
    return str(tmp_path)


def test_decode_addresses():
    assert net._decode_address("0100007F:0D3A") == ("127.0.0.1", 3386)
    assert net._decode_address("00000000000000000000000001000000:0016") == ("::1", 22)
    assert net._decode_address("0000000000000000FFFF0000810610AC:1F90") == ("172.16.6.129", 8080)


def test_listeners(proc):
    assert net.listening("tcp", 3870, "127.0.0.11", proc_root=proc)
    assert not net.listening("tcp", 3870, "10.0.0.1", proc_root=proc)
    assert net.listening("tcp", 3868, "172.16.6.129", proc_root=proc)  # tcp6 wildcard
    assert not net.listening("tcp", 8080, proc_root=proc)  # established, not listening
    assert net.listening("udp", 2123, "172.16.1.102", proc_root=proc)
    assert net.listening("udp", 8805, "172.55.55.101", proc_root=proc)  # 0.0.0.0
    assert not net.listening("udp", 2152, proc_root=proc)
    assert net.listening("sctp", 36412, "192.168.247.102", proc_root=proc)
    assert not net.listening("sctp", 36412, "10.0.0.1", proc_root=proc)
    assert net.listening("sctp", 9999, "10.2.2.2", proc_root=proc)
    assert not net.listening("sctp", 36413, proc_root=proc)


def test_missing_proc_files_mean_not_listening(tmp_path):
    assert not net.listening("sctp", 36412, proc_root=str(tmp_path))
    assert not net.listening("tcp", 22, proc_root=str(tmp_path))


def test_established(proc):
    assert net.tcp_established("172.16.6.129", 3868, proc_root=proc)
    assert not net.tcp_established("172.16.6.130", 3868, proc_root=proc)
    assert net.tcp_established_from(3868, proc_root=proc) == [("172.16.6.2", 41394)]


def test_real_listener_on_this_host():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        assert net.listening("tcp", port, "127.0.0.1")
        assert net.wait_for_tcp("127.0.0.1", port, timeout=5) is True
    finally:
        server.close()
    assert not net.listening("tcp", port, "127.0.0.1")


def test_wait_for_tcp_times_out_with_reason():
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # nothing listens there now
    clock = epc_fakes.FakeClock()
    with pytest.raises(WaitTimeout) as info:
        net.wait_for_tcp("127.0.0.1", port, timeout=10, interval=2, sleep=clock.sleep,
                         clock=clock)
    assert "TCP 127.0.0.1:{} not reachable within 10 s".format(port) in str(info.value)
    assert "refused" in str(info.value).lower()
    assert clock.sleeps == [2, 2, 2, 2, 2]


def test_wait_for_returns_probe_value_after_retries():
    answers = iter([OSError("no"), None, "ok"])

    def probe():
        value = next(answers)
        if isinstance(value, Exception):
            raise value
        return value
    clock = epc_fakes.FakeClock()
    assert net.wait_for(probe, "x", 30, interval=1, sleep=clock.sleep, clock=clock) == "ok"
    assert clock.sleeps == [1, 1]


def test_local_addresses_from_ip_o_addr():
    from types import SimpleNamespace
    output = ("1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n"
              "2: ens3    inet 10.1.0.2/24 brd 10.1.0.255 scope global ens3\\ ...\n"
              "2: ens3    inet6 fd00:0:0:1::2/64 scope global \\ ...\n"
              "2: ens3    inet6 FE80::1/64 scope link \\ ...\n")
    seen = []

    def run(argv):
        seen.append(argv)
        return SimpleNamespace(stdout=output)
    assert net.local_addresses(run) == {"127.0.0.1", "10.1.0.2", "fd00:0:0:1::2", "fe80::1"}
    assert seen == [["ip", "-o", "addr", "show"]]
