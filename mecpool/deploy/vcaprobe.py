"""Reach OSM's VCA (its Juju controller, API port 17070) before libjuju tries: a few seconds and an
error that names the endpoint and what failed (DNS, refused, timeout, TLS), instead of libjuju's long
retry loop and a bare exception."""

from __future__ import annotations

import socket
import ssl

from .errors import DeployError

PROBE_TIMEOUT = 5.0


def split_endpoint(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]"), int(port)


def probe(endpoint: str, cacert: str | None, timeout: float = PROBE_TIMEOUT) -> None:
    """TCP connect, then a TLS handshake (verified against ``cacert`` when given; Juju's API always
    speaks TLS).  Raises DeployError naming the endpoint and the step that failed."""
    host, port = split_endpoint(endpoint)
    where = f"OSM's VCA at {endpoint}"
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise DeployError(f"{where}: DNS: cannot resolve {host!r} ({error.strerror}); check vca.endpoint") from None
    family, kind, proto, _, address = addresses[0]
    sock = socket.socket(family, kind, proto)
    sock.settimeout(timeout)
    try:
        try:
            sock.connect(address)
        except ConnectionRefusedError:
            raise DeployError(f"{where}: connection refused (nothing listens on port {port}: is the endpoint "
                              "OSMLCM_VCA_HOST:17070 of your OSM?)") from None
        except (socket.timeout, TimeoutError):
            raise DeployError(f"{where}: timeout: no answer within {timeout:g} s (a firewall, or no route from "
                              f"this host to port {port}; see the README's prerequisites)") from None
        except OSError as error:
            raise DeployError(f"{where}: cannot connect: {error.strerror or error}") from None
        context = ssl.create_default_context(cadata=cacert) if cacert else ssl._create_unverified_context()
        context.check_hostname = False  # Juju's certificate names "juju-apiserver", not the address
        try:
            with context.wrap_socket(sock, server_hostname=host):
                pass
        except (ssl.SSLError, OSError) as error:
            reason = getattr(error, "reason", None) or str(error)
            raise DeployError(f"{where}: TLS: the handshake failed ({reason})"
                              + ("; is vca.cacert_file OSMLCM_VCA_CACERT, base64-decoded?" if cacert else "")) from None
    finally:
        sock.close()
