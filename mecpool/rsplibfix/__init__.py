"""librspfreshload: our fix around the stock RSPLIB pool element (see freshload.c).

An LD_PRELOAD library for ``rspserver`` that (1) wakes RSPLIB's ASAP main-loop
thread when a pool element's load changes, so the new load reaches the
registrars at once instead of with the next endpoint keep-alive, and (2) links
RSPLIB's timers under the dispatcher's lock, so the race behind
``INTERNAL ERROR in ./src/timer.c, line 76`` cannot abort the PE.  The argument
that it changes nothing else is in freshload.c and docs/rsplib-fix.md.

This module owns the one compile command (used by ``make`` and by the testbed
when the library is missing or older than its source) and the variants the
testbed can run: ``stock`` (Debian's binaries as they are, with the 1 s keep-alive
workaround) and ``fixed`` (the same binaries with this library, RSPLIB's default
keep-alive).

The library must load on the PE VDUs' glibc (2.27 and later): the build refuses a
library that needs a newer glibc symbol version (``glibc.py``), and ``shippable()`` is
what every PE VDU's user data carries (mecpool build, with the site's rsplib.freshload).
"""

import base64
import gzip
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mecpool.rserpool.units import FRESHLOAD_LIBRARY

from . import glibc

SOURCE = Path(__file__).with_name("freshload.c")
# Where the PE VDUs (their cloud-init) and the testbed's guest keep it.
INSTALL_PATH = FRESHLOAD_LIBRARY
LIBRARY_NAME = INSTALL_PATH.rsplit("/", 1)[1]

STOCK, FIXED = "stock", "fixed"
VARIANTS = (STOCK, FIXED)
DEFAULT_VARIANT = FIXED   # measured better: docs/rsplib-fix.md, "Paper profile"
# The registrars' endpoint keep-alive each variant runs with unless the user sets one
# (None: RSPLIB's own 5000 ms): the testbed's variants and the site's rsplib.freshload.  Stock PEs report a load change only when a keep-alive
# wakes them, so stock keeps the 1 s workaround; the fix needs none.
VARIANT_KEEPALIVE_MS = {STOCK: 1000, FIXED: None}


class FixBuildError(RuntimeError):
    """The library could not be compiled (no C compiler, or it failed)."""


# -s: stripped (only the dynamic symbols stay).  libdl.so.2 by name: with glibc before 2.34
# dlsym() and dladdr() are there (freshload.c binds their first version), and from 2.34 on
# it is an empty library that is still installed, so the library loads on both.
FLAGS = ["-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-s"]
LIBS = ["-Wl,--no-as-needed", "-l:libdl.so.2", "-pthread"]


def compile_argv(output, compiler="cc"):
    return [compiler] + FLAGS + ["-o", str(output), str(SOURCE)] + LIBS


def default_output():
    return Path(os.environ.get("MECPOOL_BUILD", "build")) / "rsplibfix" / LIBRARY_NAME


def source_digest():
    """Of the source and the compile command: a change of either rebuilds the library."""
    return hashlib.sha256(SOURCE.read_bytes() + " ".join(FLAGS + LIBS).encode()).hexdigest()


def check_glibc(path, ceiling=glibc.CEILING):
    """Raise FixBuildError naming each symbol of ``path`` that needs a glibc newer than ``ceiling``."""
    bad = glibc.too_new(glibc.version_needs(path), ceiling)
    if bad:
        raise FixBuildError("{} would not load with glibc {}.{} (the PE VDUs' oldest): {}".format(
            path, ceiling[0], ceiling[1], glibc.describe(bad)))


def _stamp_text(digest, output):
    """The build stamp: the source digest and the library's own hash, so that a library
    replaced after the build (another tree's, an old copy) is rebuilt, never shipped."""
    return "{} {}\n".format(digest, hashlib.sha256(output.read_bytes()).hexdigest())


def ensure_built(output=None):
    """Compile the library unless ``output`` was built from the current source; return its path."""
    output = Path(output or default_output())
    stamp = output.with_name(output.name + ".sha256")
    digest = source_digest()
    if output.is_file() and stamp.is_file() and stamp.read_text() == _stamp_text(digest, output):
        return output
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise FixBuildError("no C compiler (cc) to build {}; install gcc and libc6-dev "
                            "(scripts/install-deps.sh does)".format(LIBRARY_NAME))
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    result = subprocess.run(compile_argv(partial, compiler), capture_output=True, text=True)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise FixBuildError("compiling {} failed:\n{}".format(SOURCE, result.stderr.strip()))
    try:
        check_glibc(partial)
    except FixBuildError:
        partial.unlink()
        raise
    os.replace(partial, output)
    stamp.write_text(_stamp_text(digest, output))
    return output


@dataclass
class Shippable:
    """The built library as a VDU gets it (see docs/rsplib-fix.md, "Shipping")."""
    path: Path
    version_needs: list        # glibc.VersionNeed: library, version, symbols
    size: int                  # bytes of the (stripped) .so
    gzip_base64_size: int      # bytes of its gzip, base64-encoded (cloud-init's gz+b64)

    def gzip_base64(self):
        return base64.b64encode(gzip.compress(self.path.read_bytes(), mtime=0)).decode("ascii")


def shippable(output=None):
    """Build (if needed) and check the library; what the VDU shipping side carries."""
    path = ensure_built(output)
    check_glibc(path)
    shippable = Shippable(path, glibc.version_needs(path), path.stat().st_size, 0)
    shippable.gzip_base64_size = len(shippable.gzip_base64())
    return shippable


def check_variant(field, value):
    if value not in VARIANTS:
        raise ValueError("{}: {!r} is not one of {}".format(field, value, ", ".join(VARIANTS)))
    return value
