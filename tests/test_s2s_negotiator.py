"""The server-to-server negotiators, driven with parser events only: no socket, no event loop (issue 11).

Each test is a conversation between negotiators (RFC 6120 sections 5, 6 and 13; XEP-0220 Server Dialback):
the text one sends is fed to the other's parser, and the actions they return are what their owners would do.
"""

import base64
import doctest

from xmpplab.negotiation import (
    S2S_TRANSITIONS,
    CheckKey,
    Close,
    GiveUp,
    Restart,
    S2SInitiatingNegotiator,
    S2SPolicy,
    S2SReceivingNegotiator,
    S2SState,
    Send,
    Stanza,
    StartTLS,
    Validated,
    Verdict,
    s2s,
    s2s_initiating,
    s2s_receiving,
)
from xmpplab.stream import StreamParser
from xmpplab.xml import NS_CLIENT, parse_fragment

DIALBACK = "{urn:xmpp:features:dialback}dialback"
MECHANISM = "{urn:ietf:params:xml:ns:xmpp-sasl}mechanism"
HEADER = ("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
          "xmlns:db='jabber:server:dialback' from='server1.com' to='server2.com' version='1.0'>")


class Host(S2SPolicy):
    """A server that serves one domain, with its own dialback secret."""

    def __init__(self, domain: str, secret: bytes):
        self.default_domain, self.secret = domain, secret

    def serves(self, domain):
        return domain == self.default_domain


class End:
    """One end of a stream: its negotiator and the parser for what the other end sends."""

    def __init__(self, neg):
        self.neg, self.parser = neg, StreamParser()

    def hear(self, actions_or_text) -> list:
        """Feed what the other end sent (its actions' Send text, or raw XML); return this end's actions."""
        text = actions_or_text if isinstance(actions_or_text, str) else sent(actions_or_text)
        out = []
        for event in self.parser.feed(text.encode()):
            actions = self.neg.receive(event)
            out += actions
            if any(isinstance(a, Restart) for a in actions):
                self.parser.reset()
        return out


def sent(actions) -> str:
    return "".join(a.data for a in actions if isinstance(a, Send))


def kinds(actions) -> list:
    return [type(a).__name__ for a in actions]


def elements(actions) -> list:
    """The elements of the Send text after the stream header, parsed."""
    text = sent(actions)
    if "<stream:stream" in text:
        text = text[text.index(">", text.index("<stream:stream")) + 1:]
    wrapper = parse_fragment(f"<x xmlns:stream='http://etherx.jabber.org/streams' "
                             f"xmlns:db='jabber:server:dialback'>{text}</x>")
    return list(wrapper)


def receiving(domain="server2.com", secret=b"two", **kw):
    return End(S2SReceivingNegotiator(Host(domain, secret), **kw))


def opened(end: End, header: str = HEADER) -> list:
    return end.hear(header)


def test_a_good_dialback_exchange_validates_the_pair_on_both_sides():
    """XEP-0220 2.1: server1.com's key, checked by server2.com with server1.com's own server, is valid."""
    out = End(S2SInitiatingNegotiator("server1.com", "server2.com", b"one"))
    inc = receiving()
    features = inc.hear(out.neg.start())
    assert out.neg.state is S2SState.CONNECTED and inc.neg.state is S2SState.OPEN
    assert kinds(features) == ["Send", "Send"] and elements(features)[0].find(DIALBACK) is not None
    offer = out.hear(features)                      # the features: no STARTTLS, no EXTERNAL, so dialback
    assert "<db:result from='server1.com' to='server2.com'>" in sent(offer)
    (check,) = inc.hear(offer)
    assert check == CheckKey("server1.com", "server2.com", inc.neg.stream_id,
                             s2s.dialback_key(b"one", "server2.com", "server1.com", inc.neg.stream_id))
    # server2.com asks server1.com on a connection of its own: a verify-only stream
    asker = End(S2SInitiatingNegotiator("server2.com", "server1.com", b"two", verify=(check.stream_id, check.key)))
    authority = End(S2SReceivingNegotiator(Host("server1.com", b"one")))
    verify = asker.hear(authority.hear(asker.neg.start()))
    assert "<db:verify from='server2.com' to='server1.com'" in sent(verify)
    answer = authority.hear(verify)
    assert "type='valid'" in sent(answer) and authority.neg.state is S2SState.OPEN
    assert asker.hear(answer) == [Verdict(True), Close()]
    # the verdict goes back to the stream being validated
    result = inc.neg.key_checked(check.originating, check.receiving, True)
    assert result[1:] == [Validated("server1.com", "server2.com")] and inc.neg.state is S2SState.READY
    assert out.hear(result) == [Validated("server1.com", "server2.com")] and out.neg.state is S2SState.READY
    (stanza,) = inc.hear("<message from='juliet@server1.com/balcony' to='romeo@server2.com'><body>hi</body>"
                         "</message>")
    assert isinstance(stanza, Stanza) and stanza.element.tag == f"{{{NS_CLIENT}}}message"


def test_a_bad_key_gets_invalid_then_not_authorized():
    """XEP-0220 2.4: a key the originating domain's server disowns: type='invalid', and the stream closes."""
    authority = End(S2SReceivingNegotiator(Host("server1.com", b"one")))
    authority.hear(HEADER.replace("from='server1.com' to='server2.com'", "from='server2.com' to='server1.com'"))
    answer = authority.hear("<db:verify from='server2.com' to='server1.com' id='S2'>" + "0" * 64 + "</db:verify>")
    assert "type='invalid'" in sent(answer)
    inc = receiving()
    opened(inc)
    (check,) = inc.hear("<db:result from='server1.com' to='server2.com'>" + "0" * 64 + "</db:result>")
    out = inc.neg.key_checked(check.originating, check.receiving, False)
    assert sent(out) == "<db:result from='server2.com' to='server1.com' type='invalid'/>"
    assert out[-1] == Close("not-authorized", "server1.com could not prove it is server1.com")
    assert inc.neg.state is S2SState.CLOSED and not inc.neg.validated
    # the initiating end, refused, bounces what waits and closes
    init = S2SInitiatingNegotiator("server1.com", "server2.com", b"one")
    init.state = S2SState.OPEN
    refused = init.element(parse_fragment("<db:result xmlns:db='jabber:server:dialback' from='server2.com' "
                                          "to='server1.com' type='invalid'/>"))
    assert refused == [GiveUp("remote-server-not-found", "server2.com refused our dialback key"), Close()]


def test_a_key_that_is_not_ascii_or_holds_markup_is_answered_not_raised_nor_injected():
    authority = End(S2SReceivingNegotiator(Host("server1.com", b"one")))
    authority.hear(HEADER.replace("from='server1.com' to='server2.com'", "from='server2.com' to='server1.com'"))
    assert "type='invalid'" in sent(authority.hear("<db:verify from='server2.com' to='server1.com' id='S2'>"
                                                   "clé</db:verify>"))
    asker = S2SInitiatingNegotiator("server2.com", "server1.com", b"two", verify=("S2", "<x/>"))
    asker.state = S2SState.OPEN
    (verify,) = asker.element(parse_fragment("<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>"))
    assert "&lt;x/&gt;</db:verify>" in verify.data


def test_sasl_external_after_starttls_with_a_certificate_naming_the_domain():
    """RFC 6120 6.3.4 and 13.7.2: STARTTLS, then the certificate proves server1.com; no dialback."""
    out = End(S2SInitiatingNegotiator("server1.com", "server2.com", b"one", external=True))
    inc = receiving(tls_available=True)
    features = inc.hear(out.neg.start())
    assert elements(features)[0].find("{urn:ietf:params:xml:ns:xmpp-tls}starttls") is not None
    proceed = inc.hear(out.hear(features))
    assert kinds(proceed) == ["Send", "StartTLS"] and inc.neg.state is S2SState.TLS
    assert out.hear(proceed) == [StartTLS()] and out.neg.state is S2SState.TLS
    # both owners did the handshake; the receiving one read the peer's verified certificate
    assert inc.neg.tls_established({"server1.com"}) == [] and inc.neg.state is S2SState.CONNECTED
    inc.parser.reset()
    out.parser.reset()
    features = inc.hear(out.neg.tls_established())
    assert [m.text for m in elements(features)[0].iter(MECHANISM)] == ["EXTERNAL"]
    auth = out.hear(features)
    assert sent(auth) == ("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>"
                          f"{base64.b64encode(b'server1.com').decode()}</auth>")
    success = inc.hear(auth)
    assert kinds(success) == ["Send", "Restart", "Validated"] and inc.neg.state is S2SState.AUTHENTICATED
    restart = out.hear(success)
    assert kinds(restart) == ["Restart", "Send"] and out.neg.state is S2SState.AUTHENTICATED
    features = inc.hear(restart)
    assert inc.neg.state is S2SState.READY and elements(features)[0].find(DIALBACK) is None
    assert out.hear(features) == [Validated("server1.com", "server2.com")] and out.neg.state is S2SState.READY
    assert "<db:result" not in sent(auth) + sent(restart)


def test_a_certificate_for_another_domain_is_offered_no_external_and_refused():
    inc = receiving(tls_available=True)
    opened(inc)
    inc.hear("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    inc.neg.tls_established({"server9.com"})
    inc.parser.reset()
    features = opened(inc)
    assert not list(elements(features)[0].iter(MECHANISM)) and elements(features)[0].find(DIALBACK) is not None
    refused = inc.hear("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>"
                       f"{base64.b64encode(b'server1.com').decode()}</auth>")
    assert sent(refused) == "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>"
    assert inc.neg.state is S2SState.OPEN and not inc.neg.validated


def test_a_step_the_table_has_no_row_for_closes_with_policy_violation():
    """RFC 6120 4.9.3.12: STARTTLS once the pair is validated is not a step of the table."""
    inc = receiving(tls_available=True)
    opened(inc)
    (check,) = inc.hear("<db:result from='server1.com' to='server2.com'>k</db:result>")
    inc.neg.key_checked(check.originating, check.receiving, True)
    assert inc.hear("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>") == [Close(
        "policy-violation", "'starttls' is not a step of a server-to-server stream in the state 'ready'")]
    assert inc.neg.state is S2SState.CLOSED
    # the initiating end likewise: a second <success/> after the restart
    out = S2SInitiatingNegotiator("server1.com", "server2.com", b"one", external=True)
    out.state = S2SState.READY
    (close,) = out.element(parse_fragment("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"))
    assert close.condition == "policy-violation" and out.state is S2SState.CLOSED


def test_stanzas_before_the_pair_is_validated_close_the_stream():
    """RFC 6120 4.9.3.9 invalid-from (XEP-0220 2.4); 4.9.3.6 host-unknown; 4.9.3.10 improper-addressing."""
    for stanza, condition in [
        ("<message from='juliet@server1.com/x' to='romeo@server2.com'><body>spoof</body></message>", "invalid-from"),
        ("<message from='juliet@server1.com/x' to='romeo@server7.com'/>", "host-unknown"),
        ("<iq from='@server1.com' to='server2.com' type='get' id='1'/>", "improper-addressing"),
    ]:
        inc = receiving()
        opened(inc)
        (close,) = inc.hear(stanza)
        assert isinstance(close, Close) and close.condition == condition
        assert inc.neg.state is S2SState.CLOSED
    # validated for one pair only: another originating domain on the same stream is refused
    inc = receiving()
    opened(inc)
    (check,) = inc.hear("<db:result from='server1.com' to='server2.com'>k</db:result>")
    inc.neg.key_checked(check.originating, check.receiving, True)
    (close,) = inc.hear("<message from='mallory@server3.com' to='romeo@server2.com'/>")
    assert close.condition == "invalid-from"


def test_the_header_must_be_jabber_server_for_a_domain_we_serve():
    inc = receiving()
    header, close = opened(inc, HEADER.replace("xmlns='jabber:server'", "xmlns='jabber:client'"))
    assert "<stream:stream" in header.data and close.condition == "invalid-namespace"
    inc = receiving()
    header, close = opened(inc, HEADER.replace("to='server2.com'", "to='server8.com'"))
    assert "<stream:stream" in header.data and close.condition == "host-unknown"
    inc = receiving()
    opened(inc)
    (close,) = inc.hear("<bogus xmlns='urn:example'/>")
    assert close.condition == "unsupported-stanza-type"


def test_every_state_change_is_a_row_of_the_table():
    """Both negotiators set their state only through the table (and CLOSED on any error, RFC 6120 4.9)."""
    rows = {(t.source, t.target) for t in S2S_TRANSITIONS}
    seen = []

    class Watch(S2SReceivingNegotiator):
        __slots__ = ()

        def __setattr__(self, name, value):
            if name == "state" and hasattr(self, "state"):
                seen.append((self.state, value))
            super().__setattr__(name, value)

    inc = End(Watch(Host("server2.com", b"two"), tls_available=True))
    opened(inc)
    inc.hear("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    inc.neg.tls_established({"server1.com"})
    inc.parser.reset()
    opened(inc)
    inc.hear("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>")
    opened(inc)
    inc.hear("<db:verify from='server3.com' to='server2.com' id='i'>k</db:verify>")
    assert inc.neg.state is S2SState.READY
    assert len(seen) == 7 and all(step in rows for step in seen)


def test_the_modules_examples_run():
    for module in (s2s, s2s_receiving, s2s_initiating):
        assert doctest.testmod(module).failed == 0


def test_the_diagram_draws_the_same_table_with_a_live_negotiators_state():
    from xmpplab.render.statemachine import state_machine

    inc = receiving()
    opened(inc)
    (check,) = inc.hear("<db:result from='server1.com' to='server2.com'>k</db:result>")
    inc.neg.key_checked(check.originating, check.receiving, True)
    drawn = state_machine(inc.neg, transitions=S2S_TRANSITIONS, states=S2SState)
    assert drawn.current is S2SState.READY and "[ready]" in drawn.text()
    assert len(drawn.transitions) == len(S2S_TRANSITIONS)
