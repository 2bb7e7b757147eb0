"""The ``mecpool`` command: one click group; each area contributes its commands."""

import importlib

import click

from . import __version__

# Each module exports COMMANDS, a list of click commands or groups.
AREAS = (
    "mecpool.packaging.cli",
    "mecpool.testbed.report_cli",
    "mecpool.testbed.cli",
    "mecpool.deploy.cli",
    "mecpool.vdulab.cli",
    "mecpool.reallab.cli",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mecpool")
def main():
    """Deploy and measure RSerPool workload offloading for MEC (OSM Release EIGHT)."""


for _area in AREAS:
    for _command in importlib.import_module(_area).COMMANDS:
        main.add_command(_command)
