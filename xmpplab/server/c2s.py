"""Client-to-server connections: the server's end of RFC 6120 sections 4 to 7, over TCP.

One :class:`C2SSession` per TCP connection, an ``asyncio.Protocol``: bytes go
into the sans-IO :class:`~xmpplab.stream.StreamParser`, its events go to the
sans-IO :class:`~xmpplab.negotiation.ServerNegotiator` (the negotiation,
written once, as the table :data:`~xmpplab.negotiation.TRANSITIONS`), and
this session performs what it asks: send, upgrade to TLS, reset the parser,
hash a password off the event loop, bind a resource, answer a registration,
close. Once the resource is bound, stanzas go to the server's router.

The session is the negotiator's :class:`~xmpplab.negotiation.Policy`: it says
which domains the server serves, which SASL mechanisms and accounts it has,
which extra stream features its modules add (:meth:`C2SSession.stream_features`,
the one place that builds them), and applies the per-address limits
(``server.throttle``): connections and unauthenticated connections per
address when a connection opens, failed logins before SASL starts.

TLS first (RFC 6120 sections 5.3.1 and 13.8): a peer that is not local
(``Limits.local_networks``), and every peer when the server has
``require_tls``, is offered only ``<starttls><required/></starttls>`` until
TLS is up; anything else it sends first closes the stream with
``<policy-violation/>``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import ssl
import time

from ..jid import JID, InvalidJID
from ..negotiation import (
    ENCRYPTION_REQUIRED,
    MAX_SASL_FAILURES,
    NO_TLS,
    TRANSITIONS,
    Authenticated,
    Bind,
    Hash,
    Policy,
    PreAuth,
    SASLFailed,
    ServerNegotiator,
    State,
)
from ..sasl import MECHANISMS, new_mechanism
from ..stream import StreamOpened
from ..xml import NS_CLIENT, serialize, split_qname
from .addresses import address_key
from .connection import HOLD_WORK, StreamConnection, fmt_addr
from .events import NonzaEvent, PreAuthEvent, pre_auth_name, stream_features

log = logging.getLogger("xmpplab.server")

#: The three stanzas in Clark notation: what stream management counts (XEP-0198 §4).
STANZA_TAGS = frozenset(f"{{{NS_CLIENT}}}{kind}" for kind in ("message", "presence", "iq"))

# Kept importable from here: the negotiation's table and its messages live in xmpplab.negotiation.
__all__ = ["C2SSession", "ENCRYPTION_REQUIRED", "MAX_SASL_FAILURES", "NO_TLS", "State", "TRANSITIONS"]


class C2SSession(StreamConnection, Policy):
    """One client connection: its negotiation (performed for a :class:`ServerNegotiator`), then its resource."""

    kind = "c2s"
    role = "receiving"

    def __init__(self, server):
        super().__init__(server)
        self.neg = ServerNegotiator(self, tls_available=server.tls_context is not None)
        self.username: str | None = None
        self.jid: JID | None = None
        self.jid_str: str | None = None
        self.mechanism_name: str | None = None
        # presence state (RFC 6121 section 4), which routing reads (8.5.2): filled by the presence module
        self.available = False
        self.priority = 0
        self.presence = None
        #: A module may hold back what is sent to this client (XEP-0352 while it is inactive): a callable
        #: that takes the element and returns True when it kept it, to write later itself.
        self.hold = None
        # XEP-0198 stream management, which the "sm" module switches on: stanzas handled since it was, what
        # was sent and not yet acknowledged, and whether the connection is gone but the session kept
        self.handled = 0
        self.unacked = None
        self.detached = False
        self.opened_at = time.time()
        self._timer: asyncio.TimerHandle | None = None
        self.limit_key: str | None = None  # the key of server.throttle's counters; None: a local peer, exempt
        self._counted: set[str] = set()     # which of throttle.connections / .unauthenticated count us

    @property
    def state(self) -> State:
        """Where the negotiation is (a row of :data:`~xmpplab.negotiation.TRANSITIONS`)."""
        return self.neg.state

    @state.setter
    def state(self, value: State) -> None:
        """Set the negotiation state (it lives in the negotiator, ``self.neg``)."""
        self.neg.state = value

    @property
    def host(self) -> str | None:
        """The domain the client's stream header named (kept across restarts)."""
        return self.neg.host

    @property
    def tls_first(self) -> bool:
        """TLS must come before anything else: a peer that is not local, or any peer with ``require_tls``."""
        return self.neg.tls_first

    # StreamConnection hooks ---------------------------------------------------
    def opened(self) -> None:
        """The connection is up: whether TLS comes first, the per-address limits, the negotiation timer."""
        self.neg.tls_available = self.server.tls_context is not None
        self.neg.secure = self.secure  # a transport already encrypted (wss: RFC 7395 3.9) gets no STARTTLS
        self.neg.tls_required = not self.loopback or self.server.require_tls
        if self.server.limits.applies_to(self.peer):
            self.limit_key = address_key(self.peer)
            if not self._admit():
                return
        timeout = self.server.negotiation_timeout
        if timeout:
            self._timer = asyncio.get_running_loop().call_later(timeout, self._negotiation_timed_out)

    def _admit(self) -> bool:
        """Count this connection against its address's limits, or close it (with a stream header first)."""
        throttle, key, limits = self.server.throttle, self.limit_key, self.server.limits
        if throttle.connections.full(key):
            why = f"too many connections from your address (at most {limits.connections_per_address})"
        elif throttle.unauthenticated.full(key):
            why = (f"too many connections from your address that have not logged in (at most "
                   f"{limits.unauthenticated_per_address})")
        else:
            for name in ("connections", "unauthenticated"):
                getattr(throttle, name).add(key)
                self._counted.add(name)
            return True
        log.info("%s: %s refused: %s", self.conn_id, key, why)
        self.close("policy-violation", why)
        return False

    def _uncount(self, name: str) -> None:
        if name in self._counted:
            self._counted.discard(name)
            getattr(self.server.throttle, name).remove(self.limit_key)

    def stream_opened(self, ev: StreamOpened) -> None:
        """A stream header (the first, or a restart): the negotiator answers it."""
        self._do(self.neg.stream_opened(ev))

    def element(self, el) -> None:
        """An element at depth 1: to the router once bound, else to the negotiator."""
        if self.neg.state is State.READY:
            if el.tag in STANZA_TAGS:
                self.handled += 1  # XEP-0198 §4: what 'h' counts
            self.server.router.from_client(self, el)
        else:
            self._do(self.neg.element(el))

    def tls_established(self) -> None:
        """STARTTLS is done; the client restarts the stream (RFC 6120 5.4.3.3)."""
        self._do(self.neg.tls_established())

    def lost(self) -> None:
        """The connection is gone: stop the timer, uncount it, tell the server."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for name in list(self._counted):
            self._uncount(name)
        self.neg.state = State.CLOSED
        if (self.jid is not None and self.unacked is not None and not self.peer_ended and self.close_condition is None
                and self.server.hooks.first("session-detached", self)):
            return  # XEP-0198 §5: the connection is gone, not the session; it may be resumed
        self.server.session_closed(self)

    def send_error_header(self) -> None:
        """Our stream header, before a stream error when none was sent yet."""
        self.write(self.neg.error_header())
        self.stream_id = self.neg.stream_id

    def _negotiation_timed_out(self) -> None:
        if self.neg.state is not State.READY:
            self.close("connection-timeout", "the stream was not negotiated in time")

    def send(self, stanza) -> None:
        """Send one element to this client (called by the router)."""
        if (self.neg.state is State.READY or self.detached) and self.accepts(stanza):
            if self.hold is not None and self.hold(stanza):
                return
            self.write_stanza(serialize(stanza, NS_CLIENT))

    def write_stanza(self, text: str) -> None:
        """Write one serialized stanza; with stream management it is also kept until acknowledged (XEP-0198 §4)."""
        self.write(text)
        if self.unacked is not None:
            self.unacked.append(text)

    # what the negotiator asks for ------------------------------------------------
    def act(self, action) -> None:
        """Perform what the negotiator asks beyond sending, closing, STARTTLS and restarts (``_do`` does those)."""
        kind = type(action)
        if kind is Hash:
            self.offload(action.func, *action.args, then=lambda result: self._do(self.neg.hashed(result)))
        elif kind is SASLFailed:
            if action.condition == "not-authorized" and self.limit_key is not None:
                self.server.throttle.auth_failures.hit(self.limit_key)
        elif kind is Authenticated:
            self._authenticated(action)
        elif kind is Bind:
            self._bind(action)
        elif kind is PreAuth:
            pass  # accepts_pre_auth() had a module serve it already
        else:  # Stanza: only once bound, and element() routes those itself
            self.server.router.from_client(self, action.element)

    @property
    def default_domain(self) -> str:
        """The domain of headers that name none the server serves."""
        return self.server.default_domain

    def serves_domain(self, domain: str) -> bool:
        """Whether ``domain`` is one of the server's hosts."""
        return domain in self.server.hosts

    def sasl_mechanisms(self):
        """SCRAM-SHA-256, SCRAM-SHA-1, PLAIN (:mod:`xmpplab.sasl`)."""
        return MECHANISMS

    def sasl_mechanism(self, name: str, host: str):
        """A mechanism checking against the server's stored SCRAM keys."""
        return new_mechanism(name, self._lookup, host)

    def stream_features(self, stage: str) -> list:
        """What the server's modules offer at ``stage`` (events ``stream-features/<stage>``: registration, roster
        versions, pre-approval, the optional session…)."""
        return stream_features(self.server.hooks, stage, self)

    def accepts_before_bind(self, el) -> bool:
        """Let the modules serve an element between login and binding (``before-bind/ns:name``: XEP-0198)."""
        ns, name = split_qname(el.tag)
        return self.server.hooks.first(f"before-bind/{ns}:{name}", NonzaEvent(self.server, self, el))

    def accepts_pre_auth(self, stanza) -> bool:
        """Let the modules serve ``stanza`` before authentication (events ``pre-auth/…``, e.g. XEP-0077)."""
        return self.server.hooks.first(pre_auth_name(stanza), PreAuthEvent(self.server, self, stanza))

    def login_wait(self) -> float:
        """How long this address must wait after too many failed logins (``throttle.auth_failures``)."""
        return self.server.throttle.auth_failures.wait(self.limit_key) if self.limit_key is not None else 0

    def _lookup(self, username: str):
        try:
            username = JID(local=username, domain=self.host).local
        except InvalidJID:
            return None
        return self.server.storage.get_account(self.host, username)

    def _authenticated(self, action: Authenticated) -> None:
        self.username = action.username
        self.mechanism_name = action.mechanism
        self._uncount("unauthenticated")
        if self.server.recorder is not None:
            self.server.record(self.conn_id, "auth", mechanism=action.mechanism, user=f"{action.username}@{self.host}")

    def _bind(self, action: Bind) -> None:
        iq = action.iq
        wanted = action.resource or f"xmpplab-{secrets.token_hex(4)}"
        try:
            jid = JID(local=self.username, domain=self.host, resource=wanted)
        except InvalidJID as exc:
            return self._do(self.neg.refuse_bind(iq, "bad-request", str(exc)))
        jid = self.server.bind(self, jid)
        if jid is None:
            return self._do(self.neg.refuse_bind(iq, "conflict"))
        self.jid = jid
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._do(self.neg.bound(iq, jid))
        if self.server.recorder is not None:
            self.server.record(self.conn_id, "bound", jid=str(jid))
        self.server.hooks.fire("session-bound", self)

    # work off the event loop ----------------------------------------------------
    @property
    def hashing(self) -> bool:
        """Work for this connection runs off the event loop (password hashing); its input waits meanwhile."""
        return bool(self._holds & HOLD_WORK) and not self.closed

    def offload(self, func, *args, then) -> None:
        """Run ``func(*args)`` (password hashing) in a thread, then ``then(result)`` back on the loop.

        Other connections go on meanwhile; this connection's input waits, unparsed (``HOLD_WORK``), so
        what the client sees is never reordered, and a stream restart after SASL success gets a fresh
        parser. A client that floods meanwhile fills only the kernel's buffers.
        """
        self._hold(HOLD_WORK)
        future = asyncio.get_running_loop().run_in_executor(None, func, *args)
        future.add_done_callback(functools.partial(self._offloaded, then))

    def _offloaded(self, then, future) -> None:
        if self.closed or future.cancelled():
            return
        if future.exception() is not None:
            log.error("%s: %s failed: %s", self.conn_id, getattr(then, "__name__", "work"), future.exception())
            return self.close("internal-server-error", "the server could not check the password")
        self._release(HOLD_WORK)  # then() may hold again (another hash): then the input waits for that one
        try:
            then(future.result())
        except Exception as exc:  # as in data_received: only this connection ends
            return self._failed(exc)
        if not self.closed and not self._holds & HOLD_WORK:
            asyncio.get_running_loop().call_soon(self._resume)

    def __repr__(self) -> str:
        who = self.jid or (f"{self.username}@{self.host}" if self.username else self.peer and fmt_addr(self.peer))
        return f"<C2SSession {self.conn_id} {who} {self.state.value}{' tls' if self.secure else ''}>"


#: XEP-0368 §4: the ALPN protocol name a client offers on a direct TLS connection to an XMPP server.
ALPN_CLIENT = "xmpp-client"


def direct_tls_context(ctx: ssl.SSLContext) -> ssl.SSLContext:
    """Ready ``ctx`` (a fresh context with the server's certificate) for a port where TLS starts at once
    (XEP-0368): ALPN ``xmpp-client``. Not the STARTTLS context, where no ALPN name is offered."""
    ctx.set_alpn_protocols([ALPN_CLIENT])
    return ctx


class DirectTLSSession(C2SSession):
    """A client connection on the direct TLS port (XEP-0368): encrypted from the first byte, so the stream
    offers no STARTTLS and goes straight to SASL. Recorded as transport ``direct-tls``."""

    transport_kind = "direct-tls"

    def connection_made(self, transport):
        """The TLS handshake is already done: the stream starts secure."""
        self.secure = True
        super().connection_made(transport)
        if self.server.recorder is not None:
            ssl_obj = transport.get_extra_info("ssl_object")
            self.server.record(self.conn_id, "tls", version=ssl_obj.version() if ssl_obj else None,
                               cipher=(ssl_obj.cipher() or [None])[0] if ssl_obj else None)
