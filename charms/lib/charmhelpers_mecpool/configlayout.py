"""The key layout of an OAI configuration file, and how two layouts differ.

OAI reads its libconfig/JSON files by key name; a key it does not know is
ignored and a key it needs but does not find falls back to a default or stops
the daemon.  Which keys a version reads is what its own template in etc/ holds,
so a charm compares what it is about to write with that template: same keys,
same kinds of value.  Values do not matter here, only the layout.

Templates hold OAI's ``@TOKEN@`` placeholders.  A quoted one is a string; an
unquoted one (``INSTANCE = @INSTANCE@;``) could become any scalar, so it is
read as the kind ``any``.  Both files are parsed with real parsers (libconf,
json) after that one substitution.
"""

import json
import re

import libconf

ANY = "any"
_MARK = "@@mecpool-placeholder@@"
# A quoted string or a comment (kept as they are) or a bare @TOKEN@ (replaced):
# scanning strings and comments first keeps a '#' or '"' inside them from
# confusing the placeholder search.
_SCAN = re.compile(r'("(?:[^"\\\n]|\\.)*"|#[^\n]*|//[^\n]*|/\*.*?\*/)|@[A-Za-z0-9_.-]+@',
                   re.DOTALL)


class LayoutError(ValueError):
    """A file could not be parsed into a layout."""


class Layout(object):
    """``kinds``: key path -> kind; ``optional``: paths that some items of a list
    have and others lack (the template shows them as optional)."""

    def __init__(self, kinds, optional=(), lists=()):
        self.kinds = dict(kinds)
        self.optional = set(optional)
        self.lists = set(lists)

    def __repr__(self):
        return "Layout({!r})".format(sorted(self.kinds.items()))


class Difference(object):
    """How a rendered file differs from the template of a ref (named fields)."""

    def __init__(self, unknown, missing, kinds):
        self.unknown = sorted(unknown)    # keys we write that this version does not have
        self.missing = sorted(missing)    # keys this version has that we do not write
        self.kinds = sorted(kinds)        # (key, ours, theirs) with another kind of value

    def __bool__(self):
        return bool(self.unknown or self.missing or self.kinds)

    __nonzero__ = __bool__

    def describe(self, limit=6):
        parts = []
        for label, items in (("not in the template", self.unknown),
                             ("missing", self.missing)):
            if items:
                shown = ", ".join(items[:limit]) + (" ..." if len(items) > limit else "")
                parts.append("{} {}".format(label, shown))
        if self.kinds:
            shown = ", ".join("{} ({} here, {} there)".format(*k) for k in self.kinds[:limit])
            parts.append("other kind of value: " + shown)
        return "; ".join(parts)


def _kind(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return ANY if value == _MARK else "string"
    if isinstance(value, dict):
        return "group"
    if isinstance(value, tuple):
        return "list"        # libconf: ( ... ) lists
    if isinstance(value, list):
        return "array"       # libconf: [ ... ] arrays, JSON arrays
    raise LayoutError("unexpected value type {}".format(type(value).__name__))


def _walk(value, path, kinds, optional, lists):
    kind = _kind(value)
    if path:
        kinds[path] = kind
    if kind == "group":
        for key, item in value.items():
            _walk(item, "{}.{}".format(path, key) if path else key, kinds, optional, lists)
    elif kind in ("list", "array") and value and all(isinstance(i, dict) for i in value):
        lists.add(path)
        seen = []
        for item in value:
            item_kinds = {}
            _walk(item, path + "[]", item_kinds, set(), set())
            seen.append(set(item_kinds))
            kinds.update(item_kinds)
        every = set.intersection(*seen)
        optional.update(set.union(*seen) - every)


def layout_of(data):
    kinds, optional, lists = {}, set(), set()
    _walk(data, "", kinds, optional, lists)
    return Layout(kinds, optional, lists)


def _fill_placeholders(text):
    return _SCAN.sub(lambda m: m.group(1) if m.group(1) else '"{}"'.format(_MARK), text)


def libconfig_layout(text):
    try:
        return layout_of(libconf.loads(_fill_placeholders(text)))
    except Exception as error:  # libconf raises several types (ConfigParseError, ...)
        raise LayoutError("not a libconfig file: {}".format(error))


def json_layout(text):
    try:
        return layout_of(json.loads(_fill_placeholders(text)))
    except ValueError as error:
        raise LayoutError("not a JSON file: {}".format(error))


PARSERS = {"libconfig": libconfig_layout, "json": json_layout}


def compare(ours, theirs):
    """What ``ours`` (the rendered file) has that ``theirs`` (the template) lacks,
    and the other way round.  Keys optional in the template's list items may be
    left out; an empty list of ours has no items to check."""
    unknown = set(ours.kinds) - set(theirs.kinds)
    empty_lists = {p for p, k in ours.kinds.items() if k in ("list", "array")
                   and p not in ours.lists}
    missing = set()
    for path in set(theirs.kinds) - set(ours.kinds):
        if path in theirs.optional:
            continue
        if any(path.startswith(lst + "[]") for lst in empty_lists):
            continue
        missing.add(path)
    kinds = []
    for path in set(ours.kinds) & set(theirs.kinds):
        mine, other = ours.kinds[path], theirs.kinds[path]
        if mine != other and ANY not in (mine, other):
            kinds.append((path, mine, other))
    return Difference(unknown, missing, kinds)
