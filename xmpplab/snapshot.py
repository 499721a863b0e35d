"""What a server holds at one moment, as plain immutable data: what the views draw.

:meth:`xmpplab.server.Server.snapshot` builds a :class:`ServerSnapshot` (and
:meth:`xmpplab.lab.Lab.snapshot` a :class:`LabSnapshot` of its servers); the
routing graph, the roster board and the Lab's card read these, never the live
server, so a view cannot change what it shows and can be tested without one::

    snap = server.snapshot()
    snap.account("juliet@example.com").resources
    # (Resource(jid='juliet@example.com/balcony', resource='balcony', available=True, show='away',
    #           status='In the garden', priority=5, secure=True, conn='c2s-1'),)
    snap.account("romeo@example.net").roster
    # (RosterEntry(contact='juliet@example.com', subscription='to', pending_out=False, ...),)

The nouns are the RFCs': a connected *resource* (RFC 6120 section 7) with its
presence (``show``, ``status``, ``priority``: RFC 6121 section 4.7), an
account's *roster* with subscription states (RFC 6121 section 2.1.2 and
Appendix A), the rooms of a chat service and their occupants (XEP-0045
section 7), the nodes of a publish-subscribe service with their publishers and
subscribers (XEP-0060 section 4), server-to-server streams (RFC 6120 section 4) and the routing
decisions the server made most recently (RFC 6120 section 10). Everything is
a frozen dataclass of strings, numbers and tuples: it compares, hashes and
never changes. Nothing here imports the server.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Account", "ChatService", "FeedNode", "LabSnapshot", "Occupant", "PubSubService", "Resource", "Room",
           "RosterEntry", "Route", "S2SLink", "ServerSnapshot", "snapshots_of"]


@dataclass(frozen=True)
class Resource:
    """One connected resource of an account (a bound c2s stream, RFC 6120 section 7) and its presence.

    ``available``: it sent initial presence (RFC 6121 section 4.2); ``show`` (``chat``, ``away``, ``xa``,
    ``dnd`` or None), ``status`` and ``priority`` come from its last broadcast presence (section 4.7).
    """

    jid: str
    resource: str
    available: bool = False
    show: str | None = None
    status: str | None = None
    priority: int = 0
    secure: bool = False
    conn: str | None = None
    transport: str = "tcp"  # or "websocket" (RFC 7395)


@dataclass(frozen=True)
class RosterEntry:
    """One item of an account's roster (RFC 6121 section 2.1.2) with its subscription state (Appendix A).

    ``pending_out``: the account asked to see the contact's presence (``ask='subscribe'``);
    ``pending_in``: the contact asked and the account has not answered; ``in_roster``: False for a
    contact known only by a pending request.
    """

    contact: str
    subscription: str = "none"
    pending_out: bool = False
    pending_in: bool = False
    in_roster: bool = True
    name: str | None = None
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Account:
    """An account (a bare JID): its connected resources, sorted by resource, and its roster."""

    jid: str
    resources: tuple[Resource, ...] = ()
    roster: tuple[RosterEntry, ...] = ()
    stored: bool = True

    @property
    def online(self) -> bool:
        """Whether at least one resource is connected."""
        return bool(self.resources)

    @property
    def domain(self) -> str:
        """The domain part of the account's JID."""
        return self.jid.rpartition("@")[2]


@dataclass(frozen=True)
class Occupant:
    """Someone in a room (XEP-0045 section 7.2): a nickname, a role and the real full JIDs behind it."""

    nick: str
    role: str
    jids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Room:
    """A chat room (XEP-0045) and who is in it."""

    jid: str
    name: str = ""
    occupants: tuple[Occupant, ...] = ()


@dataclass(frozen=True)
class ChatService:
    """A multi-user chat service (a component such as ``conference.example.com``) and its rooms."""

    domain: str
    parent: str | None = None
    rooms: tuple[Room, ...] = ()


@dataclass(frozen=True)
class FeedNode:
    """A publish-subscribe node (XEP-0060 section 4.2): who may publish to it, who is subscribed, how many items.

    ``publishers`` are the owners' and publishers' bare JIDs (4.1); ``subscribers`` the JIDs (bare or full)
    that get a notification for each item (6.1); ``access_model`` is ``open`` or ``whitelist`` (4.5).
    """

    name: str
    title: str = ""
    publishers: tuple[str, ...] = ()
    subscribers: tuple[str, ...] = ()
    items: int = 0
    access_model: str = "open"
    publish_model: str = "publishers"


@dataclass(frozen=True)
class PubSubService:
    """A publish-subscribe service (XEP-0060, a component such as ``pubsub.example.com``) and its nodes.

    ``personal``: an account's own service (XEP-0163), whose ``domain`` is the account's bare JID and whose
    subscribers are the resources that get its notifications now (interested contacts and its own).
    """

    domain: str
    parent: str | None = None
    nodes: tuple[FeedNode, ...] = ()
    personal: bool = False


@dataclass(frozen=True)
class S2SLink:
    """A server-to-server stream (RFC 6120 section 4), from the initiating to the receiving domain; ``bidi``:
    it carries stanzas both ways (XEP-0288)."""

    initiating: str
    receiving: str
    conn: str | None = None
    bidi: bool = False


@dataclass(frozen=True)
class Route:
    """One routing decision (RFC 6120 section 10): a stanza, whom it was for and what kind of address that is.

    ``where`` is ``full``, ``bare``, ``self`` or ``host`` (a local address), ``component`` (a service such as
    the chat rooms) or ``remote`` (another server, over s2s); ``origin`` is the connection it came on, None
    when the server produced it.
    """

    t: float
    kind: str
    type: str | None
    from_: str | None
    to: str | None
    where: str
    origin: str | None = None


@dataclass(frozen=True)
class ServerSnapshot:
    """One server at one moment: its domains and address, accounts, rooms, s2s streams and recent routes."""

    name: str
    hosts: tuple[str, ...]
    address: tuple[str, int | None]
    running: bool
    taken_at: float
    accounts: tuple[Account, ...] = ()
    services: tuple[ChatService, ...] = ()
    s2s: tuple[S2SLink, ...] = ()
    routes: tuple[Route, ...] = ()
    pubsub: tuple[PubSubService, ...] = ()

    @property
    def port(self) -> int | None:
        """The client port (None when the server is not listening)."""
        return self.address[1]

    def serves(self, domain: str) -> bool:
        """Whether ``domain`` is one of this server's hosts."""
        return domain in self.hosts

    def account(self, jid: str) -> Account | None:
        """The account of a bare JID, or None."""
        return next((a for a in self.accounts if a.jid == jid), None)

    @property
    def online(self) -> tuple[Resource, ...]:
        """Every connected resource."""
        return tuple(r for a in self.accounts for r in a.resources)


@dataclass(frozen=True)
class LabSnapshot:
    """A Lab at one moment: the snapshots of its servers (one, or one per domain when federated)."""

    servers: tuple[ServerSnapshot, ...]
    running: bool = True
    federated: bool = False

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every domain of every server."""
        return tuple(h for s in self.servers for h in s.hosts)

    def server_for(self, domain: str) -> ServerSnapshot | None:
        """The snapshot of the server serving ``domain``, or None."""
        return next((s for s in self.servers if s.serves(domain)), None)


def snapshots_of(source) -> tuple[ServerSnapshot, ...]:
    """The server snapshots in a snapshot, or in what ``source.snapshot()`` gives (a Server or a Lab, duck-typed).

    Takes a :class:`ServerSnapshot`, a :class:`LabSnapshot`, anything with a ``snapshot()`` method that
    returns one, or a list of these. TypeError for anything else.
    """
    if isinstance(source, ServerSnapshot):
        return (source,)
    if isinstance(source, LabSnapshot):
        return source.servers
    take = getattr(source, "snapshot", None)
    if callable(take):
        taken = take()
        if isinstance(taken, (ServerSnapshot, LabSnapshot)):
            return snapshots_of(taken)
    if isinstance(source, (list, tuple)) and source:
        return tuple(s for one in source for s in snapshots_of(one))
    raise TypeError(f"expected a Lab, a Server or their snapshot, not {type(source).__name__}")
