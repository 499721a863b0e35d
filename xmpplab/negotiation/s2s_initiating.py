"""The initiating side of a server-to-server stream, sans-IO (RFC 6120 sections 4 to 6 and 13, XEP-0220).

We opened a TCP connection to another server, to send it stanzas from
``local`` to ``remote``. :class:`S2SInitiatingNegotiator` walks the rows of
:data:`.s2s.S2S_TRANSITIONS` from our end, fed the peer's parser events and
returning text to send and actions (:mod:`.actions`)::

    us → them   <stream:stream ... from='server1.com' to='server2.com' version='1.0'>    (start())
    them → us   <stream:stream ... id='S2'> <stream:features><starttls/>…
    us → them   <starttls/>        them → us  <proceed/>   (a StartTLS action; then tls_established())
    us → them   <stream:stream …>  (the restart)   them → us  <stream:features><dialback/>…
    us → them   <db:result from='server1.com' to='server2.com'>KEY</db:result>   (XEP-0185 key for S2)
    them → us   <db:result type='valid'/>       a Validated action: what waits may be sent

With ``external`` (both servers have certificates from a CA the other trusts)
and ``EXTERNAL`` offered, it authenticates with SASL EXTERNAL instead
(RFC 6120 6.3.4, 13.7.2): ``<auth mechanism='EXTERNAL'>``, ``<success/>``, a
restart, and the next features validate the pair.

With ``bidi`` (XEP-0288) and ``<bidi xmlns='urn:xmpp:features:bidi'/>`` among the
features after TLS, it sends ``<bidi xmlns='urn:xmpp:bidi'/>`` before it
authenticates; once validated, the peer's stanzas from ``remote`` to ``local``
arrive on this same stream (a :class:`~.actions.Stanza` each; anything else
closes it with ``<invalid-from/>`` or ``<host-unknown/>``). With
``external_only`` (a peer pinned by its certificate's fingerprint) it never
falls back to dialback: a refused EXTERNAL is a :class:`~.actions.GiveUp`.

A *verify-only* stream
(``verify=(stream_id, key)``, XEP-0220 2.1.3) asks the peer, the
authoritative server, about a key someone else offered us: ``<db:verify/>``,
then a :class:`~.actions.Verdict` and the close. A refused key or a stream
error from the peer gives a :class:`~.actions.GiveUp`: what waits is bounced.

>>> n = S2SInitiatingNegotiator("server1.com", "server2.com", b"secret")
>>> n.start()[0].data[-50:]
"from='server1.com' to='server2.com' version='1.0'>"
"""

from __future__ import annotations

import base64

from ..escape import escape_text
from ..ns import NS_BIDI, NS_BIDI_FEATURE
from ..stream import StreamOpened
from ..xml import NS_DIALBACK, NS_SASL, NS_SERVER, NS_STREAM, NS_TLS, STANZA_KINDS, split_qname, xml_attr
from .actions import GiveUp, Restart, Send, StartTLS, Validated, Verdict
from .s2s import S2SNegotiator, S2SState, dialback_key, s2s_header


class S2SInitiatingNegotiator(S2SNegotiator):
    """A stream we opened to ``remote`` to send stanzas from ``local`` (see the module docstring).

    ``secret``: our dialback secret (XEP-0185). ``external``: we may use SASL
    EXTERNAL when it is offered. ``verify``: ``(stream_id, key)`` makes this a
    verify-only stream.
    """

    __slots__ = ("local", "remote", "secret", "external", "verify", "state", "secure", "stream_id",
                 "external_done", "want_bidi", "bidi", "external_only")

    def __init__(self, local: str, remote: str, secret: bytes, *, external: bool = False,
                 verify: tuple[str, str] | None = None, bidi: bool = False, external_only: bool = False):
        self.local, self.remote = local, remote
        self.secret = secret
        self.external = external or external_only
        self.external_only = external_only
        self.verify = verify
        self.want_bidi = bidi and verify is None  # ask for XEP-0288 when the peer offers it
        self.bidi = False  # asked for: the peer's stanzas for us may arrive on this stream
        self.state = S2SState.CONNECTED
        self.secure = False
        self.stream_id: str | None = None  # the stream's id, from the peer's header (RFC 6120 4.7.3): keys use it
        self.external_done = False

    def _header(self) -> Send:
        return Send(s2s_header(self.local, self.remote))

    # --- input ---------------------------------------------------------------------------------
    def start(self) -> list:
        """The connection is up: our stream header (RFC 6120 4.2)."""
        return [self._header()]

    def stream_opened(self, ev: StreamOpened) -> list:
        """Keep the stream id the peer gave (dialback keys use it); the stream must be jabber:server."""
        self.stream_id = ev.attrs.get("id")
        if ev.default_ns != NS_SERVER:
            return self._close("invalid-namespace", "expected a jabber:server stream")
        if self.state in (S2SState.CONNECTED, S2SState.AUTHENTICATED):
            return self._go("header") or []
        return []

    def element(self, el) -> list:
        """The peer's features, its answers to STARTTLS, EXTERNAL and dialback, or its stream error."""
        ns, name = split_qname(el.tag)
        if ns == NS_STREAM and name == "features":
            return self._features(el)
        if ns == NS_SASL and name == "success":
            refused = self._go("external")
            if refused:
                return refused
            self.external_done = True
            return [Restart(), self._header()]  # RFC 6120 6.4.6: both sides restart the stream
        if ns == NS_SASL and name == "failure":
            if self.external_only:
                return [GiveUp("remote-server-not-found", f"{self.remote} refused our certificate (SASL EXTERNAL)"),
                        *self._close()]
            return self._authenticate()  # fall back to dialback
        if ns == NS_TLS and name == "proceed":
            return self._go("starttls") or [StartTLS()]
        if ns == NS_DIALBACK and name == "result":
            if el.get("type") == "valid":
                return self._go("dialback-valid") or [Validated(self.local, self.remote, self.bidi)]
            return [GiveUp("remote-server-not-found", f"{self.remote} refused our dialback key"), *self._close()]
        if ns == NS_DIALBACK and name == "verify":
            return [Verdict(el.get("type") == "valid"), *self._close()]
        if ns == NS_SERVER and name in STANZA_KINDS:
            # XEP-0288 2.2: only on a bidi stream, once validated, from the peer's domain to ours
            pairs = {(self.remote, self.local)} if self.bidi else set()
            return self._go("stanza-back") or self._stanza_between(el, pairs, lambda domain: domain == self.local)
        if ns == NS_STREAM and name == "error":
            return [GiveUp("remote-server-not-found", f"{self.remote} closed the stream with an error")]
        return []

    def tls_established(self) -> list:
        """The handshake is done: we restart the stream (RFC 6120 5.4.3.3)."""
        self.secure = True
        return self._go("tls-done") or [self._header()]

    def _features(self, el) -> list:
        """STARTTLS first, then SASL EXTERNAL when it may be used, else dialback (XEP-0220 2.1)."""
        if el.find(f"{{{NS_TLS}}}starttls") is not None and not self.secure:
            return [Send(f"<starttls xmlns='{NS_TLS}'/>")]
        if self.external_done:
            return [Validated(self.local, self.remote, self.bidi)]  # the restarted stream's features: authenticated
        out = []
        if self.want_bidi and not self.bidi and el.find(f"{{{NS_BIDI_FEATURE}}}bidi") is not None:
            out = self._go("bidi") or [Send(f"<bidi xmlns='{NS_BIDI}'/>")]  # XEP-0288 2.2, before authenticating
            self.bidi = self.state is S2SState.OPEN
        mechanisms = [m.text for m in el.iter(f"{{{NS_SASL}}}mechanism")]
        if "EXTERNAL" in mechanisms and self.verify is None and self.external:
            token = base64.b64encode(self.local.encode()).decode()
            return out + [Send(f"<auth xmlns='{NS_SASL}' mechanism='EXTERNAL'>{token}</auth>")]
        if self.external_only:
            return out + [GiveUp("remote-server-not-found", f"{self.remote} does not accept our certificate "
                                                            "(no SASL EXTERNAL offered)"), *self._close()]
        return out + self._authenticate()

    def _authenticate(self) -> list:
        """Dialback: our key for this stream (XEP-0220 2.1.1), or the key we were asked to verify (2.1.3)."""
        if self.verify is not None:
            stream_id, key = self.verify
            return [Send(f"<db:verify from='{self.local}' to='{self.remote}' id='{xml_attr(stream_id)}'>"
                         f"{escape_text(key)}</db:verify>")]
        key = dialback_key(self.secret, self.remote, self.local, self.stream_id or "")
        return [Send(f"<db:result from='{self.local}' to='{self.remote}'>{key}</db:result>")]

    def __repr__(self) -> str:
        return f"<S2SInitiatingNegotiator {self.local}→{self.remote} {self.state.value}>"
