"""NS instance names: OSM's rule (the NBI's name_schema at v8.0: 1..255
characters, none of , ; ( ) ' ") and ours on top, because the name is also a
positional argument of ``osm`` and a directory under build/deploy/: it starts
with a letter or digit (so it is never read as an option such as --wait) and
holds only letters, digits, '.', '_' and '-' (no path separators, no spaces),
at most 63 characters."""

from __future__ import annotations

import re

OSM_FORBIDDEN = set(",;()'\"")
OURS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def ns_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an NS instance (None when it can)."""
    if not name:
        return "is empty"
    bad = sorted(OSM_FORBIDDEN & set(name))
    if bad or len(name) > 255:
        return (f"{name!r} breaks OSM's rule for names (1..255 characters, none of , ; ( ) ' \")"
                + (f": it holds {' '.join(bad)}" if bad else ""))
    if name.startswith("-"):
        return f"{name!r} starts with '-' (an option was given where the NS name belongs)"
    if not OURS.match(name) or name in (".", ".."):
        return (f"{name!r}: an NS name starts with a letter or digit and holds only letters, digits, '.', '_' "
                "and '-' (at most 63 characters; no spaces or '/': it also names build/deploy/<NS>/)")
    return None
