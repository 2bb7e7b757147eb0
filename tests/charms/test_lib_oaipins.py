"""spdlog pinned in OAI's SPGW-C/U build helper: the rewritten lines run for real under
bash against a real git repository standing in for github.com/gabime/spdlog."""

import subprocess

import pytest

import charmtest
import epc_fakes
from charmhelpers_mecpool import oaipins
from charmhelpers_mecpool.errors import MecpoolError, ValidationError

V180 = "4a9ccf7e38e257feecce0c579a782741254eaeef"


def git(*args, cwd):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=str(cwd),
                          check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()


@pytest.fixture
def spdlog(tmp_path):
    """A repository "spdlog" with an old commit and a newer master."""
    repo = tmp_path / "upstream" / "spdlog"
    repo.mkdir(parents=True)
    git("init", "-q", "-b", "master", cwd=repo)
    (repo / "v").write_text("1.8.0\n")
    git("add", "v", cwd=repo)
    git("commit", "-qm", "v1.8.0", cwd=repo)
    old = git("rev-parse", "HEAD", cwd=repo)
    (repo / "v").write_text("1.15\n")
    git("commit", "-qam", "master today", cwd=repo)
    return repo, old


def checkout(tmp_path):
    src = tmp_path / "src"
    epc_fakes.install_templates(src, "spgwc")
    return src


def test_the_pinned_helper_checks_out_the_commit_not_master(tmp_path, spdlog):
    repo, old = spdlog
    src = checkout(tmp_path)
    assert oaipins.pin_spdlog(str(src), old) is True
    assert oaipins.pin_spdlog(str(src), old) is False          # again: no change
    lines = (src / oaipins.SPDLOG_HELPER).read_text()
    work = tmp_path / "ext"
    work.mkdir()
    # the helper's lines as OAI's script runs them (bash, GIT_URL set by the script)
    subprocess.run(["bash", "-ec", "GIT_URL={}\n{}".format(repo, lines)], cwd=str(work), check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert git("rev-parse", "HEAD", cwd=work / "spdlog") == old
    assert (work / "spdlog" / "v").read_text() == "1.8.0\n"
    # unpinned, the same lines take today's master
    unpinned = epc_fakes.SPDLOG_LINES.read_text()
    other = tmp_path / "ext2"
    other.mkdir()
    subprocess.run(["bash", "-ec", "GIT_URL={}\n{}".format(repo, unpinned)], cwd=str(other),
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert (other / "spdlog" / "v").read_text() == "1.15\n"


def test_a_helper_without_the_line_fails_build_naming_the_file(tmp_path):
    src = checkout(tmp_path)
    (src / oaipins.SPDLOG_HELPER).write_text("git clone $GIT_URL\n")
    with pytest.raises(MecpoolError) as info:
        oaipins.pin_spdlog(str(src), V180)
    assert oaipins.SPDLOG_HELPER in str(info.value) and "4a9ccf7e38e2" in str(info.value)
    (src / oaipins.SPDLOG_HELPER).unlink()
    with pytest.raises(MecpoolError) as info:
        oaipins.pin_spdlog(str(src), V180)
    assert "missing" in str(info.value)


@pytest.mark.parametrize("value", ["master", "v1.8.0", "4a9ccf7", "", None, "g" * 40])
def test_spdlog_commit_must_be_a_full_hash(value):
    with pytest.raises(ValidationError) as info:
        oaipins.parse_build({"git-repository": "https://x.org/r.git", "git-commit": "v1",
                             "spdlog-commit": value})
    assert info.value.param == "spdlog-commit"


@pytest.mark.parametrize("vdu", ["spgwc", "spgwu"])
def test_build_pins_spdlog_before_the_build_starts(tmp_path, vdu):
    module = charmtest.load_charm_module("oai-" + vdu, vdu + "_workload")
    host = epc_fakes.FakeHost(tmp_path)
    host.clock = epc_fakes.FakeClock()
    workload = epc_fakes.attach_workload(
        host, module, {"spgwc": "SpgwcWorkload", "spgwu": "SpgwuWorkload"}[vdu], vdu)
    workload.build(module.parse_build({"git-repository": "https://x.org/r.git",
                                       "git-commit": "v1.1.0", "spdlog-commit": V180}))
    helper = (tmp_path / module.SOURCE_DIR.lstrip("/") / oaipins.SPDLOG_HELPER).read_text()
    assert "cd spdlog && git checkout {}\n".format(V180) in helper and "master" not in helper
    assert host.builds.starts
