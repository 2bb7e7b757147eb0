"""Build-time rendering of the descriptor and cloud-init templates.

The build uses its own delimiters (``[[ ]]``, ``[% %]``, ``[# #]``) so that
OSM's ``{{ }}`` placeholders in the cloud-init files pass through untouched:
OSM renders those at instantiation with each member's additionalParams.
"""

import json
from pathlib import Path

import jinja2

from mecpool.descriptors.members import NSD_ID, VNFDS

from . import payload

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


def cloud_init_code(ctx, library_text=None, root=REPO_ROOT):
    """What the pool VDUs' cloud-init templates embed (mecpool.packaging.payload):
    ``rserpool_payloads`` per role and ``freshload_library``, the library's gz+b64
    text when the site ships it (ctx's rsplib.freshload), else None."""
    if bool(ctx["rsplib"]["freshload"]) != (library_text is not None):
        raise RenderError("rsplib.freshload is {} but the library is {}".format(
            ctx["rsplib"]["freshload"], "given" if library_text is not None else "missing"))
    return {"rserpool_payloads": payload.rserpool_payloads(root), "freshload_library": library_text}


def render_package(env, name, kind, source, ctx, code, root=REPO_ROOT):
    """{relative path: text} of the rendered templates of one package: the
    descriptor and cloud_init/*.  Icons and charms are added by the builder.
    ``code``: cloud_init_code(...)."""
    root = Path(root)
    descriptor = "{}_{}d.yaml".format(name, "vnf" if kind == "vnf" else "ns")
    template = source / (descriptor + TEMPLATE_SUFFIX)
    if not template.is_file():
        raise RenderError("{}: the descriptor template is missing".format(template))
    extra = dict(code, payload_path=payload.TAR_PATH)
    files = {descriptor: render(env, template.relative_to(root).as_posix(), ctx, **extra)}
    cloud_init = source / "cloud_init"
    if cloud_init.is_dir():
        for path in sorted(cloud_init.iterdir()):
            if path.is_file() and path.name.endswith(TEMPLATE_SUFFIX):
                out_name = "cloud_init/" + path.name[:-len(TEMPLATE_SUFFIX)]
                files[out_name] = render(env, path.relative_to(root).as_posix(), ctx, **extra)
    return files
