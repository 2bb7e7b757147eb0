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


def expected_day1(vdu):
    """build, wait-build x N, configure (+ provision-subscribers), wait-peer x M."""
    names = ["build"] + ["wait-build"] * primitives.WAIT_BUILD_STEPS[vdu] + ["configure"]
    if vdu == "hss":
        names.append("provision-subscribers")
    steps = primitives.WAIT_PEER_STEPS.get(vdu, 0)
    return [(name, None) for name in names] + [
        ("wait-peer", "{}/{}".format(i, steps)) for i in range(1, steps + 1)]


def day1_of(table):
    return [(p.name, p.params[0].value if p.name == "wait-peer" else None) for p in table.day1]


@pytest.mark.parametrize("vdu", ["hss", "mme", "spgwc", "spgwu"])
def test_day1_order_build_wait_build_configure_wait_peer(vdu):
    assert day1_of(primitives.CHARMS["oai-" + vdu]) == expected_day1(vdu)


def test_the_descriptor_constants_are_the_charms():
    # primitives.py cannot import the charms' library; it mirrors budget.py
    assert primitives.CHARM_PRIMITIVE_BUDGET == budget.PRIMITIVE_BUDGET
    assert primitives.CHARM_WAIT_BUILD_LONGEST == budget.BUILD_WAIT_STEP + budget.BUILD_POLL_INTERVAL
    assert primitives.CHARM_WAIT_BUILD_LONGEST == oaibuild.WAIT_STEP + oaibuild.POLL_INTERVAL
    assert primitives.CHARM_PEER_WAIT_STEP == budget.PEER_WAIT_STEP


# The longest a wait-peer step takes while the peer is silent: its wait, one more
# probe interval, the probes' own timeouts (TCP 3 s; PFCP 2 s per SPGW-C).
SILENT_STEP = budget.PEER_WAIT_STEP + budget.PEER_WAIT_INTERVAL + budget.PEER_PROBE_TIMEOUT


def worst_ready(vdu):
    """Seconds from the NS start until ``vdu``'s day-1 list is through, when every VDU
    takes its longest (each primitive its whole budget, each wait-build its longest)."""
    own = (2 + (vdu == "hss")) * budget.PRIMITIVE_BUDGET + (
        primitives.WAIT_BUILD_STEPS[vdu] * primitives.CHARM_WAIT_BUILD_LONGEST)
    peer = primitives.PEERS.get(vdu)
    if peer is None:
        return own
    # configure left the start pending; the wait-peer step during which the peer
    # answers starts the service (one whole budget); later steps return at once
    return max(own, primitives.peer_ready_by(peer)) + budget.PRIMITIVE_BUDGET


@pytest.mark.parametrize("vdu,peer", sorted(primitives.PEERS.items()))
def test_wait_peer_steps_cover_the_peers_worst_case(vdu, peer):
    steps = primitives.WAIT_PEER_STEPS[vdu]
    ready_by = primitives.peer_ready_by(peer)
    # the peer's build, its wait-builds and configure at their longest, from the NS
    # start, while this VDU's own build might have been done at once
    assert ready_by == 2 * budget.PRIMITIVE_BUDGET + primitives.WAIT_BUILD_STEPS[peer] * (
        budget.BUILD_WAIT_STEP + budget.BUILD_POLL_INTERVAL)
    # each silent step waits at least PEER_WAIT_STEP: M steps span the peer's worst case,
    # M - 1 would not
    assert steps * budget.PEER_WAIT_STEP >= ready_by
    assert (steps - 1) * budget.PEER_WAIT_STEP < ready_by
    assert {"mme": 14, "spgwu": 10}[vdu] == steps


def test_the_deploy_overhead_constants_are_the_charms():
    assert primitives.LCM_TIMEOUT_NS_DEPLOY == budget.NS_DEPLOY_TIMEOUT == DEFAULT_TIMEOUT == 2 * 3600
    assert primitives.DEPLOY_OVERHEAD == budget.DEPLOY_OVERHEAD == 15 * 60
    assert primitives.CHARM_DAY1_PEER_DEADLINE == budget.DAY1_PEER_DEADLINE == 5760


def test_every_vdu_and_so_the_ns_fits_the_deploy_timeout():
    # LCM v8.0 awaits all VDUs' day-1 tasks together under timeout_ns_deploy (2 h), whose
    # clock also covers VM creation, Juju's provisioning and the charm deployment
    ends = {vdu: primitives.DEPLOY_OVERHEAD + worst_ready(vdu) for vdu in primitives.WAIT_BUILD_STEPS}
    assert ends == {"hss": 6870, "mme": 6870, "spgwc": 4590, "spgwu": 5130}
    assert max(ends.values()) <= DEFAULT_TIMEOUT - 5 * 60   # five minutes to spare


@pytest.mark.parametrize("vdu,peer", sorted(primitives.PEERS.items()))
def test_the_day1_deadline_never_cuts_the_wait_for_a_peer_within_its_worst_case(vdu, peer):
    # both VDUs' builds start after the same deploy overhead; the peer is ready by its
    # worst case, before this VDU's wait-peer steps give up
    assert primitives.peer_ready_by(peer) + budget.PEER_WAIT_INTERVAL < budget.DAY1_PEER_DEADLINE


# A step cut by the day-1 deadline: at most the time left, one more probe interval and probe.
LAST_PROBE = budget.PEER_WAIT_INTERVAL + budget.PEER_PROBE_TIMEOUT


@pytest.mark.parametrize("vdu", sorted(primitives.PEERS))
def test_a_peer_that_never_answers_is_reported_by_the_charm_before_lcm_gives_up(vdu):
    steps = primitives.WAIT_PEER_STEPS[vdu]
    overhead = primitives.DEPLOY_OVERHEAD
    # Without the deadline, M silent steps after a slow own build (every wait-build at its
    # longest) would end after LCM's timeout: the failure naming the peer would never be seen.
    slow_own = (2 * budget.PRIMITIVE_BUDGET
                + primitives.WAIT_BUILD_STEPS[vdu] * primitives.CHARM_WAIT_BUILD_LONGEST)
    assert overhead + slow_own + steps * SILENT_STEP > DEFAULT_TIMEOUT
    if vdu == "mme":   # even with its own build quick, the deploy overhead pushes the 14th step past it
        assert overhead + 2 * budget.PRIMITIVE_BUDGET + steps * SILENT_STEP > DEFAULT_TIMEOUT
    # With it, the step running at the deadline fails at the latest one probe after it,
    # whatever the own build took: inside LCM's 2 h with one primitive's margin
    reported_by = overhead + budget.DAY1_PEER_DEADLINE + LAST_PROBE
    assert reported_by + budget.PRIMITIVE_BUDGET - LAST_PROBE <= DEFAULT_TIMEOUT
    assert SILENT_STEP + budget.LISTEN_TIMEOUT <= budget.PRIMITIVE_BUDGET


def test_the_rendered_vnfd_lists_the_day1_sequence(example_build):
    import tarfile

    import yaml
    out, built = example_build
    archive = next(b.path for b in built if b.name == "oai-epc")
    with tarfile.open(str(archive)) as tar:
        member = next(m for m in tar.getmembers()
                      if m.name.count("/") == 1 and m.name.endswith(".yaml"))
        vnfd = yaml.safe_load(tar.extractfile(member).read())["vnfd:vnfd-catalog"]["vnfd"][0]
    seen = set()
    for vdu in vnfd["vdu"]:
        config = vdu["vdu-configuration"]
        vdu_name = config["juju"]["charm"][4:]
        day1 = sorted(config["initial-config-primitive"], key=lambda p: int(p["seq"]))
        assert [int(p["seq"]) for p in day1] == list(range(1, len(day1) + 1))
        got = []
        for primitive in day1:
            value = None
            if primitive["name"] == "wait-peer":
                (parameter,) = primitive["parameter"]
                # a fixed STRING (LCM passes it unchanged; the action's step is a string)
                assert parameter["name"] == "step" and parameter["data-type"] == "STRING"
                assert isinstance(parameter["value"], str)
                value = parameter["value"]
            got.append((primitive["name"], value))
        assert got == expected_day1(vdu_name), vdu_name
        day2 = {p["name"]: p for p in config["config-primitive"]}
        if vdu_name in primitives.PEERS:
            assert day2["wait-peer"]["parameter"] == [
                {"name": "step", "data-type": "STRING", "mandatory": False, "default-value": "1/1"}]
        else:
            assert "wait-peer" not in day2
        seen.add(vdu_name)
    assert seen == {"hss", "mme", "spgwc", "spgwu"}
