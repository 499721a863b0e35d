"""A routing graph from a transcript: its connections grouped into links, and what they show.

A Lab records both ends of a client's connection; :func:`links` pairs them,
names each end from the stream headers (RFC 6120 section 4.7), the bind
result, dialback (XEP-0220) or the stanzas, and :func:`from_transcript`
draws c2s and s2s links, bound resources and their last presence.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...xml import child_text
from .model import Edge, Node, RoutingGraph


def _show_of(presence) -> str | None:
    return child_text(presence, "show")


@dataclass
class Link:
    """One TCP connection as the transcript saw it, from one or both of its ends.

    A Lab records both ends of a client's connection (``client-juliet-1`` by the client,
    ``c2s-1`` by the server); they are one link when their addresses match.
    ``src``/``dst`` are node ids of the initiating and the receiving entity.
    """

    kind: str
    conns: tuple
    src: str
    dst: str
    src_label: str
    dst_label: str
    jid: str | None = None
    domain: str | None = None        # c2s: the server's domain
    client: str | None = None
    server: str | None = None
    closed: bool = False
    tls: str | None = None
    connections: tuple = ()
    transport: str = "tcp"  # or "websocket" (RFC 7395)

    def ends(self, direction) -> tuple[str, str]:
        """(from, to) node ids for text going in ``direction`` (C→S: initiating to receiving)."""
        return (self.src, self.dst) if str(direction) == "C→S" else (self.dst, self.src)

    def label_of(self, node_id: str) -> str:
        """The label of one end of the link."""
        return self.src_label if node_id == self.src else self.dst_label

    def kind_of(self, node_id: str) -> str:
        """The node kind of one end: ``server``, ``resource`` or ``client``."""
        if node_id == self.dst or self.kind == "s2s":
            return "server"
        return "resource" if self.jid and "/" in self.jid else "client"


def _headers(conn) -> tuple[dict, dict]:
    """Attributes of the first stream header in each direction (C→S, S→C)."""
    found: dict = {}
    for item in conn.parsed:
        if str(item.kind) == "stream-open" and str(item.direction) not in found:
            found[str(item.direction)] = item.attrs or {}
            if len(found) == 2:
                break
    return found.get("C→S", {}), found.get("S→C", {})


def _domain_of(jid: str | None) -> str | None:
    if not jid:
        return None
    rest = jid.partition("/")[0]
    return rest.rpartition("@")[2] or None


def links(transcript) -> list[Link]:
    """The transcript's connections grouped into links (both recorded ends of one TCP connection)."""
    groups: dict[tuple, list] = {}
    for conn in transcript.connections.values():
        key = (conn.kind, conn.client, conn.server) if conn.client and conn.server else (conn.id,)
        groups.setdefault(key, []).append(conn)
    result = []
    for conns in groups.values():
        first = conns[0]
        jid = next((c.jid for c in conns if c.jid), None)
        c2s_header, s2c_header = {}, {}
        for c in conns:
            a, b = _headers(c)
            c2s_header = c2s_header or a
            s2c_header = s2c_header or b
        closed = all(c.closed is not None for c in conns)
        tls = next((c.tls for c in conns if c.tls), None)
        transport = next((c.transport for c in conns if getattr(c, "transport", "tcp") != "tcp"), "tcp")
        common = dict(transport=transport, conns=tuple(c.id for c in conns), client=first.client,
                      server=first.server, closed=closed, tls=tls, connections=tuple(conns))
        if first.kind == "s2s":
            src = c2s_header.get("from") or _dialback(conns, "from") or _stanza_domain(conns, "from") or \
                f"server {first.client or first.id}"
            dst = c2s_header.get("to") or s2c_header.get("from") or _dialback(conns, "to") or \
                _stanza_domain(conns, "to") or f"server {first.server or first.id}"
            result.append(Link("s2s", src=src, dst=dst, src_label=src, dst_label=dst, **common))
            continue
        jid = jid or _jid_from_stanzas(conns)
        domain = _domain_of(jid) or _domain_of(c2s_header.get("to")) or _domain_of(s2c_header.get("from"))
        dst = domain or f"server {first.server or first.id}"
        if jid and "/" in jid:
            src, src_label = jid, jid.partition("/")[2]
        elif jid:
            src, src_label = jid, jid
        else:
            src = f"client {first.client or first.id}"
            src_label = first.label("C→S") if not first.client else f"client {first.client}"
        result.append(Link(first.kind, src=src, dst=dst, src_label=src_label, dst_label=dst, jid=jid,
                           domain=domain, **common))
    return result


def _stanza_domain(conns, attr: str) -> str | None:
    """s2s without headers (imported RFC examples): the domain of the first stanza's ``from`` or ``to``."""
    for c in conns:
        for item in c.parsed:
            if item.stanza_kind and str(item.direction) == "C→S" and item.get(attr):
                return _domain_of(item.get(attr))
    return None


def _jid_from_stanzas(conns) -> str | None:
    """c2s without a bind result (imported examples): the client's JID from what crossed its stream:
    ``from`` of what it sent, ``to`` of what the server sent it; a full JID is preferred."""
    seen = []
    for c in conns:
        for item in c.parsed:
            if not item.stanza_kind:
                continue
            jid = item.from_ if str(item.direction) == "C→S" else item.to
            if jid and "@" in jid:
                if "/" in jid:
                    return jid
                seen.append(jid)
    return seen[0] if seen else None


def _dialback(conns, attr: str) -> str | None:
    """XEP-0220: a dialback ``<db:result from=... to=...>`` names the domains when the header does not."""
    for c in conns:
        for item in c.parsed:
            if str(item.direction) == "C→S" and item.name == "result" and item.ns == "jabber:server:dialback":
                return item.get(attr)
    return None


def _presence_state(link: Link) -> dict:
    """Availability and priority from the last broadcast presence the client sent (RFC 6121 section 4)."""
    state: dict = {}
    conn = link.connections[0]
    for item in conn.parsed:
        if item.stanza_kind != "presence" or str(item.direction) != "C→S" or item.to or \
                item.type not in (None, "unavailable"):
            continue
        state["available"] = item.type is None
        prio = child_text(item.element, "priority")
        try:
            state["priority"] = int(prio) if prio else 0
        except ValueError:
            state["priority"] = prio
        show = _show_of(item.element)
        if show:
            state["show"] = show
    if link.closed:
        state["available"] = False
    return state


def from_transcript(transcript, title: str | None = None) -> RoutingGraph:
    """The routing graph of what a transcript's connections show: c2s and s2s links, bound JIDs, last presence."""
    g = RoutingGraph(title or f"recorded by {getattr(transcript, 'recorded_by', None) or 'unknown'}")
    groups: dict[str, str] = {}  # server address -> a group name: one process serving several domains
    all_links = links(transcript)
    for link in all_links:
        if link.kind == "s2s":
            for d in (link.src, link.dst):
                g.add_node(Node(d, "server", d))
            g.add_edge(Edge(link.src, link.dst, "s2s", "closed" if link.closed else "open", link.conns,
                            {"tls": link.tls}))
            continue
        group = None
        if link.server and link.domain:
            group = groups.setdefault(link.server, f"server {link.server}")
        g.add_node(Node(link.dst, "server", link.dst, group=group))
        info = {"conn": ", ".join(link.conns), "secure": bool(link.tls), "address": link.client,
                **_presence_state(link)}
        if link.jid and "/" in link.jid:
            bare = link.jid.partition("/")[0]
            g.add_node(Node(bare, "account", bare, info={"domain": link.domain}))
            g.add_node(Node(link.src, "resource", link.src_label, parent=bare, info=info))
        else:
            g.add_node(Node(link.src, "account" if link.jid else "client", link.src_label, info=info))
        g.add_edge(Edge(link.src, link.dst, "c2s", "closed" if link.closed else "open", link.conns,
                        {"secure": bool(link.tls), "transport": link.transport}))
    # a group with one domain needs no frame
    for name in set(groups.values()):
        members = [n for n in g.nodes.values() if n.group == name]
        if len(members) < 2:
            for n in members:
                n.group = None
    return g
