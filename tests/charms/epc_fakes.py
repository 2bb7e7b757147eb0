"""Test doubles for the charm workload seams (command runner, clock).

Used by tests/charms/test_lib_*.py and test_oai_*.py; the runner has the
signature of charmhelpers_mecpool.process.run and records every argv.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "charms" / "lib"
if str(LIB) not in sys.path:
    sys.path.insert(0, str(LIB))

from charmhelpers_mecpool.errors import CommandError  # noqa: E402
from charmhelpers_mecpool.process import Result  # noqa: E402


class FakeRunner(object):
    """Records calls; answers from rules matched by argv prefix (longest first).

    A rule value is a Result-like tuple (returncode, stdout, stderr) or a callable
    taking (argv, kwargs) and returning one.  Unmatched commands succeed with no output.
    """

    def __init__(self, rules=None):
        self.calls = []
        self.rules = dict(rules or {})

    def on(self, prefix, returncode=0, stdout="", stderr="", handler=None):
        self.rules[tuple(prefix)] = handler if handler else (returncode, stdout, stderr)
        return self

    def __call__(self, argv, **kwargs):
        assert isinstance(argv, list) and all(isinstance(a, str) for a in argv), argv
        self.calls.append((list(argv), dict(kwargs)))
        answer = (0, "", "")
        best = -1
        for prefix, value in self.rules.items():
            if tuple(argv[:len(prefix)]) == prefix and len(prefix) > best:
                best, answer = len(prefix), value
        if callable(answer):
            answer = answer(argv, kwargs)
        code, out, err = answer
        if code != 0 and kwargs.get("check", True):
            raise CommandError(argv, code, err)
        return Result(argv, code, out, err)

    @property
    def argvs(self):
        return [argv for argv, _ in self.calls]

    def count(self, prefix):
        return sum(1 for argv in self.argvs if tuple(argv[:len(prefix)]) == tuple(prefix))


class FakeClock(object):
    """time.monotonic/time.sleep pair: sleeping advances the clock."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
