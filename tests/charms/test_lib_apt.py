import pytest

import epc_fakes
from charmhelpers_mecpool.apt import APT_ENV, Apt
from charmhelpers_mecpool.errors import CommandError

DPKG_OUT = ("git install ok installed\n"
            "cmake deinstall ok config-files\n")


def make(tmp_path, dpkg=DPKG_OUT):
    run = epc_fakes.FakeRunner().on(["dpkg-query"], returncode=1, stdout=dpkg)
    return run, Apt(run=run, sources_dir=str(tmp_path / "src"), keyring_dir=str(tmp_path / "k"))


def test_installs_only_missing_with_exact_argv(tmp_path):
    run, apt = make(tmp_path)
    assert apt.install(["git", "cmake", "libconfig-dev"]) == ["cmake", "libconfig-dev"]
    assert run.argvs == [
        ["dpkg-query", "-W", "-f", "${Package} ${Status}\\n", "git", "cmake", "libconfig-dev"],
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "cmake", "libconfig-dev"],
    ]
    assert run.calls[2][1]["env"] == APT_ENV == {"DEBIAN_FRONTEND": "noninteractive"}


def test_nothing_missing_runs_nothing_else(tmp_path):
    run, apt = make(tmp_path, dpkg="git install ok installed\n")
    assert apt.install(["git"]) == []
    assert [a[0] for a in run.argvs] == ["dpkg-query"]


def test_update_once_per_instance_until_a_source_changes(tmp_path):
    run, apt = make(tmp_path, dpkg="")
    apt.install(["a1"])
    apt.install(["a2"])
    assert run.count(["apt-get", "update"]) == 1
    assert apt.add_source("cassandra", "deb https://example.org/debian 21x main",
                          key="-----BEGIN PGP PUBLIC KEY BLOCK-----\n") is True
    assert (tmp_path / "src" / "cassandra.list").read_text() == \
        "deb https://example.org/debian 21x main\n"
    assert (tmp_path / "k" / "cassandra.asc").exists()
    apt.install(["a3"])
    assert run.count(["apt-get", "update"]) == 2
    assert apt.add_source("cassandra", "deb https://example.org/debian 21x main",
                          key="-----BEGIN PGP PUBLIC KEY BLOCK-----\n") is False


def test_bad_names_rejected_before_running(tmp_path):
    run, apt = make(tmp_path)
    with pytest.raises(ValueError):
        apt.install(["ok", "-o=APT::x"])
    with pytest.raises(ValueError):
        apt.add_source("../evil", "deb x")
    assert run.calls == []


def test_install_failure_raises(tmp_path):
    run, apt = make(tmp_path, dpkg="")
    run.on(["apt-get", "install"], returncode=100, stderr="E: Unable to locate package zz")
    with pytest.raises(CommandError) as info:
        apt.install(["zz"])
    assert info.value.returncode == 100 and "Unable to locate" in str(info.value)


def test_installed_reads_real_dpkg_query():
    from charmhelpers_mecpool import process
    apt = Apt(run=process.run)
    assert apt.installed(["dpkg", "no-such-package-mecpool-xyz"]) == ["dpkg"]
