import epc_fakes
from charmhelpers_mecpool.systemd import Systemd

UNIT = "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n"


def test_install_unit_reloads_and_enables_once(tmp_path):
    run = epc_fakes.FakeRunner().on(["systemctl", "is-enabled"], returncode=1)
    sd = Systemd(run=run, unit_dir=str(tmp_path))
    assert sd.install_unit("hss.service", UNIT) is True
    assert (tmp_path / "hss.service").read_text() == UNIT
    assert run.argvs == [["systemctl", "daemon-reload"],
                         ["systemctl", "enable", "hss.service"]]
    # Second time: same content and enabled -> only the is-enabled check runs.
    run = epc_fakes.FakeRunner()
    sd.run = run
    assert sd.install_unit("hss.service", UNIT) is False
    assert run.argvs == [["systemctl", "is-enabled", "--quiet", "hss.service"]]


def test_ensure_running_restarts_only_when_needed(tmp_path):
    run = epc_fakes.FakeRunner()
    sd = Systemd(run=run, unit_dir=str(tmp_path))
    assert sd.ensure_running("mme.service", changed=False) is False
    assert run.argvs == [["systemctl", "is-active", "--quiet", "mme.service"]]
    assert sd.ensure_running("mme.service", changed=True) is True
    assert run.argvs[-1] == ["systemctl", "restart", "mme.service"]
    run = epc_fakes.FakeRunner().on(["systemctl", "is-active"], returncode=3)
    sd.run = run
    assert sd.ensure_running("mme.service", changed=False) is True
    assert run.argvs[-1] == ["systemctl", "restart", "mme.service"]


def test_stop_and_remove(tmp_path):
    (tmp_path / "x.service").write_text(UNIT)
    run = epc_fakes.FakeRunner()
    sd = Systemd(run=run, unit_dir=str(tmp_path))
    assert sd.remove_unit("x.service") is True
    assert ["systemctl", "stop", "x.service"] in run.argvs
    assert ["systemctl", "disable", "x.service"] in run.argvs
    assert run.argvs[-1] == ["systemctl", "daemon-reload"]
    assert not (tmp_path / "x.service").exists()
    run = epc_fakes.FakeRunner().on(["systemctl", "is-active"], returncode=3)
    sd.run = run
    assert sd.stop("x.service") is False
    assert run.count(["systemctl", "stop"]) == 0


def test_exec_start_is_the_units_command_line():
    from charmhelpers_mecpool.systemd import exec_start
    unit = "[Unit]\nDescription=x\n\n[Service]\nExecStartPre=/bin/true\nExecStart=/usr/bin/rspserver -calcapp\n"
    assert exec_start(unit) == "/usr/bin/rspserver -calcapp"
    assert exec_start("[Service]\nType=simple\n") == ""
