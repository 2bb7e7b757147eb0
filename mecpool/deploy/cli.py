"""The deployment commands of ``mecpool``: openstack-prepare, onboard,
instantiate, scale-pe, pool-status, status, teardown, juju-status,
failed-actions.  Each has ``--dry-run`` (print the exact commands and files,
call nothing)."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click
import yaml
from rich.console import Console

from mecpool.descriptors import REGISTRAR, ParamsError, member_for, members
from mecpool.site import SiteError, find_site_file, load_site

from . import instantiate as inst
from . import jujudebug, jujureport, onboard as onboarding, poolstatus, prepare, scale as scaling, status as ns_status
from . import teardown as teardown_mod
from .errors import DeployError
from .osmcli import Osm, OsmOptions
from .openstack import OpenStack
from .packages import BuiltPackages
from .runner import MASK, Masker, Runner
from .wait import Waiter, find_op

DEFAULT_TIMEOUT = 7200


def echo(text: str) -> None:
    click.echo(text)


def console() -> Console:
    """Rich output; wide when not on a terminal (logs, pipes) so tables are not cut."""
    out = Console()
    return out if out.is_terminal else Console(width=200)


def fails_cleanly(command):
    """Errors the user can act on: their report on stderr, exit code 1, no traceback."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except DeployError as error:
            click.echo(f"error: {error.report()}", err=True)
        except SiteError as error:
            click.echo(f"error: {error}", err=True)
        except (ParamsError, ValueError) as error:
            click.echo(f"error: {error}", err=True)
        sys.exit(1)
    return wrapper


def osm_options(command):
    for option in reversed([
        click.option("--hostname", help="OSM host (else OSM_HOSTNAME, as osm itself)."),
        click.option("--user", help="OSM user (else OSM_USER)."),
        click.option("--password", help="OSM password (else OSM_PASSWORD); passed to osm in its environment."),
        click.option("--project", help="OSM project (else OSM_PROJECT)."),
        click.option("--dry-run", is_flag=True, help="Print the exact commands and files; call nothing."),
        click.option("--poll-interval", type=float, default=10.0, show_default=True, hidden=True,
                     help="Seconds between polls of OSM."),
    ]):
        command = option(command)
    return command


def site_option(required: bool = True):
    return click.option("--site", "site_file", type=click.Path(dir_okay=False, path_type=Path),
                        help="Site file (default: site.yaml, else site.example.yaml).")


build_option = click.option("--build-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("build"),
                            show_default=True, help="Where `mecpool build` put the packages.")


def context(dry_run, hostname=None, user=None, password=None, project=None):
    runner = Runner(echo, Masker(), dry_run=dry_run)
    return runner, Osm(runner, OsmOptions(hostname, user, password, project))


def load(site_file):
    path = find_site_file(site_file)
    return path, load_site(path)


def site_masker(runner: Runner, site) -> None:
    """Mask every secret of the site that can be revealed (for outputs that may echo them)."""
    reveals = [functools.partial(site.epc.secret, "k"), functools.partial(site.epc.secret, "op")]
    for name, vim in site.vims.items():
        reveals.append(functools.partial(vim.openstack.secret_password().reveal, f"vims.{name}"))
    if site.vca:
        reveals.append(functools.partial(site.vca.secret_password().reveal, "vca"))
    for reveal in reveals:
        try:
            runner.masker.add(reveal())
        except ValueError:
            continue


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
            raise DeployError(f"--vim: no VIM {name!r} in the site (VIMs: {', '.join(site.vims)})")
    plans = [prepare.plan_vim(site, name) for name in names]
    if dry_run:
        for plan in plans:
            openstack = OpenStack(runner, plan.name, site.vims[plan.name], MASK)
            prepare.print_plan(site, plan, openstack, osm, echo)
        return
    passwords = {plan.name: site.vims[plan.name].openstack.secret_password().reveal(
        f"vims.{plan.name}.openstack.password{'_env' if site.vims[plan.name].openstack.password_env else ''}")
        for plan in plans if plan.roles}
    registered = None
    done: list[str] = []
    for plan in plans:
        if not plan.roles:
            echo(f"VIM {plan.name}: nothing of the NS is placed here; skipped")
            continue
        echo(f"VIM {plan.name} ({', '.join(plan.roles)}):")
        openstack = OpenStack(runner, plan.name, site.vims[plan.name], passwords[plan.name])
        try:
            changes = prepare.Preparer(site, path.parent, plan, openstack, echo).run()
            if registered is None:
                registered = {row["vim name"] for row in osm.table("vim-list")}
            if prepare.register_vim(site, plan.name, osm, passwords[plan.name], registered, echo):
                changes.append(f"VIM account {site.vims[plan.name].osm_account} in OSM")
        except DeployError as error:
            raise error.with_progress(done, []) from None
        if not changes:
            echo("  = nothing to change")
        done += [f"{plan.name}: {c}" for c in changes]


@click.command("onboard")
@site_option()
@build_option
@osm_options
@fails_cleanly
def onboard(site_file, build_dir, hostname, user, password, project, dry_run, poll_interval):
    """Onboard the built VNF packages, then the NS package (update the ones OSM has)."""
    load(site_file)  # a broken site file stops here, before any call
    runner, osm = context(dry_run, hostname, user, password, project)
    packages = BuiltPackages(build_dir)
    if dry_run:
        onboarding.print_plan(packages, osm)
        return
    onboarding.onboard(packages, osm, echo)


@click.command("instantiate")
@site_option()
@build_option
@click.option("--ns-name", required=True, help="Name of the NS instance.")
@click.option("--wait", is_flag=True, help="Wait for the instantiation, then scale PE groups with count > 1.")
@click.option("--timeout", type=int, default=DEFAULT_TIMEOUT, show_default=True,
              help="Seconds: OSM's timeout_ns_deploy and the wait per operation.")
@osm_options
@fails_cleanly
def instantiate(site_file, build_dir, ns_name, wait, timeout, hostname, user, password, project, dry_run,
                poll_interval):
    """Write the ns-create config file, check it against the NBI rules, create the NS."""
    _, site = load(site_file)
    runner, osm = context(dry_run, hostname, user, password, project)
    packages = BuiltPackages(build_dir)
    config = inst.checked_config(site, packages, reveal_secrets=not dry_run, timeout=timeout)
    epc_account = members(site)[0].osm_account
    path = inst.config_path(build_dir, ns_name)
    create = inst.ns_create_args(ns_name, packages.ns.name, epc_account, path)
    follow_ups = inst.scale_outs(site)
    if dry_run:
        echo(f"# would write {path} (mode 0600); its content, K and OP redacted:")
        echo(yaml.safe_dump(config, sort_keys=False).rstrip())
        osm.show("ns-list", "--filter", f"name={ns_name}", note="the name must be free")
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
    if osm.ns_exists(ns_name):
        raise DeployError(f"an NS instance named {ns_name} exists already (mecpool status {ns_name}; "
                          f"mecpool teardown {ns_name} removes it)")
    inst.write_config(path, config)
    echo(f"instantiation config: {path} (mode 0600, holds K and OP)")
    ns_id = osm.last_line(*create)
    echo(f"NS {ns_name} created: {ns_id}")
    done, undo = [f"NS {ns_name} created ({ns_id})"], [f"mecpool teardown {ns_name} --wait"]
    if not wait:
        echo(f"follow it with: mecpool status {ns_name}")
        for group, _, count in follow_ups:
            echo(f"once it is READY, PE group {group} needs {count} scale-out(s): "
                 f"mecpool scale-pe {ns_name} --group {group} --out --wait")
        return
    waiter = Waiter(osm, timeout, poll_interval, echo)
    try:
        waiter.wait(find_op(osm, ns_name, "instantiate"), f"instantiate {ns_name}")
        for group, _, count in follow_ups:
            t = scaling.target(site, packages, ns_name, group)
            for step in range(1, count + 1):
                op_id = osm.last_line(*scaling.vnf_scale_args(t, True))
                waiter.wait(op_id, f"scale-out {group} {step}/{count}")
                done.append(f"PE group {group}: scale-out {step}/{count}")
    except DeployError as error:
        raise error.with_progress(done, undo) from None
    echo(f"NS {ns_name} is ready: mecpool status {ns_name}; mecpool pool-status {ns_name}")


@click.command("scale-pe")
@click.argument("ns")
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
    _, site = load(site_file)
    runner, osm = context(dry_run, hostname, user, password, project)
    packages = BuiltPackages(build_dir)
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
    nsr = osm.ns_record(ns)
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
    if not wait:
        return
    undo = [f"mecpool scale-pe {ns} --group {group} --{'in' if out else 'out'}"]
    try:
        Waiter(osm, timeout, poll_interval, echo).wait(op_id, f"{word} {group}")
    except DeployError as error:
        raise error.with_progress([f"{word} of {group} requested ({op_id})"], []) from None
    if not out:
        return
    after_vdus = scaling.pe_vdus(scaling.member_record(osm, t), t.vdu)
    known = {v.get("_id") or v.get("id") or v.get("count-index") for v in before_vdus}
    new = [v for v in after_vdus if (v.get("_id") or v.get("id") or v.get("count-index")) not in known]
    addresses = [a for a in (scaling.pool_address(site, t, v) for v in new) if a]
    if not addresses:
        raise DeployError(f"the scale-out completed but no new PE VDU with an address on the pool network "
                          f"{site.vims[t.vim].pool_network.subnet} is in the VNF record", done=[f"{word} {op_id}"],
                          undo=undo)
    after = None
    for address in addresses:
        after = scaling.wait_registered(osm, ns, registrar, vdu, address, site.pool.handle, timeout,
                                        poll_interval, echo)
    out_console.print(poolstatus.table(before, f"pool before the scale-out ({len(poolstatus.addresses(before))} PEs)"))
    out_console.print(poolstatus.table(after, f"pool after the scale-out ({len(poolstatus.addresses(after))} PEs)"))


@click.command("pool-status")
@click.argument("ns")
@site_option()
@build_option
@click.option("--registrar", help="Registrar to ask (its name in the site; default: the first).")
@osm_options
@fails_cleanly
def pool_status(ns, site_file, build_dir, registrar, hostname, user, password, project, dry_run, poll_interval):
    """The PEs the registrars see, with their load (the registrar charm's pool-status action)."""
    _, site = load(site_file)
    runner, osm = context(dry_run, hostname, user, password, project)
    name = registrar or site.pool.registrars[0].name
    try:
        index = member_for(site, REGISTRAR, name).index
    except KeyError:
        raise DeployError(f"--registrar: no registrar {name!r} in the site "
                          f"({', '.join(r.name for r in site.pool.registrars)})") from None
    vdu = BuiltPackages(build_dir).registrar_vdu()
    if dry_run:
        osm.show(*poolstatus.action_args(ns, index, vdu))
        osm.show("ns-op-show", "<operation id printed above>", "--literal")
        return
    parsed = poolstatus.pool_status(osm, ns, index, vdu)
    out_console = console()
    out_console.print(poolstatus.table(parsed, f"pools seen by registrar {name} (member {index})"))
    out_console.print(f"{len(parsed['pools'])} pool(s), {len(poolstatus.addresses(parsed))} PE address(es); "
                  f"{len(parsed.get('peers') or [])} peer registrar(s)")


@click.command("status")
@click.argument("ns")
@osm_options
@fails_cleanly
def status(ns, hostname, user, password, project, dry_run, poll_interval):
    """State, VNFs with their VIMs and addresses, and the operation history of NS."""
    runner, osm = context(dry_run, hostname, user, password, project)
    if dry_run:
        for args in (("ns-show", ns, "--literal"), ("vnf-list", "--ns", ns),
                     ("vnf-show", "<each vnf id>", "--literal"), ("vim-list",), ("ns-op-list", ns)):
            osm.show(*args)
        return
    ns_status.render(ns_status.collect(osm, ns), console())


@click.command("teardown")
@click.argument("ns")
@click.option("--force", is_flag=True, help="osm ns-delete --force: drop OSM's record even if terminating fails.")
@click.option("--wait", is_flag=True, help="Wait until OSM has removed the NS.")
@click.option("--timeout", type=int, default=3600, show_default=True)
@osm_options
@fails_cleanly
def teardown(ns, force, wait, timeout, hostname, user, password, project, dry_run, poll_interval):
    """Terminate and delete NS (osm ns-delete)."""
    runner, osm = context(dry_run, hostname, user, password, project)
    args = teardown_mod.ns_delete_args(ns, force)
    if dry_run:
        osm.show("ns-show", ns, "--literal", note="it must exist")
        osm.show(*args)
        if wait:
            osm.show("ns-op-list", ns, note="polled until the NS is gone")
        return
    osm.ns_record(ns)
    osm.call(*args)
    echo(f"deletion of NS {ns} requested")
    if wait:
        teardown_mod.wait_deleted(osm, ns, timeout, poll_interval, echo)


def juju_connection(site, controller):
    if site is not None and site.vca is not None and not controller:
        vca = site.vca
        cacert = None
        if vca.cacert_file:
            cert_path = Path(vca.cacert_file).expanduser()
            try:
                cacert = cert_path.read_text(encoding="utf-8")
            except OSError as error:
                raise DeployError(f"vca.cacert_file: cannot read {cert_path}: {error.strerror}") from None
        field = "vca.password_env" if vca.password_env else "vca.password"
        return jujudebug.VcaConnection(endpoint=vca.endpoint, user=vca.user,
                                       password=vca.secret_password().reveal(field), cacert=cacert)
    return jujudebug.VcaConnection(controller_name=controller)


def juju_command(name, help_text, show):
    @click.command(name, help=help_text)
    @click.argument("ns")
    @site_option(required=False)
    @click.option("--controller", help="Controller of the Juju client files (instead of the site's vca).")
    @osm_options
    @fails_cleanly
    def command(ns, site_file, controller, hostname, user, password, project, dry_run, poll_interval):
        runner, osm = context(dry_run, hostname, user, password, project)
        site = None
        try:
            site = load(site_file)[1]
        except SiteError:
            if site_file:
                raise
        if site is not None:
            site_masker(runner, site)
        if dry_run:
            osm.show("ns-show", ns, "--literal", note="the NS id names its Juju model")
            where = (site.vca.endpoint if site is not None and site.vca and not controller
                     else controller or "the current controller of ~/.local/share/juju")
            echo(f"# libjuju: connect to {where}, model <NS id>: FullStatus and Action.ListAll of its units")
            return
        nsr = osm.ns_record(ns)
        model = nsr["_id"]
        fetched = jujudebug.fetch(juju_connection(site, controller), model)
        show(fetched, nsr, model, runner.masker, console())
    return command


def _show_units(fetched, nsr, model, masker, console):
    jujureport.render_units(jujureport.units(fetched, nsr), model, console)


def _show_failed(fetched, nsr, model, masker, console):
    jujureport.render_failed(jujureport.failed_actions(fetched, masker), console)


juju_status = juju_command("juju-status", "Units of NS's Juju model on OSM's VCA, with their workload status.",
                           _show_units)
failed_actions = juju_command("failed-actions", "Every failed Juju action of NS: parameters (secrets masked), "
                              "message, output.", _show_failed)

COMMANDS = [openstack_prepare, onboard, instantiate, scale_pe, pool_status, status, teardown, juju_status,
            failed_actions]
