"""What the four OAI EPC charms (HSS, MME, SPGW-C, SPGW-U) share.

Fixed locations, the unit file every OAI daemon gets, and the per-charm
settings file that lets `restart`/`status` work without the action parameters.
"""

import json
import os
import re

from . import files
from .systemd import logged_exec_start

OAI_PREFIX = "/usr/local/etc/oai"
OAI_LOG_DIR = "/var/log/oai"        # 0700: OAI daemons log keys (HSS) and subscriber data
SRC_ROOT = "/opt/mecpool/src"
STATE_DIR = "/var/lib/mecpool"
BIN_DIR = "/usr/local/bin"
BASE_PACKAGES = ["git", "ca-certificates", "openssl", "iproute2", "netplan.io"]
FD_EXTENSION_DIR = "/usr/local/lib/freeDiameter"
# The freeDiameter dictionaries OAI's HSS and MME load for S6a (3GPP TS 29.272 and
# the AVP sets it uses); both sides load the same set.
FD_DICTIONARIES = (
    ["dict_3gpp2_avps", "dict_draftload_avps", "dict_etsi283034_avps"]
    + ["dict_rfc{}_avps".format(n) for n in ("4004", "4006bis", "4072", "4590", "5447",
                                             "5580", "5777", "5778", "6734", "6942",
                                             "7155", "7683", "7944")]
    + ["dict_ts{}_avps".format(n) for n in ("29061", "29128", "29154", "29173", "29212",
                                            "29214", "29215", "29217", "29229", "29272",
                                            "29273", "29329", "29336", "29337", "29338",
                                            "29343", "29344", "29345", "29368", "29468",
                                            "32299")]
    + ["dict_S6as6d", "dict_S6t", "dict_S6c"])

_UNIT = """\
# Written by the MEC-Pool {charm} charm; changes are overwritten.
[Unit]
Description={description}
Wants=network-online.target{wants}
After=network-online.target{after}

[Service]
Type=simple
{environment}{pre}ExecStart={exec_start}
{post}WorkingDirectory={workdir}
UMask=0077
Restart=on-failure
RestartSec=5
# 255: the daemon rejected its configuration; restarting would not help.
RestartPreventExitStatus=255
TimeoutStopSec=20

[Install]
WantedBy=multi-user.target
"""


def oai_unit(charm, description, argv, log_file, workdir, after=(), exec_start_pre=(),
             exec_start_post=(), exec_stop_post=(), environment=()):
    """The systemd unit of one OAI daemon; ``environment``: (NAME, value) pairs."""
    extra = "".join(" " + a for a in after)
    for name, value in environment:   # no quoting or specifiers needed, none allowed
        if not re.match(r"^[A-Z_][A-Z0-9_]*=[A-Za-z0-9._/:-]*$", "{}={}".format(name, value)):
            raise ValueError("unsafe unit environment {}={!r}".format(name, value))
    env = "".join("Environment={}={}\n".format(name, value) for name, value in environment)
    pre = "".join("ExecStartPre={}\n".format(p) for p in exec_start_pre)
    post = "".join("ExecStartPost={}\n".format(p) for p in exec_start_post)
    post += "".join("ExecStopPost={}\n".format(p) for p in exec_stop_post)
    return _UNIT.format(charm=charm, description=description, wants=extra, after=extra,
                        environment=env, pre=pre, post=post, exec_start=logged_exec_start(argv, log_file),
                        workdir=workdir)


class Settings(object):
    """The last accepted `configure` values of a charm (never secrets), mode 0600."""

    def __init__(self, name, root="/"):
        self.path = files.rooted(root, os.path.join(STATE_DIR, "{}.json".format(name)))

    def load(self):
        text = files.read_text(self.path)
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def save(self, data):
        files.ensure_dir(os.path.dirname(self.path), 0o700)
        return files.write_file(self.path, json.dumps(data, indent=2, sort_keys=True) + "\n",
                                secret=True)


def yes_no(value):
    return "true" if value else "false"
