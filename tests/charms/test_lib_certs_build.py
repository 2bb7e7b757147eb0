import os
import stat
import subprocess

import pytest

import epc_fakes
from charmhelpers_mecpool import process
from charmhelpers_mecpool.certs import DiameterCerts
from charmhelpers_mecpool.errors import CommandError, NotFound
from charmhelpers_mecpool.oaibuild import BuildFailed, BuildStep, OaiBuild


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_diameter_certs_with_real_openssl(tmp_path):
    certs = DiameterCerts(run=process.run, bits=1024)
    d = tmp_path / "freeDiameter"
    assert certs.ensure(str(d), "mme", "mme.simula.nornet", ca_name="mme.cacert.pem") is True
    for name in ("mme.cert.pem", "mme.key.pem", "mme.cacert.pem", "mme.cakey.pem"):
        assert (d / name).is_file(), name
    assert mode(d / "mme.key.pem") == 0o600 and mode(d / "mme.cakey.pem") == 0o600
    assert not (d / "mme.csr.pem").exists()
    subject = subprocess.run(["openssl", "x509", "-noout", "-subject", "-in",
                              str(d / "mme.cert.pem")], capture_output=True, text=True).stdout
    assert "mme.simula.nornet" in subject
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(d / "mme.cacert.pem"),
                             str(d / "mme.cert.pem")], capture_output=True, text=True)
    assert verify.returncode == 0
    before = (d / "mme.cert.pem").read_bytes()
    assert certs.ensure(str(d), "mme", "mme.simula.nornet", ca_name="mme.cacert.pem") is False
    assert (d / "mme.cert.pem").read_bytes() == before
    # A new realm means a new identity: new credentials.
    assert certs.ensure(str(d), "mme", "mme.other.org", ca_name="mme.cacert.pem") is True
    assert (d / "mme.cert.pem").read_bytes() != before


def test_diameter_certs_failure_is_reported(tmp_path):
    run = epc_fakes.FakeRunner().on(["openssl", "genrsa"], returncode=1, stderr="no entropy")
    with pytest.raises(CommandError) as info:
        DiameterCerts(run=run).ensure(str(tmp_path), "hss", "hss.example.org")
    assert "no entropy" in str(info.value)


COMMIT = "0123456789abcdef0123456789abcdef01234567"


URL = "https://example.org/mme.git"


def make_build(tmp_path, binary, fail_at=None, duration=0):
    src = str(tmp_path / "src")
    host = epc_fakes.FakeHost(tmp_path / "root", commit=COMMIT)
    host.runner.on(["./build_mme"], handler=lambda argv, kw: (binary.write_text("elf"), (0, "", ""))[1])
    clock = epc_fakes.FakeClock()
    runner = epc_fakes.FakeBuildRunner(host, clock, duration=duration, fail_at=fail_at)
    build = OaiBuild("oai-mme", run=host.runner, state_dir=str(tmp_path / "state"),
                     log_dir=str(tmp_path / "log"), runner=runner, sleep=clock.sleep, clock=clock,
                     wall_clock=clock)
    steps = [BuildStep(["./build_mme", "--check-installed-software", "--force"], "scripts"),
             BuildStep(["./build_mme", "--clean"], "scripts")]
    return host, runner, build, src, steps


def test_build_runs_in_the_runner_once_per_commit(tmp_path):
    binary = tmp_path / "mme"
    host, runner, build, src, steps = make_build(tmp_path, binary)
    assert build.start(URL, COMMIT, src, steps, [str(binary)]).state == "started"
    assert build.wait(URL, COMMIT, src, steps, [str(binary)]).state == "built"
    assert [kw["cwd"] for argv, kw in host.runner.calls if argv[0] == "./build_mme"] == [
        os.path.join(src, "scripts")] * 2
    assert build.start(URL, COMMIT, src, steps, [str(binary)]).state == "built"
    assert runner.starts == [COMMIT]
    binary.unlink()  # the binary gone: built again
    assert build.start(URL, COMMIT, src, steps, [str(binary)]).state == "started"


def test_slow_build_waits_one_step_then_reports_running(tmp_path):
    binary = tmp_path / "mme"
    host, runner, build, src, steps = make_build(tmp_path, binary, duration=1500)
    first = build.wait(URL, COMMIT, src, steps, [str(binary)], max_wait=480)
    assert first.state == "running" and first.minutes == 8
    assert build.wait(URL, COMMIT, src, steps, [str(binary)], max_wait=480).state == "running"
    assert build.wait(URL, COMMIT, src, steps, [str(binary)], max_wait=480).state == "running"
    assert build.wait(URL, COMMIT, src, steps, [str(binary)], max_wait=480).state == "built"
    assert runner.starts == [COMMIT]


def test_failed_build_names_the_step_and_the_log_tail(tmp_path):
    binary = tmp_path / "mme"
    host, runner, build, src, steps = make_build(tmp_path, binary, fail_at=1)
    with pytest.raises(BuildFailed) as info:
        build.wait(URL, COMMIT, src, steps, [str(binary)])
    text = str(info.value)
    assert "step 1/2" in text and "asn1c not found" in text and "exit code 2" in text
    assert not (tmp_path / "state" / "oai-mme-build.json").exists()


def test_build_cut_off_is_started_again(tmp_path):
    binary = tmp_path / "mme"
    host, runner, build, src, steps = make_build(tmp_path, binary, duration=600)
    assert build.wait(URL, COMMIT, src, steps, [str(binary)], max_wait=60).state == "running"
    # The machine restarted mid-build: a new charm process, the build process gone.
    twin = runner.restarted()
    assert twin.status().state == "interrupted"
    build.runner = twin
    assert build.wait(URL, COMMIT, src, steps, [str(binary)], max_wait=900).state == "built"
    assert twin.starts == [COMMIT]


def test_missing_binary_after_build(tmp_path):
    binary = tmp_path / "mme"
    host, runner, build, src, _ = make_build(tmp_path, binary)
    with pytest.raises(NotFound) as info:
        build.wait(URL, COMMIT, src, [BuildStep(["true"])], [str(binary)])
    assert "missing" in str(info.value)


def test_build_step_needs_argv_list():
    with pytest.raises(TypeError):
        BuildStep("./build_mme --clean")
