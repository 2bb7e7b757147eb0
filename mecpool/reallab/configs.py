"""Every configuration file of the real-stack lab, generated in one place from one `Settings`.

`files(settings, host_etc)` gives {path below the generated layer: text} (etc/... and var/...): what the
Debian packages' maintainer scripts would have written (config files, alternatives links are in
`links()`, the users libvirt wants) and our settings.  Passwords are the lab's own: the services listen on
127.0.0.1 of a network namespace that nothing outside the machine reaches.  `copies()` names the files
the packages ship as samples under /usr/share that the services read from /etc.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

SERVICES = ("keystone", "glance", "placement", "nova", "neutron")
DATABASES = ("keystone", "glance", "placement", "nova_api", "nova", "nova_cell0", "neutron")


@dataclass(frozen=True)
class Settings:
    host: str = "reallab"                  # nova's and neutron's `host` (no UTS namespace of our own)
    password: str = "reallab-secret"       # every service user, the DB users, RabbitMQ
    admin_password: str = "reallab-admin"
    region: str = "RegionOne"
    address: str = "127.0.0.1"             # where every API and backend listens (inside the namespace)
    physnet: str = "physnet1"              # flat provider network: a veth end the agent bridges
    physnet_interface: str = "physnet1"
    lab_cidr: str = "10.210.0.0/24"        # the provider network; the lab host holds its first address
    vni_range: str = "1:1000"
    tcg_tb_mb: int = 256

    @property
    def lab_host(self) -> str:
        return str(next(ipaddress.ip_network(self.lab_cidr).hosts()))

    def url(self, service: str) -> str:
        return f"http://{self.address}:{PORTS[service]}" + ("/v3" if service == "keystone" else
                                                            "/v2.1" if service == "nova" else "")

    def db(self, name: str, user: str | None = None) -> str:
        return f"mysql+pymysql://{user or name}:{self.password}@{self.address}/{name}?charset=utf8"

    @property
    def transport_url(self) -> str:
        return f"rabbit://openstack:{self.password}@{self.address}:5672/"


PORTS = {"keystone": 5000, "glance": 9292, "placement": 8778, "nova": 8774, "neutron": 9696,
         "mysql": 3306, "rabbitmq": 5672, "memcached": 11211}


def ini(sections: dict[str, dict[str, object]]) -> str:
    """An oslo.config file: sections in the given order, booleans as true/false."""
    out = []
    for name, options in sections.items():
        out.append(f"[{name}]")
        for key, value in options.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            out.append(f"{key} = {value}")
        out.append("")
    return "\n".join(out)


def _authtoken(s: Settings, user: str) -> dict[str, object]:
    return {"www_authenticate_uri": f"http://{s.address}:5000", "auth_url": f"http://{s.address}:5000",
            "memcached_servers": f"{s.address}:11211", "auth_type": "password",
            "project_domain_name": "Default", "user_domain_name": "Default", "project_name": "service",
            "username": user, "password": s.password, "region_name": s.region}


def _client(s: Settings, user: str) -> dict[str, object]:
    """A [nova]/[neutron]/[placement] section: that service's user, found in the catalog."""
    return {"auth_url": f"http://{s.address}:5000/v3", "auth_type": "password",
            "project_domain_name": "Default", "user_domain_name": "Default", "region_name": s.region,
            "project_name": "service", "username": user, "password": s.password}


def _common(s: Settings, state: str) -> dict[str, object]:
    return {"debug": False, "use_stderr": True, "state_path": state}


def keystone_conf(s: Settings) -> str:
    return ini({
        "DEFAULT": {"debug": False, "use_stderr": True},
        "database": {"connection": s.db("keystone")},
        "cache": {"enabled": True, "backend": "dogpile.cache.pymemcache",
                  "memcache_servers": f"{s.address}:11211"},
        "token": {"provider": "fernet"},
        "fernet_tokens": {"key_repository": "/var/lib/keystone/fernet-keys/"},
        # MFA receipts have their own key repository, /etc/keystone/fernet-keys/ by default: keystone's
        # WSGI app dies at start when it is missing.
        "fernet_receipts": {"key_repository": "/var/lib/keystone/fernet-keys/"},
        "credential": {"key_repository": "/var/lib/keystone/credential-keys/"},
    })


def glance_conf(s: Settings) -> str:
    return ini({
        "DEFAULT": {"debug": False, "use_stderr": True, "bind_host": s.address, "bind_port": 9292,
                    "workers": 1, "enabled_backends": "fs:file"},
        "database": {"connection": s.db("glance")},
        "keystone_authtoken": _authtoken(s, "glance"),
        "paste_deploy": {"flavor": "keystone"},
        "glance_store": {"default_backend": "fs"},
        "fs": {"filesystem_store_datadir": "/var/lib/glance/images/"},
        "os_glance_staging_store": {"filesystem_store_datadir": "/var/lib/glance/staging/"},
        "os_glance_tasks_store": {"filesystem_store_datadir": "/var/lib/glance/tasks/"},
        "oslo_concurrency": {"lock_path": "/var/lib/glance/tmp"},
    })


def placement_conf(s: Settings) -> str:
    return ini({
        "DEFAULT": {"debug": False, "use_stderr": True},
        "placement_database": {"connection": s.db("placement")},
        "api": {"auth_strategy": "keystone"},
        "keystone_authtoken": _authtoken(s, "placement"),
    })


def nova_conf(s: Settings, compute: bool = False) -> str:
    """nova.conf of the control services; with compute=True nova-compute's (no database sections:
    nova-compute refuses to start with them)."""
    sections: dict[str, dict[str, object]] = {
        "DEFAULT": {**_common(s, "/var/lib/nova"), "host": s.host, "my_ip": s.address,
                    "transport_url": s.transport_url, "osapi_compute_listen": s.address,
                    "osapi_compute_workers": 1, "metadata_workers": 1, "enabled_apis": "osapi_compute",
                    "compute_driver": "libvirt.LibvirtDriver", "force_raw_images": False,
                    # No metadata service here (no L3 or metadata agent): every server gets a config
                    # drive, as a cloud without one is configured (RO asks for one only when a VDU's
                    # supplemental-boot-data says boot-data-drive).
                    "force_config_drive": True,
                    "instances_path": "/var/lib/nova/instances",
                    # One VM at a time, 1 vCPU and 768 MiB (the host is shared): no overcommit games.
                    "initial_cpu_allocation_ratio": 4.0, "initial_ram_allocation_ratio": 1.5,
                    "reserved_host_memory_mb": 512},
        "api": {"auth_strategy": "keystone"},
        "api_database": {"connection": s.db("nova_api", "nova")},
        "database": {"connection": s.db("nova", "nova")},
        "keystone_authtoken": _authtoken(s, "nova"),
        "service_user": {**_client(s, "nova"), "send_service_user_token": True},
        "placement": _client(s, "placement"),
        "neutron": _client(s, "neutron"),
        "glance": {"api_servers": s.url("glance")},
        "vnc": {"enabled": True, "server_listen": s.address, "server_proxyclient_address": s.address},
        "libvirt": {"virt_type": "qemu", "cpu_mode": "none"},
        "scheduler": {"workers": 1, "discover_hosts_in_cells_interval": 20},
        "conductor": {"workers": 1},
        "oslo_concurrency": {"lock_path": "/var/lib/nova/tmp"},
        "oslo_messaging_rabbit": {"heartbeat_timeout_threshold": 0},
    }
    if compute:
        del sections["api_database"], sections["database"]
    return ini(sections)


def neutron_conf(s: Settings) -> str:
    return ini({
        "DEFAULT": {**_common(s, "/var/lib/neutron"), "host": s.host, "core_plugin": "ml2",
                    "service_plugins": "", "auth_strategy": "keystone", "transport_url": s.transport_url,
                    "bind_host": s.address, "bind_port": 9696, "api_workers": 1, "rpc_workers": 1,
                    "rpc_state_report_workers": 1,
                    "notify_nova_on_port_status_changes": True, "notify_nova_on_port_data_changes": True,
                    "dhcp_agents_per_network": 1},
        "database": {"connection": s.db("neutron")},
        "keystone_authtoken": _authtoken(s, "neutron"),
        "nova": _client(s, "nova"),
        "agent": {"root_helper": "sudo neutron-rootwrap /etc/neutron/rootwrap.conf",
                  "root_helper_daemon": "sudo neutron-rootwrap-daemon /etc/neutron/rootwrap.conf"},
        "oslo_concurrency": {"lock_path": "/var/lib/neutron/tmp"},
        # Zed marks linuxbridge experimental: without this neutron-server refuses the mechanism driver.
        "experimental": {"linuxbridge": True},
    })


def ml2_conf(s: Settings) -> str:
    return ini({
        "ml2": {"type_drivers": "flat,vxlan", "tenant_network_types": "vxlan",
                "mechanism_drivers": "linuxbridge", "extension_drivers": "port_security"},
        "ml2_type_flat": {"flat_networks": s.physnet},
        "ml2_type_vxlan": {"vni_ranges": s.vni_range},
        "securitygroup": {"enable_ipset": True},
    })


def linuxbridge_agent_ini(s: Settings) -> str:
    return ini({
        "DEFAULT": {"debug": False, "use_stderr": True},
        # Not bridge_mappings: that put the VM's tap and the DHCP port on different bridges.
        "linux_bridge": {"physical_interface_mappings": f"{s.physnet}:{s.physnet_interface}"},
        # Tenant networks are VXLAN (this kernel has no 8021q, no dummy): one host, the tunnel end is the
        # lab host's address.
        "vxlan": {"enable_vxlan": True, "local_ip": s.lab_host, "l2_population": False},
        "securitygroup": {"enable_security_group": True,
                          "firewall_driver": "neutron.agent.linux.iptables_firewall.IptablesFirewallDriver"},
    })


def dhcp_agent_ini(s: Settings) -> str:
    return ini({
        "DEFAULT": {"debug": False, "use_stderr": True, "interface_driver": "linuxbridge",
                    "dhcp_driver": "neutron.agent.linux.dhcp.Dnsmasq", "enable_isolated_metadata": False,
                    "force_metadata": False},
    })


def qemu_conf(s: Settings) -> str:
    # Root everywhere (no libvirt-qemu process user), no per-VM mount namespace, no cgroups, no
    # security driver: the lab's namespace has none of what they need, and none of it is under test.
    return "\n".join([
        'user = "root"', 'group = "root"', "dynamic_ownership = 0", "remember_owner = 0",
        'security_driver = "none"', "cgroup_controllers = [ ]", "namespaces = [ ]",
        'vnc_listen = "127.0.0.1"', ""])


def libvirtd_conf(s: Settings) -> str:
    return "\n".join(['unix_sock_group = "root"', 'unix_sock_rw_perms = "0770"', 'auth_unix_ro = "none"',
                      'auth_unix_rw = "none"', "log_outputs = \"3:stderr\"", ""])


def rabbitmq_conf(s: Settings) -> str:
    return "\n".join([f"listeners.tcp.default = {s.address}:5672", "loopback_users = none",
                      "default_user = openstack", f"default_pass = {s.password}",
                      "default_vhost = /", "default_permissions.configure = .*",
                      "default_permissions.read = .*", "default_permissions.write = .*",
                      f"management.tcp.ip = {s.address}", ""])


def rabbitmq_env(s: Settings) -> dict[str, str]:
    return {"RABBITMQ_NODENAME": "rabbit@localhost", "RABBITMQ_NODE_IP_ADDRESS": s.address,
            "ERL_EPMD_ADDRESS": s.address, "RABBITMQ_CONFIG_FILE": "/etc/rabbitmq/rabbitmq.conf",
            "RABBITMQ_ENABLED_PLUGINS_FILE": "/etc/rabbitmq/enabled_plugins",
            "RABBITMQ_MNESIA_BASE": "/var/lib/rabbitmq/mnesia", "RABBITMQ_LOG_BASE": "/var/log/rabbitmq",
            "RABBITMQ_LOGS": "-", "HOME": "/var/lib/rabbitmq"}


def qemu_wrapper(s: Settings, real: str) -> str:
    """qemu-system-x86_64 as libvirt runs it, with TCG's translation cache capped: QEMU 7.2 defaults to
    1 GiB and Nova sets nothing, so a 768 MiB guest's QEMU grew to 1.6 GB resident."""
    return f"""#!/bin/sh
# MEC-Pool real-stack lab: cap TCG's translation cache ({s.tcg_tb_mb} MiB) in what libvirt asks for.
prev=""
for arg in "$@"; do
  shift
  if [ "$prev" = "-accel" ] && [ "$arg" = "tcg" ]; then
    arg="tcg,tb-size={s.tcg_tb_mb}"
  fi
  set -- "$@" "$arg"
  prev="$arg"
done
exec {real} "$@"
"""


USERS = (("libvirt-qemu", 64055, "kvm"), ("libvirt-dnsmasq", 64056, "libvirt-dnsmasq"))
GROUPS = (("kvm", 64057), ("libvirt", 64058), ("libvirt-qemu", 64055), ("libvirt-dnsmasq", 64056))


def passwd_group(host_passwd: str, host_group: str) -> tuple[str, str]:
    """The host's /etc/passwd and /etc/group plus the users libvirt refuses to start without."""
    names = {line.split(":")[0] for line in host_group.splitlines() if line}
    group = host_group.rstrip("\n").split("\n")
    gids = {}
    for line in group:
        if line:
            parts = line.split(":")
            gids[parts[0]] = parts[2]
    for name, gid in GROUPS:
        if name not in names:
            group.append(f"{name}:x:{gid}:")
            gids[name] = str(gid)
    users = {line.split(":")[0] for line in host_passwd.splitlines() if line}
    passwd = host_passwd.rstrip("\n").split("\n")
    for name, uid, grp in USERS:
        if name not in users:
            passwd.append(f"{name}:x:{uid}:{gids[grp]}:Libvirt:/var/lib/libvirt:/usr/sbin/nologin")
    return "\n".join(passwd) + "\n", "\n".join(group) + "\n"


def files(s: Settings, host_passwd: str, host_group: str) -> dict[str, str]:
    """Every generated file, by its path in the namespace (without the leading /)."""
    passwd, group = passwd_group(host_passwd, host_group)
    out = {
        "etc/passwd": passwd,
        "etc/group": group,
        "etc/keystone/keystone.conf": keystone_conf(s),
        "etc/glance/glance-api.conf": glance_conf(s),
        "etc/placement/placement.conf": placement_conf(s),
        "etc/nova/nova.conf": nova_conf(s),
        "etc/nova/nova-compute.conf": nova_conf(s, compute=True),
        "etc/neutron/neutron.conf": neutron_conf(s),
        "etc/neutron/plugins/ml2/ml2_conf.ini": ml2_conf(s),
        "etc/neutron/plugins/ml2/linuxbridge_agent.ini": linuxbridge_agent_ini(s),
        "etc/neutron/dhcp_agent.ini": dhcp_agent_ini(s),
        "etc/libvirt/qemu.conf": qemu_conf(s),
        "etc/libvirt/libvirtd.conf": libvirtd_conf(s),
        "etc/rabbitmq/rabbitmq.conf": rabbitmq_conf(s),
        "etc/rabbitmq/enabled_plugins": "[].\n",
        "etc/sudoers.d/reallab": "Defaults !use_pty\nDefaults !requiretty\n",
    }
    return out


# Samples the packages ship under /usr/share that the services read from /etc (their postinst copies).
COPIES = (
    ("usr/share/glance-common/glance-api-paste.ini", "etc/glance/glance-api-paste.ini"),
    ("usr/share/nova-common/api-paste.ini", "etc/nova/api-paste.ini"),
    ("usr/share/neutron-common/api-paste.ini", "etc/neutron/api-paste.ini"),
)

# The Debian alternatives the postinsts would set (iptables and friends: the nft variants).
LINKS = (
    ("usr/sbin/iptables", "xtables-nft-multi"), ("usr/sbin/iptables-save", "xtables-nft-multi"),
    ("usr/sbin/iptables-restore", "xtables-nft-multi"), ("usr/sbin/ip6tables", "xtables-nft-multi"),
    ("usr/sbin/ip6tables-save", "xtables-nft-multi"), ("usr/sbin/ip6tables-restore", "xtables-nft-multi"),
    ("usr/sbin/ebtables", "ebtables-nft"), ("usr/sbin/ebtables-save", "ebtables-nft-save"),
    ("usr/sbin/ebtables-restore", "ebtables-nft-restore"),
    ("usr/sbin/arptables", "arptables-nft"), ("usr/sbin/arptables-save", "arptables-nft-save"),
    ("usr/sbin/arptables-restore", "arptables-nft-restore"),
)

# Directories the services write to, made in the run's writable layer (the postinsts make them).
STATE_DIRS = (
    "var/lib/keystone/fernet-keys", "var/lib/keystone/credential-keys", "var/log/keystone",
    "var/lib/glance/images", "var/lib/glance/staging", "var/lib/glance/tasks", "var/lib/glance/tmp",
    "var/log/glance", "var/lib/placement", "var/log/placement",
    "var/lib/nova/instances", "var/lib/nova/tmp", "var/log/nova",
    "var/lib/neutron/tmp", "var/log/neutron", "var/lib/mysql", "var/log/mysql",
    "var/lib/rabbitmq/mnesia", "var/log/rabbitmq", "var/lib/libvirt/qemu", "var/log/libvirt/qemu",
    "var/cache/libvirt", "var/lib/libvirt/images",
)
