"""apt's locks held by a real process: our apt-get waits for them within its budget.

The holder is a child process that takes an fcntl write lock on a lock file, as
apt-get and dpkg do (apt-pkg's GetLock: fcntl F_SETLK, F_WRLCK); the wait asks
the kernel for real (F_GETLK).
"""

import os
import subprocess
import sys
import time

import pytest

import epc_fakes
from charmhelpers_mecpool import aptlock
from charmhelpers_mecpool.apt import Apt
from charmhelpers_mecpool.budget import Budget, BudgetExhausted
from charmhelpers_mecpool.errors import CommandError

HOLD = """
import fcntl, sys, time
handle = open(sys.argv[1], "a")
fcntl.lockf(handle, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold(path, seconds):
    """A process holding apt's kind of lock on ``path`` for ``seconds``."""
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)],
                             stdout=subprocess.PIPE, universal_newlines=True)
    assert child.stdout.readline().strip() == "locked"
    return child


@pytest.fixture
def root(tmp_path):
    for path in aptlock.LOCK_FILES:
        target = tmp_path / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("")
    return tmp_path


def make_apt(root, run):
    return Apt(run=run, sources_dir=str(root / "src"), keyring_dir=str(root / "k"),
               dpkg_dir=str(root / "var/lib/dpkg"), locks=aptlock.LockWait(str(root)))


def test_holder_names_the_process_that_holds_the_lock(root):
    path = root / "var/lib/dpkg/lock-frontend"
    assert aptlock.holder(str(path)) is None
    child = hold(path, 30)
    try:
        assert aptlock.holder(str(path)) == child.pid
        assert aptlock.LockWait(str(root)).holders() == [(str(path), child.pid, "python3")]
    finally:
        child.kill()
        child.wait()
    assert aptlock.holder(str(path)) is None
    assert aptlock.holder(str(root / "no-such-lock")) is None


def test_apt_get_waits_until_the_other_apt_is_done(root):
    run = epc_fakes.FakeRunner().on(["dpkg-query"], stdout="")
    apt = make_apt(root, run)
    child = hold(root / "var/lib/dpkg/lock", 2)
    started = time.monotonic()
    try:
        assert apt.install(["nftables"], Budget("build", total=60)) == ["nftables"]
    finally:
        child.kill()
        child.wait()
    waited = time.monotonic() - started
    assert 1.0 <= waited < 20, waited
    assert run.argvs[1:] == [["apt-get", "update"],
                             ["apt-get", "install", "-y", "--no-install-recommends", "nftables"]]


def test_a_lock_held_past_the_budget_fails_naming_it_and_runs_no_apt(root):
    run = epc_fakes.FakeRunner().on(["dpkg-query"], stdout="")
    apt = make_apt(root, run)
    path = root / "var/cache/apt/archives/lock"
    child = hold(path, 60)
    try:
        with pytest.raises(BudgetExhausted) as info:
            apt.install(["nftables"], Budget("build", total=3))
    finally:
        child.kill()
        child.wait()
    text = str(info.value)
    assert "build: its time budget of 3 s" in text
    assert "{} (pid {} python3)".format(path, child.pid) in text
    assert "running 'build' again continues" in text
    assert [a for a in run.argvs if a[0] == "apt-get"] == []


def test_a_hook_without_a_budget_waits_too(root):
    run = epc_fakes.FakeRunner().on(["dpkg-query"], stdout="")
    apt = make_apt(root, run)
    child = hold(root / "var/lib/apt/lists/lock", 1.5)
    try:
        apt.install(["git"])
    finally:
        child.kill()
        child.wait()
    assert ["apt-get", "update"] in run.argvs


def test_apt_get_that_lost_the_race_for_a_lock_runs_again(root):
    answers = [(100, "", "E: Could not get lock /var/lib/dpkg/lock-frontend - open "
                         "(11: Resource temporarily unavailable)"), (0, "", "")]
    run = epc_fakes.FakeRunner().on(["dpkg-query"], stdout="")
    run.on(["apt-get", "update"], handler=lambda argv, kwargs: answers.pop(0))
    apt = make_apt(root, run)
    apt.install(["git"], Budget("build", total=60))
    assert run.count(["apt-get", "update"]) == 2
    # another failure is not retried
    installs = run.count(["apt-get", "install"])
    run.on(["apt-get", "install"], returncode=100, stderr="E: Unable to locate package git")
    with pytest.raises(CommandError):
        apt.install(["git"], Budget("build", total=60))
    assert run.count(["apt-get", "install"]) == installs + 1


def test_without_a_lock_wait_apt_is_as_before(tmp_path):
    # The pool charms' Apt (no locks): no probe, no retry.
    run = epc_fakes.FakeRunner().on(["dpkg-query"], stdout="")
    run.on(["apt-get", "update"], returncode=100, stderr="E: Could not get lock x")
    apt = Apt(run=run, sources_dir=str(tmp_path / "s"), keyring_dir=str(tmp_path / "k"))
    with pytest.raises(CommandError):
        apt.install(["git"])
    assert run.count(["apt-get", "update"]) == 1


def test_quiesce_masks_what_starts_apt_by_itself():
    run = epc_fakes.FakeRunner()
    aptlock.quiesce(run)
    assert run.argvs == [
        ["systemctl", "mask", "--now", "apt-daily.timer", "apt-daily-upgrade.timer"],
        ["systemctl", "mask", "apt-daily.service", "apt-daily-upgrade.service"]]


def test_the_oai_workloads_mask_and_wait_before_their_first_apt(tmp_path):
    host = epc_fakes.FakeHost(tmp_path)
    import charmtest
    mme = charmtest.load_charm_module("oai-mme", "mme_workload")
    workload = mme.MmeWorkload(run=host.runner, root=host.root, mac_lookup=lambda a: None)
    assert workload.apt.locks is not None
    assert workload.apt.locks.paths[0] == os.path.join(host.root, "var/lib/dpkg/lock-frontend")
    workload.install()
    assert host.runner.argvs[0][:3] == ["systemctl", "mask", "--now"]
