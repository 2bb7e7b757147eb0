"""The glibc symbol versions a shared object needs, read from its own ELF version sections.

The pool element VDUs run Ubuntu 20.04 (glibc 2.31) and possibly 18.04 (glibc 2.27); a
library that needs a newer ``GLIBC_x.y`` makes ``rspserver`` exit at start there.  The
build therefore reads the library's version needs (``.gnu.version_r``) and, through
``.gnu.version`` and ``.dynsym``, the symbols that need each, and refuses the library
when one of them is newer than the ceiling.  Pure Python, no binutils needed.
"""

import struct
from dataclasses import dataclass, field

SHT_DYNSYM = 11
SHT_GNU_VERNEED = 0x6ffffffe
SHT_GNU_VERSYM = 0x6fffffff
CEILING = (2, 27)   # Ubuntu 18.04


@dataclass
class VersionNeed:
    library: str               # the DT_NEEDED file the version is needed from
    version: str               # e.g. "GLIBC_2.34"
    symbols: list = field(default_factory=list)


class ElfError(ValueError):
    """Not an ELF file this reader understands."""


def _formats(data):
    if data[:4] != b"\x7fELF":
        raise ElfError("not an ELF file")
    if data[4] not in (1, 2) or data[5] not in (1, 2):
        raise ElfError("unknown ELF class or byte order")
    order = "<" if data[5] == 1 else ">"
    wide = data[4] == 2
    return order, wide


def _sections(data):
    order, wide = _formats(data)
    if wide:
        shoff, = struct.unpack_from(order + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(order + "HH", data, 0x3a)
        layout = order + "IIQQQQIIQQ"
    else:
        shoff, = struct.unpack_from(order + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(order + "HH", data, 0x2e)
        layout = order + "IIIIIIIIII"
    sections = []
    for index in range(shnum):
        (name, kind, flags, addr, offset, size, link, info, align,
         entsize) = struct.unpack_from(layout, data, shoff + index * shentsize)
        sections.append({"type": kind, "offset": offset, "size": size, "link": link,
                         "info": info, "entsize": entsize})
    return order, wide, sections


def _string(data, table, offset):
    start = table["offset"] + offset
    return data[start:data.index(b"\0", start)].decode("ascii", "replace")


def version_needs(path):
    """Every version ``path`` needs, with the symbols that need it (empty: no version needs)."""
    data = open(path, "rb").read()
    order, wide, sections = _sections(data)
    needs = {}   # version index (vna_other) -> VersionNeed
    for section in sections:
        if section["type"] != SHT_GNU_VERNEED:
            continue
        strings = sections[section["link"]]
        offset = section["offset"]
        for _ in range(section["info"]):
            _, count, file_name, aux, following = struct.unpack_from(order + "HHIII", data, offset)
            library = _string(data, strings, file_name)
            entry = offset + aux
            for _ in range(count):
                _, _, other, name, next_aux = struct.unpack_from(order + "IHHII", data, entry)
                needs[other] = VersionNeed(library, _string(data, strings, name))
                entry += next_aux
            offset += following
    dynsym = next((s for s in sections if s["type"] == SHT_DYNSYM), None)
    versym = next((s for s in sections if s["type"] == SHT_GNU_VERSYM), None)
    if dynsym is not None and versym is not None:
        strings = sections[dynsym["link"]]
        for index in range(dynsym["size"] // dynsym["entsize"]):
            version, = struct.unpack_from(order + "H", data, versym["offset"] + 2 * index)
            need = needs.get(version & 0x7fff)
            if need is not None:
                name, = struct.unpack_from(order + "I", data, dynsym["offset"] + index * dynsym["entsize"])
                need.symbols.append(_string(data, strings, name))
    return sorted(needs.values(), key=lambda need: (need.library, need.version))


def glibc_version(name):
    """(2, 34) for "GLIBC_2.34"; None for a version of another library or GLIBC_PRIVATE."""
    prefix, _, number = name.partition("_")
    if prefix != "GLIBC" or not number.replace(".", "").isdigit():
        return None
    return tuple(int(part) for part in number.split("."))


def too_new(needs, ceiling=CEILING):
    """The needs a glibc of version ``ceiling`` cannot meet: newer GLIBC_x.y, and GLIBC_PRIVATE."""
    bad = []
    for need in needs:
        if need.version == "GLIBC_PRIVATE":
            bad.append(need)
        elif glibc_version(need.version) is not None and glibc_version(need.version) > ceiling:
            bad.append(need)
    return bad


def describe(needs):
    return "; ".join("{} needs {} ({})".format(", ".join(need.symbols) or "no symbol",
                                               need.version, need.library) for need in needs)
