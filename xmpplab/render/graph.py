"""Routing graphs: who is connected to which server, who sees whose presence, and the path one stanza took.

A :class:`RoutingGraph` is a plain model (nodes and edges, no Graphviz in it)
built from a live Lab or Server, or from a Transcript::

    g = routing_graph(lab)                  # servers, accounts, connected resources, subscriptions
    g = routing_graph(lab.transcript)       # what the recording saw: c2s and s2s connections
    path = stanza_path(t, t.first(kind="message"))
    path                                    # 1 pc → 2 server1.com → 3 server2.com → 4 phone1
    g.highlight(path)                       # the same graph with the path drawn and numbered

The names are the RFC's and the tutorial's: a server is its domain
(``server1.com``), an account its bare JID (``user1@server1.com``), a
connected resource its resource name (``pc``, ``phone1``). Edges:

``c2s``
    a client's stream to its server (RFC 6120 section 4), one line per
    connected resource, green.
``s2s``
    a server-to-server stream (RFC 6120 sections 4 and 10.4), from the
    initiating to the receiving server, blue and bold.
``subscription``
    ``A → B``: A sees B's presence (B's roster says ``from`` or ``both``
    for A; RFC 6121 section 3). ``pending``: A asked and B has not answered
    yet (``ask='subscribe'``), dashed.

The graph shows itself in Jupyter: SVG when Graphviz can draw (see
:mod:`.graphviz_backend`), else one sentence saying why, the DOT source and a
text table; ``.text()`` is always there.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import graphviz_backend
from .graphviz_backend import Figure, dot_attrs, q

__all__ = ["Edge", "Hop", "Node", "RoutingGraph", "StanzaPath", "routing_graph", "stanza_path"]

# colours (the stream view's convention: client to server green, server to client black)
C2S_COLOUR = "#2e7d32"
S2S_COLOUR = "#1565c0"
SUB_COLOUR = "#7b1fa2"
PATH_COLOUR = "#d32f2f"


# ====================================================================== the model
@dataclass
class Node:
    """A server (``kind="server"``, id and label its domain), an account (``"account"``, its bare JID),
    a connected resource (``"resource"``: id its full JID, label the resource, ``parent`` the bare JID),
    or a client whose JID is unknown (``"client"``). ``group`` names the server process a domain lives in;
    ``info`` holds facts shown in the text and the tooltip (available, priority, secure, local...)."""

    id: str
    kind: str
    label: str
    parent: str | None = None
    group: str | None = None
    info: dict = field(default_factory=dict)


@dataclass
class Edge:
    """A ``c2s`` or ``s2s`` link, a ``subscription`` (src sees dst's presence), a ``component`` link (a server and
    its chat service, a service and its rooms) or an ``occupant`` (a resource in a room, ``info["nick"]``).

    ``state``: ``subscribed`` or ``pending`` for subscriptions; ``open`` or ``closed`` for links.
    ``conns`` are the transcript connection ids behind a link (both recordings of one TCP connection).
    """

    src: str
    dst: str
    kind: str
    state: str | None = None
    conns: tuple = ()
    info: dict = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        return (self.src, self.dst, self.kind)


@dataclass(frozen=True)
class Hop:
    """One stop of a stanza's path: where it was (``node``, ``label``) and how it got there.

    ``number`` counts from 1 (where it started); ``src`` is the stop it came from (None for the
    first); ``via`` is ``c2s`` or ``s2s`` (observed on those connections, ``conns``), ``internal``
    (one server serving both domains handed it over inside itself) or ``unobserved``. ``item`` is
    the stanza as recorded arriving there (as sent, for the first stop).
    """

    number: int
    node: str
    label: str
    kind: str
    src: str | None = None
    via: str | None = None
    conns: tuple = ()
    item: object = None
    t: float | None = None

    def __repr__(self) -> str:
        how = f" via {self.via}" + (f" ({', '.join(self.conns)})" if self.conns else "") if self.via else ""
        return f"<Hop {self.number} {self.node}{how}>"


class RoutingGraph(Figure):
    """Nodes and edges of who is connected where and who sees whom, plus an optional highlighted path."""

    def __init__(self, title: str = "routing graph"):
        self.title = title
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.path: list[Hop] = []
        self.notes: list[str] = []
        self._by_key: dict[tuple, Edge] = {}

    # --- building -------------------------------------------------------
    def add_node(self, node: Node) -> Node:
        """Add a node, or complete the one with the same id (facts already known are kept)."""
        old = self.nodes.get(node.id)
        if old is None:
            self.nodes[node.id] = node
            return node
        old.parent = old.parent or node.parent
        old.group = old.group or node.group
        if old.kind in ("client", "account") and node.kind not in ("client", "account"):
            old.kind, old.label = node.kind, node.label
        for k, v in node.info.items():
            old.info.setdefault(k, v)
        return old

    def add_edge(self, edge: Edge) -> Edge:
        """Add an edge, or merge it into the one with the same ends and kind."""
        old = self._by_key.get(edge.key)
        if old is None:
            self.edges.append(edge)
            self._by_key[edge.key] = edge
            return edge
        old.conns = tuple(dict.fromkeys(old.conns + edge.conns))
        if edge.state in ("subscribed", "open"):
            old.state = edge.state
        for k, v in edge.info.items():
            old.info.setdefault(k, v)
        return old

    def highlight(self, path: Iterable[Hop]) -> RoutingGraph:
        """A copy of this graph with ``path`` (from :func:`stanza_path`) drawn in red and numbered."""
        g = copy.copy(self)
        g.nodes = dict(self.nodes)
        g.edges = list(self.edges)
        g._by_key = dict(self._by_key)
        g.path = list(path)
        for hop in g.path:
            if hop.node not in g.nodes:
                g.add_node(_node_for(hop.node, hop.kind, hop.label))
        stanza = getattr(path, "stanza", None)
        if stanza is not None:
            g.title = f"{self.title}, path of {describe_stanza(stanza)}"
        return g

    # --- reading --------------------------------------------------------
    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise KeyError(f"no node {node_id!r}; nodes: {', '.join(self.nodes) or 'none'}") from None

    def nodes_of(self, kind: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.kind == kind]

    def edges_of(self, kind: str) -> list[Edge]:
        return [e for e in self.edges if e.kind == kind]

    def subscriptions(self) -> set[tuple[str, str, str]]:
        """``{(watcher, watched, state)}``: the watcher sees (or, pending, asked to see) the watched's presence."""
        return {(e.src, e.dst, e.state) for e in self.edges_of("subscription")}

    def resources(self, bare: str) -> list[Node]:
        """The connected resources of an account."""
        return [n for n in self.nodes.values() if n.kind == "resource" and n.parent == bare]

    def __repr__(self) -> str:
        counts = {k: len(self.nodes_of(k)) for k in ("server", "account", "resource", "client")}
        what = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in counts.items() if n)
        links = ", ".join(f"{len(self.edges_of(k))} {k}" for k in ("c2s", "s2s", "subscription")
                          if self.edges_of(k))
        path = f", path of {len(self.path)} hops" if self.path else ""
        return f"<RoutingGraph {self.title}: {what or 'empty'}; {links or 'no edges'}{path}>"

    # --- output ---------------------------------------------------------
    def dot(self) -> str:
        """The graph as Graphviz DOT source."""
        return _to_dot(self)

    def svg(self) -> str | None:
        """SVG text drawn by Graphviz, or None when nothing can draw (:func:`.graphviz_backend.why_no_renderer`
        says why)."""
        return graphviz_backend.render_svg(self.dot())

    def png(self) -> bytes | None:
        return graphviz_backend.render(self.dot(), "png")

    def text(self) -> str:
        """A plain-text routing table: servers, accounts and resources, links, subscriptions, the path."""
        return _to_text(self)


def _node_for(node_id: str, kind: str, label: str) -> Node:
    parent = node_id.partition("/")[0] if kind == "resource" else None
    return Node(node_id, kind, label, parent=parent)


# ====================================================================== from a live Lab or Server
def routing_graph(source, *, offline: bool = True, title: str | None = None) -> RoutingGraph:
    """The routing graph of a Lab, a Server (or a list of them), or a Transcript (or Selection).

    Live: servers with their domains, every account (``offline=False``: only those online or in
    a subscription), connected resources with availability and priority, c2s links,
    subscriptions from the rosters, s2s links the server has. From a transcript: what its
    connections show (c2s and s2s links, bound JIDs, last presence sent).
    """
    if hasattr(source, "connections") and hasattr(source, "items") and not hasattr(source, "hosts"):
        return _from_transcript(source, title)
    if hasattr(source, "_items") and hasattr(source, "source") and source.source is not None:  # a Selection
        return _from_transcript(source.source, title)
    if hasattr(source, "parsed") and getattr(source, "transcript", None) is not None:  # one Connection
        return _from_transcript(source.transcript, title)
    if hasattr(source, "servers") and hasattr(source, "server"):  # a Lab
        return _from_servers(list(source.servers), offline, title or "Lab")
    if hasattr(source, "hosts") and hasattr(source, "sessions"):
        return _from_servers([source], offline, title or "server")
    if isinstance(source, (list, tuple)) and all(hasattr(s, "hosts") for s in source):
        return _from_servers(list(source), offline, title or "servers")
    raise TypeError(f"routing_graph() takes a Lab, a Server or a Transcript, not {type(source).__name__}")


def _server_group(server, index: int) -> str:
    port = getattr(server, "port", None)
    host = server.address[0] if hasattr(server, "address") else "?"
    where = f"{host}:{port}" if port and getattr(server, "running", True) else "stopped"
    return f"{getattr(server, 'name', 'xmpp')} server {where}" + (f" #{index + 1}" if index else "")


def _from_servers(servers, offline: bool, title: str) -> RoutingGraph:
    g = RoutingGraph(title)
    for index, server in enumerate(servers):
        group = _server_group(server, index)
        for host in server.hosts:
            g.add_node(Node(host, "server", host, group=group, info={"local": True}))
        online: dict[str, dict] = {str(bare): dict(res) for bare, res in server.sessions.items()}
        accounts = list(server.accounts.list()) if hasattr(server, "accounts") else []
        for bare in dict.fromkeys([*accounts, *online]):
            domain = bare.partition("@")[2]
            g.add_node(Node(bare, "account", bare, info={"local": True, "domain": domain,
                                                         "online": bool(online.get(bare))}))
            for resource, session in sorted(online.get(bare, {}).items()):
                full = str(session.jid) if getattr(session, "jid", None) is not None else f"{bare}/{resource}"
                info = {"available": bool(getattr(session, "available", False)),
                        "priority": getattr(session, "priority", 0),
                        "secure": bool(getattr(session, "secure", False)),
                        "conn": getattr(session, "conn_id", None)}
                show = _show_of(getattr(session, "presence", None))
                if show:
                    info["show"] = show
                g.add_node(Node(full, "resource", resource, parent=bare, info=info))
                g.add_edge(Edge(full, domain, "c2s", "open", (info["conn"],) if info["conn"] else (),
                                {"secure": info["secure"]}))
        for bare in dict.fromkeys([*accounts, *online]):  # every account is a node before any roster is read
            for contact, item in server.storage.get_roster(bare).items():
                _add_subscription(g, bare, contact, item)
        for conn in list(getattr(server, "connections", ())):
            _add_live_s2s(g, conn)
        _add_live_rooms(g, server, group)
    if not offline:
        keep = {e.src for e in g.edges} | {e.dst for e in g.edges}
        for n in list(g.nodes.values()):
            if n.kind == "account" and n.id not in keep and not g.resources(n.id):
                del g.nodes[n.id]
    return g


def _child_text(el, name: str) -> str | None:
    """The text of the first child called ``name`` (any namespace), stripped; None when absent or empty."""
    if el is None:
        return None
    for child in el:
        if isinstance(child.tag, str) and child.tag.rpartition("}")[2] == name:
            return (child.text or "").strip() or None
    return None


def _show_of(presence) -> str | None:
    return _child_text(presence, "show")


def _add_subscription(g: RoutingGraph, owner: str, contact: str, item) -> None:
    """One roster item's facts (RFC 6121 section 3): ``to``/``both``: owner sees contact; ``from``/``both``:
    contact sees owner; ``ask``: owner asked, pending; ``pending_in``: contact asked, pending."""
    sub = getattr(item, "subscription", "none")
    facts = []
    if sub in ("to", "both"):
        facts.append((owner, contact, "subscribed"))
    elif getattr(item, "ask", False):
        facts.append((owner, contact, "pending"))
    if sub in ("from", "both"):
        facts.append((contact, owner, "subscribed"))
    elif getattr(item, "pending_in", False):
        facts.append((contact, owner, "pending"))
    if not facts:
        return
    if contact not in g.nodes:
        domain = contact.partition("@")[2] if "@" in contact else contact
        g.add_node(Node(contact, "account", contact, info={"local": False, "domain": domain}))
    for src, dst, state in facts:
        g.add_edge(Edge(src, dst, "subscription", state))


def _add_live_rooms(g: RoutingGraph, server, group: str) -> None:
    """The chat services (components, XEP-0045) of a live server that have rooms, the rooms, and who is in them."""
    for domain, service in sorted(getattr(server, "muc", {}).items()):
        if not service.rooms:
            continue  # a chat service nobody uses would only crowd the picture
        parent = domain.partition(".")[2]
        g.add_node(Node(domain, "service", domain, group=group, info={"what": "chat rooms (XEP-0045)"}))
        if parent in g.nodes:
            g.add_edge(Edge(parent, domain, "component", "open"))
        for room_jid, room in sorted(service.rooms.items()):
            occupants = list(room.occupants.values())
            g.add_node(Node(room_jid, "room", room_jid.partition("@")[0],
                            info={"occupants": len(occupants), "service": domain}))
            g.add_edge(Edge(domain, room_jid, "component", "open"))
            for occupant in occupants:
                for real in occupant.sessions:
                    if str(real) in g.nodes:
                        g.add_edge(Edge(str(real), room_jid, "occupant", "open", (), {"nick": occupant.nick}))


def _add_live_s2s(g: RoutingGraph, conn) -> None:
    """A server-to-server connection of a live server (duck-typed: ``kind == "s2s"``, the local and the
    remote domain in ``local_domain``/``host`` and ``remote_domain``/``remote``)."""
    if getattr(conn, "kind", None) != "s2s":
        return
    local = getattr(conn, "local_domain", None) or getattr(conn, "host", None)
    remote = getattr(conn, "remote_domain", None) or getattr(conn, "remote", None)
    if not (local and remote):
        return
    src, dst = (local, remote) if getattr(conn, "role", "receiving") == "initiating" else (remote, local)
    for d in (src, dst):
        if d not in g.nodes:
            g.add_node(Node(str(d), "server", str(d)))
    g.add_edge(Edge(str(src), str(dst), "s2s", "open", (conn.conn_id,) if getattr(conn, "conn_id", None) else ()))


# ====================================================================== from a transcript
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

    def ends(self, direction) -> tuple[str, str]:
        """(from, to) node ids for text going in ``direction`` (C→S: initiating to receiving)."""
        return (self.src, self.dst) if str(direction) == "C→S" else (self.dst, self.src)

    def label_of(self, node_id: str) -> str:
        return self.src_label if node_id == self.src else self.dst_label

    def kind_of(self, node_id: str) -> str:
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
        common = dict(conns=tuple(c.id for c in conns), client=first.client, server=first.server, closed=closed,
                      tls=tls, connections=tuple(conns))
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
        prio = _child_text(item.element, "priority")
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


def _from_transcript(transcript, title: str | None) -> RoutingGraph:
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
                        {"secure": bool(link.tls)}))
    # a group with one domain needs no frame
    for name in set(groups.values()):
        members = [n for n in g.nodes.values() if n.group == name]
        if len(members) < 2:
            for n in members:
                n.group = None
    return g


# ====================================================================== the path of one stanza
class StanzaPath(list, Figure):
    """The stops of one stanza (a list of :class:`Hop`), with ``.stanza`` (as sent) and ``.graph``."""

    def __init__(self, hops=(), stanza=None, graph: RoutingGraph | None = None):
        super().__init__(hops)
        self.stanza = stanza
        self._graph = graph
        self.title = f"path of {describe_stanza(stanza)}" if stanza is not None else "path"

    @property
    def graph(self) -> RoutingGraph:
        """The routing graph of the transcript with this path highlighted."""
        return (self._graph or RoutingGraph(self.title)).highlight(self)

    @property
    def nodes(self) -> list[str]:
        return [h.node for h in self]

    def dot(self) -> str:
        return self.graph.dot()

    def svg(self) -> str | None:
        return self.graph.svg()

    def text(self) -> str:
        return _path_text(self, self.title)

    def __repr__(self) -> str:
        return f"<StanzaPath {' → '.join(f'{h.number} {h.label}' for h in self) or 'empty'}>"

    def __eq__(self, other):
        return list.__eq__(self, other)

    __hash__ = None


def _same_stanza(a, b) -> bool:
    """The same stanza seen on two streams: kind, type and id equal, ``to`` naming the same entity,
    and (without an id) the same content."""
    if a.name != b.name or a.type != b.type or a.id != b.id:
        return False
    if a.to and b.to and not _same_address(a.to, b.to):
        return False
    if a.id is None:
        return _content(a) == _content(b)
    return True


def _same_address(x: str, y: str) -> bool:
    bx, _, rx = x.lower().partition("/")
    by, _, ry = y.lower().partition("/")
    return bx == by and (not rx or not ry or rx == ry)


def _content(item) -> tuple:
    el = item.element
    if el is None:
        return ()
    return tuple((c.tag.rpartition("}")[2], " ".join("".join(c.itertext()).split())) for c in el
                 if isinstance(c.tag, str))


def stanza_path(transcript, item) -> StanzaPath:
    """Where one stanza went, stop by stop, from the observed connections.

    Finds the same stanza on every link it crossed (like :meth:`Transcript.route`, but per link,
    so a Lab's two recordings of one connection count once, and back to where it was sent from
    even when ``item`` is its delivery), then turns each crossing into a stop::

        1 pc (user1@server1.com/pc)  → 2 server1.com via c2s → 3 server2.com via s2s
                                      → 4 phone1 (user2@server2.com/phone1) via c2s

    A message to a bare JID delivered to two resources gives two last stops. When one server
    serves both domains, the hand-over between them is a stop ``via="internal"``.
    """
    source = getattr(transcript, "source", None) if not hasattr(transcript, "connections") else transcript
    if source is None or not hasattr(source, "connections"):
        raise TypeError("stanza_path() needs the Transcript the item comes from")
    transcript = source
    if getattr(item, "stanza_kind", None) is None:
        raise ValueError(f"stanza_path() follows a stanza (message, presence, iq), not {item!r}")
    all_links = links(transcript)
    link_of = {cid: link for link in all_links for cid in link.conns}
    same = [i for i in transcript.stanzas(kind=item.name, id=item.id) if _same_stanza(i, item)]
    key = (item.seq, item.index)
    # Backwards from the item: earlier copies on other links, up to the one a client sent. Another
    # recording of a crossing already in the chain (the client's and the server's end) is skipped;
    # an earlier copy on the same recording is an earlier stanza, where the walk stops.
    chain: list = []
    used: dict[tuple, set] = {}
    for cand in reversed([i for i in same if (i.seq, i.index) <= key]):
        link = link_of.get(cand.conn)
        if link is None:
            continue
        crossing = (id(link), str(cand.direction))
        if crossing in used:
            if cand.conn in used[crossing]:
                break
            used[crossing].add(cand.conn)
            continue
        chain.insert(0, cand)
        used[crossing] = {cand.conn}
        if link.kind == "c2s" and str(cand.direction) == "C→S":
            break
    if not chain:
        raise ValueError(f"{item!r} is not on any connection of this transcript")
    # Forwards: the first copy on each link and direction not crossed yet, until a client sends it again (a new stanza).
    for cand in same:
        if (cand.seq, cand.index) <= key:
            continue
        link = link_of.get(cand.conn)
        if link is None or (id(link), str(cand.direction)) in used:
            continue
        if link.kind == "c2s" and str(cand.direction) == "C→S":
            break
        chain.append(cand)
        used[(id(link), str(cand.direction))] = {cand.conn}
    return StanzaPath(_hops(chain, link_of), chain[0], _from_transcript(transcript, None))


def _hops(chain, link_of) -> list[Hop]:
    hops: list[Hop] = []
    where: dict[str, Hop] = {}

    def add(node, label, kind, src, via, conns=(), item=None):
        hop = Hop(len(hops) + 1, node, label, kind, src, via, tuple(conns), item, getattr(item, "t", None))
        hops.append(hop)
        where.setdefault(node, hop)
        return hop

    servers_of = {}  # server node -> the server address it was reached at (same address: same process)
    for link in link_of.values():
        if link.kind == "c2s" and link.server:
            servers_of[link.dst] = link.server
    for item in chain:
        link = link_of[item.conn]
        src, dst = link.ends(item.direction)
        if not hops:
            add(src, link.label_of(src), link.kind_of(src), None, None, item=item)
        elif src not in where:
            last_server = next((h for h in reversed(hops) if h.kind == "server"), hops[-1])
            same_process = servers_of.get(src) and servers_of.get(src) == servers_of.get(last_server.node)
            add(src, link.label_of(src), link.kind_of(src), last_server.node,
                "internal" if same_process else "unobserved", item=item)
        add(dst, link.label_of(dst), link.kind_of(dst), src, link.kind, link.conns, item)
    return hops


def describe_stanza(item) -> str:
    """``message type='chat' id='m1' to='user2@server2.com'``."""
    if item is None:
        return "?"
    parts = [item.name or str(item.kind)]
    for attr in ("type", "id", "to"):
        v = item.get(attr)
        if v:
            parts.append(f"{attr}='{v}'")
    return " ".join(parts)


# ====================================================================== text
def _path_text(path, title: str) -> str:
    if not path:
        return f"{title}: no hops"
    t0 = path[0].t
    rows = [("#", "stop", "address", "arrived via", "when")]
    for h in path:
        via = h.via or "sent from here"
        if h.conns:
            via += f" ({', '.join(h.conns)})"
        if h.src and h.via:
            via = f"{via} from {h.src}"
        when = f"+{h.t - t0:.3f}s" if h.t is not None and t0 is not None else ""
        rows.append((str(h.number), h.label, h.node if h.node != h.label else "", via, when))
    return f"{title}: {len(path)} hops\n" + _table(rows, indent="  ")


def _table(rows, indent: str = "") -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, indent + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _resource_facts(n: Node) -> str:
    i = n.info
    facts = []
    if "available" in i:
        facts.append("available" if i["available"] else "unavailable")
    if i.get("show"):
        facts.append(f"show {i['show']}")
    if "priority" in i and i.get("available", True):
        facts.append(f"priority {i['priority']}")
    if i.get("secure"):
        facts.append("TLS")
    return ", ".join(facts)


def _c2s_of(g: RoutingGraph, node_id: str) -> str:
    links_ = [e for e in g.edges if e.kind == "c2s" and node_id in (e.src, e.dst)]
    return ", ".join(f"c2s to {e.dst if e.src == node_id else e.src}" + (" (closed)" if e.state == "closed" else "")
                     for e in links_)


def _to_text(g: RoutingGraph) -> str:
    out = [f"Routing graph ({g.title})"]
    servers = g.nodes_of("server")
    if servers:
        out.append("Servers")
        for s in servers:
            out.append(f"  {s.label}" + (f"  ({s.group})" if s.group else ""))
    people = g.nodes_of("account") + g.nodes_of("client")
    if people:
        out.append("Accounts and connected resources")
        for a in people:
            res = g.resources(a.id)
            state = "" if res or a.kind == "client" else "  offline" if a.info.get("local", True) else \
                "  (elsewhere)"
            if a.kind == "client":
                out.append(f"  {a.label}  " + "; ".join(x for x in (_resource_facts(a), _c2s_of(g, a.id)) if x))
                continue
            out.append(f"  {a.label}{state}")
            for r in res:
                out.append(f"    /{r.label}  " + "; ".join(x for x in (_resource_facts(r), _c2s_of(g, r.id)) if x))
    s2s = g.edges_of("s2s")
    if s2s:
        out.append("Server-to-server streams (initiating → receiving)")
        for e in s2s:
            out.append(f"  {e.src} → {e.dst}" + (f"  ({', '.join(e.conns)})" if e.conns else "")
                       + ("  closed" if e.state == "closed" else ""))
    rooms = g.nodes_of("room")
    for service in g.nodes_of("service"):
        out.append(f"Chat service {service.id} ({service.info.get('what', 'service')})")
        for room in [r for r in rooms if r.info.get("service") == service.id]:
            inside = [f"{e.src} as {e.info.get('nick')}" for e in g.edges_of("occupant") if e.dst == room.id]
            out.append(f"  {room.id}: " + (", ".join(inside) if inside else "empty"))
    subs = g.edges_of("subscription")
    if subs:
        out.append("Subscriptions (A → B: A sees B's presence)")
        for e in sorted(subs, key=lambda e: (e.src, e.dst)):
            what = "sees" if e.state == "subscribed" else "asked to see (pending)"
            out.append(f"  {e.src} → {e.dst}  {what}")
    if g.path:
        out.append(_path_text(g.path, "Path"))
    out.extend(f"note: {n}" for n in g.notes)
    if len(out) == 1:
        out.append("  (nothing connected yet)")
    return "\n".join(out)


# ====================================================================== DOT
def _to_dot(g: RoutingGraph) -> str:
    numbers: dict[str, list[int]] = {}
    for h in g.path:
        numbers.setdefault(h.node, []).append(h.number)
    lines = [f"digraph {q('routing')} {{",
             "  graph" + dot_attrs(rankdir="LR", fontname="Helvetica", fontsize="11", nodesep="0.35",
                                   ranksep="0.8", label=g.title, labelloc="t", tooltip=g.title) + ";",
             "  node [fontname=\"Helvetica\", fontsize=\"11\"];",
             "  edge [fontname=\"Helvetica\", fontsize=\"9\"];"]

    def node_line(n: Node, indent="  ") -> str:
        attrs: dict = {"tooltip": n.id}
        label = n.label
        if n.kind == "server":
            attrs.update(shape="box3d", style="filled", fillcolor="#dde8f5")
        elif n.kind == "account":
            attrs.update(shape="box", style="rounded,filled", fillcolor="#fff6d5")
            if not g.resources(n.id) and n.info.get("local", True) is not False:
                attrs.update(fontcolor="#777777", fillcolor="#f3f3f3")
        elif n.kind == "service":
            label = f"{n.label}\n{n.info.get('what', 'service')}"
            attrs.update(shape="component", style="filled", fillcolor="#e8e0f5")
        elif n.kind == "room":
            count = n.info.get("occupants", 0)
            label = f"room {n.label}\n{count} occupant{'' if count == 1 else 's'}"
            attrs.update(shape="folder", style="filled", fillcolor="#f1e8fb", tooltip=n.id)
        elif n.kind == "resource":
            facts = _resource_facts(n)
            label = f"{n.label}\n{facts}" if facts else n.label
            attrs.update(shape="ellipse", tooltip=f"{n.id}" + (f" ({facts})" if facts else ""))
            if n.info.get("available") is False:
                attrs.update(style="dashed", fontcolor="#777777")
        else:
            attrs.update(shape="ellipse", style="dashed")
        if n.id in numbers:
            attrs.update(xlabel=", ".join(map(str, numbers[n.id])), fontcolor=PATH_COLOUR, color=PATH_COLOUR,
                         penwidth="2.2")
        return f"{indent}{q(n.id)}{dot_attrs(label=label, **attrs)};"

    drawn: set[str] = set()
    groups: dict[str, list[Node]] = {}
    for n in g.nodes.values():
        if n.kind == "server" and n.group:
            groups.setdefault(n.group, []).append(n)
    for i, (name, members) in enumerate(groups.items()):
        lines.append(f"  subgraph {q(f'cluster_server_{i}')} {{")
        lines.append(f"    graph{dot_attrs(label=name, style='rounded,filled', fillcolor='#f4f6f8', color='#9aa5b1')};")
        for n in members:
            lines.append(node_line(n, "    "))
            drawn.add(n.id)
        lines.append("  }")
    accounts = [n for n in g.nodes.values() if n.kind == "account"]
    for i, a in enumerate(accounts):
        lines.append(f"  subgraph {q(f'cluster_account_{i}')} {{")
        lines.append(f"    graph{dot_attrs(label='', style='rounded,dashed', color='#c8c8c8', tooltip=a.id)};")
        lines.append(node_line(a, "    "))
        drawn.add(a.id)
        for r in g.resources(a.id):
            lines.append(node_line(r, "    "))
            drawn.add(r.id)
        lines.append("  }")
    for n in g.nodes.values():
        if n.id not in drawn:
            lines.append(node_line(n))
    receiving = {e.dst for e in g.edges_of("s2s")} - {e.src for e in g.edges_of("s2s")}
    for e in g.edges:
        if e.kind == "c2s":
            closed = e.state == "closed"
            attrs = dict(label="c2s" + (" (TLS)" if e.info.get("secure") else "") + (" closed" if closed else ""),
                         color=C2S_COLOUR, fontcolor=C2S_COLOUR, dir="none", penwidth="1.5",
                         style="dashed" if closed else None, tooltip=", ".join(e.conns) or "c2s", class_="c2s")
            src, dst = (e.dst, e.src) if e.dst in receiving else (e.src, e.dst)
            lines.append(f"  {q(src)} -> {q(dst)}{dot_attrs(**attrs)};")
        elif e.kind == "s2s":
            attrs = dict(label="s2s", color=S2S_COLOUR, fontcolor=S2S_COLOUR, penwidth="2.5", style="bold",
                         tooltip=", ".join(e.conns) or "s2s", class_="s2s")
            lines.append(f"  {q(e.src)} -> {q(e.dst)}{dot_attrs(**attrs)};")
        elif e.kind == "component":
            lines.append(f"  {q(e.src)} -> {q(e.dst)}{dot_attrs(color='#7a5ea8', dir='none', style='dotted')};")
        elif e.kind == "occupant":
            attrs = dict(label=f"in room as {e.info.get('nick', '?')}", color="#7a5ea8", fontcolor="#7a5ea8",
                         style="dashed", constraint="false", tooltip=f"{e.src} is in {e.dst}", class_="occupant")
            lines.append(f"  {q(e.src)} -> {q(e.dst)}{dot_attrs(**attrs)};")
        elif e.kind == "subscription":
            pending = e.state == "pending"
            attrs = dict(label="asked to see\n(pending)" if pending else "sees", color=SUB_COLOUR,
                         fontcolor=SUB_COLOUR, style="dashed" if pending else "solid", constraint="false",
                         tooltip=f"{e.src} {'asked to see' if pending else 'sees'} {e.dst}'s presence",
                         class_="subscription pending" if pending else "subscription")
            lines.append(f"  {q(e.src)} -> {q(e.dst)}{dot_attrs(**attrs)};")
    for h in g.path:
        if h.src is None:
            continue
        via = h.via or ""
        attrs = dict(label=f"{h.number}" + (f" ({via})" if via else ""), color=PATH_COLOUR, fontcolor=PATH_COLOUR,
                     penwidth="2.5", style="dashed" if via in ("internal", "unobserved") else "bold",
                     tooltip=f"hop {h.number}: {h.src} → {h.node}" + (f" via {via}" if via else ""), class_="hop")
        lines.append(f"  {q(h.src)} -> {q(h.node)}{dot_attrs(**attrs)};")
    lines.append("}")
    return "\n".join(lines) + "\n"
