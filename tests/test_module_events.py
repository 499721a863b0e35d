"""Modules contribute through events and name what they need (server/events.py, server/modules/__init__.py).

A module written here, outside the server, offers a stream feature at each stage of the negotiation,
answers an iq before authentication and shows up in service discovery (XEP-0030): the core is not
touched. A module that needs one the server was not given is refused in one sentence, and the order
of the modules does not matter.
"""

import base64
import types

import pytest

from tests.support import RawClient
from xmpplab.server import Server
from xmpplab.server.core import DEFAULT_MODULES
from xmpplab.server.modules import MissingModule
from xmpplab.xml import NS_DISCO_INFO, NS_DISCO_ITEMS, element

NS_HELLO = "urn:example:hello"
STREAMS = "http://etherx.jabber.org/streams"


def hello_module(requires=()):
    """A feature module as a newcomer would write it: setup(server) hooks events, nothing else."""
    def setup(server):
        for stage in ("before-tls", "before-auth", "after-auth"):
            server.hook(f"stream-features/{stage}", lambda session, stage=stage: [
                element("hello", {"stage": stage}, ns=NS_HELLO)])
        server.hook(f"pre-auth/iq/{NS_HELLO}:hello", lambda event: event.reply(element("hello", ns=NS_HELLO))
                    is not None)
        server.add_feature(NS_HELLO)
        server.hook("disco-identities/host", lambda query: [("hello", "text", f"Hello from {query.host}")])
        server.hook("disco-items/host", lambda query: [(f"hello.{query.host}", "Hello service")])

    return types.SimpleNamespace(name="hello", requires=requires, setup=setup)


def hellos(features) -> list[str]:
    return [el.get("stage") for el in features.iter(f"{{{NS_HELLO}}}hello")]


async def after_auth_features(c: RawClient, user: str, domain: str = "example.com"):
    """Log in with PLAIN and return the features of the restarted stream."""
    await c.open_stream(domain)
    token = base64.b64encode(f"\0{user}\0secret".encode()).decode()
    await c.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
    assert (await c.recv()).tag.endswith("success")
    c.parser.reset()
    return await c.open_stream(domain)


@pytest.fixture
async def hello_server():
    srv = await Server(["example.com"], modules=(*DEFAULT_MODULES, hello_module())).start()
    srv.accounts.add("juliet@example.com", "secret")
    try:
        yield srv
    finally:
        await srv.stop()


async def test_a_module_offers_stream_features_and_pre_auth_iqs_through_events(hello_server):
    c = await RawClient.open(hello_server.port)
    try:
        features = await c.open_stream()
        assert hellos(features) == ["before-auth"]
        assert features.find("{urn:ietf:params:xml:ns:xmpp-sasl}mechanisms") is not None
        answer = await c.request(f"<iq type='get' id='h1'><hello xmlns='{NS_HELLO}'/></iq>")
        assert answer.get("type") == "result" and answer.find(f"{{{NS_HELLO}}}hello") is not None
        # what no module serves before authentication still closes the stream
        await c.send("<iq type='get' id='h2'><query xmlns='urn:example:nobody'/></iq>")
        error = await c.recv()
        assert error.tag == f"{{{STREAMS}}}error"
        assert error.find("{urn:ietf:params:xml:ns:xmpp-streams}not-authorized") is not None
    finally:
        await c.close()
    c = await RawClient.open(hello_server.port)
    try:
        features = await after_auth_features(c, "juliet")
        assert hellos(features) == ["after-auth"]
        names = [el.tag for el in features]
        assert names[0] == "{urn:ietf:params:xml:ns:xmpp-bind}bind"
        assert "{urn:xmpp:features:rosterver}ver" in names and "{urn:xmpp:features:pre-approval}sub" in names
    finally:
        await c.close()


async def test_a_module_offers_features_beside_required_starttls():
    async with Server(["example.com"], require_tls=True, modules=(*DEFAULT_MODULES, hello_module())) as srv:
        c = await RawClient.open(srv.port)
        try:
            features = await c.open_stream()
            assert features.find("{urn:ietf:params:xml:ns:xmpp-tls}starttls/{urn:ietf:params:xml:ns:xmpp-tls}"
                                 "required") is not None
            assert hellos(features) == ["before-tls"]
            assert features.find("{urn:ietf:params:xml:ns:xmpp-sasl}mechanisms") is None
        finally:
            await c.close()


async def test_a_module_shows_in_service_discovery(hello_server):
    c = await RawClient.open(hello_server.port)
    try:
        await c.login("juliet@example.com/balcony")
        info = await c.request(f"<iq type='get' id='d1' to='example.com'><query xmlns='{NS_DISCO_INFO}'/></iq>")
        query = info.find(f"{{{NS_DISCO_INFO}}}query")
        identities = [(i.get("category"), i.get("type"), i.get("name"))
                      for i in query.iter(f"{{{NS_DISCO_INFO}}}identity")]
        assert identities == [("server", "im", "xmpplab"), ("hello", "text", "Hello from example.com")]
        features = [f.get("var") for f in query.iter(f"{{{NS_DISCO_INFO}}}feature")]
        assert NS_HELLO in features and "urn:xmpp:ping" in features and features == sorted(features)
        items = await c.request(f"<iq type='get' id='d2' to='example.com'><query xmlns='{NS_DISCO_ITEMS}'/></iq>")
        listed = [(i.get("jid"), i.get("name")) for i in items.iter(f"{{{NS_DISCO_ITEMS}}}item")]
        assert listed == [("conference.example.com", "Chatrooms"), ("pubsub.example.com", "Publish-Subscribe"),
                          ("hello.example.com", "Hello service")]
    finally:
        await c.close()


# dependencies --------------------------------------------------------------------------------------
def test_a_missing_dependency_is_one_sentence():
    with pytest.raises(MissingModule) as caught:
        Server(["example.com"], modules=("presence", "ping"))
    assert str(caught.value) == "the server module 'presence' needs 'roster': add it to the server's modules"
    with pytest.raises(MissingModule) as caught:
        Server(["example.com"], modules=(hello_module(requires=("muc", "pubsub")), "ping"))
    assert str(caught.value) == "the server module 'hello' needs 'muc' and 'pubsub': add them to the server's modules"


async def test_the_order_of_modules_does_not_matter():
    async with Server(["example.com"], modules=tuple(reversed(DEFAULT_MODULES))) as srv:
        for user in ("juliet", "romeo"):
            srv.accounts.add(f"{user}@example.com", "secret")
        juliet, romeo = await RawClient.open(srv.port), await RawClient.open(srv.port)
        try:
            await juliet.login("juliet@example.com/balcony")
            await romeo.login("romeo@example.com/orchard")
            roster = await juliet.request("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
            assert roster.get("type") == "result"
            await romeo.send("<presence/>")
            await juliet.send("<presence to='romeo@example.com' type='subscribe'/>")
            push = await juliet.recv()  # the roster module pushes what the presence module changed
            assert push.find("{jabber:iq:roster}query/{jabber:iq:roster}item").get("ask") == "subscribe"
            items = await juliet.request(f"<iq type='get' id='d1' to='example.com'>"
                                         f"<query xmlns='{NS_DISCO_ITEMS}'/></iq>")
            assert sorted(i.get("jid") for i in items.iter(f"{{{NS_DISCO_ITEMS}}}item")) == [
                "conference.example.com", "pubsub.example.com"]
        finally:
            await juliet.close()
            await romeo.close()


def test_an_unknown_module_is_one_sentence():
    with pytest.raises(MissingModule,
                       match=r"^there is no server module 'teleport' \(no xmpplab.server.modules.teleport\)$"):
        Server(["example.com"], modules=(*DEFAULT_MODULES, "teleport"))
