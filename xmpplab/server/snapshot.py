"""``Server.snapshot()``: what the server holds now, copied into the plain immutable data of :mod:`xmpplab.snapshot`.

The views (routing graph, roster board, the Lab's card) draw a snapshot and
never read the live server: this module is the one place that knows where the
server keeps its sessions (RFC 6120 section 7), rosters (RFC 6121 section 2),
rooms (XEP-0045), publish-subscribe nodes (XEP-0060), server-to-server streams (RFC 6120 section 4) and recent
routing decisions (RFC 6120 section 10, kept by the router).
"""

from __future__ import annotations

import time

from ..snapshot import (
    Account,
    ChatService,
    FeedNode,
    Occupant,
    PubSubService,
    Resource,
    Room,
    RosterEntry,
    Route,
    S2SLink,
    ServerSnapshot,
)
from ..xml import child_text


def take_snapshot(server) -> ServerSnapshot:
    """Copy what ``server`` holds now into a :class:`~xmpplab.snapshot.ServerSnapshot`."""
    # After stop() the database is closed: a stopped server shows no accounts (one never started still does).
    readable = server.running or server.started_at is None
    stored = server.accounts.list() if readable else []
    online = {str(bare): dict(resources) for bare, resources in server.sessions.items()}
    accounts = []
    for bare in dict.fromkeys([*stored, *online]):
        resources = tuple(_resource(bare, name, session) for name, session in sorted(online.get(bare, {}).items()))
        roster = tuple(_roster_entry(item) for item in server.storage.get_roster(bare).values()) if readable else ()
        accounts.append(Account(bare, resources, roster, stored=bare in stored))
    return ServerSnapshot(
        name=server.name, hosts=tuple(server.hosts), address=server.address, running=server.running,
        taken_at=time.time(), accounts=tuple(accounts), services=_services(server), s2s=_s2s(server),
        routes=tuple(Route(*decision) for decision in server.router.recent_routes()), pubsub=_pubsub(server))


def _resource(bare: str, name: str, session) -> Resource:
    """A bound session and its last broadcast presence (RFC 6121 section 4.7: show, status, priority)."""
    presence = session.presence
    jid = session.jid
    return Resource(jid=str(jid) if jid is not None else f"{bare}/{name}", resource=name,
                    available=bool(session.available), show=child_text(presence, "show"),
                    status=child_text(presence, "status"), priority=session.priority, secure=bool(session.secure),
                    conn=session.conn_id, transport=getattr(session, "transport_kind", "tcp"))


def _roster_entry(item) -> RosterEntry:
    """A stored roster item (RFC 6121 section 2.1.2) and its subscription state (Appendix A)."""
    return RosterEntry(contact=item.contact, subscription=item.subscription or "none", pending_out=bool(item.ask),
                       pending_in=bool(item.pending_in), in_roster=bool(item.in_roster), name=item.name,
                       groups=tuple(item.groups))


def _services(server) -> tuple[ChatService, ...]:
    """The chat services (XEP-0045 components) with their rooms and occupants."""
    services = []
    for domain, service in sorted(getattr(server, "muc", {}).items()):
        parent = domain.partition(".")[2]
        rooms = tuple(
            Room(jid=room_jid, name=room.config.name,
                 occupants=tuple(Occupant(o.nick, o.role, tuple(str(j) for j in o.sessions))
                                 for o in room.occupants.values()))
            for room_jid, room in sorted(service.rooms.items()))
        services.append(ChatService(domain, parent if parent in server.hosts else None, rooms))
    return tuple(services)


def _pubsub(server) -> tuple[PubSubService, ...]:
    """The publish-subscribe services (XEP-0060 components) with their nodes, publishers and subscribers."""
    services = []
    for domain, service in sorted(getattr(server, "pubsub", {}).items()):
        parent = domain.partition(".")[2]
        nodes = tuple(
            FeedNode(name, node.config.title, tuple(sorted(j for j, a in node.affiliations.items()
                                                           if a in ("owner", "publisher"))),
                     tuple(j for j, state in node.subscriptions.items() if state == "subscribed"), len(node.items),
                     node.config.access_model, node.config.publish_model)
            for name, node in sorted(service.nodes.items()))
        services.append(PubSubService(domain, parent if parent in server.hosts else None, nodes))
    pep = getattr(server, "pep", None)
    for bare, service in sorted(pep.services.items() if pep is not None else ()):
        nodes = tuple(FeedNode(name, node.config.title, tuple(node.owners), tuple(service.recipients(node)),
                               len(node.items), node.config.access_model, node.config.publish_model)
                      for name, node in sorted(service.nodes.items()))
        if nodes:  # XEP-0163: the account's own service, its recipients those its items go to now
            services.append(PubSubService(bare, bare.partition("@")[2], nodes, personal=True))
    return tuple(services)


def _s2s(server) -> tuple[S2SLink, ...]:
    """The server-to-server streams whose two domains are known (dialback or SASL EXTERNAL done)."""
    links = []
    for conn in sorted(server.connections, key=lambda c: c.conn_id):
        if conn.kind != "s2s":
            continue
        local, remote = conn.local_domain, conn.remote_domain
        if not (local and remote):
            continue
        src, dst = (local, remote) if conn.role == "initiating" else (remote, local)
        links.append(S2SLink(str(src), str(dst), conn.conn_id, bool(getattr(conn.neg, "bidi", False))))
    return tuple(links)
