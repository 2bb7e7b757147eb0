"""The OAI day-1 sequence against OSM LCM v8.0's primitive timeouts (docs/epc.md)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "charms" / "lib"))

from charmhelpers_mecpool import oaibuild  # noqa: E402
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


@pytest.mark.parametrize("vdu", sorted(primitives.WAIT_BUILD_STEPS))
def test_the_build_budget_fits_the_ns_deploy_timeout(vdu):
    # build + N wait-build + configure's one more step, all four VDUs' sequences run side by
    # side under one NS deployment (LCM's timeout_ns_deploy, our deploy default)
    steps = primitives.WAIT_BUILD_STEPS[vdu] + 1
    assert steps * oaibuild.WAIT_STEP < DEFAULT_TIMEOUT
    assert steps >= 4  # at least 32 minutes for a first build from source
