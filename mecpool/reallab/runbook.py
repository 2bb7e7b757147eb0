"""The runbook's `mecpool openstack-prepare` against the real stack and OSM: the lab makes what an
operator's cloud admin would have made before (two projects with a user each, a management network in
each, the VDU lab's image public in Glance), writes the lab's site file (mecpool.reallab.site), then runs
our own `mecpool openstack-prepare` twice inside the namespace with the real `openstack` and `osm`: the
first run must create the site's flavors, networks, subnets, security group rules and OSM VIM accounts,
the second must say there is nothing to change.  Every answer is kept (result.json, mecpool-commands.log)."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

from mecpool.vdulab.image import ensure_image

from . import site as lab_site
from .smoke import MIRROR_URL, qcow2_of, upload_image


class RunbookError(RuntimeError):
    """A runbook step failed against the real stack; the message holds what our command said."""


NOTHING = "nothing to change"


def unchanged(said: str, vims) -> bool:
    """openstack-prepare's second run: every VIM of the site says it has nothing to change."""
    return said.count(f"  = {NOTHING}") == len(vims)


def cloud_setup(stack, passwords: dict[str, str], log, vims=lab_site.VIMS) -> None:
    """As the cloud's admin: a project and a user per VIM (with the admin role: see below), and its management network (a tenant
    network: VXLAN) with a subnet, which openstack-prepare expects to exist."""
    for v in vims:
        stack.openstack("project", "create", "--domain", "default", v.project)
        stack.openstack("user", "create", "--domain", "default", "--project", v.project,
                        "--password", passwords[v.name], v.user)
        # admin: Nova lets only the cloud's admin create flavors (openstack-prepare makes the site's)
        stack.openstack("role", "add", "--project", v.project, "--user", v.user, "admin")
        net = json.loads(stack.openstack("network", "create", "--project", v.project, "-f", "json",
                                         lab_site.mgmt_network(v)).stdout)
        stack.openstack("subnet", "create", "--project", v.project, "--network", net["id"],
                        "--subnet-range", v.mgmt_subnet, f"{lab_site.mgmt_network(v)}-subnet")
        log(f"reallab runbook: project {v.project}, user {v.user}, network {lab_site.mgmt_network(v)} "
            f"({net.get('provider:network_type')}) {v.mgmt_subnet}")


def image(stack, cache_root: Path, log) -> dict:
    """The VDU lab's image, public, named as the lab's site names it."""
    def osj(*args):
        return json.loads(stack.openstack(*args, "-f", "json", timeout=600).stdout)
    lab_image = ensure_image(cache_root, MIRROR_URL, log)
    return upload_image(osj, lab_image, qcow2_of(lab_image, cache_root, log), lab_site.IMAGE_NAME, ("--public",))


def run(osm, stack, cache_root: Path, log, result: dict | None = None) -> dict:
    """Set the cloud up, write the site, openstack-prepare twice; raises RunbookError on a failure
    (`result`, filled as it goes, then holds what was said up to there)."""
    result = {} if result is None else result
    t: dict = result.setdefault("seconds", {})
    passwords = {v.name: secrets.token_hex(12) for v in lab_site.VIMS}
    started = time.monotonic()
    cloud_setup(stack, passwords, log)
    t["projects, users, mgmt networks"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    image(stack, cache_root, log)
    t["image upload"] = round(time.monotonic() - started, 1)
    site_path = osm.paths.base / "site.yaml"
    lab_site.write(site_path, stack.settings.url("keystone"), f"{lab_site.OSM_HOST}/32")
    result["site"] = str(site_path)
    env = lab_site.secrets_env(passwords)
    env["OPENSTACK_CLI"] = "/usr/bin/openstack"   # Debian's, in the namespace (not a venv's)
    for attempt in ("first", "second"):
        started = time.monotonic()
        done = osm.mecpool("openstack-prepare", "--site", str(site_path), env=env)
        said = (done.stdout + done.stderr).strip()
        result[f"prepare_{attempt}"] = {"exit": done.returncode, "said": said[-6000:],
                                        "seconds": round(time.monotonic() - started, 1)}
        log(f"reallab runbook: openstack-prepare ({attempt} run): exit {done.returncode}")
        if done.returncode != 0:
            raise RunbookError(f"mecpool openstack-prepare ({attempt} run) exited {done.returncode}: {said[-2000:]}")
    if not unchanged(result["prepare_second"]["said"], lab_site.VIMS):
        raise RunbookError(f"openstack-prepare's second run changed something: {result['prepare_second']['said']}")
    result["vim_list"] = osm.osm("vim-list", check=False).stdout
    # day 0-1 on the prepared site: build, onboard, instantiate --wait, status, pool-status, teardown
    from . import runbook_ns
    result["ns"] = {}
    runbook_ns.run(osm, stack, cache_root, site_path, env, log, result["ns"])
    if result["ns"].get("failed"):
        raise RunbookError("the NS's runbook: " + "; ".join(result["ns"]["failed"]))
    return result
