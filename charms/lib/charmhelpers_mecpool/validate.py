"""Validators for charm config and action parameters.

Each takes the parameter name first so the one error type, ValidationError,
names it.  They return the normalised value.  They never echo a value that
may be a secret (see `hex_key`).
"""

import ipaddress
import math
import re

from .errors import ValidationError

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_HEX32 = re.compile(r"^[0-9A-Fa-f]{32}$")
_DIGITS = re.compile(r"^[0-9]+$")
_GIT_URL = re.compile(r"^(https?|git|ssh)://[^\s/]+(/[^\s]*)?$|^[\w.-]+@[\w.-]+:[^\s]+$|^/[^\s]+$")
_REF_CHARS = re.compile(r"^[A-Za-z0-9._/+-]+$")


def _text(param, value):
    if not isinstance(value, str):
        raise ValidationError(param, "must be a string, got {}".format(type(value).__name__))
    value = value.strip()
    if not value:
        raise ValidationError(param, "must not be empty")
    return value


def ipv4(param, value):
    """A single IPv4 address (no prefix)."""
    text = _text(param, value)
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise ValidationError(param, "{!r} is not an IPv4 address".format(text))


def ip(param, value):
    """A single IPv4 or IPv6 address (no prefix)."""
    text = _text(param, value)
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValidationError(param, "{!r} is not an IP address".format(text))


def interface_cidr(param, value):
    """A host address with its prefix, e.g. 192.168.247.102/24 -> IPv4Interface."""
    text = _text(param, value)
    if "/" not in text:
        raise ValidationError(param, "{!r} needs a prefix length (ADDRESS/PREFIX)".format(text))
    try:
        iface = ipaddress.IPv4Interface(text)
    except ValueError:
        raise ValidationError(param, "{!r} is not an IPv4 ADDRESS/PREFIX".format(text))
    net = iface.network
    if net.prefixlen < 31 and iface.ip in (net.network_address, net.broadcast_address):
        raise ValidationError(param, "{} is the network or broadcast address of {}".format(
            iface.ip, net))
    return iface


def network(param, value, min_prefix=1, max_prefix=30):
    """An IPv4 network with no host bits set, e.g. 12.1.1.0/24 -> IPv4Network."""
    text = _text(param, value)
    try:
        net = ipaddress.IPv4Network(text, strict=True)
    except ValueError as error:
        raise ValidationError(param, "{!r} is not an IPv4 network ({})".format(text, error))
    if "/" not in text:
        raise ValidationError(param, "{!r} needs a prefix length (NETWORK/PREFIX)".format(text))
    if not min_prefix <= net.prefixlen <= max_prefix:
        raise ValidationError(param, "prefix length must be {}..{}, got {}".format(
            min_prefix, max_prefix, net.prefixlen))
    return net


def integer(param, value, minimum=None, maximum=None):
    """An int (or a string of digits) within [minimum, maximum]."""
    if isinstance(value, bool):
        raise ValidationError(param, "must be an integer, got a boolean")
    if isinstance(value, str) and re.match(r"^\s*-?[0-9]+\s*$", value):
        value = int(value)
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        value = int(value)
    if not isinstance(value, int):
        raise ValidationError(param, "must be an integer, got {!r}".format(value))
    if minimum is not None and value < minimum:
        raise ValidationError(param, "must be >= {}, got {}".format(minimum, value))
    if maximum is not None and value > maximum:
        raise ValidationError(param, "must be <= {}, got {}".format(maximum, value))
    return value


def boolean(param, value):
    """A boolean, also from the strings true/false/yes/no/1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
    raise ValidationError(param, "must be a boolean (true/false), got {!r}".format(value))


def hex_key(param, value):
    """A 128-bit key as 32 hex digits (K, OP); upper-cased.  Never echoed."""
    if not isinstance(value, str):
        raise ValidationError(param, "must be a string of 32 hex digits")
    text = value.strip()
    if not _HEX32.match(text):
        raise ValidationError(param, "must be 32 hex digits (got {} characters{})".format(
            len(text), "" if re.match(r"^[0-9A-Fa-f]*$", text) else ", not all hex"))
    return text.upper()


def mcc(param, value):
    """Mobile country code: a string of exactly 3 digits (leading zeros kept)."""
    if not isinstance(value, str) or not re.match(r"^[0-9]{3}$", value.strip()):
        raise ValidationError(param, "must be a string of 3 digits, got {!r}".format(value))
    return value.strip()


def mnc(param, value):
    """Mobile network code: a string of 2 or 3 digits ("01" stays "01")."""
    if not isinstance(value, str) or not re.match(r"^[0-9]{2,3}$", value.strip()):
        raise ValidationError(param, "must be a string of 2 or 3 digits, got {!r}".format(value))
    return value.strip()


def digits(param, value, min_len, max_len):
    """A string of digits (IMSI, MSISDN); ints are accepted when no leading zero is lost."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _DIGITS.match(value.strip()):
        raise ValidationError(param, "must be a string of digits, got {!r}".format(value))
    text = value.strip()
    if not min_len <= len(text) <= max_len:
        raise ValidationError(param, "must have {}..{} digits, got {}".format(
            min_len, max_len, len(text)))
    return text


def imsi(param, value):
    return digits(param, value, 6, 15)


def msisdn(param, value):
    return digits(param, value, 5, 15)


def git_url(param, value):
    """An http(s)/git/ssh URL, scp-like user@host:path, or an absolute local path."""
    text = _text(param, value)
    if text.startswith("-") or not _GIT_URL.match(text):
        raise ValidationError(param, "{!r} is not a git repository URL".format(text))
    return text


_HTTP_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%/+:@=-]*)?$")
_APT_WORD = re.compile(r"^[A-Za-z0-9._~/+-]+$")


def http_url(param, value):
    """An http:// or https:// URL without spaces, quotes or a query."""
    text = _text(param, value)
    if not _HTTP_URL.match(text):
        raise ValidationError(param, "{!r} is not an http:// or https:// URL".format(text))
    return text


def apt_line(param, value):
    """A one-line apt source, ``deb URI SUITE COMPONENT...`` (no [options]); returns
    (line, uri, suite)."""
    text = _text(param, value)
    words = text.split()
    if len(words) < 4 or words[0] != "deb":
        raise ValidationError(param, "{!r} is not an apt source line: expected 'deb URI SUITE "
                                     "COMPONENT', such as 'deb https://debian.cassandra.apache.org "
                                     "41x main'".format(text))
    http_url(param, words[1])
    for word in words[2:]:
        if not _APT_WORD.match(word):
            raise ValidationError(param, "{!r}: {!r} is not an apt suite or component".format(
                text, word))
    return " ".join(words), words[1].rstrip("/"), words[2]


def git_ref(param, value):
    """A commit hash, tag or branch name (git check-ref-format rules, simplified)."""
    text = _text(param, value)
    bad = (not _REF_CHARS.match(text) or text.startswith(("-", "/", "."))
           or text.endswith(("/", ".", ".lock")) or ".." in text or "//" in text
           or "/." in text or len(text) > 200)
    if bad:
        raise ValidationError(param, "{!r} is not a valid commit, tag or branch".format(text))
    return text


def hostname(param, value):
    """A DNS name of one or more labels (realm, host names); lower-cased."""
    text = _text(param, value).rstrip(".")
    if len(text) > 253 or not all(_LABEL.match(label) for label in text.split(".")):
        raise ValidationError(param, "{!r} is not a valid DNS name".format(text))
    return text.lower()


def realm(param, value):
    """A Diameter realm: a DNS name with at least two labels, lower-cased (Diameter
    compares identities without case; OAI's HSS stores them as text, so every
    charm writes hss.REALM and mme.REALM alike, e.g. openair4G.eur -> openair4g.eur)."""
    text = _text(param, value).rstrip(".")
    if len(text) > 253 or not all(_LABEL.match(label) for label in text.split(".")):
        raise ValidationError(param, "{!r} is not a realm: expected a DNS name such as "
                                     "example.org".format(text))
    if "." not in text:
        raise ValidationError(param, "{!r} needs at least two labels (e.g. example.org)".format(
            text))
    return text.lower()


def apn(param, value):
    """An APN network identifier (3GPP TS 23.003 9.1): dot-separated labels of
    letters, digits and inner hyphens, at most 63 octets encoded; case is kept."""
    text = _text(param, value)
    labels = text.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise ValidationError(param, "{!r} is not an APN: expected dot-separated labels such "
                                     "as internet or oai.ipv4".format(text))
    if sum(len(label) + 1 for label in labels) > 63:
        raise ValidationError(param, "{!r} is longer than the 63 octets of an APN".format(text))
    lowered = text.lower()
    if lowered.startswith(("rac", "lac", "sgsn", "rnc")) or lowered.endswith(".gprs"):
        raise ValidationError(param, "{!r}: an APN may not start with rac, lac, sgsn or rnc, "
                                     "nor end in .gprs".format(text))
    return text


def address_list(param, value, minimum=1):
    """A comma/space separated string (or list) of IPv4 addresses."""
    if isinstance(value, (list, tuple)):
        items = [str(v).strip() for v in value]
    elif isinstance(value, str):
        items = [v for v in re.split(r"[,\s]+", value) if v]
    else:
        raise ValidationError(param, "must be a comma-separated list of IPv4 addresses")
    items = [v for v in items if v]
    if len(items) < minimum:
        raise ValidationError(param, "needs at least {} address(es)".format(minimum))
    result = []
    for index, item in enumerate(items):
        try:
            address = str(ipaddress.IPv4Address(item))
        except ValueError:
            raise ValidationError(param, "item {} ({!r}) is not an IPv4 address".format(
                index + 1, item))
        if address in result:
            raise ValidationError(param, "{} is listed twice".format(address))
        result.append(address)
    return result


def required(params, names):
    """Raise ValidationError for the first of ``names`` missing or empty in ``params``."""
    for name in names:
        if params.get(name) in (None, ""):
            raise ValidationError(name, "is required")


def build_source(params):
    """The `build` action's parameters: the repository and the ref to build."""
    required(params, ("git-repository", "git-commit"))
    return git_source(params)


def git_source(params):
    """The validated git-repository and git-commit of an OAI component's sources."""
    return {"git-repository": git_url("git-repository", params["git-repository"]),
            "git-commit": git_ref("git-commit", params["git-commit"])}
