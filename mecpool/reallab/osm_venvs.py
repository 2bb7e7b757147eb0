"""OSM Release EIGHT's components in their own virtualenvs on Python 3.6.15 (R8's Python; they pass
`loop=` to asyncio, which 3.10 removed), cached under $MECPOOL_CACHE/reallab/osm-venvs.

Three venvs, each keyed by every input (the Python's version, pip's bootstrap pins, the pin lists'
text, the OSM archives' sha256s and what is installed from them):
  ro      RO v8.0 with its plugin base and the OpenStack VIM plugin (pycryptodome, PyMySQL)
  lcm     NBI, LCM, N2VC, common and IM (pycrypto 2.6.1: it clashes with RO's crypto library)
  client  osmclient v8 (the `osm` CLI) with IM

Third-party packages come from PyPI, all pinned (osm_pins/*.txt) so pip does not backtrack; OSM's own
are pip-installed from the unpacked archives with --no-deps (their install_requires name OSM's git,
unreachable here).  Their setup.py files take the version from `git describe` (setuptools-version-
command) and the archives have no .git: we write the `<dist>.egg-info/version.txt` that tool reads.

A venv is not relocatable (its scripts name their interpreter by path), so it is built in place under
a lock and marked complete last (`ready.json`); a directory without that mark is removed and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from mecpool.vdulab.image import cache_lock

from . import osm_sources
from .sandbox import SYSTEM_PATH

# Bump when the build steps change in a way the inputs below do not show.
FORMAT = "1"
PYTHON_VERSION = "3.6.15"
PYTHON_ENV = "MECPOOL_PYTHON36"
# The last pip, setuptools and wheel for Python 3.6.
BOOTSTRAP = ("pip==21.3.1", "setuptools==59.6.0", "wheel==0.37.1")
# What setuptools-version-command would have read from `git describe` at the tag.
OSM_VERSION = "8.0.1rc1"
PINS_DIR = Path(__file__).with_name("osm_pins")
LogFn = Callable[[str], None]


class VenvError(RuntimeError):
    """A venv could not be built; the message names the step and has the end of its log."""


@dataclass(frozen=True)
class Install:
    """One OSM setup.py to pip-install: its archive, the directory in it, the setup() name."""
    component: str
    subdir: str
    dist: str


@dataclass(frozen=True)
class VenvSpec:
    name: str
    pins: tuple[str, ...]                 # files in osm_pins/, in order
    installs: tuple[Install, ...]
    smoke: str                            # Python run after the install: the modules import
    # `pip check` lines that are expected, with why: a requirement we replaced on purpose.
    expected_check: tuple[str, ...] = ()


IM = Install("im", "", "osm_im")
SPECS = {s.name: s for s in (
    VenvSpec("ro", ("common.txt", "ro.txt"),
             (IM, Install("ro", "RO-plugin", "osm_ro_plugin"), Install("ro", "RO-VIM-openstack", "osm_rovim_openstack"),
              Install("ro", "RO", "osm_ro")),
             "import pymysql; pymysql.install_as_MySQLdb(); import osm_ro.openmanod, "
             "osm_rovim_openstack.vimconn_openstack",
             # PyMySQL stands in for mysqlclient (osm_ro's install_requires names it)
             expected_check=("osm-ro 8.0.1rc1 requires mysqlclient, which is not installed.",)),
    VenvSpec("lcm", ("common.txt", "lcm.txt"),
             (IM, Install("common", "", "osm_common"), Install("n2vc", "", "N2VC"), Install("lcm", "", "osm_lcm"),
              Install("nbi", "", "osm_nbi")),
             "import osm_lcm.lcm, osm_nbi.nbi, osm_common.dbmemory, osm_im.vnfd"),
    VenvSpec("client", ("common.txt", "client.txt"),
             (IM, Install("osmclient", "", "osmclient")),
             "import osmclient.scripts.osm, osm_im.validation"),
)}


@dataclass(frozen=True)
class Venv:
    name: str
    key: str
    root: Path        # <cache>/reallab/osm-venvs/<name>-<key16>
    warm: bool
    seconds: float

    @property
    def python(self) -> Path:
        return self.root / "venv" / "bin" / "python"

    @property
    def bin(self) -> Path:
        return self.root / "venv" / "bin"

    def source(self, component: str, subdir: str = "") -> Path:
        """An OSM component's unpacked source (kept: RO's database scripts are run from it)."""
        top = self.root / "src" / osm_sources.COMPONENTS[component].top
        return top / subdir if subdir else top


def find_python(environ: dict | None = None, home: Path | None = None) -> Path:
    """Python 3.6.15: $MECPOOL_PYTHON36, else pyenv's (PYENV_ROOT or ~/.pyenv), else python3.6 on PATH."""
    env = os.environ if environ is None else environ
    home = home or Path.home()
    candidates = []
    if env.get(PYTHON_ENV):
        candidates.append(Path(env[PYTHON_ENV]))
    roots = [Path(env["PYENV_ROOT"])] if env.get("PYENV_ROOT") else []
    roots.append(home / ".pyenv")
    candidates += [r / "versions" / PYTHON_VERSION / "bin" / "python3.6" for r in roots]
    which = shutil.which("python3.6", path=env.get("PATH", ""))
    if which:
        candidates.append(Path(which))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise VenvError(f"Python {PYTHON_VERSION} not found (looked at {', '.join(str(c) for c in candidates)}): "
                    f"OSM Release EIGHT needs Python 3.6 (`pyenv install {PYTHON_VERSION}`, or set ${PYTHON_ENV})")


def python_version(python: Path) -> str:
    done = subprocess.run([str(python), "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0 or not done.stdout.strip().startswith("3.6."):
        raise VenvError(f"{python} is not a Python 3.6 ({(done.stdout or done.stderr).strip()})")
    return done.stdout.strip()


def pins_text(spec: VenvSpec, pins_dir: Path = PINS_DIR) -> str:
    return "".join((pins_dir / name).read_text() for name in spec.pins)


def requirement_lines(text: str) -> list[str]:
    """The requirement lines of a pins text (comments and blank lines dropped)."""
    lines = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def check_pins(text: str, where: str) -> None:
    """Every line `name==version` (an environment marker may follow), no name twice: a bad line is
    refused before anything is built."""
    seen: dict[str, str] = {}
    for line in requirement_lines(text):
        spec = line.split(";", 1)[0].strip()
        name, sep, version = spec.partition("==")
        if not sep or not name.strip() or not version.strip() or any(c in version for c in "<>=!~ ,*"):
            raise VenvError(f"{where}: '{line}' is not pinned as name==version")
        norm = name.strip().lower().replace("_", "-").replace(".", "-")
        if norm in seen and ";" not in line:
            raise VenvError(f"{where}: {name.strip()} is pinned twice ({seen[norm]} and {version.strip()})")
        seen[norm] = version.strip()


def cache_key(spec: VenvSpec, pins: str, python_version_: str, archive_sha256: dict[str, str]) -> str:
    used = sorted({i.component for i in spec.installs})
    text = json.dumps({"format": FORMAT, "python": python_version_, "bootstrap": list(BOOTSTRAP),
                       "pins": pins, "osm_version": OSM_VERSION, "smoke": spec.smoke,
                       "installs": [[i.component, i.subdir, i.dist] for i in spec.installs],
                       "archives": {c: archive_sha256[c] for c in used}}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def version_files(source: Path, dist: str, version: str = OSM_VERSION) -> dict[Path, str]:
    """The files setuptools-version-command reads when `git describe` fails."""
    egg = source / f"{dist}.egg-info"
    return {egg / "version.txt": version + "\n", egg / "version_full.txt": version + "\n"}


def unexpected_check_lines(output: str, expected: tuple[str, ...]) -> list[str]:
    """`pip check`'s complaints that are not the expected ones."""
    return [line for line in output.splitlines()
            if line.strip() and line.strip() not in expected and not line.startswith("No broken requirements")]


def pip_install_argv(python: Path, *args: str) -> list[str]:
    return [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
            "--progress-bar", "off", *args]


class _Builder:
    def __init__(self, root: Path, nice: int, log: LogFn):
        self.root = root
        self.nice = nice
        self.log = log
        self.logfile = root / "build.log"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYENV_VERSION", "PIP_REQUIRE_VIRTUALENV")}
        # pyang (osm_im's setup.py runs it) and curl-config (pycurl's build) on PATH, not pyenv's shims
        env["PATH"] = f"{self.root / 'venv' / 'bin'}:{SYSTEM_PATH}"
        return env

    def run(self, step: str, argv: list[str], cwd: Path | None = None, timeout: float = 3600) -> None:
        """One build step, its output appended to build.log as it comes (a cold build takes minutes)."""
        started = time.monotonic()
        with open(self.logfile, "a") as log:
            log.write(f"\n### {step}: {' '.join(argv)}\n")
            log.flush()
            start_size = self.logfile.stat().st_size
            done = subprocess.run(argv, cwd=cwd, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                  timeout=timeout,
                                  preexec_fn=lambda: os.setpriority(os.PRIO_PROCESS, 0, self.nice))
        if done.returncode != 0:
            with open(self.logfile, errors="replace") as log:
                log.seek(start_size)
                tail = log.read()[-3000:]
            raise VenvError(f"{self.root.name}: {step} failed ({done.returncode}); end of {self.logfile}:\n{tail}")
        self.log(f"reallab osm: {self.root.name}: {step}: {time.monotonic() - started:.0f} s")


def ensure(spec: VenvSpec, cache_root: Path, archives: dict[str, Path], python: Path, log: LogFn,
           nice: int = 10) -> Venv:
    """The venv of `spec`, built once per key."""
    started = time.monotonic()
    pins = pins_text(spec)
    check_pins(pins, f"osm_pins {'+'.join(spec.pins)}")
    version = python_version(python)
    sha = {name: osm_sources.sha256_of(path) for name, path in archives.items()}
    missing = sorted({i.component for i in spec.installs} - set(sha))
    if missing:
        raise VenvError(f"venv {spec.name}: no archive for {missing}")
    key = cache_key(spec, pins, version, sha)
    base = cache_root / "reallab" / "osm-venvs"
    base.mkdir(parents=True, exist_ok=True)
    root = base / f"{spec.name}-{key[:16]}"
    with cache_lock(base / f".{spec.name}.lock"):
        if (root / "ready.json").is_file():
            return Venv(spec.name, key, root, True, round(time.monotonic() - started, 1))
        if root.exists():
            shutil.rmtree(root)          # a build that died: we hold the lock, none is in progress
        root.mkdir(parents=True)
        log(f"reallab osm: building venv {spec.name} in {root} (log: {root / 'build.log'})")
        _build(spec, root, pins, python, archives, _Builder(root, nice, log))
        seconds = round(time.monotonic() - started, 1)
        (root / "ready.json").write_text(json.dumps({"key": key, "python": version, "build_s": seconds}) + "\n")
    return Venv(spec.name, key, root, False, seconds)


def _build(spec: VenvSpec, root: Path, pins: str, python: Path, archives: dict[str, Path], b: _Builder) -> None:
    venv_python = root / "venv" / "bin" / "python"
    b.run("venv", [str(python), "-m", "venv", str(root / "venv")])
    b.run("pip, setuptools, wheel", pip_install_argv(venv_python, *BOOTSTRAP))
    (root / "pins.txt").write_text(pins)
    b.run("pinned requirements", pip_install_argv(venv_python, "--prefer-binary", "-r", str(root / "pins.txt")))
    unpacked = {}
    for install in spec.installs:
        component = osm_sources.COMPONENTS[install.component]
        if install.component not in unpacked:
            unpacked[install.component] = osm_sources.unpack(archives[install.component], component, root / "src")
        source = unpacked[install.component] / install.subdir if install.subdir else unpacked[install.component]
        for path, text in version_files(source, install.dist).items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        b.run(f"OSM {install.dist}", pip_install_argv(venv_python, "--no-deps", "--no-build-isolation",
                                                      str(source)), cwd=source)
    check = subprocess.run([str(venv_python), "-m", "pip", "check"], capture_output=True, text=True,
                           env=b.env(), timeout=300)
    (root / "pip-check.txt").write_text(check.stdout + check.stderr)
    bad = unexpected_check_lines(check.stdout, spec.expected_check)
    if check.returncode != 0 and bad:
        raise VenvError(f"venv {spec.name}: pip check: " + "; ".join(bad[:20]))
    b.run("import check", [str(venv_python), "-c", spec.smoke], cwd=root)
    freeze = subprocess.run([str(venv_python), "-m", "pip", "freeze", "--all"], capture_output=True, text=True,
                            env=b.env(), timeout=300)
    (root / "freeze.txt").write_text(freeze.stdout)


def ensure_all(cache_root: Path, sources: Path, log: LogFn, names: tuple[str, ...] = ("lcm", "ro", "client"),
               nice: int = 10, workers: int = 2) -> dict[str, Venv]:
    """Every venv named, checking the OSM archives first (one error naming what is missing).  Two
    builds side by side: pip spends much of a cold build waiting on downloads or one compiler."""
    needed = tuple(sorted({i.component for n in names for i in SPECS[n].installs}))
    archives = osm_sources.check(sources, needed)
    python = find_python()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(ensure, SPECS[name], cache_root, archives, python, log, nice) for name in names}
        return {name: future.result() for name, future in futures.items()}
