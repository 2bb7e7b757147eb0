"""``mecpool epc-resume NS --vdu V [--from PRIMITIVE]``: finish (or redo) an EPC VDU's day 1.

In OSM R8 a failed day-1 primitive is final: LCM marks the NS failed and runs
none of that VDU's remaining primitives.  Every OAI primitive is idempotent and
is also a day-2 primitive of the VNFD (mecpool.descriptors.primitives), so this
runs the VDU's day-1 list from the failed primitive on, in order, one
``osm ns-action --wait`` each.  The parameters OSM fills from the instantiation
(``<key>`` defaults of the day-2 primitives) are not sent again; only the fixed
ones are (wait-peer's step "i/M").
"""

from __future__ import annotations

import re
from collections import namedtuple

from mecpool.descriptors.primitives import CHARMS

from .errors import InputError
from .peaction import action_args

EPC_VDUS = ("hss", "mme", "spgwc", "spgwu")
# "execute primitive 'wait-build' params '{...}' ..." (osm_lcm/ns.py v8.0, instantiate_N2VC's step)
_FAILED = re.compile(r"execute primitive '([a-z0-9-]+)'")

# One ns-action of the plan: its position in the day-1 list (1-based), the list's
# length, the primitive and its fixed parameters.
Step = namedtuple("Step", "seq total name params")


def day1(vdu: str) -> list[Step]:
    primitives = CHARMS["oai-" + vdu].day1
    return [Step(seq, len(primitives), p.name,
                 {param.name: param.value for param in p.params if param.param is None})
            for seq, p in enumerate(primitives, 1)]


def plan(vdu: str, start: str | None) -> list[Step]:
    """The day-1 steps of ``vdu`` from the first ``start`` on (all of them when None).

    The day-1 wait-peer steps give up a fixed time after the VDU's last `build`
    (charmhelpers_mecpool.budget.DAY1_PEER_DEADLINE), so a plan with them starts
    with `build` again (a no-op when built) to restart that clock."""
    steps = day1(vdu)
    if start is None:
        return steps
    for index, step in enumerate(steps):
        if step.name == start:
            rest = steps[index:]
            if rest[0].name != "build" and any(s.name == "wait-peer" for s in rest):
                rest = [steps[0]] + rest
            return rest
    names = []
    for step in steps:
        if step.name not in names:
            names.append(step.name)
    raise InputError(f"--from: {start!r} is not a day-1 primitive of the {vdu} VDU ({', '.join(names)})")


def failed_primitive(detail: str, vdu: str) -> str | None:
    """The day-1 primitive OSM's error detail names, when it names exactly one of ``vdu``'s."""
    names = {step.name for step in day1(vdu)}
    found = {name for name in _FAILED.findall(detail or "") if name in names}
    return found.pop() if len(found) == 1 else None


def step_args(ns: str, member: str, vdu: str, step: Step, timeout: int) -> list[str]:
    return action_args(ns, member, vdu, 0, step.name, step.params, timeout)
