"""Sequence charts of an exchange: who sent what to whom, in time order.

Participants are the client resources and the servers of the recording
(``balcony`` for juliet@example.com/balcony, ``example.com``); each arrow is
one stanza (or, asked for, a stream header, a nonza such as ``<starttls/>``)
with a short label::

    chart = sequence_chart(t.filter(kind="message"))   # a Selection: exactly those items
    chart = sequence_chart(lab.transcript)             # a Transcript: its stanzas
    chart = sequence_chart(lab.transcript, stanzas_only=False)   # negotiation too
    chart.text()
      #  when     from     to           what
      1  +0.000s  balcony  example.com  message chat 'Art thou not Romeo?'
      2  +0.002s  example.net  orchard  message chat 'Art thou not Romeo?'

The picture is SVG written here (no Graphviz needed): client to server in
green, server to client in black, server to server in blue, as in the
stream view. Hover an arrow for the XML. The same stanza recorded at both
ends of one connection (a Lab records the client's end and the server's)
is drawn once.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from ..ns import NS_STANZAS, SHORT_NAMES
from .graph.recorded import links
from .graphviz_backend import Figure

__all__ = ["Arrow", "Participant", "SequenceChart", "describe_item", "sequence_chart"]

NS_SHORT = SHORT_NAMES
COLOURS = {"C→S": "#2e7d32", "S→C": "#222222", "s2s": "#1565c0"}
MAX_LABEL = 44


@dataclass(frozen=True)
class Participant:
    """One lifeline: ``id`` is the node id of the routing graph (full JID, domain), ``label`` what is shown."""

    id: str
    label: str
    kind: str
    sublabel: str = ""


@dataclass(frozen=True)
class Arrow:
    """One thing sent: ``number`` from 1, ``src`` and ``dst`` participant ids, a short ``label``."""

    number: int
    src: str
    dst: str
    label: str
    kind: str          # "c2s" or "s2s"
    direction: str     # "C→S" or "S→C" on its connection
    t: float | None = None
    item: object = field(default=None, compare=False, repr=False)


def _local(tag) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _child(el, name: str):
    if el is None:
        return None
    return next((c for c in el if _local(c.tag) == name), None)


def _error_condition(el) -> str | None:
    err = _child(el, "error")
    if err is None:
        return None
    return next((_local(c.tag) for c in err if isinstance(c.tag, str) and c.tag.startswith(f"{{{NS_STANZAS}}}")
                 and _local(c.tag) != "text"), None)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def describe_item(item) -> str:
    """A short label: ``iq get roster``, ``presence subscribe``, ``message chat 'hi'``, ``<starttls/>``."""
    kind = str(item.kind)
    el = item.element
    if kind == "stanza":
        name, type_ = item.name, item.type
        if name == "iq":
            if type_ == "error":
                return f"iq error {_error_condition(el) or ''}".strip()
            payload = item.payload
            what = NS_SHORT.get(item.payload_ns or "", _local(payload.tag) if payload is not None else "")
            return f"iq {type_ or '?'} {what}".strip()
        if name == "message":
            if type_ == "error":
                return f"message error {_error_condition(el) or ''}".strip()
            body = _child(el, "body")
            text = f"message {type_ or 'normal'}"
            if body is not None and body.text:
                text += f" '{_short(body.text, 24)}'"
            elif _child(el, "subject") is not None:
                text += " (subject)"
            return text
        if type_ == "error":
            return f"presence error {_error_condition(el) or ''}".strip()
        show = _child(el, "show")
        text = f"presence {type_}" if type_ else "presence"
        if show is not None and show.text:
            text += f" {show.text.strip()}"
        return text
    if kind == "stream-open":
        return "<stream:stream>"
    if kind == "stream-close":
        return "</stream:stream>"
    if kind == "stream-error":
        return f"stream error: {item.stream_error or '?'}"
    if kind in ("violation", "non-xml"):
        return f"{kind}: {item.condition or '?'}"
    name = item.name or "?"
    if name == "features" and el is not None:
        offered = [_local(c.tag) for c in el if isinstance(c.tag, str)]
        return "features: " + ", ".join(offered) if offered else "features (none)"
    if name == "auth" and el is not None and el.get("mechanism"):
        return f"<auth {el.get('mechanism')}>"
    if name == "failure" and el is not None:
        cond = next((_local(c.tag) for c in el if isinstance(c.tag, str) and _local(c.tag) != "text"), None)
        return f"<failure/> {cond}" if cond else "<failure/>"
    return f"<{name}/>"


class SequenceChart(Figure):
    """Participants and arrows in time order; ``svg()`` draws it (no Graphviz), ``text()`` lists it."""

    def __init__(self, participants, arrows, *, title: str = "sequence chart", omitted: int = 0):
        self.participants: list[Participant] = list(participants)
        self.arrows: list[Arrow] = list(arrows)
        self.title = title
        self.omitted = omitted

    def __repr__(self) -> str:
        who = ", ".join(p.label for p in self.participants)
        return f"<SequenceChart {len(self.arrows)} arrows between {who or 'nobody'}>"

    def __len__(self) -> int:
        return len(self.arrows)

    def _labels(self) -> dict[str, str]:
        return {p.id: p.label for p in self.participants}

    # --- text -----------------------------------------------------------
    def text(self) -> str:
        """The chart as plain text: its participants and one row per arrow."""
        labels = self._labels()
        head = [f"{self.title}: {len(self.arrows)} arrow{'s' if len(self.arrows) != 1 else ''}"]
        named = [f"{p.label} = {p.id}" if p.label != p.id else p.label for p in self.participants]
        head.append("participants: " + ", ".join(named))
        if not self.arrows:
            return "\n".join(head + ["  (nothing was sent)"])
        t0 = next((a.t for a in self.arrows if a.t is not None), None)
        rows = [("#", "when", "from", "to", "what")]
        for a in self.arrows:
            when = f"+{a.t - t0:.3f}s" if a.t is not None and t0 is not None else ""
            rows.append((str(a.number), when, labels.get(a.src, a.src), labels.get(a.dst, a.dst), a.label))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
        lines.insert(1, "  " + "  ".join("-" * w for w in widths))
        tail = [f"  … {self.omitted} more not shown"] if self.omitted else []
        return "\n".join(head + lines + tail)

    # --- SVG ------------------------------------------------------------
    def svg(self) -> str:
        """The chart as SVG."""
        return _svg(self)


def _text_width(text: str, size: float) -> float:
    return len(text) * size * 0.62


def _svg(chart: SequenceChart) -> str:
    e = html.escape
    parts = chart.participants
    left, top, head_h, row_h = 92, 12, 42, 30
    widest = max([_text_width(a.label, 12) for a in chart.arrows] + [0])
    head_w = max([_text_width(p.label, 13) for p in parts] + [_text_width(p.sublabel, 10) for p in parts] + [60])
    step = min(max(widest + 36, head_w + 24, 130), 340)
    x = {p.id: left + head_w / 2 + 10 + i * step for i, p in enumerate(parts)}
    width = int(left + head_w + 20 + step * max(len(parts) - 1, 0) + 40)
    first_row = top + head_h + 26
    height = int(first_row + row_h * len(chart.arrows) + (22 if chart.omitted else 0) + 14)
    t0 = next((a.t for a in chart.arrows if a.t is not None), None)
    mk = {key: f"arrow-{i}" for i, key in enumerate(COLOURS)}
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
            f'role="img" aria-label="{e(chart.title, quote=True)}">')
    out = [head, f"<title>{e(chart.title)}</title>", "<defs>"]
    for key, colour in COLOURS.items():
        out.append(f'<marker id="{mk[key]}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
                   f'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/>'
                   "</marker>")
    out.append("</defs>")
    out.append(f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>')
    bottom = height - 10
    for p in parts:
        cx = x[p.id]
        fill = "#dde8f5" if p.kind == "server" else "#fff6d5"
        out.append(f'<g class="participant {e(p.kind)}"><title>{e(p.id)}</title>'
                   f'<line x1="{cx:.1f}" y1="{top + head_h}" x2="{cx:.1f}" y2="{bottom}" stroke="#b0b0b0" '
                   'stroke-dasharray="4 3"/>'
                   f'<rect x="{cx - head_w / 2:.1f}" y="{top}" width="{head_w:.1f}" height="{head_h}" rx="5" '
                   f'fill="{fill}" stroke="#777"/>'
                   f'<text x="{cx:.1f}" y="{top + (18 if p.sublabel else 26)}" text-anchor="middle" '
                   f'font-size="13" font-weight="bold">{e(p.label)}</text>')
        if p.sublabel:
            out.append(f'<text x="{cx:.1f}" y="{top + 33}" text-anchor="middle" font-size="10" '
                       f'fill="#555">{e(p.sublabel)}</text>')
        out.append("</g>")
    for i, a in enumerate(chart.arrows):
        y = first_row + i * row_h
        colour_key = "s2s" if a.kind == "s2s" else a.direction
        colour = COLOURS.get(colour_key, "#222222")
        x1, x2 = x[a.src], x[a.dst]
        tip = getattr(a.item, "text", "") or a.label
        tip = tip if len(tip) <= 600 else tip[:600] + "…"
        when = f"+{a.t - t0:.3f}s" if a.t is not None and t0 is not None else ""
        out.append(f'<g class="arrow {e(a.kind)}"><title>{e(tip)}</title>')
        out.append(f'<text x="6" y="{y + 4}" font-size="10" fill="#888">{a.number}</text>'
                   f'<text x="{left - 8}" y="{y + 4}" font-size="10" fill="#888" text-anchor="end">{when}</text>')
        if x1 == x2:  # to itself: a small loop
            out.append(f'<path d="M{x1:.1f},{y - 6} h28 v12 h-26" fill="none" stroke="{colour}" '
                       f'stroke-width="1.4" marker-end="url(#{mk[colour_key]})"/>'
                       f'<text x="{x1 + 34:.1f}" y="{y + 4}" font-size="12" fill="{colour}">{e(a.label)}</text>')
        else:
            end = x2 - 2 if x2 > x1 else x2 + 2
            out.append(f'<line x1="{x1:.1f}" y1="{y}" x2="{end:.1f}" y2="{y}" stroke="{colour}" stroke-width="1.4" '
                       f'marker-end="url(#{mk[colour_key]})"/>'
                       f'<text x="{(x1 + x2) / 2:.1f}" y="{y - 5}" text-anchor="middle" font-size="12" '
                       f'fill="{colour}" stroke="white" stroke-width="3" paint-order="stroke">{e(a.label)}</text>')
        out.append("</g>")
    if chart.omitted:
        y = first_row + len(chart.arrows) * row_h
        out.append(f'<text x="{left}" y="{y}" font-size="11" fill="#8a5300">… {chart.omitted} more not drawn '
                   "(use limit= or a narrower selection)</text>")
    out.append("</svg>")
    return "\n".join(out)


# ---------------------------------------------------------------------- building
def sequence_chart(source, *, stanzas_only: bool | None = None, limit: int = 200, transcript=None,
                   title: str | None = None) -> SequenceChart:
    """A sequence chart of a Transcript (its stanzas; ``stanzas_only=False`` for everything), a
    Connection, a Selection (exactly its items) or a list of items with ``transcript=``.
    At most ``limit`` arrows are drawn; the rest are counted."""
    if hasattr(source, "connections"):          # a Transcript
        transcript = source
        items = source.items()
        stanzas_only = True if stanzas_only is None else stanzas_only
    elif hasattr(source, "parsed") and hasattr(source, "kind"):  # a Connection
        transcript = source.transcript if source.transcript is not None else _alone(source)
        items = source.parsed
        stanzas_only = True if stanzas_only is None else stanzas_only
    else:                                       # a Selection or a list of items
        transcript = transcript or getattr(source, "source", None)
        items = list(source)
        if transcript is None:
            raise TypeError("sequence_chart() needs the Transcript these items come from: transcript=t")
    all_links = links(transcript)
    link_of = {cid: link for link in all_links for cid in link.conns}
    chosen: dict[int, str] = {}  # link -> the recording used for it (the first one seen)
    participants: dict[str, Participant] = {}
    home: dict[str, str] = {}  # client -> its server
    arrows: list[Arrow] = []
    omitted = 0
    for item in items:
        if stanzas_only and str(item.kind) != "stanza":
            continue
        link = link_of.get(item.conn)
        if link is None:
            continue
        if chosen.setdefault(id(link), item.conn) != item.conn:
            continue  # the other end's recording of the same connection
        if len(arrows) >= limit:
            omitted += 1
            continue
        src, dst = link.ends(item.direction)
        if link.kind == "c2s":
            home.setdefault(link.src, link.dst)
        for node in (src, dst):
            if node not in participants:
                kind = link.kind_of(node)
                sub = node.partition("/")[0] if kind == "resource" else ""
                participants[node] = Participant(node, link.label_of(node), kind, sub)
        arrows.append(Arrow(len(arrows) + 1, src, dst, describe_item(item), link.kind, str(item.direction),
                            item.t, item))
    parts = _unique_labels(_order(list(participants.values()), home))
    return SequenceChart(parts, arrows, title=title or "sequence chart", omitted=omitted)


def _alone(connection):
    """A connection without a transcript: wrap it so the link helpers can read it."""
    from types import SimpleNamespace

    return SimpleNamespace(connections={connection.id: connection})


def _order(parts: list[Participant], home: dict[str, str]) -> list[Participant]:
    """Servers in the middle, in the order they appear; the first server's first client on its left,
    every other client right of its server: ``pc  server1.com  server2.com  phone1``."""
    servers = [p for p in parts if p.kind == "server"]
    if not servers:
        return parts
    clients = [p for p in parts if p.kind != "server"]
    first = servers[0].id
    left = [p for p in clients if home.get(p.id) == first][:1] if len(servers) == 1 else \
        [p for p in clients if home.get(p.id) == first]
    order = list(left)
    for s in servers:
        order.append(s)
        order.extend(p for p in clients if p not in left and home.get(p.id) == s.id)
    order.extend(p for p in clients if p not in order)
    return order


def _unique_labels(parts: list[Participant]) -> list[Participant]:
    """Two resources named ``pc`` (of different accounts) are shown by their full JIDs."""
    count = {}
    for p in parts:
        count[p.label] = count.get(p.label, 0) + 1
    return [p if count[p.label] == 1 else Participant(p.id, p.id, p.kind, "") for p in parts]

