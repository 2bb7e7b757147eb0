"""librspfreshload with the real RSPLIB binaries (QEMU guest): fresh loads and no timer.c:76 abort.

Each probe runs once per variant (stock Debian RSPLIB, and with the fix); see
mecpool/testbed/probes.py for what is measured and docs/rsplib-fix.md for the numbers.
"""

import statistics
from pathlib import Path

import pytest

from mecpool.testbed import engine, probes

pytestmark = pytest.mark.testbed

# The margins and the measurements they come from: mecpool.testbed.probes (BUSY_HOST_*),
# shared with the VDU lab's freshness check.
MEDIAN_S = probes.BUSY_HOST_MEDIAN_S
MOSTLY_S = probes.BUSY_HOST_MOSTLY_S
NEVER_S = probes.BUSY_HOST_NEVER_S


@pytest.fixture(scope="module")
def run_probe(tmp_path_factory):
    root = tmp_path_factory.mktemp("probes")
    cache = engine.build_root() / "testbed" / "vm"
    done = {}

    def runner(scenario, settings, mode, jobs, label=None, customize=None):
        return engine.run(scenario, settings, mode=mode, jobs=jobs, label=label, customize=customize,
                          root=root, cache_root=cache, report=False)

    def run(name, variant):
        if (name, variant) not in done:
            done[name, variant] = probes.run_probe(name, variant, mode="auto", runner=runner)
        return done[name, variant]
    return run


def _summary(outcome):
    return "\n".join(probes.summary_lines(outcome))


def _raw(outcome):
    return Path(outcome["run_dir"]) / "raw" / "pus-{}".format(outcome["pus"]) / "run-1"


def test_fixed_pe_load_changes_reach_every_registrar_long_before_the_keepalive(run_probe):
    """With RSPLIB's default 5 s keep-alive.  The delay is an upper bound (from the moment
    the PE added the job's session, or stamped its completion, to the registrar's action
    log).  The PE's own registrar gets the re-registration; its peers one ENRP hop later."""
    outcome = run_probe("freshness", "fixed")
    summary = _summary(outcome)
    assert outcome["endpoint_keepalive_ms"] == probes.DEFAULT_KEEPALIVE_MS
    assert outcome["changes"] >= 10 and not outcome["aborted_pes"], summary
    for registrar in outcome["registrars"]:
        delays = registrar["delays_s"]
        assert len(delays) >= 10, summary
        assert statistics.median(delays) <= MEDIAN_S, summary
        assert sum(delay <= MOSTLY_S for delay in delays) >= 0.9 * len(delays), summary
        assert max(delays) < NEVER_S, summary
    # What hsdump reads, in dumps that began MOSTLY_S after a change: the new load.
    loose = probes.evaluate_freshness(_raw(outcome), limit_s=MOSTLY_S)
    for registrar in loose["registrars"]:
        assert registrar["checked"] >= 10, summary
        assert len(registrar["stale"]) <= 0.05 * registrar["checked"], summary


def test_stock_pe_load_changes_wait_for_the_keepalive(run_probe):
    """The same probe on stock RSPLIB: the fault the fix removes, seen by the same measure
    (each margin above fails here)."""
    outcome = run_probe("freshness", "stock")
    summary = _summary(outcome)
    for registrar in outcome["registrars"]:
        delays = registrar["delays_s"]
        assert statistics.median(delays) > MEDIAN_S, summary
        assert sum(delay > MOSTLY_S for delay in delays) >= 0.5 * len(delays), summary


def test_stress_aborts_stock_pes_and_no_fixed_pe(run_probe):
    """Many short jobs with the 1 s keep-alive: stock RSPLIB's re-registration race aborts
    PEs (timer.c:76); with the fix, none."""
    stock = run_probe("abort-stress", "stock")
    assert any(where == "./src/timer.c:76" for where in stock["aborted_pes"].values()), _summary(stock)
    fixed = run_probe("abort-stress", "fixed")
    assert fixed["aborted_pes"] == {}, _summary(fixed)
    assert all(count > 100 for count in fixed["accepted"].values()), _summary(fixed)
    # hundreds of load changes a second per PE, re-registrations at most one per 20 ms
    # (and the re-registration interval's own): 50 a second
    assert all(0 < rate <= 55 for rate in fixed["registrations_per_s"].values()), _summary(fixed)
