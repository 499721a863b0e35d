"""XMPP over WebSocket (RFC 7395): a transport adapter in front of the ordinary c2s session.

``Server(http_port=N)`` (``xmpplab serve --http-port N``) listens for HTTP on
port N and serves

- ``ws://HOST:N/xmpp-websocket``: the RFC 6455 handshake (by the sans-IO
  ``websockets.server.ServerProtocol``) must offer the subprotocol ``xmpp``,
  which is answered (RFC 7395 section 3.1); a handshake without it is refused
  with HTTP 400. Handshakes from any ``Origin`` are accepted: a web client's
  page is rarely served by the XMPP server.
- ``/.well-known/host-meta`` and ``host-meta.json`` (XEP-0156, see
  :mod:`xmpplab.server.http`).
- what modules serve: GET through the ``http-request`` event, any other method
  (a XEP-0363 upload's PUT) through ``http-exchange``
  (:mod:`xmpplab.server.http_exchange`).

Behind the handshake sits a plain :class:`~xmpplab.server.c2s.C2SSession`,
the same class as for TCP, with a :class:`WebSocketTransport` as its asyncio
transport: every message from the client goes through
:class:`~xmpplab.server.ws_framing.Framing` (one complete element per message;
``<open/>`` becomes a stream header) and is then handed to the session as bytes,
so the session's parser, negotiation, limits (stanza size, bytes per second,
unsent bytes, connections per address) and recording are those of TCP. What the
session writes is cut back into one message per element.

TLS (RFC 7395 section 3.9): there is no STARTTLS inside WebSocket. While the
server has TLS (the default), the HTTP port speaks TLS only (``wss://``, with
the server's certificate) and a WebSocket session counts as encrypted. With
``tls=False`` (loopback only) it is plain ``ws://`` and behaves like plain TCP
on loopback; a peer that is not local (``Limits.local_networks``) then gets the
TLS-first rule of :mod:`~xmpplab.server.c2s`: no login at all, its stream is
closed with ``<policy-violation/>``.

Messages larger than ``Limits.max_stanza_bytes`` are refused by the WebSocket
layer itself (close code 1009, "message too big", RFC 6455 section 7.4.1).
Where the per-address limits apply, an HTTP connection counts as one that has
not logged in (``Limits.unauthenticated_per_address``) until its session takes
over the counting; one over that limit is closed at once.
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus

from websockets.datastructures import Headers
from websockets.frames import Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.server import ServerProtocol

from . import http, http_exchange
from .addresses import address_key
from .c2s import C2SSession
from .ws_framing import Framing

log = logging.getLogger("xmpplab.server")

SUBPROTOCOL = "xmpp"  # RFC 7395 section 3.1, registered with IANA (section 5)
#: Seconds a closed WebSocket waits for the client's closing handshake before the TCP connection goes.
CLOSE_TIMEOUT = 5.0


class WebSocketTransport(asyncio.Transport):
    """What the c2s session writes to and pauses: one WebSocket connection, seen as a byte stream."""

    def __init__(self, conn: HttpConnection):
        super().__init__()
        self._conn = conn

    def write(self, data) -> None:
        """Send what the session wrote, one WebSocket message per XML element."""
        self._conn.send_stream(bytes(data))

    def is_closing(self) -> bool:
        """Whether the WebSocket is closing (no more messages can be sent)."""
        return self._conn.closing

    def close(self) -> None:
        """Start the WebSocket closing handshake (the stream was closed with ``<close/>`` already)."""
        self._conn.close_websocket()

    def abort(self) -> None:
        """Drop the TCP connection at once, without a closing handshake."""
        self._conn.tcp.abort()

    def pause_reading(self) -> None:
        """Stop reading from the TCP connection (flow control of the session)."""
        self._conn.tcp.pause_reading()

    def resume_reading(self) -> None:
        """Read from the TCP connection again."""
        self._conn.tcp.resume_reading()

    def is_reading(self) -> bool:
        """Whether the TCP connection is being read."""
        return self._conn.tcp.is_reading()

    def get_write_buffer_size(self) -> int:
        """Bytes waiting in the TCP connection's buffer (the session's output cap counts them)."""
        return self._conn.tcp.get_write_buffer_size()

    def can_write_eof(self) -> bool:
        """False: a WebSocket ends with a closing handshake, not a half-close."""
        return False

    def get_extra_info(self, name, default=None):
        """The TCP connection's extra info (peer name, socket, TLS object)."""
        return self._conn.tcp.get_extra_info(name, default)


class HttpConnection(asyncio.Protocol):
    """One TCP (or TLS) connection to the HTTP port: a request, then maybe a WebSocket with a c2s session."""

    def __init__(self, server, listener: HttpListener):
        self.server = server
        self.listener = listener
        limits = server.limits
        self.ws = ServerProtocol(subprotocols=[SUBPROTOCOL], max_size=limits.max_stanza_bytes)
        self.framing = Framing(limits.max_stanza_bytes, limits.max_depth, limits.max_attributes)
        self.tcp: asyncio.Transport | None = None
        self.session: C2SSession | None = None
        self.secure = False
        self._fragments: list[bytes] | None = None  # a message that arrives in several frames (RFC 6455 5.4)
        self._timer: asyncio.TimerHandle | None = None
        self._counted: str | None = None  # the address key counted in throttle.unauthenticated meanwhile
        self._head: bytearray | None = bytearray()  # the first request, until its method says who reads it
        self.exchange: http_exchange.Exchange | None = None  # a request other than GET (XEP-0363 PUT)

    @property
    def closing(self) -> bool:
        """Nothing more can be sent: the closing handshake has started, or the TCP connection is going."""
        return self.ws.state is not State.OPEN or self.tcp is None or self.tcp.is_closing()

    # asyncio.Protocol --------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        """A browser connected: count it against its address until it has a session."""
        self.tcp = transport
        self.secure = transport.get_extra_info("ssl_object") is not None
        peer = transport.get_extra_info("peername")
        if self.server.limits.applies_to(peer):
            # Until it is a WebSocket with a session (which counts itself), a connection counts as one that
            # has not logged in: a flood of idle HTTP connections is bounded like one of idle XMPP ones.
            unauthenticated = self.server.throttle.unauthenticated
            key = address_key(peer)
            if unauthenticated.full(key):
                log.info("http: %s refused: too many connections from it that have not logged in", key)
                return transport.close()
            unauthenticated.add(key)
            self._counted = key
        self.listener.pending.add(self)
        timeout = self.server.limits.negotiation_timeout
        if timeout:  # a connection that never completes its request does not stay forever
            self._timer = asyncio.get_running_loop().call_later(timeout, self._timed_out)

    def data_received(self, data: bytes) -> None:
        """Feed the bytes to the WebSocket protocol and handle the requests and frames it finds."""
        if self.exchange is not None:
            return self.exchange.data_received(data)
        if self._head is not None:  # GET goes to the WebSocket protocol; any other method is an Exchange
            data = self._route(data)
            if data is None:
                return
        self.ws.receive_data(data)
        self._handle(self.ws.events_received())

    def _route(self, data: bytes) -> bytes | None:
        head = self._head
        head += data
        try:
            method = http_exchange.first_method(head)
            if method is None:
                return None
            if method == "GET":
                self._head = None
                return bytes(head)
            end = head.find(b"\r\n\r\n")
            if end < 0:
                if len(head) > http_exchange.MAX_HEAD:
                    raise http_exchange.BadRequest("the request head is too long")
                return None
            parsed = http_exchange.parse_head(bytes(head[:end]))
            host = parsed.headers.get("host") or f"{self.server.address[0]}:{self.listener.port}"
            exchange = http_exchange.Exchange(parsed, host, self.secure, self.tcp.write, self.tcp.close)
        except http_exchange.BadRequest as exc:
            self._head = None
            self.tcp.write(http_exchange.format_response(400, http_exchange.TEXT, f"{exc}\n".encode()))
            self.tcp.close()
            return None
        self._head = None
        self.exchange = exchange
        if exchange.start(self.server.hooks, bytes(head[end + 4:])):
            return None
        if exchange.length or "transfer-encoding" in parsed.headers:
            # a body nobody takes: answered here, since the WebSocket library would close without a word
            exchange.respond(405, {"Allow": "GET, HEAD", **http_exchange.TEXT},
                             f"{exchange.method} {exchange.path}: nothing here takes a body\n".encode())
            return None
        self.exchange = None  # no module takes it: served as before (HEAD of host-meta, say)
        return bytes(head)

    def eof_received(self):
        """The peer half-closed: send what is left, then tell the session."""
        self.ws.receive_eof()
        self._flush()
        if self.session is not None:
            self.session.eof_received()
        return False

    def connection_lost(self, exc) -> None:
        """The connection is gone: stop counting it and tell the session."""
        self.listener.pending.discard(self)
        self._uncount()
        self._cancel_timer()
        if self.exchange is not None:
            self.exchange.connection_lost()
        if self.session is not None:
            self.session.connection_lost(exc)

    def pause_writing(self) -> None:
        """The TCP buffer is full: the session stops writing (flow control)."""
        if self.session is not None:
            self.session.pause_writing()

    def resume_writing(self) -> None:
        """The TCP buffer drained: the session may write again."""
        if self.session is not None:
            self.session.resume_writing()

    # input -----------------------------------------------------------------------------
    def _handle(self, events) -> None:
        for event in events:
            if isinstance(event, Request):
                self._request(event)
            elif self.session is not None:
                self._frame(event)
        self._flush()

    def _request(self, request: Request) -> None:
        host = request.headers.get("Host") or f"{self.server.address[0]}:{self.listener.port}"
        if request.path.partition("?")[0] != http.WEBSOCKET_PATH:
            page = http.HttpRequest(getattr(request, "method", "GET"), request.path, host, self.secure)
            if self.server.hooks.first("http-request", page):  # a module serves this path (a chat page, say)
                status, headers, body = page.response
            else:
                status, headers, body = http.respond(page.method, page.path, host, self.secure)
            return self.ws.send_response(Response(status, HTTPStatus(status).phrase, _headers(headers, body), body))
        response = self.ws.accept(request)
        self.ws.send_response(response)
        if response.status_code != 101:
            return
        self._cancel_timer()
        self._uncount()
        self.listener.pending.discard(self)
        session = C2SSession(self.server)
        session.transport_kind = "websocket"
        session.secure = self.secure  # TLS below the WebSocket: no STARTTLS inside it (RFC 7395 3.9)
        self.session = session
        self._flush()  # the 101 response before anything the session writes
        session.connection_made(WebSocketTransport(self))
        if self.secure and self.server.recorder is not None and not session.closed:
            ssl_obj = self.tcp.get_extra_info("ssl_object")
            self.server.record(session.conn_id, "tls", version=ssl_obj.version(),
                               cipher=(ssl_obj.cipher() or [None])[0])

    def _frame(self, frame) -> None:
        session = self.session
        if frame.opcode is Opcode.TEXT or frame.opcode is Opcode.CONT:
            if frame.opcode is Opcode.TEXT and not frame.fin:
                self._fragments = [frame.data]
                return
            if self._fragments is not None:
                self._fragments.append(frame.data)
                if not frame.fin:
                    return
                data, self._fragments = b"".join(self._fragments), None
            else:
                data = frame.data
            self._message(data)
        elif frame.opcode is Opcode.BINARY:
            session.close("bad-format", "XMPP over WebSocket uses text messages only (RFC 7395 section 3.2)")
        elif frame.opcode is Opcode.CLOSE and not session.closed:
            # the client closed the WebSocket without closing the stream first: like a TCP connection cut
            session.close(abort=True)

    def _message(self, data: bytes) -> None:
        session = self.session
        if session.closed:
            return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return session.close("not-well-formed", "a WebSocket text message must be UTF-8 (RFC 6455 5.6)")
        stream = self.framing.incoming(text)
        if isinstance(stream, bytes):
            if stream:
                session.data_received(stream)
        else:
            session.close(stream.condition, stream.text)

    # output ----------------------------------------------------------------------------
    def send_stream(self, data: bytes) -> None:
        """The session wrote ``data`` (stream text): send it as RFC 7395 messages."""
        if self.closing:
            return
        for message in self.framing.outgoing(data):
            self.ws.send_text(message.encode("utf-8"))
        self._flush()

    def close_websocket(self) -> None:
        """Close the WebSocket (code 1000); the TCP connection follows the client's answer, or a timeout."""
        if self.ws.state is State.OPEN:
            self.ws.send_close(1000)
            self._flush()
            if self.listener.closed and self.tcp is not None:
                self.tcp.close()  # the server is stopping: it does not wait for the client's answer

    def _flush(self) -> None:
        if self.tcp is None:
            return
        for data in self.ws.data_to_send():
            if self.tcp.is_closing():
                continue  # aborted or closed meanwhile: nothing more can leave
            if data:
                self.tcp.write(data)
            else:  # the end of the WebSocket (websockets.protocol.SEND_EOF): the server closes TCP
                self.tcp.close()
        if self.ws.close_expected() and self._timer is None and not self.tcp.is_closing():
            self._timer = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, self._timed_out)

    def _timed_out(self) -> None:
        self._timer = None
        if self.tcp is not None and not self.tcp.is_closing():
            self.tcp.abort()

    def _uncount(self) -> None:
        if self._counted is not None:
            self.server.throttle.unauthenticated.remove(self._counted)
            self._counted = None

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _headers(fields: dict, body: bytes) -> Headers:
    headers = Headers(fields)
    headers["Content-Length"] = str(len(body))
    headers["Connection"] = "close"
    return headers


class HttpListener:
    """The listening socket of the HTTP port, closed with the server (``Server.stop``)."""

    def __init__(self, server):
        self.server = server
        self.pending: set[HttpConnection] = set()  # connections without a WebSocket session yet
        self.closed = False
        self._listener: asyncio.base_events.Server | None = None

    async def start(self, host, port: int) -> HttpListener:
        """Listen on ``host``:``port``, with TLS (wss) when the server has a TLS context."""
        self._listener = await asyncio.get_running_loop().create_server(
            lambda: HttpConnection(self.server, self), host, port, ssl=self.server.tls_context,
            reuse_address=True, backlog=1024, ssl_handshake_timeout=10 if self.server.tls_context else None)
        return self

    @property
    def sockets(self):
        """The listening sockets."""
        return self._listener.sockets

    @property
    def port(self) -> int:
        """The port the HTTP listener is bound to (useful with ``http_port=0``)."""
        return self._listener.sockets[0].getsockname()[1]

    def close(self) -> None:
        """Stop listening; end the connections that have no session (sessions are closed by the server)."""
        self.closed = True
        self._listener.close()
        for conn in list(self.pending):
            if conn.tcp is not None:
                conn.tcp.abort()
        self.pending.clear()

    async def wait_closed(self) -> None:
        """Wait until the listener is closed."""
        await self._listener.wait_closed()


async def listen(server, host, port: int) -> HttpListener:
    """Start the HTTP port of ``server`` (``Server(http_port=...)``)."""
    try:
        return await HttpListener(server).start(host, port)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot listen for HTTP (WebSocket) on {host} port {port}: "
                                 f"{exc.strerror}") from None
