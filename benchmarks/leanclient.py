"""A lean asyncio XMPP client for load: plaintext or STARTTLS, SCRAM-SHA-1, bind, in-band registration.

It speaks just enough XMPP to load a server on loopback: stream open, STARTTLS
(RFC 6120 section 5) when asked, SASL SCRAM-SHA-1 (via ``scramp``, RFC 6120
section 6), stream restart, resource binding (section 7), the old session
request when a server marks it required, in-band registration (XEP-0077).
Everything runs on raw asyncio Protocols: no slixmpp.  Used by the load
generator's scenarios (``loadgen.py``), the soak and the classroom.

Client CPU savings:

* SCRAM makes the client compute PBKDF2 (thousands of HMACs) per login.
  ``scramp`` has no public way to reuse a salted password, so this module
  memoises ``scramp.core.hi`` per (hash, password, salt, iterations): each
  account costs one PBKDF2 per process, later logins only a few HMACs.  The
  number of PBKDF2 computations is reported (``pbkdf2_computed``).
* Handshakes are parsed with ``xml.etree``'s C pull parser; once a
  throughput connection is bound it switches to a byte scanner that only
  looks for ``<message ... id='N'>`` start tags.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import ssl
import xml.etree.ElementTree as ET

import scramp
import scramp.core

STREAM_NS = "http://etherx.jabber.org/streams"
SASL_NS = "urn:ietf:params:xml:ns:xmpp-sasl"
BIND_NS = "urn:ietf:params:xml:ns:xmpp-bind"
SESSION_NS = "urn:ietf:params:xml:ns:xmpp-session"
TLS_NS = "urn:ietf:params:xml:ns:xmpp-tls"
CLIENT_NS = "jabber:client"
REGISTER_NS = "jabber:iq:register"

RESOURCE = "lg"


# ---------------------------------------------------------------- SCRAM cache

_uncached_hi = scramp.core.hi
_hi_cache: dict[tuple, bytes] = {}
PBKDF2_STATS = {"computed": 0, "reused": 0}


def _cached_hi(hf, password, salt, iterations):
    """``scramp.core.hi`` (PBKDF2) memoised per (hash, password, salt, count).

    The salt and iteration count of an account do not change between
    logins, so the salted password can be reused; the per-login nonce only
    enters the cheap HMACs after it.
    """
    key = (hf, bytes(password), bytes(salt), int(iterations))
    salted = _hi_cache.get(key)
    if salted is None:
        PBKDF2_STATS["computed"] += 1
        salted = _hi_cache[key] = _uncached_hi(hf, password, salt, iterations)
    else:
        PBKDF2_STATS["reused"] += 1
    return salted


scramp.core.hi = _cached_hi


# ------------------------------------------------------------------ protocol

class XmppError(Exception):
    """The server refused something, closed the stream, or timed out."""


def xml_escape(text: str) -> str:
    """Escape text for XML character data and single-quoted attributes."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&apos;"))


class XmppConnection(asyncio.Protocol):
    """One client stream.

    In handshake mode the bytes go through a C pull parser and complete
    top-level elements (children of ``<stream:stream>``) are queued for
    :meth:`next_element`.  Setting :attr:`fast_handler` hands every later
    chunk of bytes straight to that callable instead (no parsing).
    """

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.elements: collections.deque[ET.Element] = collections.deque()
        self.waiter: asyncio.Future | None = None
        self.error: Exception | None = None
        self.fast_handler = None
        self.stream_attrs: dict[str, str] = {}
        self.jid: str | None = None
        self._parser: ET.XMLPullParser | None = None
        self._root: ET.Element | None = None
        self._depth = 0

    # asyncio.Protocol ------------------------------------------------------
    def connection_made(self, transport) -> None:
        """Keep the transport (asyncio callback)."""
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        """Parse what arrived and hand on each stanza (or give the bytes to the fast handler when one is set)."""
        if self.fast_handler is not None:
            self.fast_handler(data)
            return
        try:
            self._parser.feed(data)
            for event, element in self._parser.read_events():
                if event == "start":
                    self._depth += 1
                    if self._depth == 1:
                        self._root = element
                        self.stream_attrs = dict(element.attrib)
                else:
                    self._depth -= 1
                    if self._depth == 1:
                        self._root.remove(element)   # keep the tree small
                        self.elements.append(element)
                    elif self._depth == 0:
                        self._fail(XmppError("server closed the stream"))
        except ET.ParseError as exc:
            self._fail(XmppError(f"XML error from server: {exc}"))
        self._wake()

    def connection_lost(self, exc) -> None:
        """The connection is gone: fail what waits on it."""
        self._fail(XmppError(f"connection lost: {exc or 'closed by server'}"))
        self._wake()

    # helpers ---------------------------------------------------------------
    def _fail(self, exc: Exception) -> None:
        if self.error is None:
            self.error = exc

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done() and (self.elements or self.error):
            waiter.set_result(None)

    def send(self, data: bytes | str) -> None:
        """Write raw bytes (or text) to the server."""
        if isinstance(data, str):
            data = data.encode()
        self.transport.write(data)

    def open_stream(self, domain: str) -> None:
        """Start (or restart) the stream with a fresh parser."""
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._depth = 0
        self._root = None
        self.elements.clear()
        self.send(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            f"xmlns:stream='{STREAM_NS}' to='{domain}' version='1.0'>")

    async def next_element(self, timeout: float | None = 30.0) -> ET.Element:
        """Return the next top-level element the server sent.

        ``timeout=None`` waits without a timer of its own (cheaper when the
        caller already runs under one ``asyncio.timeout``).
        """
        while not self.elements:
            if self.error is not None:
                raise self.error
            self.waiter = self.loop.create_future()
            try:
                if timeout is None:      # the caller runs under asyncio.timeout()
                    await self.waiter
                else:
                    await asyncio.wait_for(self.waiter, timeout)
            except TimeoutError:
                raise XmppError(f"no answer from the server within {timeout} s") from None
            finally:
                self.waiter = None
        element = self.elements.popleft()
        if element.tag == f"{{{STREAM_NS}}}error":
            condition = element[0].tag.rsplit("}", 1)[-1] if len(element) else "?"
            raise XmppError(f"stream error: {condition}")
        return element

    async def expect(self, tag: str, timeout: float | None = 30.0) -> ET.Element:
        """Return the next element, which must have ``tag`` (Clark notation)."""
        element = await self.next_element(timeout)
        if element.tag != tag:
            raise XmppError(f"expected {tag}, got {ET.tostring(element, 'unicode')[:300]}")
        return element

    async def iq(self, payload: str, iq_id: str, timeout: float | None = 30.0,
                 kind: str = "set", to: str | None = None) -> ET.Element:
        """Send ``<iq type='set'>`` (or ``kind``) and return its result (raise on error)."""
        address = f" to='{xml_escape(to)}'" if to else ""
        self.send(f"<iq type='{kind}' id='{iq_id}'{address}>{payload}</iq>")
        while True:
            element = await self.next_element(timeout)
            if element.tag == f"{{{CLIENT_NS}}}iq" and element.get("id") == iq_id:
                break
        if element.get("type") != "result":
            error = element.find(f"{{{CLIENT_NS}}}error")
            condition = error[0].tag.rsplit("}", 1)[-1] if error is not None and len(error) else "?"
            raise XmppError(f"iq {iq_id} failed: {condition}")
        return element

    def close(self) -> None:
        """Send ``</stream:stream>`` and close the socket (no waiting)."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"</stream:stream>")
            self.transport.close()


async def connect(host: str, port: int) -> XmppConnection:
    """Open a TCP connection to the server."""
    loop = asyncio.get_running_loop()
    _transport, conn = await loop.create_connection(XmppConnection, host, port)
    return conn


def _check_features(features: ET.Element) -> None:
    starttls = features.find(f"{{{TLS_NS}}}starttls")
    if starttls is not None and starttls.find(f"{{{TLS_NS}}}required") is not None:
        raise XmppError("the server requires STARTTLS; pass tls=True (soak.py) to use it")


def insecure_tls_context() -> ssl.SSLContext:
    """A client TLS context that accepts the lab's self-signed certificate (loopback only)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def starttls(conn: XmppConnection, domain: str, context: ssl.SSLContext,
                   timeout: float | None) -> ET.Element:
    """RFC 6120 section 5: ``<starttls/>``, ``<proceed/>``, TLS handshake, new stream; return its features."""
    conn.send(f"<starttls xmlns='{TLS_NS}'/>")
    await conn.expect(f"{{{TLS_NS}}}proceed", timeout)
    conn.transport = await conn.loop.start_tls(conn.transport, conn, context,
                                               server_hostname=domain)
    conn.open_stream(domain)
    return await conn.expect(f"{{{STREAM_NS}}}features", timeout)


async def login(host: str, port: int, domain: str, user: str, password: str,
                resource: str = RESOURCE, timeout: float = 30.0,
                tls: ssl.SSLContext | None = None) -> XmppConnection:
    """Connect, authenticate with SCRAM-SHA-1, bind; return the open connection.

    With ``tls`` (a client context) the stream goes through STARTTLS first.
    """
    try:
        async with asyncio.timeout(timeout):
            return await _login(host, port, domain, user, password, resource, tls)
    except TimeoutError:
        raise XmppError(f"login of {user} took more than {timeout} s") from None


async def _login(host: str, port: int, domain: str, user: str, password: str,
                 resource: str, tls: ssl.SSLContext | None = None) -> XmppConnection:
    """The steps of :func:`login`, under its single timeout."""
    timeout = None
    conn = await connect(host, port)
    try:
        conn.open_stream(domain)
        features = await conn.expect(f"{{{STREAM_NS}}}features", timeout)
        if tls is not None:
            if features.find(f"{{{TLS_NS}}}starttls") is None:
                raise XmppError("the server does not offer STARTTLS")
            features = await starttls(conn, domain, tls, timeout)
        _check_features(features)
        mechanisms = [m.text for m in features.iter(f"{{{SASL_NS}}}mechanism")]
        if "SCRAM-SHA-1" not in mechanisms:
            raise XmppError(f"SCRAM-SHA-1 not offered (offered: {mechanisms})")

        scram = scramp.ScramClient(["SCRAM-SHA-1"], user, password)
        first = base64.b64encode(scram.get_client_first().encode()).decode()
        conn.send(f"<auth xmlns='{SASL_NS}' mechanism='SCRAM-SHA-1'>{first}</auth>")
        challenge = await conn.next_element(timeout)
        if challenge.tag != f"{{{SASL_NS}}}challenge":
            raise XmppError(f"SASL: {challenge.tag.rsplit('}', 1)[-1]} instead of challenge")
        scram.set_server_first(base64.b64decode(challenge.text or "").decode())
        final = base64.b64encode(scram.get_client_final().encode()).decode()
        conn.send(f"<response xmlns='{SASL_NS}'>{final}</response>")
        outcome = await conn.next_element(timeout)
        if outcome.tag == f"{{{SASL_NS}}}challenge":        # v= sent as a challenge
            scram.set_server_final(base64.b64decode(outcome.text or "").decode())
            conn.send(f"<response xmlns='{SASL_NS}'/>")
            outcome = await conn.next_element(timeout)
        if outcome.tag != f"{{{SASL_NS}}}success":
            condition = outcome[0].tag.rsplit("}", 1)[-1] if len(outcome) else "?"
            raise XmppError(f"SASL failed for {user}: {condition}")
        if outcome.text and outcome.text.strip() not in ("", "="):
            scram.set_server_final(base64.b64decode(outcome.text).decode())

        conn.open_stream(domain)
        features = await conn.expect(f"{{{STREAM_NS}}}features", timeout)
        bind = (f"<bind xmlns='{BIND_NS}'><resource>{xml_escape(resource)}</resource></bind>")
        result = await conn.iq(bind, "bind", timeout)
        jid = result.find(f"{{{BIND_NS}}}bind/{{{BIND_NS}}}jid")
        conn.jid = jid.text if jid is not None else f"{user}@{domain}/{resource}"
        session = features.find(f"{{{SESSION_NS}}}session")
        if session is not None and session.find(f"{{{SESSION_NS}}}optional") is None:
            await conn.iq(f"<session xmlns='{SESSION_NS}'/>", "sess", timeout)
        return conn
    except BaseException:
        conn.close()
        raise


async def register(host: str, port: int, domain: str, user: str, password: str,
                   timeout: float = 30.0) -> bool:
    """Create an account in-band (XEP-0077); False if it already existed."""
    conn = await connect(host, port)
    try:
        conn.open_stream(domain)
        features = await conn.expect(f"{{{STREAM_NS}}}features", timeout)
        _check_features(features)
        try:
            await conn.iq(f"<query xmlns='{REGISTER_NS}'><username>{xml_escape(user)}"
                          f"</username><password>{xml_escape(password)}</password></query>",
                          "reg", timeout)
        except XmppError as exc:
            if "conflict" in str(exc):
                return False
            raise
        return True
    finally:
        conn.close()


def user_name(prefix: str, index: int) -> str:
    """Account name number ``index``."""
    return f"{prefix}{index}"
