"""The deployment commands of ``mecpool``: openstack-prepare, onboard,
instantiate, scale-pe, pe-action, pool-status, status, teardown, juju-status,
failed-actions.  Each has ``--dry-run`` (check the input as the run does,
print the exact commands and files, change nothing; openstack-prepare's reads
the VIMs as its run does, the others call nothing).

One grammar: the NS instance is the first argument of every command that
acts on one; ``--site`` is accepted everywhere.  One error format:
``mecpool: <what is wrong>`` on stderr, exit code 2 for bad input found
before anything was called or changed (site file, NS name, secrets, stale
build, options), 1 for a failure on the way (osm/openstack/Juju said no,
timeout), 3 when a day-2 action did not reach every PE VDU it was meant
for, 130 when Ctrl-C stopped a wait (OSM goes on); what was already done and
how to undo or go on follows."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import click
import yaml
from rich.console import Console

from mecpool.descriptors import EPC, PE_GROUP, REGISTRAR, ParamsError, member_for, members
from mecpool.output import emit, output_option
from mecpool.packaging.render import REPO_ROOT
from mecpool.site import SiteError, find_site_file, load_site
from mecpool.site.buildinfo import stale_reason
from mecpool.site.model import Secret

from . import instantiate as inst
from . import epcresume, groups, jujudebug, jujureport, nsrecord, onboard as onboarding, peaction, pevdus
from . import poolstatus, prepare, quotas, vimauth
from . import scale as scaling
from . import status as ns_status
from . import teardown as teardown_mod
from .errors import DeployError, InputError, Interrupted, Partial
from .names import ns_name_problem
from .osmcli import Osm, OsmOptions
from .openstack import OpenStack
from .packages import BuiltPackages
from .runner import Masker, Runner
from .wait import FAILED, Waiter, find_op, op_detail

DEFAULT_TIMEOUT = 7200


def echo(text: str) -> None:
    click.echo(text)


def console() -> Console:
    """Rich output; wide when not on a terminal (logs, pipes) so tables are not cut."""
    out = Console()
    return out if out.is_terminal else Console(width=200)


EXIT_FAILED, EXIT_INPUT, EXIT_PARTIAL, EXIT_INTERRUPTED = 1, 2, 3, 130


def fail(message: str, code: int) -> None:
    click.echo(f"mecpool: {message}", err=True)
    sys.exit(code)


def fails_cleanly(command):
    """Errors the user can act on: ``mecpool: ...`` on stderr, no traceback; exit code 2 for
    bad input (nothing was done), 1 for a failure on the way."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except InputError as error:
            fail(error.report(), EXIT_INPUT)
        except Interrupted as error:
            fail(error.report(), EXIT_INTERRUPTED)
        except Partial as error:
            fail(error.report(), EXIT_PARTIAL)
        except DeployError as error:
            fail(error.report(), EXIT_FAILED)
        except (SiteError, ParamsError, ValueError) as error:
            fail(str(error), EXIT_INPUT)
        except KeyboardInterrupt:
            # outside a wait (those say what runs): a call to osm/openstack may have been accepted already
            fail("interrupted (Ctrl-C) during a call to osm or openstack: what it had started may go on; "
                 "look before running it again (mecpool status NS, or the same command with --dry-run)",
                 EXIT_INTERRUPTED)
    return wrapper


def check_ns(ctx, param, value):
    """Click callback: the NS name by OSM's rule and ours (mecpool.deploy.names)."""
    if value is None:
        return value
    problem = ns_name_problem(value)
    if problem:
        raise click.BadParameter(problem)
    return value


ns_argument = click.argument("ns", callback=check_ns, metavar="NS")


def osm_options(command):
    for option in reversed([
        click.option("--hostname", help="OSM host (else OSM_HOSTNAME, as osm itself)."),
        click.option("--user", help="OSM user (else OSM_USER)."),
        click.option("--password", help="OSM password (else OSM_PASSWORD); passed to osm in its environment."),
        click.option("--project", help="OSM project (else OSM_PROJECT)."),
        click.option("--dry-run", is_flag=True,
                     help="Check the input as the run does, print the exact commands and files; change nothing."),
        click.option("--poll-interval", type=float, default=10.0, show_default=True, hidden=True,
                     help="Seconds between polls of OSM."),
    ]):
        command = option(command)
    return command


def site_option(required: bool = True):
    return click.option("--site", "site_file", type=click.Path(dir_okay=False, path_type=Path),
                        help="Site file (default: site.yaml, else site.example.yaml).")


DEFAULT_BUILD = Path("build")
build_option = click.option("--build-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_BUILD,
                            show_default=True, help="Where `mecpool build` put the packages.")


def context(dry_run, hostname=None, user=None, password=None, project=None):
    runner = Runner(echo, Masker(), dry_run=dry_run)
    osm = Osm(runner, OsmOptions(hostname, user, password, project))
    if dry_run:
        host = hostname or os.environ.get("OSM_HOSTNAME")
        echo(f"# OSM: {host + ' (--hostname)' if hostname else (host + ' (OSM_HOSTNAME)') if host else 'OSM_HOSTNAME is not set: osm would use its default, 127.0.0.1'}")
    return runner, osm


def load(site_file):
    path = find_site_file(site_file)
    return path, load_site(path)


def built(build_dir: Path, site, site_path: Path) -> BuiltPackages:
    """The built packages, refused (exit 2) when the build was made from another site or sources."""
    packages = BuiltPackages(build_dir)
    reason = stale_reason(build_dir, site, str(site_path), REPO_ROOT)
    if reason:
        raise InputError(f"stale build: {reason}")
    return packages


def vim_accounts(site, site_path: Path, names) -> dict[str, vimauth.VimAccount]:
    """Each VIM's account (a missing environment variable, CA bundle or clouds.yaml entry stops here, dry
    run or not)."""
    return {name: vimauth.resolve(site, site_path.parent, name) for name in names}


def site_masker(runner: Runner, site) -> None:
    """Mask every secret of the site that can be revealed (for outputs that may echo them)."""
    reveals = [functools.partial(site.epc.secret, "k"), functools.partial(site.epc.secret, "op")]
    for name, vim in site.vims.items():
        secret = vim.openstack.secret_password()
        if secret is not None:
            reveals.append(functools.partial(secret.reveal, f"vims.{name}"))
        credential = vim.openstack.application_credential
        if credential is not None:
            reveals.append(functools.partial(Secret(value=credential.secret, env=credential.secret_env).reveal, name))
    if site.vca:
        reveals.append(functools.partial(site.vca.secret_password().reveal, "vca"))
    for reveal in reveals:
        try:
            runner.masker.add(reveal())
        except ValueError:
            continue


def say_shell_cleared(dry_run: bool) -> None:
    """The operator's OS_* variables are not used: say so once (a sourced openrc is a common surprise)."""
    cleared = vimauth.inherited()
    if cleared:
        echo(f"{'# ' if dry_run else ''}your shell's {', '.join(cleared)} are not passed to openstack: each VIM "
             "is reached with the site's account only")


# ---------------------------------------------------------------------------------------------

@click.command("openstack-prepare")
@site_option()
@click.option("--vim", "only", multiple=True, help="Only this VIM of the site (repeatable).")
@osm_options
@fails_cleanly
def openstack_prepare(site_file, only, hostname, user, password, project, dry_run, poll_interval):
    """Images, flavors, networks and the security group on each VIM; register the VIMs in OSM."""
    path, site = load(site_file)
    runner, osm = context(dry_run, hostname, user, password, project)
    names = list(only) or list(site.vims)
    for name in names:
        if name not in site.vims:
            raise InputError(f"--vim: no VIM {name!r} in the site (VIMs: {', '.join(site.vims)})")
    plans = [prepare.plan_vim(site, name) for name in names]
    accounts = vim_accounts(site, path, [plan.name for plan in plans if plan.roles])
    say_shell_cleared(dry_run)
    # A dry run makes the run's read-only calls (lists, shows) for real and prints the writes.
    reader = Runner(echo, runner.masker) if dry_run else runner
    reading_osm = Osm(reader, osm.options)
    registered = {row["vim name"] for row in reading_osm.table("vim-list")}
    for name, account in accounts.items():
        if site.vims[name].osm_account not in registered:
            account.osm_password()  # a VIM OSM cannot be given: say so before the first write
    check_quotas(site, [OpenStack(reader, accounts[plan.name]) for plan in plans if plan.roles])
    prepare.check_image_files(site, path.parent, plans, {n: OpenStack(reader, a) for n, a in accounts.items()})
    done: list[str] = []
    for plan in plans:
        if not plan.roles:
            echo(f"{'# ' if dry_run else ''}VIM {plan.name}: nothing of the NS is placed here; skipped")
            continue
        account = accounts[plan.name]
        openstack = OpenStack(reader, account)
        echo(f"# VIM {plan.name} ({', '.join(plan.roles)}): {account.auth_url}\n# {openstack.describe_env()}"
             if dry_run else f"VIM {plan.name} ({', '.join(plan.roles)}):")
        try:
            changes = prepare.Preparer(site, path.parent, plan, openstack, echo, dry_run=dry_run).run()
            if prepare.register_vim(site, account, reading_osm, registered, echo, dry_run=dry_run):
                changes.append(f"VIM account {site.vims[plan.name].osm_account} in OSM")
        except DeployError as error:
            raise error.with_progress(done, []) from None
        if not changes:
            echo("# = nothing to change" if dry_run else "  = nothing to change")
        done += [f"{plan.name}: {c}" for c in changes]
    if dry_run:
        echo(f"# {len(done)} change(s) the run would make; nothing was changed")


def check_quotas(site, vims) -> None:
    """Each VIM's compute quotas against the NS at max_count, before the first write."""
    short = []
    for openstack in vims:
        low, busy = quotas.problems(site, openstack)
        short += [f"VIM {openstack.vim_name}: {text}" for text in low]
        for text in busy:
            echo(f"! VIM {openstack.vim_name}: {text}")
    if short:
        raise DeployError("the projects' quotas are too small for the NS at max_count (nothing was changed):\n"
                          + "\n".join(f"  - {text}" for text in short)
                          + "\nraise them (an admin), or lower pool.pe_groups.*.max_count in the site")


@click.command("onboard")
@site_option()
@build_option
@osm_options
@fails_cleanly
def onboard(site_file, build_dir, hostname, user, password, project, dry_run, poll_interval):
    """Onboard the built VNF packages, then the NS package (update the ones OSM has)."""
    path, site = load(site_file)  # a broken site file stops here, before any call
    packages = built(build_dir, site, path)
    runner, osm = context(dry_run, hostname, user, password, project)
    if dry_run:
        onboarding.print_plan(packages, osm)
        return
    onboarding.onboard(packages, osm, echo, site.name)


@click.command("instantiate")
@click.argument("ns", required=False, callback=check_ns, metavar="NS")
@site_option()
@build_option
@click.option("--ns-name", callback=check_ns, hidden=True, help="The NS argument's former spelling.")
@click.option("--wait", is_flag=True, help="Wait for the instantiation, then scale PE groups with count > 1.")
@click.option("--timeout", type=int, default=DEFAULT_TIMEOUT, show_default=True,
              help="Seconds: OSM's timeout_ns_deploy and the wait per operation.")
@osm_options
@fails_cleanly
def instantiate(ns, site_file, build_dir, ns_name, wait, timeout, hostname, user, password, project, dry_run,
                poll_interval):
    """Create NS instance NS: write the ns-create config file (0600, holds K and OP), check it against the
    NBI rules, osm ns-create; with --wait follow it and scale PE groups with count > 1 to their size."""
    if ns and ns_name and ns != ns_name:
        raise InputError(f"two NS names given: {ns} and --ns-name {ns_name}")
    ns_name = ns or ns_name
    if not ns_name:
        raise InputError("missing the NS instance name: mecpool instantiate NS --site SITE [--wait]")
    path_site, site = load(site_file)
    packages = built(build_dir, site, path_site)
    inst.checked_config(site, packages, reveal_secrets=True, timeout=timeout)  # missing K/OP stop a dry run too
    runner, osm = context(dry_run, hostname, user, password, project)
    config = inst.checked_config(site, packages, reveal_secrets=not dry_run, timeout=timeout)
    epc_account = members(site)[0].osm_account
    path = inst.config_path(build_dir, ns_name)
    create = inst.ns_create_args(ns_name, packages.ns.name, epc_account, path)
    follow_ups = inst.scale_outs(site)
    again = f"mecpool instantiate {ns_name} --site {path_site} --wait"
    if dry_run:
        echo(f"# would write {path} (mode 0600); its content, K and OP redacted:")
        echo(yaml.safe_dump(config, sort_keys=False).rstrip())
        osm.show("ns-list", "--filter", f"name={ns_name}", note=f"an NS of this site by that name is resumed ({again})")
        osm.show("nspkg-list", "--filter", f"id={packages.ns.id}", note="onboarded? (else: mecpool onboard)")
        osm.show("vim-list", note="the site's VIM accounts registered? (else: mecpool openstack-prepare)")
        echo(f"# would write {nsrecord.record_path(build_dir, ns_name)}: the site file and build of NS {ns_name}")
        osm.show(*create)
        if wait:
            osm.show("ns-op-list", ns_name, note="the instantiate operation's id")
            osm.show("ns-op-show", "<operation id>", "--literal", note="polled until COMPLETED or FAILED")
            for group, index, count in follow_ups:
                t = scaling.target(site, packages, ns_name, group)
                for _ in range(count):
                    osm.show(*scaling.vnf_scale_args(t, True), note=f"PE group {group}, then polled")
        return
    runner.masker.add(site.epc.secret("k"))
    runner.masker.add(site.epc.secret("op"))
    waiter = Waiter(osm, timeout, poll_interval, echo)
    undo = [f"mecpool teardown {ns_name} --wait", f"see why: mecpool status {ns_name}; mecpool juju-status {ns_name}; "
            f"mecpool failed-actions {ns_name}"]
    if osm.ns_exists(ns_name):
        record = nsrecord.find(ns_name, build_dir, hostname)
        if record is None:
            raise DeployError(f"an NS instance named {ns_name} exists already and was not instantiated from this "
                              f"build (no {nsrecord.record_path(build_dir, ns_name)}): mecpool status {ns_name}; "
                              f"mecpool teardown {ns_name} removes it")
        nsrecord.refuse_other_site(record, path_site, site)
        echo(f"NS {ns_name} exists (instantiated from {record.site_file}): resuming, to the site's PE counts")
        resume_follow(osm, site, packages, ns_name, waiter, undo, again)
        return
    instantiate_preconditions(osm, site, packages, path_site)
    refuse_second_ns(osm, site, ns_name, build_dir, hostname)
    done: list[str] = []
    try:
        inst.write_config(path, config)
        nsrecord.write(build_dir, ns_name, path_site, site, hostname)
        ns_id = osm.last_line(*create)
    except DeployError:
        # nothing of a refused ns-create stays behind: not the K/OP file, not the record
        teardown_mod.remove_config(build_dir, ns_name, lambda _: None, dry_run=False)
        nsrecord.forget(build_dir, ns_name, hostname)
        raise
    except KeyboardInterrupt:
        # OSM may have taken the ns-create: keep the record, so that the NS can be resumed or removed
        raise Interrupted(f"interrupted during osm ns-create: NS {ns_name} may exist in OSM (mecpool status "
                          f"{ns_name})", resume=[again], undo=[f"mecpool teardown {ns_name} --wait"]) from None
    echo(f"instantiation config: {path} (mode 0600, holds K and OP)")
    echo(f"NS {ns_name} created: {ns_id} (site {path_site}, recorded in {nsrecord.record_path(build_dir, ns_name)})")
    done.append(f"NS {ns_name} created ({ns_id})")
    if not wait:
        echo(f"follow it with: mecpool status {ns_name}")
        if follow_ups:
            echo(f"once it is READY, bring its PE groups to their count: {again}")
        return
    try:
        waiter.wait(find_op(osm, ns_name, "instantiate"), f"instantiate {ns_name}")
        fill_groups(osm, site, packages, ns_name, waiter, done)
    except DeployError as error:
        raise error.with_progress(done, undo, resume=[again]) from None
    echo(f"NS {ns_name} is ready: mecpool status {ns_name}; mecpool pool-status {ns_name}")


def instantiate_preconditions(osm, site, packages, site_path) -> None:
    """What ns-create needs from the steps before it, checked before anything is written."""
    if not osm.table("nspkg-list", "--filter", f"id={packages.ns.id}"):
        raise InputError(f"the NS package {packages.ns.id} is not onboarded in OSM: run mecpool onboard --site "
                         f"{site_path} first")
    registered = {row["vim name"] for row in osm.table("vim-list")}
    missing = [vim.osm_account for name, vim in site.vims.items()
               if vim.osm_account not in registered and prepare.plan_vim(site, name).roles]
    if missing:
        raise InputError(f"VIM account(s) {', '.join(missing)} not registered in OSM: run mecpool openstack-prepare "
                         f"--site {site_path} first")


def refuse_second_ns(osm, site, ns, build_dir, hostname) -> None:
    """One NS per site: a second would take the same fixed registrar and EPC addresses."""
    for row in osm.table("ns-list"):
        other = row["ns instance name"]
        record = nsrecord.find(other, build_dir, hostname) if other != ns else None
        if record is not None and record.site_name == site.name:
            fixed = ", ".join([r.address for r in site.pool.registrars] + [a for _, _, a in site.epc.addresses.items()][:2])
            raise InputError(f"NS {other} of site {site.name} runs already (from {record.site_file}); NS {ns} would "
                             f"take the same fixed addresses ({fixed}, ...): one NS per site (mecpool teardown "
                             f"{other} first, or a site file of its own with other addresses and name)")


def fill_groups(osm, site, packages, ns, waiter, done) -> None:
    """Scale out every PE group below the site's count, one PE at a time (each waited for)."""
    have = groups.counts(site, osm.vnf_records(ns))
    for short in groups.shortfalls(site, have):
        t = scaling.target(site, packages, ns, short.group)
        for size in range(short.have + 1, short.want + 1):
            op_id = osm.last_line(*scaling.vnf_scale_args(t, True))
            waiter.wait(op_id, f"scale-out {short.group} to {size}/{short.want}")
            done.append(f"PE group {short.group}: scale-out to {size} PE(s)")


def resume_follow(osm, site, packages, ns, waiter, undo, again) -> None:
    """An NS of this site exists: wait for what OSM still runs on it, then bring the PE groups up."""
    done: list[str] = []
    try:
        for row in osm.table("ns-op-list", ns):
            if row["status"] == "PROCESSING":
                waiter.wait(row["id"], f"{row['operation']} {ns} (running)")
                done.append(f"{row['operation']} {row['id']} completed")
            elif row["operation"] == "instantiate" and row["status"] in FAILED:
                raise DeployError(f"the instantiation of NS {ns} {row['status']} in OSM: it cannot be resumed "
                                  f"(osm ns-op-show {row['id']})", undo=undo)
        fill_groups(osm, site, packages, ns, waiter, done)
    except DeployError as error:
        raise error.with_progress(done, [], resume=[again] if not error.undo else []) from None
    echo(f"NS {ns} is at the site's counts: mecpool status {ns}; mecpool pool-status {ns}")


@click.command("scale-pe")
@ns_argument
@site_option()
@build_option
@click.option("--group", required=True, help="PE group of the site (pool.pe_groups).")
@click.option("--out/--in", "out", required=True, help="Add (--out) or remove (--in) one PE.")
@click.option("--wait", is_flag=True, help="Wait for OSM; after a scale-out also until the PE is in the pool.")
@click.option("--timeout", type=int, default=1800, show_default=True, help="Seconds for each wait.")
@osm_options
@fails_cleanly
def scale_pe(ns, site_file, build_dir, group, out, wait, timeout, hostname, user, password, project, dry_run,
             poll_interval):
    """Scale a PE group of NS by one PE (within count .. max_count)."""
    path, site, build_dir = site_of_ns(ns, site_file, build_dir, hostname)
    packages = built(build_dir, site, path)
    runner, osm = context(dry_run, hostname, user, password, project)
    t = scaling.target(site, packages, ns, group)
    registrar = scaling.status_registrar(site, t)
    vdu = packages.registrar_vdu()
    if dry_run:
        osm.show("ns-show", ns, "--literal", note="OSM's scale-operation counter")
        osm.show("vnf-list", "--ns", ns, note=f"the VNF of member {t.index}")
        osm.show("vnf-show", f"<vnf id of member {t.index}>", "--literal", note="PEs now (limit check)")
        if out and wait:
            osm.show(*poolstatus.action_args(ns, registrar, vdu), note="pool before")
            osm.show("ns-op-show", "<action operation id>", "--literal")
        osm.show(*scaling.vnf_scale_args(t, out))
        if wait:
            osm.show("ns-op-show", "<scale operation id>", "--literal", note="polled until done")
            if out:
                osm.show("vnf-show", f"<vnf id of member {t.index}>", "--literal", note="the new PE's address")
                osm.show(*poolstatus.action_args(ns, registrar, vdu), note="polled until the new PE is in the pool")
        return
    nsr = require_ready(osm.ns_record(ns), ns)
    before_record = scaling.member_record(osm, t)
    before_vdus = scaling.pe_vdus(before_record, t.vdu)
    scaling.check_limits(site, t, out, len(before_vdus), scaling.scale_ops(nsr, t.scaling_group))
    out_console = console()
    before = None
    if out and wait:
        before = poolstatus.pool_status(osm, ns, registrar, vdu)
    op_id = osm.last_line(*scaling.vnf_scale_args(t, out))
    word = "scale-out" if out else "scale-in"
    echo(f"{word} of PE group {group} (member {t.index}) requested: operation {op_id}")
    if not out:
        # LCM removes the VDUs of the newest scaling step: the PE VDU with the highest count-index
        newest = max(before_vdus, key=lambda v: int(v.get("count-index", 0) or 0))
        echo(f"  OSM removes the newest PE VDU of group {group}: {scaling.vdu_text(site, t, newest)}")
    if not wait:
        return
    undo = [f"mecpool scale-pe {ns} --group {group} --{'in' if out else 'out'}"]
    try:
        Waiter(osm, timeout, poll_interval, echo).wait(op_id, f"{word} {group}")
    except DeployError as error:
        raise error.with_progress([f"{word} of {group} requested ({op_id})"], []) from None
    after_vdus = scaling.pe_vdus(scaling.member_record(osm, t), t.vdu)
    if not out:
        kept = {scaling.vdu_key(v) for v in after_vdus}
        removed = [scaling.vdu_text(site, t, v) for v in before_vdus if scaling.vdu_key(v) not in kept]
        echo(f"removed from PE group {group}: {', '.join(removed) or 'no PE VDU (OSM removed none)'}; "
             f"{len(after_vdus)} PE VDU(s) left")
        return
    known = {scaling.vdu_key(v) for v in before_vdus}
    new = [v for v in after_vdus if scaling.vdu_key(v) not in known]
    addresses = [a for a in (scaling.pool_address(site, t, v) for v in new) if a]
    if not addresses:
        raise DeployError(f"the scale-out completed but no new PE VDU with an address on the pool network "
                          f"{site.vims[t.vim].pool_network.subnet} is in the VNF record", done=[f"{word} {op_id}"],
                          undo=undo)
    after = None
    for address in addresses:
        after = scaling.wait_registered(osm, ns, registrar, vdu, address, site.pool.handle, timeout,
                                        poll_interval, echo)
    owners = pe_owners(osm, site, packages, ns)
    out_console.print(poolstatus.table(before, f"pool before the scale-out ({len(poolstatus.addresses(before))} PEs)",
                                       owners))
    out_console.print(poolstatus.table(after, f"pool after the scale-out ({len(poolstatus.addresses(after))} PEs)",
                                       owners))


def require_ready(nsr: dict, ns: str) -> dict:
    """Day-2 needs an instantiated NS: one still building is said with the step to take.  A BROKEN one
    (a VDU's day 1 failed, e.g. an EPC build that could not fetch its sources) still takes actions and
    scaling in Release EIGHT (NBI refuses them only before LCM set _admin.nsState INSTANTIATED, LCM's
    action and scale do not look at nsState): the pool goes on, with a warning on stderr saying why it
    is broken and how to finish it."""
    state = nsr.get("nsState")
    if state == "BUILDING" or nsr.get("currentOperation") == "INSTANTIATING":
        raise DeployError(f"NS {ns} is still being instantiated ({nsr.get('currentOperation') or state}): wait for "
                          f"it with mecpool instantiate {ns} --wait (it resumes the wait), then run this again; "
                          f"mecpool status {ns} shows where it is")
    if state == "BROKEN":
        if (nsr.get("_admin") or {}).get("nsState") != "INSTANTIATED":
            raise DeployError(f"NS {ns} is BROKEN and OSM never instantiated it: see why with mecpool status {ns}; "
                              f"mecpool teardown {ns} --wait removes it")
        # LCM v8.0 clears errorDescription/errorDetail and detailed-status when a later scale or action
        # ends well, and leaves nsState BROKEN: then the record no longer says why.
        why = " ".join(str(nsr.get("errorDetail") or nsr.get("errorDescription") or nsr.get("detailed-status")
                           or "OSM's record no longer says why: a later operation cleared it").split())
        click.echo(f"warning: NS {ns} is BROKEN ({why[:300]}); day 2 goes on: OSM accepts actions and scaling on "
                   f"it. mecpool status {ns} shows which VDU failed; an EPC VDU's day 1 is finished with mecpool "
                   f"epc-resume {ns} --vdu <vdu>", err=True)
    return nsr


def ns_pe_vdus(osm, site, packages, ns) -> list:
    """The NS's PE VDUs with their group and charm (NS record + VNF records)."""
    nsr = require_ready(osm.ns_record(ns), ns)
    return pevdus.pe_vdus(site, nsr, osm.vnf_records(ns), packages.pe_vdu()["id"])


def pe_owners(osm, site, packages, ns) -> dict[str, str]:
    return pevdus.owners(ns_pe_vdus(osm, site, packages, ns))


def show_pe_reads(osm, ns) -> None:
    osm.show("ns-show", ns, "--literal", note="_admin.deployed.VCA: the PE VDUs with a charm")
    osm.show("vnf-list", "--ns", ns)
    osm.show("vnf-show", "<each vnf id>", "--literal", note="each PE VDU with its group and pool address")


@click.command("pool-status")
@ns_argument
@site_option()
@build_option
@click.option("--registrar", help="Ask only this registrar (its name in the site; default: each of them).")
@output_option
@osm_options
@fails_cleanly
def pool_status(ns, site_file, build_dir, registrar, output, hostname, user, password, project, dry_run,
                poll_interval):
    """The PEs each registrar sees, with their load (the registrar charm's pool-status action), and where
    the registrars disagree.  Each ask is an OSM action: it stays in the NS's operation history."""
    path, site, build_dir = site_of_ns(ns, site_file, build_dir, hostname)
    packages = built(build_dir, site, path)
    runner, osm = context(dry_run, hostname, user, password, project)
    names = [registrar] if registrar else [r.name for r in site.pool.registrars]
    try:
        indexes = {name: member_for(site, REGISTRAR, name).index for name in names}
    except KeyError:
        raise InputError(f"--registrar: no registrar {registrar!r} in the site "
                         f"({', '.join(r.name for r in site.pool.registrars)})") from None
    vdu = packages.registrar_vdu()
    history = (f"each ask is an OSM action on the registrar ({len(names)} here): it stays in the operation history "
               f"of NS {ns} (osm ns-op-list {ns})")
    if dry_run:
        for name, index in indexes.items():
            osm.show(*poolstatus.action_args(ns, index, vdu), note=f"registrar {name}")
            osm.show("ns-op-show", "<operation id printed above>", "--literal")
        show_pe_reads(osm, ns)
        echo(f"# {history}")
        return
    views = {name: poolstatus.pool_status(osm, ns, index, vdu) for name, index in indexes.items()}
    owners = pe_owners(osm, site, packages, ns)
    differences = poolstatus.disagreements(views, owners)
    if output != "table":
        emit({"registrars": {name: {"member": indexes[name], "pools": view["pools"], "peers": view.get("peers") or []}
                             for name, view in views.items()},
              "pe_owners": owners, "disagreements": differences}, output)
        click.echo(history, err=True)
        return
    out_console = console()
    for name, parsed in views.items():
        out_console.print(poolstatus.table(parsed, f"pools seen by registrar {name} (member {indexes[name]})", owners))
        out_console.print(f"{len(parsed['pools'])} pool(s), {len(poolstatus.addresses(parsed))} PE address(es); "
                          f"{len(parsed.get('peers') or [])} peer registrar(s)")
    if len(views) > 1:
        for line in differences or [f"the {len(views)} registrars agree"]:
            echo(("! " if differences else "") + line)
    echo(f"({history})")


@click.command("pe-action")
@ns_argument
@site_option()
@build_option
@click.option("--group", required=True, help="PE group of the site (pool.pe_groups).")
@click.argument("action", metavar="ACTION")
@click.argument("params", nargs=-1, metavar="[KEY=VALUE]...")
@click.option("--timeout", type=int, default=1800, show_default=True,
              help="Seconds OSM may take for the action on each PE VDU (osm ns-action --timeout).")
@click.option("--vdu", "vdu_name", help="Only this PE VDU (its name, as mecpool status shows it).")
@click.option("--index", "count_index", type=click.IntRange(0), help="Only the PE VDU with this OSM count-index.")
@osm_options
@fails_cleanly
def pe_action(ns, site_file, build_dir, group, action, params, timeout, vdu_name, count_index, hostname, user,
              password, project, dry_run, poll_interval):
    """Run a day-2 primitive of the PE charm (reconfigure, restart, pe-status) on PE group GROUP of NS, on
    every PE VDU of the group (or the one --vdu/--index names); say which PE VDUs it reached and which it
    could not (in Release EIGHT a scaled-out VDU gets no charm): exit code 3 when not every intended PE VDU
    was reached.  Parameters as KEY=VALUE, e.g. `mecpool pe-action mec1 --group mec reconfigure capacity=2000`."""
    if vdu_name is not None and count_index is not None:
        raise InputError("--vdu and --index both name one PE VDU: give one of them")
    path, site, build_dir = site_of_ns(ns, site_file, build_dir, hostname)
    packages = built(build_dir, site, path)
    if group not in site.pool.pe_groups:
        raise InputError(f"--group: no PE group {group!r} in the site (groups: {', '.join(site.pool.pe_groups)})")
    arguments = peaction.parse_params(packages.pe_primitives(), action, params)
    member = member_for(site, PE_GROUP, group).index
    vdu = packages.pe_vdu()
    runner, osm = context(dry_run, hostname, user, password, project)
    if dry_run:
        show_pe_reads(osm, ns)
        for index in range(int(vdu.get("count", 1))):
            osm.show(*peaction.action_args(ns, member, vdu["id"], index, action, arguments, timeout),
                     note=f"PE VDU count-index {index}: it has a charm (instantiated by OSM)")
        osm.show("ns-op-show", "<each action operation id>", "--literal", note="the action's results")
        echo(f"# scaled-out PE VDUs of group {group} (count-index >= {vdu.get('count', 1)}) are "
             f"{peaction.NOT_REACHED}")
        return
    pes = [pe for pe in ns_pe_vdus(osm, site, packages, ns) if pe.group == group]
    if not pes:
        raise DeployError(f"NS {ns} has no PE VDU in group {group} (member {member}): mecpool status {ns}")
    if vdu_name is not None or count_index is not None:
        pes = peaction.select(pes, vdu_name, count_index, group)
    reached = [pe for pe in pes if pe.charmed]
    echo(f"{action} on PE group {group} (member {member}): {len(reached)} of {len(pes)} PE VDU(s) have a charm")
    done = []
    for pe in reached:
        args = peaction.action_args(ns, member, pe.vdu_id, pe.count_index, action, arguments, timeout)
        try:
            op_id = osm.last_line(*args)
        except DeployError as error:
            # With --wait a failed action exits 1 before printing its id: fetch OSM's detail.
            try:
                op = osm.literal("ns-op-show", find_op(osm, ns, "action", action))
                detail = op_detail(op)
            except DeployError:
                detail = error.message
            raise DeployError(f"{action} on PE VDU {pe.text()} failed: {detail}", done=done,
                              undo=[f"see why: mecpool failed-actions {ns}; mecpool juju-status {ns}"]) from None
        op = osm.literal("ns-op-show", op_id)
        echo(f"  reached: {pe.text()}: {op.get('operationState', '?')} (operation {op_id})")
        for line in peaction.result_lines(op.get("detailed-status")):
            echo(f"    {line}")
        done.append(f"{action} on {pe.text()}")
    for pe in pes:
        if not pe.charmed:
            echo(f"  {peaction.NOT_REACHED}: {pe.text()}")
    if len(reached) < len(pes):
        raise Partial(f"{action} reached {len(reached)} of {len(pes)} PE VDU(s) of group {group}; the others run "
                      f"as their cloud-init set them up (site values)", done=done)


@click.command("epc-resume")
@ns_argument
@site_option()
@build_option
@click.option("--vdu", required=True, type=click.Choice(epcresume.EPC_VDUS), help="The EPC VDU whose day 1 to finish.")
@click.option("--from", "start", default=None, metavar="PRIMITIVE",
              help="The day-1 primitive to start at (default: the one OSM's error names, else build).")
@click.option("--timeout", type=int, default=1800, show_default=True,
              help="Seconds OSM may take for each primitive (osm ns-action --timeout).")
@osm_options
@fails_cleanly
def epc_resume(ns, site_file, build_dir, vdu, start, timeout, hostname, user, password, project, dry_run,
               poll_interval):
    """Run the EPC VDU's remaining day-1 primitives in order (OSM R8 runs none of them after one failed):
    from the failed one (as OSM's error names it, or --from) to the last, each as a day-2 action of the
    VNFD.  All are idempotent: a step already done returns at once."""
    path, site, build_dir = site_of_ns(ns, site_file, build_dir, hostname)
    built(build_dir, site, path)
    steps = epcresume.plan(vdu, start)
    member = member_for(site, EPC, "epc").index
    runner, osm = context(dry_run, hostname, user, password, project)
    if dry_run:
        if start is None:
            osm.show("ns-show", ns, "--literal", note="the failed primitive named in OSM's error, if any, "
                                                      "is where the run starts")
        for step in steps:
            osm.show(*epcresume.step_args(ns, member, vdu, step, timeout),
                     note=f"day-1 step {step.seq}/{step.total}")
        return
    if start is None:
        failed = epcresume.failed_primitive(op_detail(osm.literal("ns-show", ns)), vdu)
        if failed is not None:
            steps = epcresume.plan(vdu, failed)
            echo(f"OSM's error names the primitive {failed!r}: starting there")
    echo(f"{vdu} (member {member}): day-1 steps {steps[0].seq}..{steps[-1].seq} of {steps[0].total}")
    done = []
    for step in steps:
        label = f"{step.seq}/{step.total} {step.name}" + (f" {step.params}" if step.params else "")
        try:
            op_id = osm.last_line(*epcresume.step_args(ns, member, vdu, step, timeout))
        except DeployError as error:
            try:
                detail = op_detail(osm.literal("ns-op-show", find_op(osm, ns, "action", step.name)))
            except DeployError:
                detail = error.message
            raise DeployError(f"{vdu} day-1 step {label} failed: {detail}", done=done,
                              undo=[f"see why: mecpool failed-actions {ns}; mecpool juju-status {ns}",
                                    f"then go on: mecpool epc-resume {ns} --vdu {vdu} --from {step.name}"]) from None
        op = osm.literal("ns-op-show", op_id)
        echo(f"  {label}: {op.get('operationState', '?')} (operation {op_id})")
        for line in peaction.result_lines(op.get("detailed-status")):
            echo(f"    {line}")
        done.append(f"{vdu} {label}")
    echo(f"{vdu}: day 1 done")


def site_of_ns(ns, site_file, build_dir, hostname, required=True):
    """(site path, site, build dir) for a command on NS: without --site the site file recorded when NS
    was instantiated (not whatever site.yaml is in this directory); a --site that is not the NS's is
    refused with both paths.  An NS without a record (made elsewhere) takes --site or the default."""
    record = nsrecord.find(ns, build_dir, hostname)
    if record is None:
        path, site = load(site_file) if required else optional_site(site_file)
        return path, site, build_dir
    if site_file is None:
        if not record.site_file.is_file():
            raise InputError(f"NS {ns} was instantiated from {record.site_file}, which is gone: pass --site")
        path, site = load(record.site_file)
    else:
        path, site = load(site_file)
        nsrecord.refuse_other_site(record, path, site)
    return path, site, (record.build_dir if build_dir == DEFAULT_BUILD else build_dir)


def optional_site(site_file):
    """(path, site) where a site file is given or found, else (None, None); a broken one given
    explicitly is an error."""
    try:
        return load(site_file)
    except SiteError:
        if site_file:
            raise
        return None, None


def member_labels(site) -> dict[str, str]:
    """Member index -> what it is in the site ("PE group mec (mec)", "registrar pr-mec", "EPC")."""
    labels = {}
    for m in members(site) if site is not None else []:
        if m.kind == "pe-group":
            kind = site.pool.pe_groups[m.role].kind
            labels[m.index] = f"PE group {m.role}" + (f" ({kind})" if kind else "")
        elif m.kind == REGISTRAR:
            labels[m.index] = f"registrar {m.role}"
        else:
            labels[m.index] = "EPC"
    return labels


@click.command("status")
@ns_argument
@site_option(required=False)
@build_option
@output_option
@osm_options
@fails_cleanly
def status(ns, site_file, build_dir, output, hostname, user, password, project, dry_run, poll_interval):
    """State, VNFs with their VIMs and addresses, and the operation history of NS (with its site file,
    recorded at instantiation or given, members are named by their PE group or registrar, and a PE
    group below the site's count is flagged)."""
    site_path, site, _ = site_of_ns(ns, site_file, build_dir, hostname, required=False)
    runner, osm = context(dry_run, hostname, user, password, project)
    if dry_run:
        for args in (("ns-show", ns, "--literal"), ("vnf-list", "--ns", ns),
                     ("vnf-show", "<each vnf id>", "--literal"), ("vim-list",), ("ns-op-list", ns)):
            osm.show(*args)
        return
    data = ns_status.collect(osm, ns)
    flags = []
    if site is not None and data["nsr"].get("nsState") != "BUILDING":  # while building, VDUs still come
        for short in groups.shortfalls(site, groups.counts(site, data["vnfs"])):
            flags.append(f"{short.text()}: mecpool instantiate {ns} --site {site_path} --wait brings it up")
    if output != "table":
        emit(ns_status.summary(data, member_labels(site), flags), output)
        return
    ns_status.render(data, console(), member_labels(site), flags)


@click.command("teardown")
@ns_argument
@site_option(required=False)
@build_option
@click.option("--all", "everything", is_flag=True,
              help="Also remove what onboard and openstack-prepare created and the instantiation config "
                   "(implies --wait; needs the site file).")
@click.option("--force", is_flag=True, help="osm ns-delete --force: drop OSM's record even if terminating fails.")
@click.option("--wait", is_flag=True, help="Wait until OSM has removed the NS.")
@click.option("--timeout", type=int, default=3600, show_default=True,
              help="Seconds to wait for OSM to terminate and remove the NS.")
@osm_options
@fails_cleanly
def teardown(ns, site_file, build_dir, everything, force, wait, timeout, hostname, user, password, project,
             dry_run, poll_interval):
    """Terminate and delete NS (osm ns-delete); with --all also everything else the deployment created
    (an NS that is not in OSM: nothing, unless --force says it was deleted already)."""
    site = None
    accounts = {}
    if everything:
        site_path, site, build_dir = site_of_ns(ns, site_file, build_dir, hostname)
        accounts = vim_accounts(site, site_path, [n for n in site.vims if prepare.plan_vim(site, n).roles])
        wait = True
    runner, osm = context(dry_run, hostname, user, password, project)
    args = teardown_mod.ns_delete_args(ns, force)
    if dry_run:
        osm.show("ns-show", ns, "--literal", note="it must exist" + (" (--all: else nothing is removed without "
                                                                      "--force)" if everything else ""))
        osm.show(*args)
        if wait:
            osm.show("ns-op-list", ns, note="polled until the NS is gone")
        if everything:
            remove_everything(site, ns, build_dir, runner, osm, accounts, [], dry_run=True)
        return
    if everything:
        site_masker(runner, site)
    try:
        osm.ns_record(ns)
    except DeployError as error:
        if not everything or "not found" not in error.message:
            raise
        names = [row["ns instance name"] for row in osm.table("ns-list")]
        if not force:
            raise InputError(f"NS {ns} is not in OSM (its NS instances: {', '.join(names) or 'none'}): teardown --all "
                             f"removed nothing. If {ns} was deleted already and the site's packages, VIM accounts "
                             f"and VIM resources should go too, add --force") from None
        echo(f"NS {ns}: not in OSM; --force: removing the rest of site {site.name}")
        done = []
    else:
        osm.call(*args)
        echo(f"deletion of NS {ns} requested")
        done = [f"NS {ns} deletion requested"]
        if wait:
            teardown_mod.wait_deleted(osm, ns, timeout, poll_interval, echo)
            done = [f"NS {ns} deleted"]
            nsrecord.forget(build_dir, ns, hostname)
    if everything:
        remove_everything(site, ns, build_dir, runner, osm, accounts, done, dry_run=False)


def remove_everything(site, ns, build_dir, runner, osm, accounts, done, dry_run) -> None:
    """teardown --all after the NS: config file, packages, VIM accounts, each VIM's resources; ``done``
    says what happened to the NS (reported with the rest, nothing claimed that was not done)."""
    done = list(done)
    try:
        echo("# the instantiation config" if dry_run else "instantiation config:")
        teardown_mod.remove_config(build_dir, ns, echo, dry_run)
        if not dry_run:
            nsrecord.forget(build_dir, ns, osm.options.hostname)
        echo("# packages in OSM" if dry_run else "packages in OSM:")
        done += teardown_mod.remove_packages(osm, echo, dry_run, site.name)
        echo("# VIM accounts in OSM" if dry_run else "VIM accounts in OSM:")
        done += teardown_mod.remove_vim_accounts(site, osm, echo, dry_run)
        say_shell_cleared(dry_run)
        for name, account in accounts.items():
            plan = prepare.plan_vim(site, name)
            openstack = OpenStack(runner, account)
            echo(f"# VIM {name}: {account.auth_url}\n# {openstack.describe_env()}" if dry_run else f"VIM {name}:")
            done += teardown_mod.VimCleaner(site, plan, openstack, echo, dry_run).run()
    except DeployError as error:
        raise error.with_progress(done, []) from None
    if not dry_run:
        ns_step = done[0] if done and done[0].startswith(f"NS {ns} ") else f"NS {ns} not touched (not in OSM)"
        removals = len(done) - (ns_step in done)
        echo(f"teardown --all of NS {ns} and site {site.name}: done ({ns_step}; {removals} removal(s))")


def juju_connection(site, site_path, controller):
    """The site's vca: section, else a controller of the Juju client's files (which must exist)."""
    if site is not None and site.vca is not None and not controller:
        vca = site.vca
        cacert = None
        if vca.cacert_file:
            cert_path = Path(vca.cacert_file).expanduser()
            if not cert_path.is_absolute() and site_path is not None:
                cert_path = Path(site_path).parent / cert_path  # relative to the site file, as it says
            try:
                cacert = cert_path.read_text(encoding="utf-8")
            except OSError as error:
                raise DeployError(f"vca.cacert_file: cannot read {cert_path}: {error.strerror}") from None
        field = "vca.password_env" if vca.password_env else "vca.password"
        return jujudebug.VcaConnection(endpoint=vca.endpoint, user=vca.user,
                                       password=vca.secret_password().reveal(field), cacert=cacert)
    jujudebug.check_client_files(controller)
    return jujudebug.VcaConnection(controller_name=controller)


def juju_command(name, help_text, rows, render):
    @click.command(name, help=help_text)
    @ns_argument
    @site_option(required=False)
    @click.option("--controller", help="Controller of the Juju client files (instead of the site's vca).")
    @output_option
    @osm_options
    @fails_cleanly
    def command(ns, site_file, controller, output, hostname, user, password, project, dry_run, poll_interval):
        site_path, site, _ = site_of_ns(ns, site_file, DEFAULT_BUILD, hostname, required=False)
        connection = juju_connection(site, site_path, controller)  # no way to reach the VCA: say so now
        runner, osm = context(dry_run, hostname, user, password, project)
        if site is not None:
            site_masker(runner, site)
        if dry_run:
            osm.show("ns-show", ns, "--literal", note="the NS id names its Juju model")
            where = connection.endpoint or connection.controller_name or "the current controller of the Juju client"
            echo(f"# reach {where} (TCP, then TLS; a few seconds), then libjuju: model <NS id>: FullStatus and "
                 "Action.ListAll of its units")
            return
        nsr = osm.ns_record(ns)
        model = nsr["_id"]
        found = rows(jujudebug.fetch(connection, model), nsr, runner.masker)
        if output != "table":
            emit({"model": model, name.replace("-", "_"): found}, output)
            return
        render(found, model, console())
    return command


juju_status = juju_command("juju-status", "Units of NS's Juju model on OSM's VCA, with their workload status.",
                           lambda fetched, nsr, masker: jujureport.units(fetched, nsr),
                           jujureport.render_units)
failed_actions = juju_command("failed-actions", "Every failed Juju action of NS: parameters (secrets masked), "
                              "message, output.", lambda fetched, nsr, masker: jujureport.failed_actions(fetched, masker),
                              lambda found, model, out: jujureport.render_failed(found, out))

COMMANDS = [openstack_prepare, onboard, instantiate, scale_pe, pe_action, epc_resume, pool_status, status, teardown,
            juju_status, failed_actions]
