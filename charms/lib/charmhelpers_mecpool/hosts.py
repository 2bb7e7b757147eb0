"""Keep name entries (hss.<realm>, mme.<realm>) in /etc/hosts, in a marked block."""

from . import files

HOSTS = "/etc/hosts"


def ensure_hosts(entries, marker, path=HOSTS):
    """``entries``: [(address, [names...])].  Returns True if the file changed."""
    lines = ["{} {}".format(address, " ".join(names)) for address, names in entries]
    return files.ensure_block(path, "mecpool {}".format(marker), lines)
