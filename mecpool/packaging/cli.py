"""``mecpool build`` and ``mecpool validate``."""

import sys
from pathlib import Path

import click

from mecpool.descriptors import ParamsError, additional_params
from mecpool.output import emit, output_option
from mecpool.site import SiteError, find_site_file, load_site

from .builder import BuildError, build
from .render import RenderError
from .userdata import NOVA_USER_DATA_LIMIT, USER_DATA_GOAL
from .validate import ValidationFailed, find_packages, validate_packages


def _site(path):
    return load_site(find_site_file(path))


def _fail(message, code=2):
    click.echo("mecpool: {}".format(message), err=True)
    sys.exit(code)


def _size(n):
    return "{:.1f} MiB".format(n / 1048576) if n >= 1048576 else "{:.1f} KiB".format(n / 1024)


@click.command("build")
@click.option("--site", "site_file", type=click.Path(dir_okay=False),
              help="Site file (default: site.yaml, else site.example.yaml).")
@click.option("--out", "--build-dir", "out_dir", default="build", show_default=True, type=click.Path(file_okay=False),
              help="Output directory (--build-dir, as the deploy commands call it).")
@output_option
def build_command(site_file, out_dir, output):
    """Validate the site file, then build and validate every OSM package."""
    try:
        path = find_site_file(site_file)
        site = load_site(path)
        click.echo("site: {} ({})".format(site.name, path), err=output != "table")
        result = build(site, out_dir)
    except (SiteError, ParamsError, RenderError, BuildError) as error:
        _fail(error)
    except ValidationFailed as error:
        _fail("build failed, nothing written: {}".format(error), 1)
    if output != "table":
        emit(build_report(site.name, str(path), out_dir, result), output)
        return
    for item in result.packages:
        click.echo("{:<52} {:>10}  md5 {}".format(str(Path(out_dir) / item.path.parent.name / item.path.name),
                                                  _size(item.size), item.md5))
    click.echo("built and validated {} packages".format(len(result.packages)))
    echo_user_data(result.user_data)


def build_report(site_name, site_file, out_dir, result):
    """The build's report as data (-o json|yaml)."""
    return {"site": site_name, "site_file": site_file, "build_dir": str(out_dir),
            "packages": [{"path": str(Path(out_dir) / item.path.parent.name / item.path.name), "bytes": item.size,
                          "md5": item.md5} for item in result.packages],
            "user_data": [{"member": item.member, "vnfd": item.vnfd_id, "vdu": item.vdu_id,
                           "bytes": item.user_data_bytes, "cloud_init_bytes": item.rendered_bytes,
                           "over_goal": item.user_data_bytes > USER_DATA_GOAL} for item in result.user_data],
            "user_data_goal": USER_DATA_GOAL, "nova_user_data_limit": NOVA_USER_DATA_LIMIT}


def echo_user_data(sizes):
    """Per VDU: the user data Nova receives from OSM R8 (LCM render, RO multipart
    with the N2VC keys, novaclient base64) against our goal and Nova's limit."""
    click.echo("user data per VDU, as OSM R8 sends it to Nova (goal {:,} bytes, Nova's limit {:,}):".format(
        USER_DATA_GOAL, NOVA_USER_DATA_LIMIT))
    for item in sizes:
        mark = "" if item.user_data_bytes <= USER_DATA_GOAL else "  over the goal"
        click.echo("  member {:>2} {:<17} {:<13} {:>7,} bytes (cloud-init {:,}){}".format(
            item.member, item.vnfd_id, item.vdu_id, item.user_data_bytes, item.rendered_bytes, mark))


@click.command("validate")
@click.argument("target", type=click.Path(exists=True))
@click.option("--site", "site_file", type=click.Path(dir_okay=False),
              help="Also check that the site's additionalParams cover every <param>.")
def validate_command(target, site_file):
    """Validate a package (.tar.gz or directory) or a whole build directory."""
    try:
        packages = find_packages(target)
        params = additional_params(_site(site_file), reveal_secrets=False) if site_file else None
    except (SiteError, ParamsError, OSError) as error:
        _fail(error)
    if not packages:
        _fail("{}: no packages found".format(target))
    violations = validate_packages(packages, params)
    for violation in violations:
        click.echo("  - {}".format(violation), err=True)
    if violations:
        _fail("{} violation(s) in {}".format(len(violations), target), 1)
    for package in packages:
        click.echo("valid: {}".format(package.source))


COMMANDS = [build_command, validate_command]
