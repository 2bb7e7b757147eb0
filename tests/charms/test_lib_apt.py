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


def make_rooted(tmp_path, dpkg=""):
    run = epc_fakes.FakeRunner().on(["dpkg-query"], returncode=1, stdout=dpkg)
    (tmp_path / "dpkg" / "updates").mkdir(parents=True)
    return run, Apt(run=run, sources_dir=str(tmp_path / "src"), keyring_dir=str(tmp_path / "k"),
                    dpkg_dir=str(tmp_path / "dpkg"))


def test_apt_gets_what_is_left_of_the_budget(tmp_path):
    from charmhelpers_mecpool.budget import Budget
    clock = epc_fakes.FakeClock()
    run, apt = make_rooted(tmp_path)
    budget = Budget("configure", sleep=clock.sleep, clock=clock)
    clock.now += 100
    apt.install(["nftables"], budget)
    assert [(argv[:2], kw["timeout"]) for argv, kw in run.calls if argv[0] == "apt-get"] == [
        (["apt-get", "update"], 440), (["apt-get", "install"], 440)]


def test_a_cut_off_apt_run_then_dpkg_repaired_first_on_the_next_run(tmp_path):
    """apt-get install cut off by the budget fails naming it; dpkg was interrupted
    (its journal has an entry), so the next run configures it before apt-get."""
    from charmhelpers_mecpool.budget import Budget, BudgetExhausted
    clock = epc_fakes.FakeClock()
    run, apt = make_rooted(tmp_path)

    def cut_off(argv, kwargs):
        clock.now += kwargs["timeout"]
        (tmp_path / "dpkg" / "updates" / "0007").write_text("half-written status")
        raise CommandError(argv, None, "", reason="timed out after {} s".format(kwargs["timeout"]))
    run.on(["apt-get", "install"], handler=cut_off)
    with pytest.raises(BudgetExhausted) as cut:
        apt.install(["cassandra"], Budget("configure", sleep=clock.sleep, clock=clock))
    assert "configure: its time budget of 540 s" in str(cut.value)
    assert "apt-get install cassandra" in str(cut.value)
    assert apt.interrupted()

    def repaired(argv, kwargs):
        for entry in (tmp_path / "dpkg" / "updates").iterdir():
            entry.unlink()
        return 0, "", ""
    run.on(["dpkg", "--force-confdef"], handler=repaired)
    run.on(["apt-get", "install"])
    clock2 = epc_fakes.FakeClock()
    done = len(run.calls)
    assert apt.install(["cassandra"], Budget("configure", sleep=clock2.sleep, clock=clock2)) == \
        ["cassandra"]
    assert run.argvs[done:] == [
        ["dpkg-query", "-W", "-f", "${Package} ${Status}\\n", "cassandra"],
        ["dpkg", "--force-confdef", "--force-confold", "--configure", "-a"],
        ["apt-get", "install", "-y", "--no-install-recommends", "cassandra"],
    ]
    assert run.calls[done + 1][1]["env"] == APT_ENV and run.calls[done + 1][1]["timeout"] == 540
    assert not apt.interrupted()


def test_no_repair_when_dpkg_was_not_interrupted(tmp_path):
    run, apt = make_rooted(tmp_path)
    (tmp_path / "dpkg" / "updates" / "tmp.i").write_text("")  # not a journal entry
    apt.install(["git"])
    assert run.count(["dpkg", "--force-confdef"]) == 0
