"""Commands on a lab VM over SSH, as OSM's VCA reaches a VDU: user ``ubuntu``
with the private half of the N2VC key that OSM put in the user data.

Python 3.6 too: the real-stack lab's VCA connector (mecpool/reallab/ssh_connector.py) uses it inside
OSM LCM's Python 3.6 venv."""

import io
import shlex
import subprocess
import tarfile
import time
from pathlib import Path

SSH_OPTIONS = ("-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=15")
USER = "ubuntu"
# ssh's own failures to set a session up: the remote command never started, so it is asked again.
# On a starved host a TCG guest's sshd can miss ConnectTimeout in the banner exchange long after it
# first answered (lab run of 2026-12-06 16:04, sixteen TCG VMs on two cores: pr-stavanger's
# `cloud-init status` failed so, once, 1,337 s after its SSH came up, and failed the lab).
SSH_SETUP_FAILURES = ("ssh: connect to host ", "during banner exchange", "kex_exchange_identification")
SSH_SETUP_TRIES = 5
SSH_SETUP_PAUSE_S = 5


class GuestError(RuntimeError):
    """A command on a VM failed; the message names the VM and the command."""


def setup_failed(done):
    """Whether ssh (exit 255) failed before the remote command started."""
    return done.returncode == 255 and any(failure in done.stderr for failure in SSH_SETUP_FAILURES)


class Guest(object):
    def __init__(self, name, address, key_path, network, user=USER):
        self.name = name
        self.user = user
        self.address = str(address)
        self.key_path = Path(key_path)
        self.network = network   # mecpool.vdulab.network.LabNamespace: ssh runs in its namespace

    def ssh_argv(self, command):
        return self.network.argv(["ssh", "-i", str(self.key_path)] + list(SSH_OPTIONS)
                                 + ["{}@{}".format(self.user, self.address), command])

    def run(self, command, check=True, timeout=600, stdin=None, setup_tries=SSH_SETUP_TRIES):
        """``command`` (a shell line) on the VM; CompletedProcess with text output.  A session ssh
        could not set up is tried again, up to ``setup_tries`` times in all."""
        for attempt in range(1, setup_tries + 1):
            done = self._run_once(command, timeout, stdin)
            if attempt == setup_tries or not setup_failed(done):
                break
            time.sleep(SSH_SETUP_PAUSE_S)
        if check and done.returncode != 0:
            raise GuestError("{}: {!r} exited {}: {}".format(self.name, command, done.returncode,
                                                             (done.stderr or done.stdout).strip()[-2000:]))
        return done

    def _run_once(self, command, timeout, stdin):
        try:
            done = subprocess.run(self.ssh_argv(command), input=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise GuestError("{}: {!r} did not finish in {} s".format(self.name, command, timeout)) from None
        return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("utf-8", "replace"),
                                           done.stderr.decode("utf-8", "replace"))

    def sudo(self, command, **kwargs):
        return self.run("sudo sh -c {}".format(shlex.quote(command)), **kwargs)

    def wait_ssh(self, deadline):
        """Until the VM accepts our key (sshd up, cloud-init wrote the key part)."""
        last = ""
        while time.monotonic() < deadline:
            try:
                done = self.run("true", check=False, timeout=120, setup_tries=1)   # this loop asks again
            except GuestError as error:   # a login slower than that under emulation: try again
                last = str(error)
                continue
            if done.returncode == 0:
                return
            last = done.stderr.strip()
            time.sleep(3)
        raise GuestError("{}: no SSH access as {} at {}: {}".format(self.name, self.user, self.address, last))

    def put_tree(self, local_dir, remote_dir):
        """Copy a directory (a built charm, say) to ``remote_dir`` as root."""
        data = io.BytesIO()
        with tarfile.open(fileobj=data, mode="w:gz") as archive:
            archive.add(str(local_dir), arcname=".")
        remote = shlex.quote(remote_dir)
        self.sudo("rm -rf {0} && mkdir -p {0} && tar xzf - -C {0} --no-same-owner".format(remote),
                  stdin=data.getvalue())

    def read(self, path):
        return self.sudo("cat {}".format(shlex.quote(path))).stdout
