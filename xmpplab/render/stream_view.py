"""The two-column stream view: client to server on the left in green, server to client on the right in black.

One block per connection; in each, one row per item of the parsed view, in
the order the items crossed the wire, placed in the C→S or the S→C column.
Each row is a collapsible ``<details>`` whose one-line summary names the
kind, type, addresses and payload, with the stream negotiation steps labelled
(stream header, stream features, STARTTLS, SASL, resource binding) and the
moments both streams restart marked. Under the pretty, highlighted XML is a
plain-language explanation with its RFC or XEP section (also shown on hover).
Problems (text the parser refused, non-XML) are red and say why. A connection lost
without ``</stream:stream>`` ends with a dashed "connection lost here" line; one that
resumed its session (XEP-0198 §5) says "resumed from c2s-3" in its header, and its
stream management rows carry small badges (``h=7``, ``resumed c2s-3``): see
:mod:`xmpplab.render.resumption`.

Large transcripts stay responsive: a view shows one page (``page_size``
items, 200 by default) and stops before ``max_bytes`` of HTML (about 1 MB),
saying so::

    view = stream_view(transcript)          # page 1
    view.page(2)                            # the next page, same options
    stream_view(transcript, page=-1)        # the last page
    stream_view(transcript, conn="c2s-1", page_size=50, expand=False)

Direction is never shown by colour alone: every column and every row is also
labelled C→S or S→C (colour blindness, dark themes). The HTML sets its own
light background and text colours, inline, so it looks the same in light and
dark JupyterLab themes, in nbconvert output and on nbviewer.
"""

from __future__ import annotations

import heapq
import html
import itertools
import os
from collections.abc import Iterable

from ..ns import NS_COMPRESS, NS_SASL, NS_TLS
from ..transcript.model import Direction, Item, ItemKind
from .ansi import render_view
from .display import Displayable
from .explain import ExplainContext, Explanation, citation_links, explain
from .palette import BLACK, BLACK_TINT, BORDER, FONT, GREEN, GREEN_TEXT, GREEN_TINT, MONO, MUTED, RED, RED_TINT
from .resumption import gap_text, is_gap_after, marks
from .summaries import (  # noqa: F401 - SHORT_NS, short and summary_text are imported from here too
    SHORT_NS,
    clock_text,
    connection_header_text,
    connection_labels,
    item_summary,
    pager_text,
    short,
    step_of,
    summary_text,
)
from .xmlview import MAX_CHARS, lines_html, pretty_lines

C2S, S2C = Direction.C2S, Direction.S2C
DEFAULT_PAGE_SIZE = 200
MAX_BYTES = 1_000_000
_CHROME_BYTES = 20_000  # kept for the header and footer when the row budget is counted

# Colours of this view alone (the ones every view shares are in .palette)
STEP = "#8250df"
RESUME = "#1b7c83"

_RESTART_NOTE = {
    f"{{{NS_TLS}}}proceed": "TLS handshake here (not in the transcript: it records the plaintext above TLS); "
                            "both streams restart",
    f"{{{NS_SASL}}}success": "authenticated: both streams restart",
    f"{{{NS_COMPRESS}}}compressed": "compression starts: both streams restart",
}
_counter = itertools.count(1)


# ------------------------------------------------------------------------------------- sources
def resolve(source, conn=None) -> tuple[list[tuple[object, list[Item]]], object, str]:
    """(blocks of (connection or None, items), the context for explanations, a title) for anything viewable."""
    # a Lab or a Client: their transcript
    if hasattr(source, "server") and hasattr(source, "clients") and hasattr(source, "transcript"):
        return resolve(source.transcript, conn=conn if conn is not None else _server_side(source.transcript))
    if hasattr(source, "xmpp") and hasattr(source, "events") and hasattr(source, "transcript"):
        transcript = source.transcript
        return resolve(transcript, conn=conn if conn is not None else getattr(source, "conn", None))
    wanted = None
    if conn is not None:
        wanted = {conn} if isinstance(conn, str) else {getattr(c, "id", c) for c in conn}
    connections = getattr(source, "connections", None)
    if isinstance(connections, dict):  # a Transcript
        blocks = [(c, c.parsed) for c in connections.values() if wanted is None or c.id in wanted]
        title = f"Transcript recorded by {source.recorded_by or 'unknown'}"
        return blocks, source, title
    if hasattr(source, "parsed") and hasattr(source, "chunks"):  # a Connection
        return [(source, source.parsed)], source, f"Connection {source.id}"
    if isinstance(source, Item):
        scope = None
        return [(None, [source])], scope, f"Item {source.conn}#{source.index}"
    if hasattr(source, "_items") and hasattr(source, "source"):  # a Selection
        items = list(source._items)
        scope = source.source
        title = getattr(source, "title", None) or f"Selection of {len(items)} items"
        return _group(items, scope, wanted), scope, title
    if isinstance(source, Iterable) and not isinstance(source, (str, bytes)):
        items = [i for i in source if isinstance(i, Item)]
        return _group(items, None, wanted), None, f"{len(items)} items"
    raise TypeError(f"cannot show a stream view of {type(source).__name__}: give a Transcript, a Connection, "
                    "a Selection, items, a Client or a Lab")


def _group(items, scope, wanted) -> list[tuple[object, list[Item]]]:
    order: dict[str, list[Item]] = {}
    for it in items:
        if wanted is None or it.conn in wanted:
            order.setdefault(it.conn, []).append(it)
    connections = getattr(scope, "connections", None) or {}
    return [(connections.get(cid), its) for cid, its in order.items()]


def _server_side(transcript) -> list[str] | None:
    """In a Lab both ends record each client stream: show the server's side of those once (and every
    server-to-server stream), unless only the clients recorded."""
    conns = list(transcript.connections.values())
    if not any(c.kind == "c2s" and c.role == "receiving" for c in conns):
        return None
    return [c.id for c in conns if not (c.kind == "c2s" and c.role == "initiating")]


# ------------------------------------------------------------------------------------- the view
class StreamView(Displayable):
    """One page of the two-column view of a transcript, a connection, a selection, a Client or a Lab."""

    def __init__(self, source, *, page: int = 1, page_size: int | None = DEFAULT_PAGE_SIZE,
                 max_bytes: int | None = MAX_BYTES, expand="auto", explanations: bool = True,
                 title: str | None = None, conn=None, width: int = 96, anchor_prefix: str | None = None,
                 max_height: str | None = "720px", order: str = "auto"):
        if order not in ("auto", "time", "connection"):
            raise ValueError(f"order={order!r}: use 'time', 'connection' or 'auto'")
        self.source = source
        self.options = {"page_size": page_size, "max_bytes": max_bytes, "expand": expand, "explanations": explanations,
                        "title": title, "conn": conn, "width": width, "max_height": max_height, "order": order}
        self.page_size, self.max_bytes, self.expand = page_size, max_bytes, expand
        self.explanations, self.width, self.max_height = explanations, width, max_height
        self.blocks, scope, default_title = resolve(source, conn)
        self.context = ExplainContext(scope)
        self.title = title or default_title
        self.total = sum(len(items) for _, items in self.blocks)
        # several streams: one list in the order things happened, each row labelled with its stream
        self.by_time = order == "time" or (order == "auto" and len(self.blocks) > 1)
        self.labels = connection_labels(c for c, _ in self.blocks) if self.by_time else {}
        self._merged = _by_time(self.blocks, scope) if self.by_time else None
        starts = [items[0].t for _, items in self.blocks if items]
        self.t0 = min(starts) if self.by_time and starts and min(starts) > 86400 * 365 else None
        self.pages = max(1, -(-self.total // page_size)) if page_size else 1
        if page < 0:
            page = self.pages + 1 + page
        self.page_number = min(max(page, 1), self.pages)
        self.anchor_prefix = anchor_prefix or f"xl{os.getpid() % 1000}-{next(_counter)}"
        self.shown = 0  # items rendered by the last html() (fewer than the page when the byte cap hit)

    # --- paging ------------------------------------------------------------------
    def page(self, n: int) -> StreamView:
        """The same view on page ``n`` (1-based; -1 is the last page)."""
        return StreamView(self.source, page=n, **self.options)

    def next(self) -> StreamView:
        """The next page of this view."""
        return self.page(self.page_number + 1)

    @property
    def first_index(self) -> int:
        """Position (0-based, over all blocks) of the first item on this page."""
        return (self.page_number - 1) * self.page_size if self.page_size else 0

    def rows(self) -> list[tuple[object, Item, bool]]:
        """(connection, item, first row of its block on this page) for the items of this page."""
        start = self.first_index
        stop = start + self.page_size if self.page_size else self.total
        if self._merged is not None:
            return [(conn, item, False) for conn, item in self._merged[start:stop]]
        out, pos = [], 0
        for conn, items in self.blocks:
            n = len(items)
            if pos + n > start and pos < stop:
                lo, hi = max(start - pos, 0), min(stop - pos, n)
                for k, it in enumerate(items[lo:hi]):
                    out.append((conn, it, k == 0))
            pos += n
            if pos >= stop:
                break
        return out

    # --- rendering -------------------------------------------------------------------
    def html(self) -> str:
        """The HTML of this page (escaped, inline styles, no script)."""
        return render_html(self)

    def text(self, color: bool = False, width: int | None = None, explanations: bool | None = None) -> str:
        """The same page for a terminal (ANSI colours when ``color``)."""
        return render_view(self, color=color, width=width,
                           explanations=self.explanations if explanations is None else explanations)

    def _display_html(self) -> str:
        return self.html()

    def _display_text(self) -> str:
        return summary_text(self)

    def __repr__(self) -> str:
        return (f"<StreamView {self.title}: page {self.page_number} of {self.pages}, {self.total:,} item"
                f"{'' if self.total == 1 else 's'}>")


def stream_view(source, **options) -> StreamView:
    """The two-column view of a Transcript, Connection, Selection, items, a Client or a Lab (see StreamView).

    Several connections are shown in the order things happened, each row labelled with its connection
    (``order="connection"``: one block per connection instead).
    """
    return StreamView(source, **options)


def _by_time(blocks, scope) -> list[tuple[object, Item]]:
    """The items of every block in the order they happened: by recording position within one transcript
    (never reordered by a clock), else by time, each connection's own order kept."""
    same_recording = scope is not None
    key = (lambda pair: (pair[1].seq, pair[1].index)) if same_recording else (lambda pair: pair[1].t)
    return list(heapq.merge(*([(conn, it) for it in items] for conn, items in blocks), key=key))


# ------------------------------------------------------------------------------------- HTML
def _badge(text: str, bg: str, fg: str = "#ffffff", title: str | None = None) -> str:
    t = f' title="{html.escape(title)}"' if title else ""
    return (f'<span style="background:{bg};color:{fg};border-radius:3px;padding:0 5px;margin-right:4px;'
            f'{MONO};font-size:11px;font-weight:600;white-space:nowrap"{t}>{html.escape(text)}</span>')


def column_header(by_time: bool = False) -> str:
    """The HTML header of the two columns: time (and, ``by_time``, which stream), C→S (client to server) and S→C."""
    cell = "flex:1 1 0;min-width:0;padding:4px 8px;font-weight:700"
    gutter = "time · stream" if by_time else "time"
    return (f'<div style="display:flex;position:sticky;top:0;z-index:1;background:#ffffff;'
            f'border-bottom:2px solid {BORDER}">'
            f'<div style="flex:0 0 {_gutter(by_time)};padding:4px 6px;color:{MUTED};font-size:11px">{gutter}</div>'
            f'<div style="{cell};color:{GREEN_TEXT}">{_badge("C→S", GREEN)} client → server '
            f'<span style="font-weight:400;color:{MUTED}">(green)</span></div>'
            f'<div style="{cell};color:{BLACK}">{_badge("S→C", BLACK)} server → client '
            f'<span style="font-weight:400;color:{MUTED}">(black)</span></div></div>')


def render_html(view: StreamView) -> str:
    """The view as HTML: one row per item, within the view's byte budget."""
    rows = view.rows()
    budget = (view.max_bytes - _CHROME_BYTES) if view.max_bytes else None
    used = 0
    out_rows: list[str] = []
    shown = 0
    capped = False
    on_page = {(item.conn, item.index) for _, item, _ in rows}
    last_conn = object()
    for conn, item, first_in_block in rows:
        parts = []
        if conn is not last_conn and not view.by_time:
            parts.append(_block_header(conn, continued=first_in_block and item.index > 0))
            last_conn = conn
        parts.append(render_row(view, conn, item, on_page))
        if item.kind is ItemKind.NONZA and item.direction is S2C and item.element.tag in _RESTART_NOTE:
            parts.append(_divider(_RESTART_NOTE[item.element.tag]))
        if is_gap_after(conn, item):
            parts.append(_gap(gap_text(conn)))
        chunk = "".join(parts)
        size = len(chunk.encode("utf-8"))
        if budget is not None and used + size > budget and shown:
            capped = True
            break
        out_rows.append(chunk)
        used += size
        shown += 1
    view.shown = shown
    pager = pager_text(view, shown, capped)
    scroll = f"max-height:{view.max_height};overflow:auto;" if view.max_height and shown > 25 else ""
    head = (f'<div style="padding:6px 10px;background:{BLACK_TINT};border-bottom:1px solid {BORDER};'
            f'display:flex;flex-wrap:wrap;gap:4px 12px;align-items:baseline">'
            f'<b style="font-size:14px">{html.escape(view.title)}</b>'
            f'<span style="color:{MUTED}">{html.escape(_counts(view))}</span></div>')
    foot = (f'<div style="padding:5px 10px;background:{BLACK_TINT};border-top:1px solid {BORDER};'
            f'color:{MUTED};font-size:12px">{html.escape(pager)}</div>')
    body = "".join(out_rows) if out_rows else \
        f'<div style="padding:8px 10px;color:{MUTED}">nothing recorded yet</div>'
    return (f'<div class="xmpplab-stream-view" style="{FONT};font-size:13px;line-height:1.4;color:{BLACK};'
            f'background:#ffffff;border:1px solid {BORDER};border-radius:6px;text-align:left;max-width:100%;'
            f'overflow:hidden">{head}{_legend(view)}<div style="{scroll}">{column_header(view.by_time)}{body}</div>'
            f'{foot}</div>')


def _gutter(by_time: bool) -> str:
    return "9.5em" if by_time else "5.8em"


#: Borders that tell streams apart at a glance (the label says which, so colour is never the only cue)
STREAM_COLOURS = ("#0550ae", "#8250df", "#bc4c00", "#116329", "#cf222e", "#1b7c83", "#6e7781", "#953800")


def _stream_chip(view: StreamView, conn_id: str) -> str:
    label = view.labels.get(conn_id, conn_id)
    colour = STREAM_COLOURS[list(view.labels).index(conn_id) % len(STREAM_COLOURS)] if conn_id in view.labels \
        else MUTED
    return (f'<span style="display:inline-block;max-width:100%;border:1px solid {colour};color:{colour};'
            f'border-radius:3px;padding:0 4px;{MONO};font-size:11px;font-weight:600;overflow-wrap:anywhere" '
            f'title="{html.escape(conn_id)}">{html.escape(label)}</span>')


def _legend(view: StreamView) -> str:
    """Which stream each label names (only in the order-of-time view of several streams)."""
    if not view.by_time:
        return ""
    entries = "".join(f'<div>{_stream_chip(view, conn.id)} <span style="{MONO};font-size:11px;color:{MUTED}">'
                      f"{html.escape(connection_header_text(conn))}</span>"
                      f"{_S2S_NOTE if conn.kind == 's2s' else ''}</div>"
                      for conn, _ in view.blocks if conn is not None)
    return (f'<div style="padding:4px 10px;border-bottom:1px solid {BORDER};font-size:12px">'
            f'<span style="color:{MUTED}">In the order it happened; each row names its stream:</span>{entries}</div>')


def _counts(view: StreamView) -> str:
    n_conn = len(view.blocks)
    return (f"{n_conn} connection{'' if n_conn == 1 else 's'}, {view.total:,} item{'' if view.total == 1 else 's'}"
            " · C→S client to server (green), S→C server to client (black)")


_S2S_NOTE = (f' <span style="font-weight:400;color:{MUTED}">server to server: C→S is the initiating server, '
             "S→C the receiving server</span>")


def _block_header(conn, continued: bool) -> str:
    text = connection_header_text(conn) + (" (continued)" if continued else "")
    extra = _S2S_NOTE if conn is not None and conn.kind == "s2s" else ""
    return (f'<div style="padding:4px 8px;background:#eaeef2;color:{BLACK};font-weight:600;'
            f'border-top:1px solid {BORDER};{MONO};font-size:12px">{html.escape(text)}{extra}</div>')


def _divider(text: str) -> str:
    return (f'<div style="padding:2px 8px 2px 6.4em;color:{STEP};font-size:12px;border-top:1px dashed {STEP};'
            f'background:#fbf8ff">⟲ {html.escape(text)}</div>')


def _gap(text: str) -> str:
    """The line where a connection went silent (XEP-0198 §5): a broken rule, labelled, not only coloured."""
    return (f'<div class="xmpplab-gap" style="padding:4px 8px 4px 6.4em;color:{RED};font-size:12px;'
            f'border-top:2px dashed {RED};border-bottom:2px dashed {RED};background:{RED_TINT}">'
            f"⚡ {html.escape(text)}</div>")


def _anchor(view: StreamView, item: Item) -> str:
    return f"{view.anchor_prefix}-{item.conn}-{item.index}"


def render_row(view: StreamView, conn, item: Item, on_page=frozenset()) -> str:
    """One item as an HTML row: its cell in the C→S or S→C column, with its time."""
    cell = render_cell(view, item, on_page)
    empty = '<div style="flex:1 1 0;min-width:0"></div>'
    side = f'<div style="flex:1 1 0;min-width:0;padding:2px 4px">{cell}</div>'
    left, right = (side, empty) if item.direction is C2S else (empty, side)
    by_time = getattr(view, "by_time", False)
    clock = html.escape(clock_text(conn, item, getattr(view, "t0", None)))
    who = f"<br>{_stream_chip(view, item.conn)}" if by_time else ""
    return (f'<div id="{_anchor(view, item)}" style="display:flex;align-items:flex-start;'
            f'border-top:1px solid #eaeef2"><div style="flex:0 0 {_gutter(by_time)};padding:4px 6px;color:{MUTED};'
            f'{MONO};font-size:11px;text-align:right">{clock}{who}<br>#{item.index}</div>{left}{right}</div>')


def render_cell(view: StreamView, item: Item, on_page=frozenset(), explanation: Explanation | None = None) -> str:
    """One item: direction badge, step label, summary, XML and explanation, in a collapsible box."""
    problem = item.is_problem
    c2s = item.direction is C2S
    color = RED if problem else (GREEN if c2s else BLACK)
    tint = RED_TINT if problem else (GREEN_TINT if c2s else BLACK_TINT)
    e = explanation
    if e is None and view.explanations:
        try:
            e = explain(item, view.context)
        except Exception as exc:  # noqa: BLE001 - an explanation must never hide the XML
            e = Explanation(f"(no explanation: {type(exc).__name__}: {exc})")
    what, details = item_summary(item)
    step = step_of(item)
    summary = [_badge(str(item.direction), GREEN if c2s else BLACK)]
    if problem:
        summary.append(_badge("problem", RED))
    elif step:
        summary.append(_badge(step, STEP))
    for mark in marks(view.context.connection(item.conn), item):
        summary.append(_badge(mark, RESUME, title="stream management (XEP-0198)"))
    summary.append(f'<b style="{MONO};font-size:12px;color:{GREEN_TEXT if c2s else BLACK}">{html.escape(what)}</b>')
    details = [d for d in details if d]
    if details:
        summary.append(f' <span style="color:{MUTED}">{html.escape(" · ".join(details))}</span>')
    link = _answer_link(view, item, on_page)
    if link:
        summary.append(link)
    lines = pretty_lines(item.text, width=view.width, max_chars=MAX_CHARS)
    xml = (f'<pre style="margin:2px 0 0;padding:2px 0;background:transparent;color:{GREEN_TEXT if c2s else BLACK};'
           f'white-space:pre-wrap;overflow-wrap:anywhere;text-align:left;{MONO};font-size:12px;line-height:1.45">'
           f"{lines_html(lines, str(item.direction))}</pre>")
    expl = ""
    hover = ""
    if e is not None:
        cites = f" ({citation_links(e.citations)})" if e.citations else ""
        # a note may be one long token (a decoded SCRAM message): let it wrap rather than run out of the panel
        notes = "".join(f'<div style="color:{MUTED};overflow-wrap:anywhere">{html.escape(n)}</div>' for n in e.notes)
        expl = (f'<div style="margin:2px 0 1px;padding:2px 0 0;border-top:1px dotted {BORDER};font-size:12px;'
                f'color:{BLACK}">{html.escape(e.text)}{cites}{notes}</div>')
        hover = f' title="{html.escape(e.topic or what)}{" — " + html.escape(e.citation) if e.citation else ""}"'
    if problem and item.problem:
        expl = (f'<div style="color:#82071e;font-size:12px">{html.escape(item.condition or "")}: '
                f"{html.escape(item.problem)}</div>") + expl
    expand = view.expand
    is_open = expand is True or (expand == "auto" and (len(lines) <= 14 or step is not None or problem))
    return (f'<div style="border-left:4px solid {color};background:{tint};border-radius:3px;padding:2px 6px"'
            f"{hover}><details{' open' if is_open else ''}><summary style=\"cursor:pointer;"
            f'overflow-wrap:anywhere">{"".join(summary)}</summary>{xml}{expl}</details></div>')


def _answer_link(view: StreamView, item: Item, on_page) -> str:
    if item.kind is not ItemKind.STANZA or item.name != "iq" or item.type not in ("result", "error"):
        return ""
    facts = view.context.facts(view.context.connection(item.conn))
    req = facts.request_of.get(item.index) if facts else None
    if req is None:
        return ""
    label = f"answers #{req.index}"
    if (req.conn, req.index) in on_page:
        return (f' <a href="#{_anchor(view, req)}" style="color:#0550ae;font-size:11px">'
                f"{html.escape(label)}</a>")
    return f' <span style="color:{MUTED};font-size:11px">{html.escape(label)}</span>'
