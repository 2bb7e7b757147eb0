"""When each PE was first listed by every registrar, watched from beside the runbook while OSM deploys
and scales the NS (the VDU lab's "boot to registered", for VMs that Nova boots).

A thread runs `hsdump` against each registrar every `interval_s`, from a PE's VM as the VDU lab does
(the PE's cloud-init installs rsplib-tools, which holds hsdump; a registrar's VM gets it only with its
charm, after LCM's day 1), from the moment Nova has that VM until the runbook stops the watch.  No entry
of a handlespace says when a PE registered, so a time here is the first poll that saw the PE in every
registrar: late by at most one interval plus the dumps' own time.  Polls cost the guest an SSH session
each; 30 s keeps that small beside TCG boots on two cores."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

POLL_S = 30
KEEP_ERRORS = 20


@dataclass
class RegistrationWatch:
    """`find_probe()` -> a PE's VM (with its Nova `name`) once Nova has one, else None; `dump(vm, address)`
    -> the parsed handlespace of the registrar at that pool address (raises while it cannot answer);
    `registrars`: name -> pool address; `clock` is the wall clock (Nova's times are)."""
    find_probe: Callable[[], object]
    dump: Callable[[object, str], dict]
    registrars: dict
    handle: str
    interval_s: float = POLL_S
    clock: Callable[[], float] = time.time
    first_listed: dict = field(default_factory=dict)     # PE address -> first time listed by every registrar
    first_seen: dict = field(default_factory=dict)       # PE address -> first time listed by any registrar
    polls: int = 0
    errors: list = field(default_factory=list)
    probe: object = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def poll_once(self) -> None:
        if self.probe is None:
            self.probe = self.find_probe()
            if self.probe is None:
                return
        self.polls += 1
        views = []
        for name, address in self.registrars.items():
            try:
                parsed = self.dump(self.probe, address)
            except Exception as error:   # not up yet, a dump that timed out: the next poll asks again
                self.errors = (self.errors + [f"{name}: {error}"])[-KEEP_ERRORS:]
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
        return {"interval_s": self.interval_s, "polls": self.polls, "from": self.probe and self.probe.name,
                "registrars": dict(self.registrars),
                "first_listed_by_every_registrar": dict(sorted(self.first_listed.items())),
                "first_listed_by_any_registrar": dict(sorted(self.first_seen.items())),
                "errors": self.errors}

