"""The PFCP Heartbeat probe against a real UDP peer on the loopback."""

import socket
import struct
import threading

import pytest

import charmtest

pfcp = charmtest.load_charm_module("oai-spgwu", "pfcp")


def test_request_encoding():
    data = pfcp.heartbeat_request(0x123456, 3900000000)
    # version 1, no SEID; type 1; length 12; sequence; spare; IE 96 len 4 value
    assert data == bytes([0x20, 1, 0, 12, 0x12, 0x34, 0x56, 0]) + struct.pack(
        "!HHI", 96, 4, 3900000000)


def response(sequence, recovery=3899999999, message_type=2, ie=True, version=1):
    body = struct.pack("!HHI", 96, 4, recovery) if ie else b""
    return struct.pack("!BBHI", version << 5, message_type, 4 + len(body),
                       sequence << 8) + body


def test_parse_response_and_rejects():
    assert pfcp.parse_heartbeat_response(response(7), 7) == 3899999999
    for bad, why in ((response(8), "sequence"), (response(7, message_type=1), "type"),
                     (response(7, ie=False), "Recovery"), (response(7, version=2), "version"),
                     (response(7)[:6], "short"), (response(7) + b"x", "length")):
        with pytest.raises(ValueError) as info:
            pfcp.parse_heartbeat_response(bad, 7)
        assert why in str(info.value)


class Peer(object):
    """A UDP endpoint that answers heartbeats like the OAI SPGW-C (or misbehaves)."""

    def __init__(self, mode="answer"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.mode = mode
        self.received = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        self.sock.settimeout(5)
        try:
            data, source = self.sock.recvfrom(2048)
        except OSError:
            return
        self.received.append((data, source))
        flags, message_type, length, word = struct.unpack("!BBHI", data[:8])
        ie_type, ie_length, stamp = struct.unpack("!HHI", data[8:16])
        assert (flags, message_type, length, ie_type, ie_length) == (0x20, 1, 12, 96, 4)
        sequence = word >> 8
        if self.mode == "answer":
            self.sock.sendto(response(sequence), source)
        elif self.mode == "stray-then-answer":
            self.sock.sendto(b"junk", source)
            self.sock.sendto(response(sequence + 1), source)
            self.sock.sendto(response(sequence), source)
        elif self.mode == "wrong":
            self.sock.sendto(response(sequence + 1), source)

    def close(self):
        self.thread.join(6)
        self.sock.close()


@pytest.mark.parametrize("mode", ["answer", "stray-then-answer"])
def test_heartbeat_gets_the_recovery_time(mode):
    peer = Peer(mode)
    try:
        assert pfcp.heartbeat("127.0.0.1", port=peer.port, source="127.0.0.1",
                              timeout=3) == 3899999999
        assert peer.received[0][1][0] == "127.0.0.1"
    finally:
        peer.close()


def test_heartbeat_times_out_on_wrong_answer_or_silence():
    for mode in ("wrong", "silent"):
        peer = Peer(mode)
        try:
            with pytest.raises(socket.timeout):
                pfcp.heartbeat("127.0.0.1", port=peer.port, timeout=0.5)
        finally:
            peer.close()


def test_heartbeat_to_a_closed_port_is_an_oserror():
    free = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    with pytest.raises(OSError):
        pfcp.heartbeat("127.0.0.1", port=port, timeout=1)
