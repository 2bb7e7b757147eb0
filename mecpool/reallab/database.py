"""The stack's databases: created once (schema syncs of every service, Keystone's bootstrap and the
service users and endpoints), dumped with Keystone's key repositories into the cache, and restored from
that dump on every later (warm) start.

The dump holds the service databases only; the databases' users are made anew on every start
(grants_sql), before the dump is restored or the schemas are synced.

Keyed by the package tree's key and the settings (passwords and addresses end up in the rows: the cell
mappings, the endpoints), so a new package set or new settings make a new dump.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from mecpool.vdulab.image import cache_lock

from .configs import DATABASES, Settings

FORMAT = "1"
KEY_DIRS = ("var/lib/keystone/fernet-keys", "var/lib/keystone/credential-keys")
LogFn = Callable[[str], None]


def dump_key(tree_key: str, s: Settings) -> str:
    text = json.dumps({"format": FORMAT, "tree": tree_key, "settings": asdict(s)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def grants_sql(s: Settings) -> str:
    """The databases and their users (each service's user owns its databases; nova owns three)."""
    owner = {"nova_api": "nova", "nova_cell0": "nova"}
    lines = []
    for db in DATABASES:
        user = owner.get(db, db)
        lines.append(f"CREATE DATABASE IF NOT EXISTS {db} CHARACTER SET utf8;")
        lines.append(f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{s.password}';")
        lines.append(f"GRANT ALL PRIVILEGES ON {db}.* TO '{user}'@'%';")
    lines.append("FLUSH PRIVILEGES;")
    return "\n".join(lines) + "\n"


def sync_chains(s: Settings) -> list[list[list[str]]]:
    """Schema syncs and Keystone's bootstrap (what the packages' postinsts run via dbconfig): one chain
    per service, in order within a chain; the chains are independent of each other."""
    k = s.url("keystone") + "/"
    return [[
        ["keystone-manage", "db_sync"],
        ["keystone-manage", "fernet_setup", "--keystone-user", "root", "--keystone-group", "root"],
        ["keystone-manage", "credential_setup", "--keystone-user", "root", "--keystone-group", "root"],
        ["keystone-manage", "bootstrap", "--bootstrap-password", s.admin_password,
         "--bootstrap-admin-url", k, "--bootstrap-internal-url", k, "--bootstrap-public-url", k,
         "--bootstrap-region-id", s.region]], [
        ["glance-manage", "--config-file", "/etc/glance/glance-api.conf", "db_sync"]], [
        ["placement-manage", "db", "sync"]], [
        ["nova-manage", "api_db", "sync"],
        ["nova-manage", "cell_v2", "map_cell0", "--database_connection", s.db("nova_cell0", "nova")],
        ["nova-manage", "cell_v2", "create_cell", "--name", "cell1"],
        ["nova-manage", "db", "sync"]], [
        ["neutron-db-manage", "--config-file", "/etc/neutron/neutron.conf", "--config-file",
         "/etc/neutron/plugins/ml2/ml2_conf.ini", "upgrade", "heads"]],
    ]


def install_db(sandbox) -> None:
    """A fresh MariaDB data directory (mariadb-install-db), as the package's postinst makes it."""
    sandbox.run(["mkdir", "-p", "/run/mysqld", "/var/lib/mysql"])
    sandbox.run(["mariadb-install-db", "--no-defaults", "--user=root", "--datadir=/var/lib/mysql",
                 "--auth-root-authentication-method=socket", "--skip-test-db"], timeout=300)


def sql(sandbox, text: str) -> str:
    return sandbox.run(["mariadb", "--socket=/run/mysqld/mysqld.sock", "-uroot", "-e", text]).stdout


class Dumps:
    """The cached dumps: <cache>/reallab/db/<key>/{dump.sql, keystone-keys.tar}."""

    def __init__(self, cache_root: Path, key: str):
        self.base = cache_root / "reallab" / "db"
        self.dir = self.base / key

    @property
    def present(self) -> bool:
        return (self.dir / "dump.sql").is_file() and (self.dir / "keystone-keys.tar").is_file()

    def save(self, sandbox) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        with cache_lock(self.base / ".lock"):
            tmp = self.base / f".tmp-{self.dir.name[:16]}"
            tmp.mkdir(parents=True, exist_ok=True)
            dump = sandbox.run(["mysqldump", "--socket=/run/mysqld/mysqld.sock", "-uroot",
                                "--single-transaction", "--databases", *DATABASES]).stdout
            (tmp / "dump.sql").write_text(dump)
            sandbox.run(["tar", "-C", "/", "-cf", str(tmp / "keystone-keys.tar"), *KEY_DIRS])
            if not self.dir.exists():
                tmp.rename(self.dir)

    def restore(self, sandbox) -> None:
        sandbox.run(["sh", "-c", "mariadb --socket=/run/mysqld/mysqld.sock -uroot < "
                     + shlex.quote(str(self.dir / "dump.sql"))])
        sandbox.run(["tar", "-C", "/", "-xf", str(self.dir / "keystone-keys.tar")])


def create(sandbox, s: Settings, log: LogFn) -> dict[str, float]:
    """Every schema sync (cold), the chains side by side; returns each step's seconds.  The databases
    and users must exist (grants_sql)."""
    times: dict[str, float] = {}

    def chain(commands):
        for argv in commands:
            started = time.monotonic()
            sandbox.run(argv, timeout=900)
            name = " ".join(a for a in argv[:3] if not a.startswith("-"))
            times[name] = round(time.monotonic() - started, 1)
            log(f"reallab: {name}: {times[name]:.0f} s")

    with ThreadPoolExecutor(max_workers=3) as pool:
        for future in [pool.submit(chain, c) for c in sync_chains(s)]:
            future.result()
    return times
