"""The server-to-server negotiation as one table (RFC 6120 sections 4 to 6, XEP-0220 Server Dialback).

Both ends of an s2s stream move along these rows: the receiving server
(:class:`~.s2s_receiving.S2SReceivingNegotiator`) and the initiating one
(:class:`~.s2s_initiating.S2SInitiatingNegotiator`), sans-IO like the client's; the server's
:mod:`xmpplab.server.s2s` performs what they ask. It differs from the client's table
(:mod:`.table`) in three ways: there is no resource binding; a server proves its domain either with its
certificate (SASL EXTERNAL, RFC 6120 6.3.4, then a restart) or with dialback (XEP-0220: a key the receiving
server checks with the originating domain's authoritative server over a connection of its own); and once one
pair of domains is validated, more may be validated on the same stream (``READY`` to ``READY``).

With XEP-0288 (Bidirectional Server-to-Server Connections) the initiating server asks, before it
authenticates, that the stream carry stanzas both ways (``<bidi xmlns='urn:xmpp:bidi'/>``, the row
``bidi``); once its domain is proved the receiving server sends its stanzas for that domain over the same
stream instead of connecting back, which a server behind NAT or a firewall could not accept (the row
``stanza-back``, which only a ``READY`` stream has).

>>> next_s2s_state(S2SState.OPEN, "dialback-valid")
<S2SState.READY: 'ready'>
>>> draw = state_machine(transitions=S2S_TRANSITIONS, states=S2SState)   # doctest: +SKIP
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass

from lxml import etree

from ..jid import JID, InvalidJID
from ..xml import NS_CLIENT, NS_DIALBACK, NS_SERVER, to_namespace
from .actions import Stanza
from .base import Negotiator
from .server import stream_header


class S2SState(enum.Enum):
    """Where a server-to-server stream is in its negotiation."""

    CONNECTED = "connected"          # TCP (or TLS) up, waiting for the stream header
    OPEN = "open"                    # headers exchanged, features offered: STARTTLS, EXTERNAL, dialback
    TLS = "tls"                      # TLS handshake under way
    AUTHENTICATED = "authenticated"  # SASL EXTERNAL succeeded: waiting for the restarted stream
    READY = "ready"                  # a pair of domains is validated: stanzas between them flow
    CLOSED = "closed"


@dataclass(frozen=True)
class S2STransition:
    """One row: the state it leaves, what moves it, the state it reaches, in words, and where the spec says so."""

    source: S2SState
    event: str
    target: S2SState
    trigger: str
    section: str

    def __iter__(self):
        return iter((self.source, self.trigger, self.target))


#: The s2s negotiation as data: every state change of either end is one of these rows.
S2S_TRANSITIONS = (
    S2STransition(S2SState.CONNECTED, "header", S2SState.OPEN,
                  "headers exchanged, features offered", "RFC 6120 4.2, 4.3.2"),
    S2STransition(S2SState.OPEN, "starttls", S2SState.TLS, "<starttls/>, <proceed/>", "RFC 6120 5.4.2"),
    S2STransition(S2SState.TLS, "tls-done", S2SState.CONNECTED, "TLS handshake completes; the stream restarts",
                  "RFC 6120 5.4.3.3"),
    S2STransition(S2SState.OPEN, "external", S2SState.AUTHENTICATED,
                  "SASL EXTERNAL: the certificate names the domain", "RFC 6120 6.3.4"),
    S2STransition(S2SState.AUTHENTICATED, "header", S2SState.READY, "the stream restarts: validated",
                  "RFC 6120 6.4.6, 4.3.3"),
    S2STransition(S2SState.OPEN, "dialback-valid", S2SState.READY, "<db:result type='valid'/>",
                  "XEP-0220 2.1.4"),
    S2STransition(S2SState.READY, "dialback-valid", S2SState.READY,
                  "another pair of domains validated on the same stream", "XEP-0220"),
    S2STransition(S2SState.OPEN, "bidi", S2SState.OPEN,
                  "<bidi/>: once authenticated, the stream carries stanzas both ways", "XEP-0288 2.2"),
    S2STransition(S2SState.READY, "stanza-back", S2SState.READY,
                  "a stanza from the receiving server, on the initiating server's stream", "XEP-0288 2.2"),
    S2STransition(S2SState.OPEN, "verify", S2SState.OPEN, "<db:verify/> answered for the receiving server",
                  "XEP-0220 2.1.3"),
    S2STransition(S2SState.READY, "verify", S2SState.READY, "<db:verify/> answered for the receiving server",
                  "XEP-0220 2.1.3"),
)

_NEXT = {(t.source, t.event): t.target for t in S2S_TRANSITIONS}


class S2SStepError(ValueError):
    """A step the s2s table has no row for (the caller closes the stream with a stream error)."""


def next_s2s_state(state: S2SState, event: str) -> S2SState:
    """The state after ``event`` in ``state``; :class:`S2SStepError` when the table has no such row."""
    try:
        return _NEXT[(state, event)]
    except KeyError:
        raise S2SStepError(f"{event!r} is not a step of a server-to-server stream in the state "
                           f"{state.value!r}") from None


class S2SNegotiator(Negotiator):
    """Both ends of an s2s stream: they change state only along :data:`S2S_TRANSITIONS`."""

    __slots__ = ()
    CLOSED = S2SState.CLOSED

    def _go(self, event: str) -> list | None:
        """Move along the table; None when it has the row, else the actions that close the stream with
        ``<policy-violation/>`` (RFC 6120 4.9.3.12)."""
        try:
            self.state = next_s2s_state(self.state, event)
        except S2SStepError as exc:
            return self._close("policy-violation", str(exc))
        return None

    def _stanza_between(self, el, pairs, serves) -> list:
        """A stanza arriving on this stream, as a :class:`~.actions.Stanza` in jabber:client for the router
        when ``(from domain, to domain)`` is one of ``pairs`` (RFC 6120 8.1.1.1, 13.7; XEP-0288 2.2); else
        the stream closes: ``<host-unknown/>`` for a domain ``serves`` refuses, ``<invalid-from/>`` for a
        sender not proved on this stream (RFC 6120 4.9.3.6, 4.9.3.9), or ``<improper-addressing/>``."""
        try:
            frm, to = JID(el.get("from", "")), JID(el.get("to", ""))
        except InvalidJID as exc:
            return self._close("improper-addressing", str(exc))
        if (frm.domain, to.domain) not in pairs:
            if not serves(to.domain):
                return self._close("host-unknown", f"this server does not serve {to.domain}")
            return self._close("invalid-from", f"{frm.domain} has not proved it is {frm.domain} on this stream")
        try:
            return [Stanza(to_namespace(el, NS_CLIENT))]
        except etree.XMLSyntaxError as exc:
            # The stream parser let through what lxml refuses when the stanza's text is parsed again
            # (an unbound prefix, a namespace name that is not a URI): RFC 6120 4.9.3.13.
            return self._close("not-well-formed", f"a stanza is not namespace-well-formed: {exc}")


def dialback_key(secret: bytes, receiving: str, originating: str, stream_id: str) -> str:
    """XEP-0185 section 3: HMAC-SHA256(SHA256(secret), receiving ' ' originating ' ' stream id), hex."""
    key = hashlib.sha256(secret).hexdigest().encode()
    return hmac.new(key, f"{receiving} {originating} {stream_id}".encode(), hashlib.sha256).hexdigest()


def s2s_header(from_: str, to: str | None, stream_id: str | None = None) -> str:
    """A server-to-server stream header (RFC 6120 4.7) declaring the dialback prefix ``db`` (XEP-0220)."""
    return stream_header(NS_SERVER, from_=from_, stream_id=stream_id, to=to, xmlns_db=NS_DIALBACK, lang=None)


def domain_of(value: str | None) -> str | None:
    """``value`` when it is a bare domain (a server's address, RFC 6120 13.7.1.2), else None."""
    if not value:
        return None
    try:
        j = JID(value)
    except InvalidJID:
        return None
    return j.domain if j.local is None and j.resource is None else None
