"""XEP-0288 Bidirectional Server-to-Server Connections: stanzas both ways over the stream one server opened.

First the negotiators alone (parser events, no socket), then two xmpplab servers on loopback where the
receiving one has no address for the other domain at all: it can only answer over the stream it was given.
"""

import pytest
from lxml import etree

from tests.support import RawClient
from tests.support_wait import until
from tests.test_s2s_negotiator import End, elements, receiving, sent
from xmpplab.negotiation import Close, S2SInitiatingNegotiator, S2SState, Stanza, Validated
from xmpplab.server import Server
from xmpplab.server.tls import lab_ca

BIDI_FEATURE = "{urn:xmpp:features:bidi}bidi"


def dialback_done(out: End, inc: End) -> list:
    """Run a dialback exchange between the two ends (the key is taken as valid); return out's last actions."""
    offer = out.hear(inc.hear(out.neg.start()))
    (check,) = [a for a in inc.hear(offer)]
    return out.hear(inc.neg.key_checked(check.originating, check.receiving, True))


def test_the_receiving_server_offers_bidi_and_the_initiating_one_asks_before_dialback():
    """XEP-0288 2.1 and 2.2: <bidi xmlns='urn:xmpp:features:bidi'/> offered, <bidi xmlns='urn:xmpp:bidi'/> asked."""
    out = End(S2SInitiatingNegotiator("server1.com", "server2.com", b"one", bidi=True))
    inc = receiving()
    features = inc.hear(out.neg.start())
    assert elements(features)[0].find(BIDI_FEATURE) is not None
    offer = out.hear(features)
    assert sent(offer).index("<bidi xmlns='urn:xmpp:bidi'/>") < sent(offer).index("<db:result")
    (check,) = inc.hear(offer)
    assert inc.neg.bidi
    valid = inc.neg.key_checked(check.originating, check.receiving, True)
    assert valid[-1] == Validated("server1.com", "server2.com", bidi=True)
    assert out.hear(valid) == [Validated("server1.com", "server2.com", bidi=True)]
    # server2.com's answer comes back on server1.com's own stream, as a stanza for server1.com's router
    (back,) = out.hear("<message from='romeo@server2.com/orchard' to='juliet@server1.com'><body>yes</body></message>")
    assert isinstance(back, Stanza) and back.element.get("to") == "juliet@server1.com"
    assert out.neg.state is S2SState.READY


def test_without_bidi_or_from_another_domain_a_stanza_on_our_stream_closes_it():
    """The receiving server may send only from the domain we connected to, to ours, and only when asked (2.2)."""
    for bidi, frm, to in ((False, "romeo@server2.com", "juliet@server1.com"),
                          (True, "iago@server9.com", "juliet@server1.com")):
        out = End(S2SInitiatingNegotiator("server1.com", "server2.com", b"one", bidi=bidi))
        dialback_done(out, receiving())
        (close,) = out.hear(f"<message from='{frm}' to='{to}'><body>x</body></message>")
        assert close == Close("invalid-from", close.text) and out.neg.state is S2SState.CLOSED
    out = End(S2SInitiatingNegotiator("server1.com", "server2.com", b"one", bidi=True))
    out.hear(receiving().hear(out.neg.start()))  # not validated yet: stanzas have no row in the table
    (close,) = out.hear("<message from='romeo@server2.com' to='juliet@server1.com'/>")
    assert close.condition == "policy-violation"


def test_bidi_before_starttls_is_refused_when_tls_is_on_offer():
    """XEP-0288 2.1: STARTTLS first; the feature appears only after TLS."""
    inc = receiving(tls_available=True)
    features = inc.hear(End(S2SInitiatingNegotiator("server1.com", "server2.com", b"one")).neg.start())
    assert elements(features)[0].find(BIDI_FEATURE) is None
    (close,) = inc.hear("<bidi xmlns='urn:xmpp:bidi'/>")
    assert close.condition == "policy-violation"


@pytest.fixture
async def one_way_only():
    """server1.com knows where server2.com listens; server2.com knows nothing of server1.com (no peer address,
    no outgoing port it could use): both have certificates from the lab CA, so EXTERNAL proves server1.com."""
    ca = str(lab_ca())
    events = []
    s2 = await Server(["server2.com"], s2s_port=0, tls_ca=ca, recorder=events.append, conn_prefix="s2:").start()
    s1 = await Server(["server1.com"], tls_ca=ca, recorder=events.append, conn_prefix="s1:").start()
    s1.s2s.add_peer("server2.com", "127.0.0.1", s2.s2s_port, bidi=True)
    s1.accounts.add("juliet@server1.com", "pw")
    s2.accounts.add("romeo@server2.com", "pw")
    a = await RawClient.open(s1.port)
    await a.login("juliet@server1.com/balcony", "pw")
    b = await RawClient.open(s2.port)
    await b.login("romeo@server2.com/orchard", "pw")
    yield s1, s2, a, b, events
    for c in (a, b):
        await c.close()
    await s1.stop()
    await s2.stop()


async def message(client, timeout=5):
    while True:
        el = await client.recv(timeout)
        assert not isinstance(el, str), el
        if etree.QName(el).localname == "message":
            return el


async def test_a_message_and_its_answer_cross_one_tcp_connection(one_way_only):
    s1, s2, juliet, romeo, events = one_way_only
    await juliet.send("<message to='romeo@server2.com/orchard' type='chat' id='m1'>"
                      "<body>art thou there?</body></message>")
    got = await message(romeo)
    assert got.get("from") == "juliet@server1.com/balcony"
    await romeo.send(f"<message to='{got.get('from')}' type='chat' id='m2'><body>I am</body></message>")
    answer = await message(juliet)
    assert answer.get("from") == "romeo@server2.com/orchard" and answer.findtext("{jabber:client}body") == "I am"
    pong = await juliet.request("<iq type='get' id='p1' to='server2.com'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert pong.get("type") == "result" and pong.get("from") == "server2.com"
    # one s2s connection in all: server1.com's; server2.com opened none and answered on it
    opened = [e for e in events if e["type"] == "open" and e.get("kind") == "s2s"]
    assert len(opened) == 2 and {e["role"] for e in opened} == {"initiating", "receiving"}
    assert not s2.s2s.outgoing and list(s2.s2s.bidi) == [("server2.com", "server1.com")]
    inc = "".join(e.get("data", "") for e in events if e["conn"].startswith("s2:s2s") and e.get("dir") == "out")
    assert '<bidi xmlns="urn:xmpp:features:bidi"/>' in inc and "I am" in inc


async def test_when_the_stream_closes_the_answer_has_no_way_back(one_way_only):
    """Without the peer's stream, server2.com has no address for server1.com: remote-server-not-found."""
    s1, s2, juliet, romeo, _ = one_way_only
    await juliet.send("<message to='romeo@server2.com/orchard' type='chat'><body>hello</body></message>")
    await message(romeo)
    for conn in list(s1.s2s.outgoing.values()):
        conn.close()
    await until(lambda: not s2.s2s.bidi, s2)  # s2 records the stream's close
    reply = await romeo.request("<iq type='get' id='p2' to='juliet@server1.com/balcony'>"
                                "<ping xmlns='urn:xmpp:ping'/></iq>")
    assert reply.get("type") == "error" and reply.find(
        "{jabber:client}error/{urn:ietf:params:xml:ns:xmpp-stanzas}remote-server-not-found") is not None
