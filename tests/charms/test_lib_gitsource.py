import subprocess

import pytest

import epc_fakes
from charmhelpers_mecpool import process
from charmhelpers_mecpool.buildstate import BuildState
from charmhelpers_mecpool.errors import NotFound
from charmhelpers_mecpool.gitsource import GitSource


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
    run = epc_fakes.FakeRunner().on(["git", "-C", str(tmp_path / "d"), "rev-parse"],
                                    stdout="0123456789abcdef0123456789abcdef01234567\n")
    commit = GitSource(run=run).checkout("https://example.org/r.git", "v1.1.0",
                                         str(tmp_path / "d"))
    d = str(tmp_path / "d")
    assert commit == "0123456789abcdef0123456789abcdef01234567"
    assert run.argvs == [
        ["git", "clone", "--no-checkout", "--", "https://example.org/r.git", d],
        ["git", "-C", d, "fetch", "--tags", "--force", "origin",
         "+refs/heads/*:refs/remotes/origin/*"],
        ["git", "-C", d, "rev-parse", "--verify", "--quiet", "origin/v1.1.0^{commit}"],
        ["git", "-C", d, "checkout", "--force", "--detach", commit],
        ["git", "-C", d, "clean", "-ffdx", "--exclude=build/", "--exclude=logs/"],
    ]


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
