"""Read the PrettyTable output of osmclient v8.0 list commands (``osm
nfpkg-list``, ``ns-op-list``, ``vnf-list``, ``vim-list``): v8.0 offers no JSON
for lists.  Column bounds come from the ``+---+`` border, so a ``|`` inside a
cell does not split it; a row whose first cell is empty continues the row
above (osmclient wraps long cells over several lines)."""

from __future__ import annotations


class TableError(ValueError):
    """The text is not a PrettyTable."""


def _bounds(border: str) -> list[tuple[int, int]]:
    plus = [i for i, char in enumerate(border) if char == "+"]
    return [(a + 1, b) for a, b in zip(plus, plus[1:])]


def _cells(line: str, bounds: list[tuple[int, int]]) -> list[str]:
    return [line[a:b].strip() for a, b in bounds]


def parse(text: str) -> list[dict[str, str]]:
    """Rows of the first table in ``text`` as {header: cell}; wrapped cells joined by newlines."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("+-")), None)
    if start is None:
        raise TableError("no table in the output")
    border = lines[start].rstrip()
    bounds = _bounds(border)
    if start + 1 >= len(lines) or not lines[start + 1].startswith("|"):
        raise TableError("table has no header row")
    header = _cells(lines[start + 1], bounds)
    rows: list[list[str]] = []
    for line in lines[start + 2:]:
        if line.startswith("+-"):
            if rows or line.rstrip() != border:
                continue
            continue
        if not line.startswith("|"):
            break  # text after the table ("To get the history ...")
        cells = _cells(line, bounds)
        if cells[0] == "" and rows:
            rows[-1] = [f"{old}\n{new}" if new else old for old, new in zip(rows[-1], cells)]
        else:
            rows.append(cells)
    return [dict(zip(header, row)) for row in rows]
