"""What every XML stream connection of the server shares (client-to-server and server-to-server).

An ``asyncio.Protocol`` that feeds bytes to the sans-IO
:class:`~xmpplab.stream.StreamParser`, hands its events to the subclass
(``stream_opened``, ``element``), coalesces writes (everything written in one
turn of the loop leaves in one socket write), upgrades to TLS in place
(STARTTLS, either side), closes with a stream error, and reports every byte
to the server's recorder as plaintext above TLS.

Flow control (RFC 6120 section 13.12, denial of service), with the limits of
:class:`~xmpplab.server.limits.Limits`:

- **Unsent bytes.** What waits for the peer (our queue, the TLS layer's and
  the socket's buffers: :attr:`StreamConnection.unsent_bytes`) is capped at
  ``max_unsent_bytes``. The transport's ``pause_writing`` keeps our queue
  out of the socket buffer. Above the cap the server stops reading from the
  peer, also between the stanzas of one read (the rest waits, in order, and
  is handled once the peer has read its answers); stanzas that others route
  to it are refused with ``<resource-constraint/>`` (type ``wait``, RFC 6120
  section 8.3.3.18) rather than queued, so the cap holds whoever sends;
  and a peer that stays above the cap for ``unsent_timeout`` seconds is closed
  with ``<policy-violation/>`` (section 4.9.3.14). What never reached the
  socket is dropped then; the socket's buffer gets as long again to drain.
- **Bytes per second.** A peer the per-address limits apply to
  (``limits.applies_to``) may send ``bytes_per_second``, with a burst of one
  second's worth: a token bucket (:mod:`~xmpplab.server.bucket`). Reading
  pauses while it is in debt, and the bytes of a read beyond the rate are
  handled once they are earned, so a larger read does not pass sooner.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
import math
import time

from ..errors import STREAM_CONDITIONS, StanzaError, error_reply, stream_error
from ..escape import escape_attr as xml_attr  # noqa: F401 - c2s and s2s import it from here
from ..negotiation.actions import Close, Restart, Send, StartTLS
from ..sockaddr import format_address as fmt_addr
from ..stream import StanzaReceived, StreamClosed, StreamOpened, StreamParser
from ..xml import local_name
from .bucket import TokenBucket
from .tasks import Tasks

log = logging.getLogger("xmpplab.server")

# Why reading from a peer is paused (bits of StreamConnection._holds).
HOLD_OUTPUT = 1  # its unsent bytes are above Limits.max_unsent_bytes
HOLD_RATE = 2    # it sent more than Limits.bytes_per_second allows
HOLD_WORK = 4    # work for it runs off the event loop (password hashing): its next bytes wait, unparsed


class StreamConnection(asyncio.Protocol):
    """One TCP connection carrying a pair of XML streams."""

    kind = "c2s"
    role = "receiving"  # the server's role in the stream: it accepted the connection
    transport_kind = "tcp"  # or "websocket" (RFC 7395, server/websocket.py): recorded when not "tcp"

    def __init__(self, server):
        self.server = server
        self.conn_id = server.next_conn_id(self.kind if self.role == "receiving" else f"{self.kind}out")
        self.tasks = Tasks(self.conn_id, server.tasks)  # cancelled when this connection closes (server/tasks.py)
        self.slots: dict = {}  # the modules' state on this session (server/slots.py)
        limits = server.limits
        self.parser = StreamParser(limits.max_stanza_bytes, limits.max_depth, limits.max_attributes)
        self.transport: asyncio.Transport | None = None
        self.peer = None
        self.loopback = False  # the peer is local (Server.limits.local_networks; loopback by default)
        self.secure = False
        self.stream_id: str | None = None
        self.closed = False
        self.tls_pending = False
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._closing = False
        self._closed_cleanly = False  # this side ended the stream with </stream:stream> (not a dropped connection)
        self.peer_ended = False      # the peer closed its stream (</stream:stream>), not just the connection
        self.close_condition = None  # the stream error we closed with, if any
        self._early: list[bytes] = []
        self._wbuf: list[str] = []
        # flow control (see the module's docstring)
        self._wlen = 0              # bytes in _wbuf
        self._tsize = 0             # bytes in the transport's buffers when last looked (they only drain since)
        self._cap = server.limits.max_unsent_bytes
        self._wpaused = False       # the transport asked us to stop writing (pause_writing)
        self._holds = 0             # HOLD_* bits: why reading is paused
        self._in_element = False    # handling one of this peer's own stanzas
        self._pending = None        # (events, index) not handled yet when the output went over the cap
        self._backlog = None        # bytes read meanwhile, handled after _pending, in order
        self._stall = None          # timer: closes a peer that stays over the cap
        self._bucket = None         # TokenBucket when bytes_per_second applies to the peer
        self._raw = None            # the TCP transport under TLS

    # to be provided by subclasses -------------------------------------------
    def stream_opened(self, event: StreamOpened) -> None:
        """The peer's stream header arrived (RFC 6120 4.2): the subclass answers it."""
        raise NotImplementedError

    def element(self, el) -> None:
        """A top-level element of the peer's stream arrived (RFC 6120 4.1): the subclass handles it."""
        raise NotImplementedError

    def opened(self) -> None:
        """The TCP connection is up."""

    def lost(self) -> None:
        """The connection is gone (called once)."""

    def send_error_header(self) -> None:
        """Send our stream header before a stream error when none was sent yet."""

    def tls_established(self) -> None:
        """TLS is up; the peer's restarted stream is parsed right after this."""

    def act(self, action) -> None:
        """Perform one of the negotiator's actions that :meth:`_do` leaves to the subclass."""

    def tls_upgrade(self):
        """The STARTTLS upgrade to run (a coroutine): the receiving side's, with the server's certificate."""
        return self.start_tls(self.server.tls_context, server_side=True)

    # the negotiator's actions (xmpplab.negotiation.actions) ---------------------------------------------
    neg = None  # the sans-IO negotiator this connection performs for: it has .stream_id

    def _do(self, actions: list) -> None:
        """Perform the negotiator's actions, in order: sending, closing, STARTTLS (RFC 6120 5.4.3.3) and the
        stream restart (4.3.3) here, the others in :meth:`act`."""
        for action in actions:
            kind = type(action)
            if kind is Send:
                self.write(action.data)
                self.stream_id = self.neg.stream_id
            elif kind is Close:
                return self.close(action.condition, action.text)
            elif kind is StartTLS:
                self.prepare_tls()  # <proceed/> leaves in plaintext; the next bytes are the handshake
                self.tasks.start(self.tls_upgrade(), "STARTTLS")
            elif kind is Restart:
                self.parser.reset()
            else:
                self.act(action)

    # asyncio.Protocol -----------------------------------------------------
    def connection_made(self, transport):
        """A peer connected: note its address and limits, record the connection, call :meth:`opened`."""
        self.transport = transport
        self.peer = transport.get_extra_info("peername")
        self.loopback = self.server.is_local(self.peer)
        limits = self.server.limits
        if limits.applies_to(self.peer):
            self._bucket = TokenBucket(limits.bytes_per_second, limits.bytes_per_second, time.monotonic())
        self.server.connections.add(self)
        if self.server.recorder is not None:
            sock = transport.get_extra_info("sockname")
            extra = {"transport": self.transport_kind} if self.transport_kind != "tcp" else {}
            self.server.record(self.conn_id, "open", peer=fmt_addr(self.peer), local=fmt_addr(sock),
                               kind=self.kind, role=self.role, **extra)
        self.opened()

    def data_received(self, data: bytes):
        """Bytes from the peer: record them, keep to the rate limit, and feed them to the parser."""
        if self.server.recorder is not None:
            self.server.record(self.conn_id, "data", dir="in", data=self._decoder.decode(data))
        if self.closed:
            return
        if self.tls_pending:
            # The TLS layer hands over the peer's first bytes before start_tls() returns.
            self._early.append(data)
            return
        try:
            if self._bucket is not None and self._bucket.take(len(data), time.monotonic()):
                # Over the rate: stop reading, and handle the bytes beyond it once they are earned.
                late = min(len(data), math.ceil(-self._bucket.tokens))
                if not self._holds & HOLD_RATE:
                    self._hold(HOLD_RATE)
                    asyncio.get_running_loop().call_later(late / self._bucket.rate, self._refilled)
                if late < len(data):
                    self._process(data[:-late])
                if self._backlog is None:
                    self._backlog = []
                self._backlog.append(data[-late:])
                return
            self._process(data)
        except Exception as exc:  # never into asyncio's data_received: only this connection ends
            self._failed(exc)

    def _process(self, data: bytes) -> None:
        if self._pending is not None or self._backlog or self._holds & HOLD_WORK:  # earlier input waits
            if self._backlog is None:
                self._backlog = []
            self._backlog.append(data)
            return
        self._run(self.parser.feed(data), 0)

    def _run(self, events: list, i: int) -> None:
        """Handle ``events[i:]``; stop (and keep the rest) when the peer's output goes over the cap."""
        n = len(events)
        while i < n:
            if self.closed:
                return
            if self._holds & (HOLD_OUTPUT | HOLD_WORK):
                self._pending = (events, i)
                return
            event = events[i]
            i += 1
            kind = type(event)
            if kind is StanzaReceived:
                self._in_element = True
                try:
                    self.element(event.element)
                finally:
                    self._in_element = False
            elif kind is StreamOpened:
                self.stream_opened(event)
            elif kind is StreamClosed:
                self.peer_ended = True
                self.close()
            else:
                self.close(event.condition, event.text)

    def _resume(self) -> None:
        """The peer has read its answers, or earned its bytes: handle what waited, in order."""
        if self._holds & (HOLD_OUTPUT | HOLD_WORK) or self.closed:
            return
        try:
            if self._pending is not None:
                (events, i), self._pending = self._pending, None
                self._run(events, i)
            while self._backlog and self._pending is None and not self._holds & HOLD_RATE and not self.closed:
                data = self._backlog.pop(0)
                self._run(self.parser.feed(data), 0)
        except Exception as exc:  # as in data_received: only this connection ends
            self._failed(exc)
        if not self._backlog:
            self._backlog = None

    def _failed(self, exc: Exception) -> None:
        """Processing this connection's input raised: close it with a stream error, log it once.

        An expected fault (a :class:`~xmpplab.errors.StanzaError` such as a full disk, already
        logged where it happened) gets one line; anything else is a bug and gets its traceback.
        """
        if isinstance(exc, StanzaError):
            log.warning("%s: closed after %s", self.conn_id, exc)
            condition = exc.condition if exc.condition in STREAM_CONDITIONS else "internal-server-error"
        else:
            log.exception("%s: closed after a server error", self.conn_id)
            condition = "internal-server-error"
        self.close(condition)

    def eof_received(self):
        """The peer half-closed the connection: close ours too."""
        self.close(abort=True)
        return False

    def connection_lost(self, exc):
        """The connection is gone: forget it, cancel its tasks, call :meth:`lost`, record the close."""
        self._drop_flow_state()
        self.closed = True
        self.server.connections.discard(self)
        self.tasks.cancel()
        self.lost()
        if self.server.recorder is not None:
            self.server.record(self.conn_id, "close", clean=self._closed_cleanly)

    # output ---------------------------------------------------------------
    def write(self, text: str) -> None:
        """Queue text; everything queued in one turn of the loop goes out in one write."""
        if self.transport is None or self.transport.is_closing():
            return
        if self.server.recorder is not None:
            self.server.record(self.conn_id, "data", dir="out", data=text)
        self._wbuf.append(text)
        self._wlen += len(text) if text.isascii() else len(text.encode("utf-8"))
        if len(self._wbuf) == 1 and not self._wpaused:
            asyncio.get_running_loop().call_soon(self._flush_turn)
        if self._wlen + self._tsize > self._cap:
            self._check_output()

    def _flush_turn(self) -> None:
        if not self._wpaused:
            self.flush()

    def flush(self) -> None:
        """Write what is queued now (before STARTTLS and before closing, the order matters)."""
        if not self._wbuf:
            return
        data = "".join(self._wbuf).encode("utf-8")
        self._wbuf = []
        self._wlen = 0
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)
        if self._holds & HOLD_OUTPUT:
            self._check_output()
        else:
            self._tsize = self._transport_size()

    @property
    def unsent_bytes(self) -> int:
        """Bytes written to this peer that it has not received yet: our queue, TLS's and the socket's buffers."""
        return self._wlen + self._transport_size()

    def _transport_size(self) -> int:
        if self.transport is None:
            return 0
        if self._raw is None:
            return self.transport.get_write_buffer_size()
        return self.transport.get_write_buffer_size() + self._raw.get_write_buffer_size()

    def accepts(self, stanza) -> bool:
        """Whether a stanza for this peer may be queued; if not, its sender is told (RFC 6120 8.3.3.18).

        The peer's own answers are always queued (reading stops at the cap, so they
        exceed it by one stanza's answers at most). What others route to a peer above
        the cap is refused: a message or an iq get/set with ``<resource-constraint/>``
        of type ``wait``; presence and results are dropped (no error answers an error).
        """
        if not self._holds & HOLD_OUTPUT or self._in_element:
            return True
        kind, stype = local_name(stanza.tag), stanza.get("type")
        if (kind == "message" and stype != "error") or (kind == "iq" and stype in ("get", "set")):
            self.server.router.route(error_reply(stanza, "resource-constraint",
                                                 "the recipient is not reading what it is sent", "wait"))
        return False

    # flow control (asyncio.Protocol) ------------------------------------------------
    def pause_writing(self) -> None:
        """The transport's buffer is full: keep what is written in our queue."""
        self._wpaused = True

    def resume_writing(self) -> None:
        """The transport's buffer has drained: send what was queued meanwhile."""
        self._wpaused = False
        self.flush()
        if self._holds & HOLD_OUTPUT:
            self._check_output()

    def _check_output(self) -> None:
        """Hold or release reading as the unsent bytes cross the cap."""
        self._tsize = self._transport_size()
        over = self._wlen + self._tsize > self._cap
        if over and not self._holds & HOLD_OUTPUT:
            self._hold(HOLD_OUTPUT)
            if self._stall is None and not self.closed:
                self._stall = asyncio.get_running_loop().call_later(
                    self.server.limits.unsent_timeout, self._stalled)
        elif not over and self._holds & HOLD_OUTPUT:
            if self._stall is not None:
                self._stall.cancel()
                self._stall = None
            self._release(HOLD_OUTPUT)
            if self._pending is not None or self._backlog:
                asyncio.get_running_loop().call_soon(self._resume)

    def _hold(self, why: int) -> None:
        if not self._holds and self.transport is not None and not self.tls_pending:
            self.transport.pause_reading()
        self._holds |= why

    def _release(self, why: int) -> None:
        self._holds &= ~why
        if not self._holds and self.transport is not None and not self.tls_pending and not self.closed:
            self.transport.resume_reading()

    def _refilled(self) -> None:
        """The rate limit's pause is over, unless the bucket is still in debt."""
        if self.closed:
            return
        wait = self._bucket.take(0, time.monotonic())
        if wait:
            asyncio.get_running_loop().call_later(wait, self._refilled)
            return
        self._release(HOLD_RATE)
        if self._pending is not None or self._backlog:
            self._resume()

    def _stalled(self) -> None:
        """The peer stayed above the cap for unsent_timeout seconds: close it (RFC 6120 4.9.3.14)."""
        self._stall = None
        if self.closed or not self._holds & HOLD_OUTPUT:
            return
        timeout = self.server.limits.unsent_timeout
        log.info("%s: closed with policy-violation: %d bytes were not read for %g s",
                 self.conn_id, self.unsent_bytes, timeout)
        self._wbuf, self._wlen = [], 0  # never reached the socket: drop it, so the error comes next
        self._pending = self._backlog = None
        self.close("policy-violation", f"{self._cap} bytes or more were not read for {timeout:g} s", linger=True)

    def _abort_if_lingering(self) -> None:
        """Closed, but the peer never read the rest: let the connection go."""
        if self in self.server.connections and self.transport is not None:
            self.transport.abort()

    def _drop_flow_state(self) -> None:
        self._pending = self._backlog = None
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None

    def close(self, condition: str | None = None, text: str | None = None, abort: bool = False,
              linger: bool = False) -> None:
        """Close the stream, with a stream error first when ``condition`` is given (RFC 6120 4.4).

        ``linger``: the peer has sent more than was read; without TLS, only our half
        of the TCP connection is shut and its bytes are read and dropped until it
        closes, since closing with unread bytes resets the connection and the peer
        could lose the stream error.
        """
        if self.closed or self._closing:
            return
        self._closing = True
        self._closed_cleanly = not abort
        self.close_condition = condition
        transport = self.transport
        if transport is not None and not transport.is_closing():
            if condition:
                if self.stream_id is None:
                    self.send_error_header()
                self.write(stream_error(condition, text))
            if not abort:
                self.write("</stream:stream>")
            self.flush()
            if linger and self._raw is None and transport.can_write_eof():
                transport.write_eof()
                self._holds = 0
                transport.resume_reading()  # data_received drops what arrives from now on
            else:
                transport.close()
            if self.unsent_bytes or linger:
                asyncio.get_running_loop().call_later(self.server.limits.unsent_timeout, self._abort_if_lingering)
        self._drop_flow_state()
        self.closed = True
        self.tasks.cancel()
        self.lost()

    # TLS --------------------------------------------------------------------
    def prepare_tls(self) -> None:
        """Stop reading plaintext now: the next bytes from the peer are its TLS handshake."""
        if not self.tls_pending:
            self.flush()  # <proceed/> must leave in plaintext before the handshake starts
            self.tls_pending = True
            self.transport.pause_reading()

    async def start_tls(self, context, server_side: bool, server_hostname: str | None = None) -> bool:
        """Upgrade this connection to TLS in place; the stream restarts afterwards."""
        self.prepare_tls()
        loop = asyncio.get_running_loop()
        try:
            new_transport = await loop.start_tls(self.transport, self, context, server_side=server_side,
                                                 server_hostname=server_hostname, ssl_handshake_timeout=10)
        except Exception as exc:  # the handshake failed: nothing readable can be sent any more
            if isinstance(exc, ConnectionResetError) and not str(exc):
                # the peer hung up during the handshake: after a refused hello server/tls.py already logged why
                log.debug("%s: the peer closed the connection during the TLS handshake", self.conn_id)
            else:
                log.info("%s: TLS handshake failed: %s", self.conn_id, str(exc) or repr(exc))
            if self.transport is not None:
                self.transport.abort()
            self.closed = True
            self.lost()
            return False
        if new_transport is None:
            return False
        self._raw = self.transport
        self.transport = new_transport
        self._wpaused = False
        self.secure = True
        self.tls_pending = False
        if self._holds:
            new_transport.pause_reading()
        self.parser.reset()
        if self.server.recorder is not None:
            ssl_obj = new_transport.get_extra_info("ssl_object")
            self.server.record(self.conn_id, "tls", version=ssl_obj.version() if ssl_obj else None,
                               cipher=(ssl_obj.cipher() or [None])[0] if ssl_obj else None)
        self.tls_established()
        early, self._early = self._early, []
        for data in early:
            if not self.closed:
                try:
                    self._process(data)
                except Exception as exc:
                    self._failed(exc)
        return True
