"""The replay stepper: previous / next / a slider over a transcript, with the current stanza's path drawn.

In a notebook cell::

    from xmpplab.widgets import StepperWidget
    StepperWidget("sample_streams/juliet-login-starttls-scram.jsonl")   # every item of a recording
    stepper = StepperWidget(lab, kinds="stanza")    # the stanzas the Lab's server saw so far

Each step shows where it is (which connection, which direction, what
answered it or what it answers, with buttons to jump there), the items
around it in two columns with the current one highlighted, the current
item's XML with its explanation and RFC section, and the routing graph with
the path the current stanza took drawn in red and numbered, hop by hop (see
:func:`xmpplab.render.stanza_path`). Stream negotiation items (headers,
STARTTLS, SASL) stay on their own connection, so the graph then shows the
connections without a path.

From Python the same state::

    stepper.next(); stepper.prev(); stepper.seek(4)
    stepper.find(kind="message")   # the first message
    stepper.step            # the xmpplab.replay Step: item, connection, reply, prompt
    stepper.path.nodes      # ['juliet@example.com/balcony', 'example.com', 'example.net', 'romeo@example.net/orchard']
    stepper.graph_html      # the routing graph as shown (inline SVG)

Built from a Lab, the stepper takes the server's side of each client stream
(the clients record the same streams again) and **reload** picks up what
happened since.
"""

from __future__ import annotations

from ..render.palette import BLACK, BORDER, FONT, GREEN, GREEN_TEXT, HIGHLIGHT, MONO, MUTED
from ..replay.step import Stepper
from ..transcript.model import Direction, ItemKind
from ._base import LiveWidget, W, box, esc, is_lab, messages_html, server_side, widget_value

__all__ = ["StepperWidget"]


class StepperWidget(LiveWidget):
    """Buttons and a slider over the items of a transcript; the current one explained, its path drawn.

    ``source`` is a Transcript, a file path, a Lab (its recording, server side)
    or a :class:`~xmpplab.replay.Stepper`; ``kinds``, ``conn`` and the other
    criteria choose the items as for :class:`~xmpplab.replay.Stepper`
    (``kinds="stanza"`` keeps only stanzas). ``context`` is how many items
    before and after the current one are listed; ``graph=False`` leaves the
    routing graph out. See the module docstring for an example.
    """

    def __init__(self, source, *, kinds=None, conn=None, context: int = 3, graph: bool = True, **criteria):
        super().__init__()
        self.source = source
        self.context = context
        self.show_graph = graph
        self._criteria = dict(criteria, kinds=kinds, conn=conn)
        self._start_background(getattr(source, "_loop", None))
        self._moving = False
        self.stepper = self._make_stepper()
        self.first_w = W.Button(icon="fast-backward", tooltip="first", layout=W.Layout(width="3em"))
        self.prev_w = W.Button(description="previous", icon="step-backward", layout=W.Layout(width="8em"))
        self.prev_w.add_class("xmpplab-prev")
        self.next_w = W.Button(description="next", icon="step-forward", layout=W.Layout(width="8em"))
        self.next_w.add_class("xmpplab-next")
        self.last_w = W.Button(icon="fast-forward", tooltip="last", layout=W.Layout(width="3em"))
        self.slider_w = W.IntSlider(min=1, max=max(1, len(self.stepper)), value=1, description="step",
                                    continuous_update=True, style={"description_width": "3em"},
                                    layout=W.Layout(width="min(40em, 100%)"))
        self.reply_w = W.Button(description="go to the answer", icon="share", layout=W.Layout(width="auto"))
        self.prompt_w = W.Button(description="go to the request", icon="reply", layout=W.Layout(width="auto"))
        self.reload_w = W.Button(description="reload", icon="refresh", tooltip="take in what was recorded since",
                                 layout=W.Layout(width="auto", display=None if is_lab(source) else "none"))
        self.header_w = W.HTML()
        self.strip_w = W.HTML()
        self.item_w = W.HTML()
        self.graph_w = W.HTML()
        self.graph_w.add_class("xmpplab-stepper-graph")
        self.add_class("xmpplab-stepper")
        self.first_w.on_click(lambda _b: self.seek(0))
        self.prev_w.on_click(lambda _b: self.prev())
        self.next_w.on_click(lambda _b: self.next())
        self.last_w.on_click(lambda _b: self.seek(-1))
        self.reply_w.on_click(lambda _b: self._jump("reply"))
        self.prompt_w.on_click(lambda _b: self._jump("prompt"))
        self.reload_w.on_click(lambda _b: self.reload())
        self.slider_w.observe(self._slid, names="value")
        self.children = [
            W.HTML(f'<b style="{FONT};font-size:14px">Replay stepper</b> '
                   f'<span style="{FONT};font-size:12px;color:{MUTED}">{esc(self._title())}</span>'),
            W.HBox([self.first_w, self.prev_w, self.next_w, self.last_w, self.slider_w],
                   layout=W.Layout(flex_flow="row wrap", align_items="center")),
            W.HBox([self.header_w, self.prompt_w, self.reply_w, self.reload_w],
                   layout=W.Layout(flex_flow="row wrap", align_items="center")),
            self.strip_w,
            self.item_w,
            self.graph_w,
        ]
        if len(self.stepper):
            self.stepper.seek(0)
        self._show()

    # ------------------------------------------------------------------ the items
    def _make_stepper(self) -> Stepper:
        if isinstance(self.source, Stepper):
            return self.source
        criteria = dict(self._criteria)
        kinds, conn = criteria.pop("kinds"), criteria.pop("conn")
        transcript = self.source.transcript if is_lab(self.source) else self.source
        if conn is None and hasattr(transcript, "connections"):
            conn = server_side(transcript)
        return Stepper(transcript, conn=conn, kinds=kinds, **criteria)

    def _title(self) -> str:
        t = self.transcript
        who = getattr(t, "recorded_by", None)
        return f"{len(self.stepper)} {self.stepper.noun}s" + (f" of a transcript recorded by {who}" if who else "")

    @property
    def transcript(self):
        """The transcript being stepped through."""
        return self.stepper.transcript

    def __len__(self) -> int:
        return len(self.stepper)

    # ------------------------------------------------------------------ moving
    @property
    def position(self) -> int:
        """The current position, 0-based (-1 when there is nothing to show)."""
        return self.stepper.position

    @property
    def step(self):
        """The current :class:`~xmpplab.replay.Step` (None when there is nothing to show)."""
        return self.stepper.current

    @property
    def item(self):
        """The item of the current step, or None when there is nothing to show."""
        step = self.step
        return step.item if step is not None else None

    def next(self):
        """One step forward (stays on the last); returns the Step."""
        if self.position + 1 < len(self.stepper):
            self.stepper.next()
            self._show()
        return self.step

    def prev(self):
        """One step back (stays on the first); returns the Step."""
        if self.position > 0:
            self.stepper.prev()
            self._show()
        return self.step

    def seek(self, where):
        """Go to a position (0-based; -1 is the last) or to an Item of the selection; returns the Step."""
        if not len(self.stepper):
            return None
        self.stepper.seek(where)
        self._show()
        return self.step

    def find(self, **criteria):
        """Go to the first item matching ``criteria`` (those of :meth:`Transcript.items
        <xmpplab.transcript.Transcript.items>`: ``kind="message"``, ``type="result"``, ``direction="S→C"``...);
        returns the Step. Raises LookupError when none matches."""
        from ..transcript.query import Criteria

        wanted = Criteria.make(**criteria)
        for position, item in enumerate(self.stepper.items):
            if wanted.matches(item):
                return self.seek(position)
        raise LookupError(f"none of the {len(self.stepper)} {self.stepper.noun}s matches {criteria}")

    def _jump(self, which: str) -> None:
        step = self.step
        if step is None:
            return
        position = step.reply_position if which == "reply" else step.prompt_position
        if position is not None:
            self.seek(position)

    def _slid(self, change) -> None:
        if not self._moving and len(self.stepper):
            self.seek(change["new"] - 1)

    def reload(self) -> None:
        """Take in what the Lab recorded since (stays on the same item when it is still there)."""
        current = self.item
        self.stepper = self._make_stepper()
        self._moving = True
        try:
            self.slider_w.max = max(1, len(self.stepper))
        finally:
            self._moving = False
        if len(self.stepper):
            try:
                self.stepper.seek(current) if current is not None else self.stepper.seek(0)
            except IndexError:
                self.stepper.seek(0)
        self._show()

    # ------------------------------------------------------------------ what is shown
    @property
    def path(self):
        """The current stanza's :class:`~xmpplab.render.graph.StanzaPath` (None for other items, or when
        it cannot be followed)."""
        return self._path()[0]

    def _path(self):
        item = self.item
        if item is None or item.kind is not ItemKind.STANZA:
            return None, None
        key = (item.conn, item.index)
        cached = getattr(self, "_path_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        from ..render.graph import stanza_path

        try:
            path, why = stanza_path(self.transcript, item), None
        except (ValueError, TypeError) as exc:
            path, why = None, str(exc)
        self._path_cache = (key, path, why)
        return path, why

    @property
    def graph(self):
        """The routing graph shown: with the current stanza's path highlighted when there is one."""
        from ..render.graph import routing_graph

        path = self.path
        if path:
            return path.graph
        return routing_graph(self.transcript)

    graph_html = widget_value("graph_w", "The routing graph as shown.")
    current_html = widget_value("item_w", "The current item as shown: its XML and explanation.")

    @property
    def header_text(self) -> str:
        """``stanza 3 of 8: C→S message chat 'hi' on c2s-1 — answered by stanza 4``."""
        step = self.step
        if step is None:
            return "nothing to step through"
        context = f" — {step.context}" if step.context else ""
        return f"{step.noun} {step.number} of {step.total}: {step.describe()}{context}"

    def _show(self) -> None:
        if self.closed:
            return
        step = self.step
        n = len(self.stepper)
        self._moving = True
        try:
            self.slider_w.max = max(1, n)
            self.slider_w.value = (step.number if step is not None else 1)
        finally:
            self._moving = False
        self.slider_w.disabled = n <= 1
        at_start, at_end = step is None or step.position == 0, step is None or step.position == n - 1
        self.first_w.disabled = self.prev_w.disabled = at_start
        self.last_w.disabled = self.next_w.disabled = at_end
        self.reply_w.disabled = step is None or step.reply_position is None
        self.prompt_w.disabled = step is None or step.prompt_position is None
        self.header_w.value = f'<span style="{FONT};font-size:13px;margin-right:8px">{esc(self.header_text)}</span>'
        if step is None:
            self.strip_w.value = box(f'<span style="color:{MUTED}">No items match: nothing was recorded yet, or '
                                     "the criteria leave nothing.</span>")
            self.item_w.value = self.graph_w.value = ""
            return
        self.strip_w.value = self._strip()
        self.item_w.value = self._card()
        self.graph_w.value = self._graph_html() if self.show_graph else ""

    def _strip(self) -> str:
        """The items around the current one, one line each, in their column; the current one highlighted."""
        from ..render.stream_view import item_summary

        pos, items = self.position, self.stepper.items
        lo, hi = max(0, pos - self.context), min(len(items), pos + self.context + 1)
        rows = []
        for n in range(lo, hi):
            item = items[n]
            what, details = item_summary(item)
            # the body first (it says most), long random ids left out
            details = sorted((d for d in details if d and not d.startswith("id ")), key=lambda d: d[:1] != "“")
            c2s = item.direction is Direction.C2S
            current = n == pos
            text = (f'<span style="{MONO};font-size:12px;font-weight:{700 if current else 400};'
                    f'color:{GREEN_TEXT if c2s else BLACK}">{esc(item.direction)} {esc(what)}</span>'
                    f' <span style="color:{MUTED};font-size:12px">{esc(" · ".join(details)[:100])}'
                    "</span>")
            cell = f'<div style="flex:1 1 0;min-width:0;padding:1px 6px;overflow:hidden;white-space:nowrap;' \
                   f'text-overflow:ellipsis">{text}</div>'
            empty = '<div style="flex:1 1 0;min-width:0"></div>'
            marker = "▶" if current else ""
            style = f"background:{HIGHLIGHT};outline:2px solid #d4a72c;" if current else ""
            rows.append(f'<div class="{"xmpplab-current" if current else ""}" style="display:flex;'
                        f'align-items:center;border-top:1px solid #eaeef2;{style}">'
                        f'<div style="flex:0 0 4.5em;color:{MUTED};font-size:11px;{MONO};text-align:right;'
                        f'padding-right:4px">{marker} {n + 1}</div>'
                        f"{cell + empty if c2s else empty + cell}</div>")
        head = (f'<div style="display:flex;font-weight:700;font-size:12px;border-bottom:2px solid {BORDER}">'
                f'<div style="flex:0 0 4.5em"></div><div style="flex:1 1 0;color:{GREEN_TEXT};padding:0 6px">'
                f'C→S client → server</div><div style="flex:1 1 0;padding:0 6px">S→C server → client</div></div>')
        more_before = f"… {lo} before" if lo else ""
        more_after = f"… {len(items) - hi} after" if hi < len(items) else ""
        note = " · ".join(x for x in (more_before, more_after) if x)
        tail = f'<div style="color:{MUTED};font-size:11px;padding:1px 6px">{note}</div>' if note else ""
        return box(head + "".join(rows) + tail, extra="padding:4px 4px")

    def _card(self) -> str:
        from ..render.explain import ExplainContext
        from ..render.stream_view import StreamView, render_cell

        view = StreamView([], expand=True, explanations=True, page_size=None, max_height=None)
        view.context = ExplainContext(self.transcript)
        step = self.step
        conn = step.connection
        where = f"on {step.conn}" + (f" ({conn.jid})" if getattr(conn, "jid", None) else "")
        return (f'<div style="{FONT};font-size:13px;margin:4px 0"><div style="color:{MUTED};font-size:12px">'
                f"{esc(step.noun)} {step.number} of {step.total}, {esc(where)}</div>"
                f'<div class="xmpplab-current-item" style="outline:2px solid #d4a72c;border-radius:4px">'
                f"{render_cell(view, step.item)}</div></div>")

    def _graph_html(self) -> str:
        path, why = self._path()
        try:
            graph = path.graph if path else None
            if graph is None:
                from ..render.graph import routing_graph
                graph = routing_graph(self.transcript)
            # scaled to the width of the output (Graphviz gives the SVG a fixed size in points)
            picture = graph._repr_html_().replace("<svg ", '<svg style="max-width:100%;height:auto" ', 1)
        except Exception as exc:  # noqa: BLE001 - a picture must never break the stepper
            return box(messages_html([f"The routing graph could not be drawn: {type(exc).__name__}: {exc}"]))
        item = self.item
        if path:
            hops = " → ".join(f"{h.number} {h.label}" for h in path)
            note = (f'<b style="color:#d32f2f">The path of this stanza</b>, hop by hop: {esc(hops)} '
                    f'<span style="color:{MUTED}">(red in the graph)</span>')
        elif item.kind is ItemKind.STANZA:
            note = f'<span style="color:{MUTED}">No path for this stanza: {esc(why or "not found")}</span>'
        else:
            note = (f'<span style="color:{MUTED}">This is part of the stream itself on {esc(item.conn)}: it stays on '
                    "that one connection, so there is no path through the servers to draw. Step to a stanza "
                    "(message, presence, iq) to see its path.</span>")
        return box(f'<div style="margin-bottom:4px">{note}</div>{picture}',
                   extra=f"border-left:4px solid {GREEN if path else BORDER}")

    def __repr__(self) -> str:
        return f"<StepperWidget {self.header_text}>"
