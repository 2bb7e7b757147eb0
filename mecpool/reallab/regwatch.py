"""When each PE was first listed by every registrar, watched from beside the runbook while OSM deploys
and scales the NS (the VDU lab's "boot to registered", for VMs that Nova boots).

A thread asks each registrar's own VM for its handlespace (`hsdump`, as the VDU lab does) every
`interval_s`, from the moment Nova has the registrar's server until the runbook stops the watch.  No
timestamp in a handlespace says when a PE registered, so a time here is the first poll that saw the PE
in every registrar: late by at most one interval plus the dumps' own time.  Polls cost the guests an
SSH session each; 30 s keeps that small beside TCG boots on two cores."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

POLL_S = 30
KEEP_ERRORS = 20


@dataclass(frozen=True)
class RegistrarVm:
    name: str            # the registrar's site name
    address: str         # its pool address (what hsdump asks)
    server: str          # Nova's server name
    mgmt: str            # the server's management address (what SSH reaches)


@dataclass
class RegistrationWatch:
    """`find_registrars()` -> the RegistrarVms Nova has so far; `dump(vm)` -> that registrar's parsed
    handlespace (raises when the VM cannot answer yet); `clock` is the wall clock (Nova's times are)."""
    find_registrars: Callable[[], list]
    dump: Callable[[RegistrarVm], dict]
    handle: str
    expected: int                               # registrars in the site
    interval_s: float = POLL_S
    clock: Callable[[], float] = time.time
    first_listed: dict = field(default_factory=dict)     # PE address -> first time listed by every registrar
    first_seen: dict = field(default_factory=dict)       # PE address -> first time listed by any registrar
    polls: int = 0
    errors: list = field(default_factory=list)
    _registrars: list = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def poll_once(self) -> None:
        if len(self._registrars) < self.expected:
            self._registrars = self.find_registrars()
            if len(self._registrars) < self.expected:
                return
        self.polls += 1
        views = []
        for vm in self._registrars:
            try:
                parsed = self.dump(vm)
            except Exception as error:   # not up yet, a dump that timed out: the next poll asks again
                self.errors = (self.errors + [f"{vm.name}: {error}"])[-KEEP_ERRORS:]
                return
            views.append({a for pool in parsed["pools"] if pool["handle"] == self.handle
                          for element in pool["elements"] for a in element["addresses"]})
        now = self.clock()
        for address in set().union(*views):
            self.first_seen.setdefault(address, now)
        for address in set.intersection(*views):
            self.first_listed.setdefault(address, now)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as error:   # Nova's list failed: keep watching, say so in the result
                self.errors = (self.errors + [f"watch: {error}"])[-KEEP_ERRORS:]
            self._stop.wait(self.interval_s)

    def start(self) -> "RegistrationWatch":
        self._thread = threading.Thread(target=self._loop, name="registration-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 300)
        return {"interval_s": self.interval_s, "polls": self.polls,
                "registrars": [vm.name for vm in self._registrars],
                "first_listed_by_every_registrar": dict(sorted(self.first_listed.items())),
                "first_listed_by_any_registrar": dict(sorted(self.first_seen.items())),
                "errors": self.errors}


def registrar_vms(registrars, by_address: dict, mgmt_network: Callable[[str], str]) -> list[RegistrarVm]:
    """The site's registrars whose server Nova has, with that server's management address;
    `by_address` is runbook_day2.servers_by_address of Nova's list, `mgmt_network(vim)` a VIM's network."""
    out = []
    for registrar in registrars:
        server = by_address.get(registrar.address, {}).get("server")
        mgmt = next((a for a, where in by_address.items()
                     if where["server"] == server and where["network"] == mgmt_network(registrar.vim)), None)
        if server and mgmt:
            out.append(RegistrarVm(registrar.name, registrar.address, server, mgmt))
    return out
