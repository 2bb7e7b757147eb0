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


class GuestError(RuntimeError):
    """A command on a VM failed; the message names the VM and the command."""


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

    def run(self, command, check=True, timeout=600, stdin=None):
        """``command`` (a shell line) on the VM; CompletedProcess with text output."""
        try:
            done = subprocess.run(self.ssh_argv(command), input=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise GuestError("{}: {!r} did not finish in {} s".format(self.name, command, timeout)) from None
        done = subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("utf-8", "replace"),
                                           done.stderr.decode("utf-8", "replace"))
        if check and done.returncode != 0:
            raise GuestError("{}: {!r} exited {}: {}".format(self.name, command, done.returncode,
                                                             (done.stderr or done.stdout).strip()[-2000:]))
        return done

    def sudo(self, command, **kwargs):
        return self.run("sudo sh -c {}".format(shlex.quote(command)), **kwargs)

    def wait_ssh(self, deadline):
        """Until the VM accepts our key (sshd up, cloud-init wrote the key part)."""
        last = ""
        while time.monotonic() < deadline:
            try:
                done = self.run("true", check=False, timeout=120)
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
