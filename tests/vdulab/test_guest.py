"""Guest.run against a stand-in ssh (a script in ssh's place): what is asked again and what not."""

import stat

import pytest

from mecpool.vdulab import guest as guestmod


class ScriptNetwork(object):
    """LabNamespace's argv, with ``ssh`` replaced by a script of the test's."""

    def __init__(self, script):
        self.script = script

    def argv(self, argv):
        return [str(self.script)] + list(argv[1:])


def fake_ssh(tmp_path, failures, failure_text, exit_code=255):
    """An ssh that fails ``failures`` times with ``failure_text`` on stderr and ``exit_code``, then
    runs nothing and prints 'ran' (each call is counted in calls.txt)."""
    calls = tmp_path / "calls.txt"
    script = tmp_path / "ssh"
    script.write_text("#!/bin/sh\n"
                      "echo x >> {calls}\n"
                      "n=$(wc -l < {calls})\n"
                      "if [ \"$n\" -le {failures} ]; then printf '%s\\n' '{text}' >&2; exit {code}; fi\n"
                      "echo ran\n".format(calls=calls, failures=failures, text=failure_text, code=exit_code))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, calls


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(guestmod, "SSH_SETUP_PAUSE_S", 0)


@pytest.mark.parametrize("text", [
    "Connection timed out during banner exchange",
    "ssh: connect to host 10.200.0.10 port 22: Connection refused",
    "kex_exchange_identification: read: Connection reset by peer"])
def test_a_session_ssh_could_not_set_up_is_asked_again(tmp_path, text):
    script, calls = fake_ssh(tmp_path, 2, text)
    vm = guestmod.Guest("pr-stavanger", "10.200.0.11", tmp_path / "key", ScriptNetwork(script))
    assert vm.run("cloud-init status --format json").stdout == "ran\n"
    assert len(calls.read_text().split()) == 3


def test_set_up_failures_past_the_tries_are_reported(tmp_path):
    script, calls = fake_ssh(tmp_path, 99, "Connection timed out during banner exchange")
    vm = guestmod.Guest("pr-mec", "10.200.0.10", tmp_path / "key", ScriptNetwork(script))
    with pytest.raises(guestmod.GuestError, match="pr-mec: 'true' exited 255: .*banner exchange"):
        vm.run("true")
    assert len(calls.read_text().split()) == guestmod.SSH_SETUP_TRIES


@pytest.mark.parametrize("text, code", [
    ("Connection to 10.200.0.10 closed by remote host.", 255),   # the command may have run
    ("No such file or directory", 1)])                           # the command's own failure
def test_a_failure_after_the_session_began_is_not_asked_again(tmp_path, text, code):
    script, calls = fake_ssh(tmp_path, 1, text, exit_code=code)
    vm = guestmod.Guest("pe-mec-1", "10.200.0.12", tmp_path / "key", ScriptNetwork(script))
    assert vm.run("systemctl restart rsp-pool-element", check=False).returncode == code
    assert len(calls.read_text().split()) == 1


def test_one_setup_try_asks_once_as_wait_ssh_does_in_each_round_of_its_own_loop(tmp_path):
    script, calls = fake_ssh(tmp_path, 1, "Connection timed out during banner exchange")
    vm = guestmod.Guest("pe-mec-2", "10.200.0.13", tmp_path / "key", ScriptNetwork(script))
    done = vm.run("true", check=False, setup_tries=1)
    assert done.returncode == 255 and len(calls.read_text().split()) == 1
