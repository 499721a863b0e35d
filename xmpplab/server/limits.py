"""Limits that keep a server safe where other people's laptops reach it.

On loopback the server is a friendly lab; off loopback it is a service that
thirty laptops on a school network reach, and some of them misbehave. Every
limit is one field of :class:`Limits`, given as ``Server(limits=Limits(...))``
or as a flag of ``xmpplab serve`` (``--max-unsent-bytes 8M``); the field's
``help`` says what it protects. Which peers count as *local* is one setting,
:attr:`Limits.local_networks` (the loopback addresses by default): local peers
may log in without TLS and, unless :attr:`Limits.limit_local` is set
(``--limit-loopback``), the per-address limits do not apply to them, so a
learner's own laptop and the benchmarks are never throttled.

>>> Limits().max_unsent_bytes
4194304
>>> Limits(local_networks=()).is_local(("127.0.0.1", 5222))   # every peer remote: for tests
False
>>> parse_size("256k"), parse_size("4M")
(262144, 4194304)
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, fields, replace

KiB = 1024
MiB = 1024 * 1024
LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1/128")


def _limit(default, help: str, unit: str = ""):
    return field(default=default, metadata={"help": help, "unit": unit})


@dataclass(frozen=True)
class Limits:
    """Every resource limit of one server, with what it protects (``help``) and its default."""

    # the stream: what one connection may send --------------------------------------
    max_stanza_bytes: int = _limit(
        256 * KiB, "largest stanza a peer may send; bounds the parser's memory per connection", "bytes")
    max_depth: int = _limit(48, "deepest element nesting in a stanza; bounds the parser's work", "levels")
    max_attributes: int = _limit(
        64, "most attributes on one element; bounds the work of checking and copying a stanza", "attributes")
    bytes_per_second: int = _limit(
        256 * KiB, "bytes a connection may send per second (reading pauses above it); one client cannot "
                   "take the whole server", "bytes/s")
    max_unsent_bytes: int = _limit(
        4 * MiB, "bytes waiting to be sent to a peer that does not read; reading from it stops above this, "
                 "and a peer that stays above it is closed with policy-violation", "bytes")
    unsent_timeout: float = _limit(
        10.0, "seconds a peer may stay above --max-unsent-bytes (not reading what it is sent) before it is "
              "closed with policy-violation; stanzas for it are refused with resource-constraint meanwhile", "s")
    s2s_queue: int = _limit(
        1000, "stanzas waiting for a remote domain while the connection to it is set up; more are refused "
              "with resource-constraint, so a domain that never answers cannot fill the server's memory",
        "stanzas")
    # publish-subscribe (XEP-0060): what one account may keep on the server ---------------------
    pubsub_nodes_per_account: int = _limit(
        20, "publish-subscribe nodes one account may own on a pubsub service (XEP-0060 8.1: more are "
            "refused with resource-constraint and max-nodes-exceeded)", "nodes")
    pubsub_item_bytes: int = _limit(
        64 * KiB, "largest payload of one published item (XEP-0060 7.1.3.5: payload-too-big)", "bytes")
    pep_item_bytes: int = _limit(
        192 * KiB, "largest payload of one item on an account's personal eventing service (XEP-0163): an avatar "
                   "of 128 KiB, base64-encoded in XEP-0084's data node", "bytes")
    pubsub_items_per_node: int = _limit(
        256, "most items a node may keep (the largest pubsub#max_items an owner may configure; Prosody's "
             "default too)", "items")
    # connections per address --------------------------------------------------------
    connections_per_address: int = _limit(
        100, "open connections from one address; one laptop cannot use up the file descriptors", "connections")
    unauthenticated_per_address: int = _limit(
        10, "connections from one address that have not logged in yet", "connections")
    negotiation_timeout: float = _limit(
        60.0, "seconds a connection may take from connecting to a bound resource", "s")
    # authentication and registration per address --------------------------------------
    auth_failures: int = _limit(
        20, "failed logins from one address per --auth-failure-window before it must wait; slows "
            "password guessing (as ejabberd's mod_fail2ban)", "failures")
    auth_failure_window: float = _limit(600.0, "the window of --auth-failures", "s")
    registrations: int = _limit(
        1, "in-band registrations (XEP-0077) from one address per --registration-window (Prosody: one "
           "per 300 s, min_seconds_between_registrations)", "accounts")
    registration_window: float = _limit(300.0, "the window of --registrations", "s")
    # who counts as local ------------------------------------------------------------------
    local_networks: tuple[str, ...] = _limit(
        LOOPBACK_NETWORKS, "peers in these networks are local: no TLS required and, unless limit_local, "
                           "no per-address limits")
    limit_local: bool = _limit(False, "apply the per-address limits to local peers too (for tests)")

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "local_networks":
                nets = tuple(value) if not isinstance(value, str) else (value,)
                try:
                    parsed = tuple(ipaddress.ip_network(n, strict=False) for n in nets)
                except ValueError as exc:
                    raise ValueError(f"local_networks: {exc}") from None
                object.__setattr__(self, "local_networks", tuple(str(n) for n in parsed))
                object.__setattr__(self, "_networks", parsed)
            elif f.type in ("int", "float") and (
                    isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise ValueError(f"the limit {f.name} must be a positive number, not {value!r}")

    def is_local(self, addr) -> bool:
        """Whether a peer address (``(host, port, ...)`` or a host string) is in :attr:`local_networks`."""
        host = addr[0] if isinstance(addr, (tuple, list)) and addr else addr
        try:
            ip = ipaddress.ip_address(str(host).split("%")[0])
        except ValueError:
            return False  # a UNIX socket or an unknown family: not a network peer we can place
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in net for net in self._networks)

    def applies_to(self, addr) -> bool:
        """Whether the per-address limits apply to this peer."""
        return self.limit_local or not self.is_local(addr)

    def replace(self, **changes) -> Limits:
        """A copy with some limits changed; the new values are checked like the old."""
        return replace(self, **changes)

    def describe(self) -> list[tuple[str, str, str]]:
        """(name, default, what it protects) for each limit: for ``--help`` and the README."""
        out = []
        for f in fields(self):
            unit = f.metadata.get("unit", "")
            out.append((f.name, f"{f.default!r}" + (f" {unit}" if unit else ""), f.metadata["help"]))
        return out


def parse_size(text: str) -> int:
    """``4096``, ``256k``, ``4M`` or ``1G`` as a number of bytes."""
    text = str(text).strip()
    scale = 1
    if text[-1:].lower() in ("k", "m", "g"):
        scale = {"k": KiB, "m": MiB, "g": 1024 * MiB}[text[-1].lower()]
        text = text[:-1]
    try:
        value = float(text) * scale
    except ValueError:
        raise ValueError(f"give a size such as 4096, 256k or 4M, not {text!r}") from None
    if value <= 0:
        raise ValueError(f"a size must be positive, not {text!r}")
    return int(value)
