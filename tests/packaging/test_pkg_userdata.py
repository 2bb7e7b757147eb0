"""User data as OSM Release EIGHT and Nova build it: the construction read back
with real parsers (email, base64, YAML, ssh-keygen), the sizes of every VDU of
the example site and of a large site, and the build refusing what Nova refuses."""

import base64
import copy
import email
import subprocess
from pathlib import Path

import pytest
import yaml

from mecpool.descriptors import additional_params
from mecpool.packaging import builder, userdata
from mecpool.packaging.payload import rserpool_modules
from mecpool.packaging.validate import Package
from mecpool.site import load_site

from pkgfixtures import EXAMPLE_SITE, contract_provider

CLOUD_INIT = "#cloud-config\nhostname: {{ name }}\nruncmd:\n- [echo, {{ greeting|tojson }}]\n"


def test_lcm_render_is_jinja2_template_with_yaml_values():
    text = userdata.lcm_render(CLOUD_INIT, {"name": "pe-1", "greeting": "!!yaml [1, 2]"})
    # jinja2.Template drops the final newline, as in LCM; !!yaml values are parsed.
    assert text == "#cloud-config\nhostname: pe-1\nruncmd:\n- [echo, [1, 2]]"


def test_lcm_render_refuses_missing_params_and_syntax_errors():
    with pytest.raises(userdata.UserDataError, match="VDU x: additionalParams lack greeting, name"):
        userdata.lcm_render(CLOUD_INIT, {}, where="VDU x")
    with pytest.raises(userdata.UserDataError, match="VDU y:1: OSM cannot render it"):
        userdata.lcm_render("{{ broken", {}, where="VDU y")


def test_ro_multipart_reads_back_as_cloud_init_sees_it():
    keys = userdata.sizing_keys()
    text = userdata.ro_user_data(CLOUD_INIT, keys)
    message = email.message_from_string(text)
    assert message.is_multipart()
    parts = message.get_payload()
    assert [p.get_content_type() for p in parts] == ["text/cloud-config", "text/cloud-config"]
    assert {p["Content-Transfer-Encoding"] for p in parts} == {"base64"}
    assert {p.get_content_charset() for p in parts} == {"utf-8"}
    assert parts[0].get_payload(decode=True).decode() == CLOUD_INIT
    key_part = parts[1].get_payload(decode=True).decode()
    assert key_part.startswith("#cloud-config\n")
    loaded = yaml.safe_load(key_part)
    assert loaded["ssh-authorized-keys"] == keys
    assert loaded["users"] == [{"default": None, "ssh-authorized-keys": keys}]
    # Nova's copy is base64 of exactly this text.
    assert base64.b64decode(userdata.nova_user_data(text)).decode() == text


def test_without_keys_the_file_goes_alone():
    assert userdata.ro_user_data(CLOUD_INIT, []) == CLOUD_INIT


def test_sizing_keys_are_as_long_as_real_rsa_4096_keys(tmp_path):
    for number, line in enumerate(userdata.sizing_keys()):
        path = tmp_path / "k{}.pub".format(number)
        path.write_text(line + "\n")
        shown = subprocess.run(["ssh-keygen", "-l", "-f", str(path)], capture_output=True, text=True, check=True)
        assert shown.stdout.split()[0] == "4096" and shown.stdout.rstrip().endswith("(RSA)")
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "4096", "-N", "", "-C", "juju-client-key-0",
                    "-f", str(tmp_path / "real")], check=True)
    real = (tmp_path / "real.pub").read_text().strip()
    assert len(real) == len(userdata.sizing_keys()[0])


def sizes_of(site, tmp_path):
    result = builder.build(site, tmp_path / "build", charm_provider=contract_provider(tmp_path / "charms"))
    return result.user_data


def test_example_site_every_vdu_within_goal(tmp_path):
    sizes = sizes_of(load_site(EXAMPLE_SITE), tmp_path)
    assert sorted({(s.vnfd_id, s.vdu_id) for s in sizes}) == [
        ("oai-epc", "hss"), ("oai-epc", "mme"), ("oai-epc", "spgwc"), ("oai-epc", "spgwu"),
        ("rsp-pool-element", "pool-element"), ("rsp-registrar", "registrar")]
    over = [s for s in sizes if s.user_data_bytes > userdata.USER_DATA_GOAL]
    assert not over, over
    # The pool VDUs carry the key part (native charms need SSH access).
    pe = next(s for s in sizes if s.vdu_id == "pool-element")
    assert pe.user_data_bytes > 4 * pe.rendered_bytes / 3 * 4 / 3


def large_site(tmp_path):
    """The example with 10 PE groups on 10 VIMs and 3 registrars."""
    data = yaml.safe_load(Path(EXAMPLE_SITE).read_text())
    template = data["vims"]["longyearbyen"]
    data["pool"]["pe_groups"] = {}
    for number in range(10):
        vim = "vim{}".format(number)
        data["vims"][vim] = dict(copy.deepcopy(template), osm_account="acct-" + vim, pool_network={
            "name": "pool-" + vim, "subnet": "10.{}.0.0/24".format(120 + number),
            "gateway": "10.{}.0.1".format(120 + number)})
        data["pool"]["pe_groups"]["group{}".format(number)] = {
            "kind": "pmc", "vim": vim, "count": 1, "max_count": 3, "capacity": 1000000, "max_jobs": 4,
            "load_increment": 0.5}
    third = dict(copy.deepcopy(data["pool"]["registrars"][1]), name="pr-third", vim="vim9",
                 address="10.129.0.10", identifier=0x103, peers=["pr-mec", "pr-stavanger"])
    data["pool"]["registrars"].append(third)
    path = tmp_path / "large.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_site(path)


def test_large_site_every_vdu_within_goal(tmp_path):
    site = large_site(tmp_path)
    sizes = sizes_of(site, tmp_path)
    assert len([s for s in sizes if s.vdu_id == "pool-element"]) == 10
    assert len([s for s in sizes if s.vdu_id == "registrar"]) == 3
    over = [s for s in sizes if s.user_data_bytes > userdata.USER_DATA_GOAL]
    assert not over, over


def test_pool_vdus_ship_only_what_configure_and_the_watchdog_import():
    assert [name for name, _ in rserpool_modules("registrar")] == [
        "__init__.py", "commands.py", "configure.py", "units.py"]
    assert [name for name, _ in rserpool_modules("pool-element")] == [
        "__init__.py", "commands.py", "configure.py", "units.py", "watchdog.py"]


def test_build_refuses_user_data_nova_refuses(tmp_path):
    """A cloud-init file bloated past Nova's limit: the error names the member,
    the VDU and the size; the real build writes nothing."""
    site = load_site(EXAMPLE_SITE)
    out = tmp_path / "first"
    packages = [Package.from_archive(item.path) for item in builder.build(
        site, out, charm_provider=contract_provider(tmp_path / "charms")).packages]
    pe = next(p for p in packages if p.top == "rsp-pool-element")
    name = "rsp-pool-element/cloud_init/pool-element.cfg"
    pe.files[name] += ("\n# " + "x" * 70) .encode() * 600
    with pytest.raises(builder.BuildError) as caught:
        builder.user_data_sizes(site, packages, additional_params(site, reveal_secrets=False))
    message = str(caught.value)
    assert "limit 65,535 bytes" in message
    assert "member 4 (rsp-pool-element) VDU pool-element" in message
    assert "member 2 (" not in message  # only the VDUs over the limit
    size = int(message.split("VDU pool-element: ")[1].split(" bytes")[0].replace(",", ""))
    assert size > userdata.NOVA_USER_DATA_LIMIT


def test_build_writes_nothing_when_user_data_too_large(tmp_path, monkeypatch):
    monkeypatch.setattr(userdata, "NOVA_USER_DATA_LIMIT", 20000)
    out = tmp_path / "build"
    with pytest.raises(builder.BuildError, match=r"member 2 \(rsp-registrar\) VDU registrar: [0-9,]+ bytes"):
        builder.build(load_site(EXAMPLE_SITE), out, charm_provider=contract_provider(tmp_path / "charms"))
    assert not out.exists() or not any(out.iterdir())
