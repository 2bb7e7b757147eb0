"""Read a site file and turn pydantic's errors into one message per field path."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .model import Site

DEFAULT_SITE_FILES = ("site.yaml", "site.example.yaml")


class SiteError(ValueError):
    """The site file is unusable; ``problems`` holds "path: problem" lines."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid site file {source}:\n{lines}")


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


def _path(loc: tuple[Any, ...]) -> str:
    """``a.b[0].c``; a key that is not a plain name (hostile input) is shown quoted
    and shortened, so the message stays one readable line."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(str(part)):
            out += ("." if out else "") + str(part)
        else:
            text = str(part)
            text = text if len(text) <= 40 else text[:37] + "..."
            out += f"[{text!r}]"
    return out


def _problems(error: ValidationError, lines: "LineIndex | None" = None) -> list[str]:
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        # Union members and constrained types add their own names to loc: drop them.
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
        message = item["msg"]
        for prefix in ("Value error, ", "Assertion failed, "):
            if message.startswith(prefix):
                message = message[len(prefix):]
        path = _path(loc)
        for line in message.splitlines():  # cross-checks carry their own paths
            text = f"{path}: {line}" if path else line
            problems.append(lines.annotate(text) if lines else text)
    return problems


_PATH_HEAD = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[[0-9]+\])*): ")
_PATH_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*|\[([0-9]+)\]")


class LineIndex:
    """Line numbers of the site file's keys (from yaml's node tree), for messages."""

    def __init__(self, text: str) -> None:
        try:
            self.root = yaml.compose(text)
        except yaml.YAMLError:
            self.root = None

    def line(self, parts: list) -> int | None:
        """1-based line of the deepest node of ``parts`` the file has."""
        node, found = self.root, None
        for part in parts:
            if isinstance(node, yaml.MappingNode):
                match = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part),
                             None)
                if match is None:
                    break
                found, node = match[0].start_mark.line + 1, match[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                found = node.start_mark.line + 1
            else:
                break
        return found

    def annotate(self, problem: str) -> str:
        """``path: message`` -> ``path (line N): message`` where the file has the path."""
        head = _PATH_HEAD.match(problem)
        if not head or self.root is None:
            return problem
        parts = [int(m.group(1)) if m.group(1) else m.group(0) for m in _PATH_PART.finditer(head.group(1))]
        line = self.line(parts)
        if line is None:
            return problem
        return f"{head.group(1)} (line {line}): {problem[head.end():]}"


def parse_site(data: Any, source: str = "<site>", lines: LineIndex | None = None) -> Site:
    if not isinstance(data, dict):
        raise SiteError(source, ["the file must hold a mapping at the top level"])
    try:
        return Site.model_validate(data)
    except ValidationError as error:
        raise SiteError(source, _problems(error, lines)) from None


def load_site(path: str | Path) -> Site:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SiteError(str(path), [f"cannot read: {error.strerror}"]) from None
    except UnicodeDecodeError:
        raise SiteError(str(path), ["not UTF-8 text"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise SiteError(str(path), [f"{where}not valid YAML ({getattr(error, 'problem', error)})"]) from None
    return parse_site(data, str(path), LineIndex(text))


def find_site_file(explicit: str | Path | None = None, root: Path | None = None) -> Path:
    """The site file to use: an explicit one, else site.yaml, else the committed example."""
    if explicit:
        return Path(explicit)
    root = root or Path.cwd()
    for name in DEFAULT_SITE_FILES:
        if (root / name).exists():
            return root / name
    raise SiteError(str(root / DEFAULT_SITE_FILES[0]), ["no site file (copy site.example.yaml to site.yaml)"])
