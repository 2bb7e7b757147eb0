"""The code a pool VDU's cloud-init writes: mecpool.rserpool, and on a PE librspfreshload.

Nova takes at most 65,535 bytes of user data, and R8 base64-encodes it twice (RO's MIME
part, novaclient), so every byte of the cloud-init file costs about 1.8 there, and a
byte of compressed code about 2.4 (mecpool.packaging.userdata).  So the modules travel
as one gzip'd tar (they share one compression dictionary) without their comments and
docstrings (mecpool.packaging.pystrip, line for line), which cloud-init writes with
``encoding: gz+b64`` and the runcmd unpacks; the library as its own gz+b64 file at
its path.  The settings, netplan and commands stay readable text.
"""

import ast
import base64
import gzip
import io
import tarfile
from pathlib import Path

from mecpool.rserpool.units import LIBRARY_DIR

from . import pystrip

REPO_ROOT = Path(__file__).resolve().parents[2]
# The modules each pool VDU runs: the configure step (cloud-init), and on a PE its
# watchdog (rsp-pe-watchdog.service).
RSERPOOL_ENTRIES = {
    "registrar": ("configure.py",),
    "pool-element": ("configure.py", "watchdog.py"),
}
# Where cloud-init writes the tar (kept: it shows what the VDU got); unpacked at /.
TAR_PATH = "/opt/mecpool/rserpool.tar"


def rserpool_modules(role, root=REPO_ROOT):
    """[(file name, source text)] of mecpool/rserpool that a pool VDU of ``role`` runs:
    the package's __init__ and the closure of RSERPOOL_ENTRIES[role]'s relative
    imports.  The rest (hsdump, __main__) is for charms and the testbed."""
    directory = Path(root) / "mecpool" / "rserpool"
    needed, todo = set(), ["__init__.py"] + list(RSERPOOL_ENTRIES[role])
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        tree = ast.parse((directory / name).read_text(encoding="utf-8"), filename=name)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                todo.append(node.module.split(".")[0] + ".py")
    return [(name, (directory / name).read_text(encoding="utf-8")) for name in sorted(needed)]


def module_path(name):
    """Where a shipped module lands on the VDU (PYTHONPATH=LIBRARY_DIR)."""
    return "{}/mecpool/rserpool/{}".format(LIBRARY_DIR, name)


def gz_b64(data):
    """cloud-init's ``encoding: gz+b64``; mtime 0 keeps the build reproducible."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.b64encode(gzip.compress(data, compresslevel=9, mtime=0)).decode("ascii")


def rserpool_tar(role, root=REPO_ROOT):
    """The tar (bytes) of the role's modules, stripped, at their VDU paths relative to /;
    root-owned, mode 0644, mtime 0 (reproducible)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, text in rserpool_modules(role, root):
            data = pystrip.strip(text).encode("utf-8")
            info = tarfile.TarInfo(module_path(name).lstrip("/"))
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            info.uname = info.gname = "root"
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def rserpool_payloads(root=REPO_ROOT):
    """{role: gz+b64 text of rserpool_tar(role)} for the pool VDUs' cloud-init."""
    return dict((role, gz_b64(rserpool_tar(role, root))) for role in RSERPOOL_ENTRIES)
