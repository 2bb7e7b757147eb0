"""Issue 21, point 8: an unreachable VCA is named with what failed, in seconds (loopback only)."""

import socket
import threading

from deploy_helpers import FAST, edit_site

from mecpool.deploy.errors import DeployError
from mecpool.deploy.vcaprobe import probe


def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def not_tls_server():
    """Accepts one connection and answers in plain text, as a wrong service on the port would."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(30)

    def serve():
        try:
            conn, _ = server.accept()
            conn.recv(1024)
            conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
            conn.close()
        except OSError:
            pass
        finally:
            server.close()
    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1]


def probe_error(endpoint):
    try:
        probe(endpoint, None, timeout=10)
    except DeployError as error:
        return error.message
    raise AssertionError(f"{endpoint} was reached")


def test_refused_and_tls_failures_name_the_endpoint():
    port = closed_port()
    assert probe_error(f"127.0.0.1:{port}") == (
        f"OSM's VCA at 127.0.0.1:{port}: connection refused (nothing listens on port {port}: is the endpoint "
        "OSMLCM_VCA_HOST:17070 of your OSM?)")
    port = not_tls_server()
    message = probe_error(f"127.0.0.1:{port}")
    assert message.startswith(f"OSM's VCA at 127.0.0.1:{port}: TLS: the handshake failed")


def test_juju_status_on_an_unreachable_vca_says_where_and_why(fakes, mecpool, workdir, env):
    fakes.register_vims()
    mecpool("onboard", "--site", "site.yaml")
    mecpool("instantiate", "mec1", "--site", "site.yaml", *FAST)
    port = closed_port()
    env.setenv("MECPOOL_VCA_PASSWORD", "vca-secret")
    edit_site(workdir, lambda d: d.update(vca={"endpoint": f"127.0.0.1:{port}", "password_env": "MECPOOL_VCA_PASSWORD"}))
    result = mecpool("juju-status", "mec1", expect=1)
    assert f"OSM's VCA at 127.0.0.1:{port}: connection refused" in result.stderr
