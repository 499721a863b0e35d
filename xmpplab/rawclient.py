"""A raw-XML XMPP client: you write the stanzas, it does the stream, STARTTLS, SASL and bind.

For teaching, for conversation scripts (:mod:`xmpplab.scansion`) and for replay,
where what matters is the exact XML that crosses the wire, not a client
library's idea of it::

    c = await RawClient.connect("127.0.0.1", 5222)
    await c.login("juliet@example.com", "secret", resource="balcony")   # 'juliet@example.com/balcony'
    await c.send("<presence/>")
    el = await c.recv(timeout=5)              # the next element at depth 1 (an lxml element)
    answer = await c.request("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
    await c.close()

Login is RFC 6120 in order, as the sans-IO
:class:`~xmpplab.negotiation.ClientNegotiator` walks it (this class only
carries its bytes and does the TLS handshake): open the stream (section 4.2),
STARTTLS when the server offers it and ``tls`` wants it (section 5), SASL with
the first of ``mechanisms`` the server offers (section 6: SCRAM-SHA-256 and
SCRAM-SHA-1 by ``scramp``, RFC 5802 and RFC 7677; PLAIN, RFC 4616), the stream
restart, and resource binding (section 7). After binding, every element the server sends
waits in an inbox, in order: :meth:`RawClient.recv` takes the next one and
:meth:`RawClient.request` takes the answer to an iq by its id, leaving the
others where they are.

With a ``recorder`` (any callable, such as :class:`xmpplab.recording.MemoryRecorder`)
the client records its connection in the events the server's recorder uses
(:mod:`xmpplab.recording`), as the *initiating* entity: ``open``, ``data``
(``dir`` "out" is client to server; the text is plaintext above TLS), ``tls``,
``auth``, ``bound``, ``close``.

Errors are one sentence each: :class:`LoginError` ("SASL failed: not-authorized"),
:class:`RecvTimeout` ("no stanza within 5 s for juliet@example.com/balcony"),
:class:`StreamEnded` ("the server closed the stream").
"""

from __future__ import annotations

import asyncio
import codecs
import collections
import contextlib
import itertools
import ssl
import time
from collections.abc import Callable
from typing import Self

from .jid import JID, InvalidJID
from .negotiation import (
    MECHANISMS,
    Authenticated,
    ClientNegotiator,
    Failed,
    Ready,
    Restart,
    Send,
    StartTLS,
    error_condition,
    stream_error_text,
)
from .negotiation.client import TLS_MODES
from .sockaddr import format_address as _fmt_addr
from .stream import StanzaReceived, StreamClosed, StreamOpened, StreamParser, StreamViolation
from .xml import NS_CLIENT, parse_fragment, qname, serialize, split_qname

__all__ = ["MECHANISMS", "LoginError", "RawClient", "RawClientError", "RecvTimeout", "StreamEnded",
           "error_condition", "stream_error_text"]

_conn_numbers = itertools.count(1)


class RawClientError(Exception):
    """Something went wrong on a raw client's connection; the message says what."""


class LoginError(RawClientError):
    """The stream could not be negotiated: STARTTLS, SASL or resource binding failed."""


class StreamEnded(RawClientError):
    """The stream is over (the server closed it, or the connection dropped); ``reason`` says how."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class RecvTimeout(RawClientError, TimeoutError):
    """Nothing that was awaited arrived in time."""




def _name(el) -> str:
    return split_qname(el.tag)[1]


def _is(el, ns: str, name: str) -> bool:
    return el.tag == qname(ns, name)


class RawClient:
    """One client connection speaking raw XML (see the module docstring).

    Attributes after :meth:`login`: ``jid`` (the bound full JID, a str),
    ``features`` (the last ``<stream:features/>``), ``stream_attrs`` (the
    server's last stream header), ``tls_version``, ``mechanism``; ``received``
    counts the elements that arrived so far, so ``received - len(unread)`` is
    the number of the oldest unread one.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, host: str, port: int,
                 domain: str | None = None, tls: str = "starttls", verify_tls: bool = False,
                 recorder: Callable[[dict], None] | None = None, conn_id: str | None = None):
        if tls not in TLS_MODES:
            raise ValueError(f"tls must be one of {', '.join(map(repr, TLS_MODES))}, not {tls!r}")
        self.host, self.port, self.domain = host, port, domain
        self.tls, self.verify_tls = tls, verify_tls
        self.recorder = recorder
        self.conn_id = conn_id or f"rawclient-{next(_conn_numbers)}"
        self.jid: str | None = None
        self.features = None
        self.stream_attrs: dict = {}
        self.tls_version: str | None = None
        self.mechanism: str | None = None
        self._reader, self._writer = reader, writer
        self._parser = StreamParser(max_stanza_bytes=16 * 1024 * 1024)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._inbox: collections.deque = collections.deque()
        self.received = 0  # elements at depth 1 that arrived so far, taken or not
        self._arrival = asyncio.Event()
        self._ended: str | None = None          # why the stream is over, once it is
        self._server_closed_stream = False
        self._sent_close = False
        self._close_recorded = False
        self._ids = itertools.count(1)
        self._record("open", peer=_fmt_addr(writer.get_extra_info("peername")),
                     local=_fmt_addr(writer.get_extra_info("sockname")), kind="c2s", role="initiating")
        self._pump_task = asyncio.get_running_loop().create_task(self._pump(), name=f"{self.conn_id} reader")

    # --- connecting ------------------------------------------------------------------
    @classmethod
    async def connect(cls, host: str = "127.0.0.1", port: int = 5222, domain: str | None = None, *,
                      tls: str = "starttls", verify_tls: bool = False, recorder=None, conn_id: str | None = None,
                      timeout: float = 10.0) -> RawClient:
        """Open the TCP connection (nothing is sent yet: :meth:`login` opens the stream).

        ``domain`` is the ``to`` of the stream header; by default the domain of
        the JID given to :meth:`login`. ``tls``: ``"starttls"`` uses STARTTLS
        when the server offers it, ``"required"`` fails when it does not,
        ``"none"`` never uses it. ``verify_tls`` checks the server's certificate
        and name (off by default: lab servers have self-signed certificates).
        """
        if tls not in TLS_MODES:
            raise ValueError(f"tls must be one of {', '.join(map(repr, TLS_MODES))}, not {tls!r}")
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except TimeoutError:
            raise RawClientError(f"could not connect to {host}:{port} within {timeout:g} s") from None
        except OSError as exc:
            raise RawClientError(f"could not connect to {host}:{port}: {exc.strerror or exc}") from None
        return cls(reader, writer, host=host, port=port, domain=domain, tls=tls, verify_tls=verify_tls,
                   recorder=recorder, conn_id=conn_id)

    # --- recording -------------------------------------------------------------------
    def _record(self, type_: str, **fields) -> None:
        if self.recorder is None:
            return
        event = {"t": time.time(), "conn": self.conn_id, "type": type_, **fields}
        self.recorder(event)

    def _record_close(self) -> None:
        if not self._close_recorded:
            self._close_recorded = True
            self._record("close", clean=self._server_closed_stream and self._sent_close)

    # --- reading (a background task fills the inbox) ---------------------------------
    async def _pump(self) -> None:
        try:
            while True:
                data = await self._reader.read(65536)
                if not data:
                    self._end("the server closed the connection")
                    self._writer.close()  # nothing more can arrive: close our side too
                    break
                self._record("data", dir="in", data=self._decoder.decode(data))
                for event in self._parser.feed(data):
                    if isinstance(event, StanzaReceived):
                        self._inbox.append(event.element)
                        self.received += 1
                    elif isinstance(event, StreamOpened):
                        self.stream_attrs = dict(event.attrs)
                    elif isinstance(event, StreamClosed):
                        self._server_closed_stream = True
                        self._end("the server closed the stream")
                    elif isinstance(event, StreamViolation):
                        self._end(f"the server's XML broke the stream rules ({event.condition}: {event.text})")
                self._arrival.set()
        except (ConnectionError, OSError, ssl.SSLError) as exc:
            self._end(f"the connection failed: {exc}")
        finally:
            self._arrival.set()
            if self._ended is not None and (self._writer.is_closing() or self._reader.at_eof()):
                self._record_close()

    def _end(self, reason: str) -> None:
        if self._ended is None:
            self._ended = reason
        self._arrival.set()

    async def _take(self, accept: Callable, timeout: float | None, what: str):
        """Remove and return the first element of the inbox that ``accept`` likes, waiting for it."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            for i, el in enumerate(self._inbox):
                if accept(el):
                    del self._inbox[i]
                    return el
            if self._ended is not None:
                raise StreamEnded(f"{self._ended} while waiting for {what}")
            self._arrival.clear()
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                raise RecvTimeout(f"no {what} within {timeout:g} s for {self._who()}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrival.wait(), remaining)

    async def recv(self, timeout: float | None = 5.0):
        """The next element at depth 1 the server sent (an lxml element), oldest first.

        Raises :class:`RecvTimeout` when none arrives within ``timeout`` seconds
        (None waits for ever), :class:`StreamEnded` when the stream is over and
        nothing is left to read. A ``<stream:error/>`` is returned like any
        element; the call after it raises :class:`StreamEnded`.
        """
        return await self._take(lambda el: True, timeout, "stanza")

    @property
    def unread(self) -> list:
        """Elements that arrived and were not taken yet (a copy of the inbox)."""
        return list(self._inbox)

    @property
    def ended(self) -> str | None:
        """Why the stream is over (``"the server closed the stream"``), or None while it is open."""
        return self._ended

    # --- writing ----------------------------------------------------------------------
    async def send(self, xml) -> None:
        """Send a string exactly as given (it is not checked: raw means raw), or an lxml element."""
        if isinstance(xml, bytes):
            text = xml.decode("utf-8")
        elif isinstance(xml, str):
            text = xml
        else:
            text = serialize(xml, NS_CLIENT)
        if self._writer.is_closing():
            raise StreamEnded(f"cannot send on {self._who()}: the connection is closed")
        self._writer.write(text.encode("utf-8"))
        self._record("data", dir="out", data=text)
        try:
            await self._writer.drain()
        except (ConnectionError, OSError) as exc:
            self._end(f"the connection failed: {exc}")
            raise StreamEnded(f"cannot send on {self._who()}: {exc}") from None

    async def request(self, iq, timeout: float = 5.0):
        """Send an iq (string or element) and return the answer with the same id.

        Everything else that arrives meanwhile stays in the inbox for :meth:`recv`.
        An iq without an id gets one. The answer may be of type error: look at it.
        """
        el = parse_fragment(iq) if isinstance(iq, (str, bytes)) else iq
        if _name(el) != "iq":
            raise ValueError(f"request() sends an <iq/>, not <{_name(el)}/>")
        if el.get("id") is None:
            el.set("id", f"{self.conn_id}-{next(self._ids)}")
            iq = el
        iq_id = el.get("id")
        await self.send(iq)

        def answer(got) -> bool:
            return _is(got, NS_CLIENT, "iq") and got.get("id") == iq_id and got.get("type") in ("result", "error")

        return await self._take(answer, timeout, f"answer to iq {iq_id!r}")

    # --- logging in --------------------------------------------------------------------
    async def login(self, jid: str, password: str, mechanisms=MECHANISMS, resource: str | None = None,
                    timeout: float = 10.0) -> str:
        """Negotiate the stream as ``jid``; returns the full JID the server bound.

        The resource is ``resource``, else the JID's own resource, else the
        server's choice. Raises :class:`LoginError` with the reason.
        """
        unknown = [m for m in mechanisms if m.upper() not in MECHANISMS]
        if unknown:
            raise ValueError(f"this client does not speak {', '.join(unknown)}; it speaks {', '.join(MECHANISMS)}")
        try:
            j = JID(jid)
        except InvalidJID as exc:
            raise LoginError(f"{jid!r} is not a JID: {exc}") from None
        if j.local is None:
            raise LoginError(f"{jid!r} has no user part: log in as user@domain")
        resource = resource or j.resource
        domain = self.domain or j.domain
        neg = ClientNegotiator(domain, user=j.local, password=password, mechanisms=mechanisms, resource=resource,
                               tls=self.tls, sender=str(j.bare))
        actions = collections.deque(neg.start())
        try:
            while True:
                while actions:
                    action = actions.popleft()
                    kind = type(action)
                    if kind is Send:
                        await self.send(action.data)
                    elif kind is Restart:
                        self._parser.reset()
                    elif kind is StartTLS:
                        await self._starttls(domain, timeout)
                        actions.extend(neg.tls_established())
                    elif kind is Authenticated:
                        self.mechanism = action.mechanism
                        self._record("auth", mechanism=action.mechanism, user=str(j.bare))
                    elif kind is Failed:
                        raise LoginError(action.reason)
                    elif kind is Ready:
                        self.jid = action.jid
                        self._record("bound", jid=action.jid)
                        return action.jid
                el = await self._take(neg.expects, timeout, neg.waiting)
                actions.extend(neg.element(el))
                self.features = neg.features
        except StreamEnded as exc:
            raise LoginError(f"the stream ended during login: {exc.reason}") from None
        except RecvTimeout as exc:
            raise LoginError(f"login timed out: {exc}") from None

    async def _starttls(self, domain: str, timeout: float) -> None:
        """RFC 6120 section 5.4.3: the TLS handshake, after <proceed/>."""
        ctx = ssl.create_default_context()
        if not self.verify_tls:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        try:
            await self._writer.start_tls(ctx, server_hostname=domain, ssl_handshake_timeout=timeout)
        except (TimeoutError, ssl.SSLError, ConnectionError, OSError) as exc:
            self._end(f"the TLS handshake failed: {exc}")
            raise LoginError(f"STARTTLS failed: the TLS handshake failed: {exc}") from None
        ssl_object = self._writer.get_extra_info("ssl_object")
        self.tls_version = ssl_object.version() if ssl_object else "TLS"
        cipher = ssl_object.cipher() if ssl_object else None
        self._record("tls", version=self.tls_version, cipher=cipher[0] if cipher else None)

    # --- closing -------------------------------------------------------------------------
    async def close(self, timeout: float = 2.0) -> None:
        """Close the stream (``</stream:stream>``), wait for the server's, close the connection.

        Safe to call more than once. Elements that arrive meanwhile stay in :attr:`unread`.
        """
        if not self._sent_close and self._ended is None and not self._writer.is_closing():
            try:
                await self.send("</stream:stream>")
                self._sent_close = True
                loop = asyncio.get_running_loop()
                deadline = loop.time() + timeout
                while self._ended is None and loop.time() < deadline:
                    self._arrival.clear()
                    try:
                        await asyncio.wait_for(self._arrival.wait(), deadline - loop.time())
                    except TimeoutError:
                        break
            except StreamEnded:
                pass
        self._end("the client closed the stream")
        if not self._writer.is_closing():
            self._writer.close()
        with contextlib.suppress(TimeoutError, ConnectionError, OSError, ssl.SSLError):
            await asyncio.wait_for(self._writer.wait_closed(), timeout)
        if not self._pump_task.done():
            self._pump_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump_task
        self._record_close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # --- looking at it ---------------------------------------------------------------------
    def _who(self) -> str:
        return self.jid or f"{self.conn_id} ({self.host}:{self.port})"

    def __repr__(self) -> str:
        where = f"{self.host}:{self.port}"
        facts = [f for f in (self.tls_version, self.mechanism) if f]
        facts_text = f" ({', '.join(facts)})" if facts else ""
        if self._ended is not None and self._writer.is_closing():
            state = f"closed: {self._ended}"
        elif self._ended is not None:
            state = f"ended: {self._ended}"
        else:
            state = "open"
        who = self.jid or "not logged in"
        unread = f", {len(self._inbox)} unread" if self._inbox else ""
        return f"<RawClient {who} on {where}{facts_text}, {state}{unread}>"
