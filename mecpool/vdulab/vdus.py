"""What each lab VM gets from the built packages, as OSM Release EIGHT gives it:
its user data (mecpool.packaging.userdata: LCM render, RO multipart with the
N2VC keys) and its charm's day-1 primitives with LCM's parameter mapping."""

import tarfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from mecpool.descriptors.primitives import CONFIG_PRIMITIVE
from mecpool.packaging import userdata


class BuildMismatch(RuntimeError):
    """The built packages do not fit the lab's site; the message says to rebuild."""


@dataclass(frozen=True)
class BuiltVnf:
    vnfd: dict
    cloud_init: dict    # {cloud-init file name: text}
    charms_dir: Path    # build/charms: the built charm directories


@dataclass(frozen=True)
class Primitive:
    seq: int
    name: str
    params: dict        # parameter name -> value, typed as LCM sends it


def load_built(build_dir):
    """{vnfd id: BuiltVnf} of build/vnf-packages/*.tar.gz."""
    build_dir = Path(build_dir)
    out = {}
    for archive_path in sorted((build_dir / "vnf-packages").glob("*.tar.gz")):
        vnfd, texts = None, {}
        with tarfile.open(str(archive_path), "r:gz") as archive:
            for member in archive.getmembers():
                parts = member.name.split("/")
                if member.isfile() and len(parts) == 2 and parts[1].endswith("_vnfd.yaml"):
                    vnfd = yaml.safe_load(archive.extractfile(member).read())["vnfd:vnfd-catalog"]["vnfd"][0]
                elif member.isfile() and len(parts) == 3 and parts[1] == "cloud_init":
                    texts[parts[2]] = archive.extractfile(member).read().decode("utf-8")
        if vnfd is not None:
            out[vnfd["id"]] = BuiltVnf(vnfd, texts, build_dir / "charms")
    if not out:
        raise BuildMismatch("{}: no built VNF packages; run `make` (mecpool build) first".format(build_dir))
    return out


def _vdu(built, vnfd_id, vdu_id):
    vnf = built.get(vnfd_id)
    if vnf is None:
        raise BuildMismatch("VNF package {} is not built; run mecpool build".format(vnfd_id))
    for vdu in vnf.vnfd.get("vdu") or []:
        if vdu.get("id") == vdu_id:
            return vnf, vdu
    raise BuildMismatch("{} has no VDU {}; run mecpool build".format(vnfd_id, vdu_id))


def vm_user_data(built, vnfd_id, vdu_id, params, key_pairs):
    """(user data text as Nova stores it, VduUserData) for one VM."""
    vnf, vdu = _vdu(built, vnfd_id, vdu_id)
    file = vdu["cloud-init-file"]
    try:
        rendered = userdata.lcm_render(vnf.cloud_init[file], params, where="{} VDU {}".format(vnfd_id, vdu_id))
    except userdata.UserDataError as error:
        raise BuildMismatch("{} (is the build from another site file? run mecpool build)".format(error)) from None
    keys = key_pairs if userdata.needs_ssh(vnf.vnfd, vdu) else []
    text = userdata.ro_user_data(rendered, keys)
    size = userdata.VduUserData("", vnfd_id, vdu_id, file, len(rendered.encode("utf-8")),
                                len(userdata.nova_user_data(text)))
    return text, size


def charm_of(built, vnfd_id, vdu_id):
    """The built charm directory named by the VDU's juju block."""
    vnf, vdu = _vdu(built, vnfd_id, vdu_id)
    charm = ((vdu.get("vdu-configuration") or {}).get("juju") or {}).get("charm")
    if not charm:
        raise BuildMismatch("{} VDU {} has no charm".format(vnfd_id, vdu_id))
    path = vnf.charms_dir / charm
    if not (path / "dispatch").is_file():
        raise BuildMismatch("{}: the built charm is missing; run mecpool build".format(path))
    return path


def _typed(value, data_type, where):
    """LCM v8.0 converts INTEGER and BOOLEAN parameter values before the call."""
    if data_type == "INTEGER":
        try:
            return int(value)
        except (TypeError, ValueError):
            raise BuildMismatch("{}: {!r} is no INTEGER".format(where, value)) from None
    if data_type == "BOOLEAN":
        return str(value).lower() != "false"
    return value


def day1_primitives(built, vnfd_id, vdu_id, params, rw_mgmt_ip):
    """The VDU's initial-config-primitives in seq order, with ``<name>``
    values taken from the member's additionalParams (plus ``rw_mgmt_ip``)."""
    _, vdu = _vdu(built, vnfd_id, vdu_id)
    known = dict(params, rw_mgmt_ip=str(rw_mgmt_ip))
    out = []
    primitives = (vdu.get("vdu-configuration") or {}).get("initial-config-primitive") or []
    for primitive in sorted(primitives, key=lambda p: int(p["seq"])):
        values = {}
        for parameter in primitive.get("parameter") or []:
            where = "{} {}.{}".format(vdu_id, primitive["name"], parameter["name"])
            value = parameter.get("value", parameter.get("default-value"))
            if isinstance(value, str) and value.startswith("<") and value.endswith(">"):
                if value[1:-1] not in known:
                    raise BuildMismatch("{}: {} is not provided".format(where, value))
                value = known[value[1:-1]]
            values[parameter["name"]] = _typed(value, parameter.get("data-type"), where)
        out.append(Primitive(int(primitive["seq"]), primitive["name"], values))
    return out


def is_config(primitive):
    """N2VC turns the ``config`` primitive into the application's config."""
    return primitive.name == CONFIG_PRIMITIVE
