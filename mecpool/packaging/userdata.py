"""A VDU's user data as OSM Release EIGHT and OpenStack deliver it, and its size.

The path a cloud-init file takes from the package to the VM (read in LCM,
RO and python-novaclient at OSM v8.0; ../shared/docs/osm-release-eight.md):

1. LCM refuses an instantiation whose additionalParams lack a variable the
   file uses, then renders it with ``jinja2.Template(text).render(params)``
   (default environment: the final newline is dropped); a value starting with
   ``!!yaml `` is YAML-parsed first.  -> :func:`lcm_render`
2. A VDU that needs SSH access (our native charms) gets the N2VC public keys:
   RO's ``vimconn._create_user_data`` adds a second ``#cloud-config`` part
   (``yaml.safe_dump(..., indent=4, default_flow_style=False)``) and joins the
   parts into a MIME multipart of ``MIMEText(part, subtype, "utf-8")``, which
   the email package base64-encodes.  -> :func:`ro_user_data`
3. novaclient base64-encodes the user data once more; Nova refuses more than
   65,535 bytes of that ("User data too large").  -> :func:`nova_user_data`

The build computes this for every VDU of the NS (:func:`vdu_user_data`) and
fails above Nova's limit; the VDU lab boots VMs with these very bytes.
"""

import base64
import os
import struct
from collections import namedtuple
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import jinja2
import jinja2.meta
import yaml

NOVA_USER_DATA_LIMIT = 65535   # bytes of base64, nova/api/openstack/compute/servers.py
USER_DATA_GOAL = 40 * 1024     # our own budget, well inside Nova's limit, so sites can grow
N2VC_KEY_BITS = 4096           # N2VC's ssh-keygen -t rsa -b 4096
N2VC_KEY_COUNT = 2             # the N2VC key and the one of the VCA's Juju client
YAML_PREFIX = "!!yaml "

VduUserData = namedtuple("VduUserData", "member vnfd_id vdu_id cloud_init_file rendered_bytes user_data_bytes")
VduUserData.__doc__ = """One VDU's cloud-init file: its size once LCM rendered it and the
size of the user data Nova receives (after RO's multipart and novaclient's base64)."""


class UserDataError(ValueError):
    """A cloud-init file cannot become user data; the message names the VDU."""


def lcm_params(params):
    """LCM v8.0 parses values written ``!!yaml <text>`` before rendering."""
    out = {}
    for key, value in params.items():
        if isinstance(value, str) and value.startswith(YAML_PREFIX):
            value = yaml.safe_load(value[len(YAML_PREFIX):])
        out[key] = value
    return out


def lcm_render(text, params, where="cloud-init"):
    """The cloud-init text LCM hands to RO for one VDU."""
    try:
        needed = jinja2.meta.find_undeclared_variables(jinja2.Environment().parse(text))
    except jinja2.TemplateSyntaxError as error:
        raise UserDataError("{}:{}: OSM cannot render it: {}".format(where, error.lineno, error.message)) from None
    missing = sorted(needed - set(params))
    if missing:
        raise UserDataError("{}: additionalParams lack {}".format(where, ", ".join(missing)))
    return jinja2.Template(text).render(lcm_params(params))


def _mime_subtype(content):
    """RO's choice of part type (its order of tests, first match wins)."""
    for prefix, subtype in (("#include", "x-include-url"), ("#include-once", "x-include-once-url"),
                            ("#!", "x-shellscript"), ("#cloud-config", "cloud-config"),
                            ("#cloud-config-archive", "cloud-config-archive"), ("#upstart-job", "upstart-job"),
                            ("#part-handler", "part-handler"), ("#cloud-boothook", "cloud-boothook")):
        if content.startswith(prefix):
            return subtype
    return "x-shellscript"


def key_part(key_pairs):
    """RO's cloud-config part for the keys of the default user."""
    data = {"ssh-authorized-keys": list(key_pairs),
            "users": [{"default": None, "ssh-authorized-keys": list(key_pairs)}]}
    return "#cloud-config\n" + yaml.safe_dump(data, indent=4, default_flow_style=False)


def ro_user_data(cloud_init, key_pairs):
    """The user data RO passes to Nova: the file alone without keys, else a
    MIME multipart of the file and the key part."""
    parts = [cloud_init] + ([key_part(key_pairs)] if key_pairs else [])
    if len(parts) == 1:
        return parts[0]
    message = MIMEMultipart()
    for part in parts:
        message.attach(MIMEText(part, _mime_subtype(part), "utf-8"))
    return message.as_string()


def nova_user_data(user_data):
    """What novaclient sends as ``server.user_data`` (and Nova measures)."""
    return base64.b64encode(user_data.encode("utf-8")).decode("ascii")


def rsa_public_key_line(modulus, exponent=65537, comment="juju-client-key"):
    """An OpenSSH ``ssh-rsa`` public key line (RFC 4253 mpint encoding)."""
    def mpint(number):
        data = number.to_bytes((number.bit_length() + 8) // 8, "big")  # leading 0x00 keeps it positive
        return struct.pack(">I", len(data)) + data

    blob = struct.pack(">I", 7) + b"ssh-rsa" + mpint(exponent) + mpint(modulus)
    return "ssh-rsa {} {}".format(base64.b64encode(blob).decode("ascii"), comment)


def sizing_keys(count=N2VC_KEY_COUNT, bits=N2VC_KEY_BITS):
    """Public key lines exactly as long as real RSA keys of ``bits`` (the top
    bit of an RSA modulus is always set), for sizing at build time."""
    keys = []
    for number in range(count):
        modulus = (1 << (bits - 1)) | int.from_bytes(os.urandom(bits // 8), "big") >> 1 | 1
        keys.append(rsa_public_key_line(modulus, comment="juju-client-key-{}".format(number)))
    return keys


def vdu_user_data(vnfds, cloud_init_text, member_params, members, key_pairs=None):
    """[VduUserData] for every VDU with a cloud-init file of every NS member.

    ``vnfds``: {vnfd id: VNFD dict}; ``cloud_init_text(vnfd_id, file)``: the
    package's file; ``member_params``: {member-vnf-index: additionalParams};
    ``members``: mecpool.descriptors.members.  VDUs that need SSH access get
    the key part, as in R8.
    """
    keys = sizing_keys() if key_pairs is None else list(key_pairs)
    out = []
    for member in members:
        vnfd = vnfds.get(member.vnfd_id)
        if vnfd is None:
            continue
        for vdu in vnfd.get("vdu") or []:
            file = vdu.get("cloud-init-file")
            if not file:
                continue
            where = "member {} ({}) VDU {}".format(member.index, member.role, vdu.get("id"))
            rendered = lcm_render(cloud_init_text(member.vnfd_id, file), member_params.get(member.index, {}), where)
            user_data = ro_user_data(rendered, keys if needs_ssh(vnfd, vdu) else [])
            out.append(VduUserData(member.index, member.vnfd_id, vdu.get("id"), file,
                                   len(rendered.encode("utf-8")), len(nova_user_data(user_data))))
    return out


def needs_ssh(vnfd, vdu):
    """LCM adds the N2VC keys where the VDU's (or else the VNF's) configuration
    asks for SSH access: native charms are installed over SSH."""
    for config in (vdu.get("vdu-configuration"), vnfd.get("vnf-configuration")):
        access = ((config or {}).get("config-access") or {}).get("ssh-access") or {}
        if access.get("required"):
            return True
    return False


def too_large(sizes, limit=None):
    """The VDUs whose user data Nova would refuse."""
    limit = NOVA_USER_DATA_LIMIT if limit is None else limit
    return [item for item in sizes if item.user_data_bytes > limit]

