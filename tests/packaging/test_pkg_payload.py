"""What the pool VDUs' cloud-init carries as code: mecpool.rserpool stripped line for line
(pystrip), one tar per role, and on a PE librspfreshload, built and checked before it ships."""

import ast
import base64
import gzip
import io
import json
import tarfile

import pytest
import yaml

from mecpool import rsplibfix
from mecpool.descriptors import additional_params
from mecpool.packaging import builder, payload, pystrip, userdata
from mecpool.site import parse_site

from pkgfixtures import EXAMPLE_SITE, contract_provider

TRICKY = r'''"""Module doc, two lines:
é and ü count twice in UTF-8."""
import os  # a comment after code
TEMPLATE = """# not a comment
keep   \n"""


class Error(ValueError):
    """Only a docstring."""


def f(x):
    "one-line doc"; y = x  # noqa
    return "#" + y  # hash inside a string stays
'''


def normalised(text):
    """The AST with every docstring emptied, with each statement's line number."""
    tree = ast.parse(text)
    for node in pystrip.docstring_nodes(tree):
        node.value.value = ""
    lines = [(type(n).__name__, n.lineno) for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    return ast.dump(tree), lines


@pytest.mark.parametrize("name", sorted({n for role in payload.RSERPOOL_ENTRIES
                                         for n, _ in payload.rserpool_modules(role)}))
def test_stripped_modules_are_the_same_code_on_the_same_lines(name):
    text = dict(payload.rserpool_modules("pool-element"))[name]
    stripped = pystrip.strip(text)
    assert normalised(stripped) == normalised(text)
    assert stripped.count("\n") == text.count("\n")
    assert len(stripped) < len(text)


def test_strip_keeps_strings_and_cuts_only_comments_and_docstrings():
    stripped = pystrip.strip(TRICKY)
    assert normalised(stripped) == normalised(TRICKY)
    assert stripped.split("\n") == [
        '""', '', 'import os', 'TEMPLATE = """# not a comment', 'keep   \\n"""', '', '',
        'class Error(ValueError):', '    ""', '', '', 'def f(x):', '    ""; y = x',
        '    return "#" + y', '']


def test_role_tar_holds_the_stripped_closure_root_owned():
    with tarfile.open(fileobj=io.BytesIO(payload.rserpool_tar("registrar"))) as archive:
        members = {m.name: (m.mode, m.uid, m.mtime, archive.extractfile(m).read().decode())
                   for m in archive.getmembers()}
    assert members == dict((payload.module_path(n).lstrip("/"), (0o644, 0, 0, pystrip.strip(t)))
                           for n, t in payload.rserpool_modules("registrar"))
    assert payload.rserpool_tar("registrar") == payload.rserpool_tar("registrar")   # reproducible


def site(freshload):
    data = yaml.safe_load(EXAMPLE_SITE.read_text())
    data["rsplib"] = {"freshload": freshload}
    return parse_site(data)


def pe_cloud_config(site_, result):
    """The first PE group's cloud-config as the VDU gets it (LCM's rendering)."""
    package = next(p for p in result.packages if p.name == "rsp-pool-element")
    with tarfile.open(str(package.path)) as archive:
        text = archive.extractfile("rsp-pool-element/cloud_init/pool-element.cfg").read().decode()
    return yaml.safe_load(userdata.lcm_render(text, additional_params(site_, reveal_secrets=False)["4"]))


def test_stock_site_ships_no_library_and_no_preload(tmp_path):
    def no_library():
        raise AssertionError("a stock site must not build or ship the library")
    stock = site(False)
    result = builder.build(stock, tmp_path / "build", charm_provider=contract_provider(tmp_path / "c"),
                           library_provider=no_library)
    config = pe_cloud_config(stock, result)
    assert rsplibfix.INSTALL_PATH not in [f["path"] for f in config["write_files"]]
    settings = next(f for f in config["write_files"] if f["path"] == "/etc/mecpool/pool-element.json")
    assert "preload" not in json.loads(settings["content"])
    fixed_site = site(True)
    fixed = builder.build(fixed_site, tmp_path / "fixed", charm_provider=contract_provider(tmp_path / "c"))
    library = [f for f in pe_cloud_config(fixed_site, fixed)["write_files"] if f["path"] == rsplibfix.INSTALL_PATH]
    assert [(f["permissions"], f["encoding"]) for f in library] == [("0755", "gz+b64")]
    assert gzip.decompress(base64.b64decode(library[0]["content"])) == rsplibfix.shippable().path.read_bytes()
    sizes = {(s.member, s.vdu_id): s.user_data_bytes for s in result.user_data}
    fixed_sizes = {(s.member, s.vdu_id): s.user_data_bytes for s in fixed.user_data}
    assert fixed_sizes[("4", "pool-element")] > sizes[("4", "pool-element")]


def test_build_refuses_a_library_that_would_not_load_on_glibc_2_27(tmp_path, monkeypatch):
    """The build ships only a library whose version needs glibc 2.27 meets (read from the
    .so itself); one needing GLIBC_2.34 stops it, naming the symbol, and nothing is written."""
    real = rsplibfix.glibc.version_needs

    def newer(path):
        return real(path) + [rsplibfix.glibc.VersionNeed("libc.so.6", "GLIBC_2.34", ["pthread_once"])]
    monkeypatch.setattr(rsplibfix.glibc, "version_needs", newer)
    out = tmp_path / "build"
    with pytest.raises(builder.BuildError, match=r"pthread_once needs GLIBC_2\.34 \(libc\.so\.6\)"):
        builder.build(site(True), out, charm_provider=contract_provider(tmp_path / "c"))
    assert not out.exists() or not any(out.iterdir())
