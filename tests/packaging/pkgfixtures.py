"""Test helpers: charm directories that honour the primitive contract.

The package builder takes whatever built charm directories exist; until
every charm is written, the tests build with these stand-ins (generated from
mecpool.descriptors.primitives, in a temporary directory, never shipped), so
the builder and the validator are tested on their own.  A separate test runs
the real charm builder for the charms that exist.
"""

from pathlib import Path

import yaml

from mecpool.descriptors import CHARMS
from mecpool.descriptors.primitives import CONFIG_PRIMITIVE
from mecpool.packaging.builder import build
from mecpool.site import load_site

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_SITE = REPO / "site.example.yaml"
SERIES = {"oai-hss": "bionic", "oai-mme": "bionic", "oai-spgwc": "bionic", "oai-spgwu": "bionic",
          "rsp-registrar": "focal", "rsp-pool-element": "focal"}
YAML_TYPES = {"STRING": "string", "INTEGER": "integer", "BOOLEAN": "boolean"}


def contract_charm(root, name):
    """A charm directory whose actions.yaml/config.yaml match the contract."""
    path = Path(root) / name
    (path / "src").mkdir(parents=True, exist_ok=True)
    (path / "hooks").mkdir(exist_ok=True)
    table = CHARMS[name]
    actions, options = {}, {}
    for primitive in table.day1 + table.day2:
        if primitive.name == CONFIG_PRIMITIVE:
            for param in primitive.params:
                options[param.name] = {"type": "int" if param.data_type == "INTEGER" else "string"}
            continue
        actions[primitive.name] = {"params": {p.name: {"type": YAML_TYPES[p.data_type]} for p in primitive.params}}
    (path / "metadata.yaml").write_text(yaml.safe_dump({"name": name, "summary": "test stand-in",
                                                        "description": "test", "series": [SERIES[name]]}))
    (path / "actions.yaml").write_text(yaml.safe_dump(actions, sort_keys=True))
    (path / "config.yaml").write_text(yaml.safe_dump({"options": options}, sort_keys=True))
    (path / "src" / "charm.py").write_text("# stand-in\n")
    dispatch = path / "dispatch"
    dispatch.write_text("#!/bin/sh\nexit 0\n")
    dispatch.chmod(0o755)
    return path


def contract_charms(root, names=None):
    return {name: contract_charm(root, name) for name in (names or CHARMS)}


def contract_provider(root):
    """A charm_provider for builder.build: the stand-ins, built once in ``root``."""
    charms = contract_charms(root)
    return lambda source_root, staging: dict(charms)


def example_site():
    return load_site(EXAMPLE_SITE)


def build_example(out_dir, charm_root, site=None):
    return build(site or example_site(), out_dir, charm_provider=contract_provider(charm_root)).packages
