"""``mecpool teardown NS``: ``osm ns-delete NS [--force]``; with ``--wait``
follow the terminate operation until OSM has removed the NS record.

``--all`` then removes, in this order, what the other steps left: the
instantiation config under build/deploy/<NS>/ (K and OP in clear text), the
NS and VNF packages, the site's VIM accounts (those with the site's security
group), and on each VIM the security group, the site's flavors (mecpool-<site>-*) and the
networks and images openstack-prepare created (tagged mecpool-<site>).
What was there before openstack-prepare is named and kept."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from mecpool.descriptors import EPC_VNFD, NSD_ID, POOL_ELEMENT_VNFD, REGISTRAR_VNFD
from mecpool.descriptors.members import marked_site
from mecpool.site.model import Site

from .errors import CommandFailed, DeployError
from .openstack import OpenStack
from .osmcli import Osm
from .prepare import VimPlan, account_security_groups, security_group_name, site_tag
from .wait import FAILED, op_detail


def ns_delete_args(ns: str, force: bool) -> list[str]:
    return ["ns-delete", ns] + (["--force"] if force else [])


def wait_deleted(osm: Osm, ns: str, timeout: float, interval: float, echo) -> None:
    """Poll ``ns-op-list`` until the NS is gone (OSM removes it after terminating)."""
    start = time.monotonic()
    last = None
    while True:
        try:
            rows = osm.table("ns-op-list", ns)
        except CommandFailed as error:
            if "not found" in (error.stdout + error.stderr):
                echo(f"  NS {ns} deleted ({time.monotonic() - start:.0f} s)")
                return
            raise
        terminate = [row for row in rows if row["operation"] == "terminate"]
        if terminate:
            row = terminate[-1]
            if row["status"] in FAILED:
                op = osm.literal("ns-op-show", row["id"])
                raise DeployError(f"terminating NS {ns} {row['status']} (operation {row['id']}):\n  {op_detail(op)}",
                                  undo=[f"mecpool teardown {ns} --force   (removes OSM's record; check the VIMs "
                                        "for leftover VMs and networks)"])
            if (row["status"], row["detail"]) != last:
                echo(f"  terminate: {row['status']}" + (f" - {row['detail']}" if row["detail"] not in ("", "-") else ""))
                last = (row["status"], row["detail"])
        if time.monotonic() - start >= timeout:
            raise DeployError(f"NS {ns} still exists after {timeout:g} s (timeout); OSM goes on terminating it: "
                              f"osm ns-op-list {ns}")
        time.sleep(interval)


# --- teardown --all: what openstack-prepare, onboard and instantiate left -----------------------

def remove_config(build_dir: Path, ns: str, echo, dry_run: bool) -> None:
    """build/deploy/<NS>/ (the instantiation config, K and OP in clear text)."""
    from .instantiate import config_path
    folder = config_path(build_dir, ns).parent
    if not folder.exists():
        echo(f"  = {folder}: not there")
        return
    if dry_run:
        echo(f"$ rm -r {folder}    # the instantiation config (holds K and OP)")
        return
    shutil.rmtree(folder)
    echo(f"  - {folder} removed (the instantiation config, held K and OP)")


def remove_packages(osm: Osm, echo, dry_run: bool, site_name: str) -> list[str]:
    """The NS package, then the VNF packages (OSM refuses a VNFD an NSD references).  Package ids
    are the same for every site: a package another site's build marked is that site's, and stays."""
    done = []
    for prefix, descriptor in [("nspkg", NSD_ID)] + [("nfpkg", v) for v in (EPC_VNFD, REGISTRAR_VNFD,
                                                                             POOL_ELEMENT_VNFD)]:
        if dry_run:
            osm.show(f"{prefix}-list", "--filter", f"id={descriptor}", note="check")
            osm.show(f"{prefix}-show", f"<_id of {descriptor}>", "--literal", note=f"if onboarded: of site {site_name}?")
            osm.show(f"{prefix}-delete", f"<_id of {descriptor}>", note="if it is")
            continue
        rows = osm.table(f"{prefix}-list", "--filter", f"id={descriptor}")
        if not rows:
            echo(f"  = package {descriptor}: not onboarded")
        for row in rows:
            owner = marked_site(osm.literal(f"{prefix}-show", row["id"]).get("description"))
            if owner is not None and owner != site_name:
                echo(f"  = package {descriptor} ({row['id']}) is site {owner}'s: left in OSM")
                continue
            osm.call(f"{prefix}-delete", row["id"])
            echo(f"  - package {descriptor} deleted from OSM ({row['id']})")
            done.append(f"package {descriptor} deleted")
    return done


def remove_vim_accounts(site: Site, osm: Osm, echo, dry_run: bool) -> list[str]:
    """The site's VIM accounts, where they carry the site's security group (ours)."""
    wanted = security_group_name(site)
    done = []
    registered = set() if dry_run else {row["vim name"] for row in osm.table("vim-list")}
    for vim in site.vims.values():
        account = vim.osm_account
        if dry_run:
            osm.show("vim-show", account, note=f"only deleted if its security_groups is {wanted}")
            osm.show("vim-delete", account)
            continue
        if account not in registered:
            echo(f"  = VIM account {account}: not registered")
            continue
        groups = account_security_groups(osm, account)
        if groups != wanted:
            echo(f"  ! VIM account {account} kept: its security_groups is {groups!r}, not {wanted} "
                 "(not made by openstack-prepare for this site)")
            continue
        osm.call("vim-delete", account)
        echo(f"  - VIM account {account} deleted from OSM")
        done.append(f"VIM account {account} deleted")
    return done


class VimCleaner:
    """Removes from one VIM what openstack-prepare created for the site: the security group,
    the site's flavors (mecpool-<site>-*), and the networks and images tagged mecpool-<site>."""

    def __init__(self, site: Site, plan: VimPlan, openstack: OpenStack, echo, dry_run: bool) -> None:
        self.site, self.plan, self.os, self.echo, self.dry_run = site, plan, openstack, echo, dry_run
        self.tag = site_tag(site)
        self.done: list[str] = []

    def delete(self, what: str, *args: str) -> None:
        if self.dry_run:
            self.os.show_plain(*args)
            return
        self.os.run_plain(*args)
        self.echo(f"  - {what}")
        self.done.append(f"VIM {self.plan.name}: {what}")

    def run(self) -> list[str]:
        if self.dry_run:
            return self.show()
        group = self.plan.security_group
        project = self.os.account.project
        for row in self.os.call("security", "group", "list", "--project", project) or []:
            if row["Name"] == group:
                self.delete(f"security group {group}", "security", "group", "delete", row["ID"])
        flavors = {row["Name"]: row["ID"] for row in self.os.call("flavor", "list", "--all") or []}
        for name in self.plan.flavors:
            if name in flavors:
                self.delete(f"flavor {name}", "flavor", "delete", flavors[name])
        tagged = {row["Name"]: row["ID"] for row in self.os.call("network", "list", "--tags", self.tag) or []}
        for net in self.plan.networks:
            if net.name in tagged:
                self.delete(f"network {net.name} with its subnets", "network", "delete", tagged[net.name])
            else:
                self.echo(f"  = network {net.name} kept (not tagged {self.tag}: it was there before)")
        images = {row["Name"]: row["ID"] for row in self.os.call("image", "list", "--tag", self.tag) or []}
        for name, _ in self.plan.images.values():
            if name in images:
                self.delete(f"image {name}", "image", "delete", images[name])
            else:
                self.echo(f"  = image {name} kept (not tagged {self.tag}: it was there before)")
        return self.done

    def show(self) -> list[str]:
        group = self.plan.security_group
        project = self.os.account.project
        self.os.show("security", "group", "list", "--project", project, note="check")
        self.os.show_plain("security", "group", "delete", f"<id of {group}>", note="if there")
        self.os.show("flavor", "list", "--all", note="check")
        for name in self.plan.flavors:
            self.os.show_plain("flavor", "delete", f"<id of {name}>", note="if there")
        self.os.show("network", "list", "--tags", self.tag, note="networks openstack-prepare created")
        for net in self.plan.networks:
            self.os.show_plain("network", "delete", f"<id of {net.name}>", note=f"if tagged {self.tag}")
        self.os.show("image", "list", "--tag", self.tag, note="images openstack-prepare uploaded")
        for name, _ in self.plan.images.values():
            self.os.show_plain("image", "delete", f"<id of {name}>", note=f"if tagged {self.tag}")
        return []
