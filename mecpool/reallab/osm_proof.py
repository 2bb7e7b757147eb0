"""The proof that OSM Release EIGHT's NBI, LCM and RO work against the lab's OpenStack, with osmclient
v8 as an operator uses it:

  `osm version`; a project, user and network on the cloud for the VIM account (Debian's openstack CLI
  as the cloud's admin); `osm vim-create --wait` (NBI stores it, LCM has RO create the datacenter and
  attach it to RO's tenant); the VIM account ENABLED in `osm vim-show`, listed by `osm vim-list`; RO
  lists the project's networks through the account (RO's own northbound API: RO → Keystone →
  Neutron with the account's credentials); `osm vim-delete --wait` (which returns at once: see
  wait_gone's caller), then gone from `osm vim-list` and from RO; the cloud's project, user and network
  removed.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Callable

LogFn = Callable[[str], None]


class ProofError(RuntimeError):
    """A step of the proof failed; the message says which and what OSM answered."""


@dataclass(frozen=True)
class VimAccount:
    name: str = "reallab-vim"
    project: str = "reallab-osm"
    user: str = "reallab-osm"
    password: str = "reallab-osm-secret"
    network: str = "reallab-osm-net"
    role: str = "member"

    def create_args(self, auth_url: str) -> list[str]:
        return ["vim-create", "--name", self.name, "--user", self.user, "--password", self.password,
                "--auth_url", auth_url, "--tenant", self.project, "--account_type", "openstack",
                "--description", "OpenStack of the real-stack lab (mecpool real-lab)", "--wait"]


def server_version(output: str) -> str:
    """The server's version from `osm version` ("Server version: 8.0.0.post1 2020-..." )."""
    match = re.search(r"Server version:\s*(.+)", output)
    if not match:
        raise ProofError(f"osm version printed no server version: {output.strip()[:300]}")
    return match.group(1).strip()


def operational_state(output: str) -> str | None:
    """The VIM account's `_admin.operationalState` in `osm vim-show` output (a table holding JSON)."""
    match = re.search(r'"operationalState":\s*"([A-Z_]+)"', output)
    return match.group(1) if match else None


def listed(output: str, name: str) -> bool:
    """Whether `osm vim-list`'s table has a row whose first cell is `name`."""
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == name:
            return True
    return False


def run(osm, stack, log: LogFn, vim: VimAccount = VimAccount()) -> dict:
    """The proof on a running stack with OSM up; returns step times and what OSM said."""
    t: dict[str, float] = {}
    found: dict[str, object] = {}

    def step(name, started):
        t[name] = round(time.monotonic() - started, 1)
        log(f"reallab osm proof: {name}: {t[name]:.1f} s")

    started = time.monotonic()
    found["server_version"] = server_version(osm.osm("version").stdout)
    step("osm version", started)

    started = time.monotonic()
    osc = stack.openstack
    project = json.loads(osc("project", "create", "--domain", "default", "-f", "json", vim.project).stdout)
    osc("user", "create", "--domain", "default", "--project", project["id"], "--password", vim.password, vim.user)
    osc("role", "add", "--project", project["id"], "--user", vim.user, vim.role)
    osc("network", "create", "--project", project["id"], vim.network)
    step("cloud: project, user, role, network", started)

    started = time.monotonic()
    osm.osm(*vim.create_args(stack.settings.url("keystone")), timeout=900)
    shown = osm.osm("vim-show", vim.name).stdout
    found["operational_state"] = operational_state(shown)
    if found["operational_state"] != "ENABLED":
        raise ProofError(f"VIM account {vim.name} is {found['operational_state']}, not ENABLED:\n{shown[-2000:]}")
    step("osm vim-create --wait: ENABLED", started)
    if not listed(osm.osm("vim-list").stdout, vim.name):
        raise ProofError(f"osm vim-list does not list {vim.name}")

    started = time.monotonic()
    tenant = ro_tenant_uuid(ro_get(stack, osm, "tenants"), osm.settings.ro_tenant)
    datacenters = ro_get(stack, osm, f"{tenant}/datacenters")["datacenters"]
    if len(datacenters) != 1:
        raise ProofError(f"RO has {len(datacenters)} datacenters, want the one LCM created: {datacenters}")
    networks = ro_get(stack, osm, f"{tenant}/vim/{datacenters[0]['uuid']}/networks")
    names = sorted(n.get("name") for n in networks.get("networks", []))
    found["ro_vim_networks"] = names
    if vim.network not in names:
        raise ProofError(f"RO listed {names} through the VIM account, not {vim.network}")
    step("RO lists the project's networks through the account", started)

    started = time.monotonic()
    osm.osm("vim-delete", vim.name, "--wait", timeout=900)
    # osmclient v8 waits on the "id" of NBI's answer, NBI v8 answers {"op_id": ...}: it polls
    # /vim_accounts/None, gets 404 and returns at once, before LCM and RO have deleted anything.
    found["vim_delete_wait_returned_while_listed"] = listed(osm.osm("vim-list").stdout, vim.name)
    wait_gone(osm, vim.name, timeout=300)
    left = ro_get(stack, osm, "any/datacenters")["datacenters"]
    if left:
        raise ProofError(f"RO still has datacenters after osm vim-delete: {left}")
    step("osm vim-delete --wait: gone from NBI and RO", started)

    started = time.monotonic()
    osc("network", "delete", vim.network)
    osc("user", "delete", vim.user)
    osc("project", "delete", project["id"])
    step("cloud: project, user, network removed", started)
    return {"steps": t, **found}


def wait_gone(osm, name: str, timeout: float, interval: float = 2.0) -> None:
    """Until `osm vim-list` no longer lists `name`."""
    deadline = time.monotonic() + timeout
    while listed(osm.osm("vim-list").stdout, name):
        if time.monotonic() > deadline:
            raise ProofError(f"{name} still listed {timeout:.0f} s after osm vim-delete")
        time.sleep(interval)


def ro_tenant_uuid(answer: dict, name: str) -> str:
    """RO's tenant `name` from GET /openmano/tenants (RO's URLs take the tenant's uuid)."""
    found = [t["uuid"] for t in answer.get("tenants", []) if t.get("name") == name]
    if len(found) != 1:
        raise ProofError(f"RO has {len(found)} tenants named {name}: {answer}")
    return found[0]


def ro_get(stack, osm, path: str) -> dict:
    """RO's northbound API (GET /openmano/<path>, JSON) from inside the namespace."""
    s = osm.settings
    url = f"http://{s.address}:{s.ro_port}/openmano/{path}"
    done = stack.sandbox.run(["curl", "-sS", "--max-time", "120", "-H", "Accept: application/json", url],
                             check=False, timeout=180)
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        raise ProofError(f"RO GET {path}: {done.returncode} {(done.stdout or done.stderr).strip()[:500]}") from None
    if "error" in answer:
        raise ProofError(f"RO GET {path}: {answer['error']}")
    return answer
