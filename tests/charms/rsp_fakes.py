"""A simulated VDU for the RSerPool workload tests: systemctl, ip, hsdump.

Built on epc_fakes.FakeRunner (the runner seam of charmhelpers_mecpool).  The
service comes up after ``systemctl restart`` unless ``fails(unit_text)`` says
the unit would not start, which is how the tests reach the rollback paths.
"""

from pathlib import Path

from epc_fakes import FakeRunner

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def ip_addr_output(addresses):
    lines = ["1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever"]
    for index, address in enumerate(addresses, 2):
        family = "inet6" if ":" in address else "inet"
        prefix = 64 if ":" in address else 24
        lines.append("{}: ens{}    {} {}/{} scope global ens{}\\       valid_lft forever".format(
            index, index, family, address, prefix, index))
    return "\n".join(lines) + "\n"


class FakeVdu(object):
    """State of one VDU's systemd as the fake runner sees it."""

    def __init__(self, unit_dir, addresses=("10.1.0.2",), hsdump_output="", hsdump_code=0):
        self.unit_dir = Path(unit_dir)
        self.active = {}
        self.masked = set()
        self.fails = lambda unit_text: False
        self.hsdump_output = hsdump_output
        self.hsdump_code = hsdump_code
        self.hsdump_stderr = ""
        self.hsdump_by_endpoint = {}  # "ADDR:9901" -> (code, stdout, stderr)
        self.runner = FakeRunner()
        self.runner.on(["ip", "-o", "addr", "show"], stdout=ip_addr_output(addresses))
        self.runner.on(["systemctl", "is-active"], handler=self._is_active)
        self.runner.on(["systemctl", "is-enabled"], handler=self._is_enabled)
        self.runner.on(["systemctl", "restart"], handler=self._restart)
        self.runner.on(["systemctl", "show", "--property=MainPID", "--value"], handler=self._main_pid)
        self.pids = {}   # unit -> its main PID while active (default 4242)
        self.runner.on(["systemctl", "stop"], handler=self._stop)
        self.runner.on(["systemctl", "mask"], handler=self._mask)
        self.runner.on(["hsdump"], handler=self._hsdump)
        self.runner.on(["journalctl"], stdout="rspserver: bind failed\n")

    def _is_active(self, argv, kwargs):
        return (0 if self.active.get(argv[-1]) else 3, "", "")

    def _main_pid(self, argv, kwargs):
        return (0, "{}\n".format(self.pids.get(argv[-1], 4242) if self.active.get(argv[-1]) else 0), "")

    def _is_enabled(self, argv, kwargs):
        if argv[-1] in self.masked:
            return (1, "masked\n", "")
        return (0, "enabled\n", "")

    def _restart(self, argv, kwargs):
        name = argv[-1]
        unit = self.unit_dir / name
        text = unit.read_text() if unit.is_file() else ""
        self.active[name] = bool(text) and not self.fails(text)
        return (0, "", "")

    def _stop(self, argv, kwargs):
        self.active[argv[-1]] = False
        return (0, "", "")

    def _mask(self, argv, kwargs):
        self.masked.add(argv[-1])
        return (0, "", "")

    def _hsdump(self, argv, kwargs):
        if argv[1] in self.hsdump_by_endpoint:
            return self.hsdump_by_endpoint[argv[1]]
        return (self.hsdump_code, self.hsdump_output, self.hsdump_stderr)

    def route(self, destination, source):
        """Make ``ip -o route get destination`` answer with ``src source``."""
        self.runner.on(["ip", "-o", "route", "get", destination],
                       stdout="{} dev ens3 src {} uid 0 \\    cache \n".format(destination, source))

    def restarts(self, name):
        return self.runner.count(["systemctl", "restart", name])


def fixture_text(name):
    return (FIXTURES / name).read_text()


class FakeWorkload(object):
    """Stands in for a charm's workload object at the seam.

    Only the public methods of ``spec`` (the real workload class) exist, so a
    charm calling a method the workload lacks fails here too.  ``results``
    maps a method to its return value, ``errors`` to the exception it raises.
    """

    def __init__(self, spec, status=("blocked", "run the 'configure' action")):
        self._spec = spec
        self.calls = []
        self.results = {}
        self.errors = {}
        self.hooks = {}   # method -> callable run when it is called (e.g. to read the unit status then)
        self.status_value = status

    def __getattr__(self, name):
        if name.startswith("_") or not callable(getattr(self._spec, name, None)):
            raise AttributeError("{} has no method {!r}".format(self._spec.__name__, name))

        def method(*args):
            self.calls.append((name,) + args)
            if name in self.hooks:
                self.hooks[name]()
            if name in self.errors:
                raise self.errors[name]
            if name == "status":
                return self.status_value
            return self.results.get(name)
        return method

    def called(self, name):
        return [call[1:] for call in self.calls if call[0] == name]
