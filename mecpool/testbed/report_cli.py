"""``mecpool report RUN_DIR``: regenerate CSVs, Table 1, figures and report.md from stored results."""

from pathlib import Path

import click

from .calcapp_files import ResultFileError
from .results import RunDirError


@click.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
def report(run_dir):
    """Rebuild pu.csv, pe.csv, runs.csv, jobs.csv, table1.csv, meta.json, figures/ and report.md of RUN_DIR.

    RUN_DIR is a testbed run directory, e.g. build/testbed/<run-id> or build/testbed/latest.
    """
    from .report import write_report  # matplotlib loads only when a report is made

    try:
        path = write_report(run_dir)
    except (RunDirError, ResultFileError) as error:
        raise click.ClickException(str(error))
    click.echo(str(path))


COMMANDS = [report]
