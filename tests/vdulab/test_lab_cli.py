"""``mecpool vdu-lab`` stopped midway (Ctrl-C, a timeout's SIGTERM) still keeps what it knows."""

import json
from types import SimpleNamespace

from click.testing import CliRunner

from mecpool.vdulab import cli
from mecpool.vdulab.scenario import Outcome


class FakeLab(object):
    def __init__(self, site, built, out, cache, log, memory_mb, vcpus):
        self.runs, self.processes, self.run_dir, self.timings = {}, {}, out, {}
        self.closed = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.closed = True
        LABS.append(self)


class InterruptedScenario(object):
    def __init__(self, lab, log):
        self.outcome = Outcome()

    def run(self):
        self.outcome.check("PEs registered in every registrar", True)
        self.outcome.steps["registrars and PEs boot and register"] = 12.0
        raise KeyboardInterrupt


LABS = []


def test_an_interrupted_lab_writes_its_result_keeps_evidence_and_closes(tmp_path, monkeypatch):
    kept = []
    monkeypatch.setattr(cli, "load_site", lambda path: SimpleNamespace())
    monkeypatch.setattr(cli, "find_site_file", lambda path: path)
    monkeypatch.setattr(cli, "load_built", lambda path: SimpleNamespace())
    monkeypatch.setattr(cli, "Lab", FakeLab)
    monkeypatch.setattr(cli, "Scenario", InterruptedScenario)
    monkeypatch.setattr(cli.evidence, "keep", lambda runs, run_dir: kept.append(run_dir))
    monkeypatch.setattr(cli.report, "vm_rows", lambda lab: [])
    out = tmp_path / "run"
    out.mkdir()
    done = CliRunner().invoke(cli.vdu_lab_command, ["--site", "site.yaml", "--out", str(out)])
    assert done.exit_code != 0
    result = json.loads((out / "result.json").read_text())
    assert not result["ok"]
    (stopped,) = [c for c in result["checks"] if c["name"] == "the lab ran to its end"]
    assert not stopped["ok"] and "after registrars and PEs boot and register" in stopped["detail"]
    assert kept == [out] and LABS and LABS[-1].closed
