"""Build, validate and publish the OSM Release EIGHT packages of a site.

    site file -> context (mecpool.descriptors) -> rendered templates
    + icons + built charms + checksums.txt -> reproducible .tar.gz (in memory,
    straight from the sources: no copy of the charm trees)
    -> validated (layout, IM schema, NBI rules, additionalParams) -> build/

Everything happens in a staging directory next to the output; only when every
package is valid are the archives (and the built charm directories) moved into
``build/``.  On any error nothing in ``build/`` changes.
"""

import hashlib
import os
import shutil
import tempfile
from collections import namedtuple
from pathlib import Path

import yaml

from mecpool import rsplibfix
from mecpool.descriptors import additional_params, build_context
from mecpool.descriptors.members import EPC_VNFD, NSD_ID, POOL_ELEMENT_VNFD, REGISTRAR_VNFD, members
from mecpool.site.buildinfo import write_build_info

from . import render as render_mod
from . import userdata
from .archive import tree_files, write_archive
from .validate import CHECKSUMS, Package, ValidationFailed, checksums_text, validate_packages

REPO_ROOT = render_mod.REPO_ROOT

# The charm directory each package carries (names = charms/<name>/ = juju.charm).
PACKAGE_CHARMS = {
    EPC_VNFD: ("oai-hss", "oai-mme", "oai-spgwc", "oai-spgwu"),
    REGISTRAR_VNFD: ("rsp-registrar",),
    POOL_ELEMENT_VNFD: ("rsp-pool-element",),
    NSD_ID: (),
}
OUTPUT_DIRS = {"vnf": "vnf-packages", "ns": "ns-packages"}

Built = namedtuple("Built", "name kind path size md5")
# packages: [Built]; user_data: [userdata.VduUserData], one per VDU of the NS.
BuildResult = namedtuple("BuildResult", "packages user_data")


class BuildError(Exception):
    """The build cannot start or finish; nothing was written to the output."""


def default_charm_provider(source_root, staging, vendor_root):
    """Build every charm that has a source directory (mecpool.packaging.charms);
    a missing charm stays missing: the builder never invents one."""
    from . import charms  # the charm builder (vendors ops & co into lib/)
    names = charms.existing_charms(source_root)
    if not names:
        return {}
    try:
        built = charms.build_all(source_root, out_dir=staging, vendor_root=vendor_root, names=names)
    except charms.CharmBuildError as error:
        raise BuildError("charm build failed: {}".format(error)) from None
    return {path.name: path for path in built}


def package_files(name, source, rendered, charm_dirs):
    """{path in the package: (bytes, executable?)}: rendered files, icons,
    charms, and checksums.txt over all of them."""
    files = {relative: (text.encode("utf-8"), False) for relative, text in rendered.items()}
    icons = source / "icons"
    if icons.is_dir():
        files.update(("icons/" + rel, value) for rel, value in tree_files(icons).items())
    for charm in PACKAGE_CHARMS[name]:
        if charm in charm_dirs:
            try:
                tree = tree_files(charm_dirs[charm])
            except ValueError as error:
                raise BuildError(str(error)) from None
            files.update(("charms/{}/{}".format(charm, rel), value) for rel, value in tree.items())
    files[CHECKSUMS] = (checksums_text({rel: data for rel, (data, _) in files.items()}).encode(), False)
    return files


def _md5(path):
    return hashlib.md5(Path(path).read_bytes()).hexdigest()  # noqa: S324 - a checksum


def default_library_provider():
    """librspfreshload as the PE VDUs get it: built from the current source (rebuilt
    when it or the compile command changed) and refused unless it loads with glibc
    2.27 (mecpool.rsplibfix.shippable)."""
    try:
        return rsplibfix.shippable()
    except (rsplibfix.FixBuildError, OSError, ValueError) as error:
        raise BuildError("librspfreshload (rsplib.freshload: true): {}".format(error)) from None


def build(site, out_dir="build", source_root=REPO_ROOT, charm_provider=None, vendor_root=None,
          library_provider=default_library_provider):
    """Build every package for ``site`` into ``out_dir``; returns a BuildResult.

    Raises BuildError, ValidationFailed, ParamsError or RenderError with
    nothing written to ``out_dir`` (the vendor cache aside), among others when
    a VDU's user data, as OSM R8 and Nova receive it, exceeds Nova's limit, or
    the PE's library (``library_provider()``, a rsplibfix.Shippable, asked only
    when the site ships it) cannot be built or would not load on the VDUs.
    """
    source_root = Path(source_root)
    out_dir = Path(out_dir).absolute()
    context = build_context(site)
    member_params = additional_params(site, reveal_secrets=False)
    env = render_mod.environment(source_root)
    sources = render_mod.package_sources(source_root)
    library = library_provider() if site.rsplib.freshload else None
    code = render_mod.cloud_init_code(context, library.gzip_base64() if library else None, source_root)
    rendered = {name: render_mod.render_package(env, name, kind, src, context, code, source_root)
                for name, (kind, src) in sources.items()}

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".mecpool-build-", dir=str(out_dir.parent)))
    try:
        provider = charm_provider or (lambda root, dest: default_charm_provider(
            root, dest, vendor_root or out_dir / "vendor"))
        charm_dirs = provider(source_root, staging / "charms")
        archives = []
        for name, (kind, src) in sources.items():
            files = package_files(name, src, rendered[name], charm_dirs)
            archive = write_archive(name, files, staging / OUTPUT_DIRS[kind] / (name + ".tar.gz"))
            archives.append((name, kind, archive))
        packages = [Package.from_archive(a) for _, _, a in archives]
        violations = validate_packages(packages, member_params)
        if violations:
            raise ValidationFailed(violations)
        sizes = user_data_sizes(site, packages, member_params)
        published = _publish(staging, out_dir, archives, charm_dirs)
        write_build_info(out_dir, site, source_root)  # deploy commands refuse a stale build
        return BuildResult(published, sizes)
    finally:
        shutil.rmtree(str(staging), ignore_errors=True)


def user_data_sizes(site, packages, member_params):
    """[VduUserData] of every VDU; BuildError naming each one Nova would refuse."""
    vnfds, by_id = {}, {}
    for package in packages:
        document = yaml.safe_load(package.files[package.descriptor_names()[0]])
        if "vnfd:vnfd-catalog" in document:
            vnfd = document["vnfd:vnfd-catalog"]["vnfd"][0]
            vnfds[vnfd["id"]], by_id[vnfd["id"]] = vnfd, package
    try:
        sizes = userdata.vdu_user_data(vnfds, lambda vnfd_id, file: by_id[vnfd_id].text("cloud_init/" + file),
                                       member_params, members(site))
    except userdata.UserDataError as error:
        raise BuildError(str(error)) from None
    refused = userdata.too_large(sizes)
    if refused:
        raise BuildError("user data too large for Nova (limit {:,} bytes after base64): {}".format(
            userdata.NOVA_USER_DATA_LIMIT, "; ".join(
                "member {} ({}) VDU {}: {:,} bytes".format(item.member, item.vnfd_id, item.vdu_id,
                                                           item.user_data_bytes) for item in refused)))
    return sizes


def _publish(staging, out_dir, archives, charm_dirs):
    """Move the validated outputs into ``out_dir`` (each replace is a rename)."""
    built = []
    for name, kind, archive in archives:
        target = out_dir / OUTPUT_DIRS[kind] / archive.name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(str(archive), str(target))
        built.append(Built(name, kind, target, target.stat().st_size, _md5(target)))
    for charm, path in sorted(charm_dirs.items()):
        path = Path(path)
        if path.parent != staging / "charms":
            continue  # provided from elsewhere: not ours to publish
        target = out_dir / "charms" / charm
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            old = target.with_name(".{}.old".format(charm))
            shutil.rmtree(str(old), ignore_errors=True)
            os.replace(str(target), str(old))
            os.replace(str(path), str(target))
            shutil.rmtree(str(old), ignore_errors=True)
        else:
            os.replace(str(path), str(target))
    return built
