"""The path one stanza took, stop by stop, from the connections a transcript observed (RFC 6120 section 10).

The same stanza is found on every link it crossed, client to server, server
to server, server to client, and each crossing becomes a :class:`Hop`.
"""

from __future__ import annotations

from ..graphviz_backend import Figure
from .carbons import carbon_hops
from .draw import describe_stanza, path_text
from .model import Hop, RoutingGraph
from .recorded import from_transcript, links


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
        """The node ids of the stops, in order."""
        return [h.node for h in self]

    def dot(self) -> str:
        """DOT of the graph with this path highlighted."""
        return self.graph.dot()

    def svg(self) -> str | None:
        """SVG of the graph with this path highlighted, or None when nothing can draw."""
        return self.graph.svg()

    def text(self) -> str:
        """The stops as a text table."""
        return path_text(self, self.title)

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
    serves both domains, the hand-over between them is a stop ``via="internal"``. Each carbon of a
    message (XEP-0280: the copy for another resource of the sender or the recipient) is one more stop
    ``via="carbon"``, from the server that made it (:mod:`.carbons`).
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
    hops = _hops(chain, link_of)
    hops += carbon_hops(transcript, chain, link_of, len(hops) + 1)
    return StanzaPath(hops, chain[0], from_transcript(transcript, None))


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
