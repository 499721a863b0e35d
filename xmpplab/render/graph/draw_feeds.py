"""Drawing publish-subscribe feeds (XEP-0060): the text lines and DOT lines of :mod:`.feeds`' nodes and edges.

Orange is the data flow of a feed: dashed ``publishes`` edges from those who may
publish, solid ``gets each item`` edges to every subscriber (7.1.2.1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..graphviz_backend import dot_attrs, q

if TYPE_CHECKING:
    from .model import Edge, Node, RoutingGraph

FEED_COLOUR = "#e65100"
KINDS = ("publishes", "notifies")


def feed_text(g: RoutingGraph) -> list[str]:
    """Text lines: each pubsub service, its nodes, who publishes and who receives each item."""
    out = []
    services = dict.fromkeys(n.info.get("service") for n in g.nodes_of("feed"))
    for service in services:
        feeds = [n for n in g.nodes_of("feed") if n.info.get("service") == service]
        if feeds[0].info.get("personal"):
            out.append(f"Personal eventing of {service} (XEP-0163: its items go to the interested contacts)")
        else:
            out.append(f"Publish-subscribe service {service} (one publish → one message to each subscriber)")
        for feed in feeds:
            publishers = [e.src for e in g.edges_of("publishes") if e.dst == feed.id]
            subscribers = [e.dst for e in g.edges_of("notifies") if e.src == feed.id]
            items = feed.info.get("items", 0)
            out.append(f"  node {feed.label} ({items} item{'' if items == 1 else 's'} stored, access "
                       f"{feed.info.get('access', 'open')}): published by {', '.join(publishers) or 'nobody'} → "
                       f"received by {', '.join(subscribers) or 'nobody yet'}")
    return out


def feed_node_line(n: Node, indent: str = "  ") -> str:
    """The DOT line of a pubsub node: a tab with its name and how many items it keeps."""
    items = n.info.get("items", 0)
    label = f"node {n.label}\n{items} item{'' if items == 1 else 's'}"
    if n.info.get("access") == "whitelist":
        label += ", whitelist"
    attrs = dict(shape="tab", style="filled", fillcolor="#ffe0b2", color=FEED_COLOUR, tooltip=n.id)
    return f"{indent}{q(n.id)}{dot_attrs(label=label, **attrs)};"


def feed_edge_line(e: Edge) -> str:
    """The DOT line of a ``publishes`` or ``notifies`` edge (orange: the data flow of the feed)."""
    if e.kind == "publishes":
        attrs = dict(label="publishes", color=FEED_COLOUR, fontcolor=FEED_COLOUR, style="dashed",
                     tooltip=f"{e.src} may publish to {e.dst}", class_="publishes")
    else:
        attrs = dict(label="gets each item", color=FEED_COLOUR, fontcolor=FEED_COLOUR, penwidth="1.8",
                     tooltip=f"{e.dst} is subscribed: the service sends it every item of {e.src}",
                     class_="notifies")
    return f"  {q(e.src)} -> {q(e.dst)}{dot_attrs(**attrs)};"
