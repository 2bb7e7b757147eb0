"""The configuration files of OSM Release EIGHT's RO, LCM and NBI in the lab, generated from one
`OsmSettings` (pure functions: the tests read them).

Stock keys with the lab's values: RO on the stack's MariaDB (`mano_db`), LCM and NBI on osm_common's
in-memory DB (shared in one process: osm_launch.py) with the local message bus and local storage in
the run directory, NBI with its internal authentication backend and its own TLS certificate, LCM's
helm/kubectl/juju paths at stand-ins that say there is no Kubernetes or Juju here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml


class OsmConfigError(ValueError):
    """A setting is invalid; the message names the field."""


@dataclass(frozen=True)
class OsmSettings:
    address: str = "127.0.0.1"      # inside the lab's network namespace, as the stack's services
    ro_port: int = 9090
    nbi_port: int = 9999
    db_host: str = "127.0.0.1"      # the stack's MariaDB (RO has no DB port option: 3306)
    ro_db: str = "mano_db"
    ro_db_user: str = "mano"
    ro_db_password: str = "reallab-manopw"
    ro_tenant: str = "osm"
    vca_secret: str = "reallab-no-juju"
    # The key NBI and LCM encrypt VIM passwords with (OSM's installer generates one, the common key)
    commonkey: str = "reallab-osm-commonkey"
    log_level: str = "DEBUG"

    def validate(self) -> None:
        for name in ("ro_port", "nbi_port"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 < value < 65536:
                raise OsmConfigError(f"osm settings: {name} must be a TCP port (1-65535), not {value!r}")
        if self.ro_port == self.nbi_port:
            raise OsmConfigError(f"osm settings: ro_port and nbi_port are both {self.ro_port}")
        for name in ("ro_db", "ro_db_user", "ro_tenant"):
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,31}", getattr(self, name)):
                raise OsmConfigError(f"osm settings: {name} must be a plain SQL/RO name, not {getattr(self, name)!r}")
        if not re.fullmatch(r"[A-Za-z0-9_.+-]{8,64}", self.ro_db_password):
            raise OsmConfigError("osm settings: ro_db_password must be 8-64 of [A-Za-z0-9_.+-] (it goes "
                                 "into SQL and into RO's shell scripts unquoted)")
        if not re.fullmatch(r"[A-Za-z0-9_.+-]{8,64}", self.commonkey):
            raise OsmConfigError("osm settings: commonkey must be 8-64 of [A-Za-z0-9_.+-]")
        if self.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise OsmConfigError(f"osm settings: log_level must be DEBUG, INFO, WARNING or ERROR, not {self.log_level!r}")


@dataclass(frozen=True)
class OsmPaths:
    """Where the OSM processes keep their state, all below the run directory (`<run>/osm`)."""
    base: Path

    @property
    def storage(self) -> Path:       # NBI's and LCM's package storage (FsLocal): one directory for both
        return self.base / "storage"

    @property
    def bus(self) -> Path:           # the local message bus (MsgLocal): one file per topic
        return self.base / "bus"

    @property
    def home(self) -> Path:          # HOME of the OSM processes (LCM writes its health-check file there)
        return self.base / "home"

    @property
    def tools(self) -> Path:         # the helm/kubectl/juju stand-ins
        return self.base / "tools"

    @property
    def vca_key(self) -> Path:       # the lab VCA's private key (its public half: .pub), see ssh_connector
        return self.base / "vca" / "id_ed25519"

    def config(self, name: str) -> Path:
        return self.base / f"{name}.cfg"


TOOLS = ("helm", "kubectl", "juju")


def tool_standin(name: str) -> str:
    """What LCM finds at its helm/kubectl/juju paths: it checks they exist at start (N2VC's K8s
    connectors) and runs `helm init --client-only` once, ignoring the result.  Nothing else calls them
    unless a K8s cluster or a Juju-managed VNF is used."""
    return ("#!/bin/sh\n"
            f"echo \"mecpool real-lab: no {name} here (no Kubernetes, no Juju controller in the lab): $*\" >&2\n"
            "exit 1\n")


def ro_config(s: OsmSettings, log_file: Path | None = None) -> str:
    """openmanod.cfg (YAML, validated by RO against its config_schema)."""
    s.validate()
    cfg = {
        "http_host": s.address, "http_port": s.ro_port,
        "http_console_proxy": False,       # the VIM's console URLs are given as they are
        "db_host": s.db_host, "db_user": s.ro_db_user, "db_passwd": s.ro_db_password, "db_name": s.ro_db,
        "db_ovim_host": s.db_host, "db_ovim_user": s.ro_db_user, "db_ovim_passwd": s.ro_db_password,
        "db_ovim_name": "mano_vim_db",
        "auto_push_VNF_to_VIMs": False,    # as OSM's installer configures RO
        "log_level": s.log_level, "log_level_db": "ERROR",
    }
    if log_file:
        cfg["log_file"] = str(log_file)
    return yaml.safe_dump(cfg, sort_keys=False)


def lcm_config(s: OsmSettings, paths: OsmPaths, log_file: Path, vca_public_key: str | None = None) -> str:
    """lcm.cfg (YAML).  `tsdb: {}`: no Prometheus (LCM configures one only when a driver is set).  LCM
    logs to its own file (NBI, in the same process, logs to the process's output).  With
    `vca_public_key` (the lab's VCA, ssh_connector): VCA.public_key, which LCM adds to every VDU's keys,
    and VCA.ssh_private_key, its private half, with which the lab's connector reaches the VDUs."""
    s.validate()
    if vca_public_key is not None and not re.fullmatch(r"ssh-[a-z0-9-]+ [A-Za-z0-9+/=]+( \S+)?", vca_public_key.strip()):
        raise OsmConfigError(f"osm settings: vca_public_key is not one OpenSSH public key line: {vca_public_key[:60]!r}")
    cfg = {
        "global": {"loglevel": s.log_level, "logfile": str(log_file), "nologging": True},
        "timeout": {},
        "RO": {"host": s.address, "port": s.ro_port, "tenant": s.ro_tenant, "loglevel": s.log_level},
        "VCA": {"host": s.address, "port": 17070, "user": "admin", "secret": s.vca_secret, "cloud": "localhost",
                "k8s_cloud": "k8scloud", "helmpath": str(paths.tools / "helm"),
                "kubectlpath": str(paths.tools / "kubectl"), "jujupath": str(paths.tools / "juju"),
                **({"public_key": vca_public_key.strip(), "ssh_private_key": str(paths.vca_key)}
                   if vca_public_key is not None else {})},
        "database": {"driver": "memory", "name": "osm", "commonkey": s.commonkey, "loglevel": s.log_level},
        "storage": {"driver": "local", "path": str(paths.storage)},
        "message": {"driver": "local", "path": str(paths.bus), "group_id": "lcm-server"},
        "tsdb": {},
    }
    return yaml.safe_dump(cfg, sort_keys=False)


def _cherry(value) -> str:
    """A value as CherryPy's config parser reads it (Python literals)."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


def nbi_config(s: OsmSettings, paths: OsmPaths, nbi_package: Path) -> str:
    """nbi.cfg (CherryPy's format).  `nbi_package` is osm_nbi's directory in the lcm venv: NBI's own
    TLS certificate, static files and RBAC files are taken from there, as its Dockerfile does."""
    s.validate()
    sections = {
        "/": {"tools.sessions.on": True, "tools.sessions.secure": True, "tools.sessions.httponly": True,
              "tools.encode.on": True, "tools.encode.encoding": "utf-8", "tools.response_headers.on": True},
        "/static": {"tools.staticdir.on": True, "tools.staticdir.dir": str(nbi_package / "html_public")},
        "global": {"server.socket_host": s.address, "server.socket_port": s.nbi_port,
                   "server.ssl_module": "builtin",
                   "server.ssl_certificate": str(nbi_package / "http" / "cert.pem"),
                   "server.ssl_private_key": str(nbi_package / "http" / "privkey.pem"),
                   "server.ssl_pass_phrase": "osm4u", "server.thread_pool": 10,
                   "server.enable_test": False,
                   "log.screen": False, "log.access_file": "", "log.error_file": "", "log.level": s.log_level,
                   # CherryPy's own SIGTERM/SIGHUP handlers stay off: the launcher owns the signals
                   "engine.autoreload.on": False},
        "database": {"driver": "memory", "name": "osm", "commonkey": s.commonkey, "loglevel": s.log_level},
        "prometheus": {"host": s.address, "port": 9091},
        "storage": {"driver": "local", "path": str(paths.storage), "loglevel": s.log_level},
        "message": {"driver": "local", "path": str(paths.bus), "loglevel": s.log_level, "group_id": "nbi-server"},
        "authentication": {"backend": "internal"},
        "rbac": {"roles_to_operations": str(nbi_package / "roles_to_operations.yml")},
    }
    out = []
    for name, options in sections.items():
        out.append(f"[{name}]")
        out += [f"{k}: {_cherry(v)}" for k, v in options.items()]
        out.append("")
    return "\n".join(out)
