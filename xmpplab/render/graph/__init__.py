"""Routing graphs: who is connected to which server, who sees whose presence, and the path one stanza took.

A :class:`RoutingGraph` is a plain model (nodes and edges, no Graphviz in it)
built from a snapshot of a Lab or Server (``Server.snapshot()``: plain
immutable data, the view never reads the live server), or from a Transcript::

    g = routing_graph(lab)                  # servers, accounts, connected resources, subscriptions
    g = routing_graph(server.snapshot())    # the same from a snapshot (a Lab or Server is snapshotted for you)
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

On a highlighted path, a hop ``via="carbon"`` (dotted, labelled ``5 (carbon)``)
is a copy of a message the server fanned out to another resource of the
sender's or the recipient's account (XEP-0280 §7, §8; see :mod:`.carbons`).

The graph shows itself in Jupyter: SVG when Graphviz can draw (see
:mod:`xmpplab.render.graphviz_backend`), else one sentence saying why, the DOT
source and a text table; ``.text()`` is always there.

Modules: :mod:`.model` (nodes, edges, hops, the graph), :mod:`.live` (from
server snapshots), :mod:`.recorded` (from a transcript: its links),
:mod:`.path` (the path of one stanza), :mod:`.carbons` (its carbon copies), :mod:`.draw` (DOT and text).
"""

from __future__ import annotations

from ...snapshot import LabSnapshot, ServerSnapshot, snapshots_of
from .draw import C2S_COLOUR, PATH_COLOUR, S2S_COLOUR, SUB_COLOUR, describe_stanza  # noqa: F401 - re-exported
from .live import from_snapshots
from .model import Edge, Hop, Node, RoutingGraph
from .path import StanzaPath, stanza_path
from .recorded import Link, from_transcript, links  # noqa: F401 - re-exported

__all__ = ["Edge", "Hop", "Node", "RoutingGraph", "StanzaPath", "routing_graph", "stanza_path"]


def routing_graph(source, *, offline: bool = True, title: str | None = None) -> RoutingGraph:
    """The routing graph of a Lab, a Server (or a list of them), their snapshots, or a Transcript (or Selection).

    Live: a Lab or Server is read through its ``snapshot()``: servers with their domains, every
    account (``offline=False``: only those online or in a subscription), connected resources with
    availability and priority, c2s links, subscriptions from the rosters, s2s links, rooms. From a
    transcript: what its connections show (c2s and s2s links, bound JIDs, last presence sent).
    """
    if hasattr(source, "connections") and hasattr(source, "items") and not hasattr(source, "hosts"):
        return from_transcript(source, title)
    if hasattr(source, "_items") and hasattr(source, "source") and source.source is not None:  # a Selection
        return from_transcript(source.source, title)
    if hasattr(source, "parsed") and getattr(source, "transcript", None) is not None:  # one Connection
        return from_transcript(source.transcript, title)
    snap = source.snapshot() if callable(getattr(source, "snapshot", None)) else source
    if isinstance(snap, LabSnapshot):
        return from_snapshots(snap.servers, offline, title or "Lab")
    if isinstance(snap, ServerSnapshot):
        return from_snapshots([snap], offline, title or "server")
    if isinstance(snap, (list, tuple)) and not snap:
        return from_snapshots([], offline, title or "servers")
    if isinstance(snap, (list, tuple)):
        try:
            servers = snapshots_of(snap)
        except TypeError:
            servers = None
        if servers:
            return from_snapshots(servers, offline, title or "servers")
    raise TypeError(f"routing_graph() takes a Lab, a Server or a Transcript (or a snapshot), not "
                    f"{type(source).__name__}")
