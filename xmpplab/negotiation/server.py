"""The receiving side of the negotiation: what a server answers, step by step (RFC 6120 sections 4 to 7).

:class:`ServerNegotiator` consumes the events of a
:class:`~xmpplab.stream.StreamParser` and returns text to send and actions
(:mod:`.actions`); it moves only along the rows of :data:`.table.TRANSITIONS`.
Whatever depends on the server (which domains it serves, which SASL mechanisms
and accounts it has, which extra stream features its modules add, login
throttling) it asks a :class:`Policy`; the xmpplab server's
:class:`~xmpplab.server.c2s.C2SSession` and the replay fake server are two.

>>> from xmpplab.stream import StreamParser
>>> n, p = ServerNegotiator(Policy()), StreamParser()
>>> [type(a).__name__ for a in n.receive(p.feed(
...     b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
...     b"to='example.com' version='1.0'>")[0])]
['Send', 'Send']
>>> n.state
<State.OPEN: 'open'>
>>> [type(a).__name__ for a in n.receive(p.feed(b"<message to='romeo@example.net'/>")[0])]
['Close']
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets
from collections.abc import Sequence

from ..errors import StanzaError, error_reply
from ..jid import JID, InvalidJID
from ..sasl import SASLFailure
from ..stream import StreamOpened
from ..xml import (
    NS_BIND,
    NS_CLIENT,
    NS_SASL,
    NS_STREAM,
    NS_TLS,
    STANZA_KINDS,
    element,
    serialize,
    split_qname,
    sub,
    xml_attr,
)
from .actions import Authenticated, Bind, Hash, PreAuth, Restart, SASLFailed, Send, Stanza, StartTLS
from .base import Negotiator
from .table import State, next_state

MAX_SASL_FAILURES = 3
ENCRYPTION_REQUIRED = "encryption is required: send <starttls/> first (RFC 6120 5.3.1)"
NO_TLS = "encryption is required from your address, and this server does not offer TLS"



#: The moments a server's modules add stream features (RFC 6120 4.3.2): next to a required STARTTLS, before
#: authentication, after it (with <bind/>).
BEFORE_TLS, BEFORE_AUTH, AFTER_AUTH = "before-tls", "before-auth", "after-auth"
STAGES = (BEFORE_TLS, BEFORE_AUTH, AFTER_AUTH)

#: RFC 6120 6.5.12: the accounts cannot be read now (a damaged or locked database); the password is not wrong,
#: and the stream stays open for another try.
ACCOUNTS_UNREADABLE = ("temporary-auth-failure", "the server cannot read its accounts now; try again later")

class Policy:
    """What a :class:`ServerNegotiator` asks of its server. The defaults: serve any domain, no SASL."""

    default_domain = "localhost"

    def serves_domain(self, domain: str) -> bool:
        """Whether this server serves ``domain`` (the ``to`` of the client's stream header)."""
        return True

    def sasl_mechanisms(self) -> Sequence[str]:
        """The SASL mechanisms to offer, strongest first (RFC 6120 6.3.3)."""
        return ()

    def sasl_mechanism(self, name: str, host: str):
        """A fresh mechanism object (:mod:`xmpplab.sasl`) for one attempt at ``host``."""
        raise SASLFailure("invalid-mechanism", f"{name} is not offered")

    def stream_features(self, stage: str) -> list:
        """Extra ``<stream:features/>`` children from the server's modules at ``stage``: ``before-tls`` (next
        to a required STARTTLS), ``before-auth`` or ``after-auth`` (:data:`STAGES`)."""
        return []

    def accepts_pre_auth(self, stanza) -> bool:
        """Let the server serve ``stanza`` before authentication (XEP-0077 registration); True if it did."""
        return False

    def accepts_before_bind(self, el) -> bool:
        """Let the server serve an element after login and before binding (XEP-0198 ``<resume/>``); True if it
        did (and it may have called :meth:`ServerNegotiator.resumed`)."""
        return False

    def login_wait(self) -> float:
        """Seconds this peer must wait before it may try to log in again (0: now)."""
        return 0.0


def _stream_id() -> str:
    return secrets.token_hex(8)


def stream_header(ns: str = NS_CLIENT, *, from_: str | None = None, stream_id: str | None = None,
                  to: str | None = None, xmlns_db: str | None = None, lang: str | None = "en") -> str:
    """A stream header (RFC 6120 4.7) in content namespace ``ns``, for either side and c2s or s2s.

    ``xmlns_db`` declares the dialback prefix (XEP-0220) on server-to-server streams.
    """
    decls = f" xmlns:db='{xmlns_db}'" if xmlns_db else ""
    attrs = "".join(f" {name}='{xml_attr(value)}'" for name, value in (("from", from_), ("id", stream_id), ("to", to))
                    if value)
    lang_attr = f" xml:lang='{lang}'" if lang else ""
    return (f"<?xml version='1.0'?><stream:stream xmlns='{ns}' xmlns:stream='{NS_STREAM}'{decls}{attrs} "
            f"version='1.0'{lang_attr}>")


class ServerNegotiator(Negotiator):
    """One client connection's negotiation, seen from the server (see the module docstring).

    ``tls_available``: the server can do STARTTLS. ``tls_required``: this peer must
    use it before anything else (RFC 6120 5.3.1 and 13.8: off loopback, or when the
    server says so): it is then offered only ``<starttls><required/></starttls>``
    and anything else it sends first closes the stream with ``<policy-violation/>``.
    """

    CLOSED = State.CLOSED
    __slots__ = ("policy", "state", "secure", "tls_available", "tls_required", "host", "stream_id", "username",
                 "mechanism", "mechanism_name", "failures", "jid", "_resume", "_new_id")

    def __init__(self, policy: Policy, *, tls_available: bool = False, tls_required: bool = False,
                 secure: bool = False, new_id=_stream_id):
        self.policy = policy
        self.state = State.CONNECTED
        self.secure = secure
        self.tls_available = tls_available
        self.tls_required = tls_required
        self.host: str | None = None
        self.stream_id: str | None = None
        self.username: str | None = None
        self.mechanism = None
        self.mechanism_name: str | None = None
        self.failures = 0
        self.jid: str | None = None
        self._resume = None  # while a Hash action runs: what makes of its result the step's answer
        self._new_id = new_id

    @property
    def tls_first(self) -> bool:
        """TLS must come before anything else, and it is not up yet."""
        return self.tls_required and not self.secure

    def _go(self, event: str) -> None:
        self.state = next_state(self.state, event)

    # --- input (receive(), from Negotiator, hands each parser event to these) ---------------------
    def header(self, host: str, to: str | None = None) -> str:
        """Our stream header (RFC 6120 4.7), with a new stream id."""
        self.stream_id = self._new_id()
        return stream_header(from_=host, stream_id=self.stream_id, to=to)

    def error_header(self) -> str:
        """The header to send before a stream error when none was sent yet (RFC 6120 4.9.1.2)."""
        return self.header(self.host or self.policy.default_domain)

    def stream_opened(self, ev: StreamOpened) -> list:
        """RFC 6120 4.2 and 4.3.2: answer the header, check it, offer the features of this stage."""
        to = ev.attrs.get("to")
        host = None
        if to:
            try:
                host = JID(to).domain
            except InvalidJID:
                host = None
        serves = bool(host) and self.policy.serves_domain(host)
        if serves and (self.host is None or host == self.host):
            out = [Send(self.header(host, ev.attrs.get("from")))]
        else:
            out = [Send(self.header(self.host or self.policy.default_domain))]
        if ev.default_ns != NS_CLIENT:
            return out + self._close("invalid-namespace", "a client stream's default namespace is jabber:client")
        if not to:
            return out + self._close("host-unknown", "the stream header has no 'to' attribute")
        if not serves:
            return out + self._close("host-unknown", f"this server does not serve {to}")
        if self.host is not None and host != self.host:
            return out + self._close("not-authorized", "the 'to' attribute must stay the same across stream restarts")
        try:
            major = int(ev.attrs.get("version", "0.9").split(".")[0])
        except ValueError:
            major = 0
        if major < 1:
            return out + self._close("unsupported-version", "xmpplab speaks XMPP 1.0 (RFC 6120)")
        self.host = host
        if self.state in (State.CONNECTED, State.AUTHENTICATED):
            self._go("header")
        elif self.state is not State.OPEN:  # a header again in OPEN only offers the features again
            return out + self._close("policy-violation", "unexpected stream restart")
        out.append(Send(serialize(self.features())))
        return out

    def features(self):
        """``<stream:features/>`` for the current state (RFC 6120 4.3.2)."""
        features = element("features", ns=NS_STREAM)
        if self.state is State.OPEN:
            if not self.secure and self.tls_available:
                tls = sub(features, "starttls", ns=NS_TLS)
                if self.tls_first:
                    sub(tls, "required", ns=NS_TLS)  # RFC 6120 5.3.1: and no other feature before it
            if self.tls_first:
                features.extend(self.policy.stream_features(BEFORE_TLS))
            else:
                mechanisms = sub(features, "mechanisms", ns=NS_SASL)
                for name in self.policy.sasl_mechanisms():
                    sub(mechanisms, "mechanism", text=name)
                features.extend(self.policy.stream_features(BEFORE_AUTH))
        elif self.state is State.BIND:
            sub(features, "bind", ns=NS_BIND)
            features.extend(self.policy.stream_features(AFTER_AUTH))  # e.g. RFC 3921's optional <session/>
        return features

    def element(self, el) -> list:
        """An element at depth 1: a negotiation step, or a stanza once the resource is bound."""
        state = self.state
        if state is State.READY:
            return [Stanza(el)]
        ns, name = split_qname(el.tag)
        if self._resume is not None:  # the caller holds input while a Hash runs; it did not
            return self._close("policy-violation", "an element arrived while the password was being checked")
        if state is State.OPEN and ns == NS_TLS and name == "starttls":
            return self._starttls()
        if state is State.OPEN and self.tls_first:
            # RFC 6120 5.3.1: TLS is mandatory-to-negotiate; XEP-0077 11: no registration in clear either
            return self._close("policy-violation", ENCRYPTION_REQUIRED if self.tls_available else NO_TLS)
        if state is State.OPEN and ns == NS_SASL and name == "auth":
            return self._sasl_start(el)
        if state is State.SASL and ns == NS_SASL and name in ("response", "abort"):
            return self._sasl_response(el, name)
        if state is State.BIND and ns == NS_CLIENT and name == "iq":
            return self._bind_iq(el)
        if state is State.OPEN and ns == NS_CLIENT and self.policy.accepts_pre_auth(el):
            return [PreAuth(el)]  # served already (XEP-0077 registration, say)
        if state is State.BIND and ns != NS_CLIENT and self.policy.accepts_before_bind(el):
            return [PreAuth(el)]  # served already (XEP-0198 resumption, say)
        if ns == NS_CLIENT and name in STANZA_KINDS or ns in (NS_TLS, NS_SASL):
            return self._close("not-authorized", f"<{name}/> is not allowed before authentication and resource "
                                                 "binding")
        return self._close("unsupported-stanza-type", f"<{name}/> is not understood here")

    # --- STARTTLS (RFC 6120 section 5) -------------------------------------------------------------------
    def _starttls(self) -> list:
        if self.secure or not self.tls_available:
            return [Send(f"<failure xmlns='{NS_TLS}'/>")] + self._close()  # RFC 6120 5.4.2.2
        self._go("starttls")
        return [Send(f"<proceed xmlns='{NS_TLS}'/>"), StartTLS()]

    def tls_established(self) -> list:
        """The handshake is done: the client restarts the stream (RFC 6120 5.4.3.3)."""
        self.secure = True
        self._go("tls-done")
        return []

    # --- SASL (RFC 6120 section 6) -------------------------------------------------------------------------
    def _mechanisms(self) -> Sequence[str]:
        return () if self.tls_first else self.policy.sasl_mechanisms()  # RFC 6120 13.8: no proof before TLS

    def _sasl_start(self, el) -> list:
        name = el.get("mechanism", "")
        wait = self.policy.login_wait()
        if wait:  # RFC 6120 6.5.12: "try again later"; the client keeps its password (it was not found wrong)
            return self._sasl_fail("temporary-auth-failure", f"too many failed logins from your address; "
                                                             f"try again in {math.ceil(wait)} s")
        if name not in self._mechanisms():
            return self._sasl_fail("invalid-mechanism", f"{name or 'no mechanism'} is not offered")
        try:
            self.mechanism = self.policy.sasl_mechanism(name, self.host)
        except SASLFailure as exc:
            return self._sasl_fail(exc.condition, exc.text)
        self.mechanism_name = name
        self._go("auth")
        if not (el.text or "").strip() and name != "PLAIN":
            return [Send(f"<challenge xmlns='{NS_SASL}'/>")]  # RFC 6120 6.4.2: ask for the initial response
        return self._sasl_step(el)

    def _sasl_response(self, el, name: str) -> list:
        if name == "abort":
            return self._sasl_fail("aborted")  # RFC 6120 6.4.4
        return self._sasl_step(el)

    def _sasl_step(self, el) -> list:
        text = (el.text or "").strip()
        try:
            data = b"" if text == "=" else base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return self._sasl_fail("incorrect-encoding", "the SASL data is not valid base64")
        slow_step = getattr(self.mechanism, "slow_step", None)
        if slow_step is None:
            return self._sasl_answer(self.mechanism.step, data)
        try:
            check = slow_step(data)  # PLAIN: the password is hashed by the caller, off its event loop
        except SASLFailure as exc:
            return self._sasl_fail(exc.condition, exc.text)
        except StanzaError:  # the accounts could not be read (a StorageFault, logged where it happened)
            return self._sasl_fail(*ACCOUNTS_UNREADABLE)
        self._resume = check.resume
        return [Hash(check.func, check.args)]

    def hashed(self, result) -> list:
        """The result of the last :class:`~.actions.Hash`: the SASL step's answer."""
        resume, self._resume = self._resume, None
        return self._sasl_answer(resume, result)

    def _sasl_answer(self, step, arg) -> list:
        try:
            challenge, done, username = step(arg)
        except SASLFailure as exc:
            return self._sasl_fail(exc.condition, exc.text)
        except StanzaError:  # the accounts could not be read (a StorageFault, logged where it happened)
            return self._sasl_fail(*ACCOUNTS_UNREADABLE)
        if not done:
            payload = base64.b64encode(challenge).decode() if challenge else "="
            return [Send(f"<challenge xmlns='{NS_SASL}'>{payload}</challenge>")]
        self.username = username
        self.mechanism = None
        self._go("success")
        payload = base64.b64encode(challenge).decode() if challenge else ""
        return [Send(f"<success xmlns='{NS_SASL}'>{payload}</success>"), Restart(),
                Authenticated(username, self.mechanism_name)]

    def _sasl_fail(self, condition: str, text: str | None = None) -> list:
        failure = element("failure", ns=NS_SASL)
        sub(failure, condition)
        if text:
            sub(failure, "text", text=text)
        out = [Send(serialize(failure, None)), SASLFailed(condition, text)]
        self.mechanism = None
        if self.state is State.SASL:
            self._go("failure")
        if condition != "aborted":
            self.failures += 1
        if self.failures >= MAX_SASL_FAILURES:
            out += self._close("policy-violation", f"too many failed authentication attempts ({self.failures})")
        return out

    # --- resource binding (RFC 6120 section 7) ---------------------------------------------------------------
    def _bind_iq(self, el) -> list:
        payload = el[0] if len(el) else None
        if el.get("type") == "set" and payload is not None and payload.tag == f"{{{NS_BIND}}}bind":
            wanted = payload.findtext(f"{{{NS_BIND}}}resource") or ""
            return [Bind(el, wanted.strip())]
        if el.get("type") in ("result", "error"):
            return []
        return [Send(serialize(error_reply(el, "not-authorized", "bind a resource first"), NS_CLIENT))]

    def bound(self, iq, jid) -> list:
        """The server bound ``jid`` for the :class:`~.actions.Bind` of ``iq``: answer with it (RFC 6120 7.6.1)."""
        self.jid = str(jid)
        self._go("bind")
        result = element("iq", {"type": "result", "id": iq.get("id")})
        sub(sub(result, "bind", ns=NS_BIND), "jid", text=self.jid)
        return [Send(serialize(result, NS_CLIENT))]

    def resumed(self, jid) -> None:
        """The server resumed an earlier session as ``jid`` instead of binding (XEP-0198 §5): stanzas flow."""
        self.jid = str(jid)
        self._go("resume")

    def refuse_bind(self, iq, condition: str, text: str | None = None) -> list:
        """The server will not bind what ``iq`` asked for (RFC 6120 7.6.2: ``conflict``, ``bad-request``…)."""
        return [Send(serialize(error_reply(iq, condition, text), NS_CLIENT))]

    def __repr__(self) -> str:
        host = f" {self.host}" if self.host else ""
        return f"<ServerNegotiator {self.state.value}{' tls' if self.secure else ''}{host}>"
