"""Reproducible ``tar czf <pkg>.tar.gz <pkg>/``.

The same tree gives byte-identical archives: members in sorted order,
directories included (as tar does), mtime fixed, uid/gid 0 and owner names
root, modes normalised (0755 for directories and executables, else 0644) and
a gzip header without file name or time.
"""

import gzip
import io
import os
import tarfile
from pathlib import Path

FIXED_MTIME = 315532800  # 1980-01-01, as the charm builder uses
GZIP_LEVEL = 9


def _info(name, mode, size=0, kind=tarfile.REGTYPE):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.mtime = FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def tree_entries(root):
    """(archive name, path) for ``root`` and everything below it, sorted; the
    archive names start with the directory's own name."""
    root = Path(root)
    entries = [(root.name, root)]
    for directory, dirs, files in os.walk(str(root)):
        dirs.sort()
        base = Path(directory)
        for name in sorted(dirs) + sorted(files):
            path = base / name
            entries.append(("{}/{}".format(root.name, path.relative_to(root).as_posix()), path))
    return sorted(entries, key=lambda entry: entry[0].split("/"))


def write_archive(root, destination):
    """Archive directory ``root`` as ``destination`` (.tar.gz); returns its path."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name, path in tree_entries(root):
            if path.is_symlink():
                raise ValueError("{}: links are not allowed in a package".format(path))
            if path.is_dir():
                archive.addfile(_info(name, 0o755, kind=tarfile.DIRTYPE))
                continue
            data = path.read_bytes()
            mode = 0o755 if os.stat(str(path)).st_mode & 0o111 else 0o644
            archive.addfile(_info(name, mode, len(data)), io.BytesIO(data))
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open(str(destination), "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=GZIP_LEVEL) as gz:
            gz.write(buffer.getvalue())
    return destination
