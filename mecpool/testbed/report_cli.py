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


@click.command("compare")
@click.argument("runs", nargs=-1, required=True, metavar="LABEL=RUN_DIR...")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the Markdown here (default: stdout).")
def compare(runs, output):
    """Compare testbed runs side by side with the reference, e.g.
    `mecpool report-compare stock=build/testbed/A fixed=build/testbed/B -o compare.md`."""
    from .compare import compare as make

    pairs = []
    for item in runs:
        label, sep, path = item.partition("=")
        if not sep or not label or not path:
            raise click.BadParameter("{!r} is not LABEL=RUN_DIR".format(item), param_hint="RUNS")
        pairs.append((label, Path(path)))
    try:
        text = make(pairs)
    except (RunDirError, ResultFileError) as error:
        raise click.ClickException(str(error))
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(str(output))
    else:
        click.echo(text)


compare.name = "report-compare"
COMMANDS = [report, compare]
