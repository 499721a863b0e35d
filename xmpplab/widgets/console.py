"""The live stream console: the two-column stream view, growing as stanzas cross the wire, with filters.

In a notebook cell::

    from xmpplab.widgets import StreamConsole
    console = StreamConsole(lab)                         # everything, every connection
    console = StreamConsole(lab, filters=["message", "presence"])
    await juliet.send_message("romeo@example.net", "hi") # the console shows it a moment later

Rows read as in :func:`xmpplab.render.stream_view`: client to server (C→S)
on the left in green, server to client (S→C) on the right in black, each
with its XML and a plain-language explanation. The console keeps the order
in which things happened across connections, naming the connection
whenever it changes, and shows the last ``tail`` items that pass the
filters (newest at the bottom; the box stays scrolled to the bottom).

Filters are checkboxes: by kind (``message``, ``presence``, ``iq``,
``negotiation`` for stream headers, features, STARTTLS, SASL and the stream
close, ``problems`` for stream errors and refused input) and by connection
(one box per connection as it appears). From Python::

    console.set_filters(kinds=["iq"], conns=["c2s-1"])
    console.items()          # the items that pass, oldest first
    console.html             # what is shown

**One live view per Lab**, what happened since the current cell began::

    from xmpplab.widgets import live
    live(lab)        # the same console each time: display it once (or in several cells), it follows the Lab

``live(lab)`` is ``StreamConsole(lab, since="cell")``, made once per Lab: it
shows every client's own stream (as :meth:`Lab.view <xmpplab.lab.Lab.view>`)
and starts afresh when a cell starts (the Lab marks each cell's start); its
"this cell only" box shows everything when unticked.

Updates come from :meth:`Transcript.watch <xmpplab.transcript.Transcript.watch>`
and are drawn at most once every ``throttle`` seconds, in the Lab's event
loop. The **pause** button freezes the view; ``console.close()`` stops watching.
"""

from __future__ import annotations

import datetime
import html
import time
import weakref

from ..render.palette import BLACK, BLACK_TINT, BORDER, FONT, MONO, MUTED
from ..transcript.model import Item, ItemKind
from ._base import LiveWidget, W, esc, is_client, is_lab, server_side

__all__ = ["KINDS", "StreamConsole", "kind_of", "live"]

#: The one live console of each Lab (see :func:`live`)
_LIVE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

#: The kind filters, with their labels.
KINDS = {
    "message": "message",
    "presence": "presence",
    "iq": "iq",
    "negotiation": "stream set-up (headers, features, TLS, SASL, close)",
    "problems": "stream errors and problems",
}
_ALIASES = {"stanza": ("message", "presence", "iq"), "stanzas": ("message", "presence", "iq"),
            "messages": ("message",), "nonza": ("negotiation",), "errors": ("problems",)}


def kind_of(item: Item) -> str:
    """Which kind filter an item falls under: message, presence, iq, negotiation or problems."""
    if item.kind is ItemKind.STANZA:
        return item.name
    if item.kind in (ItemKind.STREAM_ERROR, ItemKind.VIOLATION, ItemKind.NON_XML):
        return "problems"
    return "negotiation"


def _kinds(value) -> set[str]:
    if value is None:
        return set(KINDS)
    if isinstance(value, str):
        value = [value]
    out: set[str] = set()
    for name in value:
        name = str(name).lower()
        if name in KINDS:
            out.add(name)
        elif name in _ALIASES:
            out.update(_ALIASES[name])
        else:
            raise ValueError(f"unknown filter {name!r}: use {', '.join(KINDS)} (or 'stanza' for the first three)")
    return out


class StreamConsole(LiveWidget):
    """The stream view of a Lab, Transcript or Client, live, with kind and connection filters.

    ``filters``: the kinds shown at first (a name, a list of names, or a dict
    ``{"kinds": [...], "conns": [...]}``); ``conns``: the connection ids shown
    at first (None: all). ``tail``: how many of the newest matching items are
    drawn; ``throttle``: the shortest time between two redraws, in seconds.
    ``since="cell"`` (a Lab only): show what happened since the current cell began, through each
    client's own stream, and start afresh at each cell (see :func:`live`).
    See the module docstring for an example.
    """

    def __init__(self, source, *, filters=None, conns=None, tail: int = 40, throttle: float = 0.25,
                 expand="auto", explanations: bool = True, title: str | None = None, height: str = "560px",
                 since: str = "start"):
        super().__init__()
        if since not in ("start", "cell"):
            raise ValueError(f"since={since!r}: use 'cell' (what happened in this cell) or 'start' (everything)")
        if since == "cell" and not is_lab(source):
            raise TypeError("since='cell' follows a Lab's cells: give the Lab (StreamConsole(lab, since='cell'))")
        self._cells = source.cells if since == "cell" else None
        if isinstance(filters, dict):
            conns = filters.get("conns", conns)
            filters = filters.get("kinds")
        self.source, self.tail, self.throttle = source, tail, throttle
        self.expand, self.explanations, self.height = expand, explanations, height
        self.renders, self._last_render, self._feeder_mark = 0, 0.0, 0
        self._dirty = self._timer = False
        self._start_background(getattr(source, "_loop", None))
        self.transcript, self._hide_client_side = self._transcript_of(source)
        self.title = title or ("Live: what happened in this cell" if self._cells is not None else
                               "Live stream console" + (f": {source.jid}" if is_client(source) else ""))
        self.cell_w = W.Checkbox(value=self._cells is not None, description="this cell only", indent=False,
                                 layout=W.Layout(width="auto", margin="0 12px 0 0",
                                                 display=None if self._cells is not None else "none"))
        self.cell_w.observe(self._filter_changed, names="value")
        self._wanted_conns = None if conns is None else {getattr(c, "id", c) for c in ([conns] if isinstance(
            conns, str) else conns)}
        wanted_kinds = _kinds(filters)
        self.kind_boxes = {k: W.Checkbox(value=k in wanted_kinds, description=label, indent=False,
                                         layout=W.Layout(width="auto", margin="0 12px 0 0"))
                           for k, label in KINDS.items()}
        self.conn_boxes: dict[str, W.Checkbox] = {}
        self.conns_box = W.HBox(layout=W.Layout(flex_flow="row wrap"))
        self.pause_w = W.ToggleButton(value=False, description="pause", icon="pause",
                                      tooltip="freeze the view (stanzas are still recorded)",
                                      layout=W.Layout(width="7em"))
        self.status_w = W.HTML()
        self.view_w = W.HTML()
        self.view_w.add_class("xmpplab-console-view")
        self.add_class("xmpplab-console")
        for cb in self.kind_boxes.values():
            cb.observe(self._filter_changed, names="value")
        self.pause_w.observe(self._paused, names="value")
        label = f'<span style="{FONT};font-size:12px;color:{MUTED};margin-right:8px">'
        self.children = [
            W.HBox([W.HTML(f'<b style="{FONT};font-size:14px">{esc(self.title)}</b>'),
                    W.HBox([self.status_w, self.pause_w], layout=W.Layout(align_items="center"))],
                   layout=W.Layout(align_items="center", justify_content="space-between")),
            W.HBox([W.HTML(label + "show:</span>"), self.cell_w, *self.kind_boxes.values()],
                   layout=W.Layout(flex_flow="row wrap", align_items="center")),
            W.HBox([W.HTML(label + "connections:</span>"), self.conns_box],
                   layout=W.Layout(flex_flow="row wrap", align_items="center")),
            self.view_w,
        ]
        self._unwatch = self.transcript.watch(self._arrived)
        self._unmark = self._cells.on_mark(self._arrived) if self._cells is not None else None
        if is_client(source):
            self._bg.spawn(self._feed_client(source))
        self.refresh()

    # ------------------------------------------------------------------ sources
    def _transcript_of(self, source):
        if is_lab(source):
            return source.transcript, True
        if is_client(source):
            from ..transcript import Transcript
            t = Transcript(recorded_by=f"xmpplab Client {source.xmpp.boundjid.bare} (live)")
            self._feeder_mark = len(source.events)
            t.extend(list(source.events))
            return t, False
        if hasattr(source, "connections") and hasattr(source, "watch"):
            return source, True
        raise TypeError(f"StreamConsole shows a Lab, a Transcript or a Client, not {type(source).__name__}")

    async def _feed_client(self, client) -> None:
        """A Client's recording is a plain list: copy what is new into our live transcript."""
        import asyncio

        while not self.closed:
            events = client.events
            if len(events) > self._feeder_mark:
                new = events[self._feeder_mark:]
                self._feeder_mark += len(new)
                self.transcript.extend(new)
            await asyncio.sleep(self.throttle)

    # ------------------------------------------------------------------ filters
    @property
    def kinds(self) -> set[str]:
        """The kinds shown (see :data:`KINDS`)."""
        return {k for k, cb in self.kind_boxes.items() if cb.value}

    @property
    def conns(self) -> set[str]:
        """The connection ids shown."""
        self._sync_conn_boxes()
        return {c for c, cb in self.conn_boxes.items() if cb.value}

    def set_filters(self, kinds=None, conns=None) -> StreamConsole:
        """Show only these kinds (None: leave as is) and these connection ids (None: leave as is); redraw."""
        self._updating = True
        try:
            if kinds is not None:
                wanted = _kinds(kinds)
                for k, cb in self.kind_boxes.items():
                    cb.value = k in wanted
            if conns is not None:
                wanted_conns = {getattr(c, "id", c) for c in ([conns] if isinstance(conns, str) else conns)}
                self._wanted_conns = wanted_conns
                self._sync_conn_boxes()
                for c, cb in self.conn_boxes.items():
                    cb.value = c in wanted_conns
        finally:
            self._updating = False
        self.refresh()
        return self

    def _visible_connections(self) -> list:
        conns = list(self.transcript.connections.values())
        if self._cells is not None:  # as lab.view(): each client's own stream, every s2s stream
            from ..cells import learner_connections
            return learner_connections(self.transcript)
        if self._hide_client_side:
            keep = server_side(self.transcript)
            if keep is not None:
                conns = [c for c in conns if c.id in keep]
        return conns

    def _sync_conn_boxes(self) -> None:
        for conn in self._visible_connections():
            label = _conn_label(conn)
            cb = self.conn_boxes.get(conn.id)
            if cb is None:
                cb = W.Checkbox(value=self._wanted_conns is None or conn.id in self._wanted_conns,
                                description=label, indent=False,
                                layout=W.Layout(width="auto", margin="0 12px 0 0"))
                cb.observe(self._filter_changed, names="value")
                self.conn_boxes[conn.id] = cb
                self.conns_box.children = [*self.conns_box.children, cb]
            elif cb.description != label:
                cb.description = label

    def _filter_changed(self, _change) -> None:
        if not getattr(self, "_updating", False):
            self.refresh()

    def _paused(self, change) -> None:
        self.pause_w.description = "resume" if change["new"] else "pause"
        self.pause_w.icon = "play" if change["new"] else "pause"
        if not change["new"]:
            self.refresh()

    @property
    def paused(self) -> bool:
        """True while the pause button is down."""
        return self.pause_w.value

    # ------------------------------------------------------------------ reading
    def items(self) -> list[Item]:
        """Every recorded item that passes the filters, in the order they happened."""
        conns, kinds = self.conns, self.kinds
        start = self._cells.start if self._cells is not None and self.cell_w.value else 0
        return [i for i in self.transcript.items() if i.conn in conns and kind_of(i) in kinds and i.seq >= start]

    @property
    def html(self) -> str:
        """The HTML shown now."""
        return self.view_w.value

    # ------------------------------------------------------------------ live updates
    def _arrived(self, _item) -> None:
        """Called by the transcript for each new item (inside the recorder): only schedule a redraw."""
        if self.closed:
            return
        self._dirty = True
        if self._timer or self.paused:
            return
        delay = max(0.0, self._last_render + self.throttle - time.monotonic())
        if self._bg.later(delay, self._flush):
            self._timer = True
        else:  # no event loop: draw now
            self._flush()

    def _flush(self) -> None:
        self._timer = False
        if self._dirty and not self.paused and self.on_screen:
            self.refresh()

    def _shown(self) -> None:
        if self._dirty:
            self.refresh()

    def refresh(self) -> None:
        """Redraw now (filters, connection boxes, the view)."""
        if self.closed:
            return
        self._dirty = False
        self._last_render = time.monotonic()
        self._sync_conn_boxes()
        items = self.items()
        total = sum(len(c) for c in self._visible_connections()) if self.transcript.connections else 0
        shown = items[-self.tail:] if self.tail else items
        self.view_w.value = self._render(shown, len(items))
        stamp = datetime.datetime.now().strftime("%H:%M:%S")
        self.status_w.value = (f'<span style="{FONT};font-size:12px;color:{MUTED};margin-right:8px">'
                               f"{len(items)} of {total} items pass the filters"
                               f"{f', the last {len(shown)} shown' if len(shown) < len(items) else ''}"
                               f" · updated {stamp}{' · paused' if self.paused else ''}</span>")
        self.renders += 1

    def _render(self, items: list[Item], matching: int) -> str:
        from ..render.explain import ExplainContext
        from ..render.stream_view import StreamView, column_header, render_row
        from ..render.summaries import connection_labels

        view = StreamView([], expand=self.expand, explanations=self.explanations, page_size=None, max_height=None)
        view.context = ExplainContext(self.transcript)
        connections = self.transcript.connections
        shown_conns = [connections[c] for c in dict.fromkeys(i.conn for i in items) if c in connections]
        view.by_time = len(shown_conns) > 1  # several streams: each row names its own, as in the stream view
        view.labels = connection_labels(shown_conns) if view.by_time else {}
        on_page = {(i.conn, i.index) for i in items}
        rows, last = [], None
        for item in items:
            conn = connections.get(item.conn)
            if item.conn != last and not view.by_time:
                rows.append(_block_header(conn, item.conn))
                last = item.conn
            rows.append(render_row(view, conn, item, on_page))
        if not rows:
            why = "nothing recorded yet" if not self.transcript.connections else "nothing passes the filters yet"
            rows.append(f'<div style="padding:8px 10px;color:{MUTED}">{why}</div>')
        hidden = matching - len(items)
        more = ""
        if hidden:
            more = (f'<div style="padding:3px 10px;color:{MUTED};font-size:12px;background:{BLACK_TINT}">'
                    f"{hidden} earlier item{'s' if hidden != 1 else ''} not shown (tail={self.tail})</div>")
        # column-reverse keeps the box scrolled to the bottom, where the newest rows are
        return (f'<div class="xmpplab-stream-view xmpplab-console-stream" style="{FONT};font-size:13px;'
                f"line-height:1.4;color:{BLACK};background:#ffffff;border:1px solid {BORDER};border-radius:6px;"
                f'text-align:left;max-width:100%;overflow:hidden">'
                f'<div style="max-height:{self.height};overflow:auto;display:flex;flex-direction:column-reverse">'
                f"<div>{column_header(view.by_time)}{more}{''.join(rows)}</div></div></div>")

    def _cleanup(self) -> None:
        for name in ("_unwatch", "_unmark"):
            stop = getattr(self, name, None)
            if stop is not None:
                stop()
                setattr(self, name, None)

    def __repr__(self) -> str:
        return (f"<StreamConsole of {self.transcript!r}: kinds {', '.join(sorted(self.kinds))}; "
                f"{len(self.conns)} connections shown{'; closed' if self.closed else ''}>")


def _conn_label(conn) -> str:
    who = conn.jid or (f"{conn.client or '?'} → {conn.server or '?'}" if conn.kind != "c2s" else "not bound yet")
    return f"{conn.id} ({conn.kind}, {who})"


def _block_header(conn, conn_id: str) -> str:
    from ..render.stream_view import connection_header_text

    text = connection_header_text(conn) if conn is not None else conn_id
    return (f'<div style="padding:3px 8px;background:#eaeef2;color:{BLACK};font-weight:600;'
            f'border-top:1px solid {BORDER};{MONO};font-size:12px">{html.escape(text)}</div>')


def live(lab) -> StreamConsole:
    """The Lab's one live view: what happened since the current cell began, updating as stanzas flow.

    The same :class:`StreamConsole` each time it is asked for (a new one if it was closed), so a
    notebook can show it in one cell and keep working below it, or show it again further down.
    """
    if not is_lab(lab):
        raise TypeError(f"live() follows a Lab, not {type(lab).__name__}: live(lab)")
    console = _LIVE.get(lab)
    if console is None or console.closed:
        console = StreamConsole(lab, since="cell")
        _LIVE[lab] = console
    return console
