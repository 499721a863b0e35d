"""The sans-IO XML stream core (RFC 6120 section 4 and section 11).

An XMPP connection carries two XML documents, one each way: ``<stream:stream>``
opens, then each child element at depth 1 is a stanza (or a negotiation
element such as ``<starttls/>``), and ``</stream:stream>`` closes. The
:class:`StreamParser` is fed bytes and returns events; it knows nothing of
sockets, so the server, the recording client, the transcript importers and
replay all share it.

>>> p = StreamParser()
>>> [opened] = p.feed(b"<stream:stream xmlns='jabber:client' "
...                   b"xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>")
>>> type(opened).__name__, opened.name, opened.ns, opened.default_ns
('StreamOpened', 'stream', 'http://etherx.jabber.org/streams', 'jabber:client')
>>> opened.attrs
{'to': 'example.com', 'version': '1.0'}
>>> [type(e).__name__ for e in p.feed(b"<message><body>hi</body></message>")]
['StanzaReceived']

It enforces the restricted XML of RFC 6120 section 11.1 (no DTD, no entity
declarations or references beyond the predefined five, no comments, no
processing instructions), namespace well-formedness (section 11.2: an unbound
prefix such as ``<foo:bar/>`` is ``<not-well-formed/>``, so it never reaches a
peer whose parser would drop its stream), XML 1.0 only (section 11.6) and the
limits a server needs (bytes per stanza, nesting depth, attributes per
element). A violation is returned as a :class:`StreamViolation` whose
``condition`` is the stream error condition to send (section 4.9.3); after a
violation the parser ignores further input until :meth:`reset`.

>>> [(type(e).__name__, getattr(e, "condition", None)) for e in p.feed(b"<message><foo:bar/></message>")]
[('StreamViolation', 'not-well-formed')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from .xml import NS_STREAM

_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
DEFAULT_MAX_STANZA_BYTES = 256 * 1024
DEFAULT_MAX_DEPTH = 48
DEFAULT_MAX_ATTRIBUTES = 64

# What may follow '<' and '&' outside a CDATA section (XML 1.0 sections 2.4, 3.1, 4.1): a name, or
# '/' and a name, '!' and '--', '[' or a declaration keyword, '?' and a name; '&' starts a name or
# '#'. libxml2 reads no further than '<' until it has the whole tag (up to '>', quotes honoured), so
# "<'..." would sit in its buffer until the size limit: this finds it at once. A CDATA section's
# start is matched too, so its text is skipped.
_NAME_START = rb"A-Za-z_:\x80-\xff"
_BAD_MARKUP = re.compile(
    rb"<!\[CDATA\[|<(?:[^" + _NAME_START + rb"/!?]|/[^" + _NAME_START + rb"]|![^A-Z\[\-]|\?[^"
    + _NAME_START + rb"])|&[^" + _NAME_START + rb"#]")
_CDATA_START = b"<![CDATA["
_CDATA_END = b"]]>"
_CARRY = len(_CDATA_START) - 1  # the longest piece of markup a chunk can end in the middle of


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
        """The stanza's qualified name, ``{namespace}name``."""
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

    __slots__ = ("max_stanza_bytes", "max_depth", "max_attributes", "_parser", "_depth", "_root", "_pending",
                 "_opened", "_failed", "_closed", "_logged", "_cdata", "_carry")

    def __init__(self, max_stanza_bytes: int = DEFAULT_MAX_STANZA_BYTES, max_depth: int = DEFAULT_MAX_DEPTH,
                 max_attributes: int = DEFAULT_MAX_ATTRIBUTES):
        self.max_stanza_bytes = max_stanza_bytes
        self.max_depth = max_depth
        self.max_attributes = max_attributes
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
        self._logged = 0  # entries of libxml2's error log already looked at (all of them warnings)
        self._cdata = False  # inside a CDATA section at the end of the last chunk
        self._carry = b""  # the end of the last chunk that may be the start of a markup to check

    @property
    def failed(self) -> bool:
        """True once the stream broke a rule (a violation was reported; the parser reads no more)."""
        return self._failed

    @property
    def opened(self) -> bool:
        """True once the stream header was read."""
        return self._opened

    def feed(self, data: bytes | str) -> list[Event]:
        """Parse more of the stream; return the events completed by ``data``."""
        if self._failed or self._closed:
            return []
        if isinstance(data, str):
            data = data.encode("utf-8")
        bad = _CONTROL.search(data)
        if bad is not None:
            # XML 1.0 section 2.2: C0 controls other than tab, CR and LF are never characters. libxml2's push
            # parser would look for the end of a comment, CDATA section or PI as a C string (NUL) or wait
            # for more input, and stall silently until the size limit: refuse them at once.
            return self._fail([StreamViolation(
                "not-well-formed", f"the control character 0x{bad.group()[0]:02x} is not allowed in XML")])
        events: list[Event] = []
        completed = False
        try:
            self._parser.feed(data)
            log = self._parser.feed_error_log
            if len(log) != self._logged:
                bad = self._namespace_error(log)
                if bad is not None:
                    events.append(bad)
                    return self._fail(events)
            for kind, el in self._parser.read_events():
                if kind == "start":
                    self._depth += 1
                    if len(el.attrib) > self.max_attributes:
                        events.append(StreamViolation(
                            "policy-violation", f"an element has more than {self.max_attributes} attributes"))
                        return self._fail(events)
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
                        # lxml copies the whole subtree (what copy.deepcopy calls, minus its overhead)
                        stanza = el.__copy__()
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
        if data[-1:] != b">" or self._carry or self._cdata or b"[" in data or b"<?" in data or b"<!" in data:
            bad = self._bad_markup(data)
            if bad is not None:
                events.append(bad)
                return self._fail(events)
        # Bytes since the last complete stanza: also catches a start tag that never ends
        # (libxml2 buffers it silently), but not whitespace keepalives between stanzas. The
        # bytes after a stanza that ended inside this chunk are not counted: a stanza still
        # open is noticed at most one read late. One that ended in this chunk is measured when
        # the chunk could hold one over the limit (rare: a stanza near the limit), so none over
        # it is ever passed on.
        if completed and self._pending + len(data) > self.max_stanza_bytes:
            over = self._oversized(events)
            if over is not None:
                return self._fail(events[:over] + [StreamViolation(
                    "policy-violation", f"a stanza is larger than the limit of {self.max_stanza_bytes} bytes")])
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

    def _oversized(self, events: list[Event]) -> int | None:
        """The index of the first stanza in ``events`` larger than the limit (as serialized), or None."""
        for i, event in enumerate(events):
            if isinstance(event, StanzaReceived) and \
                    len(etree.tostring(event.element, encoding="utf-8")) > self.max_stanza_bytes:
                return i
        return None

    def _namespace_error(self, log) -> StreamViolation | None:
        """A namespace error libxml2 logged but did not stop at (it keeps the bad name in the tree).

        Everything at level ERROR counts: libxml2 stops logging after 100 errors, so none
        may be let through; its warnings (a relative namespace name such as ``vcard-temp``)
        are counted apart and ignored.
        """
        new = list(log)[self._logged:]
        self._logged = len(log)
        for entry in new:
            if entry.level >= etree.ErrorLevels.ERROR:
                return StreamViolation("not-well-formed",
                                       f"{entry.message} (Namespaces in XML; RFC 6120 section 11.2)")
        return None

    def _bad_markup(self, data: bytes) -> StreamViolation | None:
        """A '<' or '&' that cannot start markup (see ``_BAD_MARKUP``), outside CDATA sections.

        libxml2 reports such a '<' itself as soon as a '>' follows it, so usually only what
        follows the last '>' is looked at: that is where it waits. (Behind a '>' in quotes, as
        in ``<'>``, it still waits, for at most the stanza size limit, as it does for any start
        tag that never ends.) A '<?' or '<!' is the exception: libxml2 waits for the '?>' or
        the end of the declaration whatever '>' follows, so a chunk with one of them is read
        whole, as is a chunk with a '[' in it or one inside a CDATA section (so the text of a
        CDATA section is never taken for markup); the piece carried from the last read is
        looked at with what follows it up to the first '>'.
        """
        if not (self._cdata or b"[" in data or b"[" in self._carry or b"<?" in data or b"<!" in data):
            if self._carry:  # markup cut at the end of the last read: look at it with what follows, to the first '>'
                end = data.find(b">")
                head = self._carry + (data if end < 0 else data[:end + 1])
                m = _BAD_MARKUP.search(head)
                if m:
                    return self._markup_violation(m.group(), head)
            cut = data.rfind(b">") + 1
            tail = data[cut:] if cut else self._carry + data
            self._carry = tail[-_CARRY:]
            m = _BAD_MARKUP.search(tail)
            return self._markup_violation(m.group(), tail) if m else None
        text = self._carry + data
        pos = 0
        while True:
            if self._cdata:
                end = text.find(_CDATA_END, pos)
                if end < 0:
                    break
                self._cdata = False
                pos = end + len(_CDATA_END)
                continue
            m = _BAD_MARKUP.search(text, pos)
            if m is None:
                break
            if m.group() != _CDATA_START:
                return self._markup_violation(m.group(), text)
            self._cdata = True
            pos = m.end()
        self._carry = text[max(pos, len(text) - _CARRY):]
        return None

    @staticmethod
    def _markup_violation(found: bytes, text: bytes) -> StreamViolation:
        if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
            return StreamViolation("restricted-xml",
                                   "XMPP forbids DTDs and entity declarations (RFC 6120 section 11.1)")
        return StreamViolation("not-well-formed", f"{found[:1].decode()!r} cannot be followed by "
                                                  f"{found[1:].decode('utf-8', 'replace')!r} (XML 1.0 section 2.4)")

    def _on_open(self, el) -> Event:
        tree = el.getroottree()
        if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
            return StreamViolation("restricted-xml", "XMPP forbids DTDs (RFC 6120 section 11.1)")
        if tree.docinfo.xml_version != "1.0":
            return self._xml_version_violation(tree.docinfo.xml_version)
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
        if lowered.startswith("unsupported version"):
            return self._xml_version_violation(msg.partition("'")[2].rstrip("'"))
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            return StreamViolation("restricted-xml",
                                   "XMPP forbids DTDs and entity declarations (RFC 6120 section 11.1)")
        if "entity" in lowered:
            return StreamViolation("restricted-xml", f"XMPP forbids entity references and declarations: {msg}")
        if "doctype" in lowered or "dtd" in lowered:
            return StreamViolation("restricted-xml", f"XMPP forbids DTDs: {msg}")
        if "excessive depth" in lowered or "depth" in lowered and "nest" in lowered:
            return StreamViolation("policy-violation", msg)
        if "huge" in lowered:
            return StreamViolation("policy-violation", msg)
        return StreamViolation("not-well-formed", msg)

    @staticmethod
    def _xml_version_violation(version: str) -> StreamViolation:
        # RFC 6120 section 11.6: XMPP is defined over XML 1.0 only. XML 1.1 is not ill-formed XML
        # 1.0 (the 5th edition reads 1.x as 1.0), so <not-well-formed/> would be wrong, and
        # <unsupported-version/> is about the stream's 'version' attribute (section 4.9.3.25).
        # What is left is <bad-format/> (section 4.9.3.1): XML this server cannot process. Refused
        # rather than read as 1.0, because a 1.1 sender means 1.1 rules (prefix undeclaring,
        # control characters), which an XML 1.0 recipient would choke on.
        return StreamViolation("bad-format", f"XMPP streams are XML 1.0, not XML {version} (RFC 6120 section 11.6)")

    def _fail(self, events: list[Event]) -> list[Event]:
        self._failed = True
        self._root = None
        self._parser = None
        return events

    def __repr__(self) -> str:
        state = "failed" if self._failed else "closed" if self._closed else "open" if self._opened else "new"
        return f"<StreamParser {state} depth={self._depth}>"
