"""Build-time rendering of the descriptor and cloud-init templates.

The build uses its own delimiters (``[[ ]]``, ``[% %]``, ``[# #]``) so that
OSM's ``{{ }}`` placeholders in the cloud-init files pass through untouched:
OSM renders those at instantiation with each member's additionalParams.
"""

import ast
import base64
import gzip
import json
from pathlib import Path

import jinja2

from mecpool.descriptors.members import NSD_ID, VNFDS

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_SUFFIX = ".j2"


class RenderError(Exception):
    """A template failed to render; the message names the template."""


def scalar(value):
    """A YAML-safe scalar: JSON strings, numbers and booleans are valid YAML."""
    if not isinstance(value, (str, int, float, bool)) or value is None:
        raise RenderError("not a scalar: {!r}".format(value))
    return json.dumps(value)


def block(text, width):
    """Indent a macro's YAML block by ``width`` and drop its final newline, so
    ``[[ macro()|block(4) ]]`` on a line of its own places it exactly."""
    lines = str(text).rstrip("\n").split("\n")
    return "\n".join((" " * width + line) if line.strip() else "" for line in lines)


def environment(root=REPO_ROOT):
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        block_start_string="[%", block_end_string="%]",
        variable_start_string="[[", variable_end_string="]]",
        comment_start_string="[#", comment_end_string="#]",
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["q"] = scalar
    env.filters["block"] = block
    return env


# The modules each pool VDU runs: the configure step (cloud-init), and on a PE its
# watchdog (rsp-pe-watchdog.service).  Per role: every byte costs about 2.4 in Nova's
# user data (gzip+base64 in the cloud-config, base64 in RO's MIME part, base64 again).
RSERPOOL_ENTRIES = {
    "registrar": ("configure.py",),
    "pool-element": ("configure.py", "watchdog.py"),
}


def rserpool_modules(role, root=REPO_ROOT):
    """The files of mecpool/rserpool that a pool VDU of ``role`` runs: the
    package's __init__ and the closure of RSERPOOL_ENTRIES[role]'s relative
    imports.  The rest (hsdump, __main__) is for charms and the testbed."""
    directory = Path(root) / "mecpool" / "rserpool"
    needed, todo = set(), ["__init__.py"] + list(RSERPOOL_ENTRIES[role])
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        tree = ast.parse((directory / name).read_text(encoding="utf-8"), filename=name)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                todo.append(node.module.split(".")[0] + ".py")
    return [(name, (directory / name).read_text(encoding="utf-8")) for name in sorted(needed)]


def gz_b64(text):
    """cloud-init's ``encoding: gz+b64``; mtime 0 keeps the build reproducible."""
    return base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii")


def rserpool_files(root=REPO_ROOT):
    """{role: [(file name, gzip+base64 text)]} shipped to the pool VDUs, sorted:
    the one generator of RSPLIB units, run by their cloud-init.  Compressed, so
    the user data stays far below Nova's limit (mecpool.packaging.userdata)."""
    return dict((role, [(name, gz_b64(text)) for name, text in rserpool_modules(role, root)])
                for role in RSERPOOL_ENTRIES)


def render(env, template, ctx, **extra):
    try:
        return env.get_template(template).render(ctx=ctx, **extra)
    except jinja2.TemplateError as error:
        where = getattr(error, "lineno", None)
        raise RenderError("{}{}: {}".format(template, ":{}".format(where) if where else "", error)) from None


def package_sources(root=REPO_ROOT):
    """{package name: (kind, source dir)} for every package the build makes."""
    root = Path(root)
    out = {name: ("vnf", root / "vnf-packages" / name) for name in VNFDS}
    out[NSD_ID] = ("ns", root / "ns-packages" / NSD_ID)
    return out


def render_package(env, name, kind, source, ctx, root=REPO_ROOT):
    """{relative path: text} of the rendered templates of one package: the
    descriptor and cloud_init/*.  Icons and charms are added by the builder."""
    root = Path(root)
    descriptor = "{}_{}d.yaml".format(name, "vnf" if kind == "vnf" else "ns")
    template = source / (descriptor + TEMPLATE_SUFFIX)
    if not template.is_file():
        raise RenderError("{}: the descriptor template is missing".format(template))
    extra = {"rserpool_files": rserpool_files(root)}
    files = {descriptor: render(env, template.relative_to(root).as_posix(), ctx, **extra)}
    cloud_init = source / "cloud_init"
    if cloud_init.is_dir():
        for path in sorted(cloud_init.iterdir()):
            if path.is_file() and path.name.endswith(TEMPLATE_SUFFIX):
                out_name = "cloud_init/" + path.name[:-len(TEMPLATE_SUFFIX)]
                files[out_name] = render(env, path.relative_to(root).as_posix(), ctx, **extra)
    return files
