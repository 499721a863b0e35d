"""The initiating side of the negotiation: what a client sends, step by step (RFC 6120 sections 4 to 7).

:class:`ClientNegotiator` walks the rows of :data:`.table.TRANSITIONS` from
the client's end: open the stream (section 4.2), STARTTLS when the server
offers it and ``tls`` wants it (section 5), SASL with the first of
``mechanisms`` the server offers (section 6: SCRAM-SHA-256 and SCRAM-SHA-1
by ``scramp``, RFC 5802 and RFC 7677; PLAIN, RFC 4616), the stream restart
(section 4.3.3), and resource binding (section 7), then RFC 3921's session
only when the server says it is not optional. It is fed the elements the
server sends and returns text to send and actions (:mod:`.actions`); the
caller owns the socket. :meth:`ClientNegotiator.expects` says which element
it waits for, so a caller with an inbox can leave the others where they are.

>>> n = ClientNegotiator("example.com", user="juliet", password="secret", tls="none", mechanisms=("PLAIN",))
>>> n.start()[0].data[:38]
"<?xml version='1.0'?><stream:stream xm"
>>> from xmpplab.xml import parse_fragment
>>> feats = parse_fragment("<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
...                        "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
...                        "</mechanisms></stream:features>")
>>> n.element(feats)[0].data
"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldABzZWNyZXQ=</auth>"
"""

from __future__ import annotations

import base64

from scramp import ScramClient, ScramException

from ..stream import StanzaReceived, StreamClosed, StreamOpened
from ..xml import NS_BIND, NS_CLIENT, NS_SASL, NS_SESSION, NS_STANZAS, NS_STREAM, NS_STREAMS, NS_TLS, qname, split_qname
from .actions import Authenticated, Failed, Ready, Restart, Send, Stanza, StartTLS
from .server import stream_header
from .table import State, next_state

#: The SASL mechanisms this client speaks, strongest first.
MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN")
TLS_MODES = ("starttls", "required", "none")
BIND_ID = "bind-1"
SESSION_ID = "session-1"


def _condition_and_text(container, ns: str) -> tuple[str, str | None]:
    """The defined condition in an error of namespace ``ns`` (its first element other than ``<text/>``;
    ``undefined-condition`` when there is none) and its ``<text/>``, if any (RFC 6120 4.9.2, 6.5, 8.3.2)."""
    condition, text = None, None
    for child in container:
        if not isinstance(child.tag, str):
            continue
        child_ns, name = split_qname(child.tag)
        if child_ns == ns and name == "text":
            text = (child.text or "").strip() or None
        elif child_ns == ns and condition is None:
            condition = name
    return condition or "undefined-condition", text


def stream_error_text(el) -> str:
    """``host-unknown: this server does not serve example.org`` for a ``<stream:error>`` element."""
    condition, text = _condition_and_text(el, NS_STREAMS)
    return condition + (f": {text}" if text else "")


def error_condition(el, ns: str = NS_STANZAS) -> str:
    """The defined condition inside an ``<error/>`` or SASL ``<failure/>``, with its text if any."""
    container = el.find(qname(NS_CLIENT, "error")) if ns == NS_STANZAS else el
    if container is None:
        return "no <error/> element"
    condition, text = _condition_and_text(container, ns)
    return condition + (f" ({text})" if text else "")


def _b64(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.b64encode(data).decode("ascii") if data else "="


class _BadBase64(Exception):
    pass


def _unb64(el) -> str:
    text = (el.text or "").strip()
    if text in ("", "="):
        return ""
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise _BadBase64(f"SASL failed: the server sent data that is not base64 UTF-8: {text[:40]!r}") from None


def _name(el) -> str:
    return split_qname(el.tag)[1]


def _is(el, ns: str, name: str) -> bool:
    return el.tag == qname(ns, name)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ClientNegotiator:
    """One client's negotiation with a server at ``domain`` (see the module docstring).

    ``user`` and ``password`` log in (without them the negotiator stops at the first
    features: a stream opened for in-band registration). ``sender`` is the ``from``
    of the stream headers sent under TLS (RFC 6120 4.7.1; default ``user@domain``).
    ``tls``: ``"starttls"`` when offered, ``"required"`` fails when it is not,
    ``"none"`` never. After it, ``features`` is the last ``<stream:features/>``,
    ``mechanism`` the SASL mechanism used, ``jid`` the bound JID.
    """

    def __init__(self, domain: str, *, user: str | None = None, password: str | None = None,
                 mechanisms=MECHANISMS, resource: str | None = None, tls: str = "starttls",
                 sender: str | None = None):
        if tls not in TLS_MODES:
            raise ValueError(f"tls must be one of {', '.join(map(repr, TLS_MODES))}, not {tls!r}")
        self.domain, self.user, self.password = domain, user, password
        self.mechanisms = [m.upper() for m in mechanisms]
        self.resource = resource
        self.tls = tls
        self.sender = sender or (f"{user}@{domain}" if user else None)
        self.state = State.CONNECTED
        self.secure = False
        self.features = None
        self.stream_attrs: dict = {}
        self.mechanism: str | None = None
        self.jid: str | None = None
        self.waiting = "stream features"  # what it waits for, in words
        self._scram: ScramClient | None = None
        self._scram_step = 0
        self._server_final: str | None = None
        self._iq_id: str | None = None  # the id of the iq whose answer it waits for

    def _go(self, event: str) -> None:
        self.state = next_state(self.state, event)

    def _open(self) -> list:
        self.waiting = "stream features"
        self._go("header")
        return [Send(stream_header(from_=self.sender if self.secure else None, to=self.domain))]

    def start(self) -> list:
        """The first stream header (RFC 6120 4.2)."""
        return self._open()

    def tls_established(self) -> list:
        """The TLS handshake is done: restart the stream over it (RFC 6120 5.4.3.3)."""
        self.secure = True
        self._go("tls-done")
        return [Restart()] + self._open()

    def expects(self, el) -> bool:
        """Whether ``el`` is what the negotiation waits for (an iq answer by its id; else anything)."""
        if self._iq_id is None:
            return True
        return _is(el, NS_CLIENT, "iq") and el.get("id") == self._iq_id and el.get("type") in ("result", "error")

    def receive(self, event) -> list:
        """A parser event from the server's stream."""
        kind = type(event)
        if kind is StanzaReceived:
            return self.element(event.element)
        if kind is StreamOpened:
            self.stream_attrs = dict(event.attrs)
            return []
        if kind is StreamClosed:
            return [Failed("the server closed the stream")]
        return [Failed(f"the server's XML broke the stream rules ({event.condition}: {event.text})")]

    def element(self, el) -> list:
        """An element at depth 1 from the server."""
        if self.state is State.READY or not self.expects(el):
            return [Stanza(el)]  # not part of the negotiation: the caller keeps it
        try:
            if self.waiting == "stream features":
                return self._features(el)
            if self.waiting == "an answer to <starttls/>":
                return self._proceed(el)
            if self.waiting == "an answer to SASL":
                return self._sasl(el)
            return self._bound(el)
        except _BadBase64 as exc:
            return [Failed(str(exc))]

    # --- features -----------------------------------------------------------------------------------
    def _features(self, el) -> list:
        if _is(el, NS_STREAM, "error"):
            return [Failed(f"the server refused the stream: {stream_error_text(el)}")]
        if not _is(el, NS_STREAM, "features"):
            return [Failed(f"expected <stream:features/>, got <{_name(el)}/>")]
        self.features = el
        if self.state is State.BIND:
            return self._bind(el)
        if not self.secure:
            starttls = el.find(qname(NS_TLS, "starttls"))
            if starttls is not None and self.tls != "none":
                self.waiting = "an answer to <starttls/>"
                return [Send(f"<starttls xmlns='{NS_TLS}'/>")]
            if self.tls == "required":
                return [Failed(f"{self.domain} does not offer STARTTLS and tls='required'")]
            if starttls is not None and starttls.find(qname(NS_TLS, "required")) is not None:
                return [Failed(f"{self.domain} requires STARTTLS and tls='none'")]
        if self.user is None:
            self.waiting = "nothing"
            return [Ready(None)]
        return self._authenticate(el)

    def _proceed(self, el) -> list:
        """RFC 6120 5.4.2.3: <proceed/>, then the caller does the handshake and calls tls_established()."""
        if not _is(el, NS_TLS, "proceed"):
            return [Failed(f"STARTTLS failed: the server answered <{_name(el)}/>")]
        self._go("starttls")
        self.waiting = "the TLS handshake"
        return [StartTLS()]

    # --- SASL ------------------------------------------------------------------------------------------
    def _authenticate(self, features) -> list:
        mech_el = features.find(qname(NS_SASL, "mechanisms"))
        offered = [(m.text or "").strip() for m in mech_el] if mech_el is not None else []
        chosen = next((m for m in self.mechanisms if m in offered), None)
        if chosen is None:
            return [Failed(f"SASL failed: the server offers {', '.join(offered) or 'no mechanism'}, "
                           f"none of {', '.join(self.mechanisms)}")]
        self.mechanism = chosen
        self.waiting = "an answer to SASL"
        self._go("auth")
        if chosen == "PLAIN":
            token = _b64("\0" + self.user + "\0" + self.password)  # RFC 4616: no authzid, authcid, password
            return [Send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{token}</auth>")]
        self._scram = ScramClient([chosen], self.user, self.password)
        self._scram_step = 1
        return [Send(f"<auth xmlns='{NS_SASL}' mechanism='{chosen}'>{_b64(self._scram.get_client_first())}</auth>")]

    def _sasl(self, el) -> list:
        if _is(el, NS_SASL, "failure"):
            return [Failed(f"SASL failed: {error_condition(el, NS_SASL)}")]
        if _is(el, NS_STREAM, "error"):
            return [Failed(f"the server closed the stream during SASL: {stream_error_text(el)}")]
        if self._scram is None:
            if not _is(el, NS_SASL, "success"):
                return [Failed(f"SASL failed: the server answered <{_name(el)}/> to PLAIN")]
            return self._success()
        if self._scram_step == 1:  # RFC 5802: server-first, then client-final
            if not _is(el, NS_SASL, "challenge"):
                return [Failed(f"SASL failed: expected a SCRAM challenge, got <{_name(el)}/>")]
            try:
                self._scram.set_server_first(_unb64(el))
                client_final = self._scram.get_client_final()
            except ScramException as exc:
                return [Failed(f"SASL failed: the server's SCRAM challenge is not valid ({exc})")]
            self._scram_step = 2
            return [Send(f"<response xmlns='{NS_SASL}'>{_b64(client_final)}</response>")]
        if self._scram_step == 2 and _is(el, NS_SASL, "challenge"):
            # server-final as a challenge (older servers): answer empty, <success/> follows
            self._server_final = _unb64(el)
            self._scram_step = 3
            return [Send(f"<response xmlns='{NS_SASL}'/>")]
        if not _is(el, NS_SASL, "success"):
            return [Failed(f"SASL failed: expected <success/>, got <{_name(el)}/>")]
        server_final = self._server_final if self._scram_step == 3 else _unb64(el)
        try:
            self._scram.set_server_final(server_final)  # RFC 6120 6.3.10: additional data with success
        except ScramException as exc:
            return [Failed(f"SASL failed: the server's SCRAM signature does not check out ({exc})")]
        return self._success()

    def _success(self) -> list:
        self._scram = None
        self._go("success")
        return [Authenticated(self.user, self.mechanism), Restart()] + self._open()

    # --- resource binding -----------------------------------------------------------------------------
    def _bind(self, features) -> list:
        if features.find(qname(NS_BIND, "bind")) is None:
            return [Failed("the server offers no resource binding after authentication")]
        res = f"<resource>{_escape(self.resource)}</resource>" if self.resource else ""
        self.waiting, self._iq_id = f"answer to iq {BIND_ID!r}", BIND_ID
        return [Send(f"<iq type='set' id='{BIND_ID}'><bind xmlns='{NS_BIND}'>{res}</bind></iq>")]

    def _bound(self, el) -> list:
        if el.get("id") == SESSION_ID:
            if el.get("type") != "result":
                return [Failed(f"session establishment failed: {error_condition(el)}")]
            return self._ready()
        if el.get("type") != "result":
            return [Failed(f"resource binding failed: {error_condition(el)}")]
        bound = el.findtext(f"{qname(NS_BIND, 'bind')}/{qname(NS_BIND, 'jid')}")
        if not bound:
            return [Failed("resource binding failed: the result has no <jid/>")]
        self.jid = bound.strip()
        session = self.features.find(qname(NS_SESSION, "session"))
        if session is not None and session.find(qname(NS_SESSION, "optional")) is None:
            self.waiting, self._iq_id = f"answer to iq {SESSION_ID!r}", SESSION_ID
            return [Send(f"<iq type='set' id='{SESSION_ID}'><session xmlns='{NS_SESSION}'/></iq>")]
        return self._ready()

    def _ready(self) -> list:
        self._go("bind")
        self.waiting, self._iq_id = "nothing", None
        return [Ready(self.jid)]

    def __repr__(self) -> str:
        return f"<ClientNegotiator {self.domain} {self.state.value}, waiting for {self.waiting}>"
