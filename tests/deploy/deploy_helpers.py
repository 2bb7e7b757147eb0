"""Helpers shared by the deploy tests (a module of its own, like deploy_constants)."""

import yaml

FAST = ("--poll-interval", "0")


def edit_site(workdir, change, name="site.yaml"):
    """Change the site file in place: ``change`` gets the parsed YAML."""
    data = yaml.safe_load((workdir / name).read_text())
    change(data)
    (workdir / name).write_text(yaml.safe_dump(data, sort_keys=False))


def ready_ns(fakes, mecpool, ns="mec1"):
    """VIMs registered, packages onboarded, NS `ns` instantiated with --wait (READY)."""
    fakes.register_vims()
    mecpool("onboard", "--site", "site.yaml")
    mecpool("instantiate", ns, "--site", "site.yaml", "--wait", *FAST)
