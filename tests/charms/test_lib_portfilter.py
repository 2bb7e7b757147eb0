"""portfilter: the nftables ruleset read back by the real nft, in a namespace of its own."""

import os
import shutil
import subprocess

import pytest

import epc_fakes
from charmhelpers_mecpool import portfilter
from charmhelpers_mecpool.apt import Apt
from charmhelpers_mecpool.errors import MecpoolError, ValidationError
from charmhelpers_mecpool.systemd import Systemd

NFT = shutil.which("nft") or shutil.which("nft", path="/usr/sbin:/sbin")


def rule(interfaces=("lo", "ens4")):
    return portfilter.port_rule("mecpool_hss", 9080, 9082, interfaces)


def nft_in_namespace(script):
    """Run a shell script of nft commands in a fresh user+network namespace."""
    assert NFT, "nft is missing: scripts/install-deps.sh installs nftables"
    done = subprocess.run(["unshare", "-rn", "sh", "-c", script], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    return done.returncode, done.stdout, done.stderr


def write(tmp_path, text, name="rules.nft"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# ---- the ruleset text, parsed by the real nft --------------------------------------
def test_rendered_ruleset_passes_nft_check(tmp_path):
    path = write(tmp_path, portfilter.render(rule(), "oai-hss"))
    code, _, err = nft_in_namespace("{} -c -f {}".format(NFT, path))
    assert code == 0, err


def test_loaded_twice_lists_exactly_our_rules_and_keeps_other_tables(tmp_path):
    ours = write(tmp_path, portfilter.render(rule(), "oai-hss"))
    # the host's own table, which re-applying ours must not touch
    other = write(tmp_path, "table inet host {\n\tchain input {\n\t\ttype filter hook input "
                            "priority 0; policy accept;\n\t\ttcp dport 22 accept\n\t}\n}\n",
                  "host.nft")
    code, out, err = nft_in_namespace(
        "{nft} -f {other} && {nft} -f {ours} && {nft} -f {ours} && {nft} list ruleset".format(
            nft=NFT, other=other, ours=ours))
    assert code == 0, err
    assert out.count("table inet mecpool_hss {") == 1  # replaced, not added twice
    assert "table inet host {" in out and "tcp dport 22 accept" in out
    code, out, err = nft_in_namespace("{nft} -f {ours} && {nft} list table inet mecpool_hss"
                                      .format(nft=NFT, ours=ours))
    assert code == 0, err
    assert portfilter.listed_rules(out) == [
        'iifname "lo" tcp dport 9080-9082 accept',
        'iifname "ens4" tcp dport 9080-9082 accept',
        "tcp dport 9080-9082 drop"]


def test_changed_interface_replaces_the_old_rule(tmp_path):
    old = write(tmp_path, portfilter.render(rule(("lo", "ens4")), "oai-hss"), "old.nft")
    new = write(tmp_path, portfilter.render(rule(("lo", "ens5")), "oai-hss"), "new.nft")
    code, out, err = nft_in_namespace("{nft} -f {old} && {nft} -f {new} && "
                                      "{nft} list table inet mecpool_hss".format(
                                          nft=NFT, old=old, new=new))
    assert code == 0, err
    assert portfilter.listed_rules(out) == portfilter.rule_lines(rule(("lo", "ens5")))


def test_a_broken_ruleset_is_refused_by_nft(tmp_path):
    """The check above can fail: nft -c refuses a rule it cannot parse."""
    text = portfilter.render(rule(), "oai-hss").replace("tcp dport", "tcp dprot", 1)
    code, _, err = nft_in_namespace("{} -c -f {}".format(NFT, write(tmp_path, text)))
    assert code != 0 and "dprot" in err


def test_ruleset_keeps_to_what_nftables_0_8_3_reads():
    """Bionic's nftables 0.8.3: numeric priority (names came in 0.9.1), add/delete
    table instead of `destroy` (1.0.8), no flush of the whole ruleset."""
    text = portfilter.render(rule(), "oai-hss")
    lines = [line.strip() for line in text.splitlines() if not line.startswith("#")]
    assert lines[:3] == ["add table inet mecpool_hss", "delete table inet mecpool_hss",
                         "table inet mecpool_hss {"]
    assert "type filter hook input priority 0; policy accept;" in lines
    assert "destroy" not in text and "flush ruleset" not in text
    assert "priority filter" not in text


def test_single_port_renders_without_range():
    assert portfilter.rule_lines(portfilter.port_rule("t", 9081, 9081, ["lo"])) == [
        'iifname "lo" tcp dport 9081 accept', "tcp dport 9081 drop"]


@pytest.mark.parametrize("args,field", [
    (("Mecpool", 9080, 9082, ["lo"]), "table"),
    (("mecpool hss", 9080, 9082, ["lo"]), "table"),
    (("t", 0, 9082, ["lo"]), "first-port"),
    (("t", 9080, 65536, ["lo"]), "last-port"),
    (("t", 9080, True, ["lo"]), "last-port"),
    (("t", 9082, 9080, ["lo"]), "last-port"),
    (("t", 9080, 9082, []), "interfaces"),
    (("t", 9080, 9082, ['lo" accept; tcp dport 22 drop #']), "interfaces"),
    (("t", 9080, 9082, ["an-interface-name-too-long"]), "interfaces"),
])
def test_bad_rule_names_the_field(args, field):
    with pytest.raises(ValidationError) as info:
        portfilter.port_rule(*args)
    assert info.value.param == field


def test_duplicate_interfaces_are_listed_once():
    assert portfilter.port_rule("t", 1, 2, ["lo", "ens4", "lo"]).interfaces == ("lo", "ens4")


def test_listed_rules_of_nftables_0_8_3_output():
    """0.8.3 prints the hook priority as a number; the rules print the same."""
    listing = ("table inet mecpool_hss {\n\tchain input {\n\t\ttype filter hook input "
               "priority 0; policy accept;\n\t\tiifname \"lo\" tcp dport 9080-9082 accept\n"
               "\t\ttcp dport 9080-9082 drop\n\t}\n}\n")
    assert portfilter.listed_rules(listing) == ['iifname "lo" tcp dport 9080-9082 accept',
                                                "tcp dport 9080-9082 drop"]


# ---- PortFilter on a fake machine whose nft is the real one -------------------------
@pytest.fixture
def machine(tmp_path):
    host = epc_fakes.FakeHost(tmp_path)
    systemd = Systemd(run=host.runner, unit_dir=host.path("/etc/systemd/system"))
    apt = Apt(run=host.runner)
    host.filter = portfilter.PortFilter("oai-hss", systemd, apt, run=host.runner,
                                        root=host.root, before=["hss.service"])
    return host


def test_apply_installs_loads_and_persists(machine):
    assert machine.filter.problem(rule()) == "is not loaded"
    assert machine.filter.apply(rule()) is True
    assert machine.filter.problem(rule()) is None
    argvs = machine.runner.argvs
    assert ["dpkg-query", "-W", "-f", "${Package} ${Status}\\n", "nftables"] in argvs
    path = machine.path("/etc/mecpool/nftables/mecpool_hss.nft")
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert open(path).read() == portfilter.render(rule(), "oai-hss")
    unit = open(machine.path("/etc/systemd/system/mecpool-hss-nftables.service")).read()
    assert "Type=oneshot\nRemainAfterExit=yes\n" in unit
    assert "WantedBy=sysinit.target" in unit and "DefaultDependencies=no" in unit
    assert "mecpool-hss-nftables.service" in machine.enabled
    # again: nothing to do
    machine.runner.calls.clear()
    assert machine.filter.apply(rule()) is False
    assert ["/usr/sbin/nft", "-f", "/etc/mecpool/nftables/mecpool_hss.nft"] \
        not in machine.runner.argvs


def test_apply_reloads_a_flushed_table(machine):
    machine.filter.apply(rule())
    machine.nft.forget()
    assert machine.filter.problem(rule()) == "is not loaded"
    assert machine.filter.apply(rule()) is True
    assert machine.filter.problem(rule()) is None


def test_problem_names_rules_that_differ(machine):
    machine.filter.apply(rule(("lo", "ens4")))
    problem = machine.filter.problem(rule(("lo", "ens5")))
    assert problem.startswith("holds other rules (")
    assert 'iifname "ens4"' in problem and 'iifname "ens5"' in problem


def test_apply_fails_when_the_loaded_table_is_not_ours(machine):
    """nft -f succeeds but the listing differs (e.g. another tool rewrote it)."""
    machine.runner.on(["/usr/sbin/nft", "list"], stdout="table inet mecpool_hss {\n"
                                                       "\tchain input {\n\t}\n}\n")
    with pytest.raises(MecpoolError) as info:
        machine.filter.apply(rule())
    assert "was loaded but holds other rules (none)" in str(info.value)
