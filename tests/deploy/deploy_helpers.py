"""Helpers shared by the deploy tests (a module of its own, like deploy_constants)."""

import yaml

FAST = ("--poll-interval", "0")


def edit_site(workdir, change, name="site.yaml"):
    """Change the site file in place: ``change`` gets the parsed YAML."""
    data = yaml.safe_load((workdir / name).read_text())
    change(data)
    (workdir / name).write_text(yaml.safe_dump(data, sort_keys=False))
