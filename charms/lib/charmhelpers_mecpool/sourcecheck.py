"""Is the checked-out OAI source one whose configuration this charm writes?

Each OAI charm lists the key layouts it can write (``SupportedLayout``: a name,
the refs known to have it, the files with their upstream template in etc/, and
what the charm's templates need to write that layout).  After checkout, every
supported layout is rendered and compared with the upstream templates
(configlayout); the first that matches them all is the one to write.  None
matching fails the action before anything is built or started, naming the
repository, the ref and the keys that differ.
"""

import collections
import os

from . import configlayout, files
from .errors import MecpoolError

# template: the charm's jinja2 template; upstream: its counterpart in the
# checkout; parser: "libconfig" or "json".
ConfigFile = collections.namedtuple("ConfigFile", "template upstream parser")
SupportedLayout = collections.namedtuple("SupportedLayout", "name refs files context")


class UnsupportedSource(MecpoolError):
    """The checked-out ref has a configuration layout the charm does not write."""


def _upstream_layout(src_dir, config_file, repository, ref):
    path = os.path.join(src_dir, config_file.upstream)
    text = files.read_text(path)
    if text is None:
        raise UnsupportedSource("{} at {} has no {}: not a source this charm supports "
                                "(see docs/epc.md)".format(repository, ref, config_file.upstream))
    try:
        return configlayout.PARSERS[config_file.parser](text)
    except configlayout.LayoutError as error:
        raise UnsupportedSource("{} at {}: {} cannot be read ({})".format(
            repository, ref, config_file.upstream, error))


def differences(src_dir, layout, render, repository, ref):
    """[(upstream file, Difference)] of ``layout`` against the checkout."""
    out = []
    for config_file in layout.files:
        theirs = _upstream_layout(src_dir, config_file, repository, ref)
        ours = configlayout.PARSERS[config_file.parser](render(layout, config_file))
        difference = configlayout.compare(ours, theirs)
        if difference:
            out.append((config_file.upstream, difference))
    return out


def select(src_dir, layouts, render, repository, ref):
    """The SupportedLayout whose rendering matches the checkout's templates."""
    tried = []
    for layout in layouts:
        found = differences(src_dir, layout, render, repository, ref)
        if not found:
            return layout
        tried.append((sum(len(d.unknown) + len(d.missing) + len(d.kinds) for _, d in found),
                      layout, found))
    _, closest, found = min(tried, key=lambda item: item[0])
    detail = "; ".join("{}: {}".format(path, d.describe()) for path, d in found)
    names = ", ".join(layout.name for layout in layouts)
    raise UnsupportedSource(
        "{} at {} has a configuration layout this charm does not write (layouts known: {}; "
        "closest {}, {}). Use a supported ref (docs/epc.md)".format(
            repository, ref, names, closest.name, detail))
