"""What the widgets share: the ipywidgets import, background work in the Lab's event loop, a little HTML.

The Lab lives in the kernel's event loop, so the widgets never block it:
slow work (waiting for an answer, polling a server) runs as tasks in that
loop, and live views redraw at most a few times a second (one timer, not one
redraw per stanza). Every task and timer of a widget is kept in its
:class:`Background` and cancelled by the widget's ``close()``.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable, Coroutine

from ..render.palette import AMBER_TEXT, AMBER_TINT, BLACK, BORDER, FONT, MUTED, RED_TEXT, RED_TINT

log = logging.getLogger("xmpplab.widgets")

try:
    import ipywidgets as W
except ImportError as exc:  # pragma: no cover - ipywidgets is a dependency of xmpplab
    raise ImportError("xmpplab's widgets need ipywidgets (pip install ipywidgets); "
                      "the views in xmpplab.render work without it") from exc


#: CSS for the few things inline styles cannot reach (the raw-XML textarea's font). Scoped by class.
CSS = ("<style>.xmpplab-mono textarea{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}"
       ".xmpplab-widget .widget-html-content{line-height:1.4}</style>")


def current_loop(preferred: asyncio.AbstractEventLoop | None = None) -> asyncio.AbstractEventLoop | None:
    """The loop to run background work in: ``preferred`` (the Lab's), else the running one, else None."""
    if preferred is not None and not preferred.is_closed():
        return preferred
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Background:
    """The tasks and timers of one widget, all in one event loop; :meth:`cancel` stops them all."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None):
        self.loop = loop
        self.tasks: set = set()
        self.timers: set = set()
        self.closed = False

    def _in_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    def spawn(self, coro: Coroutine) -> asyncio.Future | None:
        """Run ``coro`` in the loop (from the loop's thread or any other); None when there is no loop."""
        if self.closed or self.loop is None or self.loop.is_closed():
            coro.close()
            return None
        # A comm message handled in another thread hands the work to the Lab's loop.
        task = self.loop.create_task(coro) if self._in_loop() else asyncio.run_coroutine_threadsafe(coro, self.loop)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a widget's background task failed", exc_info=task.exception())

    def later(self, delay: float, callback: Callable[[], None]) -> bool:
        """Call ``callback()`` in the loop after ``delay`` seconds; False when there is no loop to do it."""
        if self.closed or self.loop is None or self.loop.is_closed():
            return False
        holder: list = []

        def fire():
            self.timers.discard(holder[0] if holder else None)
            if not self.closed:
                callback()

        if self._in_loop():
            holder.append(self.loop.call_later(delay, fire))
            self.timers.add(holder[0])
        else:
            self.loop.call_soon_threadsafe(lambda: self.later(delay, callback))
        return True

    def cancel(self) -> None:
        """Stop every task and timer; later calls to spawn() and later() do nothing."""
        self.closed = True
        for timer in list(self.timers):
            timer.cancel()
        self.timers.clear()
        for task in list(self.tasks):
            if self._in_loop() or not isinstance(task, asyncio.Task):
                task.cancel()
            elif self.loop is not None and not self.loop.is_closed():
                self.loop.call_soon_threadsafe(task.cancel)
        self.tasks.clear()


class LiveWidget(W.VBox):
    """A VBox with a :class:`Background`; ``close()`` cancels it and closes the children.

    It also tracks whether its views are on screen (ipywidgets' ``_view_count``),
    so live widgets can stop redrawing once their output has been cleared.
    """

    def _start_background(self, loop=None) -> None:
        self._bg = Background(current_loop(loop))
        self._closing = False
        self._ever_shown = False
        self._view_count = 0  # ask the front end to count the views of this widget
        self.observe(self._views_changed, names="_view_count")
        self.add_class("xmpplab-widget")

    def _views_changed(self, change) -> None:
        if change["new"]:
            self._ever_shown = True
            self._shown()

    def _shown(self) -> None:
        """Called when a view appears in the front end (override to redraw)."""

    @property
    def on_screen(self) -> bool:
        """False once every view of the widget has gone (output cleared); True before the first display
        (so the widget stays live when used from Python only, as in tests)."""
        return not self._ever_shown or bool(self._view_count)

    @property
    def closed(self) -> bool:
        """True once the widget is closing or closed."""
        return getattr(self, "_closing", False)

    def close(self) -> None:
        """Stop the background work, close every child widget, then this one."""
        if getattr(self, "_closing", False):
            return
        self._closing = True
        bg = getattr(self, "_bg", None)
        if bg is not None:
            bg.cancel()
        self._cleanup()
        for child in _descendants(self):
            child.close()
        super().close()

    def _cleanup(self) -> None:
        """Undo hooks (watchers...) when closed (override)."""


def _descendants(box) -> list:
    out = []
    for child in getattr(box, "children", ()):
        out.extend(_descendants(child))
        out.append(child)
    return out


def widget_value(name: str, doc: str) -> property:
    """A read-only property: the value of the ipywidget held in attribute ``name`` (``kind_w``)."""
    return property(lambda self: getattr(self, name).value, doc=doc)


# ---------------------------------------------------------------------------------- small HTML pieces
def esc(text) -> str:
    """`text` as a string, escaped for HTML."""
    return html.escape(str(text))


def box(inner: str, *, tint: str = "#ffffff", border: str = BORDER, extra: str = "") -> str:
    """HTML: `inner` in a rounded box, tinted and bordered."""
    return (f'<div style="{FONT};font-size:13px;line-height:1.45;color:{BLACK};background:{tint};'
            f'border:1px solid {border};border-radius:6px;padding:6px 10px;text-align:left;{extra}">{inner}</div>')


def heading(text: str, note: str = "") -> str:
    """HTML: a bold heading, with a muted `note` after it."""
    extra = f' <span style="font-weight:400;color:{MUTED}">{esc(note)}</span>' if note else ""
    return f'<div style="{FONT};font-size:13px;font-weight:700;color:{BLACK};margin:6px 0 2px">{esc(text)}{extra}</div>'


def messages_html(problems, warnings=(), notes=()) -> str:
    """Problems (red ✗), warnings (amber ⚠) and notes (grey ℹ), one per line, in plain words."""
    rows = []
    for text in problems:
        rows.append(f'<div style="color:{RED_TEXT};background:{RED_TINT};padding:2px 6px;border-radius:3px;'
                    f'margin:2px 0">✗ {esc(text)}</div>')
    for text in warnings:
        rows.append(f'<div style="color:{AMBER_TEXT};background:{AMBER_TINT};padding:2px 6px;border-radius:3px;'
                    f'margin:2px 0">⚠ {esc(text)}</div>')
    for text in notes:
        rows.append(f'<div style="color:{MUTED};padding:2px 6px;margin:2px 0">ℹ {esc(text)}</div>')
    return f'<div style="{FONT};font-size:12px">{"".join(rows)}</div>' if rows else ""


def server_side(transcript) -> list[str] | None:
    """In a Lab both ends record each client stream: the ids of the server's side (and every s2s stream),
    or None when only clients recorded (then every connection counts)."""
    conns = list(transcript.connections.values())
    if not any(c.kind == "c2s" and c.role == "receiving" for c in conns):
        return None
    return [c.id for c in conns if not (c.kind == "c2s" and c.role == "initiating")]


def is_lab(obj) -> bool:
    """True if `obj` looks like a Lab (servers, clients and a transcript)."""
    return hasattr(obj, "servers") and hasattr(obj, "clients") and hasattr(obj, "transcript")


def is_client(obj) -> bool:
    """True if `obj` looks like an xmpplab Client (a slixmpp client, send_raw and events)."""
    return hasattr(obj, "xmpp") and hasattr(obj, "send_raw") and hasattr(obj, "events")
