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
"""

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

SOURCE = Path(__file__).with_name("freshload.c")
LIBRARY_NAME = "librspfreshload.so"
# Where the testbed guest (and a VDU, applied by hand: docs/rsplib-fix.md) keeps it.
INSTALL_PATH = "/usr/lib/mecpool/" + LIBRARY_NAME

STOCK, FIXED = "stock", "fixed"
VARIANTS = (STOCK, FIXED)
DEFAULT_VARIANT = FIXED   # measured better: docs/rsplib-fix.md, "Paper profile"
# The registrars' endpoint keep-alive each variant runs with unless the user sets one
# (None: RSPLIB's own 5000 ms).  Stock PEs report a load change only when a keep-alive
# wakes them, so stock keeps the 1 s workaround; the fix needs none.
VARIANT_KEEPALIVE_MS = {STOCK: 1000, FIXED: None}


class FixBuildError(RuntimeError):
    """The library could not be compiled (no C compiler, or it failed)."""


def compile_argv(output, compiler="cc"):
    return [compiler, "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror",
            "-o", str(output), str(SOURCE), "-ldl", "-pthread"]


def default_output():
    return Path(os.environ.get("MECPOOL_BUILD", "build")) / "rsplibfix" / LIBRARY_NAME


def source_digest():
    return hashlib.sha256(SOURCE.read_bytes()).hexdigest()


def ensure_built(output=None):
    """Compile the library unless ``output`` was built from the current source; return its path."""
    output = Path(output or default_output())
    stamp = output.with_name(output.name + ".sha256")
    digest = source_digest()
    if output.is_file() and stamp.is_file() and stamp.read_text().strip() == digest:
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
    os.replace(partial, output)
    stamp.write_text(digest + "\n")
    return output


def check_variant(field, value):
    if value not in VARIANTS:
        raise ValueError("{}: {!r} is not one of {}".format(field, value, ", ".join(VARIANTS)))
    return value
