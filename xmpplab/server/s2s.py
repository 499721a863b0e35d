"""Server-to-server streams (RFC 6120) with Server Dialback (XEP-0220, keys per XEP-0185).

A stanza for a domain this server does not host goes out over an outgoing
stream to that domain's server, whose address comes from a static host map
(``Server(peers={"server2.com": ("127.0.0.1", 5270)})`` or ``xmpplab serve
--peer server2.com=127.0.0.1:5270``), never from DNS. The outgoing stream
authenticates with dialback::

    server1.com → server2.com   <stream:stream xmlns='jabber:server' xmlns:db='jabber:server:dialback'
                                   from='server1.com' to='server2.com' version='1.0'>
    server2.com → server1.com   <stream:stream ... id='S2'> <stream:features><starttls/><dialback/>…
    (STARTTLS, then the stream restarts)
    server1.com → server2.com   <db:result from='server1.com' to='server2.com'>KEY</db:result>
        server2.com asks server1.com on a connection of its own:
        <db:verify from='server2.com' to='server1.com' id='S2'>KEY</db:verify>
        <db:verify from='server1.com' to='server2.com' id='S2' type='valid'/>
    server2.com → server1.com   <db:result from='server2.com' to='server1.com' type='valid'/>
    server1.com → server2.com   <message from='juliet@server1.com/balcony' to='romeo@server2.com'>…

Each stream carries stanzas one way; server2.com opens its own stream to
answer. An unknown remote domain gets ``remote-server-not-found``, one that
cannot be reached ``remote-server-timeout`` (RFC 6120 8.3.3.16 and 8.3.3.17).
Dialback proves a server controls its domain's address, not more: with
self-signed certificates, TLS here encrypts but does not authenticate. When
both servers have certificates from a CA the other trusts (a federated Lab
gives its servers one: ``Server(tls_ca=...)``), the receiving server offers
SASL EXTERNAL after STARTTLS and the initiating one uses it instead of
dialback (RFC 6120 6.3.4 and 13.7.2)::

    server2.com → server1.com   <stream:features><mechanisms><mechanism>EXTERNAL</mechanism>…
    server1.com → server2.com   <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>
                                  c2VydmVyMS5jb20=</auth>   (base64 of server1.com)
    server2.com → server1.com   <success/>   (both sides restart the stream; stanzas may flow)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import secrets

from lxml import etree

from ..errors import error_reply
from ..jid import JID, InvalidJID
from ..negotiation import stream_header
from ..negotiation.s2s import S2SState, S2SStepError, next_s2s_state
from ..xml import (
    NS_CLIENT,
    NS_DIALBACK,
    NS_DIALBACK_FEATURE,
    NS_SASL,
    NS_SERVER,
    NS_STREAM,
    NS_TLS,
    STANZA_KINDS,
    element,
    serialize,
    split_qname,
    sub,
    to_namespace,
    xml_attr,
)
from .addresses import address_key
from .connection import StreamConnection

log = logging.getLogger("xmpplab.server")

CONNECT_TIMEOUT = 5.0
VERIFY_TIMEOUT = 10.0


def dialback_key(secret: bytes, receiving: str, originating: str, stream_id: str) -> str:
    """XEP-0185 section 3: HMAC-SHA256(SHA256(secret), receiving ' ' originating ' ' stream id), hex."""
    key = hashlib.sha256(secret).hexdigest().encode()
    return hmac.new(key, f"{receiving} {originating} {stream_id}".encode(), hashlib.sha256).hexdigest()


def _header(from_: str, to: str | None, stream_id: str | None = None) -> str:
    return stream_header(NS_SERVER, from_=from_, stream_id=stream_id, to=to, xmlns_db=NS_DIALBACK, lang=None)


def _domain(value: str | None) -> str | None:
    if not value:
        return None
    try:
        j = JID(value)
    except InvalidJID:
        return None
    return j.domain if j.local is None and j.resource is None else None


class _S2STable:
    """Both ends of an s2s stream change state only along :data:`~xmpplab.negotiation.s2s.S2S_TRANSITIONS`."""

    state: S2SState

    def step(self, event: str) -> bool:
        """Move along the table; a step it has no row for closes the stream (RFC 6120 4.9.3.12 policy)."""
        try:
            self.state = next_s2s_state(self.state, event)
        except S2SStepError as exc:
            self.close("policy-violation", str(exc))
            return False
        return True


class S2SIncoming(_S2STable, StreamConnection):
    """A stream another server opened to us: it proves its domain with dialback, then sends stanzas."""

    kind = "s2s"
    role = "receiving"

    def __init__(self, server):
        super().__init__(server)
        self.local: str | None = None
        self.remote_claim: str | None = None
        self.external_done = False
        self.validated: set[tuple[str, str]] = set()  # (remote domain, local domain)
        self.state = S2SState.CONNECTED  # a row of xmpplab.negotiation.s2s.S2S_TRANSITIONS
        self.limit_key: str | None = None  # the address counted in throttle.connections

    def send_error_header(self) -> None:
        """Send our stream header, so that a stream error can follow it (RFC 6120 4.9.1.1)."""
        self.stream_id = secrets.token_hex(8)
        self.write(_header(self.local or self.server.default_domain, None, self.stream_id))

    def opened(self) -> None:
        """Count the connection against its address, as a client's (``Limits.connections_per_address``)."""
        if not self.server.limits.applies_to(self.peer):
            return
        key, connections = address_key(self.peer), self.server.throttle.connections
        if connections.full(key):
            why = f"too many connections from your address (at most {self.server.limits.connections_per_address})"
            log.info("%s: %s refused: %s", self.conn_id, key, why)
            return self.close("policy-violation", why)
        self.limit_key = key
        connections.add(key)

    def lost(self) -> None:
        """Stop counting the connection against its address."""
        if self.limit_key is not None:
            self.server.throttle.connections.remove(self.limit_key)
            self.limit_key = None

    def stream_opened(self, ev) -> None:
        """Answer the peer's header and offer STARTTLS, SASL EXTERNAL or dialback (RFC 6120 4.3, XEP-0220)."""
        to = _domain(ev.attrs.get("to"))
        self.stream_id = secrets.token_hex(8)
        self.write(_header(to or self.server.default_domain, ev.attrs.get("from", ""), self.stream_id))
        if ev.default_ns != NS_SERVER:
            return self.close("invalid-namespace", "a server-to-server stream's default namespace is jabber:server")
        if not self.server.s2s.serves(to):
            return self.close("host-unknown", f"this server does not serve {ev.attrs.get('to')}")
        self.local = to
        self.remote_claim = _domain(ev.attrs.get("from"))
        if self.state is S2SState.TLS:
            self.step("tls-done")
        if self.state in (S2SState.CONNECTED, S2SState.AUTHENTICATED):
            self.step("header")
        features = element("features", ns=NS_STREAM)
        if not self.secure and self.server.tls_context is not None:
            sub(features, "starttls", ns=NS_TLS)
        elif self._certificate_names(self.remote_claim) and not self.external_done:
            mechanisms = sub(features, "mechanisms", ns=NS_SASL)
            sub(mechanisms, "mechanism", text="EXTERNAL")
        if not self.external_done:
            sub(features, "dialback", ns=NS_DIALBACK_FEATURE)
        self.write(serialize(features))

    def _certificate_names(self, domain: str | None) -> bool:
        """Whether the peer's verified certificate names ``domain`` (RFC 6125 style: exact or *.parent)."""
        if not domain or not self.secure or self.server.tls_ca is None or self.transport is None:
            return False
        from .tls import peer_domains
        names = peer_domains(self.transport.get_extra_info("ssl_object"))
        return domain in names or f"*.{domain.partition('.')[2]}" in names

    def _external(self, el) -> None:
        """RFC 6120 6.3.4: SASL EXTERNAL, the peer's certificate proving its domain."""
        text = (el.text or "").strip()
        try:
            authzid = base64.b64decode(text, validate=True).decode() if text and text != "=" else ""
        except (binascii.Error, ValueError, UnicodeDecodeError):
            authzid = None
        claimed = _domain(authzid) if authzid else self.remote_claim
        if el.get("mechanism") != "EXTERNAL" or claimed is None or not self._certificate_names(claimed):
            self.write(f"<failure xmlns='{NS_SASL}'><not-authorized/></failure>")
            return
        if not self.step("external"):
            return
        self.write(f"<success xmlns='{NS_SASL}'/>")
        self.validated.add((claimed, self.local))
        self.external_done = True
        self.stream_id = None
        self.parser.reset()  # the initiating server restarts the stream

    def element(self, el) -> None:
        """Handle STARTTLS, SASL EXTERNAL, dialback requests and the stanzas of validated domains."""
        ns, name = split_qname(el.tag)
        if ns == NS_TLS and name == "starttls" and not self.secure and self.server.tls_context is not None:
            if not self.step("starttls"):
                return
            self.write(f"<proceed xmlns='{NS_TLS}'/>")
            self.prepare_tls()
            self.tasks.start(self.start_tls(self.server.tls_context, server_side=True), "STARTTLS")
        elif ns == NS_SASL and name == "auth" and self.secure and not self.external_done:
            self._external(el)
        elif ns == NS_DIALBACK and name == "result":
            self._dialback_result(el)
        elif ns == NS_DIALBACK and name == "verify":
            self._dialback_verify(el)
        elif ns == NS_SERVER and name in STANZA_KINDS:
            self._stanza(el)
        else:
            self.close("unsupported-stanza-type", f"<{name}/> is not understood on a server-to-server stream")

    def _dialback_result(self, el) -> None:
        remote, local = _domain(el.get("from")), _domain(el.get("to"))
        if not self.server.s2s.serves(local):
            return self.close("host-unknown", f"this server does not serve {el.get('to')}")
        if remote is None:
            return self.close("invalid-from", "db:result needs the originating domain in 'from'")
        key = (el.text or "").strip()

        async def check():
            ok = await self.server.s2s.verify(remote, local, self.stream_id, key)
            if self.closed:
                return
            if ok:
                if not self.step("dialback-valid"):
                    return
                self.validated.add((remote, local))
            self.write(f"<db:result from='{local}' to='{remote}' type='{'valid' if ok else 'invalid'}'/>")
            if not ok:
                self.close("not-authorized", f"{remote} could not prove it is {remote}")

        self.tasks.start(check(), f"dialback check of {remote}")

    def _dialback_verify(self, el) -> None:
        """Another server asks whether a key for one of our outgoing streams is really ours."""
        receiving, originating = el.get("from", ""), el.get("to", "")
        stream_id, key = el.get("id", ""), (el.text or "").strip()
        if not self.step("verify"):
            return
        expected = dialback_key(self.server.s2s.secret, receiving, originating, stream_id)
        ok = self.server.s2s.serves(originating) and hmac.compare_digest(expected, key)
        self.write(f"<db:verify from='{xml_attr(originating)}' to='{xml_attr(receiving)}' "
                   f"id='{xml_attr(stream_id)}' type='{'valid' if ok else 'invalid'}'/>")

    def _stanza(self, el) -> None:
        try:
            frm, to = JID(el.get("from", "")), JID(el.get("to", ""))
        except InvalidJID as exc:
            return self.close("improper-addressing", str(exc))
        if (frm.domain, to.domain) not in self.validated:
            if not self.server.s2s.serves(to.domain):
                return self.close("host-unknown", f"this server does not serve {to.domain}")
            return self.close("invalid-from", f"{frm.domain} has not proved it is {frm.domain} on this stream")
        try:
            stanza = to_namespace(el, NS_CLIENT)
        except etree.XMLSyntaxError as exc:
            # The stream parser let through what lxml refuses when the stanza's text is parsed again
            # (an unbound prefix, a namespace name that is not a URI): RFC 6120 4.9.3.13.
            log.info("%s: a stanza from %s is not namespace-well-formed: %s", self.conn_id, frm.domain, exc)
            return self.close("not-well-formed", f"a stanza is not namespace-well-formed: {exc}")
        self.server.router.route(stanza, origin=self)

    @property
    def local_domain(self) -> str | None:
        """Our domain, as the peer's stream header named it."""
        return self.local

    @property
    def remote_domain(self) -> str | None:
        """The (first) domain that proved itself on this stream."""
        return next(iter(sorted(self.validated)), (None,))[0]

    def __repr__(self) -> str:
        pairs = ", ".join(f"{r}→{lo}" for r, lo in sorted(self.validated)) or "not validated"
        return f"<S2SIncoming {self.conn_id} {pairs}>"


class S2SOutgoing(_S2STable, StreamConnection):
    """A stream we opened to another server: dialback first, then our stanzas for its domain."""

    kind = "s2s"
    role = "initiating"

    def __init__(self, server, local: str, remote: str, verify_request=None):
        super().__init__(server)
        self.local, self.remote = local, remote
        self.remote_stream_id: str | None = None
        self.authenticated = False
        self.state = S2SState.CONNECTED  # a row of xmpplab.negotiation.s2s.S2S_TRANSITIONS
        self.external_done = False
        self.queue: list = []
        self.verify_request = verify_request  # (stream_id, key, future) for a verify-only stream
        self.ready = asyncio.get_running_loop().create_future()

    def opened(self) -> None:
        """Send our stream header as soon as the TCP connection is up."""
        self._send_header()

    def _send_header(self) -> None:
        self.stream_id = "sent"
        self.write(_header(self.local, self.remote))

    def stream_opened(self, ev) -> None:
        """Keep the stream id the peer gave (dialback keys use it); the stream must be jabber:server."""
        self.remote_stream_id = ev.attrs.get("id")
        if ev.default_ns != NS_SERVER:
            return self.close("invalid-namespace", "expected a jabber:server stream")
        if self.state is S2SState.TLS:
            self.step("tls-done")
        if self.state in (S2SState.CONNECTED, S2SState.AUTHENTICATED):
            self.step("header")

    def element(self, el) -> None:
        """Go through the peer's features: STARTTLS, then SASL EXTERNAL or dialback (XEP-0220 2.1)."""
        ns, name = split_qname(el.tag)
        if ns == NS_STREAM and name == "features":
            mechanisms = [m.text for m in el.iter(f"{{{NS_SASL}}}mechanism")]
            if el.find(f"{{{NS_TLS}}}starttls") is not None and not self.secure:
                self.write(f"<starttls xmlns='{NS_TLS}'/>")
            elif self.external_done:
                self._ready()
            elif "EXTERNAL" in mechanisms and self.verify_request is None and self.server.tls_ca is not None:
                token = base64.b64encode(self.local.encode()).decode()
                self.write(f"<auth xmlns='{NS_SASL}' mechanism='EXTERNAL'>{token}</auth>")
            else:
                self._authenticate()
        elif ns == NS_SASL and name == "success":
            if not self.step("external"):
                return
            self.external_done = True
            self.parser.reset()
            self._send_header()
        elif ns == NS_SASL and name == "failure":
            self._authenticate()  # fall back to dialback
        elif ns == NS_TLS and name == "proceed":
            if not self.step("starttls"):
                return
            self.tasks.start(self._upgrade(), "STARTTLS")
        elif ns == NS_DIALBACK and name == "result":
            if el.get("type") == "valid":
                if self.step("dialback-valid"):
                    self._ready()
            else:
                self._give_up("remote-server-not-found", f"{self.remote} refused our dialback key")
                self.close()
        elif ns == NS_DIALBACK and name == "verify":
            if self.verify_request is not None and not self.verify_request[2].done():
                self.verify_request[2].set_result(el.get("type") == "valid")
            self.close()
        elif ns == NS_STREAM and name == "error":
            self._give_up("remote-server-not-found", f"{self.remote} closed the stream with an error")

    def _ready(self) -> None:
        """Authenticated (dialback or EXTERNAL): send what waited."""
        self.authenticated = True
        if not self.ready.done():
            self.ready.set_result(True)
        for stanza in self.queue:
            self.send(stanza)
        self.queue.clear()

    async def _upgrade(self) -> None:
        if await self.start_tls(self.server.s2s.client_context(), server_side=False, server_hostname=self.remote):
            self._send_header()

    def _authenticate(self) -> None:
        if self.verify_request is not None:
            stream_id, key, _ = self.verify_request
            self.write(f"<db:verify from='{self.local}' to='{self.remote}' id='{xml_attr(stream_id)}'>"
                       f"{key}</db:verify>")
            return
        key = dialback_key(self.server.s2s.secret, self.remote, self.local, self.remote_stream_id or "")
        self.write(f"<db:result from='{self.local}' to='{self.remote}'>{key}</db:result>")

    def send(self, stanza) -> None:
        """Send a stanza once the stream is authenticated; queue it until then."""
        if self.authenticated and not self.closed:
            if self.accepts(stanza):
                self.write(serialize(stanza, NS_SERVER))
        else:
            self.server.s2s.enqueue(self.queue, stanza, self.remote)

    def _give_up(self, condition: str, text: str) -> None:
        queued, self.queue = self.queue, []
        if not self.ready.done():
            self.ready.set_result(False)
        if self.verify_request is not None and not self.verify_request[2].done():
            self.verify_request[2].set_result(False)
        for stanza in queued:
            self.server.s2s.bounce(stanza, condition, text)

    def lost(self) -> None:
        """Forget the connection and bounce the stanzas still queued on it."""
        self.server.s2s.forget(self)
        self._give_up("remote-server-timeout", f"the connection to {self.remote} was lost")

    @property
    def local_domain(self) -> str:
        """The domain we send from."""
        return self.local

    @property
    def remote_domain(self) -> str:
        """The domain we send to."""
        return self.remote

    def __repr__(self) -> str:
        state = "authenticated" if self.authenticated else "negotiating"
        return f"<S2SOutgoing {self.conn_id} {self.local}→{self.remote} {state}, {len(self.queue)} queued>"


class S2SManager:
    """Outgoing streams per (local domain, remote domain), the static host map, and dialback secrets."""

    def __init__(self, server, peers: dict | None = None):
        self.server = server
        self.peers: dict[str, tuple[str, int]] = dict(peers or {})
        self.secret = secrets.token_bytes(32)
        self.outgoing: dict[tuple[str, str], S2SOutgoing] = {}
        self._connecting: dict[tuple[str, str], list] = {}
        self._client_context = None
        server.hook("route/remote", self.route)

    def serves(self, domain) -> bool:
        """A domain this server speaks for on server-to-server streams: a host, or a component (MUC)."""
        return domain in self.server.hosts or domain in self.server.components

    def peer(self, domain: str):
        """Where ``domain``'s server listens: its own entry, else its parent's (conference.server1.com is
        served by server1.com's server, as a component)."""
        while domain:
            if domain in self.peers:
                return self.peers[domain]
            domain = domain.partition(".")[2]
        return None

    def client_context(self):
        """TLS for outgoing streams: unverified by default; with the lab CA, verified both ways."""
        if self._client_context is None:
            from .tls import s2s_client_context
            self._client_context = s2s_client_context(self.server.hosts, self.server.tls_ca)
        return self._client_context

    def add_peer(self, domain: str, host: str, port: int) -> None:
        """Tell this server where the server for ``domain`` listens for server-to-server streams."""
        self.peers[JID(domain).domain] = (host, int(port))

    def route(self, event) -> bool:
        """Send a stanza to a remote domain, connecting first when needed; False when the domain has no known peer."""
        remote = event.to.domain
        if self.peer(remote) is None:
            return False  # the default handler answers remote-server-not-found
        local = event.from_.domain if event.from_ is not None and self.serves(event.from_.domain) \
            else self.server.default_domain
        key = (local, remote)
        conn = self.outgoing.get(key)
        if conn is not None and not conn.closed:
            conn.send(event.stanza)
            return True
        waiting = self._connecting.get(key)
        if waiting is not None:
            self.enqueue(waiting, event.stanza, remote)
            return True
        self._connecting[key] = [event.stanza]
        self.server.tasks.start(self._connect(local, remote), f"connect {local} to {remote}")
        return True

    async def _connect(self, local: str, remote: str) -> None:
        key = (local, remote)
        host, port = self.peer(remote)
        loop = asyncio.get_running_loop()
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(lambda: S2SOutgoing(self.server, local, remote), host, port), CONNECT_TIMEOUT)
        except (TimeoutError, OSError) as exc:
            for stanza in self._connecting.pop(key, []):
                self.bounce(stanza, "remote-server-timeout", f"{remote} cannot be reached at {host}:{port}: "
                                                             f"{getattr(exc, 'strerror', None) or 'timed out'}")
            return
        self.outgoing[key] = conn
        for stanza in self._connecting.pop(key, []):
            conn.send(stanza)

    async def verify(self, originating: str, receiving: str, stream_id: str, key: str) -> bool:
        """Ask the authoritative server of ``originating`` whether ``key`` is its key (XEP-0220 2.1.2)."""
        if self.peer(originating) is None:
            return False
        host, port = self.peer(originating)
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        try:
            await asyncio.wait_for(loop.create_connection(
                lambda: S2SOutgoing(self.server, receiving, originating, (stream_id, key, answer)), host, port),
                CONNECT_TIMEOUT)
            return await asyncio.wait_for(answer, VERIFY_TIMEOUT)
        except (TimeoutError, OSError):
            return False

    def forget(self, conn: S2SOutgoing) -> None:
        """Drop a closed outgoing connection, so the next stanza opens a new one."""
        key = (conn.local, conn.remote)
        if self.outgoing.get(key) is conn:
            del self.outgoing[key]

    def enqueue(self, queue: list, stanza, remote: str) -> None:
        """Keep a stanza until the connection to ``remote`` is ready, at most ``Limits.s2s_queue`` of them."""
        if len(queue) >= self.server.limits.s2s_queue:
            self.bounce(stanza, "resource-constraint", f"too many stanzas are waiting for {remote} to answer")
        else:
            queue.append(stanza)

    def bounce(self, stanza, condition: str, text: str) -> None:
        """Tell the sender that its stanza could not be delivered (never answer an error with an error)."""
        if stanza.get("type") == "error" or (split_qname(stanza.tag)[1] == "presence" and
                                              stanza.get("type") not in (None, "subscribe", "probe")):
            return
        if split_qname(stanza.tag)[1] == "iq" and stanza.get("type") not in ("get", "set"):
            return
        reply = error_reply(stanza, condition, text)
        self.server.route(reply)

    def close_all(self) -> None:
        """Close every outgoing connection (the server is stopping)."""
        for conn in list(self.outgoing.values()):
            conn.close()
        self.outgoing.clear()
