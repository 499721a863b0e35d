"""XMPP over WebSocket framing (RFC 7395 section 3.3), sans-IO.

Over TCP an XMPP stream is one long XML document: ``<stream:stream>`` opens
it, stanzas follow, ``</stream:stream>`` closes it. Over WebSocket every
message is one complete XML element of its own (section 3.3.3), with every
namespace it uses declared, and the stream is opened and closed by two
elements of the framing namespace (sections 3.4 and 3.6)::

    C: <open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="example.com" version="1.0"/>
    S: <open xmlns="urn:ietf:params:xml:ns:xmpp-framing" from="example.com" id="..." version="1.0" xml:lang="en"/>
    S: <stream:features xmlns:stream="http://etherx.jabber.org/streams">...</stream:features>
    C: <message xmlns="jabber:client" to="romeo@example.net"><body>hi</body></message>
    C: <close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>
    S: <close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>

:class:`Framing` translates between the two, so the c2s session (and its
parser, its limits and the recorder) sees the same XML stream text as over
TCP: :meth:`Framing.incoming` turns one message into that text (an ``<open/>``
becomes a stream header, a ``<close/>`` becomes ``</stream:stream>``) after
checking it is exactly one complete element, and :meth:`Framing.outgoing`
cuts the session's output back into messages, one element each.

>>> f = Framing()
>>> f.incoming("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>")[:15]
b'<stream:stream '
>>> f.incoming("<message xmlns='jabber:client'><body>half").condition
'not-well-formed'
>>> for message in f.outgoing(b"<stream:stream xmlns='jabber:client' "
...                           b"xmlns:stream='http://etherx.jabber.org/streams' from='example.com' "
...                           b"id='1' version='1.0'></stream:stream>"):
...     print(message)
<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" from="example.com" id="1" version="1.0"/>
<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>
"""

from __future__ import annotations

import logging
import re

from lxml import etree

from ..stream import (
    DEFAULT_MAX_ATTRIBUTES,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_STANZA_BYTES,
    StanzaReceived,
    StreamClosed,
    StreamOpened,
    StreamParser,
    StreamViolation,
)
from ..xml import NS_CLIENT, NS_STREAM, NS_XML

log = logging.getLogger("xmpplab.server")

NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
#: The stream attributes an ``<open/>`` carries over to the stream header (RFC 7395 section 3.4).
OPEN_ATTRIBUTES = ("to", "from", "id", "version", f"{{{NS_XML}}}lang")
_ROOT = f"<stream:stream xmlns='{NS_CLIENT}' xmlns:stream='{NS_STREAM}'>".encode()
_END = b"</stream:stream>"
_NOT_ONE = "a WebSocket message must hold exactly one complete XML element (RFC 7395 section 3.3.3)"
# Where the session's output starts a new stream (its first header, or one after a restart): a header
# can only appear as markup, since '<' in text and attribute values is always escaped.
_HEADER = re.compile(rb"(?:<\?xml[^>]*\?>\s*)?<stream:stream[\s>]")
# An XML declaration at the start of a message: allowed, though not recommended (RFC 7395 section 3.3.3).
_DECLARATION = re.compile(rb"<\?xml\s[^<>]*\?>\s*")


def _open_attrs(attrs, quote: str) -> str:
    """The stream attributes of ``attrs`` as XML, values escaped for ``quote``."""
    entity = "&apos;" if quote == "'" else "&quot;"
    out = []
    for name in OPEN_ATTRIBUTES:
        value = attrs.get(name)
        if value is not None:
            value = value.replace("&", "&amp;").replace("<", "&lt;").replace(quote, entity)
            out.append(f" {'xml:lang' if name.startswith('{') else name}={quote}{value}{quote}")
    return "".join(out)


class Framing:
    """Translate one WebSocket connection between RFC 7395 messages and XML stream text (both ways)."""

    def __init__(self, max_stanza_bytes: int = DEFAULT_MAX_STANZA_BYTES, max_depth: int = DEFAULT_MAX_DEPTH,
                 max_attributes: int = DEFAULT_MAX_ATTRIBUTES):
        self._limits = (max_stanza_bytes, max_depth, max_attributes)
        self._out: StreamParser | None = None  # parses what the session writes

    # client to server -----------------------------------------------------------------
    def incoming(self, text: str) -> bytes | StreamViolation:
        """The stream text for one message from the client, or why the message is refused.

        The message is checked on its own (one complete element, the restricted XML of RFC 6120
        section 11 and the size limits) by a parser that sees it inside a ``jabber:client`` stream,
        so a stanza that does not declare its namespace is read as ``jabber:client``.
        """
        data = text.strip().encode("utf-8")
        declaration = _DECLARATION.match(data)
        if declaration is not None:
            data = data[declaration.end():]
        if not data:
            return b""  # an empty message or whitespace: nothing to parse (the TCP binding's keepalive)
        check = StreamParser(*self._limits)
        events = check.feed(_ROOT + data + _END)
        for event in events:
            if isinstance(event, StreamViolation):
                if event.condition == "not-well-formed":
                    return StreamViolation("not-well-formed", f"{_NOT_ONE}: {event.text}")
                return event
        kinds = [type(e) for e in events]
        if kinds != [StreamOpened, StanzaReceived, StreamClosed]:
            return StreamViolation("not-well-formed", _NOT_ONE)
        el = events[1].element
        if el.tag == f"{{{NS_FRAMING}}}open":
            attrs = _open_attrs(el.attrib, "'")
            return f"<stream:stream xmlns='{NS_CLIENT}' xmlns:stream='{NS_STREAM}'{attrs}>".encode()
        if el.tag == f"{{{NS_FRAMING}}}close":
            return _END
        return data

    # server to client -----------------------------------------------------------------
    def outgoing(self, data: bytes) -> list[str]:
        """Cut what the session wrote (stream text, possibly several elements) into messages."""
        messages: list[str] = []
        starts = [m.start() for m in _HEADER.finditer(data)]
        if not starts or starts[0] != 0:
            starts.insert(0, 0)
        for i, start in enumerate(starts):
            piece = data[start:starts[i + 1] if i + 1 < len(starts) else len(data)]
            if _HEADER.match(piece):
                # the session's own output: no size limit; a new header means a new stream (a restart)
                self._out = StreamParser(1 << 40, 10_000, 10_000)
            if self._out is None:
                log.warning("websocket: output before a stream header dropped: %r", piece[:80])
                continue
            for event in self._out.feed(piece):
                messages.append(self._message(event))
        return messages

    @staticmethod
    def _message(event) -> str:
        if isinstance(event, StanzaReceived):
            return etree.tostring(event.element, encoding=str)
        if isinstance(event, StreamOpened):
            attrs = _open_attrs(event.attrs, '"')
            return f'<open xmlns="{NS_FRAMING}"{attrs}/>'
        if isinstance(event, StreamClosed):
            return f'<close xmlns="{NS_FRAMING}"/>'
        log.error("websocket: the server's own output did not parse: %s", event)
        return f'<close xmlns="{NS_FRAMING}"/>'
