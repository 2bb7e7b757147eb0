"""Reproducible ``tar czf <pkg>.tar.gz <pkg>/``.

The same files give byte-identical archives: members in sorted order,
directories included (as tar does), mtime fixed, uid/gid 0 and owner names
root, modes normalised (0755 for directories and executables, else 0644) and
a gzip header without file name or time, at a fixed compression level.
"""

import gzip
import io
import os
import tarfile
from pathlib import Path

FIXED_MTIME = 315532800  # 1980-01-01, as the charm builder uses
GZIP_LEVEL = 6


def _info(name, mode, size=0, kind=tarfile.REGTYPE):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.mtime = FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def _sort_key(name):
    return name.split("/")


def tree_files(root):
    """{path relative to ``root``: (bytes, executable?)} of a directory tree."""
    root = Path(root)
    out = {}
    for directory, dirs, files in os.walk(str(root)):
        dirs.sort()
        for name in sorted(files):
            path = Path(directory) / name
            if path.is_symlink():
                raise ValueError("{}: links are not allowed in a package".format(path))
            out[path.relative_to(root).as_posix()] = (path.read_bytes(),
                                                      bool(os.stat(str(path)).st_mode & 0o111))
    return out


def write_archive(top, files, destination):
    """Write ``files`` ({relative path: (bytes, executable?)}) under the top
    directory ``top`` as the .tar.gz ``destination``; returns its path."""
    directories = {top}
    for relative in files:
        parts = relative.split("/")
        if not relative or relative.startswith("/") or ".." in parts or "" in parts:
            raise ValueError("{!r}: not a clean relative path".format(relative))
        for depth in range(1, len(parts)):
            directories.add("/".join([top] + parts[:depth]))
    entries = [(name, None) for name in directories]
    entries += [("{}/{}".format(top, relative), value) for relative, value in files.items()]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name, value in sorted(entries, key=lambda entry: _sort_key(entry[0])):
            if value is None:
                archive.addfile(_info(name, 0o755, kind=tarfile.DIRTYPE))
                continue
            data, executable = value
            archive.addfile(_info(name, 0o755 if executable else 0o644, len(data)), io.BytesIO(data))
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open(str(destination), "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=GZIP_LEVEL) as gz:
            gz.write(buffer.getvalue())
    return destination


def archive_directory(root, destination):
    """``tar czf`` of the directory ``root`` (named after it) into ``destination``."""
    root = Path(root)
    return write_archive(root.name, tree_files(root), destination)
