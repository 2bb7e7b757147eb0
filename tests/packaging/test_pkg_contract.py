"""The primitive table the descriptors are made from agrees with every charm
source in charms/: each primitive is an action with exactly its parameters
(hyphenated), "config" parameters are config options, and the data types match."""

from pathlib import Path

import pytest
import yaml

from mecpool.descriptors import CHARMS
from mecpool.descriptors.primitives import CONFIG_PRIMITIVE

REPO = Path(__file__).resolve().parents[2]
JSON_TYPES = {"STRING": "string", "INTEGER": "integer", "BOOLEAN": "boolean"}
CONFIG_TYPES = {"STRING": "string", "INTEGER": "int", "BOOLEAN": "boolean"}


def load(charm, name):
    path = REPO / "charms" / charm / name
    assert path.is_file(), "{} is missing".format(path)
    return yaml.safe_load(path.read_text()) or {}


@pytest.mark.parametrize("charm", sorted(CHARMS))
def test_primitives_are_actions(charm):
    actions = load(charm, "actions.yaml")
    options = load(charm, "config.yaml").get("options") or {}
    table = CHARMS[charm]
    for primitive in table.day1 + table.day2:
        if primitive.name == CONFIG_PRIMITIVE:
            for param in primitive.params:
                assert param.name in options, (charm, param.name)
                assert options[param.name]["type"] == CONFIG_TYPES[param.data_type], (charm, param.name)
            continue
        assert primitive.name in actions, (charm, primitive.name)
        declared = actions[primitive.name].get("params") or {}
        assert set(declared) == {p.name for p in primitive.params}, (charm, primitive.name)
        for param in primitive.params:
            assert declared[param.name].get("type") == JSON_TYPES[param.data_type], (charm, primitive.name, param)


def test_every_param_name_is_underscored():
    for table in CHARMS.values():
        for primitive in table.day1 + table.day2:
            for param in primitive.params:
                if param.param is None:  # a fixed value (wait-peer's "i/n")
                    assert param.value is not None
                    continue
                assert "-" not in param.param and param.param == param.param.lower()
