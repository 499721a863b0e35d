"""A recording proxy: sits between any client and any server and records both streams in plaintext.

::

    recorder = JsonlRecorder("gajim.jsonl", recorded_by="xmpplab proxy")
    async with RecordingProxy("127.0.0.1", 5223, "xmpp.example.org", 5222, recorder) as proxy:
        ...   # point Gajim, Conversations or a bot at 127.0.0.1:5223

or from a shell: ``xmpplab record --listen 5223 --upstream xmpp.example.org:5222 -o gajim.jsonl``.

Each client connection gets its own upstream connection, and the proxy
forwards bytes both ways as they come. Wireshark shows a learner nothing
after STARTTLS; the proxy shows everything, because it is a
man-in-the-middle on purpose, in the open: when the client sends
``<starttls/>`` (RFC 6120 section 5) the proxy forwards it, waits for the
server's ``<proceed/>``, does the TLS handshake with the server as a client,
then forwards ``<proceed/>`` and does the TLS handshake with the client as a
server, **with its own self-signed certificate** for the domain the client
asked for (:func:`xmpplab.certs.server_context`; its SHA-256
fingerprint is logged). The client must accept that certificate, as it
would for the lab's own server: that is the price of seeing the stream. From
then on the proxy holds the plaintext of both legs and records it.

SASL passes through untouched (the proxy does not need the password; a
SCRAM exchange even proves the client and the server to each other through
it). Because of that, SASL mechanisms with channel binding (``-PLUS``) fail
through the proxy, as they should: channel binding exists to detect exactly
this.

The recording uses the lab server's events (:mod:`xmpplab.recording`): one
connection per client (``proxy-1``, ``proxy-2``...), ``role`` "receiving"
as if the proxy were the server (``in`` is client to server), the client's
address as ``peer``, the proxy's as ``local``, and the server's as
``upstream`` in the ``open`` event; a ``tls`` event gives both legs'
versions (``version`` is the client's leg, ``upstream_version`` the
server's) and the proxy certificate's fingerprint; ``auth`` and ``bound``
events, as the server writes them, come from watching the negotiation
(after binding the proxy only forwards and records). Direct TLS (XEP-0368, port 5223 on many servers) is not proxied:
the client must use STARTTLS.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import itertools
import logging
import ssl
import time
from collections.abc import Callable
from pathlib import Path

from .delegate import delegated
from .escape import escape_text as _esc
from .lifecycle import StartStop
from .listener import Listener
from .pinning import as_check, of_der, of_pem
from .sockaddr import format_address as _fmt
from .stream import StanzaReceived, StreamOpened, StreamParser, StreamViolation
from .xml import NS_BIND, NS_CLIENT, NS_SASL, NS_STREAM, NS_STREAMS, NS_TLS, qname

log = logging.getLogger("xmpplab.proxy")

_STARTTLS = qname(NS_TLS, "starttls")
_PROCEED = qname(NS_TLS, "proceed")
_TLS_FAILURE = qname(NS_TLS, "failure")
_SASL_SUCCESS = qname(NS_SASL, "success")
_AUTH = qname(NS_SASL, "auth")
_IQ = qname(NS_CLIENT, "iq")
_BIND, _BIND_JID = qname(NS_BIND, "bind"), qname(NS_BIND, "jid")

CERTIFICATE_WARNING = ("the proxy terminates TLS with its own self-signed certificate: a client that uses "
                       "STARTTLS must accept that certificate (it is not the server's), or the connection fails")


class _Closed(Exception):
    """The proxied connection is over; the message says why."""


class RecordingProxy(StartStop):
    """Forward and record client connections to ``upstream_host:upstream_port`` (see the module docstring).

    ``recorder`` takes one event dict at a time (a :class:`~xmpplab.recording.MemoryRecorder`,
    a :class:`~xmpplab.recording.JsonlRecorder`...). ``cert`` (and ``key``, when not in the
    same PEM file) replace the self-signed certificate. ``upstream_tls_verify`` checks the
    server's certificate and name; ``upstream_fingerprint`` (``"sha256:AB:CD:…"``, or a check of
    :mod:`xmpplab.pinning`) pins it instead: a server certificate with another SHA-256 fingerprint ends
    the connection before the client's SASL reaches it, with a stream error saying so. ``notify`` is
    called with one sentence for each thing a person watching should know (connections, TLS,
    failures); by default they are logged.
    """

    def __init__(self, listen_host: str = "127.0.0.1", listen_port: int = 0, upstream_host: str = "127.0.0.1",
                 upstream_port: int = 5222, recorder: Callable[[dict], None] | None = None, *,
                 upstream_tls_verify: bool = False, upstream_fingerprint=None, cert: str | None = None,
                 key: str | None = None,
                 notify: Callable[[str], None] | None = None, conn_prefix: str = "proxy",
                 connect_timeout: float = 10.0, linger: float = 0.5):
        self.listen_host = listen_host
        self.upstream_host, self.upstream_port = upstream_host, upstream_port
        self.recorder = recorder
        self.upstream_tls_verify = upstream_tls_verify
        self.upstream_check = as_check(upstream_fingerprint, f"the server at {_fmt((upstream_host, upstream_port))}")
        self.cert, self.key = cert, key
        self.notify = notify or log.info
        self.conn_prefix = conn_prefix
        self.connect_timeout = connect_timeout
        self.linger = linger  # how long the other direction may still finish when one side is done
        self.connections: list[ProxiedConnection] = []
        self._listening = Listener(self._serve, listen_host, listen_port)
        self._numbers = itertools.count(1)
        self._contexts: dict[str, tuple[ssl.SSLContext, str]] = {}

    port = delegated("_listening.port", "The port the proxy listens on; None before it starts.")

    @property
    def upstream(self) -> str:
        """The upstream server's address as ``host:port``."""
        return _fmt((self.upstream_host, self.upstream_port))

    @property
    def address(self) -> tuple[str, int | None]:
        """Where the proxy listens: (host, port); the port is None before it starts."""
        return self.listen_host, self.port

    async def start(self) -> RecordingProxy:
        """Listen (a free port when ``listen_port`` is 0); returns self."""
        await self._listening.start()
        return self

    async def stop(self) -> None:
        """Stop listening and close every proxied connection (each is recorded as closed)."""
        for connection in list(self.connections):
            connection.abort()
        await self._listening.stop()

    async def server_context(self, domain: str) -> tuple[ssl.SSLContext, str]:
        """The TLS context the client is given for ``domain``, and its certificate's SHA-256 fingerprint."""
        if domain not in self._contexts:
            loop = asyncio.get_running_loop()
            self._contexts[domain] = await loop.run_in_executor(None, _make_server_context, domain, self.cert,
                                                                self.key)
        return self._contexts[domain]

    def client_context(self) -> ssl.SSLContext:
        """The TLS context for the connection to the upstream server (no certificate check unless asked)."""
        ctx = ssl.create_default_context()
        if not self.upstream_tls_verify or self.upstream_check is not None:  # a pin replaces the CA check
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def record(self, conn: str, type_: str, **fields) -> None:
        """Give one event of connection `conn` to the recorder, stamped with the time."""
        if self.recorder is not None:
            self.recorder({"t": time.time(), "conn": conn, "type": type_, **fields})

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = ProxiedConnection(self, reader, writer, f"{self.conn_prefix}-{next(self._numbers)}")
        self.connections.append(connection)
        try:
            await connection.run()
        finally:
            self.connections.remove(connection)

    def __repr__(self) -> str:
        where = f"on {self.listen_host}:{self.port}" if self._listening.listening else "not listening"
        n = len(self.connections)
        return f"<RecordingProxy {where} → {self.upstream}, {n} connection{'' if n == 1 else 's'}>"


def _make_server_context(domain: str, cert: str | None, key: str | None) -> tuple[ssl.SSLContext, str]:
    from .certs import certificate_file, server_context

    ctx = server_context([domain], cert, key)
    pem = Path(cert) if cert else certificate_file([domain])
    return ctx, fingerprint(pem.read_text(encoding="ascii", errors="replace"))


def fingerprint(pem: str) -> str:
    """The SHA-256 fingerprint of the first certificate in PEM text, as clients show it (``AB:CD:...``)."""
    try:
        return of_pem(pem)
    except ValueError:
        return "?"


class ProxiedConnection:
    """One client connection and its upstream connection; two pumps and the STARTTLS switch."""

    def __init__(self, proxy: RecordingProxy, reader, writer, conn_id: str):
        self.proxy = proxy
        self.conn_id = conn_id
        self.client_reader, self.client_writer = reader, writer
        self.upstream_reader = self.upstream_writer = None
        self.client = _fmt(writer.get_extra_info("peername"))
        self.domain: str | None = None
        self.tls: str | None = None
        self.ended: str | None = None
        self.jid: str | None = None
        self.watching = True  # parse both streams until the resource is bound (STARTTLS, SASL, bind)
        self._auth: tuple | None = None
        self._client_parser, self._upstream_parser = StreamParser(), StreamParser()
        self._decoders = {d: codecs.getincrementaldecoder("utf-8")("replace") for d in ("in", "out")}
        self._switched: asyncio.Future | None = None
        self._tail = {"in": "", "out": ""}
        proxy.record(conn_id, "open", peer=self.client, local=_fmt(writer.get_extra_info("sockname")), kind="c2s",
                     role="receiving", upstream=proxy.upstream)

    def _data(self, direction: str, data: bytes) -> None:
        text = self._decoders[direction].decode(data)
        self._tail[direction] = (self._tail[direction] + text)[-40:]
        self.proxy.record(self.conn_id, "data", dir=direction, data=text)

    def abort(self) -> None:
        """Close both sides of the connection at once."""
        for writer in (self.client_writer, self.upstream_writer):
            if writer is not None and not writer.is_closing():
                writer.close()

    async def run(self) -> None:
        """Connect to the upstream server, then copy and record bytes both ways until one side closes."""
        proxy = self.proxy
        try:
            self.upstream_reader, self.upstream_writer = await asyncio.wait_for(
                asyncio.open_connection(proxy.upstream_host, proxy.upstream_port), proxy.connect_timeout)
        except (TimeoutError, OSError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or "no answer in time"
            self.ended = f"cannot reach the server {proxy.upstream}: {reason}"
            proxy.notify(f"{self.conn_id}: {self.ended}; the client gets a stream error")
            self.client_writer.write(
                (f"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='{NS_STREAM}' "
                 f"version='1.0'><stream:error><remote-connection-failed xmlns='{NS_STREAMS}'/>"
                 f"<text xmlns='{NS_STREAMS}'>xmpplab proxy: {_esc(self.ended)}</text></stream:error>"
                 "</stream:stream>").encode())
            await self._finish()
            return
        proxy.notify(f"{self.conn_id}: {self.client} connected; forwarding to {proxy.upstream}")
        pumps = {asyncio.ensure_future(self._client_to_server()), asyncio.ensure_future(self._server_to_client())}
        try:
            done, pending = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            if pending:  # let the other direction finish what it was saying (the server's </stream:stream>)
                done2, pending = await asyncio.wait(pending, timeout=proxy.linger)
                done |= done2
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                exc = task.exception()
                if isinstance(exc, _Closed):
                    self.ended = self.ended or str(exc)
                elif exc is not None and not isinstance(exc, (ConnectionError, OSError, ssl.SSLError)):
                    log.error("%s: %s", self.conn_id, exc, exc_info=exc)
                    self.ended = self.ended or f"the proxy failed: {exc}"
                elif exc is not None:
                    self.ended = self.ended or f"the connection failed: {exc}"
                elif not self.ended:
                    self.ended = task.result()
        except asyncio.CancelledError:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            self.ended = self.ended or "the proxy stopped"
        await self._finish()
        proxy.notify(f"{self.conn_id}: closed ({self.ended})")

    async def _finish(self) -> None:
        self.abort()
        for writer in (self.client_writer, self.upstream_writer):
            if writer is None:
                continue
            with contextlib.suppress(TimeoutError, ConnectionError, OSError, ssl.SSLError):
                await asyncio.wait_for(writer.wait_closed(), 1)
        clean = all(t.rstrip().endswith("</stream:stream>") for t in self._tail.values())
        self.proxy.record(self.conn_id, "close", clean=clean)

    # --- the two directions ------------------------------------------------------------------------
    async def _client_to_server(self) -> str:
        while True:
            data = await self.client_reader.read(65536)
            if not data:
                return "the client closed the connection"
            self._data("in", data)
            starttls = False
            if self.watching:  # parse before forwarding: the server's <proceed/> may come back at once
                for event in self._client_parser.feed(data):
                    if isinstance(event, StreamOpened):
                        to = (event.attrs.get("to") or "").strip()
                        self.domain = to.rpartition("@")[2].partition("/")[0] or self.domain
                    elif isinstance(event, StreamViolation):
                        self.watching = False  # not XMPP we understand: forward it and keep recording
                    elif isinstance(event, StanzaReceived) and event.element.tag == _STARTTLS:
                        self._switched = asyncio.get_running_loop().create_future()
                        starttls = True
                    elif isinstance(event, StanzaReceived) and event.element.tag == _AUTH:
                        self._auth = (event.element.get("mechanism"), _sasl_user(event.element))
            self.upstream_writer.write(data)
            await self.upstream_writer.drain()
            if starttls:
                # The client sends nothing more until <proceed/>; its next bytes are a TLS ClientHello,
                # which must reach the proxy's own TLS layer, not the server.
                await self._switched

    async def _server_to_client(self) -> str:
        while True:
            data = await self.upstream_reader.read(65536)
            if not data:
                return "the server closed the connection"
            if self.watching:
                for event in self._upstream_parser.feed(data):
                    if isinstance(event, StreamViolation):
                        self.watching = False
                    elif not isinstance(event, StanzaReceived):
                        continue
                    elif event.element.tag == _PROCEED and self._switched is not None:
                        self._data("out", data)
                        await self._upgrade(data)
                        data = b""
                        break
                    elif event.element.tag == _TLS_FAILURE and self._switched is not None:
                        self.watching = False
                        self._switched.set_result(False)
                    elif event.element.tag == _SASL_SUCCESS:
                        self._restart()  # both streams restart (RFC 6120 section 6.4.6)
                        mechanism, user = self._auth or (None, None)
                        self.proxy.record(self.conn_id, "auth", mechanism=mechanism,
                                          user=f"{user}@{self.domain}" if user and self.domain else user)
                    elif event.element.tag == _IQ and event.element.get("type") == "result":
                        jid = event.element.findtext(f"{_BIND}/{_BIND_JID}")
                        if jid:
                            self.jid = jid.strip()
                            self.proxy.record(self.conn_id, "bound", jid=self.jid)
                            self.watching = False  # negotiation is over; from now on, only forward and record
            if data:
                self._data("out", data)
                self.client_writer.write(data)
                await self.client_writer.drain()

    def _restart(self) -> None:
        self._client_parser.reset()
        self._upstream_parser.reset()

    async def _upgrade(self, proceed: bytes) -> None:
        """TLS with the server first (so a failure can still be told to the client), then with the client."""
        proxy = self.proxy
        domain = self.domain or proxy.upstream_host
        try:
            await self.upstream_writer.start_tls(proxy.client_context(), server_hostname=domain,
                                                 ssl_handshake_timeout=proxy.connect_timeout)
        except (TimeoutError, ssl.SSLError, OSError) as exc:
            failure = f"<failure xmlns='{NS_TLS}'/></stream:stream>"
            self._data("out", failure.encode())
            self.client_writer.write(failure.encode())
            raise _Closed(f"the TLS handshake with the server {proxy.upstream} failed: {exc}") from None
        upstream_ssl = self.upstream_writer.get_extra_info("ssl_object")
        if proxy.upstream_check is not None:
            refusal = proxy.upstream_check(of_der(upstream_ssl.getpeercert(True)))
            if refusal:
                error = (f"<stream:error><policy-violation xmlns='{NS_STREAMS}'/><text xmlns='{NS_STREAMS}'>"
                         f"xmpplab proxy: {_esc(refusal)}</text></stream:error></stream:stream>").encode()
                self._data("out", error)
                self.client_writer.write(error)
                proxy.notify(f"{self.conn_id}: {refusal}")
                raise _Closed(refusal)
        context, fp = await proxy.server_context(domain)
        self.client_writer.write(proceed)
        try:
            await self.client_writer.start_tls(context, ssl_handshake_timeout=proxy.connect_timeout)
        except (TimeoutError, ssl.SSLError, OSError) as exc:
            proxy.notify(f"{self.conn_id}: the client refused the proxy's certificate for {domain} "
                         f"(SHA-256 {fp}): {exc}")
            raise _Closed(f"the client did not accept the proxy's certificate: {exc}") from None
        client_ssl = self.client_writer.get_extra_info("ssl_object")
        self.tls = client_ssl.version() if client_ssl else "TLS"
        proxy.record(self.conn_id, "tls", version=self.tls,
                     cipher=(client_ssl.cipher() or [None])[0] if client_ssl else None,
                     upstream_version=upstream_ssl.version() if upstream_ssl else None,
                     upstream_cipher=(upstream_ssl.cipher() or [None])[0] if upstream_ssl else None,
                     certificate=fp)
        verified = ("pinned" if proxy.upstream_check else "verified" if proxy.upstream_tls_verify
                    else "not verified")
        proxy.notify(f"{self.conn_id}: STARTTLS on both legs; the client accepted the proxy's own certificate for "
                     f"{domain} (SHA-256 {fp}); the server's certificate was {verified}")
        self._restart()
        self._switched.set_result(True)

    def __repr__(self) -> str:
        state = f"ended: {self.ended}" if self.ended else "open"
        return f"<ProxiedConnection {self.conn_id} {self.client} → {self.proxy.upstream} {self.tls or ''} {state}>"


def _sasl_user(auth) -> str | None:
    """The user name in a SASL initial response: PLAIN's authcid, SCRAM's ``n=`` (RFC 4616, RFC 5802)."""
    import base64
    import binascii

    try:
        text = base64.b64decode((auth.text or "").strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if auth.get("mechanism") == "PLAIN":
        parts = text.split("\0")
        return parts[1] if len(parts) == 3 else None
    for field in text.split(","):
        if field.startswith("n="):
            return field[2:].replace("=2C", ",").replace("=3D", "=")
    return None


