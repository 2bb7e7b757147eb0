import os
import stat
import subprocess

import pytest

import epc_fakes
from charmhelpers_mecpool import process
from charmhelpers_mecpool.certs import DiameterCerts
from charmhelpers_mecpool.errors import CommandError, NotFound
from charmhelpers_mecpool.oaibuild import BuildStep, OaiBuild


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


def make_build(tmp_path, binary, fail_step=False):
    def step(argv, kwargs):
        if fail_step:
            return 2, "", "compile error"
        binary.write_text("elf")
        return 0, "", ""
    src = str(tmp_path / "src")
    run = (epc_fakes.FakeRunner()
           .on(["git", "-C", src, "rev-parse"], stdout=COMMIT + "\n")
           .on(["./build_mme"], handler=step))
    build = OaiBuild("oai-mme", run=run, state_dir=str(tmp_path / "state"),
                     log_dir=str(tmp_path / "log"), jobs=4)
    steps = [BuildStep(["./build_mme", "--check-installed-software", "--force"], "scripts"),
             BuildStep(["./build_mme", "--clean"], "scripts")]
    return run, build, src, steps


def test_build_runs_steps_once_per_commit(tmp_path):
    binary = tmp_path / "mme"
    run, build, src, steps = make_build(tmp_path, binary)
    result = build.ensure("https://example.org/mme.git", "v1.1.0", src, steps, [str(binary)])
    assert result == {"commit": COMMIT, "built": True}
    step_calls = [(argv, kw) for argv, kw in run.calls if argv[0] == "./build_mme"]
    assert [argv for argv, _ in step_calls] == [
        ["./build_mme", "--check-installed-software", "--force"], ["./build_mme", "--clean"]]
    for _, kw in step_calls:
        assert kw["cwd"] == os.path.join(src, "scripts")
        assert kw["env"] == {"MAKEFLAGS": "-j4"}
        assert kw["log_path"] == str(tmp_path / "log" / "oai-mme-build.log")
    run.calls.clear()
    # HEAD now is the commit (rev-parse answers it), record matches, binary exists: no build.
    again = build.ensure("https://example.org/mme.git", "v1.1.0", src, steps, [str(binary)])
    assert again == {"commit": COMMIT, "built": False}
    assert not any(argv[0] == "./build_mme" for argv in run.argvs)
    # Binary deleted: rebuilt.
    binary.unlink()
    assert build.ensure("https://example.org/mme.git", "v1.1.0", src, steps,
                        [str(binary)])["built"] is True


def test_build_failure_and_missing_binary(tmp_path):
    binary = tmp_path / "mme"
    run, build, src, steps = make_build(tmp_path, binary, fail_step=True)
    with pytest.raises(CommandError) as info:
        build.ensure("https://example.org/mme.git", "v1.1.0", src, steps, [str(binary)])
    assert info.value.returncode == 2
    assert not (tmp_path / "state" / "oai-mme-build.json").exists()
    run, build, src, _ = make_build(tmp_path, binary)
    with pytest.raises(NotFound) as info:
        build.ensure("https://example.org/mme.git", "v1.1.0", src,
                     [BuildStep(["true"])], [str(binary)])
    assert "missing" in str(info.value)


def test_build_step_needs_argv_list():
    with pytest.raises(TypeError):
        BuildStep("./build_mme --clean")
