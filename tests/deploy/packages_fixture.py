"""Built packages for the deployment tests, made by the real packager
(mecpool.packaging.builder) from the site file.

The deployment workflow reads descriptors, not charm code, so the charm
directories put into the packages are made from the primitive contract
(mecpool.descriptors.primitives): metadata.yaml, and actions.yaml/config.yaml
with exactly the parameters the descriptors use.  This keeps these tests
independent of the charm builds (which vendor dependencies from PyPI)."""

from __future__ import annotations

from pathlib import Path

import yaml

from mecpool.descriptors.primitives import CHARMS, CONFIG_PRIMITIVE
from mecpool.packaging import builder


JUJU_TYPES = {"STRING": "string", "INTEGER": "integer", "BOOLEAN": "boolean"}   # actions.yaml (JSON schema)
CONFIG_TYPES = {"STRING": "string", "INTEGER": "int", "BOOLEAN": "boolean"}      # config.yaml


def contract_charms(root, dest) -> dict:
    out = {}
    for name, primitives in CHARMS.items():
        charm = Path(dest) / name
        charm.mkdir(parents=True, exist_ok=True)
        actions, options = {}, {}
        for primitive in primitives.day1 + primitives.day2:
            if primitive.name == CONFIG_PRIMITIVE:
                for param in primitive.params:
                    options[param.name] = {"type": CONFIG_TYPES[param.data_type], "description": param.name}
            else:
                actions[primitive.name] = {"description": primitive.name,
                                           "params": {p.name: {"type": JUJU_TYPES[p.data_type]}
                                                      for p in primitive.params}}
        (charm / "metadata.yaml").write_text(yaml.safe_dump(
            {"name": name, "summary": name, "description": name, "series": ["bionic", "focal"]}))
        (charm / "actions.yaml").write_text(yaml.safe_dump(actions))
        (charm / "config.yaml").write_text(yaml.safe_dump({"options": options}))
        out[name] = charm
    return out


def build_packages(site, out_dir: Path) -> list:
    return builder.build(site, out_dir=str(out_dir), charm_provider=contract_charms).packages
