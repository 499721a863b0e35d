"""The routing graph's model: nodes, edges, the hops of a path, and :class:`RoutingGraph` itself.

Plain data with no Graphviz in it; :mod:`.draw` turns a graph into DOT and
text, :mod:`.live` builds one from server snapshots, :mod:`.recorded` from a
transcript and :mod:`.path` follows one stanza.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field

from .. import graphviz_backend
from ..graphviz_backend import Figure
from . import draw


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
        """What makes two edges the same link: (src, dst, kind)."""
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
            g.title = f"{self.title}, path of {draw.describe_stanza(stanza)}"
        return g

    # --- reading --------------------------------------------------------
    def node(self, node_id: str) -> Node:
        """The node ``node_id``; KeyError naming the nodes there are."""
        try:
            return self.nodes[node_id]
        except KeyError:
            raise KeyError(f"no node {node_id!r}; nodes: {', '.join(self.nodes) or 'none'}") from None

    def nodes_of(self, kind: str) -> list[Node]:
        """The nodes of one kind (``server``, ``account``, ``resource``, ``client``, ``service``, ``room``)."""
        return [n for n in self.nodes.values() if n.kind == kind]

    def edges_of(self, kind: str) -> list[Edge]:
        """The edges of one kind (``c2s``, ``s2s``, ``subscription``, ``component``, ``occupant``)."""
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
        return draw.to_dot(self)

    def svg(self) -> str | None:
        """SVG text drawn by Graphviz, or None when nothing can draw (:func:`.graphviz_backend.why_no_renderer`
        says why)."""
        return graphviz_backend.render_svg(self.dot())

    def png(self) -> bytes | None:
        """PNG bytes drawn by Graphviz, or None when nothing can draw."""
        return graphviz_backend.render(self.dot(), "png")

    def text(self) -> str:
        """A plain-text routing table: servers, accounts and resources, links, subscriptions, the path."""
        return draw.to_text(self)


def _node_for(node_id: str, kind: str, label: str) -> Node:
    parent = node_id.partition("/")[0] if kind == "resource" else None
    return Node(node_id, kind, label, parent=parent)
