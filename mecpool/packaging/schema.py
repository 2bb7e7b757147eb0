"""JSON schema of the OSM Release EIGHT IM subset the descriptors use.

Names and types follow the IM v8.0 YANG (vnfd-base, nsd-base, mano-types).
Every object is closed (``additionalProperties: false``) like the IM's strict
loader: a misspelt key fails here instead of at onboarding.  Choices of the
YANG (``vim-network-name`` | ``ip-profile-ref``; internal | external cp ref)
are mutually exclusive here too.
"""

IPV4 = r"^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$"
IPV4_PREFIX = IPV4[:-1] + r"/([0-9]|[12][0-9]|3[0-2])$"
UINT16 = {"type": "integer", "minimum": 0, "maximum": 65535}
UINT32 = {"type": "integer", "minimum": 0, "maximum": 4294967295}
UINT64 = {"type": "integer", "minimum": 0}
STR = {"type": "string"}
NAME = {"type": "string", "minLength": 1}
BOOL = {"type": "boolean"}
DATA_TYPE = {"enum": ["STRING", "INTEGER", "BOOLEAN"]}


def closed(properties, required=()):
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False}


def array(items, min_items=0):
    return {"type": "array", "items": items, "minItems": min_items}


def exclusive(*names):
    """At most one of ``names`` (a YANG choice)."""
    return {"not": {"required": list(names)}} if len(names) == 2 else {}


PARAMETER_VALUE = closed({"name": NAME, "data-type": DATA_TYPE, "value": STR}, ["name", "value"])
PRIMITIVE_PARAMETER = closed({
    "name": NAME, "data-type": DATA_TYPE, "mandatory": BOOL, "default-value": STR,
    "read-only": BOOL, "hidden": BOOL,
}, ["name"])
INITIAL_PRIMITIVE = closed({"seq": UINT64, "name": NAME, "parameter": array(PARAMETER_VALUE)},
                           ["seq", "name"])
CONFIG_PRIMITIVE = closed({"name": NAME, "parameter": array(PRIMITIVE_PARAMETER)}, ["name"])
CONFIGURATION = closed({
    "juju": closed({"charm": NAME, "proxy": BOOL, "cloud": {"enum": ["lxd", "k8s"]}}, ["charm"]),
    "config-access": closed({"ssh-access": closed({"required": BOOL, "default-user": NAME})}),
    "initial-config-primitive": array(INITIAL_PRIMITIVE),
    "config-primitive": array(CONFIG_PRIMITIVE),
    "terminate-config-primitive": array(INITIAL_PRIMITIVE),
    "metrics": array(closed({"name": NAME}, ["name"])),
})
CONNECTION_POINT = closed({
    "name": NAME, "id": NAME, "short-name": STR, "type": {"enum": ["VPORT"]},
    "port-security-enabled": BOOL,
}, ["name"])
INTERFACE = dict(closed({
    "name": NAME, "position": UINT32, "type": {"enum": ["EXTERNAL", "INTERNAL"]},
    "mgmt-interface": BOOL, "mac-address": STR,
    "virtual-interface": closed({"type": {"enum": [
        "PARAVIRT", "OM-MGMT", "PCI-PASSTHROUGH", "SR-IOV", "VIRTIO", "E1000", "RTL8139", "PCNET"]},
        "vpci": STR, "bandwidth": UINT64}, ["type"]),
    "external-connection-point-ref": NAME, "internal-connection-point-ref": NAME,
}, ["name", "virtual-interface"]), oneOf=[
    {"required": ["external-connection-point-ref"], "not": {"required": ["internal-connection-point-ref"]}},
    {"required": ["internal-connection-point-ref"], "not": {"required": ["external-connection-point-ref"]}},
])
IP_PROFILE = closed({
    "name": NAME, "description": STR,
    "ip-profile-params": closed({
        "ip-version": {"enum": ["ipv4", "ipv6"]},
        "subnet-address": {"type": "string", "pattern": IPV4_PREFIX},
        "gateway-address": {"type": "string", "pattern": IPV4},
        "dns-server": array(closed({"address": {"type": "string", "pattern": IPV4}}, ["address"])),
        "dhcp-params": closed({"enabled": BOOL, "start-address": {"type": "string", "pattern": IPV4},
                               "count": UINT32}),
    }, ["ip-version", "subnet-address"]),
}, ["name", "ip-profile-params"])
VLD_TYPE = {"enum": ["ELAN", "ELINE", "L3"]}
INTERNAL_VLD = dict(closed({
    "id": NAME, "name": NAME, "short-name": STR, "description": STR, "type": VLD_TYPE,
    "internal-connection-point": array(closed({
        "id-ref": NAME, "ip-address": {"type": "string", "pattern": IPV4}}, ["id-ref"])),
    "vim-network-name": NAME, "ip-profile-ref": NAME,
}, ["id", "name"]), **exclusive("vim-network-name", "ip-profile-ref"))
VDU = closed({
    "id": NAME, "name": NAME, "description": STR, "count": UINT64,
    "vm-flavor": closed({"vcpu-count": UINT16, "memory-mb": UINT64, "storage-gb": UINT64},
                        ["vcpu-count", "memory-mb", "storage-gb"]),
    "image": NAME, "image-checksum": STR, "cloud-init-file": NAME,
    "interface": array(INTERFACE, 1),
    "internal-connection-point": array(CONNECTION_POINT),
    "vdu-configuration": CONFIGURATION,
}, ["id", "name", "vm-flavor", "image", "interface"])
SCALING_GROUP = closed({
    "name": NAME, "min-instance-count": UINT32, "max-instance-count": UINT32,
    "vdu": array(closed({"vdu-id-ref": NAME, "count": UINT32}, ["vdu-id-ref"]), 1),
    "scaling-config-action": array(closed({
        "trigger": {"enum": ["pre-scale-in", "post-scale-in", "pre-scale-out", "post-scale-out"]},
        "vnf-config-primitive-name-ref": NAME}, ["trigger", "vnf-config-primitive-name-ref"])),
}, ["name", "vdu"])
HEADER = {"id": {"type": "string", "minLength": 1, "maxLength": 63}, "name": NAME,
          "short-name": STR, "description": STR, "vendor": STR, "version": STR, "logo": STR}
VNFD = closed(dict(HEADER, **{
    "mgmt-interface": closed({"cp": NAME}, ["cp"]),
    "connection-point": array(CONNECTION_POINT),
    "internal-vld": array(INTERNAL_VLD),
    "ip-profiles": array(IP_PROFILE),
    "vdu": array(VDU),
    "vnf-configuration": CONFIGURATION,
    "scaling-group-descriptor": array(SCALING_GROUP),
}), ["id", "name"])
NSD_VLD = dict(closed({
    "id": NAME, "name": NAME, "short-name": STR, "description": STR, "vendor": STR, "version": STR,
    "type": VLD_TYPE, "mgmt-network": BOOL, "vim-network-name": NAME, "ip-profile-ref": NAME,
    "vnfd-connection-point-ref": array(closed({
        "member-vnf-index-ref": {"type": "string", "minLength": 1},
        "vnfd-id-ref": NAME, "vnfd-connection-point-ref": NAME,
        "ip-address": {"type": "string", "pattern": IPV4}},
        ["member-vnf-index-ref", "vnfd-connection-point-ref"])),
}, ["id", "name"]), **exclusive("vim-network-name", "ip-profile-ref"))
NSD = closed(dict(HEADER, **{
    "constituent-vnfd": array(closed({
        "member-vnf-index": {"type": "string", "minLength": 1},
        "vnfd-id-ref": NAME, "start-by-default": BOOL}, ["member-vnf-index", "vnfd-id-ref"]), 1),
    "ip-profiles": array(IP_PROFILE),
    "vld": array(NSD_VLD),
}), ["id", "name", "constituent-vnfd"])


def catalog(envelope, key, descriptor):
    """The file shape: one descriptor in its catalog envelope."""
    return closed({envelope: closed({key: {"type": "array", "items": descriptor,
                                           "minItems": 1, "maxItems": 1}}, [key])}, [envelope])


VNFD_DOCUMENT = catalog("vnfd:vnfd-catalog", "vnfd", VNFD)
NSD_DOCUMENT = catalog("nsd:nsd-catalog", "nsd", NSD)
