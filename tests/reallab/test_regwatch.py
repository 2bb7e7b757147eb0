"""The registration watch (mecpool.reallab.regwatch): when each PE was first listed by every registrar,
from the registrars' own handlespaces, polled beside the runbook.  Nova's list and the dumps are given
here; the real ones run in --runbook (tests/reallab/test_real_lab.py)."""

import threading
from types import SimpleNamespace

from mecpool.reallab import regwatch

EDGE = regwatch.RegistrarVm("pr-edge", "10.221.1.10", "labns-2-registrar-1", "10.220.1.124")
CORE = regwatch.RegistrarVm("pr-core", "10.221.2.10", "labns-3-registrar-1", "10.220.2.96")


def space(*addresses, handle="CalcAppPool"):
    return {"pools": [{"handle": handle, "elements": [{"addresses": [a]} for a in addresses]}]}


class Script:
    """Each poll's answers: the registrars Nova has, and each registrar's dump (an Exception: it cannot
    answer yet)."""
    def __init__(self, polls):
        self.polls, self.step = polls, 0

    def find(self):
        return self.polls[self.step]["registrars"]

    def dump(self, vm):
        answer = self.polls[self.step]["dumps"][vm.name]
        if isinstance(answer, Exception):
            raise answer
        return answer


def watch_over(polls):
    """The watch polled once per entry, 30 s apart from t=1000."""
    script = Script(polls)
    watch = regwatch.RegistrationWatch(script.find, script.dump, "CalcAppPool", 2, interval_s=30,
                                       clock=lambda: 1000.0 + 30 * script.step)
    for script.step in range(len(polls)):
        watch.poll_once()
    return watch


def test_a_pe_counts_as_listed_at_the_first_poll_every_registrar_lists_it():
    watch = watch_over([
        {"registrars": [EDGE], "dumps": {}},                                            # 1000: core not in Nova yet
        {"registrars": [EDGE, CORE], "dumps": {"pr-edge": RuntimeError("ssh: connect to host: refused"),
                                                "pr-core": space()}},                   # 1030: edge not up
        {"registrars": [EDGE, CORE], "dumps": {"pr-edge": space("10.221.1.48"), "pr-core": space()}},       # 1060
        {"registrars": [EDGE, CORE], "dumps": {"pr-edge": space("10.221.1.48"),
                                                "pr-core": space("10.221.1.48", "10.221.2.77", handle="Other")}},  # 1090
        {"registrars": [EDGE, CORE], "dumps": {"pr-edge": space("10.221.1.48"), "pr-core": space("10.221.1.48")}},  # 1120
        {"registrars": [EDGE, CORE], "dumps": {"pr-edge": space("10.221.1.48"), "pr-core": space("10.221.1.48")}},  # 1150
    ])
    said = watch.stop()
    assert said["first_listed_by_any_registrar"] == {"10.221.1.48": 1060.0}
    assert said["first_listed_by_every_registrar"] == {"10.221.1.48": 1120.0}     # the other pool's is not ours
    assert said["polls"] == 5 and said["registrars"] == ["pr-edge", "pr-core"]
    assert said["errors"] == ["pr-edge: ssh: connect to host: refused"]


def test_the_thread_polls_until_stopped():
    asked = threading.Event()

    def dump(vm):
        asked.set()
        return space("10.221.1.48")
    watch = regwatch.RegistrationWatch(lambda: [EDGE, CORE], dump, "CalcAppPool", 2, interval_s=0.05).start()
    assert asked.wait(60)
    said = watch.stop()
    assert not watch._thread.is_alive()
    assert said["polls"] >= 1 and "10.221.1.48" in said["first_listed_by_every_registrar"]


def test_a_failing_nova_list_is_kept_as_an_error_and_the_watch_goes_on():
    calls = []

    def find():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("openstack server list: 503")
        return [EDGE, CORE]
    watch = regwatch.RegistrationWatch(find, lambda vm: space(), "CalcAppPool", 2, interval_s=0.05).start()
    for _ in range(1200):                  # up to a minute on a busy host
        if len(calls) >= 2 and watch.polls >= 1:
            break
        threading.Event().wait(0.05)
    said = watch.stop()
    assert said["errors"][0] == "watch: openstack server list: 503"


def test_registrar_vms_are_found_by_their_pool_address_with_their_servers_mgmt_address():
    by_address = {"10.221.1.10": {"server": "labns-2-registrar-1", "network": "pool-edge"},
                  "10.220.1.124": {"server": "labns-2-registrar-1", "network": "mgmt-edge"},
                  "10.221.2.10": {"server": "labns-3-registrar-1", "network": "pool-core"}}   # no mgmt port yet
    registrars = [SimpleNamespace(name="pr-edge", address="10.221.1.10", vim="edge"),
                  SimpleNamespace(name="pr-core", address="10.221.2.10", vim="core")]
    assert regwatch.registrar_vms(registrars, by_address, lambda vim: f"mgmt-{vim}") == [EDGE]
