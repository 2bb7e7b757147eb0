"""One systemd service rendered from a JSON settings file (the RSerPool charms).

The settings file is the source of truth (cloud-init may have written it);
``apply_with_rollback`` writes new settings and the unit rendered from them,
(re)starts the service when needed and, when it does not come up, puts the
previous settings and unit back and says so in the error.
"""

import json

from . import files
from .errors import MecpoolError
from .status import short


class SettingsService(object):
    def __init__(self, systemd, run, settings_path, service, sleep, settle_seconds):
        self.systemd = systemd
        self.run = run
        self.settings_path = settings_path
        self.service = service
        self.sleep = sleep
        self.settle_seconds = settle_seconds  # how long the daemon takes to fail at start

    def settings(self):
        """The settings in the file, or None when there is none."""
        text = files.read_text(self.settings_path)
        if text is None:
            return None
        try:
            settings = json.loads(text)
        except ValueError:
            raise MecpoolError("{} is not valid JSON; run 'configure' again".format(
                self.settings_path))
        if not isinstance(settings, dict):
            raise MecpoolError("{} does not hold a mapping".format(self.settings_path))
        return settings

    def require_configured(self):
        settings = self.settings()
        if settings is None:
            raise MecpoolError("not configured yet: run the 'configure' action first")
        return settings

    def verify_running(self):
        """Wait the settle time; raise with the journal's last lines unless active."""
        self.sleep(self.settle_seconds)
        if not self.systemd.is_active(self.service):
            log = self.run(["journalctl", "-u", self.service, "-n", "3", "--no-pager",
                            "-o", "cat"], check=False).stdout
            raise MecpoolError(short("not active after start" + (": " + log if log else ""), 300))

    def restart(self):
        self.require_configured()
        self.systemd.restart(self.service)
        self.verify_running()
        return {"service": self.service, "active": "yes"}

    def apply_with_rollback(self, unit, settings_text):
        """Install ``settings_text`` (None: keep the file, it renders ``unit`` already)
        and ``unit``; (re)start when the unit changed or the service is down.

        Returns (changed, restarted); a failed start raises MecpoolError saying
        what was restored.
        """
        name = self.service
        old_settings = files.read_text(self.settings_path)
        old_unit = files.read_text(self.systemd.unit_path(name))
        changed = False
        if settings_text is not None:
            changed = files.write_file(self.settings_path, settings_text)
        changed = self.systemd.install_unit(name, unit) or changed
        restarted = old_unit != unit or not self.systemd.is_active(name)
        if restarted:
            try:
                self.systemd.restart(name)
                self.verify_running()
            except MecpoolError as error:
                raise MecpoolError("new settings not applied, {}: {} did not start ({})".format(
                    self._restore(old_settings, old_unit), name, error))
        return changed, restarted

    def _restore(self, old_settings, old_unit):
        """Put the previous settings and unit back; say what happened."""
        name = self.service
        try:
            if old_settings is None:
                files.remove(self.settings_path)
            else:
                files.write_file(self.settings_path, old_settings)
            if old_unit is None:
                self.systemd.remove_unit(name)
                return "no previous configuration, the new unit was removed"
            self.systemd.install_unit(name, old_unit)
            self.systemd.restart(name)
            self.sleep(self.settle_seconds)
            if self.systemd.is_active(name):
                return "previous settings restored and the service runs as before"
            return "previous settings restored but the service is not active"
        except (MecpoolError, OSError) as error:
            return "restoring the previous settings failed too ({})".format(error)
