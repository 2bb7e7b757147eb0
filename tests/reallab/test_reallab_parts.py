"""The real-stack lab's pure parts: package resolution and cache key, generated configs, mount plan,
process bookkeeping.  The stack itself: tests/reallab/test_real_lab.py (marker reallab)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mecpool.reallab import configs, database, packages, services, smoke, unpack
from mecpool.reallab.sandbox import Layout, clean_env, mount_plan, stale_holders

SIMULATION = """\
NOTE: This is only a simulation!
Reading package lists...
Inst libperl5.36 [5.36.0-7+deb12u2] (5.36.0-7+deb12u4 Debian-Security:12/oldstable-security [amd64]) [perl:amd64 ]
Inst perl [5.36.0-7+deb12u2] (5.36.0-7+deb12u4 Debian-Security:12/oldstable-security [amd64]) []
Inst keystone (2:22.0.2-0+deb12u6 Debian-Security:12/oldstable-security [all])
Inst libconfig-inifiles-perl (3.000003-2+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [all])
Conf keystone (2:22.0.2-0+deb12u6 Debian-Security:12/oldstable-security [all])
"""


def test_simulation_gives_installs_and_upgrades_with_versions():
    got = packages.parse_simulation(SIMULATION)
    assert [p.name for p in got] == ["keystone", "libconfig-inifiles-perl", "libperl5.36", "perl"]
    by = {p.name: p for p in got}
    assert by["perl"].version == "5.36.0-7+deb12u4"          # the new version, not the installed one
    assert by["keystone"] == packages.Package("keystone", "2:22.0.2-0+deb12u6", "all")
    assert by["libconfig-inifiles-perl"].arch == "all"


def test_simulation_without_installs_is_an_error():
    with pytest.raises(packages.PackageError):
        packages.parse_simulation("Reading package lists...\n0 upgraded, 0 newly installed\n")


def test_deb_file_name_encodes_the_epoch_as_apt_download_does():
    p = packages.Package("keystone", "2:22.0.2-0+deb12u6", "all")
    assert p.deb_name == "keystone_2%3a22.0.2-0+deb12u6_all.deb"
    assert p.spec == "keystone=2:22.0.2-0+deb12u6"


def test_cache_key_follows_every_version_and_not_the_order():
    got = packages.parse_simulation(SIMULATION)
    key = packages.cache_key(got)
    assert packages.cache_key(tuple(reversed(got))) == key
    bumped = tuple(packages.Package(p.name, p.version + ("+1" if p.name == "perl" else ""), p.arch) for p in got)
    assert packages.cache_key(bumped) != key
    assert packages.cache_key(got[1:]) != key
    assert packages.cache_key(got, {"x": 1}) != key


def test_manifest_round_trip():
    got = packages.parse_simulation(SIMULATION)
    assert packages.parse_manifest(packages.manifest(got)) == got


def test_apt_state_changes_with_an_index_or_the_installed_set(tmp_path):
    lists = tmp_path / "lists"
    lists.mkdir()
    index = lists / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"
    index.write_text("a")
    status = tmp_path / "status"
    status.write_text("Package: x\n")
    first = packages.apt_state(lists, status)
    index.write_text("ab")
    second = packages.apt_state(lists, status)
    status.write_text("Package: x\n\nPackage: y\n")
    assert len({json.dumps(s) for s in (first, second, packages.apt_state(lists, status))}) == 3


def test_merged_usr(tmp_path):
    root = tmp_path / "root"
    (root / "lib/systemd/system").mkdir(parents=True)
    (root / "lib/systemd/system/a.service").write_text("a")
    (root / "usr/lib/systemd/system").mkdir(parents=True)
    (root / "usr/lib/systemd/system/b.service").write_text("b")
    (root / "sbin").mkdir()
    (root / "sbin/tool").write_text("t")
    unpack.merge_usr(root)
    assert sorted(os.listdir(root)) == ["usr"]
    assert sorted(os.listdir(root / "usr/lib/systemd/system")) == ["a.service", "b.service"]
    assert (root / "usr/sbin/tool").read_text() == "t"


def parse_ini(text):
    import configparser
    cp = configparser.ConfigParser(interpolation=None)
    cp.read_string(text)
    return cp


def test_nova_compute_config_has_no_database_sections():
    s = configs.Settings()
    controller = parse_ini(configs.nova_conf(s))
    compute = parse_ini(configs.nova_conf(s, compute=True))
    assert controller.has_section("database") and controller.has_section("api_database")
    assert not compute.has_section("database") and not compute.has_section("api_database")
    assert compute["libvirt"]["virt_type"] == "qemu" and compute["libvirt"]["cpu_mode"] == "none"
    assert compute["vnc"]["enabled"] == "true"    # VNC off removes the video device: first NIC ens2
    assert compute["DEFAULT"]["host"] == s.host
    # no metadata service in the lab: the user data and keys reach a VDU only on a config drive
    assert controller["DEFAULT"]["force_config_drive"] == compute["DEFAULT"]["force_config_drive"] == "true"


def test_neutron_linuxbridge_settings():
    s = configs.Settings()
    assert parse_ini(configs.neutron_conf(s))["experimental"]["linuxbridge"] == "true"
    agent = parse_ini(configs.linuxbridge_agent_ini(s))
    assert agent["linux_bridge"]["physical_interface_mappings"] == "physnet1:physnet1"
    assert "bridge_mappings" not in agent["linux_bridge"]
    assert agent["vxlan"]["local_ip"] == s.lab_host == "10.210.0.1"
    assert parse_ini(configs.ml2_conf(s))["ml2_type_flat"]["flat_networks"] == s.physnet


def test_every_service_config_talks_to_the_namespace_only():
    s = configs.Settings()
    text = "".join(configs.files(s, "root:x:0:0::/root:/bin/sh\n", "root:x:0:\n").values())
    for url in ("http://", "mysql+pymysql://", "rabbit://"):
        for line in text.splitlines():
            if url in line:
                assert "@127.0.0.1" in line or "//127.0.0.1" in line, line


def test_passwd_gets_libvirts_users_once():
    passwd, group = configs.passwd_group("root:x:0:0:root:/root:/bin/bash\n", "root:x:0:\nkvm:x:993:\n")
    again, group2 = configs.passwd_group(passwd, group)
    assert again == passwd and group2 == group
    users = {line.split(":")[0]: line.split(":") for line in passwd.splitlines()}
    assert set(users) == {"root", "libvirt-qemu", "libvirt-dnsmasq"}
    assert users["libvirt-qemu"][3] == "993"       # the host's kvm group, not a second one


def test_qemu_wrapper_caps_the_tcg_translation_cache_only(tmp_path):
    real = tmp_path / "real"
    real.write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
    real.chmod(0o755)
    wrapper = tmp_path / "qemu"
    wrapper.write_text(configs.qemu_wrapper(configs.Settings(), str(real)))
    wrapper.chmod(0o755)
    args = ["-name", "guest=a b", "-accel", "tcg", "-machine", "none,accel=kvm:tcg", "-append", "tcg"]
    out = subprocess.run([str(wrapper), *args], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["-name", "guest=a b", "-accel", "tcg,tb-size=256", "-machine",
                                "none,accel=kvm:tcg", "-append", "tcg"]


def test_service_plan():
    plan = services.plan(configs.Settings())
    names = [x.name for x in plan]
    assert len(names) == len(set(names))
    assert [x.name for x in services.stage(plan, "backend")] == ["mariadb", "rabbitmq", "memcached"]
    by = {x.name: x for x in plan}
    assert "/etc/nova/nova-compute.conf" in by["nova-compute"].argv
    assert "/etc/nova/nova.conf" not in by["nova-compute"].argv
    assert {"libvirtd", "virtlogd"} <= set(names)
    for x in plan:
        assert x.port or x.path or x.settle, x.name        # every service has a readiness probe
    for name in ("keystone", "placement"):                 # one thread per uWSGI process (eventlet hang)
        argv = by[name].argv
        assert argv[argv.index("--threads") + 1] == "1" and "Connection: close" in argv


def test_database_grants_and_syncs():
    s = configs.Settings()
    text = database.grants_sql(s)
    assert "GRANT ALL PRIVILEGES ON nova_cell0.* TO 'nova'@'%'" in text
    assert "CREATE USER IF NOT EXISTS 'nova_api'" not in text
    chains = database.sync_chains(s)
    assert chains[0][0] == ["keystone-manage", "db_sync"] and chains[0][-1][1] == "bootstrap"
    nova = next(c for c in chains if c[0][0] == "nova-manage")
    assert [c[1:3] for c in nova] == [["api_db", "sync"], ["cell_v2", "map_cell0"], ["cell_v2", "create_cell"],
                                      ["db", "sync"]]     # each needs the one before
    assert sum(len(c) for c in chains) == 11
    assert database.dump_key("a", s) != database.dump_key("b", s)
    assert database.dump_key("a", s) != database.dump_key("a", configs.Settings(password="other"))


def test_mount_plan_layers_and_binds(tmp_path):
    tree = tmp_path / "tree"
    (tree / "usr").mkdir(parents=True)
    (tree / "etc").mkdir()
    layers = tmp_path / "layers"
    (layers / "etc").mkdir(parents=True)
    qemu = tmp_path / "qemu"
    (qemu / "usr/bin").mkdir(parents=True)
    layout = Layout(tree, (layers, qemu), tmp_path / "run", binds=(("/cache/libvirt", "/var/cache/libvirt"),))
    assert Layout.from_json(layout.to_json()) == layout
    plan = mount_plan(layout)
    usr = next(p for p in plan if p[-1] == "/usr")
    assert f"lowerdir={qemu}/usr:{tree}/usr:/usr," in usr[5]    # a layer without etc/ is left out there
    etc = next(p for p in plan if p[-1] == "/etc")
    assert f"lowerdir={layers}/etc:{tree}/etc:/etc," in etc[5]
    var = next(p for p in plan if p[-1] == "/var")
    assert "lowerdir=/var," in var[5]
    assert plan[-1] == ["mount", "--bind", "/cache/libvirt", "/var/cache/libvirt"]
    assert ["mount", "-t", "sysfs", "sysfs", "/sys"] in plan


def test_clean_env_drops_the_callers_python_and_cloud(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/x")
    monkeypatch.setenv("OS_CLOUD", "prod")
    monkeypatch.setenv("PATH", "/root/.pyenv/shims:/usr/bin")
    env = clean_env({"A": "1"})
    assert "PYTHONPATH" not in env and "OS_CLOUD" not in env and env["A"] == "1"
    assert not env["PATH"].startswith("/root")


class HostSandbox:
    """A sandbox that runs commands on the host (bookkeeping tests only)."""

    def argv(self, argv):
        return list(argv)

    def run(self, argv, check=True, timeout=None, **kw):
        return subprocess.run(argv, capture_output=True, text=True)


def test_launcher_niceness_readiness_and_stop_order(tmp_path):
    launcher = services.Launcher(HostSandbox(), tmp_path / "logs", nice=10)
    a = services.Service("a", ("sleep", "30"), settle=0.2)
    b = services.Service("b", (sys.executable, "-c", "import time; time.sleep(30)"), path=str(tmp_path / "flag"))
    pa, pb = launcher.start(a), launcher.start(b)
    nice = int(Path(f"/proc/{pa.pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
    assert nice == 10
    with pytest.raises(services.LaunchError):
        launcher.start(a)                          # already running
    (tmp_path / "flag").write_text("")
    ready = launcher.wait_ready((a, b), timeout=10)
    assert set(ready) == {"a", "b"} and ready["a"] >= 0.2
    assert launcher.running() == ["a", "b"]
    stopped = launcher.stop_all()
    assert list(stopped) == ["b", "a"] and set(stopped.values()) == {"stopped"}
    assert pa.poll() is not None and pb.poll() is not None
    assert launcher.running() == []


def test_launcher_reports_a_service_that_died(tmp_path):
    launcher = services.Launcher(HostSandbox(), tmp_path / "logs")
    dead = services.Service("dead", ("sh", "-c", "echo broken config >&2; exit 3"), port=1)
    launcher.start(dead)
    time.sleep(0.5)
    with pytest.raises(services.LaunchError, match="broken config"):
        launcher.wait_ready((dead,), timeout=5)


def test_smoke_address_from_either_client_format():
    assert smoke._address({"reallab-net": ["10.210.0.123"]}) == "10.210.0.123"
    assert smoke._address("reallab-net=10.210.0.123") == "10.210.0.123"
    assert "write_files" in smoke.user_data() and smoke.MARKER in smoke.user_data()


def test_qemu_layer_is_cached_by_content_and_keeps_the_binary_below_usr(tmp_path):
    from mecpool.reallab.stack import QEMU_REAL, qemu_layer
    tree = tmp_path / "tree"
    (tree / "usr/bin").mkdir(parents=True)
    host_qemu = tmp_path / "host-qemu"
    host_qemu.write_text("binary")
    s = configs.Settings()
    layer = qemu_layer(tmp_path / "cache", tree, s, host_qemu=host_qemu)
    assert qemu_layer(tmp_path / "cache", tree, s, host_qemu=host_qemu) == layer     # reused: same ctime
    assert (layer / QEMU_REAL).read_text() == "binary"
    # QEMU finds its modules in <its dir>/../lib/x86_64-linux-gnu/qemu: its dir must be /usr/<one level>.
    assert Path("/" + QEMU_REAL).parent.parent == Path("/usr")
    wrapper = (layer / "usr/bin/qemu-system-x86_64").read_text()
    assert f"exec /{QEMU_REAL} " in wrapper and "tb-size=256" in wrapper
    assert qemu_layer(tmp_path / "cache", tree, configs.Settings(tcg_tb_mb=128), host_qemu=host_qemu) != layer


def test_pss_from_smaps_rollup():
    text = "00400000-7ffd [rollup]\nRss:               10240 kB\nPss:                4096 kB\nPss_Anon: 1 kB\n"
    assert smoke.pss_kib(text) == 4096
    assert smoke.pss_kib(Path("/proc/self/smaps_rollup").read_text()) > 0


def test_cpu_time_from_proc_stat_with_a_name_holding_spaces_and_parentheses():
    # /proc/PID/stat: pid (comm) state ppid ... utime(14) stime(15) ... starttime(22)
    fields = ["S", "1"] + ["0"] * 9 + ["1500", "250"] + ["0"] * 6 + ["987654"] + ["0"] * 10
    assert smoke.process_ticks("4242 (qemu (x) 1) " + " ".join(fields)) == (987654, 1750)
    assert smoke.machine_busy_ticks("cpu  100 5 50 9000 40 3 2 1 0 0\ncpu0 50 2 25 4500 20 1 1 0 0 0\n") == 161


def test_the_monitor_sums_each_processes_cpu_time_by_name():
    class Sandbox:
        @staticmethod
        def members():
            return [os.getpid()]
    monitor = smoke.LabMonitor(Sandbox())
    monitor.busy_at_start = smoke.machine_busy_ticks(Path("/proc/stat").read_text())
    monitor.sample()
    (name, before), = monitor.cpu_ticks.values()
    spent = time.process_time() + 0.3
    while time.process_time() < spent:      # 0.3 s of this process's own CPU, however busy the host
        pass
    monitor.sample()
    (same, after), = monitor.cpu_ticks.values()      # one process: one entry, its latest time
    assert same == name and after - before >= 0.25 * smoke.CLOCK_TICKS
    assert monitor.cpu_seconds_by_name() == {name: round(after / smoke.CLOCK_TICKS)}
    assert monitor.machine_busy_s() >= 0


def test_stale_holders_are_those_of_this_run_directory_only(tmp_path):
    mine = Layout(tmp_path / "tree", (tmp_path / "layers",), tmp_path / "run")
    other = Layout(tmp_path / "tree", (tmp_path / "layers",), tmp_path / "other-run")
    hold = ["python3", "-m", "mecpool.reallab.sandbox", "hold"]
    cmdlines = {
        10: ["unshare", "--mount", "--pid", *hold, mine.to_json(), "ready"],
        11: [*hold, mine.to_json(), "ready"],
        12: [*hold, other.to_json(), "ready"],
        13: ["vim", "mecpool/reallab/sandbox.py", "hold"],
        14: [*hold, "not json", "ready"],
    }
    assert stale_holders(tmp_path / "run", cmdlines) == [10, 11]


def test_teardown_removes_the_writable_layers_unless_kept(tmp_path):
    from mecpool.reallab.stack import Stack
    for keep in (False, True):
        run = tmp_path / f"run-{keep}"
        for name in ("upper/var/lib/glance/images", "work/var/work", "logs"):
            (run / name).mkdir(parents=True)
        (run / "logs" / "nova-api.log").write_text("log")
        Stack(run, tmp_path / "cache", log=lambda m: None, keep_layers=keep).down()
        assert (run / "upper").exists() == keep and (run / "work").exists() == keep
        assert (run / "logs" / "nova-api.log").read_text() == "log"
