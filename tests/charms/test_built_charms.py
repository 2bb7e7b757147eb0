"""Built charm directories (mecpool.packaging.charms): complete, vendored, reproducible."""

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import charmtest
from mecpool.packaging import charms

REPO = charmtest.REPO
EXISTING = charms.existing_charms(REPO)


@pytest.fixture(scope="module")
def built(tmp_path_factory, vendor_dir):
    out = tmp_path_factory.mktemp("charms")
    return dict((name, charms.build_charm(name, REPO, out, vendor_dir)) for name in EXISTING)


def test_the_pool_charms_exist():
    assert "rsp-registrar" in EXISTING and "rsp-pool-element" in EXISTING
    assert set(EXISTING) <= set(charms.CHARMS)


@pytest.mark.parametrize("name", EXISTING)
def test_layout_metadata_and_actions(built, name):
    charm = built[name]
    source = REPO / "charms" / name
    metadata = yaml.safe_load((charm / "metadata.yaml").read_text())
    assert metadata["name"] == name
    assert metadata["series"] and set(metadata["series"]) <= {"bionic", "focal"}
    assert (charm / "actions.yaml").read_bytes() == (source / "actions.yaml").read_bytes()
    assert isinstance(yaml.safe_load((charm / "actions.yaml").read_text()), dict)
    if (source / "config.yaml").exists():
        assert (charm / "config.yaml").read_bytes() == (source / "config.yaml").read_bytes()
    for path in sorted(source.joinpath("src").rglob("*.py")):
        copied = charm / "src" / path.relative_to(source / "src")
        assert copied.read_bytes() == path.read_bytes()
    if (source / "templates").is_dir():
        assert sorted(p.name for p in (charm / "templates").iterdir()) == sorted(
            p.name for p in (source / "templates").iterdir() if not p.name.startswith("."))
    for entry in ("dispatch", "hooks/install", "src/charm.py"):
        mode = (charm / entry).stat().st_mode
        assert mode & stat.S_IXUSR and mode & stat.S_IXOTH, entry
    dispatch = (charm / "dispatch").read_text()
    assert dispatch.startswith("#!/bin/sh\n")
    assert 'PYTHONPATH="$charm_dir/lib:$charm_dir/src' in dispatch
    assert 'exec python3 "$charm_dir/src/charm.py"' in dispatch


@pytest.mark.parametrize("name", EXISTING)
def test_no_bytecode_no_binaries_no_caches(built, name):
    for path in built[name].rglob("*"):
        assert path.name != "__pycache__" and path.suffix not in (".pyc", ".pyo", ".so"), path
        assert not path.is_symlink(), path


@pytest.mark.parametrize("name", EXISTING)
def test_vendored_lib_imports_alone(built, name):
    """ops 1.5.4 and every dependency import from lib/ with no site-packages at all."""
    lib = built[name] / "lib"
    code = (
        "import sys; sys.path[:0] = [{lib!r}]\n"
        "import ops, ops.main, yaml, jinja2, markupsafe, charmhelpers_mecpool, mecpool.rserpool\n"
        "import charmhelpers_mecpool.systemd, mecpool.rserpool.configure, mecpool.rserpool.hsdump\n"
        "import charmhelpers_mecpool_ops.base as base\n"
        "import ops.version\n"
        "for m in (ops, yaml, jinja2, markupsafe, charmhelpers_mecpool, mecpool.rserpool, base):\n"
        "    assert (m.__file__ or '').startswith({lib!r}), m.__file__\n"
        "print(ops.version.version, yaml.__version__, jinja2.__version__, markupsafe.__version__)\n"
    ).format(lib=str(lib))
    # -I: ignore PYTHONPATH and user site; -S: no site-packages.
    result = subprocess.run([sys.executable, "-I", "-S", "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, timeout=120)
    assert result.returncode == 0, result.stdout
    assert result.stdout.split() == ["1.5.4", "6.0.1", "3.0.3", "2.0.1"]


@pytest.mark.parametrize("name", EXISTING)
def test_charm_class_loads_from_the_built_directory_alone(built, name):
    """src/charm.py's class is a WorkloadCharm of lib/'s ops 1.5.4, with its actions.yaml."""
    charm = built[name]
    code = (
        "import sys; sys.path[:0] = [{lib!r}, {src!r}]\n"
        "import charm, ops.charm, ops.version\n"
        "from charmhelpers_mecpool_ops.base import WorkloadCharm\n"
        "classes = [c for c in vars(charm).values() if isinstance(c, type)\n"
        "           and issubclass(c, WorkloadCharm) and c.__module__ == 'charm']\n"
        "assert len(classes) == 1, classes\n"
        "assert ops.charm.__file__.startswith({lib!r}), ops.charm.__file__\n"
        "print(ops.version.version, classes[0].__name__)\n"
    ).format(lib=str(charm / "lib"), src=str(charm / "src"))
    result = subprocess.run([sys.executable, "-I", "-S", "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, timeout=120)
    assert result.returncode == 0, result.stdout
    version, class_name = result.stdout.split()
    assert version == "1.5.4"
    assert class_name.lower() == name.replace("-", "") + "charm"


@pytest.mark.parametrize("name", EXISTING)
def test_shared_code_is_the_repositorys(built, name):
    lib = built[name] / "lib"
    for package, target in ((REPO / "charms" / "lib" / "charmhelpers_mecpool",
                             lib / "charmhelpers_mecpool"),
                            (REPO / "charms" / "lib" / "charmhelpers_mecpool_ops",
                             lib / "charmhelpers_mecpool_ops"),
                            (REPO / "mecpool" / "rserpool", lib / "mecpool" / "rserpool")):
        sources = sorted(p.relative_to(package) for p in package.rglob("*.py")
                         if "__pycache__" not in p.parts)
        assert sorted(p.relative_to(target) for p in target.rglob("*.py")) == sources
        for relative in sources:
            assert (target / relative).read_bytes() == (package / relative).read_bytes()
    # mecpool stays a namespace package: nothing of mecpool but rserpool ships.
    assert sorted(p.name for p in (lib / "mecpool").iterdir()) == ["rserpool"]


def snapshot(root):
    entries = []
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        entries.append((str(path.relative_to(root)), stat.S_IMODE(info.st_mode), info.st_mtime,
                        path.read_bytes() if path.is_file() else None))
    return entries


def test_builds_are_reproducible(tmp_path, vendor_dir):
    first = charms.build_charm("rsp-pool-element", REPO, tmp_path / "a", vendor_dir)
    second = charms.build_charm("rsp-pool-element", REPO, tmp_path / "b", vendor_dir)
    assert snapshot(first) == snapshot(second)
    assert all(entry[2] == charms.FIXED_MTIME for entry in snapshot(first))
    # Rebuilding in place replaces the old directory completely.
    (first / "stale.txt").write_text("left over")
    charms.build_charm("rsp-pool-element", REPO, tmp_path / "a", vendor_dir)
    assert snapshot(first) == snapshot(second)


def test_vendor_cache_is_reused_without_pip(tmp_path, vendor_dir):
    again = charms.ensure_vendor(vendor_dir.parent, REPO, pip_command=["false"])
    assert again == vendor_dir


def source_copy(tmp_path, name="rsp-registrar"):
    root = tmp_path / "src"
    shutil.copytree(str(REPO / "charms" / name), str(root / "charms" / name))
    shutil.copytree(str(REPO / "charms" / "lib"), str(root / "charms" / "lib"))
    shutil.copytree(str(REPO / "mecpool" / "rserpool"), str(root / "mecpool" / "rserpool"))
    shutil.copy(str(REPO / "charms" / "requirements.txt"), str(root / "charms"))
    return root


@pytest.mark.parametrize("breakage, message", [
    (lambda c: (c / "metadata.yaml").unlink(), "missing metadata.yaml"),
    (lambda c: (c / "actions.yaml").unlink(), "missing actions.yaml"),
    (lambda c: (c / "src" / "charm.py").unlink(), "missing src/charm.py"),
    (lambda c: (c / "metadata.yaml").write_text("name: rsp-registrar\n"), "series must be"),
    (lambda c: (c / "metadata.yaml").write_text("name: other\nseries: [focal]\n"),
     "must be the directory name"),
    (lambda c: (c / "metadata.yaml").write_text("name: [unclosed\n"), "not valid YAML"),
    (lambda c: (c / "actions.yaml").write_text("- a list\n"), "actions.yaml: must be a mapping"),
])
def test_incomplete_sources_fail_with_a_clear_message(tmp_path, vendor_dir, breakage, message):
    root = source_copy(tmp_path)
    breakage(root / "charms" / "rsp-registrar")
    with pytest.raises(charms.CharmBuildError, match=message):
        charms.build_charm("rsp-registrar", root, tmp_path / "out", vendor_dir)
    assert not (tmp_path / "out" / "rsp-registrar").exists()


@pytest.mark.parametrize("shared", ["charmhelpers_mecpool", "charmhelpers_mecpool_ops"])
def test_unknown_charm_and_missing_shared_code(tmp_path, vendor_dir, shared):
    with pytest.raises(charms.CharmBuildError, match="is not one of the charms"):
        charms.build_charm("rsp-registar", REPO, tmp_path / "out", vendor_dir)
    root = source_copy(tmp_path)
    shutil.rmtree(str(root / "charms" / "lib" / shared))
    with pytest.raises(charms.CharmBuildError, match=shared + ": the shared package is missing"):
        charms.build_charm("rsp-registrar", root, tmp_path / "out", vendor_dir)
    assert not (tmp_path / "out" / "rsp-registrar").exists()
    with pytest.raises(charms.CharmBuildError, match="not a complete vendor cache"):
        charms.build_charm("rsp-registrar", REPO, tmp_path / "out", tmp_path)


def test_pip_failure_is_reported(tmp_path):
    root = tmp_path / "src"
    (root / "charms").mkdir(parents=True)
    (root / "charms" / "requirements.txt").write_text("ops==1.5.4\n")
    with pytest.raises(charms.CharmBuildError, match="pip could not vendor"):
        charms.ensure_vendor(tmp_path / "vendor", root, pip_command=["false"])
    assert list((tmp_path / "vendor").iterdir()) == []
    (root / "charms" / "requirements.txt").write_text("# nothing\n")
    with pytest.raises(charms.CharmBuildError, match="lists no requirement"):
        charms.ensure_vendor(tmp_path / "vendor", root)


FAKE_TOOL = """#!{python}
# Stands in for a Juju hook tool or a system command; logs its argv as JSON.
import json, os, sys
name = os.path.basename(sys.argv[0])
with open(os.environ["FAKE_TOOL_LOG"], "a") as log:
    log.write(json.dumps([name] + sys.argv[1:]) + "\\n")
if name == "action-get":
    print(os.environ.get("FAKE_ACTION_PARAMS", "{{}}"))
elif name == "config-get":
    print(os.environ.get("FAKE_CONFIG", "{{}}"))
elif name == "is-leader":
    print("true")
elif name == "systemctl" and sys.argv[1] in ("is-active", "is-enabled"):
    sys.exit(3)
"""
HOOK_TOOLS = ("juju-log", "status-set", "status-get", "action-get", "action-set", "action-fail",
              "action-log", "config-get", "is-leader", "application-version-set")
# The install hook's workload commands: never the host's own.
SYSTEM_TOOLS = ("apt-get", "dpkg-query", "systemctl", "ip", "journalctl", "hsdump")


def fake_juju(tmp_path):
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in HOOK_TOOLS + SYSTEM_TOOLS:
        (tools / name).write_text(FAKE_TOOL.format(python=sys.executable))
        (tools / name).chmod(0o755)
    return tools


def run_dispatch(charm, tools, log, dispatch_path, **extra):
    env = {"PATH": "{}:/usr/bin:/bin".format(tools), "FAKE_TOOL_LOG": str(log),
           "JUJU_CHARM_DIR": str(charm), "JUJU_UNIT_NAME": charm.name + "/0",
           "JUJU_MODEL_NAME": "mecpool", "JUJU_VERSION": "2.8.0",
           "JUJU_DISPATCH_PATH": dispatch_path}
    env.update(extra)
    result = subprocess.run([str(charm / "dispatch")], cwd=str(charm), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=120)
    calls = [yaml.safe_load(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, calls


@pytest.mark.parametrize("name", ["rsp-registrar", "rsp-pool-element"])
def test_dispatch_runs_hooks_and_actions_like_juju_2_8(built, tmp_path, name):
    """Juju 2.8 runs ./dispatch; ops 1.5.4 from lib/ maps it to the charm's handlers."""
    charm = tmp_path / name
    shutil.copytree(str(built[name]), str(charm))  # ops writes .unit-state.db here
    tools = fake_juju(tmp_path)

    result, calls = run_dispatch(charm, tools, tmp_path / "hook.log", "hooks/install")
    assert result.returncode == 0, result.stdout
    assert ["apt-get", "update"] in calls
    # Before OSM's day-1 primitive the pool charms wait (nothing is wrong yet); the EPC charms block.
    before_day1 = (["waiting", "waiting for OSM's day-1 'configure' action"] if name.startswith("rsp-")
                   else ["blocked", "run the 'configure' action"])
    assert ["status-set", "--application=False", *before_day1] in calls
    logged = [call[-1] for call in calls if call[0] == "juju-log"]
    assert "Operator Framework 1.5.4 up and running." in logged
    # ops ran hooks/install as the legacy hook; it re-entered dispatch, which returned at once.
    assert "Running legacy hooks/install." in logged
    assert "Charm called itself via hooks/install." in logged

    result, calls = run_dispatch(charm, tools, tmp_path / "action.log", "actions/restart",
                                 JUJU_ACTION_NAME="restart", JUJU_ACTION_UUID="1")
    assert result.returncode == 0, result.stdout
    assert ["action-fail", "not configured yet: run the 'configure' action first"] in calls
