"""Client-to-server connections: stream negotiation (RFC 6120 sections 4 to 7).

One :class:`C2SSession` per TCP connection, an ``asyncio.Protocol``: bytes go
into the sans-IO :class:`~xmpplab.stream.StreamParser`, its events drive the
negotiation state machine below, and once the resource is bound, stanzas go
to the server's router.

The negotiation is data (:data:`TRANSITIONS`), so the kit can draw it::

    connected --stream header--> open --<starttls/>--> tls --handshake--> connected
    open --<auth/>--> sasl --<success/>--> authenticated --stream header--> bind
    bind --<iq><bind/></iq>--> ready

TLS first (RFC 6120 sections 5.3.1 and 13.8): a peer that is not local
(``Limits.local_networks``), and every peer when the server has
``require_tls``, is offered only ``<starttls><required/></starttls>`` until
TLS is up; anything else it sends first closes the stream with
``<policy-violation/>``. Per-address limits (``server.throttle``) are checked
here too: connections and unauthenticated connections per address when a
connection opens, failed logins before SASL starts.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import enum
import functools
import logging
import math
import secrets
import time

from ..errors import error_reply
from ..jid import JID, InvalidJID
from ..stream import StreamOpened
from ..xml import NS_BIND, NS_CLIENT, NS_SASL, NS_STREAM, NS_TLS, STANZA_KINDS, element, serialize, split_qname, sub
from .auth import MECHANISMS, SASLFailure, new_mechanism
from .addresses import address_key
from .connection import HOLD_WORK, StreamConnection, fmt_addr, xml_attr
from .events import AFTER_AUTH, BEFORE_AUTH, BEFORE_TLS, PreAuthEvent, pre_auth_name, stream_features
from .storage import StorageFault

log = logging.getLogger("xmpplab.server")


class State(enum.Enum):
    """Where a client connection is in its negotiation (RFC 6120 section 4.3)."""

    CONNECTED = "connected"          # TCP (or TLS) up, waiting for the stream header
    OPEN = "open"                    # stream open, features offered: STARTTLS, SASL
    TLS = "tls"                      # TLS handshake under way
    SASL = "sasl"                    # SASL exchange under way
    AUTHENTICATED = "authenticated"  # SASL done, waiting for the restarted stream header
    BIND = "bind"                    # features offered: resource binding
    READY = "ready"                  # resource bound: stanzas flow
    CLOSED = "closed"


#: (from, trigger, to): the negotiation state machine as data.
TRANSITIONS = (
    (State.CONNECTED, "client sends <stream:stream>", State.OPEN),
    (State.OPEN, "client sends <starttls/>, server answers <proceed/>", State.TLS),
    (State.TLS, "TLS handshake completes; the stream restarts", State.CONNECTED),
    (State.OPEN, "client sends <auth mechanism=...>", State.SASL),
    (State.SASL, "server sends <failure/>", State.OPEN),
    (State.SASL, "server sends <success/>", State.AUTHENTICATED),
    (State.AUTHENTICATED, "client sends <stream:stream> again", State.BIND),
    (State.BIND, "client binds a resource: <iq type='set'><bind/></iq>", State.READY),
    (State.READY, "either side sends </stream:stream> or an error", State.CLOSED),
)

MAX_SASL_FAILURES = 3
#: RFC 6120 6.5.12: the accounts cannot be read now (a damaged or locked database); the password is not wrong
STORAGE_DOWN = ("temporary-auth-failure", "the server cannot read its accounts now; try again later")
#: Most elements a connection may send while its password is being hashed (an honest client waits).
MAX_HELD = 64
ENCRYPTION_REQUIRED = "encryption is required: send <starttls/> first (RFC 6120 5.3.1)"
NO_TLS = "encryption is required from your address, and this server does not offer TLS"


class C2SSession(StreamConnection):
    """One client connection: its negotiation, then its bound resource."""

    kind = "c2s"
    role = "receiving"

    def __init__(self, server):
        super().__init__(server)
        self.state = State.CONNECTED
        self.host: str | None = None
        self.username: str | None = None
        self.jid: JID | None = None
        self.jid_str: str | None = None
        self.mechanism = None
        self.mechanism_name: str | None = None
        self.sasl_failures = 0
        # presence state (RFC 6121 section 4), which routing reads (8.5.2): filled by the presence module
        self.available = False
        self.priority = 0
        self.presence = None
        self.opened_at = time.time()
        self._timer: asyncio.TimerHandle | None = None
        self.limit_key: str | None = None  # the key of server.throttle's counters; None: a local peer, exempt
        self._counted: set[str] = set()     # which of throttle.connections / .unauthenticated count us
        self._held: list | None = None      # while a password is hashed: the elements that arrived meanwhile

    # StreamConnection hooks ---------------------------------------------------
    def opened(self) -> None:
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

    def element(self, el) -> None:
        if self._held is not None:
            return self._hold_element(self._element, el)
        self._element(el)

    def _element(self, el) -> None:
        if self.state is State.READY:
            self.server.router.from_client(self, el)
        else:
            self.negotiate(el)

    def lost(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for name in list(self._counted):
            self._uncount(name)
        self.state = State.CLOSED
        self.server.session_closed(self)

    # work off the event loop ----------------------------------------------------
    def offload(self, func, *args, then) -> None:
        """Run ``func(*args)`` (password hashing) in a thread, then ``then(result)`` back on the loop.

        Other connections go on meanwhile; this connection's later elements wait in order, so what the
        client sees is never reordered. A client that sends more than :data:`MAX_HELD` elements while it
        waits is closed with ``<policy-violation/>``.
        """
        self._held = []
        self._hold(HOLD_WORK)  # the bytes after this element are parsed only once the work is done (a stream
        #                        restart after SASL success needs a fresh parser)
        future = asyncio.get_running_loop().run_in_executor(None, func, *args)
        future.add_done_callback(functools.partial(self._offloaded, then))

    def _offloaded(self, then, future) -> None:
        held, self._held = self._held or [], None
        if self.closed or future.cancelled():
            return
        if future.exception() is not None:
            log.error("%s: %s failed: %s", self.conn_id, getattr(then, "__name__", "work"), future.exception())
            return self.close("internal-server-error", "the server could not check the password")
        try:
            then(future.result())
            for i, (handler, item) in enumerate(held):
                if self.closed:
                    return
                if self._held is not None:  # another hash started: the rest waits behind it
                    self._held[:0] = held[i:]
                    return
                handler(item)
        except Exception as exc:  # as in data_received: only this connection ends
            return self._failed(exc)
        if self._held is None and not self.closed:
            self._release(HOLD_WORK)
            asyncio.get_running_loop().call_soon(self._resume)

    def _hold_element(self, handler, item) -> None:
        if len(self._held) >= MAX_HELD:
            return self.close("policy-violation", "too many elements sent while the password was being checked")
        self._held.append((handler, item))

    def send_error_header(self) -> None:
        self._send_header(self.host or self.server.default_domain)

    def _negotiation_timed_out(self) -> None:
        if self.state is not State.READY:
            self.close("connection-timeout", "the stream was not negotiated in time")

    def send(self, stanza) -> None:
        """Send one element to this client (called by the router)."""
        if self.state is State.READY and self.accepts(stanza):
            self.write(serialize(stanza, NS_CLIENT))

    # negotiation ----------------------------------------------------------
    def _send_header(self, host: str, to: str | None = None) -> None:
        self.stream_id = secrets.token_hex(8)
        attrs = f" from='{host}' id='{self.stream_id}'" + (f" to='{xml_attr(to)}'" if to else "")
        self.write("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                   f"xmlns:stream='{NS_STREAM}'{attrs} version='1.0' xml:lang='en'>")

    @property
    def tls_first(self) -> bool:
        """TLS must come before anything else: a peer that is not local, or any peer with ``require_tls``."""
        return not self.secure and (not self.loopback or self.server.require_tls)

    def stream_opened(self, ev: StreamOpened) -> None:
        if self._held is not None:
            return self._hold_element(self._stream_opened, ev)
        self._stream_opened(ev)

    def _stream_opened(self, ev: StreamOpened) -> None:
        attrs = ev.attrs
        to = attrs.get("to")
        host = None
        if to:
            try:
                host = JID(to).domain
            except InvalidJID:
                host = None
        if host and host in self.server.hosts and (self.host is None or host == self.host):
            self._send_header(host, attrs.get("from"))
        else:
            self._send_header(self.host or self.server.default_domain)
        if ev.default_ns != NS_CLIENT:
            return self.close("invalid-namespace", "a client stream's default namespace is jabber:client")
        if not to:
            return self.close("host-unknown", "the stream header has no 'to' attribute")
        if host not in self.server.hosts:
            return self.close("host-unknown", f"this server does not serve {to}")
        if self.host is not None and host != self.host:
            return self.close("not-authorized", "the 'to' attribute must stay the same across stream restarts")
        version = attrs.get("version", "0.9")
        try:
            major = int(version.split(".")[0])
        except ValueError:
            major = 0
        if major < 1:
            return self.close("unsupported-version", "xmpplab speaks XMPP 1.0 (RFC 6120)")
        self.host = host
        features = element("features", ns=NS_STREAM)
        if self.state in (State.CONNECTED, State.OPEN):
            self.state = State.OPEN
            if not self.secure and self.server.tls_context is not None:
                tls = sub(features, "starttls", ns=NS_TLS)
                if self.tls_first:
                    sub(tls, "required", ns=NS_TLS)  # RFC 6120 5.3.1: and no other feature before it
            if not self.tls_first:
                mechs = sub(features, "mechanisms", ns=NS_SASL)
                for name in self._mechanisms():
                    sub(mechs, "mechanism", text=name)
            features.extend(self.module_features(BEFORE_TLS if self.tls_first else BEFORE_AUTH))
        elif self.state is State.AUTHENTICATED:
            self.state = State.BIND
            sub(features, "bind", ns=NS_BIND)
            features.extend(self.module_features(AFTER_AUTH))
        else:
            return self.close("policy-violation", "unexpected stream restart")
        self.write(serialize(features))

    def module_features(self, stage: str) -> list:
        """What the modules offer at ``stage`` (events ``stream-features/<stage>``): registration, roster versions…"""
        return stream_features(self.server.hooks, stage, self)

    def _mechanisms(self) -> list[str]:
        if self.tls_first:
            return []  # RFC 6120 13.8: no password, not even a SCRAM proof, before TLS off loopback
        return list(MECHANISMS)

    def negotiate(self, el) -> None:
        """An element arrived before the resource was bound."""
        ns, name = split_qname(el.tag)
        state = self.state
        if state is State.OPEN and ns == NS_TLS and name == "starttls":
            return self._starttls()
        if state is State.OPEN and self.tls_first:
            # RFC 6120 5.3.1: TLS is mandatory-to-negotiate; XEP-0077 11: no registration in clear either
            return self.close("policy-violation", ENCRYPTION_REQUIRED if self.server.tls_context else NO_TLS)
        if state is State.OPEN and ns == NS_SASL and name == "auth":
            return self._sasl_start(el)
        if state is State.SASL and ns == NS_SASL and name in ("response", "abort"):
            return self._sasl_response(el)
        if state is State.BIND and ns == NS_CLIENT and name == "iq":
            return self._bind_iq(el)
        if state is State.OPEN and ns == NS_CLIENT and self.server.hooks.first(
                pre_auth_name(el), PreAuthEvent(self.server, self, el)):
            return  # a module serves it before authentication (events: pre-auth/...), e.g. XEP-0077
        if ns == NS_CLIENT and name in STANZA_KINDS or ns in (NS_TLS, NS_SASL):
            return self.close("not-authorized", f"<{name}/> is not allowed before authentication and resource binding")
        return self.close("unsupported-stanza-type", f"<{name}/> is not understood here")

    def _starttls(self) -> None:
        if self.secure or self.server.tls_context is None:
            self.write(f"<failure xmlns='{NS_TLS}'/>")
            return self.close()
        self.write(f"<proceed xmlns='{NS_TLS}'/>")
        self.state = State.TLS
        self.prepare_tls()
        self.tasks.start(self.start_tls(self.server.tls_context, server_side=True), "STARTTLS")

    def tls_established(self) -> None:
        self.state = State.CONNECTED

    def _sasl_fail(self, condition: str, text: str | None = None) -> None:
        if condition == "not-authorized" and self.limit_key is not None:
            self.server.throttle.auth_failures.hit(self.limit_key)
        failure = element("failure", ns=NS_SASL)
        sub(failure, condition)
        if text:
            sub(failure, "text", text=text)
        self.write(serialize(failure, None))
        self.mechanism = None
        self.state = State.OPEN
        if condition not in ("aborted",):
            self.sasl_failures += 1
        if self.sasl_failures >= MAX_SASL_FAILURES:
            self.close("policy-violation", f"too many failed authentication attempts ({self.sasl_failures})")

    @staticmethod
    def _decode(el) -> bytes:
        text = (el.text or "").strip()
        if text == "=":
            return b""
        return base64.b64decode(text, validate=True)

    def _lookup(self, username: str):
        try:
            username = JID(local=username, domain=self.host).local
        except InvalidJID:
            return None
        return self.server.storage.get_account(self.host, username)

    def _sasl_start(self, el) -> None:
        name = el.get("mechanism", "")
        wait = self.server.throttle.auth_failures.wait(self.limit_key) if self.limit_key is not None else 0
        if wait:
            # RFC 6120 6.5.12: "try again later"; the client keeps its password (it was not found wrong)
            return self._sasl_fail("temporary-auth-failure", f"too many failed logins from your address; "
                                                             f"try again in {math.ceil(wait)} s")
        if name not in self._mechanisms():
            return self._sasl_fail("invalid-mechanism", f"{name or 'no mechanism'} is not offered")
        self.mechanism = new_mechanism(name, self._lookup, self.host)
        self.state = State.SASL
        if not (el.text or "").strip() and name != "PLAIN":
            self.write(f"<challenge xmlns='{NS_SASL}'/>")  # RFC 6120 6.4.2: ask for the initial response
            return
        self._sasl_step(el)

    def _sasl_response(self, el) -> None:
        if split_qname(el.tag)[1] == "abort":
            return self._sasl_fail("aborted")
        self._sasl_step(el)

    def _sasl_step(self, el) -> None:
        try:
            data = self._decode(el)
        except (binascii.Error, ValueError):
            return self._sasl_fail("incorrect-encoding", "the SASL data is not valid base64")
        slow_step = getattr(self.mechanism, "slow_step", None)
        if slow_step is None:
            return self._sasl_result(functools.partial(self.mechanism.step, data))
        try:
            check = slow_step(data)  # PLAIN: the password is hashed off the event loop
        except SASLFailure as exc:
            return self._sasl_fail(exc.condition, exc.text)
        except StorageFault:  # logged in one line by storage
            return self._sasl_fail(*STORAGE_DOWN)
        self.offload(check.func, *check.args, then=lambda matches: self._sasl_result(
            functools.partial(check.resume, matches)))

    def _sasl_result(self, step) -> None:
        try:
            challenge, done, username = step()
        except SASLFailure as exc:
            return self._sasl_fail(exc.condition, exc.text)
        except StorageFault:  # logged in one line by storage
            return self._sasl_fail(*STORAGE_DOWN)
        if not done:
            payload = base64.b64encode(challenge).decode() if challenge else "="
            self.write(f"<challenge xmlns='{NS_SASL}'>{payload}</challenge>")
            return
        self.username = username
        payload = base64.b64encode(challenge).decode() if challenge else ""
        self.write(f"<success xmlns='{NS_SASL}'>{payload}</success>")
        self.mechanism_name = self.mechanism.name
        self.mechanism = None
        self.state = State.AUTHENTICATED
        self._uncount("unauthenticated")
        self.parser.reset()
        if self.server.recorder is not None:
            self.server.record(self.conn_id, "auth", mechanism=self.mechanism_name, user=f"{username}@{self.host}")

    def _bind_iq(self, el) -> None:
        payload = el[0] if len(el) else None
        if el.get("type") == "set" and payload is not None and payload.tag == f"{{{NS_BIND}}}bind":
            res_el = payload.find(f"{{{NS_BIND}}}resource")
            wanted = (res_el.text or "") if res_el is not None else ""
            if not wanted.strip():
                wanted = f"xmpplab-{secrets.token_hex(4)}"
            try:
                jid = JID(local=self.username, domain=self.host, resource=wanted.strip())
            except InvalidJID as exc:
                return self.write(serialize(error_reply(el, "bad-request", str(exc)), NS_CLIENT))
            jid = self.server.bind(self, jid)
            if jid is None:
                return self.write(serialize(error_reply(el, "conflict"), NS_CLIENT))
            self.jid = jid
            self.state = State.READY
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            result = element("iq", {"type": "result", "id": el.get("id")})
            bind = sub(result, "bind", ns=NS_BIND)
            sub(bind, "jid", text=str(jid))
            self.write(serialize(result, NS_CLIENT))
            if self.server.recorder is not None:
                self.server.record(self.conn_id, "bound", jid=str(jid))
            self.server.hooks.fire("session-bound", self)
            return
        if el.get("type") in ("result", "error"):
            return
        self.write(serialize(error_reply(el, "not-authorized", "bind a resource first"), NS_CLIENT))

    def __repr__(self) -> str:
        who = self.jid or (f"{self.username}@{self.host}" if self.username else self.peer and fmt_addr(self.peer))
        return f"<C2SSession {self.conn_id} {who} {self.state.value}{' tls' if self.secure else ''}>"
