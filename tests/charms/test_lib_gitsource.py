import os
import subprocess
import time

import pytest

import epc_fakes
from charmhelpers_mecpool import process
from charmhelpers_mecpool.budget import Budget, BudgetExhausted
from charmhelpers_mecpool.buildstate import BuildState
from charmhelpers_mecpool.errors import CommandError, NotFound
from charmhelpers_mecpool.gitsource import COMPLETE_MARK, GitSource


def git(*args, cwd=None):
    return subprocess.run(["git"] + list(args), cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def upstream(tmp_path):
    repo = tmp_path / "upstream"
    repo.mkdir()
    git("init", "-q", "-b", "main", str(repo))
    git("-C", str(repo), "config", "user.email", "t@example.org")
    git("-C", str(repo), "config", "user.name", "t")
    (repo / "f").write_text("one\n")
    git("-C", str(repo), "add", "f")
    git("-C", str(repo), "commit", "-q", "-m", "one")
    git("-C", str(repo), "tag", "v1.0")
    git("-C", str(repo), "checkout", "-q", "-b", "dreibh/fix")
    (repo / "f").write_text("two\n")
    git("-C", str(repo), "commit", "-q", "-am", "two")
    git("-C", str(repo), "checkout", "-q", "main")
    return repo


def test_checkout_branch_tag_and_hash_with_real_git(tmp_path, upstream):
    src = GitSource(run=process.run)
    dest = str(tmp_path / "src" / "hss")
    url = str(upstream)
    fix = src.checkout(url, "dreibh/fix", dest)
    assert fix == git("-C", url, "rev-parse", "dreibh/fix")
    assert (tmp_path / "src" / "hss" / "f").read_text() == "two\n"
    tag = src.checkout(url, "v1.0", dest)
    assert tag == git("-C", url, "rev-parse", "v1.0^{commit}")
    assert (tmp_path / "src" / "hss" / "f").read_text() == "one\n"
    # Same commit again (main == v1.0): the tree is left alone, even untracked files.
    (tmp_path / "src" / "hss" / "junk").write_text("x")
    assert src.checkout(url, "main", dest) == tag
    assert (tmp_path / "src" / "hss" / "junk").exists()
    # A different commit: local junk is cleaned, build/ and logs/ are kept.
    (tmp_path / "src" / "hss" / "logs").mkdir()
    (tmp_path / "src" / "hss" / "logs" / "hss.log").write_text("x")
    (tmp_path / "src" / "hss" / "build").mkdir()
    (tmp_path / "src" / "hss" / "build" / "obj.o").write_text("x")
    assert src.checkout(url, "dreibh/fix", dest) == fix
    assert not (tmp_path / "src" / "hss" / "junk").exists()
    assert (tmp_path / "src" / "hss" / "logs" / "hss.log").exists()
    assert (tmp_path / "src" / "hss" / "build" / "obj.o").exists()
    with pytest.raises(NotFound):
        src.checkout(url, "no-such-branch", dest)


def test_full_hash_already_checked_out_needs_no_fetch(tmp_path, upstream):
    url = str(upstream)
    dest = str(tmp_path / "src")
    commit = GitSource(run=process.run).checkout(url, "v1.0", dest)
    calls = []

    def recording(argv, **kwargs):
        calls.append(argv)
        return process.run(argv, **kwargs)
    assert GitSource(run=recording).checkout(url, commit, dest) == commit
    assert not any("fetch" in argv for argv in calls)
    assert not any("checkout" in argv for argv in calls)


def test_argv_shape_for_fresh_clone(tmp_path):
    d = str(tmp_path / "d")
    run = epc_fakes.FakeRunner().on(["git", "-C", d, "rev-parse"],
                                    stdout="0123456789abcdef0123456789abcdef01234567\n")
    run.on(["git", "-C", d, "remote", "get-url"], returncode=2, stderr="error: No such remote")
    commit = GitSource(run=run).checkout("https://example.org/r.git", "v1.1.0", d)
    assert commit == "0123456789abcdef0123456789abcdef01234567"
    assert run.argvs == [
        ["git", "init", "-q", d],
        ["git", "-C", d, "remote", "get-url", "origin"],
        ["git", "-C", d, "remote", "add", "origin", "https://example.org/r.git"],
        ["git", "-C", d, "fetch", "--tags", "--force", "origin",
         "+refs/heads/*:refs/remotes/origin/*"],
        ["git", "-C", d, "rev-parse", "--verify", "--quiet", "origin/v1.1.0^{commit}"],
        ["git", "-C", d, "checkout", "--force", "--detach", commit],
        ["git", "-C", d, "clean", "-ffdx", "--exclude=build/", "--exclude=logs/"],
    ]
    # fetch, checkout and clean are the long ones: they get the network timeout
    assert [kw["timeout"] for argv, kw in run.calls if argv[3:4] == ["fetch"]] == [1200]


def test_commands_get_what_is_left_of_the_budget(tmp_path):
    d = str(tmp_path / "d")
    clock = epc_fakes.FakeClock()
    run = epc_fakes.FakeRunner().on(["git", "-C", d, "rev-parse"], stdout="ab" * 20 + "\n")
    budget = Budget("build", sleep=clock.sleep, clock=clock)
    clock.now += 500  # apt took 500 s of the 540
    GitSource(run=run).checkout("https://example.org/r.git", "main", d, budget=budget)
    timeouts = {argv[3]: kw["timeout"] for argv, kw in run.calls if argv[1] == "-C"}
    assert timeouts["fetch"] == timeouts["checkout"] == timeouts["clean"] == 40


SLOW_UPLOAD_PACK = """#!/bin/sh
echo $$ > "{pidfile}"
sleep 30
exec git-upload-pack "$@"
"""


def test_a_clone_cut_off_by_the_budget_is_not_taken_as_complete_and_is_redone(
        tmp_path, upstream):
    """A real git fetch, really killed by its budget-sized timeout (its upload-pack
    sleeps), then the next run of the primitive finishes the checkout."""
    url, dest = str(upstream), str(tmp_path / "src" / "hss")
    pidfile = tmp_path / "upload-pack.pid"
    slow = tmp_path / "slow-upload-pack"
    slow.write_text(SLOW_UPLOAD_PACK.format(pidfile=pidfile))
    slow.chmod(0o755)

    def slow_fetch(argv, **kwargs):
        if argv[3:4] == ["fetch"]:
            argv = argv[:3] + ["-c", "remote.origin.uploadpack={}".format(slow)] + argv[3:]
        return process.run(argv, **kwargs)
    budget = Budget("build", total=2, clock=time.monotonic)
    started = time.monotonic()
    with pytest.raises(BudgetExhausted) as cut:
        GitSource(run=slow_fetch).checkout(url, "dreibh/fix", dest, budget=budget)
    assert time.monotonic() - started < 2 + process.KILL_GRACE + 5
    assert "build: its time budget of 2 s" in str(cut.value)
    assert "git fetch " + url in str(cut.value)
    assert "running 'build' again continues" in str(cut.value)
    # the whole process group was ended: the upload-pack helper is gone too
    helper = int(pidfile.read_text())
    with pytest.raises(OSError):
        for _ in range(50):
            os.kill(helper, 0)
            time.sleep(0.1)
    # nothing checked out, nothing recorded as complete
    source = GitSource(run=process.run)
    assert source.complete(dest) is None
    assert not (tmp_path / "src" / "hss" / "f").exists()
    # what a git killed harder leaves: lock files and a partial pack
    git_dir = tmp_path / "src" / "hss" / ".git"
    (git_dir / "index.lock").write_text("")
    (git_dir / "refs" / "remotes" / "origin").mkdir(parents=True, exist_ok=True)
    (git_dir / "refs" / "remotes" / "origin" / "main.lock").write_text("")
    (git_dir / "objects" / "pack" / "tmp_pack_Xy12").write_text("partial")

    commit = source.checkout(url, "dreibh/fix", dest, budget=Budget("build"))
    assert commit == git("-C", url, "rev-parse", "dreibh/fix")
    assert (tmp_path / "src" / "hss" / "f").read_text() == "two\n"
    assert source.complete(dest) == commit
    assert not (git_dir / "index.lock").exists()
    assert not (git_dir / "objects" / "pack" / "tmp_pack_Xy12").exists()
    assert git("status", "--porcelain", cwd=dest) == ""


def test_a_cut_off_git_init_is_started_over(tmp_path, upstream):
    dest = tmp_path / "src"
    (dest / ".git" / "objects").mkdir(parents=True)  # no HEAD, no config
    commit = GitSource(run=process.run).checkout(str(upstream), "v1.0", str(dest))
    assert (dest / "f").read_text() == "one\n"
    assert GitSource(run=process.run).complete(str(dest)) == commit


def test_a_checkout_cut_off_before_clean_is_redone(tmp_path, upstream):
    url, dest = str(upstream), str(tmp_path / "src")
    source = GitSource(run=process.run)
    first = source.checkout(url, "v1.0", dest)
    (tmp_path / "src" / "junk").write_text("x")

    def cut_at_clean(argv, **kwargs):
        if argv[3:4] == ["clean"]:
            raise CommandError(argv, None, "", reason="timed out after 3 s")
        return process.run(argv, **kwargs)
    with pytest.raises(CommandError):
        GitSource(run=cut_at_clean).checkout(url, "dreibh/fix", dest)
    fix = git("-C", url, "rev-parse", "dreibh/fix")
    # HEAD moved, but the tree was not cleaned: not complete, neither old nor new
    assert source.head(dest) == fix and first != fix
    assert source.complete(dest) is None
    calls = []

    def recording(argv, **kwargs):
        calls.append(argv)
        return process.run(argv, **kwargs)
    assert GitSource(run=recording).checkout(url, "dreibh/fix", dest) == fix
    assert any(argv[3:4] == ["checkout"] for argv in calls)
    assert any(argv[3:4] == ["clean"] for argv in calls)
    assert not (tmp_path / "src" / "junk").exists()
    assert source.complete(dest) == fix
    assert (tmp_path / "src" / ".git" / COMPLETE_MARK).read_text() == fix + "\n"


def test_build_state(tmp_path):
    state = BuildState("oai-hss", state_dir=str(tmp_path / "state"))
    binary = tmp_path / "oai_hss"
    assert state.load() == {}
    assert not state.is_current("u", "c1", [str(binary)])
    assert state.record("u", "c1", [str(binary)]) is True
    assert not state.is_current("u", "c1", [str(binary)])  # binary missing
    binary.write_text("")
    assert state.is_current("u", "c1", [str(binary)])
    assert not state.is_current("u", "c2", [str(binary)])
    assert not state.is_current("other", "c1", [str(binary)])
    assert state.record("u", "c1", [str(binary)]) is False
    (tmp_path / "state" / "oai-hss-build.json").write_text("{not json")
    assert state.load() == {}
