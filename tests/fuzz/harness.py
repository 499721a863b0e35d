"""What must hold for ANY bytes a peer sends: the checks shared by the property tests and the fuzz targets.

Two harnesses, each a function of one byte string that raises :class:`HarnessFailure` (or lets an
unexpected exception escape) when the rule is broken:

* :func:`check_stream` feeds the bytes to the sans-IO :class:`~xmpplab.stream.StreamParser`
  (RFC 6120 section 4 and section 11): the events follow the stream grammar (a header first,
  stanzas, then at most one end: ``</stream:stream>`` or a :class:`StreamViolation`), nothing
  is accepted after the end, no exception escapes, and no call takes long.
* :func:`check_connection` feeds the bytes to a :class:`~xmpplab.server.c2s.C2SSession` of a real
  :class:`~xmpplab.server.Server` through a fake transport, one packet per ``>`` (a client that
  waits for each answer), and checks that no exception escapes (nor reaches the loop's exception
  handler or the log as a traceback), that the connection either stays up or closes its stream
  properly (a ``<stream:error/>`` first when the server closed it), and that everything the server
  wrote is a well-formed stream.

The fuzz targets in this folder (``fuzz_stream.py``, ``fuzz_c2s.py``) and
``tests/test_properties.py`` call these functions; a crash found by either becomes a seed file
under ``tests/fuzz/corpus/`` so ``tests/test_fuzz.py`` replays it forever.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
import zlib
from xml.etree import ElementTree

from lxml import etree

from xmpplab.stream import StanzaReceived, StreamClosed, StreamOpened, StreamParser, StreamViolation
from xmpplab.xml import NS_STREAM, NS_STREAMS

#: Longest a single ``feed`` may take on the small inputs we generate (a hang guard, not a benchmark:
#: a feed of a few kilobytes takes well under a millisecond).
MAX_SECONDS_PER_FEED = 2.0

#: Defects known and being fixed elsewhere that these harnesses tolerate for now, so the fuzzer keeps
#: looking for new ones (tests/test_properties.py has a strict xfail test for each, which starts
#: failing once the defect is fixed: then remove the name here too).
#:
#: * "namespace-ill-formed": issue 10 item 1, ``<foo:bar/>`` (an unbound prefix) is accepted and relayed
#:   (branch poison); so are names that are not QNames (``<quer:/>``, ``<a:b:c/>``, ``<:a/>``, an
#:   attribute ``a:``), found here (test_properties.py::test_names_that_are_not_qnames_are_not_well_formed).
#: * "stall": the parser says nothing about bytes that can never become well-formed, waiting for the end
#:   of a tag, comment, CDATA section or processing instruction (libxml2's push parser looks for the
#:   terminator before it checks what is in between), so the same bytes give a violation in small reads
#:   and silence in one read. Issue 10 item 7 (``<''''`` after the header, branch poison) and a NUL
#:   byte inside a comment, CDATA section or processing instruction (found here, see
#:   test_properties.py::test_nul_byte_is_refused_at_once).
#: * "invalid-namespace-uri": a namespace name that libxml2 does not take for a URI (``xmlns='a b'``) is
#:   accepted by the stream parser, but ``etree.fromstring`` refuses the stanza when the server parses
#:   it again: offline delivery fails with a traceback and loses the messages stored with it (found
#:   here, see test_properties.py::test_namespace_names_that_do_not_parse_again_are_refused).
#: ``XMPPLAB_FUZZ_STRICT=1`` tolerates none of them (to see them, or to check a fix).
# "namespace-ill-formed" and "invalid-namespace-uri" are fixed (issue 10), and so is a "<?" or "<!" that cannot
# start before a later '>' in the same read. "stall" remains for a '<' that cannot start markup followed by a
# quote and a '>' in the same read (b"<1'?>...": libxml2 looks for the '>' outside quotes and waits; only the
# stanza size limit or the negotiation timeout ends it): one read waits, small reads fail at once. Checking
# every read whole would find it, at about 0.5 us per stanza (5% of the throughput), so it is left bounded.
TOLERATED: tuple[str, ...] = () if os.environ.get("XMPPLAB_FUZZ_STRICT") else ("stall",)

#: How each tolerated defect shows in an error message (lxml's, as the server logs it).
_SIGNS = {"namespace-ill-formed": ("is not a QName", "Namespace prefix", "Failed to parse QName", "unbound prefix"),
          "invalid-namespace-uri": ("is not a valid URI",)}


def tolerated(message: str) -> bool:
    """Whether an error message is the sign of a defect listed in :data:`TOLERATED`."""
    return any(sign in message for name in TOLERATED for sign in _SIGNS.get(name, ()))


STREAM_ERROR = f"{{{NS_STREAM}}}error"


class HarnessFailure(AssertionError):
    """A rule of the harness was broken; the message says which and shows the input."""


def show(data: bytes, limit: int = 400) -> str:
    """The input as a Python bytes literal, shortened in the middle when long."""
    text = repr(bytes(data))
    return text if len(text) <= limit else text[: limit // 2] + " ... " + text[-limit // 2:]


def split_points(data: bytes, sizes=(1, 2, 3, 5, 8, 13, 21, 34, 55, 89)) -> list[bytes]:
    """``data`` in pieces of cycling sizes: a deterministic 'every split is different' feed."""
    out, i, k = [], 0, 0
    while i < len(data):
        n = sizes[k % len(sizes)]
        out.append(data[i:i + n])
        i += n
        k += 1
    return out


def relay_safe(el) -> str | None:
    """Why a received stanza could not be relayed as it is to a namespace-aware peer, or None.

    What the server would write must parse again, namespace-aware, to the same element, both with
    lxml (libxml2) and with expat (what slixmpp uses): otherwise one sender can break every
    recipient's stream (issue 10 item 1). Serialised as the server does (``xmpplab.xml.serialize``:
    text, then UTF-8); lxml's default ASCII output would write a non-ASCII name as a character
    reference, which is not XML.
    """
    for node in el.iter():
        if not isinstance(node.tag, str):
            return f"it holds a {type(node).__name__}, which XMPP forbids"
        for name in (node.tag, *node.attrib):
            local = name.rpartition("}")[2]
            if ":" in local or not local:  # an unbound prefix (<foo:bar/>), <a:b:c/>, <quer:/>, <:a/>
                return f"the name {name!r} is not a QName (XML Namespaces 1.0 section 3)"
    text = etree.tostring(el, encoding=str).encode("utf-8")
    try:
        again = etree.fromstring(text, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return f"its serialisation {text[:300]!r} does not parse again: {exc}"
    if canonical(again) != canonical(el):
        return f"its serialisation {text[:300]!r} parses to a different element"
    try:
        ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        return f"its serialisation {text[:300]!r} does not parse with expat: {exc}"
    return None


def canonical(el) -> bytes:
    """Canonical XML (C14N 2.0) of an element: equal bytes, equal stanza."""
    return etree.tostring(el, method="c14n2")


def event_key(ev) -> tuple:
    """An event as comparable data (a stanza by its canonical serialisation)."""
    if isinstance(ev, StreamOpened):
        return ("opened", ev.name, ev.ns, ev.default_ns, tuple(sorted(ev.attrs.items())))
    if isinstance(ev, StanzaReceived):
        return ("stanza", canonical(ev.element))
    if isinstance(ev, StreamClosed):
        return ("closed",)
    if isinstance(ev, StreamViolation):
        return ("violation", ev.condition)
    raise HarnessFailure(f"the parser returned something that is not an event: {ev!r}")


def feed_all(parser: StreamParser, pieces, data: bytes = b"") -> list:
    """Feed each piece, timing each call; return every event, checking the stream grammar as it goes."""
    events: list = []
    for piece in pieces:
        started = time.perf_counter()
        got = parser.feed(piece)
        took = time.perf_counter() - started
        if took > MAX_SECONDS_PER_FEED:
            raise HarnessFailure(f"feeding {len(piece)} bytes took {took:.1f} s; input {show(data)}")
        if not isinstance(got, list):
            raise HarnessFailure(f"feed() returned {got!r}, not a list")
        events.extend(got)
    check_grammar(events, data)
    return events


def check_grammar(events: list, data: bytes = b"") -> None:
    """header, stanza*, then at most one end (closed or violation), nothing after it."""
    for i, ev in enumerate(events):
        last = i == len(events) - 1
        if isinstance(ev, StreamOpened) and i != 0:
            raise HarnessFailure(f"a second StreamOpened at event {i}; input {show(data)}")
        if isinstance(ev, StanzaReceived) and (i == 0 or not isinstance(events[0], StreamOpened)):
            raise HarnessFailure(f"a stanza before the stream header; input {show(data)}")
        if isinstance(ev, (StreamClosed, StreamViolation)) and not last:
            raise HarnessFailure(f"events after the end of the stream ({events[i + 1:]!r}); input {show(data)}")
        if isinstance(ev, StreamViolation):
            if not (isinstance(ev.condition, str) and re.fullmatch(r"[a-z-]+", ev.condition)):
                raise HarnessFailure(f"a violation whose condition is not a stream error: {ev!r}")
            if not isinstance(ev.text, str) or not ev.text:
                raise HarnessFailure(f"a violation without a text: {ev!r}")
        if isinstance(ev, StanzaReceived):
            el = ev.element
            if not isinstance(el.tag, str) or el.getparent() is not None:
                raise HarnessFailure(f"a stanza that is not a detached element: {el!r}; input {show(data)}")
            why = relay_safe(el)
            if why and not tolerated(why):
                raise HarnessFailure(f"a stanza that cannot be relayed: {why}; input {show(data)}")


def check_stream(data: bytes) -> list:
    """Every rule for the stream core on one input; returns the events of the one-piece feed.

    Fed in one piece and again in cycling small pieces: both end the same way (a violation or not),
    and when neither ends in a violation they give the same events.
    """
    whole = StreamParser()
    events = feed_all(whole, [data], data)
    pieces = StreamParser()
    split_events = feed_all(pieces, split_points(data), data)
    ended = [isinstance(e, StreamViolation) for e in (events[-1:] or [None])]
    split_ended = [isinstance(e, StreamViolation) for e in (split_events[-1:] or [None])]
    if ended != split_ended and "stall" not in TOLERATED:
        raise HarnessFailure(f"in one piece the stream ends with {events[-1:]!r}, in small pieces with "
                             f"{split_events[-1:]!r}; input {show(data)}")
    if not ended[0] and not split_ended[0] and [event_key(e) for e in events] != [event_key(e) for e in split_events]:
        raise HarnessFailure(f"the same bytes in other pieces give other events; input {show(data)}")
    for parser, evs in ((whole, events), (pieces, split_events)):
        if evs and isinstance(evs[-1], (StreamViolation, StreamClosed)):
            if isinstance(evs[-1], StreamViolation) and not parser.failed:
                raise HarnessFailure("a violation was returned but the parser does not say failed")
            after = parser.feed(b"<presence/><message><body>more</body></message></stream:stream>")
            if after:
                raise HarnessFailure(f"the parser accepted {after!r} after the end of the stream; "
                                     f"input {show(data)}")
    return events


# --------------------------------------------------------------------------------------------------
# The server's connection handling
# --------------------------------------------------------------------------------------------------

class FakeTransport(asyncio.Transport):
    """An asyncio transport that keeps what the server writes, for a peer address of our choosing."""

    def __init__(self, peer):
        super().__init__()
        self.peer = peer
        self.out: list[bytes] = []
        self.closing = False
        self.aborted = False
        self.reading = True
        self._protocol = None

    def get_extra_info(self, name, default=None):
        return {"peername": self.peer, "sockname": ("127.0.0.1", 5222)}.get(name, default)

    def write(self, data):
        if self.closing:
            raise HarnessFailure("the server wrote to a transport it had closed")
        self.out.append(bytes(data))

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def is_closing(self):
        return self.closing

    def close(self):
        # As asyncio's transports do: the protocol hears connection_lost() on a later turn of the loop.
        if not self.closing and self._protocol is not None:
            asyncio.get_running_loop().call_soon(self._protocol.connection_lost, None)
        self.closing = True

    def abort(self):
        self.close()
        self.aborted = True

    def pause_reading(self):
        self.reading = False

    def resume_reading(self):
        self.reading = True

    def is_reading(self):
        return self.reading

    def get_write_buffer_size(self):
        return 0

    def get_write_buffer_limits(self):
        return (0, 0)

    def set_write_buffer_limits(self, high=None, low=None):
        pass

    def can_write_eof(self):
        return False

    def set_protocol(self, protocol):
        self._protocol = protocol

    def get_protocol(self):
        return self._protocol


def packets(data: bytes) -> list[bytes]:
    """The input as a client that waits for answers would send it: one packet after each ``>``."""
    out = re.findall(rb"[^>]*>|[^>]+$", data)
    return [p for p in out if p]


class _Trouble(logging.Handler):
    """Collects log records that carry a traceback or say ERROR: each one is a bug (issue 10 item 5)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        if record.exc_info or record.levelno >= logging.ERROR:
            self.records.append(record)


async def _idle(limit: float = 2.0, session=None) -> None:
    """Let the loop run what the last packet started (writes, tasks, password hashing in a thread)."""
    me = asyncio.current_task()
    deadline = time.monotonic() + limit
    for _ in range(3):
        await asyncio.sleep(0)
    while True:
        others = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
        hashing = session is not None and session.hashing
        if not others and not hashing:
            break
        if time.monotonic() > deadline:
            raise HarnessFailure(f"tasks still running {limit} s after the input: {others!r}")
        if others:
            await asyncio.wait(others, timeout=0.05)
        else:  # a password hash runs in a thread with no future to await here: give it a millisecond
            await asyncio.sleep(0.001)
    for _ in range(3):
        await asyncio.sleep(0)


_CREDENTIALS = None


def _credentials():
    global _CREDENTIALS
    if _CREDENTIALS is None:
        from xmpplab.server.auth import make_credentials
        _CREDENTIALS = make_credentials("secret")
    return _CREDENTIALS


def make_server(**limits):
    """A fresh server (not listening) for example.com with juliet and romeo (password 'secret')."""
    from xmpplab.server import Server
    from xmpplab.server.limits import Limits

    server = Server(["example.com"], register=True, tls=False, limits=Limits(**limits))
    for user in ("juliet", "romeo"):
        server.storage.put_account("example.com", user, _credentials())
    return server


LOCAL_PEER = ("127.0.0.1", 40000)
REMOTE_PEER = ("192.0.2.7", 40000)  # TEST-NET-1: never a real peer; only the fake transport "sees" it


def peer_for(data: bytes):
    """One input in four comes from a remote peer (no PLAIN without TLS, per-address limits apply)."""
    return REMOTE_PEER if zlib.crc32(data) % 4 == 0 else LOCAL_PEER


async def run_connection(data: bytes, server=None, peer=None):
    """Feed ``data`` to a new C2SSession of ``server``; return (session, transport, bytes written).

    ``peer`` defaults to :func:`peer_for`, so an input always replays the same way.
    """
    peer = peer or peer_for(data)
    from xmpplab.server.c2s import C2SSession

    loop = asyncio.get_running_loop()
    problems: list = []
    loop.set_exception_handler(lambda _loop, context: problems.append(context))
    trouble = _Trouble()
    logger = logging.getLogger("xmpplab")
    logger.addHandler(trouble)
    own = server is None
    server = server or make_server()
    transport = FakeTransport(peer)
    session = C2SSession(server)
    transport.set_protocol(session)
    try:
        session.connection_made(transport)
        for packet in packets(data):
            if transport.closing:
                break
            session.data_received(packet)
            await _idle(session=session)
        await _idle(session=session)
    finally:
        logger.removeHandler(trouble)
        loop.set_exception_handler(None)
    if problems:
        ctx = problems[0]
        raise HarnessFailure(f"an exception reached the event loop: {ctx.get('message')} "
                             f"{ctx.get('exception')!r}; input {show(data)}")
    untolerated = [r for r in trouble.records if not (r.exc_info and tolerated(str(r.exc_info[1])))]
    if untolerated:
        rec = untolerated[0]
        raise HarnessFailure(f"the server logged {rec.levelname} {rec.getMessage()!r}"
                             f"{' with a traceback' if rec.exc_info else ''}; input {show(data)}")
    written = b"".join(transport.out)
    check_output(session, transport, written, data)
    if own:
        await server.stop()
    return session, transport, written


def check_output(session, transport, written: bytes, data: bytes) -> None:
    """Up, or closed with its stream properly ended; and what the server wrote is a well-formed stream."""
    parser = StreamParser(max_stanza_bytes=64 * 1024 * 1024)
    events = []
    # The server restarts its stream after SASL success: a new header on the same connection.
    for chunk in re.split(rb"(?=<\?xml version='1.0'\?><stream:stream )", written):
        if not chunk:
            continue
        parser.reset()
        got = parser.feed(chunk)
        if any(isinstance(e, StreamViolation) for e in got):
            raise HarnessFailure(f"the server wrote a stream that is not well-formed ({got[-1]!r}): "
                                 f"{show(written)}; input {show(data)}")
        for ev in got:
            if isinstance(ev, StanzaReceived):
                why = relay_safe(ev.element)
                if why and not tolerated(why):
                    raise HarnessFailure(f"the server wrote a stanza that is not namespace-well-formed: {why}; "
                                         f"input {show(data)}")
        events.extend(got)
    if not transport.closing:
        if session.closed:
            raise HarnessFailure(f"the session says closed but its transport is open; input {show(data)}")
        return
    if transport.aborted:
        raise HarnessFailure(f"the server aborted the connection without closing its stream; input {show(data)}")
    if not session.closed or session in session.server.connections:
        raise HarnessFailure(f"the transport is closed but the session is still counted; input {show(data)}")
    if not events or not isinstance(events[-1], StreamClosed):
        raise HarnessFailure(f"the server closed the connection without </stream:stream>: {show(written)}; "
                             f"input {show(data)}")
    errors = [e for e in events if isinstance(e, StanzaReceived) and e.element.tag == STREAM_ERROR]
    if errors:
        if events[-2] is not errors[-1] or len(errors) > 1:
            raise HarnessFailure(f"a stream error that is not the last thing before </stream:stream>: "
                                 f"{show(written)}; input {show(data)}")
        conditions = [c for c in errors[0].element if isinstance(c.tag, str) and c.tag.startswith(f"{{{NS_STREAMS}}}")]
        if not conditions or conditions[0].tag == f"{{{NS_STREAMS}}}text":
            raise HarnessFailure(f"a stream error without a condition: {show(written)}; input {show(data)}")


def check_connection(data: bytes, loop: asyncio.AbstractEventLoop | None = None):
    """Run :func:`run_connection` on ``loop`` (a new one when not given) and return its result."""
    if loop is None:
        return asyncio.run(run_connection(data))
    return loop.run_until_complete(run_connection(data))
