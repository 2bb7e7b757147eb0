"""Supported refs checked at the source: each charm's rendered config against the
key layout of its pinned ref's template (fixtures derived from upstream etc/, see
fixtures/oai-layouts), a mismatching ref failing before any build, and the
day-1 sequence build -> wait-build -> configure with the build runner at its seam."""

import libconf
import pytest

import charmtest
import epc_fakes
from charmhelpers_mecpool import budget, configlayout
from charmhelpers_mecpool.errors import WaitTimeout
from charmhelpers_mecpool.sourcecheck import UnsupportedSource

MODULES = {vdu: charmtest.load_charm_module("oai-" + vdu, vdu + "_workload")
           for vdu in ("hss", "mme", "spgwc", "spgwu")}
CLASSES = {"hss": "HssWorkload", "mme": "MmeWorkload", "spgwc": "SpgwcWorkload",
           "spgwu": "SpgwuWorkload"}


def workload(tmp_path, vdu, stems=None, duration=0, fail_at=None):
    module = MODULES[vdu]
    host = epc_fakes.FakeHost(tmp_path, interfaces={
        "ens3": ["10.0.0.9/24"], "ens4": ["172.55.55.101/24"], "ens5": ["172.16.1.104/24"]})
    host.clock = epc_fakes.FakeClock()
    host.builds = epc_fakes.FakeBuildRunner(host, host.clock, duration, fail_at)
    host.runner.on(module.BUILD_STEPS[-1].argv[:1], handler=lambda a, kw: (host.make_file(module.BINARY, "elf"),
                                                   (0, "", ""))[1])
    epc_fakes.install_templates(host.path(module.SOURCE_DIR), vdu, stems)
    kwargs = {"heartbeat": lambda *a, **k: 1} if vdu == "spgwu" else {}
    host.workload = getattr(module, CLASSES[vdu])(
        run=host.runner, root=host.root, mac_lookup=lambda a: None, sleep=host.clock.sleep,
        clock=host.clock, build_runner=host.builds, **kwargs)
    return host


@pytest.mark.parametrize("vdu", sorted(MODULES))
def test_rendered_config_matches_the_pinned_template_key_by_key(tmp_path, vdu):
    host = workload(tmp_path, vdu)
    context = host.workload.sample_context()
    layout = host.workload.check_source("repo", "pinned", context)
    for config_file in layout.files:
        ours = configlayout.PARSERS[config_file.parser](
            host.workload.renderer.render(config_file.template, dict(context, **layout.context)))
        theirs = configlayout.PARSERS[config_file.parser](
            open(host.path(MODULES[vdu].SOURCE_DIR) + "/" + config_file.upstream).read())
        assert not configlayout.compare(ours, theirs), config_file.upstream
        # and the check can fail: one key less is found
        del ours.kinds[sorted(ours.kinds)[-1]]
        assert configlayout.compare(ours, theirs).missing


def test_spgwu_v110_is_written_in_its_own_layout(tmp_path):
    host = workload(tmp_path, "spgwu", [("spgwu-c6c4e18-spgw_u.conf", "etc/spgw_u.conf")])
    layout = host.workload.check_source("repo", "v1.1.0", host.workload.sample_context())
    assert layout.name == "tun-device" and layout.context["pdn_device"] == "tun0"
    conf = libconf.loads(host.workload.renderer.render(
        "spgw_u.conf.j2", dict(host.workload.sample_context(), **layout.context)))["SPGW-U"]
    assert conf["SNAT"] == "yes" and "SNAT" not in conf["PDN_NETWORK_LIST"][0]


def test_unknown_layout_fails_build_naming_repository_ref_and_keys(tmp_path):
    # The SPGW-C template given to the MME: nothing matches.
    host = workload(tmp_path, "mme", [("spgwc-4b4c60ac-spgw_c.conf", "etc/mme.conf")])
    with pytest.raises(UnsupportedSource) as info:
        host.workload.build({"git-repository": "https://example.org/mme.git",
                             "git-commit": "v9.9"})
    text = str(info.value)
    assert "https://example.org/mme.git at v9.9" in text and "etc/mme.conf" in text
    assert "not in the template" in text and "missing" in text and "P-GW" in text
    assert host.builds.starts == []  # nothing built


def test_day1_sequence_with_a_slow_build(tmp_path):
    host = workload(tmp_path, "spgwc", duration=20 * 60)
    params = dict(epc_fakes_params())
    started = host.workload.build({"git-repository": params["git-repository"],
                                   "git-commit": params["git-commit"],
                                   "spdlog-commit": "4a9ccf7e38e257feecce0c579a782741254eaeef"})
    assert started["build"] == "started" and started["layout"] == "spgwc-2020"
    assert host.workload.status()[0] == "maintenance"
    steps = -(-20 * 60 // budget.BUILD_WAIT_STEP)   # the wait-build steps a 20-min build needs
    for _ in range(steps - 1):
        assert host.workload.wait_build()["build"] == "running"
    assert host.workload.wait_build()["build"] == "built"
    host.on_start = {"spgwc.service": [("udp", "172.16.1.104", 2123),
                                       ("udp", "172.55.55.101", 8805)]}
    module = MODULES["spgwc"]
    result = host.workload.configure(module.parse_configure(params))
    # built by the last wait-build, so not by configure
    assert result["built"] == "false" and result["restarted"] == "true"
    assert max(host.clock.sleeps) <= budget.BUILD_WAIT_STEP
    assert host.builds.starts == [host.commit]


def test_configure_does_not_wait_for_a_running_build(tmp_path):
    # the wait-build steps before it waited; configure must keep its budget for its own waits
    host = workload(tmp_path, "spgwc", duration=60 * 60)
    before = host.clock()
    with pytest.raises(WaitTimeout) as info:
        host.workload.configure(MODULES["spgwc"].parse_configure(epc_fakes_params()))
    assert "still running" in str(info.value)
    assert "run wait-build until it reports built, then configure again" in str(info.value)
    assert host.clock() - before < budget.BUILD_POLL_INTERVAL


def epc_fakes_params():
    return dict(MODULES["spgwc"].SAMPLE_PARAMS, **{"git-commit": "4b4c60ac"})
