"""The one seam to python-libjuju (PyPI ``juju``, 2.9.x for the Juju 2.8
controller of OSM Release EIGHT): connect to the VCA, open the NS's model
(named after the NS instance id), and return the model's full status and
every unit's actions as the JSON libjuju's types serialise to.  Everything
else (jujureport) works on that JSON, so it is tested on recorded answers."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import vcaprobe
from .errors import DeployError, InputError

LIBJUJU_HINT = "python-libjuju is not installed: pip install 'juju>=2.9.44,<3'  (or make venv: the [juju] extra)"


@dataclass(frozen=True)
class VcaConnection:
    """Explicit endpoint and credentials, or a controller of the Juju client files (None: the current one)."""

    endpoint: str | None = None
    user: str | None = None
    password: str | None = None
    cacert: str | None = None
    controller_name: str | None = None


NO_VCA = """no way to reach OSM's VCA (its Juju controller): the site file has no vca: section{where}.
Add to the site file (values from the OSM host: OSMLCM_VCA_HOST, OSMLCM_VCA_SECRET, OSMLCM_VCA_CACERT base64-decoded):
  vca:
    endpoint: <OSMLCM_VCA_HOST>:17070
    user: admin
    password_env: MECPOOL_VCA_PASSWORD
    cacert_file: vca-cacert.pem      # relative to the site file
or register the controller with the Juju client (juju register / juju login) and pass --controller NAME."""


def juju_data() -> Path:
    """The Juju client's directory (JUJU_DATA, else ~/.local/share/juju), as libjuju reads it."""
    return Path(os.environ.get("JUJU_DATA") or Path.home() / ".local" / "share" / "juju")


def check_client_files(controller: str | None) -> None:
    """Without a vca: section libjuju reads controllers.yaml: say what to do when it is not there."""
    path = juju_data() / "controllers.yaml"
    if not path.is_file():
        raise InputError(NO_VCA.format(where=f", and {path} does not exist"))


async def _fetch(conn: VcaConnection, model_name: str) -> dict:
    from juju import tag
    from juju.client import client
    from juju.controller import Controller

    controller = Controller()
    if conn.endpoint:
        await controller.connect(endpoint=conn.endpoint, username=conn.user, password=conn.password,
                                 cacert=conn.cacert)
    elif conn.controller_name:
        await controller.connect(conn.controller_name)
    else:
        await controller.connect()
    try:
        model = await controller.get_model(model_name)
        try:
            status = await model.get_status()
            units = [name for app in (status.applications or {}).values() for name in (app.units or {})]
            facade = client.ActionFacade.from_connection(model.connection())
            actions = await facade.ListAll(entities=[{"tag": tag.unit(name)} for name in units])
            return {"status": json.loads(status.to_json()), "actions": json.loads(actions.to_json())}
        finally:
            await model.disconnect()
    finally:
        await controller.disconnect()


def controller_endpoint(name: str | None) -> str | None:
    """The first API endpoint of a controller of the Juju client files (None: the current one)."""
    try:
        data = yaml.safe_load((juju_data() / "controllers.yaml").read_text(encoding="utf-8")) or {}
        name = name or data.get("current-controller")
        return ((data.get("controllers") or {}).get(name) or {}).get("api-endpoints", [None])[0]
    except (OSError, yaml.YAMLError, AttributeError, IndexError):
        return None


def fetch(conn: VcaConnection, model_name: str, timeout: float = 60.0) -> dict:
    try:
        import juju  # noqa: F401
    except ImportError:
        raise DeployError(LIBJUJU_HINT) from None
    endpoint = conn.endpoint or controller_endpoint(conn.controller_name)
    if endpoint:
        vcaprobe.probe(endpoint, conn.cacert)  # DNS, refused, timeout, TLS: said in seconds, with the endpoint
    try:
        return asyncio.run(asyncio.wait_for(_fetch(conn, model_name), timeout))
    except asyncio.TimeoutError:
        raise DeployError(f"no answer from the Juju controller within {timeout:g} s") from None
    except DeployError:
        raise
    except Exception as error:  # libjuju raises many types (JujuError, ConnectionError, websockets...)
        where = conn.endpoint or conn.controller_name or "the current controller of ~/.local/share/juju"
        raise DeployError(f"Juju controller {where}, model {model_name}: {type(error).__name__}: {error}") from None
