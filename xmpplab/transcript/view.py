"""The parsed view of one connection, built incrementally from its chunks by the stream core.

Each direction has its own :class:`~xmpplab.stream.StreamParser` (the one the
server uses) and a :class:`~xmpplab.transcript.wire.WireSplitter` that finds
the exact source text of what the parser reports. Both directions restart
(RFC 6120 sections 5.4.3.3 and 6.4.6) when the receiving entity sends::

    <proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>     (then TLS, then new stream headers)
    <success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>    (then new stream headers)
    <compressed xmlns='http://jabber.org/protocol/compress'/>   (XEP-0138)

TLS handshake bytes never appear: recordings are of the plaintext above TLS.

Bad input does not stop the view. A chunk that is not XML at all (say the
ClientHello of a client trying direct TLS on a plaintext port) becomes a
``non-xml`` item; text the parser refuses becomes a ``violation`` item
carrying the stream error condition the server would send. After either, the
view resumes at the next chunk of that direction: a new stream header there
starts a new stream, anything else is read as if the stream were still open.
A connection that closes in the middle of an element gets a ``violation``
item saying the text was truncated.
"""

from __future__ import annotations

import re
from collections import deque

from ..ns import NS_BIND, NS_CLIENT, NS_COMPRESS, NS_SASL, NS_SERVER, NS_STREAM, NS_TLS
from ..stream import StreamClosed, StreamOpened, StreamParser, StreamViolation
from ..xml import serialize, split_qname
from . import mask
from .model import Chunk, Direction, Item, ItemKind, classify
from .wire import WireSplitter

RESTARTS = {f"{{{NS_TLS}}}proceed", f"{{{NS_SASL}}}success", f"{{{NS_COMPRESS}}}compressed"}
MAX_STANZA_CHARS = 16 * 1024 * 1024  # a transcript shows what crossed the wire, even when a server would refuse it
_HEADER_STARTS = ("<?xml", "<stream:stream")
_STREAM_TAG = re.compile(r"<(?:[\w.-]+:)?stream[\s>]")
_CONTROL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {"\ufffd", "\ufffe", "\uffff"}


def looks_like_header(text: str) -> bool:
    """Does this text begin a stream (an XML declaration, ``<stream:stream`` or another prefix's)?"""
    s = text.lstrip("\ufeff \t\r\n")
    return s.startswith(_HEADER_STARTS) or _STREAM_TAG.match(s) is not None


def _is_non_xml(text: str) -> bool:
    s = text.lstrip("\ufeff \t\r\n")
    return bool(s) and (s[0] != "<" or any(c in _CONTROL for c in s[:64]))


class _Side:
    """Parser state for one direction."""

    __slots__ = (
        "default_ns",
        "direction",
        "events",
        "first_chunk",
        "offset",
        "parser",
        "pieces",
        "reported",
        "serialize_only",
        "splitter",
        "started",
        "state",
    )

    def __init__(self, direction: Direction, default_ns: str):
        self.direction = direction
        self.default_ns = default_ns
        self.offset = 0  # characters of this direction seen so far
        self.restart(0)

    def restart(self, base: int, assume_open: bool = False) -> None:
        """A new stream starts at position ``base`` (or, with ``assume_open``, we join one already open)."""
        self.parser = StreamParser(max_stanza_bytes=MAX_STANZA_CHARS * 4)
        self.splitter = WireSplitter(base, depth=1 if assume_open else 0)
        self.events: deque = deque()
        self.pieces: deque = deque()
        self.reported = base  # position just after the last piece that became an item
        self.started = False  # has text other than whitespace been fed since the restart?
        self.first_chunk = None  # the chunk where the text of the next item began
        self.serialize_only = False  # the splitter lost track: show re-serialised elements
        # new: expecting a stream header; open: inside a stream;
        # broken: after a violation or a stream close, resume at the next chunk
        self.state = "new"
        if assume_open:
            self.parser.feed(f"<stream:stream xmlns='{self.default_ns}' xmlns:stream='{NS_STREAM}'>")
            self.state = "open"


class ConnectionView:
    """Turns the chunks of one connection into :class:`Item` objects, one chunk at a time."""

    def __init__(self, connection):
        self.connection = connection
        default_ns = NS_SERVER if connection.kind == "s2s" else NS_CLIENT
        self.sides = {d: _Side(d, default_ns) for d in Direction}
        self.count = 0
        self.edits = {d: [] for d in Direction}  # where credentials are, in each direction's text

    # ------------------------------------------------------------------
    def feed(self, chunk: Chunk, index: int) -> list[Item]:
        """Parse one more chunk (``index`` is its position in the connection); return the new items."""
        side = self.sides[chunk.direction]
        start = side.offset
        side.offset += len(chunk.data)
        return self._feed(side, chunk.data, start, chunk, index)

    def finish(self, chunk_index: int, t: float, seq: int) -> list[Item]:
        """The connection closed: flag any element left unfinished in either direction."""
        items = []
        for side in self.sides.values():
            rest = side.splitter.pending(side.reported)
            if side.state in ("new", "open") and rest.strip():
                items.append(self._problem(side, "violation", rest, "not-well-formed",
                                           "the connection closed in the middle of this text (truncated)",
                                           t, seq, chunk_index, start=side.reported))
                side.state = "broken"
        return items

    # ------------------------------------------------------------------
    def _feed(self, side: _Side, text: str, start: int, chunk: Chunk, index: int) -> list[Item]:
        has_text = bool(text.strip())
        if side.state == "broken":
            if not has_text:
                return []
            side.restart(start, assume_open=not looks_like_header(text) and not _is_non_xml(text))
        elif side.state == "new" and not side.started and has_text and self.connection.headerless \
                and not looks_like_header(text) and not _is_non_xml(text):
            side.restart(start, assume_open=True)
        if has_text and not side.started and side.state == "new" and _is_non_xml(text):
            side.state = "broken"
            return [self._problem(side, "non-xml", text, "not-well-formed",
                                  "this is not XML (binary data, or TLS sent to a plaintext stream?)",
                                  chunk.t, chunk.seq, index, start=start, first=index)]
        side.started = side.started or has_text
        if side.first_chunk is None and has_text:
            side.first_chunk = index
        side.events.extend(side.parser.feed(text))
        side.pieces.extend(side.splitter.feed(text))
        items: list[Item] = []
        while side.events:
            event = side.events.popleft()
            if isinstance(event, StreamViolation):
                bad = side.splitter.pending(side.reported)
                items.append(self._problem(side, "violation", bad, event.condition, event.text,
                                           chunk.t, chunk.seq, index, start=side.reported))
                side.state = "broken"
                return items
            piece = self._piece_for(side, event)
            items.append(self._item(side, event, piece, chunk, index))
            side.reported = piece.end if piece is not None else side.splitter.position
            if isinstance(event, StreamOpened):
                side.state = "open"
                side.default_ns = event.default_ns or side.default_ns
            elif isinstance(event, StreamClosed):
                side.state = "broken"  # anything after the close starts over
                return items
            elif side.direction is Direction.S2C and event.element.tag in RESTARTS:
                # Both streams restart here; what follows in this chunk belongs to the new stream.
                rest_at = side.reported
                for s in self.sides.values():
                    s.restart(rest_at if s is side else s.offset)
                rest = text[rest_at - start:] if piece is not None else ""
                if rest.strip():
                    items.extend(self._feed(side, rest, rest_at, chunk, index))
                return items
        if items:  # the text after the last item, if any, began in this chunk
            side.first_chunk = index if side.splitter.pending(side.reported).strip() else None
        side.splitter.trim(side.reported)
        return items

    def _piece_for(self, side: _Side, event):
        """The source text the splitter found for this parser event (None if it lost track)."""
        want = {StreamOpened: "open", StreamClosed: "close"}.get(type(event), "element")
        if side.serialize_only or not side.pieces or side.pieces[0].kind != want:
            side.serialize_only = True
            side.pieces.clear()
            return None
        return side.pieces.popleft()

    def _item(self, side: _Side, event, piece, chunk: Chunk, index: int) -> Item:
        conn = self.connection
        first = side.first_chunk if side.first_chunk is not None else index
        common = dict(conn=conn.id, direction=side.direction, t=chunk.t, index=self.count, seq=chunk.seq,
                      chunks=(first, index))
        self.count += 1
        if isinstance(event, StreamOpened):
            text = piece.text if piece else _header_text(event)
            return Item(kind=ItemKind.STREAM_OPEN, text=text, attrs=dict(event.attrs), **common)
        if isinstance(event, StreamClosed):
            return Item(kind=ItemKind.STREAM_CLOSE, text=piece.text if piece else "</stream:stream>", **common)
        element = event.element
        raw = piece.text if piece else serialize(element, side.default_ns)
        self._learn(side, element)
        kind = classify(element)
        if not mask.is_sasl(element):
            return Item(kind=kind, text=raw, element=element, **common)
        edits = mask.mask_edits(raw)
        if piece is not None:
            self.edits[side.direction].extend((piece.start + s, piece.start + e, r) for s, e, r in edits)
        masked_el = mask.mask_element(element)
        if not edits and masked_el is element:
            return Item(kind=kind, text=raw, element=element, **common)
        return Item(kind=kind, text=mask.apply_edits(raw, edits) if edits else raw, element=masked_el,
                    masked=True, _secret=(raw, element), **common)

    def _problem(self, side, kind, text, condition, problem, t, seq, index, start, first=None) -> Item:
        edits = mask.mask_edits(text)  # a broken <auth> still must not show its password
        self.edits[side.direction].extend((start + s, start + e, r) for s, e, r in edits)
        if first is None:
            first = side.first_chunk if side.first_chunk is not None else index
        side.first_chunk = None
        item = Item(conn=self.connection.id, direction=side.direction, t=t, kind=ItemKind(kind),
                    text=mask.apply_edits(text, edits), index=self.count, seq=seq, condition=condition,
                    problem=problem, chunks=(first, index), masked=bool(edits),
                    _secret=(text, None) if edits else None)
        self.count += 1
        return item

    def _learn(self, side: _Side, element) -> None:
        """Fill in what the connection's events did not say (imported transcripts have no events)."""
        conn = self.connection
        ns, name = split_qname(element.tag)
        if side.direction is Direction.C2S and ns == NS_SASL and name == "auth" and not conn.mechanism:
            conn.mechanism = element.get("mechanism")
        elif side.direction is Direction.S2C and name == "iq" and element.get("type") == "result" and not conn.jid:
            jid = element.findtext(f"{{{NS_BIND}}}bind/{{{NS_BIND}}}jid")
            if jid:
                conn.jid = jid.strip()


def _header_text(event: StreamOpened) -> str:
    attrs = "".join(f" {k}='{v}'" for k, v in event.attrs.items())
    return f"<stream:stream xmlns='{event.default_ns}' xmlns:stream='{event.ns}'{attrs}>"
