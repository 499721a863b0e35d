"""Drawing a routing graph: DOT for Graphviz and a plain-text routing table.

Colours follow the stream view's convention: client-to-server streams
green, server-to-server streams (RFC 6120 section 4) blue and bold,
subscriptions (RFC 6121 section 3) purple, the path of one stanza red and numbered.
An account (bare JID) is linked to each of its connected resources (full JIDs,
RFC 7622 section 3), in the drawing by a line labelled ``resource`` and in the
text as a tree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..graphviz_backend import dot_attrs, q
from ..summaries import TRANSPORT_NAMES
from .draw_feeds import KINDS as FEED_EDGES
from .draw_feeds import feed_edge_line, feed_node_line, feed_text

if TYPE_CHECKING:
    from .model import Node, RoutingGraph

# colours (the stream view's convention: client to server green, server to client black)
C2S_COLOUR = "#2e7d32"
S2S_COLOUR = "#1565c0"
SUB_COLOUR = "#7b1fa2"
PATH_COLOUR = "#d32f2f"
RESOURCE_COLOUR = "#8a6d00"


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


def path_text(path, title: str) -> str:
    """The stops of a path as a text table (number, stop, address, how it arrived, when)."""
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
    lines = [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
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


def to_text(g: RoutingGraph) -> str:
    """A plain-text routing table: servers, accounts and resources, links, rooms, subscriptions, the path."""
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
            sessions = f"  bare JID, {len(res)} resource{'' if len(res) == 1 else 's'}:" if res else ""
            out.append(f"  {a.label}{state}{sessions}")
            for k, r in enumerate(res):  # each full JID hangs from its bare JID (RFC 7622 §3)
                branch = "└─" if k == len(res) - 1 else "├─"
                out.append(f"    {branch} {r.id}  " + "; ".join(x for x in (_resource_facts(r), _c2s_of(g, r.id)) if x))
    s2s = g.edges_of("s2s")
    if s2s:
        out.append("Server-to-server streams (initiating → receiving)")
        for e in s2s:
            arrow = "⇄" if e.info.get("bidi") else "→"  # XEP-0288: both ways on the initiating server's stream
            out.append(f"  {e.src} {arrow} {e.dst}" + (f"  ({', '.join(e.conns)})" if e.conns else "")
                       + ("  closed" if e.state == "closed" else ""))
    rooms = g.nodes_of("room")
    for service in [s for s in g.nodes_of("service") if "XEP-0060" not in s.info.get("what", "")]:
        out.append(f"Chat service {service.id} ({service.info.get('what', 'service')})")
        for room in [r for r in rooms if r.info.get("service") == service.id]:
            inside = [f"{e.src} as {e.info.get('nick')}" for e in g.edges_of("occupant") if e.dst == room.id]
            out.append(f"  {room.id}: " + (", ".join(inside) if inside else "empty"))
    out.extend(feed_text(g))
    subs = g.edges_of("subscription")
    if subs:
        out.append("Subscriptions (A → B: A sees B's presence)")
        seen = {(e.src, e.dst) for e in subs if e.state == "subscribed"}
        shown = set()
        for e in sorted(subs, key=lambda e: (e.src, e.dst)):
            if e.state == "subscribed" and (e.dst, e.src) in seen:
                pair = tuple(sorted((e.src, e.dst)))
                if pair not in shown:
                    shown.add(pair)
                    out.append(f"  {pair[0]} ↔ {pair[1]}  see each other")
                continue
            what = "sees" if e.state == "subscribed" else "asked to see (pending)"
            out.append(f"  {e.src} → {e.dst}  {what}")
    if g.path:
        out.append(path_text(g.path, "Path"))
    out.extend(f"note: {n}" for n in g.notes)
    if len(out) == 1:
        out.append("  (nothing connected yet)")
    return "\n".join(out)


def to_dot(g: RoutingGraph) -> str:
    """The graph as Graphviz DOT source: servers framed per process, accounts with their resources."""
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
        elif n.kind == "feed":
            return feed_node_line(n, indent)
        elif n.kind == "room":
            count = n.info.get("occupants", 0)
            label = f"room {n.label}\n{count} occupant{'' if count == 1 else 's'}"
            attrs.update(shape="folder", style="filled", fillcolor="#f1e8fb", tooltip=n.id)
        elif n.kind == "resource":  # drawn "/balcony" beside its bare JID: the two make the full JID
            facts = _resource_facts(n)
            name = f"/{n.label}" if n.parent else n.label
            label = f"{name}\n{facts}" if facts else name
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
        for r in g.resources(a.id):  # the bare JID linked to each of its resources (full JIDs)
            lines.append(f"    {q(a.id)} -> {q(r.id)}" + dot_attrs(
                label="resource", color=RESOURCE_COLOUR, fontcolor=RESOURCE_COLOUR, arrowhead="none",
                penwidth="1.2", tooltip=f"{r.id}: the resource {r.label} of {a.id}", class_="resource") + ";")
        lines.append("  }")
    for n in g.nodes.values():
        if n.id not in drawn:
            lines.append(node_line(n))
    receiving = {e.dst for e in g.edges_of("s2s")} - {e.src for e in g.edges_of("s2s")}
    seen_pairs = {(e.src, e.dst) for e in g.edges_of("subscription") if e.state == "subscribed"}
    mutual = {p for p in seen_pairs if (p[1], p[0]) in seen_pairs}
    drawn_mutual: set[tuple[str, str]] = set()
    for e in g.edges:
        if e.kind == "c2s":
            closed = e.state == "closed"
            transport = TRANSPORT_NAMES.get(e.info.get("transport"))
            label = "c2s" + (f" over {transport}" if transport else "")
            attrs = dict(label=label + (" (TLS)" if e.info.get("secure") else "") + (" closed" if closed else ""),
                         color=C2S_COLOUR, fontcolor=C2S_COLOUR, dir="none", penwidth="1.5",
                         style="dashed" if closed else None, tooltip=", ".join(e.conns) or "c2s", class_="c2s")
            src, dst = (e.dst, e.src) if e.dst in receiving else (e.src, e.dst)
            lines.append(f"  {q(src)} -> {q(dst)}{dot_attrs(**attrs)};")
        elif e.kind == "s2s":
            attrs = dict(label="s2s, both ways" if e.info.get("bidi") else "s2s", color=S2S_COLOUR,
                         fontcolor=S2S_COLOUR, penwidth="2.5", style="bold", tooltip=", ".join(e.conns) or "s2s",
                         class_="s2s", dir="both" if e.info.get("bidi") else None)
            lines.append(f"  {q(e.src)} -> {q(e.dst)}{dot_attrs(**attrs)};")
        elif e.kind == "component":
            lines.append(f"  {q(e.src)} -> {q(e.dst)}{dot_attrs(color='#7a5ea8', dir='none', style='dotted')};")
        elif e.kind in FEED_EDGES:
            lines.append(feed_edge_line(e))
        elif e.kind == "occupant":
            attrs = dict(label=f"in room as {e.info.get('nick', '?')}", color="#7a5ea8", fontcolor="#7a5ea8",
                         style="dashed", constraint="false", tooltip=f"{e.src} is in {e.dst}", class_="occupant")
            lines.append(f"  {q(e.src)} -> {q(e.dst)}{dot_attrs(**attrs)};")
        elif e.kind == "subscription" and (e.dst, e.src) in mutual:
            if (e.dst, e.src) in drawn_mutual or (e.src, e.dst) in drawn_mutual:
                continue  # RFC 6121 'both': one two-headed edge for the two facts
            drawn_mutual.add((e.src, e.dst))
            attrs = dict(label="see each other", color=SUB_COLOUR, fontcolor=SUB_COLOUR, dir="both",
                         constraint="false", tooltip=f"{e.src} and {e.dst} see each other's presence (both)",
                         class_="subscription")
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
        carbon = via == "carbon"  # XEP-0280: a copy fanning out to another resource of the account
        attrs = dict(label=f"{h.number}" + (f" ({via})" if via else ""), color=PATH_COLOUR, fontcolor=PATH_COLOUR,
                     penwidth="1.8" if carbon else "2.5",
                     style="dashed" if via in ("internal", "unobserved") else "dotted" if carbon else "bold",
                     arrowhead="onormal" if carbon else None,
                     tooltip=(f"hop {h.number}: {h.src} → {h.node}" + (f" via {via}" if via else "")
                              + (": a carbon, the copy for another resource of the account" if carbon else "")),
                     class_="hop carbon" if carbon else "hop")
        lines.append(f"  {q(h.src)} -> {q(h.node)}{dot_attrs(**attrs)};")
    lines.append("}")
    return "\n".join(lines) + "\n"
