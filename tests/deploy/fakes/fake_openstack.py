"""A fake ``openstack`` (python-openstackclient) for the tests.

Checks every call against the option tables of the subcommands MEC-Pool uses
(an unknown option fails as argparse does: exit 2), requires the OS_*
credentials in the environment, records the call (the password as a SHA-256
only) and keeps one state per VIM (per OS_AUTH_URL) in
$FAKE_STATE_DIR/openstack.json.  Answers are what ``-f json`` prints."""

import hashlib
import ipaddress
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakelib  # noqa: E402

GLOBAL_FLAGS = {"--insecure", "--debug", "-v", "--verbose", "-q", "--quiet"}
GLOBAL_VALUES = {"--os-cloud", "--os-region-name", "--os-interface", "--os-cacert"}
FORMAT = {"-f", "--format", "-c", "--column"}
# (subcommand words): (number of positionals, value options, flag options, required options)
COMMANDS = {
    ("token", "issue"): (0, set(), set(), set()),
    ("image", "list"): (0, {"--name", "--status", "--property", "--limit", "--tag"}, {"--public", "--private", "--shared",
                                                                              "--long"}, set()),
    ("image", "create"): (1, {"--file", "--disk-format", "--container-format", "--min-disk", "--min-ram",
                              "--property", "--project", "--tag"}, {"--public", "--private", "--shared", "--community",
                                                           "--protected", "--unprotected"}, set()),
    ("flavor", "list"): (0, {"--limit", "--marker"}, {"--all", "--public", "--private", "--long"}, set()),
    ("flavor", "create"): (1, {"--vcpus", "--ram", "--disk", "--ephemeral", "--swap", "--id", "--property",
                               "--project", "--description"}, {"--public", "--private"}, {"--vcpus", "--ram"}),
    ("network", "list"): (0, {"--name", "--project", "--tags", "--any-tags"}, {"--external", "--internal", "--long"}, set()),
    ("network", "create"): (1, {"--description", "--mtu", "--project", "--provider-network-type", "--tag",
                                "--provider-physical-network", "--provider-segment"},
                            {"--enable-port-security", "--disable-port-security", "--internal", "--external",
                             "--share", "--no-share", "--enable", "--disable"}, set()),
    ("subnet", "list"): (0, {"--network", "--name", "--project", "--subnet-range"}, {"--long", "--dhcp",
                                                                                      "--no-dhcp"}, set()),
    ("subnet", "create"): (1, {"--network", "--subnet-range", "--gateway", "--allocation-pool", "--dns-nameserver",
                               "--ip-version", "--description", "--project"}, {"--dhcp", "--no-dhcp"},
                           {"--network"}),
    ("security", "group", "list"): (0, {"--project", "--project-domain"}, {"--all-projects"}, set()),
    ("security", "group", "create"): (1, {"--description", "--project", "--project-domain"}, {"--stateful",
                                                                                              "--stateless"}, set()),
    ("security", "group", "rule", "list"): (1, {"--protocol", "--ethertype"}, {"--long", "--ingress", "--egress",
                                                                               "--all-projects"}, set()),
    ("security", "group", "rule", "create"): (1, {"--remote-ip", "--remote-group", "--dst-port", "--protocol",
                                                  "--ethertype", "--description", "--icmp-type", "--icmp-code",
                                                  "--project"}, {"--ingress", "--egress"}, set()),
    ("security", "group", "rule", "delete"): (1, set(), set(), set()),
    ("security", "group", "delete"): (1, set(), set(), set()),
    ("limits", "show"): (0, {"--project", "--domain"}, {"--absolute", "--rate", "--reserved"}, set()),
    ("image", "delete"): (1, set(), set(), set()),
    ("flavor", "delete"): (1, set(), set(), set()),
    ("network", "delete"): (1, set(), set(), set()),
}


class Usage(Exception):
    pass


class Fail(Exception):
    pass


def parse(argv):
    i, fmt = 0, None
    words = []
    opts = {}
    while i < len(argv):
        word = argv[i]
        if word in GLOBAL_FLAGS:
            opts[word] = True
        elif word in GLOBAL_VALUES or word in FORMAT:
            if i + 1 >= len(argv):
                raise Usage("argument {}: expected one argument".format(word))
            if word in ("-f", "--format"):
                fmt = argv[i + 1]
            i += 1
        else:
            words.append(word)
        i += 1
    for size in (4, 3, 2):
        key = tuple(words[:size])
        if key in COMMANDS:
            break
    else:
        raise Usage("Unknown command {}".format(words[:4]))
    npos, values, flags, required = COMMANDS[key]
    rest, args = words[len(key):], []
    j = 0
    while j < len(rest):
        word = rest[j]
        if word.startswith("--"):
            if word in values:
                if j + 1 >= len(rest):
                    raise Usage("argument {}: expected one argument".format(word))
                opts.setdefault(word, []).append(rest[j + 1])
                j += 1
            elif word in flags:
                opts[word] = True
            else:
                raise Usage("unrecognized arguments: {}".format(word))
        else:
            args.append(word)
        j += 1
    if len(args) != npos:
        raise Usage("expected {} positional argument(s), got {}".format(npos, args))
    for name in required:
        if name not in opts:
            raise Usage("the following arguments are required: {}".format(name))
    if key[-1] != "delete" and fmt != "json":
        raise Usage("mecpool always asks for -f json (got {})".format(fmt))
    return key, args, {k: (v[-1] if isinstance(v, list) else v) for k, v in opts.items()}


def value(opts, name):
    return opts.get(name)


def cloud_auth():
    """OS_CLOUD: the entry of the clouds.yaml OS_CLIENT_CONFIG_FILE names, as openstacksdk reads it."""
    import yaml
    path = os.environ.get("OS_CLIENT_CONFIG_FILE") or "clouds.yaml"
    try:
        clouds = yaml.safe_load(open(path)).get("clouds") or {}
    except OSError:
        raise Fail("Cloud {} was not found.".format(os.environ["OS_CLOUD"]))
    entry = clouds.get(os.environ["OS_CLOUD"])
    if not entry:
        raise Fail("Cloud {} was not found.".format(os.environ["OS_CLOUD"]))
    return entry.get("auth") or {}


def auth():
    """(auth URL, project) as keystoneauth would use them; missing values fail as it does."""
    if os.environ.get("OS_CLOUD"):
        found = cloud_auth()
        return found.get("auth_url"), found.get("project_id") or found.get("project_name")
    if os.environ.get("OS_AUTH_TYPE") == "v3applicationcredential":
        needed = (("OS_AUTH_URL", "auth-url"), ("OS_APPLICATION_CREDENTIAL_ID", "application_credential_id"),
                  ("OS_APPLICATION_CREDENTIAL_SECRET", "application_credential_secret"))
    else:
        needed = (("OS_AUTH_URL", "auth-url"), ("OS_USERNAME", "username"), ("OS_PASSWORD", "password"),
                  ("OS_PROJECT_NAME", "project-name"))
    for var, label in needed:
        if not os.environ.get(var):
            raise Fail("Missing value {} required for auth plugin password".format(label))
    # keystoneauth prefers a project id to a project name (an admin openrc's OS_PROJECT_ID wins).
    return os.environ["OS_AUTH_URL"], os.environ.get("OS_PROJECT_ID") or os.environ.get("OS_PROJECT_NAME") or "app"


def vim_state(all_state):
    url, _ = auth()
    # a password Keystone no longer takes (expired, changed): its SHA-256 in the scenario
    rejected = fakelib.load("scenario.json", {}).get("rejected_passwords") or []
    if hashlib.sha256(os.environ.get("OS_PASSWORD", "").encode()).hexdigest() in rejected:
        raise Fail("The request you have made requires authentication. (HTTP 401) (Request-ID: req-4f1c)")
    seed = fakelib.load("scenario.json", {}).get("openstack_seed", {})
    if url not in all_state:
        state = {"images": [], "flavors": [], "networks": [], "subnets": [], "groups": [], "rules": []}
        for name, cidr in (seed.get(url) or {}).get("networks", {}).items():
            net = {"id": str(uuid.uuid4()), "name": name}
            state["networks"].append(net)
            state["subnets"].append({"id": str(uuid.uuid4()), "name": name + "-subnet", "network_id": net["id"],
                                     "cidr": cidr, "gateway_ip": None})
        # networks of other projects an admin account sees too (same names as the site's): a CIDR, or
        # {"cidr": ..., "shared": true} for one shared with every project
        for name, spec in ((fakelib.load("scenario.json", {}).get("foreign_networks") or {}).get(url) or {}).items():
            cidr = spec["cidr"] if isinstance(spec, dict) else spec
            net = {"id": str(uuid.uuid4()), "name": name, "project": "someone-else",
                   "shared": bool(isinstance(spec, dict) and spec.get("shared"))}
            state["networks"].append(net)
            state["subnets"].append({"id": str(uuid.uuid4()), "name": name + "-subnet", "network_id": net["id"],
                                     "cidr": cidr, "gateway_ip": None})
        all_state[url] = state
    return all_state[url]


def find_network(state, name):
    found = [n for n in state["networks"] if name in (n["name"], n["id"])]
    if not found:
        raise Fail("No Network found for {}".format(name))
    if len(found) > 1:
        raise Fail("More than one Network exists with the name '{}'.".format(name))
    return found[0]


def find_group(state, name):
    found = [g for g in state["groups"] if name in (g["name"], g["id"])]
    if not found:
        raise Fail("No SecurityGroup found for {}".format(name))
    if len(found) > 1:
        raise Fail("More than one SecurityGroup exists with the name '{}'.".format(name))
    return found[0]


def rule_row(rule, long):
    row = {"ID": rule["id"], "IP Protocol": rule["protocol"], "IP Range": rule["remote_ip_prefix"],
           "Port Range": "{}:{}".format(rule["port_range_min"], rule["port_range_max"])
           if rule["port_range_min"] is not None else "",
           "Remote Security Group": rule["remote_group_id"], "Remote Address Group": None}
    if long:
        row["Direction"], row["Ethertype"] = rule["direction"], rule["ethertype"]
    return row


# A lab project's compute limits (a scenario's "limits" per auth URL replaces some: Nova's defaults
# are 10 instances, 20 cores, 51200 MB).
LAB_LIMITS = {"maxTotalInstances": 100, "totalInstancesUsed": 0, "maxTotalCores": 400, "totalCoresUsed": 0,
              "maxTotalRAMSize": 1024000, "totalRAMUsed": 0, "maxTotalKeypairs": 100, "maxServerMeta": 128}


def limits():
    values = dict(LAB_LIMITS)
    values.update((fakelib.load("scenario.json", {}).get("limits") or {}).get(os.environ.get("OS_AUTH_URL"), {}))
    return [{"Name": name, "Value": value} for name, value in sorted(values.items())]


def run(key, args, opts, state):
    if key == ("limits", "show"):
        if not opts.get("--absolute"):
            raise Usage("mecpool asks for --absolute")
        return limits()
    if key == ("image", "list"):
        return [{"ID": i["id"], "Name": i["name"], "Status": i["status"]} for i in state["images"]
                if value(opts, "--name") in (None, i["name"])
                and (value(opts, "--tag") is None or value(opts, "--tag") in i.get("tags", []))]
    if key == ("image", "create"):
        path = value(opts, "--file")
        if not path or not os.path.isfile(path):
            raise Fail("[Errno 2] No such file or directory: '{}'".format(path))
        if value(opts, "--disk-format") not in ("qcow2", "raw", "iso", "vmdk", "vdi", "vhd"):
            raise Fail("disk format {} is not supported".format(value(opts, "--disk-format")))
        image = {"id": str(uuid.uuid4()), "name": args[0], "status": "active",
                 "disk_format": value(opts, "--disk-format"), "container_format": value(opts, "--container-format"),
                 "checksum": hashlib.md5(open(path, "rb").read()).hexdigest(),
                 "tags": [value(opts, "--tag")] if value(opts, "--tag") else []}
        state["images"].append(image)
        return image
    if key == ("flavor", "list"):
        return [{"ID": f["id"], "Name": f["name"], "RAM": f["ram"], "Disk": f["disk"], "Ephemeral": 0,
                 "VCPUs": f["vcpus"], "Is Public": True} for f in state["flavors"]]
    if key == ("flavor", "create"):
        # Nova's default policy: only the cloud's admin creates flavors (as the real lab's stack answered)
        if fakelib.load("scenario.json", {}).get("flavor_create_forbidden"):
            raise Fail("HttpException: 403: Client Error for url: http://127.0.0.1:8774/v2.1/flavors, Policy "
                       "doesn't allow os_compute_api:os-flavor-manage:create to be performed.")
        if any(f["name"] == args[0] for f in state["flavors"]):
            raise Fail("Flavor with name {} already exists. (HTTP 409)".format(args[0]))
        flavor = {"id": str(uuid.uuid4()), "name": args[0], "vcpus": int(value(opts, "--vcpus")),
                  "ram": int(value(opts, "--ram")), "disk": int(value(opts, "--disk") or 0)}
        state["flavors"].append(flavor)
        return flavor
    if key == ("network", "list"):
        return [{"ID": n["id"], "Name": n["name"], "Project": n.get("project") or auth()[1], "Shared": n.get("shared", False),
                 "Subnets": [s["id"] for s in state["subnets"] if s["network_id"] == n["id"]]}
                for n in state["networks"] if value(opts, "--name") in (None, n["name"])
                and (value(opts, "--tags") is None or value(opts, "--tags") in n.get("tags", []))]
    if key == ("token", "issue"):
        return {"id": "gAAAA-fake", "project_id": auth()[1], "user_id": "fake-user"}
    if key == ("network", "create"):
        net = {"id": str(uuid.uuid4()), "name": args[0],
               "tags": [value(opts, "--tag")] if value(opts, "--tag") else []}
        state["networks"].append(net)
        return net
    if key == ("subnet", "list"):
        net = find_network(state, value(opts, "--network")) if value(opts, "--network") else None
        return [{"ID": s["id"], "Name": s["name"], "Network": s["network_id"], "Subnet": s["cidr"]}
                for s in state["subnets"] if net is None or s["network_id"] == net["id"]]
    if key == ("subnet", "create"):
        net = find_network(state, value(opts, "--network"))
        cidr = str(ipaddress.IPv4Network(value(opts, "--subnet-range")))
        gateway = value(opts, "--gateway")
        gateway = None if gateway == "none" else gateway
        if gateway and ipaddress.IPv4Address(gateway) not in ipaddress.IPv4Network(cidr):
            raise Fail("Gateway IP {} is not in subnet {}".format(gateway, cidr))
        subnet = {"id": str(uuid.uuid4()), "name": args[0], "network_id": net["id"], "cidr": cidr,
                  "gateway_ip": gateway}
        state["subnets"].append(subnet)
        return subnet
    if key == ("security", "group", "list"):
        return [{"ID": g["id"], "Name": g["name"], "Description": g["description"], "Project": g["project"],
                 "Tags": []} for g in state["groups"]]
    if key == ("security", "group", "create"):
        group = {"id": str(uuid.uuid4()), "name": args[0], "description": value(opts, "--description") or "",
                 "project": auth()[1]}
        state["groups"].append(group)
        for ethertype in ("IPv4", "IPv6"):  # neutron adds these to every new group
            state["rules"].append({"id": str(uuid.uuid4()), "group": group["id"], "direction": "egress",
                                   "ethertype": ethertype, "protocol": None, "port_range_min": None,
                                   "port_range_max": None, "remote_ip_prefix": None, "remote_group_id": None})
        return dict(group, rules=[r["id"] for r in state["rules"] if r["group"] == group["id"]])
    if key == ("security", "group", "rule", "list"):
        group = find_group(state, args[0])
        return [rule_row(r, opts.get("--long")) for r in state["rules"] if r["group"] == group["id"]]
    if key == ("security", "group", "rule", "create"):
        group = find_group(state, args[0])
        low = high = None
        if value(opts, "--dst-port"):
            low, _, high = value(opts, "--dst-port").partition(":")
            low, high = int(low), int(high or low)
        protocol = value(opts, "--protocol")
        if protocol not in (None, "tcp", "udp", "sctp", "icmp", "132", "6", "17"):
            raise Fail("Protocol {} is not supported".format(protocol))
        rule = {"id": str(uuid.uuid4()), "group": group["id"],
                "direction": "egress" if opts.get("--egress") else "ingress",
                "ethertype": value(opts, "--ethertype") or "IPv4", "protocol": protocol, "port_range_min": low,
                "port_range_max": high, "remote_ip_prefix": value(opts, "--remote-ip") or (
                    None if value(opts, "--remote-group") else "0.0.0.0/0"),
                "remote_group_id": value(opts, "--remote-group")}
        for other in state["rules"]:
            if all(other[k] == rule[k] for k in rule if k != "id"):
                raise Fail("Security group rule already exists. Rule id is {}. (HTTP 409)".format(other["id"]))
        state["rules"].append(rule)
        return {k: v for k, v in rule.items() if k != "group"}
    if key == ("security", "group", "rule", "delete"):
        rule = next((r for r in state["rules"] if r["id"] == args[0]), None)
        if rule is None:
            raise Fail("Failed to delete rule with ID '{}': No SecurityGroupRule found".format(args[0]))
        state["rules"].remove(rule)
        return None
    if key[-1] == "delete":
        return delete(key, args[0], state)
    raise Fail("not implemented: {}".format(" ".join(key)))


def delete(key, name, state):
    """Neutron/Nova/Glance deletes: a network goes with its subnets (no ports here); a security group
    with its rules."""
    kind = {("image", "delete"): "images", ("flavor", "delete"): "flavors", ("network", "delete"): "networks",
            ("security", "group", "delete"): "groups"}[key]
    found = [item for item in state[kind] if name in (item["id"], item["name"])]
    if len(found) != 1:
        raise Fail("No {} found for {}".format(kind[:-1], name) if not found else
                   "More than one {} exists with the name '{}'.".format(kind[:-1], name))
    item = found[0]
    state[kind].remove(item)
    if kind == "networks":
        state["subnets"] = [s for s in state["subnets"] if s["network_id"] != item["id"]]
    if kind == "groups":
        state["rules"] = [r for r in state["rules"] if r["group"] != item["id"]]
    return None


def main():
    argv = sys.argv[1:]
    password = os.environ.get("OS_PASSWORD", "")
    # The inherited-environment recorder: every OS_* variable the call saw (secrets as a SHA-256).
    os_env = {key: (hashlib.sha256(val.encode()).hexdigest() if "PASSWORD" in key or "SECRET" in key else val)
              for key, val in os.environ.items() if key.startswith("OS_")}
    fakelib.record("openstack", argv, {"auth_url": os.environ.get("OS_AUTH_URL"),
                                       "project": os.environ.get("OS_PROJECT_NAME"),
                                       "password_sha256": hashlib.sha256(password.encode()).hexdigest(),
                                       "os_env": os_env})
    with fakelib.locked(os.path.join(fakelib.state_dir(), "openstack.lock")):
        try:
            key, args, opts = parse(argv)
            all_state = fakelib.load("openstack.json", {})
            answer = run(key, args, opts, vim_state(all_state))
            fakelib.save("openstack.json", all_state)
        except Usage as error:
            sys.stderr.write("usage: openstack [--version] [-v | -q] [--log-file LOG_FILE] [-h] [--debug]\n"
                             "openstack: error: {}\n".format(error))
            sys.exit(2)
        except Fail as error:
            sys.stderr.write("{}\n".format(error))
            sys.exit(1)
    if answer is not None:
        sys.stdout.write(json.dumps(answer, indent=2) + "\n")


if __name__ == "__main__":
    main()
