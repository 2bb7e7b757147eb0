import os
import stat

import pytest
from jinja2 import UndefinedError

import epc_fakes  # noqa: F401
from charmhelpers_mecpool import files, hosts, templates


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_write_file_reports_change_and_is_idempotent(tmp_path):
    path = tmp_path / "sub" / "a.conf"
    assert files.write_file(str(path), "one\n", mode=0o640) is True
    assert path.read_text() == "one\n" and mode(path) == 0o640
    assert files.write_file(str(path), "one\n", mode=0o640) is False
    assert files.write_file(str(path), "one\n", mode=0o644) is True
    assert mode(path) == 0o644
    assert files.write_file(str(path), "two\n", mode=0o644) is True
    assert path.read_text() == "two\n"
    assert [p.name for p in path.parent.iterdir()] == ["a.conf"]  # no temp files left


def test_existing_directory_keeps_its_mode(tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    os.chmod(str(private), 0o700)
    files.write_file(str(private / "state.json"), "{}", secret=True)
    assert mode(private) == 0o700
    files.write_file(str(tmp_path / "new" / "deep" / "f"), "x")
    assert mode(tmp_path / "new" / "deep") == 0o755


def test_secret_forces_0600(tmp_path):
    path = tmp_path / "secret.json"
    files.write_file(str(path), "{}", mode=0o644, secret=True)
    assert mode(path) == 0o600


def test_ownership_is_checked(tmp_path):
    path = tmp_path / "owned"
    files.write_file(str(path), "x", owner="root", group="root")
    info = os.stat(str(path))
    assert (info.st_uid, info.st_gid) == (0, 0)
    os.chown(str(path), 65534, 65534)
    assert files.write_file(str(path), "x", owner="root", group="root") is True
    assert os.stat(str(path)).st_uid == 0


def test_unknown_owner_raises_before_writing(tmp_path):
    path = tmp_path / "x"
    with pytest.raises(KeyError):
        files.write_file(str(path), "x", owner="no-such-user-xyz")
    assert not path.exists()


def test_ensure_dir_and_remove(tmp_path):
    d = tmp_path / "a" / "b"
    assert files.ensure_dir(str(d), 0o750) is True
    assert mode(d) == 0o750
    assert files.ensure_dir(str(d), 0o750) is False
    f = d / "f"
    f.write_text("x")
    assert files.remove(str(f)) is True and files.remove(str(f)) is False


def test_ensure_block_keeps_rest_of_file(tmp_path):
    path = tmp_path / "hosts"
    path.write_text("127.0.0.1 localhost\n::1 ip6-localhost\n")
    os.chmod(str(path), 0o644)
    assert hosts.ensure_hosts([("172.16.6.129", ["hss.simula.nornet", "hss"])], "oai-hss",
                              path=str(path)) is True
    text = path.read_text()
    assert text.startswith("127.0.0.1 localhost\n::1 ip6-localhost\n")
    assert "# BEGIN mecpool oai-hss\n172.16.6.129 hss.simula.nornet hss\n# END mecpool oai-hss\n" \
        in text
    assert hosts.ensure_hosts([("172.16.6.129", ["hss.simula.nornet", "hss"])], "oai-hss",
                              path=str(path)) is False
    hosts.ensure_hosts([("172.16.6.130", ["hss.simula.nornet"])], "oai-hss", path=str(path))
    text = path.read_text()
    assert "172.16.6.129" not in text and text.count("# BEGIN mecpool oai-hss") == 1
    hosts.ensure_hosts([], "oai-hss", path=str(path))
    assert path.read_text() == "127.0.0.1 localhost\n::1 ip6-localhost\n"


def test_templates_strict_and_filters(tmp_path):
    (tmp_path / "t.conf").write_text('A = {{ a|cfgstr }};\nB = {{ b|json }}\n')
    renderer = templates.Renderer(str(tmp_path))
    out = renderer.render("t.conf", {"a": 'x"y\\z', "b": {"k": [1, "2"]}})
    assert out == 'A = "x\\"y\\\\z";\nB = {"k": [1, "2"]}\n'
    with pytest.raises(UndefinedError):
        renderer.render("t.conf", {"a": 1})
    target = tmp_path / "out" / "t.conf"
    assert renderer.render_to("t.conf", str(target), {"a": 1, "b": 2}, secret=True) is True
    assert mode(target) == 0o600
    assert renderer.render_to("t.conf", str(target), {"a": 1, "b": 2}, secret=True) is False
