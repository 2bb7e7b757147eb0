"""The registration watch (mecpool.reallab.regwatch): when each PE was first listed by every registrar,
from hsdump of the registrars' handlespaces, polled beside the runbook.  Nova's list and the dumps are
given here; the real ones run in --runbook (tests/reallab/test_real_lab.py)."""

import threading

from mecpool.reallab import regwatch, sgprobe

PE_VM = sgprobe.ProbeVm("labns-4-pool-element-1", "edge", "10.220.1.201", "10.221.1.48")
REGISTRARS = {"pr-edge": "10.221.1.10", "pr-core": "10.221.2.10"}


def space(*addresses, handle="CalcAppPool"):
    return {"pools": [{"handle": handle, "elements": [{"addresses": [a]} for a in addresses]}]}


class Script:
    """Each poll's answers: the PE VM Nova has (or None), and each registrar's dump by its address (an
    Exception: it cannot answer yet)."""
    def __init__(self, polls):
        self.polls, self.step, self.asked = polls, 0, []

    def find(self):
        return self.polls[self.step]["vm"]

    def dump(self, vm, address):
        self.asked.append((vm, address))
        answer = self.polls[self.step]["dumps"][address]
        if isinstance(answer, Exception):
            raise answer
        return answer


def watch_over(polls):
    """The watch polled once per entry, 30 s apart from t=1000."""
    script = Script(polls)
    watch = regwatch.RegistrationWatch(script.find, script.dump, REGISTRARS, "CalcAppPool", interval_s=30,
                                       clock=lambda: 1000.0 + 30 * script.step)
    for script.step in range(len(polls)):
        watch.poll_once()
    return watch, script


def test_a_pe_counts_as_listed_at_the_first_poll_every_registrar_lists_it():
    edge, core = REGISTRARS["pr-edge"], REGISTRARS["pr-core"]
    watch, script = watch_over([
        {"vm": None, "dumps": {}},                                                              # 1000
        {"vm": PE_VM, "dumps": {edge: RuntimeError("ssh: connect to host: refused"), core: space()}},   # 1030
        {"vm": None, "dumps": {edge: space("10.221.1.48"), core: space()}},                     # 1060
        {"vm": None, "dumps": {edge: space("10.221.1.48"), core: space("10.221.1.48", handle="Other")}},  # 1090
        {"vm": None, "dumps": {edge: space("10.221.1.48"), core: space("10.221.1.48")}},        # 1120
        {"vm": None, "dumps": {edge: space("10.221.1.48"), core: space("10.221.1.48")}},        # 1150
    ])
    said = watch.stop()
    assert said["first_listed_by_any_registrar"] == {"10.221.1.48": 1060.0}
    assert said["first_listed_by_every_registrar"] == {"10.221.1.48": 1120.0}     # the other pool's is not ours
    assert said["polls"] == 5 and said["from"] == PE_VM.name                  # once found, the VM is kept
    assert said["errors"] == ["pr-edge: ssh: connect to host: refused"]
    assert {vm for vm, _ in script.asked} == {PE_VM} and {a for _, a in script.asked} == {edge, core}


def test_the_thread_polls_until_stopped():
    asked = threading.Event()

    def dump(vm, address):
        asked.set()
        return space("10.221.1.48")
    watch = regwatch.RegistrationWatch(lambda: PE_VM, dump, REGISTRARS, "CalcAppPool", interval_s=0.05).start()
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
        return PE_VM
    watch = regwatch.RegistrationWatch(find, lambda vm, a: space(), REGISTRARS, "CalcAppPool",
                                       interval_s=0.05).start()
    for _ in range(1200):                  # up to a minute on a busy host
        if len(calls) >= 2 and watch.polls >= 1:
            break
        threading.Event().wait(0.05)
    said = watch.stop()
    assert said["errors"][0] == "watch: openstack server list: 503" and said["polls"] >= 1

