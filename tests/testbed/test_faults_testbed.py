"""The fault scenarios, each a real RSPLIB run with zero lost jobs (with librspfreshload, the
default).  pe-before-registrar is not also asserted on stock RSPLIB: whether a stock PE sticks
there is a race between its two threads (stuck in 1 of 2 testbed runs, docs/rsplib-fix.md);
`mecpool testbed fault pe-before-registrar --rsplib stock` shows it.

They run two at a time (each in its own guest) from one session fixture; each
test then checks its own outcome: every job accounted for (lost = 0) and the
scenario's own checks (see mecpool/testbed/faults.py).
"""

import concurrent.futures

import pytest

from mecpool.testbed import engine, faults

pytestmark = pytest.mark.testbed

PARALLEL = 2


@pytest.fixture(scope="session")
def fault_outcomes(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    cache = engine.build_root() / "testbed" / "vm"

    def runner(scenario, settings, mode, jobs, label=None, customize=None):
        return engine.run(scenario, settings, mode=mode, jobs=jobs, label=label,
                          customize=customize, root=root, cache_root=cache, report=False)

    def one(job):
        name, rsplib = job
        return faults.run_fault(name, mode="auto", runner=runner, rsplib=rsplib)

    outcomes = {}
    jobs = [(name, None) for name in faults.FAULTS]
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        futures = {pool.submit(one, job): job for job in jobs}
        for future in concurrent.futures.as_completed(futures):
            try:
                outcomes[futures[future]] = future.result()
            except Exception as error:  # reported by the test of that fault
                outcomes[futures[future]] = error
    return outcomes


@pytest.mark.parametrize("name", list(faults.FAULTS))
def test_fault_loses_no_job(name, fault_outcomes):
    outcome = fault_outcomes[name, None]
    if isinstance(outcome, Exception):
        raise outcome
    summary = "\n".join(faults.summary_lines(outcome))
    assert outcome["generated"] > 0, summary
    assert outcome["lost"] == 0, summary
    failed = [check for check in outcome["checks"] if not check["passed"]]
    assert not failed, summary
    assert summary.splitlines()[-1] == "lost: 0"

