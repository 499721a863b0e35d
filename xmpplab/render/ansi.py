"""The terminal rows of one stream-view page: ANSI colours or plain text, in one column or two.

:func:`render_view` draws a page of a :class:`~xmpplab.render.stream_view.StreamView`
(anything with ``title``, ``rows()`` and ``context``) line by line: time,
index, C→S or S→C, the summary, the pretty XML and the explanation with its
RFC or XEP section. :mod:`.terminal` decides colours and prints.
"""

from __future__ import annotations

import shutil
import textwrap
from typing import TYPE_CHECKING

from ..transcript.model import Direction, ItemKind
from .explain import explain
from .resumption import gap_text, is_gap_after, marks
from .summaries import clock_text, connection_header_text, item_summary, pager_text, step_of
from .xmlview import MAX_CHARS, RESET, lines_ansi, pretty_lines

if TYPE_CHECKING:
    from .stream_view import StreamView

C2S = Direction.C2S
GREEN, BOLD, DIM, RED, MAGENTA, REVERSE = "32", "1", "2", "31", "35", "7"
_RESTART = {
    "{urn:ietf:params:xml:ns:xmpp-tls}proceed": "TLS handshake here (not recorded); both streams restart",
    "{urn:ietf:params:xml:ns:xmpp-sasl}success": "authenticated: both streams restart",
}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}{RESET}" if color and code else text


def _visible_len(segs) -> int:
    return sum(len(s) for _, s in segs)


def _wrap(pad: int, segs, width: int):
    """Hard-wrap a line of segments to ``width`` visible columns; continuation lines indent 2 more."""
    if pad + _visible_len(segs) <= width or width <= pad + 8:
        return [(pad, segs)]
    lines, current, room = [], [], width - pad
    cur_pad = pad
    for kind, piece in segs:
        while piece:
            if room <= 0:
                lines.append((cur_pad, current))
                cur_pad = pad + 2
                current, room = [], width - cur_pad
            take = piece[:room]
            current.append((kind, take))
            room -= len(take)
            piece = piece[len(take):]
    if current:
        lines.append((cur_pad, current))
    return lines


def render_view(view: StreamView, *, color: bool = False, width: int | None = None, explanations: bool = True,
                layout: str = "auto") -> str:
    """One page of a :class:`StreamView` as terminal text."""
    width = width or shutil.get_terminal_size((100, 24)).columns
    width = max(width, 40)
    if layout == "auto":
        layout = "columns" if width >= 120 else "rows"
    gutter = 20  # "   +0.123s #12 C→S "
    column = (width - gutter) // 2 if layout == "columns" else width - gutter
    out = [_paint(f"{view.title}", BOLD, color),
           (f"{_paint('C→S', GREEN + ';' + BOLD, color)} client to server"
           f"{' (green, left)' if layout == 'columns' else ' (green)'}   "
           f"{_paint('S→C', BOLD, color)} server to client{' (right)' if layout == 'columns' else ''}")]
    labels = view.labels if getattr(view, "by_time", False) else {}
    if labels:
        out.append("In the order it happened; each row names its stream:")
        for c, _ in view.blocks:
            if c is not None:
                out.append(f"  [{labels[c.id]}] {connection_header_text(c)}")
                if c.kind == "s2s":
                    out.append("      server to server: C→S is the initiating server, S→C the receiving server")
    last_conn = object()
    rows = view.rows()
    for conn, item, first_in_block in rows:
        if labels:
            pass  # no block headers: each row names its stream
        elif conn is not last_conn:
            out.append("")
            continued = " (continued)" if first_in_block and item.index else ""
            out.append(_paint(f"── {connection_header_text(conn)}{continued}", BOLD, color))
            if conn is not None and conn.kind == "s2s":
                out.append("   server to server: C→S is the initiating server, S→C the receiving server")
            last_conn = conn
        c2s = item.direction is C2S
        offset = 0 if layout == "rows" or c2s else column
        label = _paint(str(item.direction), (GREEN + ";" + BOLD) if c2s else BOLD, color)
        what, details = item_summary(item)
        step = step_of(item)
        head = f"{clock_text(conn, item, getattr(view, 't0', None)):>10} {('#' + str(item.index)):>5} "
        summary = what + (f" [{step}]" if step and step not in what else "")
        summary += "".join(f" [{m}]" for m in marks(conn, item))
        if item.is_problem:
            summary = f"[problem] {summary}"
        detail = " · ".join(d for d in details if d)
        who = f"[{labels.get(item.conn, item.conn)}] " if labels else ""
        first = f"{head}{' ' * offset}{label} {who}{_paint(summary, RED if item.is_problem else BOLD, color)}"
        if detail:
            first += "  " + _paint(detail, DIM, color)
        out.append(first)
        indent = " " * (gutter + offset)
        lines = pretty_lines(item.text, width=column, max_chars=MAX_CHARS)
        wrapped = [w for pad, segs in lines for w in _wrap(pad, segs, column)]
        out.extend(lines_ansi(wrapped, str(item.direction), color, indent))
        if explanations:
            try:
                e = explain(item, view.context)
            except Exception as exc:  # noqa: BLE001 - an explanation must never hide the XML
                e = None
                out.append(indent + f"(no explanation: {exc})")
            if e is not None:
                text = f"↳ {e.text}" + (f" [{'; '.join(e.labels)}]" if e.labels else "")
                for line in textwrap.wrap(text, max(column, 30), subsequent_indent="  "):
                    out.append(indent + _paint(line, DIM, color))
                for note in e.notes:
                    for line in textwrap.wrap(note, max(column, 30), initial_indent="  ", subsequent_indent="  "):
                        out.append(indent + _paint(line, DIM, color))
        if item.is_problem and item.problem:
            out.append(indent + _paint(f"{item.condition}: {item.problem}", RED, color))
        if item.kind is ItemKind.NONZA and not c2s and item.element.tag in _RESTART:
            out.append(_paint(f"{'':>17}⟲ {_RESTART[item.element.tag]}", MAGENTA, color))
        if is_gap_after(conn, item):
            out.append(_paint(f"{'':>17}⚡ {gap_text(conn)}", RED, color))
    out.append("")
    out.append(_paint(pager_text(view, len(rows), False), DIM, color))
    return "\n".join(out)
