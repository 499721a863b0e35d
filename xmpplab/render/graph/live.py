"""A routing graph from server snapshots: who is connected where and who sees whom, right now.

Reads :class:`xmpplab.snapshot.ServerSnapshot` (plain immutable data from
``Server.snapshot()``), never a live server: servers with their domains,
every account, connected resources with availability, show and priority
(RFC 6121 section 4.7), c2s links, subscriptions from the rosters (RFC 6121
section 3), s2s streams, chat services with their rooms and occupants (XEP-0045),
publish-subscribe nodes with their publishers and subscribers (XEP-0060, :mod:`.feeds`).
"""

from __future__ import annotations

from ...snapshot import RosterEntry, ServerSnapshot
from .feeds import add_pubsub
from .model import Edge, Node, RoutingGraph


def server_group(snap: ServerSnapshot, index: int) -> str:
    """The frame a server's domains are drawn in: ``xmpplab server 127.0.0.1:5222`` (``#2``... when several)."""
    where = f"{snap.address[0]}:{snap.port}" if snap.port and snap.running else "stopped"
    return f"{snap.name} server {where}" + (f" #{index + 1}" if index else "")


def from_snapshots(servers, offline: bool = True, title: str = "servers") -> RoutingGraph:
    """The routing graph of one or more server snapshots (``offline=False``: only accounts with something going on)."""
    g = RoutingGraph(title)
    for index, snap in enumerate(servers):
        group = server_group(snap, index)
        for host in snap.hosts:
            g.add_node(Node(host, "server", host, group=group, info={"local": True}))
        for account in snap.accounts:
            g.add_node(Node(account.jid, "account", account.jid,
                            info={"local": True, "domain": account.domain, "online": account.online}))
            for r in account.resources:
                info = {"available": r.available, "priority": r.priority, "secure": r.secure, "conn": r.conn}
                if r.show:
                    info["show"] = r.show
                g.add_node(Node(r.jid, "resource", r.resource, parent=account.jid, info=info))
                g.add_edge(Edge(r.jid, account.domain, "c2s", "open", (r.conn,) if r.conn else (),
                                {"secure": r.secure, "transport": r.transport}))
        for account in snap.accounts:  # every account is a node before any roster is read
            for entry in account.roster:
                _add_subscription(g, account.jid, entry)
        for link in snap.s2s:
            for domain in (link.initiating, link.receiving):
                if domain not in g.nodes:
                    g.add_node(Node(domain, "server", domain))
            g.add_edge(Edge(link.initiating, link.receiving, "s2s", "open", (link.conn,) if link.conn else (),
                            {"bidi": True} if link.bidi else {}))
        _add_rooms(g, snap, group)
        add_pubsub(g, snap, group)  # XEP-0060 nodes: who publishes, who receives (feeds.py)
    if not offline:
        keep = {e.src for e in g.edges} | {e.dst for e in g.edges}
        for n in list(g.nodes.values()):
            if n.kind == "account" and n.id not in keep and not g.resources(n.id):
                del g.nodes[n.id]
    return g


def _add_subscription(g: RoutingGraph, owner: str, entry: RosterEntry) -> None:
    """One roster item's facts (RFC 6121 section 3): ``to``/``both``: owner sees contact; ``from``/``both``:
    contact sees owner; pending out: owner asked; pending in: contact asked."""
    sub, contact = entry.subscription, entry.contact
    facts = []
    if sub in ("to", "both"):
        facts.append((owner, contact, "subscribed"))
    elif entry.pending_out:
        facts.append((owner, contact, "pending"))
    if sub in ("from", "both"):
        facts.append((contact, owner, "subscribed"))
    elif entry.pending_in:
        facts.append((contact, owner, "pending"))
    if not facts:
        return
    if contact not in g.nodes:
        domain = contact.partition("@")[2] if "@" in contact else contact
        g.add_node(Node(contact, "account", contact, info={"local": False, "domain": domain}))
    for src, dst, state in facts:
        g.add_edge(Edge(src, dst, "subscription", state))


def _add_rooms(g: RoutingGraph, snap: ServerSnapshot, group: str) -> None:
    """The chat services (components, XEP-0045) that have rooms, the rooms, and who is in them."""
    for service in snap.services:
        if not service.rooms:
            continue  # a chat service nobody uses would only crowd the picture
        g.add_node(Node(service.domain, "service", service.domain, group=group,
                        info={"what": "chat rooms (XEP-0045)"}))
        if service.parent and service.parent in g.nodes:
            g.add_edge(Edge(service.parent, service.domain, "component", "open"))
        for room in service.rooms:
            g.add_node(Node(room.jid, "room", room.jid.partition("@")[0],
                            info={"occupants": len(room.occupants), "service": service.domain}))
            g.add_edge(Edge(service.domain, room.jid, "component", "open"))
            for occupant in room.occupants:
                for real in occupant.jids:
                    if real in g.nodes:
                        g.add_edge(Edge(real, room.jid, "occupant", "open", (), {"nick": occupant.nick}))
