"""Whether a running rspserver has our preload (librspfreshload) mapped, from its
/proc/<pid>/maps: the PE charm's pe-status and the VDU lab read the same way.

ld.so only warns when LD_PRELOAD names a file it cannot load, and rspserver then runs
stock; so the settings' ``preload`` says what was asked for, the maps what runs.
Python 3.6, standard library only.
"""

from .units import FRESHLOAD_LIBRARY

DELETED = " (deleted)"
LIBRARY_NAME = FRESHLOAD_LIBRARY.rsplit("/", 1)[-1]


def mapped_files(maps_text):
    """The files mapped in a /proc/<pid>/maps text (path -> replaced on disk since?)."""
    found = {}
    for line in maps_text.splitlines():
        fields = line.split(None, 5)
        if len(fields) == 6 and fields[5].startswith("/"):
            path = fields[5]
            deleted = path.endswith(DELETED)
            found[path[:-len(DELETED)] if deleted else path] = deleted
    return found


def verdict(preload, pid, maps_text):
    """("yes" | "no" | "off" | "unknown", text) for pe-status and the lab.

    ``preload``: the settings' path (None: none asked for); ``pid``: the service's
    main PID (0 or None: not running); ``maps_text``: its maps (None: unreadable)."""
    if not pid:
        return "unknown", "the service is not running"
    if maps_text is None:
        return "unknown", "/proc/{}/maps is not readable".format(pid)
    mapped = mapped_files(maps_text)
    ours = sorted(path for path in mapped if path.rsplit("/", 1)[-1] == LIBRARY_NAME)
    if not preload:
        if ours:
            return "yes", "loaded in pid {} from {}, which the settings do not ask for".format(pid, ours[0])
        return "off", "not asked for (stock RSPLIB); pid {}".format(pid)
    if preload in mapped:
        note = ", replaced on disk since it started" if mapped[preload] else ""
        return "yes", "loaded in pid {} from {}{}".format(pid, preload, note)
    return "no", "{} is not loaded in pid {} (ld.so ignores a preload it cannot open)".format(preload, pid)
