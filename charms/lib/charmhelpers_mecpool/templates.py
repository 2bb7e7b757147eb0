"""Render jinja2 templates (StrictUndefined) and write them with files.write_file."""

import json
import shlex

import jinja2

from . import files


def libconfig_string(value):
    """A libconfig string literal: double-quoted with \\ and " escaped."""
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def json_value(value):
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises UndefinedError here; json.dumps would not
    return json.dumps(value)


class Renderer(object):
    """Templates from one directory; a missing variable is an error, not an empty string."""

    def __init__(self, template_dir):
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(template_dir)),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )
        self.env.filters["cfgstr"] = libconfig_string
        self.env.filters["json"] = json_value
        self.env.filters["shquote"] = lambda value: shlex.quote(str(value))

    def render(self, name, context):
        return self.env.get_template(name).render(**context)

    def render_to(self, name, path, context, owner="root", group="root", mode=0o644,
                  secret=False):
        """Render ``name`` into ``path``; returns True if the file changed."""
        return files.write_file(path, self.render(name, context), owner=owner, group=group,
                                mode=mode, secret=secret)
