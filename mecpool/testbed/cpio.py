"""A minimal writer for the cpio "newc" format the kernel unpacks as initramfs.

Written here (not with the cpio tool) so the archive is byte-for-byte
reproducible (fixed inode numbers, mtime 0, sorted entries) and can hold
device nodes (/dev/console) without root privileges.
"""

import stat

_MAGIC = b"070701"


def _pad4(length):
    return (4 - length % 4) % 4


class CpioWriter:
    """Collects entries; :meth:`getvalue` returns the archive bytes."""

    def __init__(self):
        self._entries = {}  # path -> (mode, data, rdev(major, minor))

    def directory(self, path, mode=0o755):
        self._entries[self._norm(path)] = (stat.S_IFDIR | mode, b"", (0, 0))

    def file(self, path, data, mode=0o644):
        self._add_parents(path)
        self._entries[self._norm(path)] = (stat.S_IFREG | mode, bytes(data), (0, 0))

    def symlink(self, path, target):
        self._add_parents(path)
        self._entries[self._norm(path)] = (stat.S_IFLNK | 0o777, target.encode(), (0, 0))

    def char_device(self, path, major, minor, mode=0o600):
        self._add_parents(path)
        self._entries[self._norm(path)] = (stat.S_IFCHR | mode, b"", (major, minor))

    def has(self, path):
        return self._norm(path) in self._entries

    def _add_parents(self, path):
        parts = self._norm(path).split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            parent = "/".join(parts[:depth])
            if parent not in self._entries:
                self.directory(parent)

    @staticmethod
    def _norm(path):
        path = str(path).strip("/")
        if not path or ".." in path.split("/"):
            raise ValueError("bad archive path {!r}".format(path))
        return path

    def getvalue(self):
        out = bytearray()
        # Parents sort before children, so directories exist when files unpack.
        for ino, path in enumerate(sorted(self._entries), start=1):
            mode, data, (major, minor) = self._entries[path]
            out += self._header(ino, mode, len(data), path, major, minor)
            out += data + b"\0" * _pad4(len(data))
        out += self._header(0, 0, 0, "TRAILER!!!", 0, 0)
        return bytes(out)

    @staticmethod
    def _header(ino, mode, size, name, rmajor, rminor):
        encoded = name.encode() + b"\0"
        nlink = 2 if stat.S_ISDIR(mode) else 1
        fields = (ino, mode, 0, 0, nlink, 0, size, 0, 0, rmajor, rminor, len(encoded), 0)
        header = _MAGIC + b"".join(b"%08x" % value for value in fields)
        return header + encoded + b"\0" * _pad4(len(header) + len(encoded))
