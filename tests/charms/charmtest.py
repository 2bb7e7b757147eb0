"""Helpers for testing the charms under two ops versions.

The charms ship ops 1.5.4 (Juju 2.8, Python 3.6); its Harness drives events
but cannot run actions.  So (see tests/charms/conftest.py for the fixtures):

* **event tests** live in ``tests/charms/events_<charm>.py`` (not collected by
  the normal run) and are run by the ``shipped_ops`` fixture in a subprocess
  whose PYTHONPATH starts with the vendor cache of ``charms/requirements.txt``,
  i.e. the very ops 1.5.4, PyYAML, jinja2 and MarkupSafe the built charms carry.
  Each events file calls :func:`require_ops` at import, so it cannot silently
  run under another ops.
* **action tests** run in-process under the test extra's ops 2.23
  (``Harness.run_action``).

Both load the charm with :func:`load_charm_module` (unique module names, so
every charm's ``src/charm.py`` can be imported into one process) and build the
Harness with :func:`make_harness` from the charm's own YAML files.  The
workload is replaced at its seam: monkeypatch the workload class the charm
module imported (e.g. ``charm_module.RegistrarWorkload``) before ``begin()``.
"""

import importlib.util
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
CHARMS_DIR = REPO / "charms"
SHARED_LIB = CHARMS_DIR / "lib"
REQUIREMENTS = CHARMS_DIR / "requirements.txt"
ENV_EXPECTED_OPS = "MECPOOL_EXPECTED_OPS"

if str(SHARED_LIB) not in sys.path:
    sys.path.insert(0, str(SHARED_LIB))


def shipped_ops_version():
    """The ops version pinned in charms/requirements.txt."""
    match = re.search(r"^ops==([0-9.]+)\s*$", REQUIREMENTS.read_text(), re.MULTILINE)
    if not match:
        raise AssertionError("charms/requirements.txt pins no ops==VERSION")
    return match.group(1)


def require_ops(version=None):
    """Fail at import unless ``ops`` is ``version`` (default: $MECPOOL_EXPECTED_OPS)."""
    import ops.version
    wanted = version or os.environ.get(ENV_EXPECTED_OPS)
    if not wanted:
        raise RuntimeError("run this file through the shipped_ops fixture "
                           "(tests/charms/conftest.py), not directly")
    if ops.version.version != wanted:
        raise RuntimeError("ops {} imported from {}, expected {}".format(
            ops.version.version, ops.__file__, wanted))
    return ops.version.version


def _module_key(charm, module):
    return "charmsrc_{}_{}".format(charm.replace("-", "_"), module)


def load_charm_module(charm, module="charm"):
    """Import ``charms/<charm>/src/<module>.py`` under a name unique to the charm.

    Sibling modules it imports from its src/ are re-registered under unique
    names too, so two charms may both have e.g. ``workload.py``.
    """
    key = _module_key(charm, module)
    if key in sys.modules:
        return sys.modules[key]
    src = CHARMS_DIR / charm / "src"
    path = src / (module + ".py")
    if not path.is_file():
        raise FileNotFoundError(str(path))
    before = set(sys.modules)
    sys.path.insert(0, str(src))
    try:
        spec = importlib.util.spec_from_file_location(key, str(path))
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[key] = loaded
        try:
            spec.loader.exec_module(loaded)
        except BaseException:
            del sys.modules[key]
            raise
    finally:
        sys.path.remove(str(src))
        prefix = str(src) + os.sep
        for name in sorted(set(sys.modules) - before):
            found = getattr(sys.modules[name], "__file__", None) or ""
            if name != key and found.startswith(prefix):
                sibling = sys.modules.pop(name)
                sys.modules.setdefault(_module_key(charm, name), sibling)
    return loaded


def charm_yaml(charm, name):
    """The parsed ``charms/<charm>/<name>`` (None when the file is missing)."""
    path = CHARMS_DIR / charm / name
    return yaml.safe_load(path.read_text()) if path.is_file() else None


def make_harness(charm, charm_class):
    """An ops.testing.Harness for ``charm_class`` with the charm's own YAML files."""
    from ops.testing import Harness

    def text(name):
        path = CHARMS_DIR / charm / name
        return path.read_text() if path.is_file() else None

    with warnings.catch_warnings():
        # ops 2.x marks Harness as deprecated in favour of ops.testing.Context,
        # which needs ops 2.17+ API the shipped ops 1.5.4 lacks.
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return Harness(charm_class, meta=text("metadata.yaml"), actions=text("actions.yaml"),
                       config=text("config.yaml"))


def run_with_shipped_ops(test_file, vendor_dir, extra_args=(), timeout=600):
    """Run pytest on ``test_file`` in a subprocess that imports the vendored ops.

    Returns the CompletedProcess (stdout and stderr merged).
    """
    paths = [str(vendor_dir), str(SHARED_LIB), str(REPO)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env[ENV_EXPECTED_OPS] = shipped_ops_version()
    env.pop("PYTEST_ADDOPTS", None)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            str(test_file)] + list(extra_args)
    return subprocess.run(argv, cwd=str(REPO), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout)


def passed_count(output):
    """How many tests pytest's summary line reports as passed (0 if none)."""
    match = re.search(r"(\d+) passed", output)
    return int(match.group(1)) if match else 0
