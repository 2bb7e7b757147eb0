"""``-o table|json|yaml``: one option for every command that reports (osmclient and openstack users
expect it), and one way to print the machine-readable forms."""

from __future__ import annotations

import json

import click
import yaml

FORMATS = ("table", "json", "yaml")

output_option = click.option("-o", "--output", "output", type=click.Choice(FORMATS), default="table",
                             show_default=True, help="table for people; json or yaml for scripts (on stdout, "
                                                     "nothing else there).")


def emit(data, fmt: str) -> None:
    """Print ``data`` (plain dicts, lists, strings, numbers) as JSON or YAML on stdout."""
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
    else:
        click.echo(yaml.safe_dump(json.loads(json.dumps(data, default=str)), sort_keys=True,
                                  default_flow_style=False).rstrip())
