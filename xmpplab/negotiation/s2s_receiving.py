"""The receiving side of a server-to-server stream, sans-IO (RFC 6120 sections 4 to 6 and 13, XEP-0220).

Another server opened a TCP connection to us; :class:`S2SReceivingNegotiator`
answers it along the rows of :data:`.s2s.S2S_TRANSITIONS`, fed parser events
and returning text to send and actions (:mod:`.actions`)::

    them → us   <stream:stream xmlns='jabber:server' xmlns:db='jabber:server:dialback'
                  from='server1.com' to='server2.com' version='1.0'>
    us → them   <stream:stream ... from='server2.com' id='S2'> <stream:features><starttls/><dialback/>…
    (STARTTLS: Send <proceed/>, then a StartTLS action; the caller calls tls_established())
    them → us   <db:result from='server1.com' to='server2.com'>KEY</db:result>
    (a CheckKey action: the caller asks server1.com's own server, then calls key_checked())
    us → them   <db:result from='server2.com' to='server1.com' type='valid'/>   and a Validated action
    them → us   <message from='juliet@server1.com/balcony' to='romeo@server2.com'>…   a Stanza action

Instead of dialback, a peer whose certificate (verified by the caller, whose
names it passes to :meth:`~S2SReceivingNegotiator.tls_established`) names its
domain may authenticate with SASL EXTERNAL (RFC 6120 6.3.4): ``<success/>``,
a :class:`~.actions.Restart`, and the pair is validated. Any step the table has
no row for closes the stream with ``<policy-violation/>`` (RFC 6120 4.9.3.12);
a stanza from a domain not validated on this stream, with ``<invalid-from/>``
(4.9.3.9); a key its server disowns, with ``<not-authorized/>`` (XEP-0220 2.4).

>>> from xmpplab.stream import StreamParser
>>> class Here(S2SPolicy):
...     def serves(self, domain): return domain == "server2.com"
>>> n, p = S2SReceivingNegotiator(Here()), StreamParser()
>>> [type(a).__name__ for a in n.receive(p.feed(
...     b"<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
...     b"xmlns:db='jabber:server:dialback' from='server1.com' to='server2.com' version='1.0'>")[0])]
['Send', 'Send']
>>> n.receive(p.feed(b"<db:result from='server1.com' to='server2.com'>k3y</db:result>")[0])[0].originating
'server1.com'
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets

from ..ns import NS_BIDI, NS_BIDI_FEATURE
from ..stream import StreamOpened
from ..xml import (
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
    xml_attr,
)
from .actions import CheckKey, Restart, Send, StartTLS, Validated
from .s2s import S2SNegotiator, S2SState, dialback_key, domain_of, s2s_header


class S2SPolicy:
    """What an s2s negotiator asks of its server. The defaults: serve no domain, an empty dialback secret."""

    default_domain = "localhost"
    secret = b""  # the server's dialback secret (XEP-0185), for the keys it issues and checks

    def serves(self, domain: str | None) -> bool:
        """Whether this server speaks for ``domain`` on server-to-server streams."""
        return False

    def dialback_for(self, domain: str | None) -> bool:
        """Whether to offer Server Dialback to a peer claiming ``domain`` (False: its certificate must prove it)."""
        return True


def _stream_id() -> str:
    return secrets.token_hex(8)


class S2SReceivingNegotiator(S2SNegotiator):
    """A stream another server opened to us, seen from our end (see the module docstring).

    ``tls_available``: we can do STARTTLS. ``validated`` holds the pairs
    ``(originating domain, our domain)`` whose stanzas this stream may carry.
    """

    __slots__ = ("policy", "state", "tls_available", "secure", "peer_names", "local", "remote_claim",
                 "external_done", "validated", "stream_id", "_new_id", "bidi")

    def __init__(self, policy: S2SPolicy, *, tls_available: bool = False, new_id=_stream_id):
        self.policy = policy
        self.state = S2SState.CONNECTED
        self.tls_available = tls_available
        self.secure = False
        self.peer_names: frozenset[str] = frozenset()  # what the peer's verified certificate names
        self.local: str | None = None          # our domain, as the peer's header named it
        self.remote_claim: str | None = None   # the domain the peer's header claims (proved later, or not)
        self.external_done = False
        self.validated: set[tuple[str, str]] = set()
        self.stream_id: str | None = None
        self._new_id = new_id
        self.bidi = False  # the peer asked for XEP-0288: we send our stanzas for its domain on this stream

    # --- input (receive(), from Negotiator, hands each parser event to these) ---------------------
    def error_header(self) -> str:
        """The header to send before a stream error when none was sent yet (RFC 6120 4.9.1.1)."""
        self.stream_id = self._new_id()
        return s2s_header(self.local or self.policy.default_domain, None, self.stream_id)

    def stream_opened(self, ev: StreamOpened) -> list:
        """Answer the peer's header and offer STARTTLS, SASL EXTERNAL or dialback (RFC 6120 4.3, XEP-0220)."""
        to = domain_of(ev.attrs.get("to"))
        self.stream_id = self._new_id()
        out = [Send(s2s_header(to or self.policy.default_domain, ev.attrs.get("from", ""), self.stream_id))]
        if ev.default_ns != NS_SERVER:
            return out + self._close("invalid-namespace", "a server-to-server stream's default namespace is "
                                                          "jabber:server")
        if not self.policy.serves(to):
            return out + self._close("host-unknown", f"this server does not serve {ev.attrs.get('to')}")
        self.local = to
        self.remote_claim = domain_of(ev.attrs.get("from"))
        if self.state in (S2SState.CONNECTED, S2SState.AUTHENTICATED):
            refused = self._go("header")
            if refused:
                return out + refused
        features = element("features", ns=NS_STREAM)
        if not self.secure and self.tls_available:
            sub(features, "starttls", ns=NS_TLS)
        elif self.certificate_names(self.remote_claim) and not self.external_done:
            sub(sub(features, "mechanisms", ns=NS_SASL), "mechanism", text="EXTERNAL")
        if not self.external_done and self.policy.dialback_for(self.remote_claim):
            sub(features, "dialback", ns=NS_DIALBACK_FEATURE)
        if not self.external_done and (self.secure or not self.tls_available):
            sub(features, "bidi", ns=NS_BIDI_FEATURE)  # XEP-0288 2.1: after TLS, when TLS is to be used
        out.append(Send(serialize(features)))
        return out

    def element(self, el) -> list:
        """STARTTLS, SASL EXTERNAL, dialback requests, and the stanzas of validated domains."""
        ns, name = split_qname(el.tag)
        if ns == NS_TLS and name == "starttls" and not self.secure and self.tls_available:
            return self._go("starttls") or [Send(f"<proceed xmlns='{NS_TLS}'/>"), StartTLS()]
        if ns == NS_SASL and name == "auth" and self.secure and not self.external_done:
            return self._external(el)
        if ns == NS_BIDI and name == "bidi":
            return self._go("bidi") or self._bidi()
        if ns == NS_DIALBACK and name == "result":
            return self._result(el)
        if ns == NS_DIALBACK and name == "verify":
            return self._verify(el)
        if ns == NS_SERVER and name in STANZA_KINDS:
            return self._stanza(el)
        return self._close("unsupported-stanza-type", f"<{name}/> is not understood on a server-to-server stream")

    # --- STARTTLS and SASL EXTERNAL (RFC 6120 5.4, 6.3.4) -------------------------------------------
    def tls_established(self, peer_names=()) -> list:
        """The handshake is done; ``peer_names``: the domains the peer's certificate names, if it was verified.
        The peer restarts the stream next (RFC 6120 5.4.3.3)."""
        self.secure = True
        self.peer_names = frozenset(peer_names)
        self.bidi = False  # what was negotiated before TLS no longer holds (RFC 6120 5.4.3.3, XEP-0288 2.1)
        return self._go("tls-done") or []

    def certificate_names(self, domain: str | None) -> bool:
        """Whether the peer's verified certificate names ``domain`` (RFC 6125 style: exact or ``*.parent``)."""
        if not domain:
            return False
        return domain in self.peer_names or f"*.{domain.partition('.')[2]}" in self.peer_names

    def _external(self, el) -> list:
        """RFC 6120 6.3.4: SASL EXTERNAL, the peer's certificate proving its domain."""
        text = (el.text or "").strip()
        try:
            authzid = base64.b64decode(text, validate=True).decode() if text and text != "=" else ""
        except (binascii.Error, ValueError, UnicodeDecodeError):
            authzid = None
        claimed = domain_of(authzid) if authzid else self.remote_claim
        if el.get("mechanism") != "EXTERNAL" or claimed is None or not self.certificate_names(claimed):
            return [Send(f"<failure xmlns='{NS_SASL}'><not-authorized/></failure>")]
        refused = self._go("external")
        if refused:
            return refused
        self.validated.add((claimed, self.local))
        self.external_done = True
        self.stream_id = None  # the initiating server restarts the stream: a new header, a new id
        return [Send(f"<success xmlns='{NS_SASL}'/>"), Restart(), Validated(claimed, self.local, self.bidi)]

    def _bidi(self) -> list:
        """XEP-0288 2.2: once a domain of the peer is proved, our stanzas for it go out on this stream. Before TLS
        while TLS is on offer it is refused (2.1: STARTTLS first)."""
        if self.tls_available and not self.secure:
            return self._close("policy-violation", "ask for bidi after STARTTLS (XEP-0288 2.1)")
        self.bidi = True
        return []

    # --- Server Dialback (XEP-0220) -------------------------------------------------------------------
    def _result(self, el) -> list:
        """XEP-0220 2.1.1: the peer offers a key for (its domain, ours); its own server must vouch for it."""
        remote, local = domain_of(el.get("from")), domain_of(el.get("to"))
        if not self.policy.serves(local):
            return self._close("host-unknown", f"this server does not serve {el.get('to')}")
        if remote is None:
            return self._close("invalid-from", "db:result needs the originating domain in 'from'")
        if not self.policy.dialback_for(remote):  # its certificate must prove it: nobody is asked about the key
            return self.key_checked(remote, local, False)
        return [CheckKey(remote, local, self.stream_id or "", (el.text or "").strip())]

    def key_checked(self, originating: str, receiving: str, valid: bool) -> list:
        """The answer to a :class:`~.actions.CheckKey`: tell the peer (XEP-0220 2.1.4), validate or close."""
        if self.state is S2SState.CLOSED:
            return []
        if not valid:
            return ([Send(f"<db:result from='{xml_attr(receiving)}' to='{xml_attr(originating)}' type='invalid'/>")]
                    + self._close("not-authorized", f"{originating} could not prove it is {originating}"))
        refused = self._go("dialback-valid")
        if refused:
            return refused
        self.validated.add((originating, receiving))
        return [Send(f"<db:result from='{xml_attr(receiving)}' to='{xml_attr(originating)}' type='valid'/>"),
                Validated(originating, receiving, self.bidi)]

    def _verify(self, el) -> list:
        """XEP-0220 2.1.3: another server asks whether a key for one of our outgoing streams is ours."""
        receiving, originating = el.get("from", ""), el.get("to", "")
        stream_id, key = el.get("id", ""), (el.text or "").strip()
        refused = self._go("verify")
        if refused:
            return refused
        expected = dialback_key(self.policy.secret, receiving, originating, stream_id)
        ok = self.policy.serves(originating) and hmac.compare_digest(expected.encode(), key.encode())
        return [Send(f"<db:verify from='{xml_attr(originating)}' to='{xml_attr(receiving)}' "
                     f"id='{xml_attr(stream_id)}' type='{'valid' if ok else 'invalid'}'/>")]

    # --- stanzas (RFC 6120 8.1.1.1, 13.7) -----------------------------------------------------------------
    def _stanza(self, el) -> list:
        """A stanza from a validated pair of domains, in jabber:client for the router; else close the stream."""
        return self._stanza_between(el, self.validated, self.policy.serves)

    def __repr__(self) -> str:
        pairs = ", ".join(f"{r}→{lo}" for r, lo in sorted(self.validated)) or "not validated"
        return f"<S2SReceivingNegotiator {self.state.value}{' tls' if self.secure else ''} {pairs}>"
