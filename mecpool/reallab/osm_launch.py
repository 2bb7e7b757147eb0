"""Our launcher around OSM Release EIGHT's unmodified modules.  It runs on the OSM venvs' Python 3.6
(so it stays 3.6 syntax; tests/test_py36_compat.py checks it); of mecpool it imports only the lab's VCA
connector (ssh_connector.py beside it, also 3.6), and only with --ssh-vca.

    python osm_launch.py ro -c openmanod.cfg --create-tenant=osm
        RO's own `osm_ro.openmanod` main, with PyMySQL installed as MySQLdb first (RO imports MySQLdb;
        PyMySQL stands in for mysqlclient, which would need MariaDB's headers on the host).

    python osm_launch.py nbi-lcm --nbi-config nbi.cfg --lcm-config lcm.cfg
        NBI and LCM in one process on one osm_common DbMemory: no MongoDB can run here, and the in-memory
        DB is per process.  LCM is built first (it makes the DbMemory); NBI's Engine, Authenticator and
        subscription thread are handed that object before CherryPy starts (each takes a DB it is given,
        "if not self.db").  CherryPy serves NBI in its own threads; LCM's asyncio loop runs in the main
        thread, as in LCM's own main.  The DbMemory gets a real lock (LCM makes it with a no-op one:
        one thread only in stock LCM).  LCM's bus reader drops the Kafka-only `from_beginning`
        argument (see local_bus_reader).

    python osm_launch.py nbi-lcm ... --ssh-vca
        The same, with N2VC's Juju connector replaced by the lab's (ssh_connector.SshVcaConnector: native
        charms over SSH with VCA.ssh_private_key of lcm.cfg) before LCM's ns module is imported.
"""

import argparse
import os
import runpy
import signal
import sys
import threading


def run_ro(argv):
    import pymysql
    pymysql.install_as_MySQLdb()
    sys.argv = ["openmanod"] + list(argv)
    runpy.run_module("osm_ro.openmanod", run_name="__main__", alter_sys=True)


def local_bus_reader(msg):
    """LCM v8 reads its topics with `aioread(..., from_beginning=True)`, an argument of osm_common's
    MsgKafka only; MsgLocal hands unknown keyword arguments on to the callback, LCM's
    kafka_read_callback(topic, command, params) then raises TypeError and the message is lost (every
    vim_account, ns, ... order).  The local bus reads from where it stands anyway: drop the argument."""
    original = msg.aioread

    def aioread(topic, loop=None, callback=None, aiocallback=None, group_id=None, from_beginning=None, **kwargs):
        return original(topic, loop, callback, aiocallback, group_id, **kwargs)

    msg.aioread = aioread


def run_nbi_lcm(nbi_config, lcm_config, ssh_vca=False):
    if ssh_vca:
        import ssh_connector                # beside this file (the script's directory is on sys.path)
        ssh_connector.install()             # before osm_lcm.ns subclasses N2VCJujuConnector
    import cherrypy
    from osm_lcm.lcm import Lcm
    from osm_nbi import nbi as nbi_module

    from osm_common.msglocal import MsgLocal

    lcm = Lcm(lcm_config)
    if isinstance(lcm.msg, MsgLocal):
        local_bus_reader(lcm.msg)
    shared_db = lcm.db
    shared_db.lock = threading.Lock()

    server = nbi_module.Server()
    nbi_module.nbi_server = server          # NBI's start/stop callbacks use this module global
    server.engine.db = shared_db
    server.authenticator.db = shared_db

    base_thread = nbi_module.SubscriptionThread

    class SharedDbSubscriptionThread(base_thread):
        """NBI's notification thread on the shared DB (stock: a DB of its own from the config)."""

        def __init__(self, config, engine):
            base_thread.__init__(self, config=config, engine=engine)
            self.db = shared_db

    nbi_module.SubscriptionThread = SharedDbSubscriptionThread

    # What cherrypy.quickstart does, without engine.block() (LCM's loop takes the main thread) and
    # without CherryPy's signal handlers (ours below stop both).
    cherrypy.config.update(nbi_config)
    cherrypy.engine.subscribe("start", nbi_module._start_service)
    cherrypy.engine.subscribe("stop", nbi_module._stop_service)
    cherrypy.tree.mount(server, "/osm", nbi_config)
    cherrypy.engine.start()

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    try:
        lcm.start()                         # returns only when LCM's loop ends
        code = 1                            # it never should while NBI serves
        print("osm_launch: LCM's loop ended", file=sys.stderr)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        try:
            cherrypy.engine.exit()
        finally:
            sys.stderr.flush()
            sys.stdout.flush()
            os._exit(0 if code in (0, 128 + signal.SIGTERM, 128 + signal.SIGINT) else code)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="osm_launch")
    sub = parser.add_subparsers(dest="what")
    sub.add_parser("ro", help="RO's openmanod (remaining arguments go to it)")
    both = sub.add_parser("nbi-lcm", help="NBI and LCM in one process on one DbMemory")
    both.add_argument("--nbi-config", required=True)
    both.add_argument("--lcm-config", required=True)
    both.add_argument("--ssh-vca", action="store_true",
                      help="N2VC's Juju connector replaced by the lab's SSH one (ssh_connector.py)")
    args, rest = parser.parse_known_args(argv)
    if args.what == "ro":
        run_ro(rest)
    elif args.what == "nbi-lcm":
        if rest:
            parser.error("unknown arguments: {}".format(" ".join(rest)))
        for name in ("nbi_config", "lcm_config"):
            if not os.path.isfile(getattr(args, name)):
                parser.error("--{}: no file {}".format(name.replace("_", "-"), getattr(args, name)))
        run_nbi_lcm(args.nbi_config, args.lcm_config, args.ssh_vca)
    else:
        parser.error("say ro or nbi-lcm")


if __name__ == "__main__":
    main()
