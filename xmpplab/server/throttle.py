"""Per-address bookkeeping for the limits of :class:`~xmpplab.server.limits.Limits` (``server.throttle``).

Two kinds of counter, both keyed by :func:`~xmpplab.server.addresses.address_key` (an IPv4 address, or an
IPv6 /64):

* :class:`RateLimit`: at most ``limit`` events per ``window`` seconds (failed logins, registrations). A
  window opens at an address's first event; the address may act again once it has passed (as Prosody's
  ``min_seconds_between_registrations`` and ejabberd's ``mod_fail2ban``).
* :class:`Concurrent`: at most ``limit`` things open at once (connections, connections not logged in yet).

The bookkeeping is bounded: a rate entry is dropped once its window has passed (entries are kept in the
order their windows opened, so expiry only ever looks at the front), a concurrent entry when its count drops
to zero, and no more than ``max_addresses`` rate entries are ever kept (the oldest go first), so a flood of
addresses cannot grow memory without bound. The clock is injectable for tests::

    >>> now = [0.0]
    >>> failures = RateLimit(2, 60, clock=lambda: now[0])
    >>> failures.hit("10.0.0.7"); failures.hit("10.0.0.7"); failures.wait("10.0.0.7")
    60.0
    >>> now[0] = 60.0; failures.wait("10.0.0.7"), len(failures)
    (0.0, 0)
"""

from __future__ import annotations

import time

#: Most addresses a rate limit remembers at once (about 100 bytes each).
MAX_ADDRESSES = 100_000


class RateLimit:
    """At most ``limit`` events from one address per ``window`` seconds."""

    def __init__(self, limit: int, window: float, clock=time.monotonic, max_addresses: int = MAX_ADDRESSES):
        self.limit, self.window, self.clock, self.max_addresses = limit, window, clock, max_addresses
        self._entries: dict[str, list] = {}  # key -> [window opened at, events]; in the order windows opened

    def _expire(self, now: float) -> None:
        entries = self._entries
        while entries:
            key = next(iter(entries))
            if now - entries[key][0] < self.window:
                return
            del entries[key]

    def wait(self, key: str) -> float:
        """Seconds until ``key`` may act again (0.0: it may act now)."""
        now = self.clock()
        self._expire(now)
        entry = self._entries.get(key)
        if entry is None or entry[1] < self.limit:
            return 0.0
        return float(self.window - (now - entry[0]))

    def hit(self, key: str) -> None:
        """Count one event from ``key``."""
        now = self.clock()
        self._expire(now)
        entry = self._entries.get(key)
        if entry is not None:
            entry[1] += 1
            return
        while len(self._entries) >= self.max_addresses:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = [now, 1]

    def __len__(self) -> int:
        return len(self._entries)


class Concurrent:
    """At most ``limit`` things open at once per address."""

    def __init__(self, limit: int):
        self.limit = limit
        self._counts: dict[str, int] = {}

    def full(self, key: str) -> bool:
        """Whether the address already has ``limit`` things open."""
        return self._counts.get(key, 0) >= self.limit

    def add(self, key: str) -> None:
        """Count one more for the address."""
        self._counts[key] = self._counts.get(key, 0) + 1

    def remove(self, key: str) -> None:
        """Count one less for the address."""
        left = self._counts.get(key, 0) - 1
        if left > 0:
            self._counts[key] = left
        else:
            self._counts.pop(key, None)

    def count(self, key: str) -> int:
        """How many the address has open."""
        return self._counts.get(key, 0)

    def __len__(self) -> int:
        return len(self._counts)


class Throttle:
    """The per-address counters of one server, built from its :class:`~xmpplab.server.limits.Limits`."""

    def __init__(self, limits, clock=time.monotonic):
        self.limits = limits
        self.auth_failures = RateLimit(limits.auth_failures, limits.auth_failure_window, clock)
        self.registrations = RateLimit(limits.registrations, limits.registration_window, clock)
        self.connections = Concurrent(limits.connections_per_address)
        self.unauthenticated = Concurrent(limits.unauthenticated_per_address)

    def __repr__(self) -> str:
        return (f"<Throttle {len(self.connections)} addresses connected, {len(self.unauthenticated)} with "
                f"connections not logged in, {len(self.auth_failures)} with failed logins, "
                f"{len(self.registrations)} with registrations>")
