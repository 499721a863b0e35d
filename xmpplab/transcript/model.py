"""The pieces a transcript is made of: directions, chunks of raw text, and parsed items.

A :class:`Chunk` is text exactly as it crossed the wire in one direction
(one read or one write, plaintext above TLS). An :class:`Item` is one piece
of the parsed view derived from the chunks by the stream core: the stream
header, a stanza, a nonza, the stream close, or a problem. For example the
chunk ``<presence/><iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>``
gives two items::

    <Item c2s-1#7 C→S stanza presence>
    <Item c2s-1#8 C→S stanza iq type='get' id='r1' jabber:iq:roster>
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum

from ..display import Shown
from ..xml import NS_CLIENT, NS_SERVER, NS_STREAM, NS_STREAMS, STANZA_KINDS, split_qname


class TranscriptError(ValueError):
    """A transcript could not be read or used; the message says where and why."""


class Direction(StrEnum):
    """Which way text went: from the initiating entity (the client, or the server that opened
    an s2s stream) to the receiving entity, or back (RFC 6120 section 4.1)."""

    C2S = "C→S"
    S2C = "S→C"

    @property
    def opposite(self) -> Direction:
        """The other direction: S→C for C→S and back."""
        return Direction.S2C if self is Direction.C2S else Direction.C2S

    @classmethod
    def parse(cls, value) -> Direction:
        """Accept ``Direction.C2S``, ``"C→S"``, ``"C->S"``, ``"c2s"`` (and the same for S→C)."""
        if isinstance(value, Direction):
            return value
        text = str(value).strip().upper().replace("->", "→").replace("2", "→")
        for d in cls:
            if text == d.value.upper():
                return d
        raise TranscriptError(f"{value!r} is not a direction: use Direction.C2S ('C→S') or Direction.S2C ('S→C')")

    @classmethod
    def from_recorder(cls, dir_: str, role: str) -> Direction:
        """Turn a recorder's ``dir`` (``in``/``out``, seen from the recording side) into a direction.

        The receiving side (a server) reads what the client sends: its ``in`` is C→S.
        The initiating side (a client) writes what goes to the server: its ``out`` is C→S.
        """
        if dir_ not in ("in", "out"):
            raise TranscriptError(f"dir must be 'in' or 'out', not {dir_!r}")
        inbound = dir_ == "in"
        return cls.C2S if inbound == (role != "initiating") else cls.S2C

    def to_recorder(self, role: str) -> str:
        """The recorder's ``dir`` for this direction when the recording side plays ``role``."""
        return "in" if (self is Direction.C2S) == (role != "initiating") else "out"


class ItemKind(StrEnum):
    """What an item of the parsed view is."""

    STREAM_OPEN = "stream-open"      # <stream:stream ...> (with the XML declaration before it)
    STANZA = "stanza"                # <message/>, <presence/>, <iq/> (RFC 6120 section 8)
    NONZA = "nonza"                  # any other element at depth 1: features, starttls, auth... (XEP-0360)
    STREAM_ERROR = "stream-error"    # <stream:error> (RFC 6120 section 4.9)
    STREAM_CLOSE = "stream-close"    # </stream:stream>
    VIOLATION = "violation"          # text the stream parser refused: not well-formed, restricted XML...
    NON_XML = "non-xml"              # not XML at all, e.g. a TLS ClientHello sent to a plaintext port


PROBLEM_KINDS = frozenset({ItemKind.VIOLATION, ItemKind.NON_XML})


@dataclass(frozen=True, slots=True)
class Chunk:
    """Text as it crossed the wire: one read or one write, in one direction, at time ``t``.

    ``offset`` is where it starts in the text of its direction (characters), ``seq`` its
    position among all the events of the transcript.
    """

    t: float
    conn: str
    direction: Direction
    data: str
    seq: int = 0
    offset: int = 0
    extra: dict | None = None  # fields of the recorder's event that xmpplab does not know

    def __repr__(self) -> str:
        data = self.data if len(self.data) <= 60 else self.data[:57] + "..."
        return f"<Chunk {self.conn} {self.direction} {len(self.data)} chars {data!r}>"


def _attribute(name: str) -> property:
    """A read-only property: the stanza's ``name`` attribute, or None (see :meth:`Item.get`)."""
    return property(lambda item: item.get(name), doc=f"The ``{name}`` attribute of the stanza, or None.")


@dataclass(frozen=True, slots=True, eq=False)
class Item(Shown):
    """One piece of the parsed view of a connection.

    ``text`` is the piece exactly as it crossed the wire (quotes, attribute order and
    namespace declarations as sent), with SASL credentials masked; ``element`` is the
    parsed lxml element (stanzas, nonzas, stream errors), also masked; ``attrs`` are
    the stream header's attributes. :meth:`reveal` gives the item with its credentials.
    ``index`` counts the items of the connection, ``seq`` is the position of the
    event that completed it in the transcript (items of all connections sort by
    ``(seq, index)``), ``chunks`` the first and last chunk (indices in the
    connection) that its text came from.
    """

    conn: str
    direction: Direction
    t: float
    kind: ItemKind
    text: str
    index: int = 0
    seq: int = 0
    element: object = None
    attrs: dict | None = None
    condition: str | None = None  # violations and non-XML: the stream error condition it deserves
    problem: str | None = None  # violations and non-XML: what is wrong, in words
    chunks: tuple = (0, 0)
    masked: bool = False
    _secret: tuple | None = field(default=None, repr=False)

    # --- what it is -------------------------------------------------------
    @property
    def name(self) -> str | None:
        """Local name of the element (``message``, ``starttls``, ``features``; ``stream`` for stream-open)."""
        if self.element is not None:
            return split_qname(self.element.tag)[1]
        return "stream" if self.kind in (ItemKind.STREAM_OPEN, ItemKind.STREAM_CLOSE) else None

    @property
    def ns(self) -> str | None:
        """Namespace of the element (``jabber:client``, ``urn:ietf:params:xml:ns:xmpp-tls``...)."""
        if self.element is not None:
            return split_qname(self.element.tag)[0]
        return NS_STREAM if self.kind in (ItemKind.STREAM_OPEN, ItemKind.STREAM_CLOSE) else None

    @property
    def stanza_kind(self) -> str | None:
        """``message``, ``presence`` or ``iq`` for a stanza; None for anything else."""
        return self.name if self.kind is ItemKind.STANZA else None

    @property
    def payload(self):
        """The first child element (an iq's query, a SASL mechanism list...), or None."""
        if self.element is None:
            return None
        return next((c for c in self.element if isinstance(c.tag, str)), None)

    @property
    def payload_ns(self) -> str | None:
        """Namespace of the first child element: ``jabber:iq:roster`` for a roster query."""
        p = self.payload
        return split_qname(p.tag)[0] if p is not None else None

    def get(self, attr: str, default=None):
        """An attribute of the element, or of the stream header for stream-open."""
        if self.element is not None:
            return self.element.get(attr, default)
        if self.attrs is not None:
            return self.attrs.get(attr, default)
        return default

    type = _attribute("type")
    id = _attribute("id")
    to = _attribute("to")
    from_ = _attribute("from")

    @property
    def is_problem(self) -> bool:
        """True if the item is a problem: text the parser refused, or no XML at all."""
        return self.kind in PROBLEM_KINDS

    @property
    def stream_error(self) -> str | None:
        """For a ``<stream:error>``: its condition (``not-well-formed``, ``host-unknown``...)."""
        if self.kind is not ItemKind.STREAM_ERROR:
            return None
        for child in self.element:
            if isinstance(child.tag, str) and split_qname(child.tag)[0] == NS_STREAMS and \
                    split_qname(child.tag)[1] != "text":
                return split_qname(child.tag)[1]
        return None

    # --- credentials --------------------------------------------------------
    def reveal(self) -> Item:
        """The same item with SASL credentials in the clear (the item itself when none were masked)."""
        if self._secret is None:
            return self
        text, element = self._secret
        return dataclasses.replace(self, text=text, element=element, masked=False, _secret=None)

    def xml(self, reveal_credentials: bool = False) -> str:
        """The wire text of the item; credentials masked unless ``reveal_credentials``."""
        return self.reveal().text if reveal_credentials else self.text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        parts = [f"<Item {self.conn}#{self.index} {self.direction} {self.kind}"]
        if self.kind in (ItemKind.STANZA, ItemKind.NONZA, ItemKind.STREAM_ERROR):
            parts.append(self.name if self.kind is not ItemKind.STREAM_ERROR else self.stream_error or "?")
            for attr in ("type", "id", "to", "from"):
                value = self.get(attr)
                if value is not None:
                    value = value if len(value) <= 24 else value[:21] + "..."
                    parts.append(f"{attr}={value!r}")
            payload_ns = self.payload_ns
            if payload_ns and payload_ns != self.ns and self.kind is not ItemKind.STREAM_ERROR:
                parts.append(payload_ns)
        elif self.kind is ItemKind.STREAM_OPEN:
            parts.extend(f"{k}={v!r}" for k, v in (self.attrs or {}).items() if k in ("from", "to", "id"))
        elif self.problem:
            parts.append(f"{self.condition}: {self.problem[:60]}")
        if self.masked:
            parts.append("(credentials masked)")
        return " ".join(parts) + ">"


#: The recording side's role in the stream (RFC 6120 section 4.1: the initiating or the receiving entity).
ROLES = ("receiving", "initiating")


def check_event(event) -> None:
    """Raise TranscriptError saying what is wrong with an event, if anything."""
    if not isinstance(event, dict):
        raise TranscriptError(f"an event is a JSON object, not {type(event).__name__}")
    for key, kind in (("type", str), ("conn", str)):
        if not isinstance(event.get(key), kind):
            raise TranscriptError(f"the event has no {key!r} (a string)" if key not in event
                                  else f"{key!r} must be a string, not {event[key]!r}")
    t = event.get("t")
    if isinstance(t, bool) or not isinstance(t, (int, float)):
        raise TranscriptError("the event has no 't' (unix time, a number)" if "t" not in event
                              else f"'t' must be a number (unix time), not {t!r}")
    if event["type"] == "data":
        if event.get("dir") not in ("in", "out"):
            raise TranscriptError(f"a data event needs 'dir': 'in' or 'out', not {event.get('dir')!r}")
        if not isinstance(event.get("data"), str):
            raise TranscriptError("a data event needs 'data' (the text, a string)")
    elif event["type"] == "open" and event.get("role") not in (None, *ROLES):
        raise TranscriptError(f"'role' must be 'receiving' or 'initiating', not {event['role']!r}")


def classify(element) -> ItemKind:
    """Stanza, stream error or nonza, from the element's qualified name."""
    ns, name = split_qname(element.tag)
    if name in STANZA_KINDS and ns in (NS_CLIENT, NS_SERVER, "jabber:component:accept"):
        return ItemKind.STANZA
    if ns == NS_STREAM and name == "error":
        return ItemKind.STREAM_ERROR
    return ItemKind.NONZA
