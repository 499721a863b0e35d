"""The sans-IO XML stream core (RFC 6120 section 4 and section 11).

An XMPP connection carries two XML documents, one each way: ``<stream:stream>``
opens, then each child element at depth 1 is a stanza (or a negotiation
element such as ``<starttls/>``), and ``</stream:stream>`` closes. The
:class:`StreamParser` is fed bytes and returns events; it knows nothing of
sockets, so the server, the recording client, the transcript importers and
replay all share it.

>>> p = StreamParser()
>>> p.feed(b"<stream:stream xmlns='jabber:client' "
...        b"xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>")
[StreamOpened(name='stream', ns='http://etherx.jabber.org/streams', default_ns='jabber:client', attrs={'to': 'example.com', 'version': '1.0'})]
>>> [type(e).__name__ for e in p.feed(b"<message><body>hi</body></message>")]
['StanzaReceived']

It enforces the restricted XML of RFC 6120 section 11.1 (no DTD, no entity
declarations or references beyond the predefined five, no comments, no
processing instructions) and the limits a server needs (bytes per stanza,
nesting depth). A violation is returned as a :class:`StreamViolation` whose
``condition`` is the stream error condition to send (section 4.9.3); after a
violation the parser ignores further input until :meth:`reset`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from lxml import etree

from .xml import NS_STREAM

DEFAULT_MAX_STANZA_BYTES = 256 * 1024
DEFAULT_MAX_DEPTH = 48


@dataclass(frozen=True)
class StreamOpened:
    """The stream header arrived: ``<stream:stream to=... version=...>``."""

    name: str
    ns: str
    default_ns: str | None
    attrs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StanzaReceived:
    """One complete element at depth 1 (a stanza, or a negotiation element)."""

    element: object  # lxml element, detached from the stream root

    @property
    def tag(self) -> str:
        return self.element.tag


@dataclass(frozen=True)
class StreamClosed:
    """``</stream:stream>`` arrived."""


@dataclass(frozen=True)
class StreamViolation:
    """The peer broke the rules; ``condition`` is the RFC 6120 stream error to send."""

    condition: str
    text: str


Event = StreamOpened | StanzaReceived | StreamClosed | StreamViolation


class StreamParser:
    """Incremental parser for one direction of one XML stream.

    ``feed(data)`` returns the events that data completed. Call :meth:`reset`
    when the stream restarts (after STARTTLS and after SASL success).
    """

    __slots__ = ("max_stanza_bytes", "max_depth", "_parser", "_depth", "_root", "_pending",
                 "_opened", "_failed", "_closed")

    def __init__(self, max_stanza_bytes: int = DEFAULT_MAX_STANZA_BYTES, max_depth: int = DEFAULT_MAX_DEPTH):
        self.max_stanza_bytes = max_stanza_bytes
        self.max_depth = max_depth
        self.reset()

    def reset(self) -> None:
        """Start a new stream: forget the old document, expect a new header."""
        self._parser = etree.XMLPullParser(
            events=("start", "end", "comment", "pi"),
            no_network=True, load_dtd=False, huge_tree=False,
        )
        self._depth = 0
        self._root = None
        self._pending = 0  # bytes received since the current stanza started
        self._opened = False
        self._failed = False
        self._closed = False

    @property
    def failed(self) -> bool:
        return self._failed

    @property
    def opened(self) -> bool:
        return self._opened

    def feed(self, data: bytes | str) -> list[Event]:
        """Parse more of the stream; return the events completed by ``data``."""
        if self._failed or self._closed:
            return []
        if isinstance(data, str):
            data = data.encode("utf-8")
        events: list[Event] = []
        completed = False
        try:
            self._parser.feed(data)
            for kind, el in self._parser.read_events():
                if kind == "start":
                    self._depth += 1
                    if self._depth == 1:
                        opened = self._on_open(el)
                        events.append(opened)
                        if isinstance(opened, StreamViolation):
                            return self._fail(events)
                    elif self._depth > self.max_depth:
                        events.append(StreamViolation(
                            "policy-violation", f"elements are nested deeper than {self.max_depth} levels"))
                        return self._fail(events)
                elif kind == "end":
                    self._depth -= 1
                    if self._depth == 1:
                        stanza = copy.deepcopy(el)
                        stanza.tail = None
                        self._root.remove(el)  # free it; the copy keeps its default namespace
                        completed = True
                        events.append(StanzaReceived(stanza))
                    elif self._depth == 0:
                        self._closed = True
                        events.append(StreamClosed())
                        return events
                else:  # comment or processing instruction
                    what = "comments" if kind == "comment" else "processing instructions"
                    events.append(StreamViolation("restricted-xml", f"XMPP forbids {what} (RFC 6120 section 11.1)"))
                    return self._fail(events)
        except etree.XMLSyntaxError as exc:
            events.append(self._syntax_violation(exc, data))
            return self._fail(events)
        # Bytes since the last complete stanza: also catches a start tag that never ends
        # (libxml2 buffers it silently), but not whitespace keepalives between stanzas. The
        # bytes after a stanza that ended inside this chunk are not counted: the limit is
        # exceeded by at most one read before it is noticed.
        if completed or self._depth == 1 and data.isspace():
            self._pending = 0
        else:
            self._pending += len(data)
            if self._pending > self.max_stanza_bytes:
                events.append(StreamViolation(
                    "policy-violation", f"a stanza is larger than the limit of {self.max_stanza_bytes} bytes"))
                return self._fail(events)
        if self._depth == 1 and self._root is not None and self._root.text:
            self._root.text = None  # whitespace keepalives would pile up on the stream element
        return events

    def _on_open(self, el) -> Event:
        tree = el.getroottree()
        if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
            return StreamViolation("restricted-xml", "XMPP forbids DTDs (RFC 6120 section 11.1)")
        ns, _, name = el.tag[1:].partition("}") if el.tag[:1] == "{" else ("", "", el.tag)
        self._root = el
        self._opened = True
        if name != "stream" or ns != NS_STREAM:
            if name == "stream" or ns == NS_STREAM:
                return StreamViolation("invalid-namespace",
                                       f"the stream element must be <stream:stream> in {NS_STREAM}")
            return StreamViolation("invalid-namespace", f"expected <stream:stream>, got <{name}>")
        return StreamOpened(name, ns, el.nsmap.get(None), dict(el.attrib))

    def _syntax_violation(self, exc, data: bytes) -> StreamViolation:
        msg = str(exc.msg if hasattr(exc, "msg") else exc)
        lowered = msg.lower()
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            return StreamViolation("restricted-xml", "XMPP forbids DTDs and entity declarations (RFC 6120 section 11.1)")
        if "entity" in lowered:
            return StreamViolation("restricted-xml", f"XMPP forbids entity references and declarations: {msg}")
        if "doctype" in lowered or "dtd" in lowered:
            return StreamViolation("restricted-xml", f"XMPP forbids DTDs: {msg}")
        if "excessive depth" in lowered or "depth" in lowered and "nest" in lowered:
            return StreamViolation("policy-violation", msg)
        if "huge" in lowered:
            return StreamViolation("policy-violation", msg)
        return StreamViolation("not-well-formed", msg)

    def _fail(self, events: list[Event]) -> list[Event]:
        self._failed = True
        self._root = None
        self._parser = None
        return events

    def __repr__(self) -> str:
        state = "failed" if self._failed else "closed" if self._closed else "open" if self._opened else "new"
        return f"<StreamParser {state} depth={self._depth}>"
