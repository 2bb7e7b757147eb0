"""The PE watchdog: what it reads of the kernel's SCTP associations, and when it restarts
the pool element (mecpool.rserpool.watchdog)."""

import json

import pytest

from mecpool.rserpool import configure, watchdog
from mecpool.rserpool.commands import Endpoint
from mecpool.rserpool.units import POOL_ELEMENT_SERVICE

HEADER = (" ASSOC     SOCK   STY SST ST HBKT ASSOC-ID TX_QUEUE RX_QUEUE UID INODE LPORT RPORT LADDRS <-> "
          "RADDRS HBINT INS OUTS MAXRT T1X T2X RTXC wmema wmemq sndbuf rcvbuf\n")
# Read off a registered lab PE (pe-mec-1): its home association to pr-mec.
REGISTERED = HEADER + ("bc2bfab5 7ade616e 1   1   3  0       3        0        0   63787  7391 33297  3863  "
                       "10.200.0.12 10.101.0.100 <-> *10.101.0.10 \t    7500    10    10   10    0    0        "
                       "0        1        0   212992   212992\n")
# The same PE while its INIT to the other registrar is unanswered (COOKIE_WAIT, state 1).
HUNTING = HEADER + ("bc2bfab5 7ade616e 2   10  1  0       4        0        0   63787  7391 33297  3863  "
                    "10.200.0.12 10.101.0.100 <-> *10.106.0.10 \t    7500    10    10   10    0    0        "
                    "0        1        0   212992   212992\n")
# The stuck PE of the lab (pe-mec-2): rspserver running, no association at all.
STUCK = HEADER
REGISTRARS = [Endpoint("10.101.0.10", 3863), Endpoint("10.106.0.10", 3863)]
SETTINGS = {"pool_handle": "CalcAppPool", "registrars": "10.101.0.10, 10.106.0.10", "local_address": "auto",
            "capacity": 1000000, "max_jobs": 4, "load_increment": 0.1}


def test_an_established_association_to_a_registrar_counts():
    assert watchdog.registrar_associations(REGISTERED, REGISTRARS) == ["10.101.0.10:3863"]


@pytest.mark.parametrize("text", [STUCK, HUNTING, REGISTERED.replace(" 3863 ", " 9901 ")], ids=[
    "no association", "INIT unanswered", "another port (hsdump's ENRP)"])
def test_nothing_else_counts(text):
    assert watchdog.registrar_associations(text, REGISTRARS) == []


def test_the_unit_address_is_read_from_its_exec_line():
    name, text = configure.render("pool-element", dict(SETTINGS, local_address="10.101.0.100"))
    assert watchdog.unit_local_address(text) == "10.101.0.100"


class Vdu(object):
    """systemctl, the files and the clock the watchdog sees."""

    def __init__(self, tmp_path, address="10.101.0.100"):
        self.now = 0.0
        self.active = True
        self.assocs = STUCK
        self.calls = []
        self.address = address
        self.settings_path = str(tmp_path / "pool-element.json")
        (tmp_path / "pool-element.json").write_text(json.dumps(SETTINGS))
        self.unit_dir = tmp_path / "units"
        self.unit_dir.mkdir()
        (self.unit_dir / POOL_ELEMENT_SERVICE).write_text(self.render()[1])

    def render(self):
        return configure.render("pool-element", SETTINGS, resolve=lambda destination: self.address)

    def run(self, argv):
        self.calls.append(argv)
        if argv[:2] == ["systemctl", "is-active"]:
            return 0 if self.active else 3
        return 0

    def read(self, path):
        if path == watchdog.ASSOCS:
            return self.assocs
        with open(path) as handle:
            return handle.read()

    def restarts(self):
        return [c for c in self.calls if c == ["systemctl", "restart", POOL_ELEMENT_SERVICE]]

    def dog(self):
        return watchdog.Watchdog(self.settings_path, unit_dir=str(self.unit_dir), run=self.run, read=self.read,
                                 resolve=lambda destination: self.address, clock=lambda: self.now, limit_s=60, max_backoff_s=watchdog.MAX_BACKOFF_S, log=lambda m: None)


def advance(vdu, dog, seconds, step=10):
    states = []
    for _ in range(int(seconds // step)):
        vdu.now += step
        states.append(dog.step())
    return states


def test_a_pe_without_a_registrar_association_is_restarted_after_the_limit(tmp_path):
    vdu = Vdu(tmp_path)
    dog = vdu.dog()
    dog.step()
    advance(vdu, dog, 50)
    assert vdu.restarts() == []
    states = advance(vdu, dog, 10)
    assert len(vdu.restarts()) == 1
    assert states[-1]["verdict"].startswith("no association to any registrar (10.101.0.10:3863, 10.106.0.10:3863)")


def test_a_registered_pe_is_left_alone(tmp_path):
    vdu = Vdu(tmp_path)
    vdu.assocs = REGISTERED
    dog = vdu.dog()
    states = advance(vdu, dog, 600)
    assert vdu.restarts() == []
    assert states[-1]["registrar_associations"] == ["10.101.0.10:3863"]


def test_short_gaps_do_not_add_up(tmp_path):
    """A registrar restarted: the PE hunts and reconnects within seconds, again and again."""
    vdu = Vdu(tmp_path)
    dog = vdu.dog()
    for _ in range(10):
        vdu.assocs = STUCK
        advance(vdu, dog, 40)
        vdu.assocs = REGISTERED
        advance(vdu, dog, 10)
    assert vdu.restarts() == []


def test_restarts_back_off_while_no_registrar_answers(tmp_path):
    vdu = Vdu(tmp_path)
    dog = vdu.dog()
    times = []
    for _ in range(100):
        vdu.now += 10
        before = len(vdu.restarts())
        dog.step()
        if len(vdu.restarts()) > before:
            times.append(vdu.now)
    gaps = [b - a for a, b in zip(times, times[1:])]
    # The first check (at 10 s) starts the clock; after each restart the next check does.
    assert watchdog.MAX_BACKOFF_S == 120
    assert times[0] == 70 and gaps[:3] == [10 + 120, 10 + 120, 10 + 120]
    vdu.assocs = REGISTERED       # a registrar answers: the next outage starts from the limit again
    advance(vdu, dog, 10)
    vdu.assocs = STUCK
    last = len(vdu.restarts())
    advance(vdu, dog, 60)
    assert len(vdu.restarts()) == last
    advance(vdu, dog, 10)
    assert len(vdu.restarts()) == last + 1


def test_a_stopped_service_is_systemds_business(tmp_path):
    vdu = Vdu(tmp_path)
    vdu.active = False
    dog = vdu.dog()
    states = advance(vdu, dog, 300)
    assert vdu.restarts() == []
    assert states[-1]["verdict"].startswith("service not running")


def test_the_service_gets_the_limit_after_it_started(tmp_path):
    """Stopped for a long time, then started: not restarted before it had the limit to register."""
    vdu = Vdu(tmp_path)
    vdu.active = False
    dog = vdu.dog()
    advance(vdu, dog, 300)
    vdu.active = True
    advance(vdu, dog, 50)
    assert vdu.restarts() == []


def test_a_changed_pool_address_rerenders_and_restarts(tmp_path):
    vdu = Vdu(tmp_path)
    vdu.assocs = REGISTERED
    dog = vdu.dog()
    advance(vdu, dog, 30)
    vdu.address = "10.101.0.77"          # DHCP gave the pool NIC another address
    states = advance(vdu, dog, 10)
    assert len(vdu.restarts()) == 1
    assert "from 10.101.0.100 to 10.101.0.77" in states[-1]["verdict"]
    assert states[-1]["restarts"] == 1       # pe-status counts this restart at once
    unit = (vdu.unit_dir / POOL_ELEMENT_SERVICE).read_text()
    assert unit == vdu.render()[1] and "-local=10.101.0.77:9000" in unit
    assert ["systemctl", "daemon-reload"] in vdu.calls
    advance(vdu, dog, 60)
    assert len(vdu.restarts()) == 1


def test_a_fixed_address_is_never_rewritten(tmp_path):
    vdu = Vdu(tmp_path)
    (tmp_path / "pool-element.json").write_text(json.dumps(dict(SETTINGS, local_address="10.101.0.100")))
    vdu.assocs = REGISTERED
    dog = vdu.dog()
    vdu.address = "10.101.0.77"
    advance(vdu, dog, 60)
    assert vdu.restarts() == []
