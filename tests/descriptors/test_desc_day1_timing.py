"""The OAI day-1 sequence against OSM LCM v8.0's primitive timeouts (docs/epc.md)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "charms" / "lib"))

from charmhelpers_mecpool import budget, oaibuild  # noqa: E402
from mecpool.descriptors import primitives  # noqa: E402
from mecpool.deploy.cli import DEFAULT_TIMEOUT  # noqa: E402


def test_lcm_v8_timeouts_as_read_in_its_source():
    # osm_lcm/ns.py at v8.0/v8.0.0/v8.0.1: 30 * 60 and 10 * 60 (v7.0.x had 10 and 2 minutes)
    assert primitives.LCM_TIMEOUT_PRIMITIVE == 1800
    assert primitives.LCM_TIMEOUT_PROGRESS_PRIMITIVE == 600


def test_one_wait_step_stays_inside_the_progress_timeout():
    # a wait may overrun its deadline by one status read; keep a poll interval of margin
    longest = oaibuild.WAIT_STEP + oaibuild.POLL_INTERVAL
    assert longest < primitives.LCM_TIMEOUT_PROGRESS_PRIMITIVE
    assert longest < primitives.LCM_TIMEOUT_PRIMITIVE


def test_the_primitive_budget_stays_inside_lcm_v8():
    # every charm-side wait draws from PRIMITIVE_BUDGET; a minute of margin to LCM's limit
    assert budget.PRIMITIVE_BUDGET + 60 <= primitives.LCM_TIMEOUT_PROGRESS_PRIMITIVE
    assert oaibuild.WAIT_STEP + oaibuild.POLL_INTERVAL <= budget.WAIT_BUDGET


# What a first build from source may take before configure (4 vCPUs), at the least:
# the allowance the sequence gave before configure stopped waiting for the build.
MIN_BUILD_MINUTES = {"hss": 64, "mme": 48, "spgwc": 40, "spgwu": 40}


@pytest.mark.parametrize("vdu", sorted(primitives.WAIT_BUILD_STEPS))
def test_the_build_allowance_fits_the_ns_deploy_timeout(vdu):
    # build + N wait-build; configure does not wait for the build.  All four VDUs'
    # sequences run side by side under one NS deployment (timeout_ns_deploy, our default)
    steps = primitives.WAIT_BUILD_STEPS[vdu]
    allowance = steps * oaibuild.WAIT_STEP
    assert allowance >= MIN_BUILD_MINUTES[vdu] * 60
    assert allowance + 3 * budget.PRIMITIVE_BUDGET < DEFAULT_TIMEOUT  # + build, configure, one more


@pytest.mark.parametrize("charm", ["oai-hss", "oai-mme", "oai-spgwc", "oai-spgwu"])
def test_configure_follows_the_wait_build_steps(charm):
    names = [p.name for p in primitives.CHARMS[charm].day1]
    steps = primitives.WAIT_BUILD_STEPS[charm[4:]]
    assert names[:steps + 2] == ["build"] + ["wait-build"] * steps + ["configure"]
