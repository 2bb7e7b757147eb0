"""Fixtures for the charm tests (see charmtest.py for the two-ops design).

How a charm's tests use them (the EPC charms do the same):

* events under the shipped ops 1.5.4 — write ``tests/charms/events_<charm>.py``
  (plain pytest tests; call ``charmtest.require_ops()`` at import) and collect
  it from a normal test file::

      def test_events_under_shipped_ops(shipped_ops):
          shipped_ops.run("events_oai_hss.py")

  The file runs in a subprocess with the vendor cache (build/vendor/<hash>, the
  same lib/ the built charms get) first on PYTHONPATH; the test fails unless
  every test in it passed and at least one ran.
* actions under ops 2.23 — in-process::

      module = charmtest.load_charm_module("oai-hss")
      monkeypatch.setattr(module, "HssWorkload", FakeHss)
      harness = charmtest.make_harness("oai-hss", module.OaiHssCharm)
      harness.begin()
      output = harness.run_action("restart")

The vendor cache is filled by pip on first use (``mecpool.packaging.charms.
ensure_vendor``), then reused.
"""

import re
from pathlib import Path

import pytest

import charmtest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def vendor_dir():
    """build/vendor/<hash>: the pinned charm dependencies (pip runs once)."""
    from mecpool.packaging.charms import ensure_vendor
    return ensure_vendor(charmtest.REPO / "build" / "vendor", charmtest.REPO)


class ShippedOps(object):
    def __init__(self, vendor):
        self.vendor = vendor

    def run(self, events_file, *pytest_args):
        """Run ``tests/charms/<events_file>`` under the shipped ops; all must pass."""
        path = HERE / events_file
        assert path.is_file(), "{} does not exist".format(path)
        completed = charmtest.run_with_shipped_ops(path, self.vendor, pytest_args)
        output = completed.stdout
        assert completed.returncode == 0, "event tests failed under ops {}:\n{}".format(
            charmtest.shipped_ops_version(), output)
        assert charmtest.passed_count(output) > 0, "no event test ran:\n" + output
        assert not re.search(r"\d+ (skipped|xfailed|deselected)", output), (
            "event tests must not be skipped:\n" + output)
        return output


@pytest.fixture(scope="session")
def shipped_ops(vendor_dir):
    """Runs an events file under the ops the charms ship with (1.5.4)."""
    return ShippedOps(vendor_dir)
