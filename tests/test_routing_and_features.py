"""Routing (RFC 6120 section 10, RFC 6121 section 8) and the small features: disco, ping, version,
in-band registration, offline messages. Raw XML where the exact stanza matters, slixmpp elsewhere."""

import asyncio

from lxml import etree

from tests.support_stanzas import flush
from tests.support_wait import round_trip
from xmpplab.xml import NS_DELAY, NS_DISCO_INFO, NS_DISCO_ITEMS, serialize

STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


def error_condition(el):
    err = el.find("{jabber:client}error")
    assert err is not None, serialize(el)
    return err.get("type"), etree.QName(err[0]).localname


async def test_message_to_full_jid_is_delivered_with_from_stamped(raw):
    juliet, romeo = await raw(), await raw()
    await juliet.login("juliet@example.com/balcony")
    await romeo.login("romeo@example.net/orchard")
    await juliet.send("<message to='romeo@example.net/orchard' type='chat' id='m1'><body>Romeo!</body></message>")
    got = await romeo.recv()
    assert got.get("from") == "juliet@example.com/balcony"
    assert got.get("to") == "romeo@example.net/orchard" and got.get("id") == "m1"
    assert got.findtext("{jabber:client}body") == "Romeo!"


async def test_to_is_normalised(raw):
    juliet, romeo = await raw(), await raw()
    await juliet.login("juliet@example.com/balcony")
    await romeo.login("romeo@example.net/orchard")
    await juliet.send("<message to='ROMEO@Example.NET/orchard'><body>x</body></message>")
    got = await romeo.recv()
    assert got.get("to") == "romeo@example.net/orchard"


async def test_message_to_unknown_user_is_service_unavailable(raw):
    c = await raw()
    await c.login("juliet@example.com/balcony")
    await c.send("<message to='tybalt@example.com' id='x1' type='chat'><body>hi</body></message>")
    reply = await c.recv()
    assert reply.get("type") == "error" and reply.get("id") == "x1"
    assert reply.get("from") == "tybalt@example.com" and reply.get("to") == "juliet@example.com/balcony"
    assert error_condition(reply) == ("cancel", "service-unavailable")


async def test_message_to_remote_domain_is_remote_server_not_found(raw):
    c = await raw()
    await c.login("juliet@example.com/balcony")
    await c.send("<message to='mercutio@verona.example' id='r1'><body>hi</body></message>")
    assert error_condition(await c.recv()) == ("cancel", "remote-server-not-found")


async def test_iq_unknown_namespace_and_missing_resource(raw):
    c = await raw()
    await c.login("juliet@example.com/balcony")
    reply = await c.request("<iq type='get' id='u1' to='example.com'><query xmlns='urn:example:unknown'/></iq>")
    assert reply.get("type") == "error" and error_condition(reply) == ("cancel", "service-unavailable")
    reply = await c.request("<iq type='get' id='u2' to='romeo@example.net/nowhere'>"
                            "<ping xmlns='urn:xmpp:ping'/></iq>")
    assert error_condition(reply) == ("cancel", "service-unavailable")


async def test_iq_shape_errors_are_bad_request(raw):
    c = await raw()
    await c.login("juliet@example.com/balcony")
    reply = await c.request("<iq type='get' id='b1' to='example.com'><ping xmlns='urn:xmpp:ping'/>"
                            "<query xmlns='jabber:iq:version'/></iq>")
    assert error_condition(reply) == ("modify", "bad-request")
    reply = await c.request("<iq type='fetch' id='b2' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert error_condition(reply) == ("modify", "bad-request")


async def test_iq_is_routed_to_a_full_jid_and_back(raw):
    juliet, romeo = await raw(), await raw()
    await juliet.login("juliet@example.com/balcony")
    await romeo.login("romeo@example.net/orchard")
    await juliet.send("<iq type='get' id='v1' to='romeo@example.net/orchard'><query xmlns='jabber:iq:version'/></iq>")
    got = await romeo.recv()
    assert got.get("from") == "juliet@example.com/balcony" and got.get("id") == "v1"
    await romeo.send("<iq type='result' id='v1' to='juliet@example.com/balcony'>"
                     "<query xmlns='jabber:iq:version'><name>orchard-client</name></query></iq>")
    answer = await juliet.recv()
    assert answer.get("type") == "result" and answer.get("from") == "romeo@example.net/orchard"


async def test_ping_version_and_disco_with_slixmpp(server, slix):
    juliet = await slix("juliet@example.com/balcony")
    version = await juliet.plugin["xep_0092"].get_version("example.com")
    assert version["software_version"]["name"] == "xmpplab"
    info = await juliet.plugin["xep_0030"].get_info(jid="example.com")
    features = set(info["disco_info"]["features"])
    assert {"urn:xmpp:ping", "jabber:iq:version", NS_DISCO_INFO, NS_DISCO_ITEMS, "msgoffline"} <= features
    # XEP-0030 section 3.1: one identity, an IM server (category, type, xml:lang, name)
    assert {tuple(i) for i in info["disco_info"]["identities"]} == {("server", "im", None, "xmpplab")}
    items = await juliet.plugin["xep_0030"].get_items(jid="example.com")
    # XEP-0030 section 4.1: the server lists its components, here the chat service (jid, node, name)
    assert items["disco_items"]["items"] == {("conference.example.com", None, "Chatrooms"),
                                             ("pubsub.example.com", None, "Publish-Subscribe")}
    await round_trip(juliet, "example.com")  # XEP-0199: a result, not an error (slixmpp takes both for a pong)


async def test_account_disco_to_self(raw):
    c = await raw()
    await c.login("juliet@example.com/balcony")
    reply = await c.request(f"<iq type='get' id='i1'><query xmlns='{NS_DISCO_INFO}'/></iq>")
    assert reply.get("type") == "result"
    ident = reply.find(f"{{{NS_DISCO_INFO}}}query/{{{NS_DISCO_INFO}}}identity")
    assert (ident.get("category"), ident.get("type")) == ("account", "registered")
    # A stranger learns nothing about the account.
    other = await raw()
    await other.login("nurse@example.com/desk")
    reply = await other.request(f"<iq type='get' id='i2' to='juliet@example.com'><query xmlns='{NS_DISCO_INFO}'/></iq>")
    assert error_condition(reply) == ("cancel", "service-unavailable")


async def test_in_band_registration_then_login(raw, server, slix):
    c = await raw()
    features = await c.open_stream("example.com")
    assert features.find("{http://jabber.org/features/iq-register}register") is not None
    form = await c.request("<iq type='get' id='reg1'><query xmlns='jabber:iq:register'/></iq>")
    assert form.find("{jabber:iq:register}query/{jabber:iq:register}username") is not None
    done = await c.request("<iq type='set' id='reg2'><query xmlns='jabber:iq:register'>"
                           "<username>Mercutio</username><password>plague</password></query></iq>")
    assert done.get("type") == "result"
    again = await c.request("<iq type='set' id='reg3'><query xmlns='jabber:iq:register'>"
                            "<username>mercutio</username><password>x</password></query></iq>")
    assert error_condition(again) == ("cancel", "conflict")
    assert server.accounts.check("mercutio@example.com", "plague")
    m = await slix("mercutio@example.com/street", password="plague")
    assert str(m.boundjid) == "mercutio@example.com/street"


async def test_registration_is_off_by_default():
    from tests.support import RawClient
    from xmpplab.server import Server

    async with Server(["example.com"]) as srv:
        c = await RawClient.open(srv.port)
        features = await c.open_stream()
        assert features.find("{http://jabber.org/features/iq-register}register") is None
        await c.send("<iq type='set' id='r'><query xmlns='jabber:iq:register'><username>x</username>"
                     "<password>y</password></query></iq>")
        err = await c.recv()
        assert etree.QName(err[0]).localname == "not-authorized"
        await c.close()
        assert srv.accounts.list() == []


async def test_offline_message_is_stored_and_delivered_with_delay(raw, server):
    romeo = await raw()
    await romeo.login("romeo@example.net/orchard")
    await romeo.send("<message to='juliet@example.com' type='chat' id='o1'><body>Art thou awake?</body></message>")
    assert await flush(romeo) == []  # stored, not bounced
    assert server.storage.count_offline("juliet@example.com") == 1
    juliet = await raw()
    await juliet.login("juliet@example.com/balcony")
    assert await flush(juliet) == []  # nothing before her first presence
    await juliet.send("<presence/>")
    got = None
    for _ in range(5):
        el = await juliet.recv()
        if etree.QName(el).localname == "message":
            got = el
            break
    assert got is not None and got.findtext("{jabber:client}body") == "Art thou awake?"
    assert got.get("from") == "romeo@example.net/orchard"
    delay = got.find(f"{{{NS_DELAY}}}delay")
    assert delay is not None and delay.get("from") == "example.com" and delay.get("stamp").endswith("Z")
    assert server.storage.count_offline("juliet@example.com") == 0


async def test_recorder_sees_both_directions_as_plaintext_above_tls(server, slix):
    events = []
    server.recorder = events.append
    juliet = await slix("juliet@example.com/balcony")
    juliet.send_message(mto="juliet@example.com/balcony", mbody="note to self")
    await asyncio.wait_for(juliet.messages.get(), 5)
    conn = next(e["conn"] for e in events if e["type"] == "bound" and e["jid"] == "juliet@example.com/balcony")
    mine = [e for e in events if e["conn"] == conn]
    kinds = [e["type"] for e in mine]
    assert kinds[0] == "open" and "tls" in kinds and "auth" in kinds and "bound" in kinds
    after_tls = mine[kinds.index("tls"):]
    incoming = "".join(e.get("data", "") for e in after_tls if e.get("dir") == "in")
    outgoing = "".join(e.get("data", "") for e in after_tls if e.get("dir") == "out")
    assert "<body>note to self</body>" in incoming and "<body>note to self</body>" in outgoing
    assert "<stream:features>" in outgoing and "<bind" in outgoing
    assert all(isinstance(e["t"], float) for e in mine)


async def test_message_to_an_unconnected_full_jid_by_type(raw):
    """RFC 6121 8.5.3.2.1: chat goes to the account's other resources; normal gets an error; headline is dropped."""
    juliet, romeo = await raw(), await raw()
    await juliet.login("juliet@example.com/balcony")
    await romeo.login("romeo@example.net/orchard")
    await romeo.send("<presence/>")
    await romeo.recv()  # his own presence, reflected
    await juliet.send("<message to='romeo@example.net/gone' type='chat' id='c1'><body>chat</body></message>")
    got = await romeo.recv()
    assert got.get("id") == "c1" and got.findtext("{jabber:client}body") == "chat"
    await juliet.send("<message to='romeo@example.net/gone' type='normal' id='n1'><body>normal</body></message>")
    reply = await juliet.recv()
    assert reply.get("id") == "n1" and error_condition(reply) == ("cancel", "service-unavailable")
    await juliet.send("<message to='romeo@example.net/gone' type='headline' id='h1'><body>news</body></message>")
    assert await flush(juliet) == []  # no error for a headline: it is dropped
    assert await flush(romeo) == []
