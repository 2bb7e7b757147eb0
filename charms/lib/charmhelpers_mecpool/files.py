"""Write files atomically with owner, group and mode; report whether anything changed.

Returning "changed" lets the callers restart a service only when its
configuration really changed, which keeps every action idempotent.
"""

import grp
import os
import pwd
import stat
import tempfile

SECRET_MODE = 0o600


def _ids(owner, group):
    uid = pwd.getpwnam(owner).pw_uid if owner is not None else -1
    gid = grp.getgrnam(group).gr_gid if group is not None else -1
    return uid, gid


def _matches(path, data, mode, uid, gid):
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode) or stat.S_IMODE(info.st_mode) != mode:
        return False
    if (uid != -1 and info.st_uid != uid) or (gid != -1 and info.st_gid != gid):
        return False
    with open(path, "rb") as handle:
        return handle.read() == data


def write_file(path, content, owner="root", group="root", mode=0o644, secret=False):
    """Atomically make ``path`` hold ``content`` with that owner/group/mode.

    ``secret=True`` forces mode 0600.
    Returns True when content, mode or ownership changed.
    """
    if secret:
        mode = SECRET_MODE
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    uid, gid = _ids(owner, group)
    if _matches(path, data, mode, uid, gid):
        return False
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)  # an existing directory keeps its mode (e.g. 0700)
    # mkstemp creates the file with mode 0600, so a secret is never readable by others.
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if uid != -1 or gid != -1:
            os.chown(tmp, uid, gid)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def read_text(path, default=None):
    try:
        with open(path, "r") as handle:
            return handle.read()
    except (IOError, OSError):
        return default


def ensure_dir(path, mode=0o755, owner=None, group=None):
    """Create ``path`` (and parents) if missing; fix its mode.  Returns True if changed."""
    changed = False
    if not os.path.isdir(path):
        os.makedirs(path, mode)
        changed = True
    if stat.S_IMODE(os.stat(path).st_mode) != mode:
        os.chmod(path, mode)
        changed = True
    if owner is not None or group is not None:
        uid, gid = _ids(owner, group)
        info = os.stat(path)
        if (uid != -1 and info.st_uid != uid) or (gid != -1 and info.st_gid != gid):
            os.chown(path, uid, gid)
            changed = True
    return changed


def remove(path):
    """Delete ``path`` if it exists.  Returns True if it did."""
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


def ensure_block(path, marker, lines, mode=0o644):
    """Keep a marked block of ``lines`` in a shared file (e.g. /etc/hosts).

    Lines between ``# BEGIN <marker>`` and ``# END <marker>`` are replaced; the
    rest of the file is left as it was.  Returns True if the file changed.
    """
    begin, end = "# BEGIN {}".format(marker), "# END {}".format(marker)
    current = read_text(path, "")
    kept, inside = [], False
    for line in current.splitlines():
        if line.strip() == begin:
            inside = True
        elif line.strip() == end:
            inside = False
        elif not inside:
            kept.append(line)
    block = [begin] + list(lines) + [end] if lines else []
    text = "\n".join(kept + block) + "\n"
    info_mode = stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) else mode
    return write_file(path, text, owner=None, group=None, mode=info_mode)


def rooted(root, path):
    """``path`` under ``root`` (tests pass a temporary root; on a VDU it is "/")."""
    if not root or root == "/":
        return path
    return os.path.join(root, path.lstrip("/"))
