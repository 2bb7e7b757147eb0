"""Checks of mecpool/reallab/ssh_connector.py, run by test_ssh_connector.py with OSM LCM's own Python 3.6
venv (N2VC, osm_common and LCM are installed there only).  No VDU: ssh is replaced at subprocess.run by a
recorder that answers as a VDU with the stand-in would; the DB is osm_common's real DbMemory, as in the
lab.  Prints one line per check; exits 1 at the first failure."""

import asyncio
import json
import logging
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "mecpool" / "reallab"))
sys.path.insert(0, str(ROOT))

import ssh_connector                                     # noqa: E402  (as osm_launch.py imports it)
from mecpool.vdulab import guest as guest_module          # noqa: E402
from n2vc.exceptions import N2VCBadArgumentsException, N2VCException, N2VCExecutionException  # noqa: E402
from osm_common.dbmemory import DbMemory                 # noqa: E402

NS = "0f1e2d3c-aaaa-bbbb-cccc-000000000001"
VNF = "9a8b7c6d-1111-2222-3333-444455556666"
NAMESPACE = ".{}.{}.pe-0".format(NS, VNF)
DB_DICT = {"collection": "nsrs", "filter": {"_id": NS}, "path": "_admin.deployed.VCA.0."}


def outcome(kind, name, status="completed", results=None, unit_status=("active", "ready"), message=None):
    return {"kind": kind, "name": name, "unit": "rsp-pool-element/0", "status": status,
            "exit_code": 0 if status == "completed" else 1, "message": message, "results": results or {},
            "unit_status": {"status": unit_status[0], "message": unit_status[1]},
            "application_status": {"status": unit_status[0], "message": unit_status[1]},
            "logs": [], "action_logs": [], "action_id": "1" if kind == "action" else None,
            "stdout": "", "stderr": "boom" if status != "completed" else ""}


class Vdu(object):
    """subprocess.run for ssh: records each remote command, answers as the VDU would."""

    def __init__(self):
        self.calls = []
        self.fail_action = None
        self.cloud_init_asks = 0
        self.tar_failed = False

    def __call__(self, argv, input=None, stdout=None, stderr=None, timeout=None, **kwargs):
        assert argv[0] == "ssh", argv
        remote = argv[-1]
        self.calls.append((argv, remote, input))
        out = ""
        if "tar xzf" in remote and not self.tar_failed:     # as seen on the real stack under load
            self.tar_failed = True
            return subprocess.CompletedProcess(argv, 255, b"", b"Connection timed out during banner exchange")
        if "runner.py" in remote:
            inner = shlex.split(shlex.split(remote)[-1])          # sudo sh -c '<cd / && python3 runner.py ...>'
            words = inner[inner.index("&&") + 1:]
            if "--hook" in words:
                out = json.dumps(outcome("hook", words[words.index("--hook") + 1]))
            else:
                name = words[words.index("--action") + 1]
                if name == self.fail_action:
                    out = json.dumps(outcome("action", name, status="failed", message="no registrar answered"))
                else:
                    out = json.dumps(outcome("action", name, results={"registered": "yes"}))
        elif remote.startswith("cloud-init status"):
            self.cloud_init_asks += 1
            if self.cloud_init_asks == 1:       # as seen on the real stack: the login timed out
                return subprocess.CompletedProcess(argv, 255, b"", b"Connection timed out during banner exchange")
            out = "status: done\n"
        return subprocess.CompletedProcess(argv, 0, out.encode(), b"")


class Fs(object):
    def __init__(self, path):
        self.path = path

    def file_exists(self, storage, mode=None):
        return os.path.isdir(os.path.join(self.path, storage.lstrip("/"))) if mode == "dir" else \
            os.path.exists(os.path.join(self.path, storage.lstrip("/")))


def check(what, condition, detail=""):
    print("{} {}{}".format("ok  " if condition else "FAIL", what, ": {}".format(detail) if detail and not condition else ""))
    if not condition:
        sys.exit(1)


def main():
    logging.basicConfig(level=logging.WARNING)
    loop = asyncio.get_event_loop()
    tmp = Path(tempfile.mkdtemp())
    key = tmp / "id_ed25519"
    subprocess.check_call(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
    charm = tmp / "storage" / "pkg1" / "rsp-pool-element" / "charms" / "rsp-pool-element"
    charm.mkdir(parents=True)
    (charm / "dispatch").write_text("#!/bin/sh\n")
    db = DbMemory()
    db.db_connect({"name": "osm"})
    db.create("nsrs", {"_id": NS, "nsState": "BUILDING", "_admin": {"deployed": {"VCA": [{"status": None}]}}})
    updates = []

    async def on_update(table, q_filter, path, data):
        updates.append((table, q_filter, path, data))

    vca = {"host": "127.0.0.1", "port": 17070, "user": "admin", "secret": "x", "ssh_private_key": str(key)}
    try:
        ssh_connector.SshVcaConnector(db=db, fs=Fs(str(tmp / "storage")), log=logging.getLogger("t"), loop=loop,
                                      vca_config=dict(vca, ssh_private_key=""))
        check("a missing VCA.ssh_private_key is refused", False)
    except N2VCBadArgumentsException as error:
        check("a missing VCA.ssh_private_key is refused naming it", "ssh_private_key" in str(error.bad_args), error)

    # LCM's own subclass, built on ours as in the lab: install() before osm_lcm.ns is imported
    ssh_connector.install()
    from osm_lcm import ns as lcm_ns
    check("LCM's N2VCJujuConnectorLCM subclasses the lab's connector",
          ssh_connector.SshVcaConnector in lcm_ns.N2VCJujuConnectorLCM.__mro__)
    try:
        ssh_connector.install()
        check("install() after osm_lcm.ns is imported is refused", False)
    except RuntimeError:
        check("install() after osm_lcm.ns is imported is refused", True)
    conn = lcm_ns.N2VCJujuConnectorLCM(db=db, fs=Fs(str(tmp / "storage") + "/"), log=logging.getLogger("t"),
                                       loop=loop, url="127.0.0.1:17070", username="admin", vca_config=vca,
                                       on_update_db=on_update)
    check("get_public_key is the .pub of VCA.ssh_private_key",
          conn.get_public_key() == (tmp / "id_ed25519.pub").read_text().splitlines()[0] + "\n")

    vdu = Vdu()
    subprocess.run = vdu
    guest_module.SSH_SETUP_PAUSE_S = 0
    ee_id = loop.run_until_complete(conn.register_execution_environment(
        namespace=NAMESPACE, credentials={"hostname": "10.220.1.7", "username": "ubuntu"}, db_dict=DB_DICT))
    check("ee_id is N2VC's <model>.<application>.<machine>",
          ee_id == "{}.app-vnf-z{}-vdu-pe-cnt-z0.0".format(NS, VNF[-12:]), ee_id)
    argv = vdu.calls[0][0]
    check("ssh as the user LCM names, with the VCA key, to the VDU's address",
          argv[:3] == ["ssh", "-i", str(key)] and "ubuntu@10.220.1.7" in argv and "BatchMode=yes" in argv, argv)
    check("registering waits for cloud-init, asking again after an SSH failure",
          vdu.cloud_init_asks == 2 and conn.environments[ee_id].cloud_init == "status: done", vdu.cloud_init_asks)
    nsr = db.get_one("nsrs", {"_id": NS})
    vca0 = nsr["_admin"]["deployed"]["VCA"][0]
    check("machine status written where N2VC writes it", vca0.get("status") == "completed"
          and vca0.get("entity-type") == "machine" and "status-time" in vca0, vca0)
    check("LCM's DB callback called with N2VC's arguments",
          updates and updates[-1][0] == "nsrs" and updates[-1][2] == "_admin.deployed.VCA.0.", updates[-1:])

    try:
        loop.run_until_complete(conn.install_configuration_sw(
            ee_id=ee_id, artifact_path="pkg1/rsp-pool-element/charms/missing", db_dict=DB_DICT,
            vca_type="native_charm"))
        check("a missing artifact path is refused", False)
    except N2VCBadArgumentsException as error:
        check("a missing artifact path is refused naming it", error.bad_args == ["artifact_path"], error)

    vdu.calls.clear()
    loop.run_until_complete(conn.install_configuration_sw(
        ee_id=ee_id, artifact_path="pkg1//rsp-pool-element/charms/rsp-pool-element", db_dict=DB_DICT,
        config={"mode": "x"}, vca_type="native_charm"))
    remotes = [c[1] for c in vdu.calls]
    check("the stand-in and the charm are copied, as tar through sudo (the first copy asked again after "
          "ssh's banner timeout)",
          sum("tar xzf - -C" in r for r in remotes) == 3 and all(c[2] for c in vdu.calls if "tar xzf" in c[1]),
          remotes)
    hooks = [shlex.split(shlex.split(r)[-1]) for r in remotes if "runner.py" in r]
    check("Juju's deploy hooks in order through runner.py",
          [h[h.index("--hook") + 1] for h in hooks] == ["install", "leader-elected", "config-changed", "start"],
          hooks)
    check("the charm runs from Juju's unit directory with LCM's config",
          all("/var/lib/juju/agents/unit-rsp-pool-element-0/charm" in h and json.dumps({"mode": "x"}) in h
              for h in hooks), hooks[0])
    vca0 = db.get_one("nsrs", {"_id": NS})["_admin"]["deployed"]["VCA"][0]
    check("application status written", vca0["entity-type"] == "application" and vca0["VCA-status"] == "active",
          vca0)

    result = loop.run_until_complete(conn.exec_primitive(ee_id=ee_id, primitive_name="configure",
                                                         params_dict={"capacity": 1000}, db_dict=DB_DICT))
    check("an action returns its results, as N2VC returns Juju's action output", result == {"registered": "yes"},
          result)
    last = shlex.split(shlex.split(vdu.calls[-1][1])[-1])
    check("the action with LCM's mapped parameters", last[last.index("--action") + 1] == "configure"
          and json.loads(last[last.index("--params") + 1]) == {"capacity": 1000}, last)
    check("action status written", db.get_one("nsrs", {"_id": NS})["_admin"]["deployed"]["VCA"][0]["status"]
          == "completed")
    said = loop.run_until_complete(conn.exec_primitive(ee_id=ee_id, primitive_name="config",
                                                       params_dict={"mode": "y"}, db_dict=DB_DICT))
    last = shlex.split(shlex.split(vdu.calls[-1][1])[-1])
    check("config: charm config and config-changed, 'CONFIG OK'", said == "CONFIG OK"
          and last[last.index("--hook") + 1] == "config-changed"
          and json.loads(last[last.index("--config") + 1]) == {"mode": "y"}, last)
    vdu.fail_action = "reconfigure"
    try:
        loop.run_until_complete(conn.exec_primitive(ee_id=ee_id, primitive_name="reconfigure", params_dict={},
                                                    db_dict=DB_DICT))
        check("a failed action raises", False)
    except N2VCExecutionException as error:
        check("a failed action raises N2VCExecutionException with the charm's message",
              error.primitive_name == "reconfigure" and "no registrar answered" in str(error), error)
    vca0 = db.get_one("nsrs", {"_id": NS})["_admin"]["deployed"]["VCA"][0]
    check("failed action status written", vca0["status"] == "failed" and vca0["entity-type"] == "action", vca0)

    status = loop.run_until_complete(conn.get_status("." + NS, yaml_format=False))
    app = status[NS]["applications"]["app-vnf-z{}-vdu-pe-cnt-z0".format(VNF[-12:])]
    check("get_status: Juju's model shape (machines, applications with status)",
          status[NS]["machines"]["0"]["agent-status"]["status"] == "started" and app["status"]["status"] == "active",
          status)
    try:
        loop.run_until_complete(conn.create_execution_environment(namespace=NAMESPACE, db_dict=DB_DICT))
        check("proxy charms are refused", False)
    except N2VCException as error:
        check("proxy charms are refused with why", "native charms only" in str(error), error)
    loop.run_until_complete(conn.delete_namespace("." + NS))
    check("delete_namespace forgets the NS's environments", not conn.environments)
    try:
        loop.run_until_complete(conn.exec_primitive(ee_id=ee_id, primitive_name="configure", params_dict={}))
        check("an unknown ee_id is refused", False)
    except N2VCException as error:
        check("an unknown ee_id is refused naming it", ee_id in str(error), error)
    print("all checks passed")


if __name__ == "__main__":
    main()
