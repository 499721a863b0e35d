"""The stream view in a terminal: the same rows, labels and explanations, in ANSI colours or plain text.

For the CLI (``xmpplab replay``, ``xmpplab demo``, ``xmpplab render --text``)::

    from xmpplab.render.terminal import print_stream
    print_stream(transcript)                      # colours when stdout is a terminal and NO_COLOR is unset
    print(render_terminal(transcript, color=False, width=100, conn="c2s-1"))

Each item is a block of lines led by its time, its index and a label, C→S
(client to server, green) or S→C (server to client). In a wide terminal
(``layout="columns"``, the default from 120 columns) C→S items sit in the
left half and S→C items in the right half, so the two streams read side by
side, aligned in time; in a narrow one (``layout="rows"``) they alternate
down one column and the label says which is which. Colour is never the only
cue, and is off when ``NO_COLOR`` is set (https://no-color.org) or the
output is not a terminal, unless ``FORCE_COLOR`` is set.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap

from ..transcript.model import Direction, ItemKind
from .explain import explain
from .stream_view import (
    StreamView,
    _clock,
    connection_header_text,
    item_summary,
    pager_text,
    step_of,
)
from .xmlview import MAX_CHARS, RESET, lines_ansi, pretty_lines

C2S = Direction.C2S
GREEN, BOLD, DIM, RED, MAGENTA, REVERSE = "32", "1", "2", "31", "35", "7"
_RESTART = {
    "{urn:ietf:params:xml:ns:xmpp-tls}proceed": "TLS handshake here (not recorded); both streams restart",
    "{urn:ietf:params:xml:ns:xmpp-sasl}success": "authenticated: both streams restart",
}


def color_enabled(stream=None) -> bool:
    """Colour for ``stream`` (stdout by default): a terminal, NO_COLOR unset or empty; FORCE_COLOR wins."""
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("NO_COLOR"):
        return False
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


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
    last_conn = object()
    rows = view.rows()
    for conn, item, first_in_block in rows:
        if conn is not last_conn:
            out.append("")
            out.append(_paint(f"── {connection_header_text(conn)}{' (continued)' if first_in_block and item.index else ''}",
                              BOLD, color))
            if conn is not None and conn.kind == "s2s":
                out.append("   server to server: C→S is the initiating server, S→C the receiving server")
            last_conn = conn
        c2s = item.direction is C2S
        offset = 0 if layout == "rows" or c2s else column
        label = _paint(str(item.direction), (GREEN + ";" + BOLD) if c2s else BOLD, color)
        what, details = item_summary(item)
        step = step_of(item)
        head = f"{_clock(conn, item):>10} {('#' + str(item.index)):>5} "
        summary = what + (f" [{step}]" if step and step not in what else "")
        if item.is_problem:
            summary = f"[problem] {summary}"
        detail = " · ".join(d for d in details if d)
        first = f"{head}{' ' * offset}{label} {_paint(summary, RED if item.is_problem else BOLD, color)}"
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
            except Exception as exc:  # noqa: BLE001
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
    out.append("")
    out.append(_paint(pager_text(view, len(rows), False), DIM, color))
    return "\n".join(out)


def render_terminal(source, *, color: bool | None = None, width: int | None = None, explanations: bool = True,
                    page: int = 1, page_size: int | None = None, conn=None, layout: str = "auto",
                    title: str | None = None) -> str:
    """The stream view of a Transcript, Connection, Selection, items, a Client or a Lab, as terminal text.

    ``color=None`` decides from stdout and the environment (see :func:`color_enabled`); ``page_size=None``
    shows every item.
    """
    if color is None:
        color = color_enabled()
    view = source if isinstance(source, StreamView) else StreamView(
        source, page=page, page_size=page_size, max_bytes=None, conn=conn, title=title)
    return render_view(view, color=color, width=width, explanations=explanations, layout=layout)


def print_stream(source, file=None, **options) -> None:
    """Print :func:`render_terminal` to ``file`` (stdout), colour decided for that file."""
    file = file or sys.stdout
    if options.get("color") is None:
        options["color"] = color_enabled(file)
    print(render_terminal(source, **options), file=file, flush=True)
