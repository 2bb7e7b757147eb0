"""freeDiameter TLS credentials made with openssl (argv, no shell, no demoCA).

freeDiameter needs TLS_Cred and TLS_CA even when peers use No_TLS.  We make a
small CA and a host certificate with CN = the Diameter identity; keys are
mode 0600 from the start.  Existing files are kept when they still match the
identity and verify against the CA (idempotence).
"""

import os
import random
import re

from . import files, process


class DiameterCerts(object):
    def __init__(self, run=process.run, bits=2048, days=3650):
        self.run = run
        self.bits = bits
        self.days = days

    @staticmethod
    def paths(directory, host, ca_name):
        return {
            "cert": os.path.join(directory, "{}.cert.pem".format(host)),
            "key": os.path.join(directory, "{}.key.pem".format(host)),
            "ca": os.path.join(directory, ca_name),
            "cakey": os.path.join(directory, "{}.cakey.pem".format(host)),
        }

    def is_current(self, paths, fqdn):
        if not all(os.path.isfile(p) for p in paths.values()):
            return False
        subject = self.run(["openssl", "x509", "-noout", "-subject", "-in", paths["cert"]],
                           check=False)
        if subject.returncode != 0 or not re.search(
                r"CN\s*=\s*{}(\s*[,/]|\s*$)".format(re.escape(fqdn)), subject.stdout.strip()):
            return False
        verify = self.run(["openssl", "verify", "-CAfile", paths["ca"], paths["cert"]],
                          check=False)
        return verify.returncode == 0

    def ensure(self, directory, host, fqdn, ca_name="cacert.pem"):
        """Make ``<host>.cert.pem``/``<host>.key.pem`` and the CA in ``directory``.

        Returns True when new credentials were made.
        """
        files.ensure_dir(directory, 0o755)
        paths = self.paths(directory, host, ca_name)
        if self.is_current(paths, fqdn):
            return False
        for secret in (paths["key"], paths["cakey"]):
            files.write_file(secret, "", secret=True)  # openssl keeps the 0600 mode
        csr = os.path.join(directory, "{}.csr.pem".format(host))
        subject = "/CN={}/O=MEC-Pool".format(fqdn)
        try:
            self.run(["openssl", "req", "-new", "-x509", "-batch", "-nodes", "-sha256",
                      "-days", str(self.days), "-newkey", "rsa:{}".format(self.bits),
                      "-keyout", paths["cakey"], "-out", paths["ca"],
                      "-subj", "/CN={} CA/O=MEC-Pool".format(fqdn)])
            self.run(["openssl", "genrsa", "-out", paths["key"], str(self.bits)])
            self.run(["openssl", "req", "-new", "-batch", "-sha256", "-key", paths["key"],
                      "-out", csr, "-subj", subject])
            self.run(["openssl", "x509", "-req", "-sha256", "-days", str(self.days),
                      "-in", csr, "-CA", paths["ca"], "-CAkey", paths["cakey"],
                      "-set_serial", str(random.SystemRandom().randint(1, 2 ** 62)),
                      "-out", paths["cert"]])
        finally:
            files.remove(csr)
        for secret in (paths["key"], paths["cakey"]):
            os.chmod(secret, 0o600)
        return True
