"""What every XML stream connection of the server shares (client-to-server and server-to-server).

An ``asyncio.Protocol`` that feeds bytes to the sans-IO
:class:`~xmpplab.stream.StreamParser`, hands its events to the subclass
(``stream_opened``, ``element``), coalesces writes (everything written in one
turn of the loop leaves in one socket write), upgrades to TLS in place
(STARTTLS, either side), closes with a stream error, and reports every byte
to the server's recorder as plaintext above TLS.
"""

from __future__ import annotations

import asyncio
import codecs
import logging

from ..errors import STREAM_CONDITIONS, StanzaError, stream_error
from ..stream import StanzaReceived, StreamClosed, StreamOpened, StreamParser

log = logging.getLogger("xmpplab.server")


def fmt_addr(addr) -> str | None:
    if not addr:
        return None
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def xml_attr(value: str) -> str:
    return value.replace("&", "&amp;").replace("'", "&apos;").replace("<", "&lt;")


class StreamConnection(asyncio.Protocol):
    """One TCP connection carrying a pair of XML streams."""

    kind = "c2s"
    role = "receiving"  # the server's role in the stream: it accepted the connection

    def __init__(self, server):
        self.server = server
        self.conn_id = server.next_conn_id(self.kind if self.role == "receiving" else f"{self.kind}out")
        self.parser = StreamParser(server.limits.max_stanza_bytes, server.limits.max_depth)
        self.transport: asyncio.Transport | None = None
        self.peer = None
        self.loopback = False  # the peer is local (Server.limits.local_networks; loopback by default)
        self.secure = False
        self.stream_id: str | None = None
        self.closed = False
        self.tls_pending = False
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._closing = False
        self._early: list[bytes] = []
        self._wbuf: list[str] = []

    # to be provided by subclasses -------------------------------------------
    def stream_opened(self, event: StreamOpened) -> None:
        raise NotImplementedError

    def element(self, el) -> None:
        raise NotImplementedError

    def opened(self) -> None:
        """The TCP connection is up."""

    def lost(self) -> None:
        """The connection is gone (called once)."""

    def send_error_header(self) -> None:
        """Send our stream header before a stream error when none was sent yet."""

    def tls_established(self) -> None:
        """TLS is up; the peer's restarted stream is parsed right after this."""

    # asyncio.Protocol -----------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport
        self.peer = transport.get_extra_info("peername")
        self.loopback = self.server.is_local(self.peer)
        self.server.connections.add(self)
        if self.server.recorder is not None:
            sock = transport.get_extra_info("sockname")
            self.server.record(self.conn_id, "open", peer=fmt_addr(self.peer), local=fmt_addr(sock),
                               kind=self.kind, role=self.role)
        self.opened()

    def data_received(self, data: bytes):
        if self.server.recorder is not None:
            self.server.record(self.conn_id, "data", dir="in", data=self._decoder.decode(data))
        if self.closed:
            return
        if self.tls_pending:
            # The TLS layer hands over the peer's first bytes before start_tls() returns.
            self._early.append(data)
            return
        try:
            self._process(data)
        except Exception as exc:  # never into asyncio's data_received: only this connection ends
            self._failed(exc)

    def _process(self, data: bytes) -> None:
        for event in self.parser.feed(data):
            if self.closed:
                return
            kind = type(event)
            if kind is StanzaReceived:
                self.element(event.element)
            elif kind is StreamOpened:
                self.stream_opened(event)
            elif kind is StreamClosed:
                self.close()
            else:
                self.close(event.condition, event.text)

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
        self.close(abort=True)
        return False

    def connection_lost(self, exc):
        self.closed = True
        self.server.connections.discard(self)
        self.lost()
        if self.server.recorder is not None:
            self.server.record(self.conn_id, "close", clean=self._closing)

    # output ---------------------------------------------------------------
    def write(self, text: str) -> None:
        """Queue text; everything queued in one turn of the loop goes out in one write."""
        if self.transport is None or self.transport.is_closing():
            return
        if self.server.recorder is not None:
            self.server.record(self.conn_id, "data", dir="out", data=text)
        self._wbuf.append(text)
        if len(self._wbuf) == 1:
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Write what is queued now (before STARTTLS and before closing, the order matters)."""
        if not self._wbuf:
            return
        data = "".join(self._wbuf).encode("utf-8")
        self._wbuf = []
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close(self, condition: str | None = None, text: str | None = None, abort: bool = False) -> None:
        """Close the stream, with a stream error first when ``condition`` is given (RFC 6120 4.4)."""
        if self.closed or self._closing:
            return
        self._closing = True
        if self.transport is not None and not self.transport.is_closing():
            if condition:
                if self.stream_id is None:
                    self.send_error_header()
                self.write(stream_error(condition, text))
            if not abort:
                self.write("</stream:stream>")
            self.flush()
            self.transport.close()
        self.closed = True
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
            log.info("%s: TLS handshake failed: %s", self.conn_id, exc)
            if self.transport is not None:
                self.transport.abort()
            self.closed = True
            self.lost()
            return False
        if new_transport is None:
            return False
        self.transport = new_transport
        self.secure = True
        self.tls_pending = False
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
