"""Install and drive systemd units through systemctl (argv via the runner seam)."""

import os

from . import files, process

UNIT_DIR = "/etc/systemd/system"


class Systemd(object):
    def __init__(self, run=process.run, unit_dir=UNIT_DIR):
        self.run = run
        self.unit_dir = unit_dir

    def unit_path(self, name):
        return os.path.join(self.unit_dir, name)

    def install_unit(self, name, content):
        """Write the unit; daemon-reload and enable when it changed.  Returns changed."""
        changed = files.write_file(self.unit_path(name), content, mode=0o644)
        if changed:
            self.daemon_reload()
        if changed or not self.is_enabled(name):
            self.run(["systemctl", "enable", name])
        return changed

    def remove_unit(self, name):
        self.stop(name)
        if self.is_enabled(name):
            self.run(["systemctl", "disable", name])
        if files.remove(self.unit_path(name)):
            self.daemon_reload()
            return True
        return False

    def daemon_reload(self):
        self.run(["systemctl", "daemon-reload"])

    def is_active(self, name):
        return self.run(["systemctl", "is-active", "--quiet", name], check=False).returncode == 0

    def is_enabled(self, name):
        return self.run(["systemctl", "is-enabled", "--quiet", name], check=False).returncode == 0

    def main_pid(self, name):
        """The service's main PID, 0 when it runs none (systemd >= 230: --value)."""
        output = self.run(["systemctl", "show", "--property=MainPID", "--value", name], check=False).stdout
        return int(output.strip()) if output.strip().isdigit() else 0

    def restart(self, name):
        self.run(["systemctl", "restart", name])

    def start(self, name):
        self.run(["systemctl", "start", name])

    def stop(self, name):
        if self.is_active(name):
            self.run(["systemctl", "stop", name])
            return True
        return False

    def ensure_running(self, name, changed):
        """Restart when the configuration changed or the service is not active.

        Returns True when it (re)started the service.
        """
        if changed or not self.is_active(name):
            self.restart(name)
            return True
        return False


def quote_exec_arg(arg):
    """One ExecStart argument, quoted for systemd (``%`` and ``$`` escaped)."""
    escaped = arg.replace("%", "%%").replace("$", "$$")
    if escaped and not any(c in escaped for c in " \t\"'\\;"):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def logged_exec_start(argv, log_file):
    """ExecStart running ``argv`` with stdout+stderr appended to ``log_file``.

    systemd 237 (Ubuntu 18.04) has no StandardOutput=append:, so a shell
    redirects and then execs the daemon (the service's main PID is the daemon).
    """
    import shlex
    command = "exec {} >>{} 2>&1".format(" ".join(shlex.quote(a) for a in argv),
                                         shlex.quote(log_file))
    return " ".join(quote_exec_arg(a) for a in ["/bin/sh", "-c", command])


def exec_start(unit):
    """The ExecStart= command line of a unit's text ("" when it has none)."""
    for line in unit.splitlines():
        if line.startswith("ExecStart="):
            return line[len("ExecStart="):]
    return ""
