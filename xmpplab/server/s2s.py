"""Server-to-server streams (RFC 6120) with Server Dialback (XEP-0220, keys per XEP-0185): the asyncio adapter.

The negotiation itself is sans-IO and written once, in :mod:`xmpplab.negotiation`
(:class:`~xmpplab.negotiation.S2SReceivingNegotiator` and
:class:`~xmpplab.negotiation.S2SInitiatingNegotiator`, moving along
:data:`~xmpplab.negotiation.S2S_TRANSITIONS`). :class:`S2SIncoming` and
:class:`S2SOutgoing` feed them the parser's events and perform what they ask:
write, upgrade to TLS, reset the parser, check a dialback key over a connection
of our own (a task each owns), route a stanza, send or bounce what waited.
:class:`S2SManager` keeps the outgoing streams, the host map and the secret.

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
answer, unless server1.com asked for a bidirectional stream (XEP-0288,
``add_peer(..., bidi=True)``): then server2.com sends its stanzas for
server1.com back on server1.com's stream, once server1.com's domain is proved,
and never needs to reach server1.com (behind NAT, a firewall)::

    server2.com → server1.com   <stream:features><bidi xmlns='urn:xmpp:features:bidi'/>…
    server1.com → server2.com   <bidi xmlns='urn:xmpp:bidi'/>   (then EXTERNAL or dialback)
    server2.com → server1.com   <message from='romeo@server2.com/orchard' to='juliet@server1.com'>…

An unknown remote domain gets ``remote-server-not-found``, one that
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
import logging
import secrets

from ..errors import error_reply
from ..jid import JID
from ..negotiation.actions import CheckKey, GiveUp, Stanza, Validated, Verdict
from ..negotiation.s2s import S2SState, dialback_key
from ..negotiation.s2s_initiating import S2SInitiatingNegotiator
from ..negotiation.s2s_receiving import S2SPolicy, S2SReceivingNegotiator
from ..xml import NS_SERVER, serialize, split_qname
from .addresses import address_key
from .connection import StreamConnection
from .s2s_certs import KnownCertificates, check_pin, fingerprint_of

log = logging.getLogger("xmpplab.server")

CONNECT_TIMEOUT = 5.0
VERIFY_TIMEOUT = 10.0

__all__ = ["S2SIncoming", "S2SManager", "S2SOutgoing", "dialback_key"]


class S2SIncoming(StreamConnection):
    """A stream another server opened to us: performs what its :class:`S2SReceivingNegotiator` asks."""

    kind = "s2s"
    role = "receiving"

    def __init__(self, server):
        super().__init__(server)
        self.neg = S2SReceivingNegotiator(server.s2s, tls_available=server.tls_context is not None)
        self.limit_key: str | None = None  # the address counted in throttle.connections

    @property
    def state(self) -> S2SState:
        """Where the negotiation is (a row of :data:`~xmpplab.negotiation.s2s.S2S_TRANSITIONS`)."""
        return self.neg.state

    @property
    def validated(self) -> set[tuple[str, str]]:
        """The pairs (remote domain, local domain) whose stanzas this stream carries."""
        return self.neg.validated

    def send_error_header(self) -> None:
        """Send our stream header, so that a stream error can follow it (RFC 6120 4.9.1.1)."""
        self.write(self.neg.error_header())
        self.stream_id = self.neg.stream_id

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
        """Stop counting the connection against its address; our stanzas for the peer no longer go this way."""
        self.neg.state = S2SState.CLOSED
        self.server.s2s.forget(self)
        if self.limit_key is not None:
            self.server.throttle.connections.remove(self.limit_key)
            self.limit_key = None

    def stream_opened(self, ev) -> None:
        """A stream header (the first, or a restart): the negotiator answers it."""
        self._do(self.neg.stream_opened(ev))

    def element(self, el) -> None:
        """An element at depth 1: the negotiator decides (a negotiation step, or a stanza to route)."""
        self._do(self.neg.element(el))

    async def tls_upgrade(self):
        """STARTTLS with the s2s context: it asks for the certificates of peers known by theirs."""
        return await self.start_tls(await self.server.s2s.known.context(), server_side=True)

    def tls_established(self) -> None:
        """TLS is up: tell the negotiator which domains the peer's certificate proves: those it names if the lab
        CA verified it, and those registered with its fingerprint (:mod:`.s2s_certs`)."""
        names = set()
        ssl_object = self.transport.get_extra_info("ssl_object") if self.transport is not None else None
        if self.server.tls_ca is not None:
            from .tls import peer_domains
            names = peer_domains(ssl_object)
        if self.server.s2s.known.certificates:
            names |= self.server.s2s.known.names_for(fingerprint_of(ssl_object))
        self._do(self.neg.tls_established(names))

    def act(self, action) -> None:
        """Route a stanza of a validated pair, check a dialback key (a task this connection owns), note a pair."""
        kind = type(action)
        if kind is Stanza:
            self.server.s2s.arrived(action.element, self)
        elif kind is CheckKey:
            self.tasks.start(self._check(action), f"dialback check of {action.originating}")
        elif kind is Validated:
            log.debug("%s: %s may send to %s", self.conn_id, action.originating, action.receiving)
            if action.bidi:  # XEP-0288: our stanzas for the peer's domain go back on this stream
                self.server.s2s.bidi_stream(self, action.receiving, action.originating)

    def send(self, stanza) -> None:
        """Send one of our stanzas back to the peer on its own stream (XEP-0288; only once bidi is validated)."""
        if not self.closed and self.accepts(stanza):
            self.write(serialize(stanza, NS_SERVER))

    async def _check(self, action: CheckKey) -> None:
        """XEP-0220 2.1.2: ask the originating domain's server about the key, then give the negotiator its answer."""
        ok = await self.server.s2s.verify(action.originating, action.receiving, action.stream_id, action.key)
        if not self.closed:
            self._do(self.neg.key_checked(action.originating, action.receiving, ok))

    @property
    def local_domain(self) -> str | None:
        """Our domain, as the peer's stream header named it."""
        return self.neg.local

    @property
    def remote_domain(self) -> str | None:
        """The (first) domain that proved itself on this stream."""
        return next(iter(sorted(self.neg.validated)), (None,))[0]

    def __repr__(self) -> str:
        pairs = ", ".join(f"{r}→{lo}" for r, lo in sorted(self.neg.validated)) or "not validated"
        return f"<S2SIncoming {self.conn_id} {pairs}>"


class S2SOutgoing(StreamConnection):
    """A stream we opened to another server: performs what its :class:`S2SInitiatingNegotiator` asks, and
    holds our stanzas for its domain until the stream is authenticated."""

    kind = "s2s"
    role = "initiating"

    def __init__(self, server, local: str, remote: str, verify: tuple[str, str] | None = None,
                 answer: asyncio.Future | None = None):
        super().__init__(server)
        self.local, self.remote = local, remote
        # verify: (stream_id, key) makes this a verify-only stream (XEP-0220 2.1.3); its verdict goes to answer
        pinned = server.s2s.pin_for(remote) is not None  # a peer known by its certificate: EXTERNAL only
        self.neg = S2SInitiatingNegotiator(local, remote, server.s2s.secret, external=server.tls_ca is not None,
                                           verify=verify, bidi=server.s2s.wants_bidi(remote),
                                           external_only=pinned and verify is None)
        self.answer = answer
        self.authenticated = False
        self.queue: list = []

    @property
    def state(self) -> S2SState:
        """Where the negotiation is (a row of :data:`~xmpplab.negotiation.s2s.S2S_TRANSITIONS`)."""
        return self.neg.state

    def opened(self) -> None:
        """Send our stream header as soon as the TCP connection is up."""
        self._do(self.neg.start())

    def stream_opened(self, ev) -> None:
        """The peer's stream header: the negotiator keeps its id (dialback keys use it)."""
        self._do(self.neg.stream_opened(ev))

    def element(self, el) -> None:
        """The peer's features and answers: the negotiator decides the next step."""
        self._do(self.neg.element(el))

    def tls_upgrade(self):
        """STARTTLS from our end: unverified, verified with the lab CA, or pinned (``S2SManager.client_context``)."""
        return self.start_tls(self.server.s2s.client_context(self.remote), server_side=False,
                              server_hostname=self.remote)

    def tls_established(self) -> None:
        """TLS is up: a pinned peer must show its certificate; then the negotiator restarts the stream."""
        expected = self.server.s2s.pin_for(self.remote)
        if expected is not None:
            why = check_pin(self.transport.get_extra_info("ssl_object"), expected, self.remote)
            if why is not None:
                log.info("%s: %s", self.conn_id, why)
                self._give_up("remote-server-not-found", why)
                return self.close()
        self._do(self.neg.tls_established())

    def act(self, action) -> None:
        """Send what waited once validated; give a verify-only stream's answer; bounce what waits on refusal."""
        kind = type(action)
        if kind is Validated:
            self._ready()
        elif kind is Stanza:  # XEP-0288: the peer's stanza for us, on our own stream
            self.server.s2s.arrived(action.element, self)
        elif kind is Verdict:
            self._answer(action.valid)
        elif kind is GiveUp:
            self._give_up(action.condition, action.text)

    def _ready(self) -> None:
        """Authenticated (dialback or EXTERNAL): send what waited."""
        self.authenticated = True
        for stanza in self.queue:
            self.send(stanza)
        self.queue.clear()

    def _answer(self, valid: bool) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_result(valid)

    def send(self, stanza) -> None:
        """Send a stanza once the stream is authenticated; queue it until then."""
        if self.authenticated and not self.closed:
            if self.accepts(stanza):
                self.write(serialize(stanza, NS_SERVER))
        else:
            self.server.s2s.enqueue(self.queue, stanza, self.remote)

    def _give_up(self, condition: str, text: str) -> None:
        queued, self.queue = self.queue, []
        self._answer(False)
        for stanza in queued:
            self.server.s2s.bounce(stanza, condition, text)

    def lost(self) -> None:
        """Forget the connection and bounce the stanzas still queued on it."""
        self.neg.state = S2SState.CLOSED
        self.server.s2s.forget(self)
        why = f"the connection to {self.remote} was lost"
        if self.secure and not self.authenticated and self.server.s2s.pin_for(self.remote) is not None:
            why = (f"{self.remote} closed the connection after TLS: it does not accept this server's certificate "
                   "(a class server knows it once #federate registered it)")
        self._give_up("remote-server-timeout", why)

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


class S2SManager(S2SPolicy):
    """Outgoing streams per (local domain, remote domain), the static host map, and dialback secrets; the
    negotiators' :class:`~xmpplab.negotiation.s2s_receiving.S2SPolicy`."""

    def __init__(self, server, peers: dict | None = None):
        self.server = server
        self.peers: dict[str, tuple[str, int]] = dict(peers or {})
        self.secret = secrets.token_bytes(32)
        self.outgoing: dict[tuple[str, str], S2SOutgoing] = {}
        self.bidi: dict[tuple[str, str], S2SIncoming] = {}  # (local, remote) -> the peer's stream (XEP-0288)
        self.bidi_peers: set[str] = set()  # remote domains we ask for bidirectional streams
        self.pins: dict[str, str] = {}  # remote domain -> its certificate's SHA-256 fingerprint
        self.known = KnownCertificates(server)  # domains whose servers prove themselves by certificate (incoming)
        self.dialback = True  # offer Server Dialback to incoming streams (a class server does not: certificates only)
        self._connecting: dict[tuple[str, str], list] = {}
        self._client_context = None
        self._pinned_context = None
        server.hook("route/remote", self.route)

    def serves(self, domain) -> bool:
        """A domain this server speaks for on server-to-server streams: a host, or a component (MUC)."""
        return domain in self.server.hosts or domain in self.server.components

    @property
    def default_domain(self) -> str:
        """The domain of headers that name none the server serves."""
        return self.server.default_domain

    def dialback_for(self, domain) -> bool:
        """No dialback for a domain known by its certificate (only the certificate proves it), nor at all
        when ``dialback`` is off."""
        return self.dialback and domain not in self.known

    def pin_for(self, domain: str) -> str | None:
        """The pinned fingerprint of ``domain``'s server (its own entry, else its parent's, as :meth:`peer`)."""
        while domain:
            if domain in self.pins:
                return self.pins[domain]
            domain = domain.partition(".")[2]
        return None

    def wants_bidi(self, domain: str) -> bool:
        """Whether we ask ``domain``'s server for a bidirectional stream (XEP-0288)."""
        return self.pin_for(domain) is not None or any(
            domain == d or domain.endswith("." + d) for d in self.bidi_peers)

    def bidi_stream(self, conn: S2SIncoming, local: str, remote: str) -> None:
        """Send our stanzas from ``local`` to ``remote`` on ``conn``, the stream ``remote`` opened (XEP-0288)."""
        self.bidi[(local, remote)] = conn

    def peer(self, domain: str):
        """Where ``domain``'s server listens: its own entry, else its parent's (conference.server1.com is
        served by server1.com's server, as a component)."""
        while domain:
            if domain in self.peers:
                return self.peers[domain]
            domain = domain.partition(".")[2]
        return None

    def client_context(self, remote: str | None = None):
        """TLS for outgoing streams: unverified by default; with the lab CA, verified both ways. To a pinned
        peer, we show our own certificate and check the peer's fingerprint after the handshake."""
        from .tls import s2s_client_context
        if remote is not None and self.pin_for(remote) is not None:
            if self._pinned_context is None:
                self._pinned_context = s2s_client_context(self.server.hosts, own=self.own_certificate())
            return self._pinned_context
        if self._client_context is None:
            self._client_context = s2s_client_context(self.server.hosts, self.server.tls_ca)
        return self._client_context

    def own_certificate(self) -> tuple[str, str | None]:
        """The PEM files (certificate, key or None when the first holds both) that this server's TLS shows."""
        from .tls import certificate_file
        srv = self.server
        if srv.tls_cert:
            return str(srv.tls_cert), srv.tls_key
        return str(certificate_file(srv.hosts, ca=srv.tls_ca)), None

    def add_peer(self, domain: str, host: str, port: int, *, fingerprint: str | None = None,
                 bidi: bool = False) -> None:
        """Tell this server where the server for ``domain`` listens for server-to-server streams. With
        ``fingerprint`` (SHA-256 of its certificate) only that certificate is accepted, we authenticate with
        our own by SASL EXTERNAL and ask for a bidirectional stream; ``bidi`` asks for one (XEP-0288) in any
        case."""
        from ..pinning import normalise
        domain = JID(domain).domain
        self.peers[domain] = (host, int(port))
        if fingerprint is not None:
            self.pins[domain] = normalise(fingerprint)
        if bidi:
            self.bidi_peers.add(domain)

    def arrived(self, element, origin) -> None:
        """A stanza of a validated remote domain, on either stream (XEP-0288), to the router: the
        ``remote-<kind>/<where>`` hooks see it first (a class server's routing table and its rules)."""
        self.server.router.route(element, origin=origin, remote=True)

    def route(self, event) -> bool:
        """Send a stanza to a remote domain, connecting first when needed; False when the domain has no known peer."""
        remote = event.to.domain
        local = event.from_.domain if event.from_ is not None and self.serves(event.from_.domain) \
            else self.server.default_domain
        key = (local, remote)
        back = self.bidi.get(key)
        if back is not None and not back.closed:  # XEP-0288: the stream the peer opened carries ours too
            back.send(event.stanza)
            return True
        if self.peer(remote) is None:
            return False  # the default handler answers remote-server-not-found
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
                lambda: S2SOutgoing(self.server, receiving, originating, (stream_id, key), answer), host, port),
                CONNECT_TIMEOUT)
            return await asyncio.wait_for(answer, VERIFY_TIMEOUT)
        except (TimeoutError, OSError):
            return False

    def forget(self, conn) -> None:
        """Drop a closed connection: the next stanza opens a new one (or goes back on another bidi stream)."""
        for table in (self.outgoing, self.bidi):
            for key in [k for k, c in table.items() if c is conn]:
                del table[key]

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
