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
import sys

from .ansi import render_view
from .stream_view import StreamView

__all__ = ["color_enabled", "print_stream", "render_terminal", "render_view"]


def color_enabled(stream=None) -> bool:
    """Colour for ``stream`` (stdout by default): a terminal, NO_COLOR unset or empty; FORCE_COLOR wins."""
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("NO_COLOR"):
        return False
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


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
