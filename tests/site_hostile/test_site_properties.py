"""Property test: hostile values anywhere in a site file give a clear error, never a
traceback, and never reach a command line or file unvalidated (issue 4)."""

import copy
import re
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from mecpool.site import SiteError, parse_site
from mecpool.site.model import Site

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = yaml.safe_load((ROOT / "site.example.yaml").read_text())
# "path: problem", the path made of plain names, [index] and ['quoted key'] parts.
_PART = r"""([A-Za-z_][\w-]*|\[\d+\]|\[(?:'[^\n]*?'|"[^\n]*?")\])"""
PROBLEM = re.compile(r"^" + _PART + r"(\.?" + _PART + r")*: \S|^the file must hold a mapping")
UNSAFE = re.compile(r"[;&|$`<>\n\r\t'\"\\ ]|[^\x21-\x7e]")


def leaf_paths(node, prefix=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaf_paths(value, prefix + (key,))
    elif isinstance(node, list) and node and not all(isinstance(v, (str, int, float)) for v in node):
        for index, value in enumerate(node):
            yield from leaf_paths(value, prefix + (index,))
    yield prefix


PATHS = [p for p in leaf_paths(EXAMPLE) if p]

hostile_strings = st.one_of(
    st.sampled_from([
        "x; rm -rf /", "$(reboot)", "`id`", "a|b", "../../etc/passwd", "name with space",
        "10.0.0.1; true", "999.1.1.1", "10.101.0.300", "1.2.3.4", "ünïcødé", "\u202e", "", " ",
        "0x", "-1", "1e400", "NaN", "242", "24", "true", "null", "a" * 5000, "line\nbreak",
        "--help", "-flag=1", "{{ injected }}", "<rw_mgmt_ip>", "%s%n", "\x00",
    ]),
    st.text(max_size=40),
)
hostile_values = st.one_of(
    hostile_strings,
    st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(hostile_strings, max_size=3),
    st.dictionaries(hostile_strings, hostile_strings, max_size=2),
)


def set_path(document, path, value):
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def plain_strings(model):
    """Every non-secret string value in a validated model."""
    if isinstance(model, SecretStr):
        return
    if isinstance(model, str):
        yield model
    elif isinstance(model, dict):
        for key, value in model.items():
            yield from plain_strings(key)
            yield from plain_strings(value)
    elif isinstance(model, (list, tuple)):
        for value in model:
            yield from plain_strings(value)
    elif hasattr(type(model), "model_fields"):
        for name in type(model).model_fields:
            yield from plain_strings(getattr(model, name))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=hostile_values)
def test_hostile_value_gives_clear_error_or_safe_model(path, value):
    document = copy.deepcopy(EXAMPLE)
    set_path(document, path, value)
    try:
        site = parse_site(document, "hostile.yaml")
    except SiteError as error:
        assert error.problems, "an error must list its problems"
        for problem in error.problems:
            assert PROBLEM.match(problem), problem
        return
    assert isinstance(site, Site)
    for text in plain_strings(site):
        assert not UNSAFE.search(text), f"unsafe value accepted at {path}: {text!r}"


@settings(max_examples=150, deadline=None)
@given(data=st.recursive(hostile_values, lambda inner: st.dictionaries(st.text(max_size=8), inner, max_size=4)))
def test_arbitrary_documents_never_raise_anything_but_site_error(data):
    try:
        parse_site(data, "random.yaml")
    except SiteError as error:
        assert error.problems
