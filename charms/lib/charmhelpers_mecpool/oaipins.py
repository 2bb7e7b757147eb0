"""Pin what OAI's SPGW-C/U build scripts fetch unpinned (docs/epc.md, "What the builds fetch").

At the pinned refs (openair-spgwc 2020.w36, spgwu-tiny fa782bbf and v1.1.0),
build/scripts/build_helper.spgw's install_spdlog_from_git clones spdlog and runs
``cd spdlog && git checkout master``: a 2020 code base against today's spdlog
master on gcc 7.  ``pin_spdlog`` rewrites that one line of the checkout to the
commit the site names, after the checkout and before the build starts; a
helper without that line fails `build`, naming the file.
"""

import os
import re

from . import files, validate
from .errors import MecpoolError, ValidationError

SPDLOG_HELPER = "build/scripts/build_helper.spgw"
_CHECKOUT = re.compile(r"^(\s*)cd spdlog && git checkout (\S+)\s*$")


def parse_spdlog(params):
    """The `build` action's spdlog-commit: a full commit hash."""
    validate.required(params, ("spdlog-commit",))
    text = params["spdlog-commit"]
    if not isinstance(text, str) or not re.match(r"^[0-9a-f]{40}$", text.strip().lower()):
        raise ValidationError("spdlog-commit", "{!r} is not a full commit hash (40 hex "
                                               "digits)".format(text))
    return text.strip().lower()


def parse_build(params):
    """The SPGW-C/U `build` action's parameters: the sources and the spdlog commit."""
    return dict(validate.build_source(params), **{"spdlog-commit": parse_spdlog(params)})


class SpdlogPinned(object):
    """OaiDaemon mixin of the SPGW-C/U: `build` pins spdlog after the checkout."""

    def pin_sources(self, source):
        pin_spdlog(self.src_dir, source["spdlog-commit"])


def pin_spdlog(src_dir, commit):
    """Make OAI's spdlog checkout use ``commit``; True when the helper changed."""
    path = os.path.join(src_dir, SPDLOG_HELPER)
    text = files.read_text(path)
    if text is None:
        raise MecpoolError("{} is missing: this OAI ref does not build spdlog the way the "
                           "supported refs do (docs/epc.md)".format(path))
    lines = text.splitlines(True)
    found = False
    for index, line in enumerate(lines):
        match = _CHECKOUT.match(line)
        if match:
            lines[index] = "{}cd spdlog && git checkout {}\n".format(match.group(1), commit)
            found = True
    if not found:
        raise MecpoolError("{} has no 'cd spdlog && git checkout master' line to pin spdlog to {} "
                           "(docs/epc.md)".format(path, commit[:12]))
    return files.write_file(path, "".join(lines), mode=0o644)
