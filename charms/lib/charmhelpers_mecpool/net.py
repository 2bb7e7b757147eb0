"""Bounded waits for peers and checks of local listeners and connections.

Listeners are read from /proc/net/{tcp,tcp6,udp,udp6,sctp/eps} (no `ss`
needed); ``proc_root`` is the seam the tests use.
"""

import ipaddress
import os
import re
import socket
import struct
import time

from .errors import WaitTimeout

TCP_LISTEN = "0A"
TCP_ESTABLISHED = "01"
UDP_UNCONNECTED = "07"


def wait_for(probe, what, timeout, interval=2.0, sleep=time.sleep, clock=time.monotonic):
    """Call ``probe()`` until it returns a true value; WaitTimeout after ``timeout`` s.

    The probe may raise OSError (refused, unreachable): that counts as "not yet".
    The last error is named in the timeout message.
    """
    deadline = clock() + timeout
    last = None
    while True:
        try:
            value = probe()
            if value:
                return value
        except OSError as error:
            last = error
        if clock() >= deadline:
            reason = ": {}".format(last.strerror or last) if last is not None else ""
            raise WaitTimeout("{} not reachable within {} s{}".format(what, int(timeout), reason))
        sleep(interval)


def tcp_probe(host, port, timeout=3.0):
    """True when a TCP connection to host:port succeeds."""
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.close()
    return True


def sctp_probe(host, port, timeout=3.0):
    """True when an SCTP association to host:port comes up (needs kernel SCTP)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, getattr(socket, "IPPROTO_SCTP", 132))
    try:
        sock.settimeout(timeout)
        sock.connect((host, port))
        return True
    finally:
        sock.close()


def wait_for_tcp(host, port, timeout, **kwargs):
    return wait_for(lambda: tcp_probe(host, port), "TCP {}:{}".format(host, port), timeout,
                    **kwargs)


def wait_for_sctp(host, port, timeout, **kwargs):
    return wait_for(lambda: sctp_probe(host, port), "SCTP {}:{}".format(host, port), timeout,
                    **kwargs)


def _decode_address(hex_addr):
    """'0100007F:0D3A' -> ('127.0.0.1', 3386); IPv6 in four little-endian words."""
    addr, port = hex_addr.split(":")
    raw = bytes.fromhex(addr)
    if len(raw) == 4:
        ip = str(ipaddress.IPv4Address(struct.pack("<I", struct.unpack(">I", raw)[0])))
    else:
        words = struct.unpack(">4I", raw)
        ip_obj = ipaddress.IPv6Address(struct.pack("<4I", *words))
        ip = str(ip_obj.ipv4_mapped) if ip_obj.ipv4_mapped else str(ip_obj)
    return ip, int(port, 16)


def inet_sockets(proto, proc_root="/proc"):
    """[(local_ip, local_port, remote_ip, remote_port, state)] for tcp or udp (v4+v6)."""
    rows = []
    for name in (proto, proto + "6"):
        path = os.path.join(proc_root, "net", name)
        try:
            with open(path) as handle:
                lines = handle.read().splitlines()[1:]
        except (IOError, OSError):
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 4:
                continue
            local = _decode_address(fields[1])
            remote = _decode_address(fields[2])
            rows.append((local[0], local[1], remote[0], remote[1], fields[3].upper()))
    return rows


def sctp_endpoints(proc_root="/proc"):
    """[(port, [addresses])] of listening SCTP endpoints from /proc/net/sctp/eps."""
    path = os.path.join(proc_root, "net", "sctp", "eps")
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()[1:]
    except (IOError, OSError):
        return []
    result = []
    for line in lines:
        fields = line.split()
        # ENDPT SOCK STY SST HBKT LPORT UID INODE LADDRS...
        if len(fields) >= 8 and fields[5].isdigit():
            result.append((int(fields[5]), fields[8:]))
    return result


def _address_matches(bound, wanted):
    return wanted is None or bound == wanted or bound in ("0.0.0.0", "::")


def listening(proto, port, address=None, proc_root="/proc"):
    """Is something listening on ``proto`` (tcp, udp, sctp) ``port`` (on ``address``)?"""
    if proto == "sctp":
        for lport, addrs in sctp_endpoints(proc_root):
            if lport == port and (address is None or not addrs or address in addrs
                                  or "0.0.0.0" in addrs):
                return True
        return False
    state = {"tcp": TCP_LISTEN, "udp": UDP_UNCONNECTED}[proto]
    for lip, lport, _rip, _rport, st in inet_sockets(proto, proc_root):
        if lport == port and st == state and _address_matches(lip, address):
            return True
    return False


def tcp_established(remote_ip, remote_port, proc_root="/proc"):
    """Is there an established TCP connection to remote_ip:remote_port (e.g. S6a)?"""
    for _lip, _lport, rip, rport, st in inet_sockets("tcp", proc_root):
        if rip == remote_ip and rport == remote_port and st == TCP_ESTABLISHED:
            return True
    return False


def tcp_established_from(local_port, proc_root="/proc"):
    """Peers connected to our TCP ``local_port``: [(remote_ip, remote_port)]."""
    return [(rip, rport) for _lip, lport, rip, rport, st in inet_sockets("tcp", proc_root)
            if lport == local_port and st == TCP_ESTABLISHED]


def local_addresses(run):
    """The IP addresses configured on this host's interfaces (``ip -o addr``)."""
    output = run(["ip", "-o", "addr", "show"]).stdout
    return set(str(ipaddress.ip_address(m.group(1)))
               for m in re.finditer(r"\binet6?\s+([0-9A-Fa-f.:]+)/\d+", output))
