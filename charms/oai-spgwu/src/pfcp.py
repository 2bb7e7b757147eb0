"""A PFCP Heartbeat probe (3GPP TS 29.244, 7.4.2): is the SPGW-C's SX endpoint up?

The SPGW-U sends its PFCP Association Setup Request only once, at start-up, so
the charm starts it only after the SPGW-C answers a real Heartbeat Request
(the OAI SPGW-C answers heartbeats from any peer).
"""

import os
import socket
import struct
import time

PFCP_PORT = 8805
VERSION = 1
HEARTBEAT_REQUEST = 1
HEARTBEAT_RESPONSE = 2
IE_RECOVERY_TIME_STAMP = 96
NTP_UNIX_OFFSET = 2208988800  # seconds from 1900-01-01 (NTP era 0) to 1970-01-01


def heartbeat_request(sequence, recovery_time):
    """Header without SEID (S=0): version, type, length, 3-byte sequence, spare;
    then the mandatory Recovery Time Stamp IE (NTP seconds)."""
    ie = struct.pack("!HHI", IE_RECOVERY_TIME_STAMP, 4, recovery_time & 0xFFFFFFFF)
    length = 4 + len(ie)  # everything after the first 4 octets
    header = struct.pack("!BBH", VERSION << 5, HEARTBEAT_REQUEST, length)
    return header + struct.pack("!I", (sequence & 0xFFFFFF) << 8) + ie


def parse_heartbeat_response(data, sequence):
    """The peer's recovery time stamp; ValueError if ``data`` is not the response."""
    if len(data) < 8:
        raise ValueError("PFCP message too short ({} bytes)".format(len(data)))
    flags, message_type, length = struct.unpack("!BBH", data[:4])
    if flags >> 5 != VERSION:
        raise ValueError("PFCP version {} is not 1".format(flags >> 5))
    if flags & 0x01:
        raise ValueError("a heartbeat response carries no SEID")
    if message_type != HEARTBEAT_RESPONSE:
        raise ValueError("PFCP message type {} is not a Heartbeat Response".format(message_type))
    if length + 4 != len(data):
        raise ValueError("PFCP length field {} does not match {} bytes".format(length, len(data)))
    (word,) = struct.unpack("!I", data[4:8])
    if word >> 8 != sequence & 0xFFFFFF:
        raise ValueError("sequence number {} is not {}".format(word >> 8, sequence))
    offset = 8
    while offset + 4 <= len(data):
        ie_type, ie_length = struct.unpack("!HH", data[offset:offset + 4])
        value = data[offset + 4:offset + 4 + ie_length]
        if ie_type == IE_RECOVERY_TIME_STAMP and len(value) == 4:
            return struct.unpack("!I", value)[0]
        offset += 4 + ie_length
    raise ValueError("Heartbeat Response without Recovery Time Stamp")


def heartbeat(peer, port=PFCP_PORT, source=None, timeout=2.0, sequence=None,
              recovery_time=None, socket_factory=socket.socket):
    """Send one Heartbeat Request to peer:port; return the peer's recovery time stamp.

    Raises OSError (socket.timeout included) when nothing valid answers in time,
    which is what net.wait_for treats as "not yet".
    """
    if sequence is None:
        sequence = int.from_bytes(os.urandom(3), "big")
    if recovery_time is None:
        recovery_time = int(time.time()) + NTP_UNIX_OFFSET
    sock = socket_factory(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.settimeout(timeout)
        if source:
            sock.bind((source, 0))
        sock.connect((peer, port))
        sock.send(heartbeat_request(sequence, recovery_time))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("no PFCP Heartbeat Response from {}:{}".format(peer, port))
            sock.settimeout(remaining)
            data = sock.recv(2048)
            try:
                return parse_heartbeat_response(data, sequence)
            except ValueError:
                continue  # a stray datagram: keep waiting for ours
    finally:
        sock.close()
