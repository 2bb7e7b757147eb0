"""The PE watchdog (rsp-pe-watchdog.service): restarts rspserver when it has had no
registrar association for a while, and when its "auto" address changed.

Stock RSPLIB leaves a PE whose first registration failed running but asleep for
good (no association, no re-registration); why, and how this finds it, is in
docs/vdu-lab.md.  Shipped in the PE's user data (every byte counts), so the
long story lives there.  Python 3.6, standard library only.
"""

import json
import os
import subprocess
import sys
import time

from . import configure
from .commands import ASAP_PORT, Endpoint
from .units import POOL_ELEMENT_SERVICE

INTERVAL_S = 10
# RSPLIB re-registers every 30 s, a registrar keeps a PE 90 s: 60 s alone is not registered.
LIMIT_S = 60
MAX_BACKOFF_S = 120
STATE_FILE = "/run/mecpool/pe-watchdog.json"
ASSOCS = "/proc/net/sctp/assocs"
SCTP_ESTABLISHED = 3   # the ST column of /proc/net/sctp/assocs (enum sctp_state)


def registrar_associations(assocs_text, registrars):
    """Registrars (Endpoints) with an established association in /proc/net/sctp/assocs."""
    wanted = dict(((r.address, r.port), str(r)) for r in registrars)
    found = set()
    lines = assocs_text.splitlines()
    for line in lines[1:]:
        fields = line.split()
        if "<->" not in fields or len(fields) < 13:
            continue
        try:
            state, remote_port = int(fields[4]), int(fields[12])
        except ValueError:
            continue
        arrow = fields.index("<->")
        # remote addresses run from "<->" to HBINT; "*" marks the primary
        remote = []
        for field in fields[arrow + 1:]:
            if field.isdigit():
                break
            remote.append(field.lstrip("*"))
        if state != SCTP_ESTABLISHED:
            continue
        for address in remote:
            if (address, remote_port) in wanted:
                found.add(wanted[(address, remote_port)])
    return sorted(found)


def unit_local_address(unit_text):
    """The address of ``-local=ADDR:PORT`` in a rendered pool element unit, or None."""
    for word in unit_text.split():
        if word.startswith("-local="):
            return Endpoint.parse(word[len("-local="):], 0, "unit.local").address
    return None


class Watchdog(object):
    """One decision per step(); systemctl, files and the clock are seams."""

    def __init__(self, settings_path, unit_dir=configure.UNIT_DIR, run=None, read=None,
                 resolve=None, clock=time.monotonic, interval_s=INTERVAL_S, limit_s=LIMIT_S,
                 max_backoff_s=MAX_BACKOFF_S, log=None):
        self.settings_path = settings_path
        self.unit_path = os.path.join(unit_dir, POOL_ELEMENT_SERVICE)
        self.run = run or _run
        self.read = read or _read
        self.resolve = resolve or configure.source_address_towards
        self.clock = clock
        self.interval_s = interval_s
        self.limit_s = limit_s
        self.max_backoff_s = max_backoff_s
        self.log = log or _log
        self.unassociated_since = None   # reset when the service stops or is restarted
        self.restarts = 0            # consecutive restarts that did not bring an association
        self.total_restarts = 0
        self.last_action = ""

    def _active(self):
        return self.run(["systemctl", "is-active", "--quiet", POOL_ELEMENT_SERVICE]) == 0

    def _restart(self, why):
        self.log("restarting {}: {}".format(POOL_ELEMENT_SERVICE, why))
        self.run(["systemctl", "restart", POOL_ELEMENT_SERVICE])
        self.restarts += 1
        self.total_restarts += 1
        self.last_action = why
        self.unassociated_since = None

    def _follow_address(self, settings):
        """Re-render the unit when the PE's "auto" address changed; True if it did."""
        if settings.get("local_address", "auto") not in (None, "", "auto"):
            return False
        unit = self.read(self.unit_path)
        if unit is None:
            return False
        name, text = configure.render("pool-element", settings, resolve=self.resolve)
        now_address, unit_address = unit_local_address(text), unit_local_address(unit)
        if now_address == unit_address:
            return False
        configure.write_atomic(self.unit_path, text)
        self.run(["systemctl", "daemon-reload"])
        self._restart("its address towards the registrars changed from {} to {}".format(
            unit_address, now_address))
        return True

    def step(self):
        """Check once; returns the state written for pe-status."""
        now = self.clock()
        settings = json.loads(self.read(self.settings_path) or "null")
        state = {"service": "inactive", "registrar_associations": [], "restarts": self.total_restarts}
        if not isinstance(settings, dict):
            return dict(state, verdict="not configured")
        registrars = [Endpoint.parse(r, ASAP_PORT, "pool_element.registrars")
                      for r in configure.split_list(settings.get("registrars"))]
        if not self._active():
            self.unassociated_since = None
            return dict(state, verdict="service not running (systemd restarts it)")
        if self._follow_address(settings):
            return dict(state, service="restarted", verdict=self.last_action, restarts=self.total_restarts)
        associated = registrar_associations(self.read(ASSOCS) or "", registrars)
        state.update(service="active", registrar_associations=associated)
        if associated:
            self.unassociated_since = None
            self.restarts = 0
            return dict(state, verdict="associated with a registrar")
        if self.unassociated_since is None:
            self.unassociated_since = now
        wait = min(self.limit_s * (2 ** self.restarts), self.max_backoff_s)
        alone = now - self.unassociated_since
        if alone >= wait:
            self._restart("no association to any registrar ({}) for {:.0f} s".format(
                ", ".join(str(r) for r in registrars), alone))
            return dict(state, service="restarted", verdict=self.last_action,
                        restarts=self.total_restarts)
        return dict(state, verdict="no registrar association for {:.0f} s (restart after {:.0f} s)".format(
            alone, wait))


def _run(argv):
    return subprocess.call(argv)


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _log(message):
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.stderr.write("usage: python3 -m mecpool.rserpool.watchdog SETTINGS.json\n")
        return 2
    watchdog = Watchdog(args[0])
    state_dir = os.path.dirname(STATE_FILE)
    while True:
        try:
            state = watchdog.step()
        except (ValueError, OSError) as error:   # bad settings: say so, keep watching
            state = {"verdict": "cannot check: {}".format(error)}
        state["checked_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if os.path.isdir(state_dir):
            configure.write_atomic(STATE_FILE, json.dumps(state, sort_keys=True) + "\n")
        time.sleep(watchdog.interval_s)


if __name__ == "__main__":
    sys.exit(main())
