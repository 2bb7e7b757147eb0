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


class RealNft(object):
    """`nft` on a fake VDU, answered by the real nft binary in a network namespace
    of its own (``unshare -rn``: no privileges, the host's rules untouched).

    ``nft -f PATH`` (PATH as the VDU sees it, read under ``root``) loads the file
    into a fresh namespace together with what was loaded before, so a file that
    deletes and recreates its table must leave the same state; ``nft list table``
    answers from that namespace.  ``loads`` counts the ``-f`` runs.
    """

    def __init__(self, root):
        import shutil
        self.root = str(root)
        self.loaded = []      # rooted paths of the files loaded so far, in order
        self.loads = 0
        self.binary = shutil.which("nft") or shutil.which("nft", path="/usr/sbin:/sbin") \
            or "/usr/sbin/nft"

    def forget(self):
        """Someone flushed the ruleset (or the VDU rebooted without the boot unit)."""
        self.loaded = []

    def __call__(self, argv, kwargs):
        import os
        import shlex
        import subprocess
        if argv[1:2] == ["-f"]:
            self.loaded.append(os.path.join(self.root, argv[2].lstrip("/")))
            self.loads += 1
            script = " && ".join("{} -f {}".format(self.binary, shlex.quote(p))
                                 for p in self.loaded)
        else:
            script = " && ".join(["{} -f {}".format(self.binary, shlex.quote(p))
                                  for p in self.loaded]
                                 + [" ".join([self.binary] + [shlex.quote(a) for a in argv[1:]])])
        done = subprocess.run(["unshare", "-rn", "sh", "-c", script], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True)
        if done.returncode != 0 and argv[1:2] == ["-f"]:
            self.loaded.pop()
        return done.returncode, done.stdout, done.stderr


def proc_hex(ip, port):
    """'172.16.6.129', 3868 -> the /proc/net/tcp form '810610AC:0F1C'."""
    import ipaddress
    import struct
    packed = ipaddress.IPv4Address(ip).packed
    return "{:08X}:{:04X}".format(struct.unpack("<I", packed)[0], port)


class FakeHost(object):
    """A VDU as the workload sees it through the runner and its root directory.

    * ``interfaces``: {ifname: [cidr...]} answered to ``ip -j addr show``;
    * systemd: units become active on start/restart (unless listed in ``failing``);
    * ``listeners``: [(proto, ip, port)] written to <root>/proc/net/{tcp,udp} and
      sctp/eps whenever something (re)starts (``on_start`` maps a unit to the
      listeners it opens); ``connections``: [(local_ip, lport, remote_ip, rport)].
    * every package counts as installed; git answers ``commit``.
    """

    def __init__(self, root, interfaces=None, commit="0123456789abcdef0123456789abcdef01234567",
                 real=("openssl",)):
        import os
        from charmhelpers_mecpool import process
        self.root = str(root)
        self.interfaces = dict(interfaces or {})
        self.commit = commit
        self.active = set()
        self.enabled = set()
        self.failing = set()
        self.listeners = []
        self.connections = []
        self.on_start = {}
        self.runner = FakeRunner()
        self.runner.on(["ip", "-j", "addr", "show"], handler=self._ip)
        self.runner.on(["dpkg-query"], handler=self._dpkg)
        self.runner.on(["git"], handler=self._git)
        for verb in ("is-active", "is-enabled", "restart", "start", "stop", "enable", "disable"):
            self.runner.on(["systemctl", verb], handler=self._systemctl)
        self.nft = RealNft(self.root)
        self.runner.on(["/usr/sbin/nft"], handler=self.nft)
        for binary in real:  # commands that run for real (e.g. openssl on temp files)
            self.runner.on([binary], handler=self._real(process.run))
        os.makedirs(os.path.join(self.root, "proc", "net", "sctp"), exist_ok=True)
        self.write_proc()

    @staticmethod
    def _real(run):
        def handler(argv, kwargs):
            result = run(argv, check=False, **dict((k, v) for k, v in kwargs.items()
                                                   if k != "check"))
            return result.returncode, result.stdout, result.stderr
        return handler

    def _ip(self, argv, kwargs):
        import json
        links = []
        for index, (name, cidrs) in enumerate(sorted(self.interfaces.items())):
            links.append({"ifname": name, "flags": ["UP"],
                          "address": "fa:16:3e:00:00:{:02x}".format(index + 3),
                          "addr_info": [{"family": "inet", "local": c.split("/")[0],
                                         "prefixlen": int(c.split("/")[1])} for c in cidrs]})
        return 0, json.dumps(links), ""

    def _dpkg(self, argv, kwargs):
        names = argv[4:]
        return 0, "".join("{} install ok installed\n".format(n) for n in names), ""

    def _git(self, argv, kwargs):
        if "rev-parse" in argv:
            return 0, self.commit + "\n", ""
        if "get-url" in argv:
            return 0, "", ""
        return 0, "", ""

    def _systemctl(self, argv, kwargs):
        verb, unit = argv[1], argv[-1]
        if verb == "is-active":
            return (0 if unit in self.active else 3), "", ""
        if verb == "is-enabled":
            return (0 if unit in self.enabled else 1), "", ""
        if verb in ("restart", "start"):
            if unit in self.failing:
                self.active.discard(unit)
                return 1, "", "Job for {} failed".format(unit)
            self.active.add(unit)
            for listener in self.on_start.get(unit, []):
                if listener not in self.listeners:
                    self.listeners.append(listener)
            self.write_proc()
        elif verb == "stop":
            self.active.discard(unit)
        elif verb == "enable":
            self.enabled.add(unit)
        elif verb == "disable":
            self.enabled.discard(unit)
        return 0, "", ""

    def write_proc(self):
        import os
        head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
        tcp, udp, sctp = [head], [head], [" ENDPT SOCK STY SST HBKT LPORT UID INODE LADDRS\n"]
        for proto, ip, port in self.listeners:
            if proto == "tcp":
                tcp.append("   0: {} 00000000:0000 0A 0\n".format(proc_hex(ip, port)))
            elif proto == "udp":
                udp.append("   0: {} 00000000:0000 07 0\n".format(proc_hex(ip, port)))
            else:
                sctp.append("0 0 2 10 29 {} 0 1 {}\n".format(port, ip))
        for lip, lport, rip, rport in self.connections:
            tcp.append("   1: {} {} 01 0\n".format(proc_hex(lip, lport), proc_hex(rip, rport)))
        base = os.path.join(self.root, "proc", "net")
        for name, lines in (("tcp", tcp), ("udp", udp), ("sctp/eps", sctp)):
            with open(os.path.join(base, name), "w") as handle:
                handle.write("".join(lines))

    def path(self, absolute):
        import os
        return os.path.join(self.root, absolute.lstrip("/"))

    def make_file(self, absolute, text=""):
        import os
        path = self.path(absolute)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
        return path


# ---- OAI sources: upstream templates from key-layout fixtures, a build runner ----

LAYOUTS = ROOT / "tests" / "charms" / "fixtures" / "oai-layouts"
# The pinned refs of site.example.yaml: (fixture stem, path in the checkout) per VDU.
SPDLOG_LINES = Path(__file__).resolve().parent / "fixtures" / "oai-spgw-spdlog-lines.txt"
PINNED = {
    "hss": [("hss-932f6f8d-hss_rel14.json", "etc/hss_rel14.json"),
            ("hss-932f6f8d-hss_rel14.conf", "etc/hss_rel14.conf")],
    "mme": [("mme-3bda02cd-mme.conf", "etc/mme.conf")],
    "spgwc": [("spgwc-4b4c60ac-spgw_c.conf", "etc/spgw_c.conf")],
    "spgwu": [("spgwu-fa782bbf-spgw_u.conf", "etc/spgw_u.conf")],
}


def template_from_layout(stem):
    """A template text with exactly the key layout of fixture ``stem``: placeholders
    (``@ANY@``) where the upstream file has unquoted ones, and list items twice
    (all keys; only the keys every item has) so optional keys stay optional."""
    import json
    data = json.loads((LAYOUTS / (stem + ".json")).read_text())
    kinds, optional = data["kinds"], set(data["optional"])
    scalars = {"string": "x", "integer": 1, "float": 1.5, "boolean": True, "any": "@@ANY@@"}

    def build(prefix, keep_optional=True):
        node = {}
        for path, kind in kinds.items():
            if not path.startswith(prefix) or path == prefix.rstrip("."):
                continue
            rest = path[len(prefix):]
            if "." in rest.replace("[]", "", 0) and rest.split(".")[0] != rest:
                continue
            if not keep_optional and path in optional:
                continue
            if "." in rest or "[]" in rest:
                continue
            node[rest] = value(path, kind)
        return node

    def value(path, kind):
        if kind in scalars:
            return scalars[kind]
        if kind == "group":
            return build(path + ".")
        items = [p for p in kinds if p.startswith(path + "[].")]
        if kind == "array" and not items:
            return ["x"]
        if not items:
            return ()
        full, required = build(path + "[]."), build(path + "[].", keep_optional=False)
        return (full, required) if full != required else (full,)

    tree = build("")
    if data["parser"] == "json":
        text = json.dumps(tree, default=lambda t: list(t))
    else:
        import libconf
        text = libconf.dumps(tree)
    return text.replace('"@@ANY@@"', "@ANY@")


def install_templates(src_dir, vdu, stems=None):
    """Put the pinned ref's templates (or ``stems``) into a checkout."""
    import os
    for stem, relative in (stems or PINNED[vdu]):
        path = os.path.join(str(src_dir), relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(template_from_layout(stem))
    if vdu in ("spgwc", "spgwu"):   # the lines the charms pin spdlog in
        path = os.path.join(str(src_dir), "build", "scripts", "build_helper.spgw")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(SPDLOG_LINES.read_text())


def attach_workload(host, module, class_name, vdu, **kwargs):
    """An OAI workload on ``host``: a FakeBuildRunner on its fake clock, the pinned ref's
    templates in its checkout; returns the workload (also ``host.workload``)."""
    host.builds = FakeBuildRunner(host, host.clock)
    install_templates(host.path(module.SOURCE_DIR), vdu)
    host.workload = getattr(module, class_name)(
        build_runner=host.builds, run=host.runner, root=host.root, mac_lookup=lambda a: None,
        sleep=host.clock.sleep, clock=host.clock, **kwargs)
    return host.workload


class FakeBuildRunner(object):
    """buildrunner.SystemdBuildRunner's seam: a build that takes ``duration``
    seconds of the fake clock, then runs its steps through the host's runner
    (whose handlers make the binaries) or fails at step ``fail_at``.
    ``restarted()`` is the same VDU after the charm's machine restarted mid-build:
    the state on disk says running, the build process is gone."""

    def __init__(self, host, clock, duration=0, fail_at=None):
        import os
        self.host = host
        self.clock = clock
        self.duration = duration
        self.fail_at = fail_at
        self.path = os.path.join(host.root, "fake-build.json")
        self.starts = []
        self.alive = False

    def _save(self, data):
        import json
        with open(self.path, "w") as handle:
            json.dump(data, handle)

    def _load(self):
        import json
        import os
        if not os.path.exists(self.path):
            return None
        with open(self.path) as handle:
            return json.load(handle)

    def start(self, commit, steps, src_dir):
        self.starts.append(commit)
        self.alive = True
        self._save({"commit": commit, "started": self.clock(), "steps": len(steps),
                    "argvs": [s.argv for s in steps], "cwds": [s.cwd for s in steps],
                    "src": src_dir, "result": None})

    def stop(self):
        self.alive = False

    def restarted(self):
        """A new runner for the same disk (the old process is gone)."""
        twin = FakeBuildRunner(self.host, self.clock, self.duration, self.fail_at)
        return twin

    def status(self):
        import os
        from charmhelpers_mecpool.buildrunner import NO_BUILD, BuildStatus
        data = self._load()
        if data is None:
            return NO_BUILD
        steps = data["steps"]
        if data["result"] is None:
            if not self.alive:
                return BuildStatus("interrupted", data["commit"], 1, steps, "", data["started"], None, None)
            elapsed = self.clock() - data["started"]
            if elapsed < self.duration:
                step = min(steps, 1 + int(elapsed * steps // max(self.duration, 1)))
                return BuildStatus("running", data["commit"], step, steps, "", data["started"], None, None)
            result = {"state": "succeeded", "step": steps, "code": 0}
            for number, (argv, cwd) in enumerate(zip(data["argvs"], data["cwds"]), 1):
                if number == self.fail_at:
                    result = {"state": "failed", "step": number, "code": 2}
                    self.log = "compiling...\nerror: asn1c not found\n"
                    break
                self.host.runner(argv, cwd=os.path.join(data["src"], cwd))
            data["result"] = result
            self._save(data)
            self.alive = False
        result = data["result"]
        return BuildStatus(result["state"], data["commit"], result["step"], steps,
                           " ".join(data["argvs"][result["step"] - 1]), 0, 1, result["code"])

    def log_tail(self, lines=8):
        return getattr(self, "log", "").splitlines()[-lines:]
