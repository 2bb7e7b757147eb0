"""Cloud-init files: the build leaves OSM's placeholders intact; rendered like
OSM Release EIGHT LCM does (jinja2 with the member's additionalParams) they
are valid cloud-config, and the pool VDUs' embedded settings and rserpool
files produce the very unit the charm would write."""

import base64
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from mecpool.descriptors import additional_params, cloud_init_params, members
from mecpool.descriptors.primitives import CHARMS
from mecpool.packaging import userdata
from mecpool import rsplibfix
from mecpool.packaging import payload, pystrip
from mecpool.packaging.payload import rserpool_modules
from mecpool.rserpool import configure

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "charms" / "lib"))
from charmhelpers_mecpool.aptlock import AUTO_APT_TIMERS  # noqa: E402

CLOUD_INIT = {"oai-epc": ["hss.cfg", "mme.cfg", "spgwc.cfg", "spgwu.cfg"],
              "rsp-registrar": ["registrar.cfg"], "rsp-pool-element": ["pool-element.cfg"]}


@pytest.fixture(scope="module")
def cloud_init(example_build):
    out, built = example_build
    files = {}
    for item in built:
        if item.name in CLOUD_INIT:
            with tarfile.open(str(item.path)) as archive:
                for name in CLOUD_INIT[item.name]:
                    files[(item.name, name)] = archive.extractfile(
                        "{}/cloud_init/{}".format(item.name, name)).read().decode()
    return files


def osm_render(text, params):
    """What LCM v8.0 does with a cloud-init file (mecpool.packaging.userdata)."""
    return userdata.lcm_render(text, params)


def member_params(example, vnfd_id):
    params = additional_params(example, reveal_secrets=False)
    return [(m, params[m.index]) for m in members(example) if m.vnfd_id == vnfd_id]


def test_build_time_pass_leaves_osm_placeholders(cloud_init):
    pe = cloud_init[("rsp-pool-element", "pool-element.cfg")]
    for placeholder in ("{{ pe_capacity|tojson }}", "{{ pe_registrars|tojson }}", "{{ pool_handle|tojson }}",
                        "{%- if pool_routes %}", "{{ pool_gateway|tojson }}"):
        assert placeholder in pe
    for text in cloud_init.values():
        assert "[[" not in text and "[%" not in text and "[#" not in text
        assert text.startswith("#cloud-config\n")
    assert cloud_init_params(pe) == {"pool_handle", "pe_registrars", "pe_local_address", "pe_capacity",
                                     "pe_max_jobs", "pe_load_increment", "pool_routes", "pool_gateway"}
    assert cloud_init_params(cloud_init[("oai-epc", "hss.cfg")]) == set()


@pytest.mark.parametrize("vnfd_id,name", [(v, n) for v, names in CLOUD_INIT.items() for n in names])
def test_osm_rendering_gives_cloud_config(example, cloud_init, vnfd_id, name):
    for member, params in member_params(example, vnfd_id):
        rendered = osm_render(cloud_init[(vnfd_id, name)], params)
        assert rendered.startswith("#cloud-config\n")
        config = yaml.safe_load(rendered)
        assert config["ssh_pwauth"] is False and config["disable_root"] is True
        for forbidden in ("password", "chpasswd", "passwd", "lock_passwd", "users"):
            assert forbidden not in config
        assert "osm4us" not in rendered and "REDACTED" not in rendered
        netplan = [f for f in config["write_files"] if f["path"].startswith("/etc/netplan/")]
        assert len(netplan) == 1 and netplan[0]["permissions"] == "0600"
        ethernets = yaml.safe_load(netplan[0]["content"])["network"]["ethernets"]
        assert "ens3" not in ethernets  # mgmt keeps its default route
        for nic in ethernets.values():
            assert nic["dhcp4"] is True and nic["dhcp4-overrides"]["use-routes"] is False
        if vnfd_id == "oai-epc":
            assert config["hostname"] == name[:-4]
            # no timer starts apt beside the charm's (the units the charm masks too)
            assert config["bootcmd"] == [["systemctl", "mask", "--now"] + list(AUTO_APT_TIMERS)]
            expected = {"hss": 1, "mme": 3, "spgwc": 2, "spgwu": 3}[name[:-4]]
            assert sorted(ethernets) == ["ens{}".format(4 + i) for i in range(expected)]
        else:
            routes = ethernets["ens4"].get("routes", [])
            assert [r["to"] for r in routes] == [s for s in params["pool_routes"].split(",") if s]
            assert {r["via"] for r in routes} <= {params["pool_gateway"]}


def pool_files(config):
    """(settings {path: text}, code {path: bytes} as cloud-init writes them: the tar and,
    on a PE, the library)."""
    settings = {f["path"]: f["content"] for f in config["write_files"] if f["path"].startswith("/etc/mecpool/")}
    code = {f["path"]: gzip.decompress(base64.b64decode(f["content"])) for f in config["write_files"]
            if f.get("encoding") == "gz+b64"}
    return settings, code


def tar_members(data):
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return {"/" + m.name: (m.mode, m.uid, archive.extractfile(m).read()) for m in archive.getmembers()}


@pytest.mark.parametrize("vnfd_id,name,role", [
    ("rsp-pool-element", "pool-element.cfg", "pool-element"),
    ("rsp-registrar", "registrar.cfg", "registrar"),
])
def test_pool_vdu_joins_by_itself(example, cloud_init, tmp_path, vnfd_id, name, role):
    """Extract what the cloud-init writes, run its runcmd configure step with the
    extracted code (not the repository's), and compare with the charm's unit."""
    for member, params in member_params(example, vnfd_id):
        config = yaml.safe_load(osm_render(cloud_init[(vnfd_id, name)], params))
        settings, code = pool_files(config)
        root = tmp_path / member.index
        for path, data in code.items():
            target = root / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        expected_code = {payload.TAR_PATH} | ({rsplibfix.INSTALL_PATH} if role == "pool-element" else set())
        assert set(code) == expected_code
        # runcmd unpacks the tar first, with the real tar (at / on the VDU, at root here).
        unpack = config["runcmd"][0]
        assert unpack == ["tar", "-xf", payload.TAR_PATH, "-C", "/"]
        subprocess.run(unpack[:2] + [str(root / payload.TAR_PATH.lstrip("/")), "-C", str(root)], check=True)
        members_ = tar_members(code[payload.TAR_PATH])
        assert {path: (mode, uid) for path, (mode, uid, _) in members_.items()} == dict(
            (payload.module_path(n), (0o644, 0)) for n, _ in rserpool_modules(role))
        source = Path(configure.__file__).parent
        for module, text in rserpool_modules(role):
            shipped = (root / payload.module_path(module).lstrip("/")).read_text()
            assert shipped == pystrip.strip((source / module).read_text()), \
                "the modules configure (and a PE's watchdog) need, without comments and docstrings"
        (settings_path, settings_text), = settings.items()
        assert settings_path == configure.SETTINGS_FILES[role]
        if role == "pool-element":
            # The library, as built and checked for glibc 2.27, preloaded into rspserver.
            assert code[rsplibfix.INSTALL_PATH] == rsplibfix.shippable().path.read_bytes()
            assert json.loads(settings_text)["preload"] == rsplibfix.INSTALL_PATH
            library = root / rsplibfix.INSTALL_PATH.lstrip("/")
            settings_text = json.dumps(dict(json.loads(settings_text), preload=str(library)))
        settings_file = root / "settings.json"
        settings_file.write_text(settings_text)
        # The runcmd line, with the paths of this test and a fake `ip` for "auto".
        runcmd = [c for c in config["runcmd"] if "mecpool.rserpool.configure" in c]
        assert runcmd == [["env", "PYTHONPATH=/opt/mecpool/lib", "python3", "-m",
                           "mecpool.rserpool.configure", role, settings_path]]
        # The pool NIC must have its IPv4 address before "auto" picks the source address
        # (else it is the mgmt address: found by the VDU lab).
        waits = [i for i, c in enumerate(config["runcmd"])
                 if "ip -4 -o addr show dev ens4" in " ".join(c) and "networkctl list" in " ".join(c)]
        assert waits and waits[0] < config["runcmd"].index(runcmd[0])
        wait = config["runcmd"][waits[0]]
        assert wait[:2] == ["sh", "-c"]
        configure_index = config["runcmd"].index(runcmd[0])
        assert configure_index == waits[0] + 1
        services = ["rsp-{}.service".format(role)] + (["rsp-pe-watchdog.service"] if role == "pool-element" else [])
        assert config["runcmd"][-2:] == [["systemctl", "daemon-reload"],
                                         ["systemctl", "enable", "--now"] + services]
        bin_dir = root / "bin"
        bin_dir.mkdir()
        fake_ip = bin_dir / "ip"
        fake_ip.write_text("#!/bin/sh\n[ \"$1\" = -4 ] && { echo '3: ens4    inet 10.101.0.57/24'; exit 0; }\n"
                           "echo \"$5 via 10.0.0.1 dev ens4 src 10.101.0.57 uid 0\"\n")
        fake_ip.chmod(0o755)
        fake_networkctl = bin_dir / "networkctl"
        fake_networkctl.write_text("#!/bin/sh\necho '  3 ens4             ether    routable    configured'\n")
        fake_networkctl.chmod(0o755)
        # The wait ends once networkd has configured the NIC and its address held for 3 s.
        waited = subprocess.run(wait, env={"PATH": "{}:/usr/bin:/bin".format(bin_dir)}, timeout=20)
        assert waited.returncode == 0
        unit_dir = root / "units"
        unit_dir.mkdir()
        env = {"PATH": "{}:{}".format(bin_dir, os.environ["PATH"]),
               "PYTHONPATH": str(root / "opt/mecpool/lib")}
        # -S: no site-packages, so the repository's (editable) mecpool cannot be imported.
        done = subprocess.run([sys.executable, "-S", "-m", "mecpool.rserpool.configure", role,
                               str(settings_file), str(unit_dir)], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert sorted(u.name for u in unit_dir.iterdir()) == sorted(services)
        unit = unit_dir / "rsp-{}.service".format(role)
        expected_settings = charm_settings(example, role, params)
        if role == "pool-element":
            expected_settings["preload"] = str(library)
        expected_name, expected_text = configure.render(role, expected_settings)
        if role == "pool-element":
            assert "ExecStart=/usr/bin/env LD_PRELOAD={} rspserver ".format(library) in expected_text
        assert (unit.name, unit.read_text()) == (expected_name, expected_text)
        # The companion units (the PE's watchdog) are the ones the charm installs too.
        for companion, text in configure.companion_units(role, str(settings_file)):
            assert (unit_dir / companion).read_text() == text


def charm_settings(site, role, params):
    """The settings the charm's configure would write from its action params
    (hyphens -> underscores), plus what only cloud-init sets (policy, ports)."""
    charm = "rsp-pool-element" if role == "pool-element" else "rsp-registrar"
    settings = {}
    for primitive in CHARMS[charm].day1:
        for param in primitive.params:
            settings[param.name.replace("-", "_")] = params[param.param]
    if role == "pool-element":
        settings.update(local_address="10.101.0.57", policy=site.pool.policy, local_port=site.pool.pe_port)
    else:
        settings.update(asap_port=3863, enrp_port=9901)
    return settings


def test_pool_element_settings_values(example, cloud_init):
    (member, params), = member_params(example, "rsp-pool-element")[:1]
    config = yaml.safe_load(osm_render(cloud_init[("rsp-pool-element", "pool-element.cfg")], params))
    settings, _ = pool_files(config)
    value = json.loads(settings["/etc/mecpool/pool-element.json"])
    group = example.pool.pe_groups[member.role]
    assert value == {"pool_handle": example.pool.handle, "registrars": params["pe_registrars"],
                     "local_address": "auto", "local_port": example.pool.pe_port,
                     "capacity": int(group.capacity), "max_jobs": group.max_jobs,
                     "load_increment": params["pe_load_increment"], "policy": example.pool.policy,
                     "preload": rsplibfix.INSTALL_PATH}
    assert config["packages"] == ["rsplib-tools"] and config["package_update"] is True


def test_hostile_param_values_stay_inside_json(example, cloud_init):
    """A value with quotes and braces cannot break out of the settings JSON."""
    (member, params), = member_params(example, "rsp-pool-element")[:1]
    params = dict(params, pool_handle='x", "policy": "Random')
    config = yaml.safe_load(osm_render(cloud_init[("rsp-pool-element", "pool-element.cfg")], params))
    settings, _ = pool_files(config)
    value = json.loads(settings["/etc/mecpool/pool-element.json"])
    assert value["pool_handle"] == 'x", "policy": "Random' and value["policy"] == example.pool.policy


SCHEMA = Path(__file__).resolve().parent / "fixtures" / "cloud-init-25.1.4-schema-cloud-config-v1.json.gz"


@pytest.fixture(scope="module")
def cloud_config_schema():
    import jsonschema
    return jsonschema.Draft4Validator(json.loads(gzip.decompress(SCHEMA.read_bytes())))


@pytest.mark.parametrize("vnfd_id,name", [(v, n) for v, names in CLOUD_INIT.items() for n in names])
def test_our_part_is_valid_for_cloud_inits_own_schema(example, cloud_init, cloud_config_schema, vnfd_id, name):
    """cloud-init 25.1's schema (the lab image's) accepts every member's rendered file, gz+b64 code
    and library included; R8's key part fails it (docs/vdu-lab.md), so the validator bites."""
    for member, params in member_params(example, vnfd_id):
        config = yaml.safe_load(osm_render(cloud_init[(vnfd_id, name)], params))
        assert [e.message for e in cloud_config_schema.iter_errors(config)] == []
        broken = json.loads(json.dumps(config))
        broken["write_files"][-1]["encoding"] = "xz"
        assert any("'xz' is not one of" in e.message for e in cloud_config_schema.iter_errors(broken))
    key_part = yaml.safe_load(userdata.key_part(userdata.sizing_keys()))
    assert not cloud_config_schema.is_valid(key_part)
