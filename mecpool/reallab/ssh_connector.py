"""The real-stack lab's VCA: N2VC's connector interface, with the native charms run over SSH instead of by
a Juju controller (none can run here).

LCM v8.0 (osm_lcm/ns.py) builds its connector as `N2VCJujuConnectorLCM(N2VCJujuConnector)` at import
time and calls, for a native charm of a VDU: `get_public_key()` (the key RO puts into every VDU's
cloud-init), `register_execution_environment(namespace, credentials={hostname, username}, db_dict)`,
`install_configuration_sw(ee_id, artifact_path, db_dict, config, num_units)`, `exec_primitive(ee_id,
name, params, db_dict)` for each initial-config-primitive (and each day-2 primitive), `get_status(".<ns>")`
from its DB callback, and on terminate `delete_execution_environment(ee_id)` / `delete_namespace(".<ns>")`.
`install()` puts `SshVcaConnector` in place of `n2vc.n2vc_juju_conn.N2VCJujuConnector` before osm_lcm.ns
is imported, so LCM's own subclass, ordering, parameter mapping and timeouts stay as they are.

What it does: reaches the VDU over SSH as the user LCM names, with the private key whose public half LCM
injected (`VCA.ssh_private_key` in lcm.cfg; `VCA.public_key` holds the same key, which LCM adds to the
VDUs' keys); copies the built charm (the directory LCM's artifact path names in its package storage) and
the VDU lab's hook-tool stand-in (mecpool.vdulab.charmrun / jujustandin) to the VDU and runs Juju's deploy
hooks, `config` as charm config plus config-changed, and every other primitive as an action, through the
charm's real `dispatch`.  Status goes to the same DB fields N2VC's watcher writes (N2VC's own
`write_app_status_to_db`, then LCM's callback).

Runs inside LCM's Python 3.6 venv (the launcher imports it): Python 3.6 syntax, and only what of
mecpool imports there (charmrun, jujustandin, guest; dataclasses from the venv's backport).
"""

import asyncio
import functools
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mecpool.vdulab.charmrun import CharmOnVm, CharmRunError   # noqa: E402
from mecpool.vdulab.guest import Guest, GuestError              # noqa: E402

from n2vc import n2vc_juju_conn                                 # noqa: E402
from n2vc.exceptions import (MethodNotImplemented, N2VCBadArgumentsException,  # noqa: E402
                             N2VCException, N2VCExecutionException)
from n2vc.n2vc_conn import N2VCConnector, obj_to_yaml            # noqa: E402
from n2vc.utils import N2VCDeploymentStatus                      # noqa: E402

JujuConnector = n2vc_juju_conn.N2VCJujuConnector   # N2VC's own, kept for its naming helpers
# How long a VDU may take to accept SSH after Nova says ACTIVE (TCG guests boot in up to ~10 min here).
# The real stack's run of 2026-12-06 (7 VDUs beside the VDU lab's 9, at nice 19): SSH after ~23 min.
SSH_WAIT_S = 3600
# Juju's machine agent install waits out cloud-init's apt; we wait for cloud-init to finish instead.
CLOUD_INIT_WAIT_S = 1800


# `cloud-init status --wait`: 0 done, 1 error, 2 done with recoverable errors; ssh's own failures are 255.
CLOUD_INIT_FINISHED = (0, 1, 2)


def wait_cloud_init(guest, deadline):
    """Until `cloud-init status --wait --long` answers that cloud-init finished (done or error: what it said
    is kept), retrying while SSH itself fails (a login under emulation can time out in the banner exchange:
    seen on the real stack, 2026-12-06); GuestError at the deadline."""
    last = ""
    while time.monotonic() < deadline:
        try:
            done = guest.run("cloud-init status --wait --long", check=False,
                             timeout=max(60, min(CLOUD_INIT_WAIT_S, deadline - time.monotonic())))
        except GuestError as error:
            last = str(error)
            continue
        if done.returncode in CLOUD_INIT_FINISHED and "status:" in done.stdout:
            return done
        last = "exit {}: {}".format(done.returncode, (done.stdout + done.stderr).strip()[-500:])
        time.sleep(5)
    raise GuestError("{}: cloud-init did not finish before the deadline: {}".format(guest.name, last))


class DirectNetwork(object):
    """Guest's network: LCM already runs inside the lab's network namespace, so argv goes as it is."""

    @staticmethod
    def argv(argv):
        return list(argv)


class ExecutionEnvironment(object):
    """What Juju would hold for one registered machine with its one application."""

    def __init__(self, ee_id, model, application, machine, guest):
        self.ee_id = ee_id
        self.model = model
        self.application = application
        self.machine = machine
        self.guest = guest
        self.charm = None          # CharmOnVm after install_configuration_sw
        self.cloud_init = None     # `cloud-init status --long` as the VDU said it


class SshVcaConnector(N2VCConnector):
    """N2VC's connector interface, native charms over SSH (see the module's text)."""

    # N2VC's naming, reused: its _get_application_name calls `N2VCJujuConnector._format_app_name` by the
    # module's name, which install() points at this class.
    _format_app_name = staticmethod(JujuConnector._format_app_name)
    _build_ee_id = staticmethod(JujuConnector._build_ee_id)
    _get_ee_id_components = staticmethod(JujuConnector._get_ee_id_components)

    def __init__(self, db, fs, log=None, loop=None, url="127.0.0.1:17070", username="admin",
                 vca_config=None, on_update_db=None):
        if not vca_config or not vca_config.get("ssh_private_key"):
            raise N2VCBadArgumentsException("the lab's VCA needs VCA.ssh_private_key in lcm.cfg: the private "
                                            "key whose public half LCM injects into the VDUs",
                                            ["vca_config.ssh_private_key"])
        self.ssh_private_key = str(vca_config["ssh_private_key"])
        self.environments = {}     # ee_id -> ExecutionEnvironment
        self.machines = {}         # model -> number of machines registered (Juju's machine ids)
        N2VCConnector.__init__(self, db=db, fs=fs, log=log, loop=loop, url=url, username=username,
                               vca_config=vca_config, on_update_db=on_update_db)
        self.log.info("mecpool real-lab VCA: native charms over SSH with {}".format(self.ssh_private_key))

    # -- the key LCM injects ------------------------------------------------------------------------

    def get_public_key(self):
        """The public half of VCA.ssh_private_key (N2VC's: ~/.ssh/id_n2vc_rsa.pub, made on first use)."""
        self.private_key_path = self.ssh_private_key
        self.public_key_path = self.ssh_private_key + ".pub"
        for path, what in ((self.private_key_path, "VCA.ssh_private_key"), (self.public_key_path, "its .pub")):
            if not os.path.isfile(path):
                raise N2VCBadArgumentsException("{}: no file {}".format(what, path), ["vca_config.ssh_private_key"])
        with open(self.public_key_path) as f:
            return f.readline()

    # -- blocking work off LCM's loop ---------------------------------------------------------------

    async def _blocking(self, function, *args):
        return await self.loop.run_in_executor(None, functools.partial(function, *args))

    async def _status(self, db_dict, status, detailed, vca_status, entity_type):
        await self.write_app_status_to_db(db_dict=db_dict, status=status, detailed_status=detailed,
                                          vca_status=vca_status, entity_type=entity_type)

    def _environment(self, ee_id):
        if not ee_id:
            raise N2VCBadArgumentsException(message="ee_id is mandatory", bad_args=["ee_id"])
        try:
            return self.environments[ee_id]
        except KeyError:
            raise N2VCException(message="execution environment {} is not known to the lab's VCA (it keeps "
                                        "them in LCM's process only)".format(ee_id)) from None

    # -- N2VC's interface ---------------------------------------------------------------------------

    async def get_status(self, namespace, yaml_format=True):
        """Juju's model status, as far as the lab knows it: {model: {machines, applications}}."""
        _nsi, ns_id, _vnf, _vdu, _count = self._get_namespace_components(namespace=namespace)
        if ns_id is None:
            raise N2VCBadArgumentsException("Namespace {} not valid".format(namespace), ["namespace"])
        status = {}
        for ee in self.environments.values():
            if ee.model != ns_id:
                continue
            model = status.setdefault(ee.model, {"machines": {}, "applications": {}})
            model["machines"][ee.machine] = {"agent-status": {"status": "started"},
                                             "instance-status": {"status": "running"},
                                             "dns-name": ee.guest.address}
            last = ee.charm.outcomes[-1] if ee.charm and ee.charm.outcomes else None
            app = {"status": {"status": last.application_status.status if last else "waiting",
                              "info": last.application_status.message if last else "not deployed yet"},
                   "units": {}}
            if last:
                app["units"][last.unit] = {"workload-status": {"status": last.unit_status.status,
                                                               "info": last.unit_status.message},
                                           "machine": ee.machine}
            model["applications"][ee.application] = app
        return obj_to_yaml(status) if yaml_format else status

    async def create_execution_environment(self, namespace, db_dict, reuse_ee_id=None, progress_timeout=None,
                                           total_timeout=None):
        raise N2VCException(message="the lab's VCA runs native charms only: proxy charms need a Juju "
                                    "controller and an LXD host (namespace {})".format(namespace))

    async def register_execution_environment(self, namespace, credentials, db_dict, progress_timeout=None,
                                             total_timeout=None):
        """Juju's manual provisioning of the VDU, here: wait until it takes our key over SSH and cloud-init
        is done; the ee_id is N2VC's `<model>.<application>.<machine>`."""
        self.log.info("Registering execution environment. namespace={}, credentials={}".format(
            namespace, credentials))
        if credentials is None:
            raise N2VCBadArgumentsException(message="credentials are mandatory", bad_args=["credentials"])
        for key in ("hostname", "username"):
            if not credentials.get(key):
                raise N2VCBadArgumentsException(message="{} is mandatory".format(key),
                                                bad_args=["credentials.{}".format(key)])
        _nsi, model, _vnf, _vdu, _count = self._get_namespace_components(namespace=namespace)
        application = JujuConnector._get_application_name(self, namespace=namespace)
        key = credentials.get("private_key_path") or self.private_key_path
        # Guest asks again when ssh could not set its session up, as Juju's SSH provisioning retries.
        guest = Guest(application, credentials["hostname"], key, DirectNetwork(), user=credentials["username"])
        await self._status(db_dict, N2VCDeploymentStatus.PENDING, "waiting for SSH", "pending", "machine")
        deadline = time.monotonic() + (total_timeout or SSH_WAIT_S)
        try:
            await self._blocking(guest.wait_ssh, deadline)
            done = await self._blocking(wait_cloud_init, guest, deadline)
        except GuestError as error:
            await self._status(db_dict, N2VCDeploymentStatus.FAILED, str(error), "error", "machine")
            raise N2VCException(message="Error registering machine on juju: {}".format(error)) from None
        machine = str(self.machines.get(model, 0))
        self.machines[model] = int(machine) + 1
        ee_id = JujuConnector._build_ee_id(model_name=model, application_name=application, machine_id=machine)
        ee = ExecutionEnvironment(ee_id, model, application, machine, guest)
        ee.cloud_init = (done.stdout + done.stderr).strip()
        self.environments[ee_id] = ee
        await self._status(db_dict, N2VCDeploymentStatus.COMPLETED, "machine {} at {}".format(
            machine, guest.address), "running", "machine")
        self.log.info("Execution environment registered. ee_id: {}, cloud-init: {}".format(
            ee_id, ee.cloud_init.replace("\n", " | ")))
        return ee_id

    async def install_configuration_sw(self, ee_id, artifact_path, db_dict, progress_timeout=None,
                                       total_timeout=None, config=None, num_units=1):
        """Juju's deploy of the charm to the registered machine: the deploy hooks with `config`."""
        self.log.info("Installing configuration sw on ee_id: {}, artifact path: {}, db_dict: {}".format(
            ee_id, artifact_path, db_dict))
        if not artifact_path:
            raise N2VCBadArgumentsException(message="artifact_path is mandatory", bad_args=["artifact_path"])
        if db_dict is None:
            raise N2VCBadArgumentsException(message="db_dict is mandatory", bad_args=["db_dict"])
        ee = self._environment(ee_id)
        while "//" in artifact_path:
            artifact_path = artifact_path.replace("//", "/")
        if not self.fs.file_exists(artifact_path, mode="dir"):
            raise N2VCBadArgumentsException(message="artifact path does not exist: {}".format(artifact_path),
                                            bad_args=["artifact_path"])
        full_path = self.fs.path.rstrip("/") + "/" + artifact_path.lstrip("/")
        charm = CharmOnVm(ee.guest, Path(full_path))
        charm.config.update(config or {})
        ee.charm = charm
        await self._status(db_dict, N2VCDeploymentStatus.RUNNING, "deploying charm {}".format(charm.app),
                           "maintenance", "application")
        try:
            outcomes = await self._blocking(charm.deploy)
        except (GuestError, CharmRunError) as error:
            await self._status(db_dict, N2VCDeploymentStatus.FAILED, str(error), "error", "application")
            raise N2VCException(message="Error desploying charm into ee={} : {}".format(ee_id, error)) from None
        failed = next((o for o in outcomes if not o.ok), None)
        last = failed or outcomes[-1]
        if failed:
            await self._status(db_dict, N2VCDeploymentStatus.FAILED, last.message or "", "error", "application")
            raise N2VCException(message="Error desploying charm into ee={} : hook {} failed: {}".format(
                ee_id, failed.name, failed.message or failed.stderr[-1000:]))
        await self._status(db_dict, N2VCDeploymentStatus.COMPLETED, last.unit_status.message,
                           last.unit_status.status, "application")
        self.log.info("Configuration sw installed")

    async def install_k8s_proxy_charm(self, charm_name, namespace, artifact_path, db_dict, progress_timeout=None,
                                      total_timeout=None, config=None):
        raise N2VCException(message="the lab's VCA has no Kubernetes: k8s proxy charm {} refused".format(charm_name))

    async def get_ee_ssh_public__key(self, ee_id, db_dict, progress_timeout=None, total_timeout=None):
        raise N2VCException(message="the lab's VCA runs native charms only (no proxy charm keys)")

    async def add_relation(self, ee_id_1, ee_id_2, endpoint_1, endpoint_2):
        raise N2VCException(message="the lab's VCA has no Juju relations ({} {} - {} {})".format(
            ee_id_1, endpoint_1, ee_id_2, endpoint_2))

    async def remove_relation(self):
        raise MethodNotImplemented()

    async def deregister_execution_environments(self):
        raise MethodNotImplemented()

    async def delete_namespace(self, namespace, db_dict=None, total_timeout=None):
        """Juju destroys the NS's models; the lab forgets their environments (RO deletes the VMs)."""
        self.log.info("Deleting namespace={}".format(namespace))
        if namespace is None:
            raise N2VCBadArgumentsException(message="namespace is mandatory", bad_args=["namespace"])
        _nsi, ns_id, _vnf, _vdu, _count = self._get_namespace_components(namespace=namespace)
        if ns_id is None:
            raise N2VCBadArgumentsException(message="only ns_id is permitted to delete yet",
                                            bad_args=["namespace"])
        for ee_id in [e for e, ee in self.environments.items() if ee.model == ns_id]:
            del self.environments[ee_id]
        self.machines.pop(ns_id, None)
        self.log.info("Namespace {} deleted".format(namespace))

    async def delete_execution_environment(self, ee_id, db_dict=None, total_timeout=None):
        """N2VC destroys the whole model of the ee_id; so does this."""
        self.log.info("Deleting execution environment ee_id={}".format(ee_id))
        if ee_id is None:
            raise N2VCBadArgumentsException(message="ee_id is mandatory", bad_args=["ee_id"])
        model = JujuConnector._get_ee_id_components(ee_id=ee_id)[0]
        for other in [e for e, ee in self.environments.items() if ee.model == model]:
            del self.environments[other]
        self.machines.pop(model, None)

    async def exec_primitive(self, ee_id, primitive_name, params_dict, db_dict=None, progress_timeout=None,
                             total_timeout=None):
        """`config`: the application's config and config-changed ("CONFIG OK"); any other name: the
        charm's action, its action-set results returned (N2VC returns Juju's action output)."""
        self.log.info("Executing primitive: {} on ee: {}, params: {}".format(primitive_name, ee_id, params_dict))
        if not primitive_name:
            raise N2VCBadArgumentsException(message="action_name is mandatory", bad_args=["action_name"])
        ee = self._environment(ee_id)
        if ee.charm is None:
            raise N2VCExecutionException(message="no charm deployed into ee={}".format(ee_id),
                                         primitive_name=primitive_name)
        params = dict(params_dict or {})
        config = primitive_name == "config"
        entity = "application" if config else "action"
        await self._status(db_dict, N2VCDeploymentStatus.RUNNING, primitive_name, "running", entity)
        try:
            if config:
                outcome = await self._blocking(ee.charm.set_config, params)
            else:
                outcome = await self._blocking(ee.charm.action, primitive_name, params)
        except (GuestError, CharmRunError) as error:
            await self._status(db_dict, N2VCDeploymentStatus.FAILED, str(error), "failed", entity)
            raise N2VCExecutionException(message="Error executing primitive {} into ee={} : {}".format(
                primitive_name, ee_id, error), primitive_name=primitive_name) from None
        if not outcome.ok:
            await self._status(db_dict, N2VCDeploymentStatus.FAILED, outcome.message or "", outcome.status, entity)
            raise N2VCExecutionException(message="Error executing primitive {} into ee={} : status is not "
                                                 "completed: {}: {}".format(primitive_name, ee_id, outcome.status,
                                                                             outcome.message or outcome.stderr[-1000:]),
                                         primitive_name=primitive_name)
        await self._status(db_dict, N2VCDeploymentStatus.COMPLETED, outcome.message or "", outcome.status, entity)
        return "CONFIG OK" if config else outcome.results

    async def disconnect(self):
        self.log.info("closing the lab's VCA (nothing to close)")


def install():
    """Put the lab's connector where LCM's ns.py takes N2VC's Juju connector from: call it before
    osm_lcm.ns is imported (its N2VCJujuConnectorLCM subclasses the name at import time)."""
    if "osm_lcm.ns" in sys.modules:
        raise RuntimeError("install() must run before osm_lcm.ns is imported")
    n2vc_juju_conn.N2VCJujuConnector = SshVcaConnector
