"""The stream negotiation state machine, drawn from the table the negotiators run on.

:data:`xmpplab.negotiation.TRANSITIONS` is the negotiation as data (rows
that unpack as ``(from, trigger, to)``, RFC 6120 sections 4 to 7), the one
table the server, the fake server and the raw client move along; this draws
it, with one state highlighted::

    state_machine()                          # the table alone
    state_machine("sasl")                    # a state by name (or a State)
    state_machine(session)                   # anything with a .state (a C2SSession): that state, read once
    state_machine(t["c2s-1"])                # a recorded connection: the last state it reached,
                                             # and the transitions it took, in order
    state_machine(client)                    # a Client: its recorded connection

Reading a recording, the wire events map onto the table like this: the
client's stream header (``connected → open``, or after SASL
``authenticated → bind``), ``<proceed/>`` (``open → tls``), the next stream
header after TLS (``tls → connected → open``), ``<auth/>`` (``open → sasl``),
``<failure/>`` / ``<success/>``, the bind result (``bind → ready``) and the
stream's end (``→ closed``).
"""

from __future__ import annotations

import textwrap

from ..ns import NS_BIND, NS_SASL, NS_TLS
from . import graphviz_backend
from .graph import PATH_COLOUR
from .graphviz_backend import Figure, dot_attrs, q

__all__ = ["StateMachine", "state_machine", "states_of_connection"]

CURRENT_FILL = "#ffd54f"


def _table():
    from ..negotiation.table import TRANSITIONS, State
    return State, TRANSITIONS


class StateMachine(Figure):
    """The states and transitions of a negotiation table, the ``current`` state and the ``trail`` taken."""

    def __init__(self, transitions, states=None, *, current=None, trail=(), title: str | None = None,
                 source: str | None = None):
        self.transitions = list(transitions)
        if states is None:
            states = list(dict.fromkeys([t[0] for t in self.transitions] + [t[2] for t in self.transitions]))
        self.states = list(states)
        self.current = current
        self.trail = list(trail)
        self.source = source
        self.title = title or "stream negotiation (RFC 6120 sections 4 to 7)"

    def __repr__(self) -> str:
        now = f", current state {_name(self.current)}" if self.current is not None else ""
        return f"<StateMachine {len(self.states)} states, {len(self.transitions)} transitions{now}>"

    @property
    def start(self):
        """The first state, or None when there are none."""
        return self.states[0] if self.states else None

    # --- output ---------------------------------------------------------
    def text(self) -> str:
        """The state machine as plain text: its states (the current one in brackets) and its transitions."""
        lines = [self.title + (f", current state: {_name(self.current)}" if self.current is not None else "")]
        if self.source:
            lines.append(f"(of {self.source})")
        lines.append("states: " + ", ".join(f"[{_name(s)}]" if s == self.current else _name(s) for s in self.states))
        rows = [("from", "trigger", "to", "")]
        taken = {(a, b, c) for a, b, c in self.trail}
        for a, trigger, b in self.transitions:
            mark = "taken" if (a, trigger, b) in taken else ""
            rows.append((_name(a), trigger, _name(b), mark))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        table = ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
        table.insert(1, "  " + "  ".join("-" * w for w in widths[:3]))
        lines.extend(table)
        if self.trail:
            steps = [_name(self.trail[0][0])] + [_name(c) for _, _, c in self.trail]
            lines.append("path taken: " + " → ".join(steps))
        return "\n".join(lines)

    def dot(self) -> str:
        """The state machine as Graphviz DOT, the transitions taken highlighted."""
        taken = {(a, b, c) for a, b, c in self.trail}
        visited = {a for a, _, _ in self.trail} | {c for _, _, c in self.trail}
        out = [f"digraph {q('negotiation')} {{",
               "  graph" + dot_attrs(rankdir="TB", fontname="Helvetica", fontsize="12", label=self.title,
                                     labelloc="t", nodesep="0.5", ranksep="0.45") + ";",
               "  node [fontname=\"Helvetica\", fontsize=\"12\", shape=\"ellipse\"];",
               "  edge [fontname=\"Helvetica\", fontsize=\"9\", color=\"#555555\", fontcolor=\"#333333\"];",
               f"  {q('__start')} [shape=\"point\", width=\"0.12\", label=\"\"];"]
        for s in self.states:
            attrs: dict = {"label": _name(s), "tooltip": _name(s)}
            if _name(s) == "closed":
                attrs["shape"] = "doublecircle"
            if s in visited:
                attrs.update(color="#1565c0", penwidth="1.6")
            if s == self.current:
                attrs.update(style="filled", fillcolor=CURRENT_FILL, color=PATH_COLOUR, penwidth="2.8",
                             label=f"{_name(s)}\n(current)", tooltip=f"{_name(s)}: the current state")
            out.append(f"  {q(_name(s))}{dot_attrs(**attrs)};")
        if self.start is not None:
            out.append(f"  {q('__start')} -> {q(_name(self.start))};")
        for a, trigger, b in self.transitions:
            attrs = {"label": _wrap(trigger), "tooltip": trigger}
            if (a, trigger, b) in taken:
                attrs.update(color="#1565c0", fontcolor="#1565c0", penwidth="2.2")
            if _name(b) == _name(self.start) and a != b:
                attrs["constraint"] = "false"
            out.append(f"  {q(_name(a))} -> {q(_name(b))}{dot_attrs(**attrs)};")
        out.append("}")
        return "\n".join(out) + "\n"

    def svg(self) -> str | None:
        """The state machine as SVG, or None when it cannot be drawn."""
        return graphviz_backend.render_svg(self.dot())

    def png(self) -> bytes | None:
        """The state machine as PNG, or None when it cannot be drawn."""
        return graphviz_backend.render(self.dot(), "png")


def _name(state) -> str:
    return str(getattr(state, "value", state))


def _wrap(text: str, width: int = 26) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def state_machine(current=None, *, transitions=None, states=None, title: str | None = None) -> StateMachine:
    """The negotiation diagram with ``current`` highlighted: a State, its name (``"ready"``), a live
    session (its ``.state``), a transcript Connection or a Client (the state its recording reached)."""
    if transitions is None:
        State, transitions = _table()
        states = list(State) if states is None else states
    else:
        State = None
    trail: list = []
    source = None
    if current is not None:
        if hasattr(current, "parsed") and hasattr(current, "kind"):       # a transcript Connection
            source = f"connection {current.id}"
            current, trail = states_of_connection(current, transitions)
        elif hasattr(current, "transcript") and hasattr(current, "conn") and hasattr(current, "xmpp"):  # a Client
            conn_id = current.conn
            recording = current.transcript
            source = f"{current.jid}'s connection {conn_id}"
            current, trail = states_of_connection(recording[conn_id], transitions)
        elif hasattr(current, "state") and not isinstance(current, str):  # a live session
            source = repr(current)
            current = current.state
        current = _as_state(current, states or [], State)
    return StateMachine(transitions, states, current=current, trail=trail, title=title, source=source)


def _as_state(value, states, State):
    if value is None:
        return None
    for s in states:
        if s == value or _name(s) == _name(value) or (isinstance(value, str) and _name(s) == value.lower()):
            return s
    names = ", ".join(_name(s) for s in states)
    raise ValueError(f"{value!r} is not a state of this table (states: {names})")


def states_of_connection(connection, transitions=None):
    """(last state, transitions taken) of a recorded c2s connection, read from its items."""
    if transitions is None:
        _, transitions = _table()
    by_name = {}
    for a, _, b in transitions:
        by_name.setdefault(_name(a), a)
        by_name.setdefault(_name(b), b)
    state = by_name.get("connected")
    trail: list = []

    def go(to_name: str) -> None:
        nonlocal state
        target = by_name.get(to_name)
        if target is None or target == state:
            return
        for a, trigger, b in transitions:
            if a == state and b == target:
                trail.append((a, trigger, b))
                break
        state = target

    if getattr(connection, "kind", "c2s") != "c2s":
        raise ValueError(f"the negotiation table is for client connections; {connection.id} is {connection.kind}")
    for item in connection.parsed:
        kind, direction, name, ns = str(item.kind), str(item.direction), item.name, item.ns
        now = _name(state)
        if kind == "stream-open" and direction == "C→S":
            if now == "tls":
                go("connected")
                now = "connected"
            if now == "connected":
                go("open")
            elif now == "authenticated":
                go("bind")
        elif kind == "nonza" and direction == "S→C" and ns == NS_TLS and name == "proceed":
            go("tls")
        elif kind == "nonza" and direction == "C→S" and ns == NS_SASL and name == "auth":
            go("sasl")
        elif kind == "nonza" and direction == "S→C" and ns == NS_SASL and name == "failure":
            go("open")
        elif kind == "nonza" and direction == "S→C" and ns == NS_SASL and name == "success":
            go("authenticated")
        elif kind == "stanza" and direction == "S→C" and now == "bind" and name == "iq" and \
                item.type == "result" and item.element is not None and \
                item.element.find(f".//{{{NS_BIND}}}jid") is not None:
            go("ready")
        elif kind in ("stream-close", "stream-error"):
            go("closed")
    if connection.closed is not None:
        go("closed")
    return state, trail
