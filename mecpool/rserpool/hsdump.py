"""Parse the output of ``hsdump PR_ADDR:9901`` into pools, pool elements and peers.

hsdump (rsplib-tools) poses as a peer registrar, fetches the registrar's
handlespace over ENRP and prints it.  The format below comes from RSPLIB's own
print functions (unchanged from 3.4.4, Debian 12, to 3.5.10) and was checked
against real output (tests/testbed/fixtures/smoke-1pu-1pe/hsdump.txt):

    Got 1 pools, 2 PEs => now having 1 pools, 2 PEs
    PeerList of $7a3c9f10 (1 peers)
     +-- Peers by Index:
       - idx:#0001: $00000002 upd=0 chsum=$00000000 flags=(static)
            addrs: {10.1.0.2} 9901/SCTP
     +-- Peers by Timer:
       ...
    Handlespace[home=$7a3c9f10]: (1 Pools, 2 PoolElements, 0 Owned)
    -- Checksums: Handlespace=$..., Ownership=$...
    *-- Index:
     +-- Pool "CalcAppPool", Policy "PriorityLeastUsed", Protocol SCTP, CtrlCh=yes: (2 nodes)
     +-- Index:
       - idx:#0001: $9e0ac1e6 flags=[new][updated]
         chsum=$00001963 home=$f2c8aaa7 life=90000ms ur=0
         t=$40000003 [w=0 l=25.000%($3fffffff) ldeg=10.000%($1999999a) ldpf=... wdpf=... dist=0]
         seq=... val=0 rd=0 vrt=0 deg=$0 {sel=0 s/w=-nan}
         userT: {10.1.0.2} 9000/SCTP+CtrlCh
         regT:  {10.1.0.2} 33534/SCTP
    *-- Selection:
       ...
    *-- Ownership:
       ...

Only the "Index" sections are read (Selection repeats the same PEs).  Loads
are printed in percent of full load; they are returned as fractions (0.25).
The header counts are checked against what was parsed, so a format change
shows up as an error instead of a silently short list.

Python 3.6 compatible, standard library only.
"""

import re

_HEADER = re.compile(r"^Handlespace\[home=\$([0-9a-fA-F]{8})\]: \((\d+) Pools, "
                     r"(\d+) PoolElements, (\d+) Owned\)$")
_PEERLIST = re.compile(r"^PeerList of \$([0-9a-fA-F]{8}) \((\d+) peers\)$")
_SECTION = re.compile(r"^\*-- (\w+):")
_POOL = re.compile(r'^ \+-- Pool "(.*)", Policy "([^"]*)", Protocol (\S+), '
                   r'CtrlCh=(yes|no): \((\d+) nodes\)$')
_ENTRY = re.compile(r"^   - idx:#(\d+): \$([0-9a-fA-F]{8}) (.*)$")
_TRANSPORT = re.compile(r"^\s*(userT|regT|addrs):\s+\{([^}]*)\} (\d+)/(\S+)\s*$")
_POLICY = re.compile(r"^\s*t=\$([0-9a-fA-F]+) \[(.*)\]\s*$")
_PERCENT = re.compile(r"^(-?[0-9.]+)%\(\$[0-9a-fA-F]+\)$")
_HEX = re.compile(r"^\$([0-9a-fA-F]+)$")
_REJECTED = re.compile(r"^--- (ListRequest|HandleTableRequest) has been rejected ---$")


class HsdumpError(ValueError):
    """The text is not a complete hsdump output (or the registrar refused)."""


def _hex_id(text):
    return "0x{:08x}".format(int(text, 16))


def _percent_fraction(field, text):
    match = _PERCENT.match(text)
    if not match:
        raise HsdumpError("unexpected {} value {!r}".format(field, text))
    return round(float(match.group(1)) / 100.0, 6)


def _parse_policy(line):
    """``t=$03 [w=0 l=25.000%($..) ldeg=10.000%($..) ...]`` -> dict."""
    match = _POLICY.match(line)
    values = dict(item.split("=", 1) for item in match.group(2).split() if "=" in item)
    missing = [key for key in ("w", "l", "ldeg") if key not in values]
    if missing:
        raise HsdumpError("policy line lacks {}: {!r}".format(", ".join(missing), line.strip()))
    return {
        "policy_type": int(match.group(1), 16),
        "weight": int(values["w"]),
        "load": _percent_fraction("l", values["l"]),
        "load_increment": _percent_fraction("ldeg", values["ldeg"]),
    }


def _parse_transport(match):
    """``{10.1.0.2, 10.2.0.2} 9000/SCTP+CtrlCh`` -> addresses, port, protocol, control channel."""
    addresses = [a.strip() for a in match.group(2).split(",") if a.strip()]
    protocol, _, flag = match.group(4).partition("+")
    return {"addresses": addresses, "port": int(match.group(3)), "protocol": protocol,
            "control_channel": flag == "CtrlCh"}


def _parse_pe_details(entry, line):
    """Fill ``entry`` from one continuation line of a pool element."""
    stripped = line.strip()
    transport = _TRANSPORT.match(line)
    if transport:
        key = "user_transport" if transport.group(1) == "userT" else "registrator_transport"
        entry[key] = _parse_transport(transport)
    elif _POLICY.match(line):
        entry.update(_parse_policy(line))
    elif stripped.startswith(("chsum=", "home=", "life=", "ur=", "c=")):
        for item in stripped.split():
            key, _, value = item.partition("=")
            if key == "home" and _HEX.match(value):
                entry["home_registrar"] = _hex_id(value[1:])
            elif key == "life" and value.endswith("ms"):
                entry["registration_life_ms"] = int(value[:-2])
            elif key == "ur":
                entry["unreachability_reports"] = int(value)
    # "seq=... val=..." (selection state) is not needed by anyone.


def _finish_pool(pool):
    if pool is None:
        return
    expected = pool.pop("_count")
    if len(pool["elements"]) != expected:
        raise HsdumpError("pool {!r}: header says {} PEs, {} listed".format(
            pool["handle"], expected, len(pool["elements"])))
    for element in pool["elements"]:
        if "user_transport" not in element or "load" not in element:
            raise HsdumpError("pool {!r}: PE {} lacks its policy or transport line".format(
                pool["handle"], element["identifier"]))


def parse(text):
    """Parse hsdump's stdout into ``{"home", "peers", "pools"}``.

    ``pools`` is a list of ``{"handle", "policy", "protocol", "control_channel",
    "elements"}``; each element has ``identifier`` ("0x1a2b3c4d"), ``home_registrar``,
    ``addresses``, ``port``, ``protocol``, ``control_channel``, ``load`` and ``load_increment``
    (fractions), ``weight``, ``policy_type``, ``registration_life_ms``.
    ``peers`` lists the registrar's peer PRs (``identifier``, ``addresses``,
    ``port``, ``static``).  Raises HsdumpError on anything else.
    """
    result = {"home": None, "peers": [], "pools": []}
    state = None          # peers-index, peers-timer, index, other
    pool = None
    entry = None
    header = None
    for raw in text.splitlines():
        line = raw.rstrip("\n")
        if _REJECTED.match(line.strip()):
            raise HsdumpError("the registrar rejected hsdump's {}".format(
                _REJECTED.match(line.strip()).group(1)))
        match = _PEERLIST.match(line)
        if match:
            state, entry = "peers", None
            continue
        if line.startswith(" +-- Peers by Index:"):
            state = "peers-index"
            continue
        if line.startswith(" +-- Peers by Timer:"):
            state, entry = "peers-timer", None
            continue
        match = _HEADER.match(line)
        if match:
            header = [int(group) for group in match.groups()[1:]]
            result["home"] = _hex_id(match.group(1))
            state, entry = "handlespace", None
            continue
        match = _SECTION.match(line)
        if match:
            if state == "index":
                _finish_pool(pool)
            pool, entry = None, None
            state = "index" if match.group(1) == "Index" and header is not None else "other"
            continue
        if state == "peers-index":
            match = _ENTRY.match(line)
            if match:
                entry = {"identifier": _hex_id(match.group(2)),
                         "static": "(static)" in match.group(3),
                         "addresses": [], "port": None, "protocol": None}
                result["peers"].append(entry)
                continue
            transport = _TRANSPORT.match(line)
            if transport and entry is not None:
                entry.update(_parse_transport(transport))
            continue
        if state != "index":
            continue
        match = _POOL.match(line)
        if match:
            _finish_pool(pool)
            pool = {"handle": match.group(1), "policy": match.group(2),
                    "protocol": match.group(3), "control_channel": match.group(4) == "yes",
                    "elements": [],
                    "_count": int(match.group(5))}
            result["pools"].append(pool)
            entry = None
            continue
        if line.startswith(" +-- Index:"):
            continue
        match = _ENTRY.match(line)
        if match:
            if pool is None:
                raise HsdumpError("a PE is listed outside a pool: {!r}".format(line.strip()))
            entry = {"identifier": _hex_id(match.group(2))}
            pool["elements"].append(entry)
            continue
        if entry is not None and line.startswith("     "):
            _parse_pe_details(entry, line)
    if state == "index":
        _finish_pool(pool)
    if header is None:
        raise HsdumpError("no 'Handlespace[...]' line: not hsdump output")
    if header[0] != len(result["pools"]):
        raise HsdumpError("handlespace header says {} pools, {} listed".format(
            header[0], len(result["pools"])))
    listed = sum(len(p["elements"]) for p in result["pools"])
    if header[1] != listed:
        raise HsdumpError("handlespace header says {} PEs, {} listed".format(header[1], listed))
    for pool in result["pools"]:
        for element in pool["elements"]:
            element.update(element.pop("user_transport"))
    return result


def find_element(parsed, address, port=None):
    """The first (pool, element) whose user transport has ``address`` (and ``port``)."""
    for pool in parsed["pools"]:
        for element in pool["elements"]:
            if address in element["addresses"] and (port is None or element["port"] == port):
                return pool, element
    return None, None
