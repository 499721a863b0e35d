"""One-line summaries of what crossed a stream, shared by the HTML stream view, the terminal and the widgets.

``item_summary`` names an item (``iq get`` with ``roster``, ``id r1``, ``to
example.com``), ``step_of`` the negotiation step it is (stream header,
STARTTLS, SASL, resource binding: RFC 6120 sections 4 to 7),
``connection_header_text`` a connection, ``pager_text`` a page, and
``summary_text`` a whole page as text/plain.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from ..ns import NS_BIND, NS_CLIENT, NS_SASL, NS_SERVER, NS_TLS, SHORT_NAMES
from ..transcript.model import Direction, Item, ItemKind
from ..xml import split_qname
from .resumption import header_notes

if TYPE_CHECKING:
    from .stream_view import StreamView

C2S = Direction.C2S

SHORT_NS = {**SHORT_NAMES, NS_CLIENT: "", NS_SERVER: ""}

#: How views name a transport other than plain TCP + STARTTLS (RFC 7395 WebSocket, XEP-0368 direct TLS).
TRANSPORT_NAMES = {"websocket": "WebSocket", "direct-tls": "direct TLS"}


def short(value: str | None, limit: int = 32) -> str:
    """``value`` cut to ``limit`` characters with an ellipsis."""
    if value is None:
        return ""
    return value if len(value) <= limit else value[:limit - 1] + "…"


def item_summary(item: Item) -> tuple[str, list[str]]:
    """(what it is, [details]) for the one-line summary: ``("iq get", ["roster", "id r1", "to example.com"])``."""
    kind = item.kind
    details: list[str] = []
    if kind is ItemKind.STREAM_OPEN:
        for key in ("from", "to", "id", "version"):
            if item.get(key) is not None:
                details.append(f"{key} {short(item.get(key))}")
        return "<stream:stream>", details
    if kind is ItemKind.STREAM_CLOSE:
        return "</stream:stream>", details
    if kind in (ItemKind.VIOLATION, ItemKind.NON_XML):
        return ("not XML" if kind is ItemKind.NON_XML else "refused"), [item.condition or "", short(item.problem, 80)]
    if kind is ItemKind.STREAM_ERROR:
        return "stream error", [item.stream_error or "?"]
    name = item.name or "?"
    if kind is ItemKind.STANZA:
        what = f"{name} {item.type}" if item.type else name
        payload_ns = item.payload_ns
        if payload_ns and payload_ns != item.ns:
            label = SHORT_NS.get(payload_ns, payload_ns)
            if label:
                details.append(label)
        if item.type == "error":
            for c in item.element:
                if isinstance(c.tag, str) and split_qname(c.tag)[1] == "error":
                    cond = next((split_qname(g.tag)[1] for g in c if isinstance(g.tag, str)
                                 and split_qname(g.tag)[1] != "text"), None)
                    if cond:
                        details.append(cond)
        if item.id:
            details.append(f"id {short(item.id, 14)}")
        if item.to:
            details.append(f"to {short(item.to)}")
        if item.from_:
            details.append(f"from {short(item.from_)}")
        if name == "message":
            body = item.element.findtext(f"{{{item.ns}}}body")
            if body:
                details.append(f"“{short(' '.join(body.split()), 40)}”")
        return what, details
    # nonza
    ns = item.ns or ""
    if ns == NS_SASL and name == "auth" and item.get("mechanism"):
        details.append(item.get("mechanism"))
    elif name == "features":
        feats = [split_qname(c.tag)[1] for c in item.element if isinstance(c.tag, str)]
        details.append(", ".join(feats) if feats else "none left")
    if item.masked:
        details.append("credentials masked")
    return name, details


def step_of(item: Item) -> str | None:
    """The negotiation step an item is (its label), or None for ordinary stanzas."""
    if item.kind is ItemKind.STREAM_OPEN:
        return "stream header"
    if item.kind is ItemKind.STREAM_CLOSE:
        return "stream close"
    if item.kind is ItemKind.STREAM_ERROR:
        return "stream error"
    if item.kind is ItemKind.NONZA:
        ns, name = split_qname(item.element.tag)
        if name == "features":
            return "stream features"
        if ns == NS_TLS:
            return {"starttls": "STARTTLS", "proceed": "TLS proceed", "failure": "TLS failure"}.get(name, "TLS")
        if ns == NS_SASL:
            return f"SASL {name}"
        return None
    if item.kind is ItemKind.STANZA and item.payload_ns == NS_BIND:
        return "resource binding"
    if item.kind is ItemKind.STANZA and item.payload_ns == "urn:ietf:params:xml:ns:xmpp-session":
        return "session"
    return None


def clock_text(conn, item: Item, base: float | None = None) -> str:
    """When an item crossed, from ``base`` or else the connection's start (``+0.123s``), or ``step N`` in an
    RFC example."""
    base = base if base is not None else getattr(conn, "opened", None)
    if base is None or base < 86400 * 365:  # RFC examples: times are block numbers
        return f"step {item.t:g}" if item.t < 86400 * 365 else ""
    return f"+{item.t - base:.3f}s"


def connection_header_text(conn) -> str:
    """One line naming a connection: id, kind, endpoints, JID, TLS, SASL mechanism, when it opened."""
    if conn is None:
        return "items"
    parts = [conn.id, conn.kind] + ([TRANSPORT_NAMES[t]] if (t := getattr(conn, "transport", "tcp")) in TRANSPORT_NAMES
                                    else [])
    if conn.client or conn.server:
        parts.append(f"{conn.client or '?'} → {conn.server or '?'}")
    parts += [p for p in (conn.jid, conn.tls, conn.mechanism) if p]
    parts += header_notes(conn)
    if conn.opened and conn.opened > 86400 * 365:
        parts.append(datetime.datetime.fromtimestamp(conn.opened, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))
    return " · ".join(parts)


def _short_jid(jid: str) -> str:
    """``juliet/balcony`` for juliet@example.com/balcony: the local part and the resource, the two that differ."""
    bare, _, resource = jid.partition("/")
    local, at, domain = bare.rpartition("@")
    if not at:
        return jid
    return f"{local}/{resource}" if resource else local


def connection_labels(conns) -> dict[str, str]:
    """A short label for each connection, unique among them: ``juliet/balcony`` (a client's stream, by its JID),
    the full JID when two local parts clash, the connection id added when two streams carry one JID (the
    client's and the server's recording of one connection), the id alone when no JID was bound."""
    conns = [c for c in conns if c is not None]
    labels = {c.id: _short_jid(c.jid) if c.jid else c.id for c in conns}

    def clashing() -> set[str]:
        seen: dict[str, int] = {}
        for label in labels.values():
            seen[label] = seen.get(label, 0) + 1
        return {c.id for c in conns if seen[labels[c.id]] > 1}

    clash = clashing()
    for c in conns:
        if c.id in clash and c.jid:
            labels[c.id] = c.jid
    clash = clashing()
    for c in conns:
        if c.id in clash and c.jid:
            labels[c.id] = f"{_short_jid(c.jid)} ({c.id})"
    return labels


def pager_text(view: StreamView, shown: int, capped: bool) -> str:
    """Which items of how many a page shows, and how to see the others."""
    if view.total == 0:
        return "no items (nothing was recorded yet)"
    first = view.first_index + 1 if shown else 0
    last = view.first_index + shown
    text = f"showing {first:,}–{last:,} of {view.total:,} items"
    if view.pages > 1:
        text += f" (page {view.page_number} of {view.pages})"
    hints = []
    if capped:
        limit = f"{view.max_bytes / 1_000_000:g} MB" if view.max_bytes >= 1_000_000 else f"{view.max_bytes:,} bytes"
        hints.append(f"stopped at about {limit} of HTML to keep the notebook responsive: use a smaller page_size, "
                     f"e.g. stream_view(t, page_size={max(shown // 2, 10)})")
    if view.page_number < view.pages:
        hints.append(f"use view.page({view.page_number + 1}) for the next page, "
                     "where view = xmpplab.render.stream_view(transcript)")
    elif view.pages > 1:
        hints.append("use view.page(1) for the first page")
    return text + ("; " + "; ".join(hints) if hints else "")


def summary_text(view: StreamView, limit: int = 40) -> str:
    """The text/plain of a view: one line per item (at most ``limit``), then the pager line."""
    lines = [f"{view.title} — C→S client to server, S→C server to client"]
    labels = view.labels if view.by_time else {}
    width = max((len(v) for v in labels.values()), default=0)
    if labels:
        lines.append("  in the order it happened; each line names its stream:")
        lines.extend(f"    {labels[c.id]:<{width}} = {connection_header_text(c)}" for c, _ in view.blocks
                     if c is not None)
    last_conn = object()
    rows = view.rows()
    for conn, item, _ in rows[:limit]:
        if conn is not last_conn and not labels:
            lines.append(f"  {connection_header_text(conn)}")
            last_conn = conn
        what, details = item_summary(item)
        step = step_of(item)
        pad = "" if item.direction is C2S else "      "
        who = f"{labels.get(item.conn, item.conn):<{width}}  " if labels else ""
        line = f"    {clock_text(conn, item, view.t0):>9} {who}{pad}{item.direction}  {what}"
        if step and step not in what:
            line += f" [{step}]"
        if details:
            line += "  " + " · ".join(d for d in details if d)
        lines.append(line)
    if len(rows) > limit:
        lines.append(f"    … {len(rows) - limit} more on this page (the HTML view or .text() shows them all)")
    lines.append(pager_text(view, len(rows), False))
    return "\n".join(lines)
