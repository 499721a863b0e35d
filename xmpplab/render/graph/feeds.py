"""Publish-subscribe in the routing graph (XEP-0060): the service, its nodes, and who receives what.

A node is drawn between its publishers and its subscribers: ``publishes``
edges come in from the accounts that may publish (owners and publishers,
section 4.1), ``notifies`` edges go out to every subscriber (6.1), so the
fan-out of one publish (7.1.2.1: one message per subscriber) is visible at a
glance. A node's id is its XMPP URI (``xmpp:pubsub.example.com?;node=sensors``,
section 4.6.2 addresses a node by JID and NodeID). Personal eventing (XEP-0163) is drawn the same way
with the account in the service's place: its nodes (``xmpp:juliet@example.com?;node=…``) take its
``publishes`` edge and fan out to the resources that get its notifications now.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import Edge, Node

if TYPE_CHECKING:
    from ...snapshot import ServerSnapshot
    from .model import RoutingGraph


def node_id(service: str, node: str) -> str:
    """The graph id of a pubsub node: its XMPP URI (RFC 5122 with XEP-0060's ``node`` key)."""
    return f"xmpp:{service}?;node={node}"


def add_pubsub(g: RoutingGraph, snap: ServerSnapshot, group: str) -> None:
    """The pubsub services that have nodes, each node, its publishers and its subscribers."""
    for service in getattr(snap, "pubsub", ()):
        if not service.nodes:
            continue  # a service with no node would only crowd the picture
        personal = getattr(service, "personal", False)
        if personal:  # XEP-0163: the account is the service; its nodes hang from it, fed by its publishing
            _person(g, service.domain)
        else:
            g.add_node(Node(service.domain, "service", service.domain, group=group,
                            info={"what": "publish-subscribe (XEP-0060)"}))
            if service.parent and service.parent in g.nodes:
                g.add_edge(Edge(service.parent, service.domain, "component", "open"))
        for feed in service.nodes:
            fid = node_id(service.domain, feed.name)
            g.add_node(Node(fid, "feed", feed.name, info={"service": service.domain, "items": feed.items,
                                                          "access": feed.access_model, "title": feed.title,
                                                          "personal": personal}))
            if not personal:
                g.add_edge(Edge(service.domain, fid, "component", "open"))
            for jid in feed.publishers:
                _person(g, jid)
                g.add_edge(Edge(jid, fid, "publishes", "open"))
            for jid in feed.subscribers:
                _person(g, jid)
                g.add_edge(Edge(fid, jid, "notifies", "open"))


def _person(g: RoutingGraph, jid: str) -> None:
    """An account (or an offline full JID's account) the graph does not know yet: someone on another server."""
    bare = jid.partition("/")[0]
    if jid in g.nodes or bare in g.nodes:
        if jid not in g.nodes:  # a full JID that is not connected now: draw it as its account
            g.add_node(Node(jid, "resource", jid.partition("/")[2], parent=bare, info={"available": False}))
        return
    domain = bare.partition("@")[2] if "@" in bare else bare
    g.add_node(Node(bare, "account", bare, info={"local": False, "domain": domain}))
    if jid != bare:
        g.add_node(Node(jid, "resource", jid.partition("/")[2], parent=bare, info={"available": False}))
