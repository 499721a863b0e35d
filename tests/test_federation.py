"""Server-to-server streams with dialback (RFC 6120, XEP-0220) between loopback servers."""

import asyncio
import socket

import pytest
from lxml import etree

from tests.support import RawClient
from tests.support_wait import until
from xmpplab.server import Server
from xmpplab.server.s2s import dialback_key
from xmpplab.xml import serialize


def cond(el):
    err = el.find("{jabber:client}error")
    assert err is not None, serialize(el)
    return etree.QName(err[0]).localname


@pytest.fixture
async def federation():
    """server1.com and server2.com, each its own server with its own s2s port, knowing each other."""
    events = []
    s1 = await Server(["server1.com"], s2s_port=0, recorder=events.append).start()
    s2 = await Server(["server2.com"], s2s_port=0).start()
    s1.s2s.add_peer("server2.com", "127.0.0.1", s2.s2s_port)
    s2.s2s.add_peer("server1.com", "127.0.0.1", s1.s2s_port)
    s1.accounts.add("user1@server1.com", "pw")
    s2.accounts.add("user2@server2.com", "pw")
    clients = []

    async def login(server, jid):
        c = await RawClient.open(server.port)
        await c.login(jid, "pw")
        clients.append(c)
        return c

    yield s1, s2, login, events
    for c in clients:
        await c.close()
    await s1.stop()
    await s2.stop()


async def next_of(client, name, timeout=5):
    while True:
        el = await client.recv(timeout)
        assert not isinstance(el, str), el
        if etree.QName(el).localname == name:
            return el


async def test_message_and_iq_cross_servers_both_ways(federation):
    s1, s2, login, events = federation
    a = await login(s1, "user1@server1.com/pc")
    b = await login(s2, "user2@server2.com/phone1")
    await a.send("<message to='user2@server2.com/phone1' type='chat' id='m1'><body>hi across</body></message>")
    got = await next_of(b, "message")
    assert got.get("from") == "user1@server1.com/pc" and got.findtext("{jabber:client}body") == "hi across"
    await b.send("<message to='user1@server1.com/pc' type='chat'><body>and back</body></message>")
    assert (await next_of(a, "message")).findtext("{jabber:client}body") == "and back"
    pong = await a.request("<iq type='get' id='p1' to='server2.com'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert pong.get("type") == "result" and pong.get("from") == "server2.com"
    # The streams were recorded like client streams, and dialback is visible in them.
    s2s = [e for e in events if e["conn"].startswith("s2s")]
    assert {e["kind"] for e in s2s if e["type"] == "open"} == {"s2s"}
    assert {e["role"] for e in s2s if e["type"] == "open"} == {"initiating", "receiving"}
    text = "".join(e.get("data", "") for e in s2s)
    assert "<db:result" in text and "type='valid'" in text and "hi across" in text


async def test_subscription_across_servers(federation):
    s1, s2, login, _ = federation
    a = await login(s1, "user1@server1.com/pc")
    b = await login(s2, "user2@server2.com/phone1")
    await a.send("<presence/>")
    await b.send("<presence/>")
    await a.send("<presence to='user2@server2.com' type='subscribe'/>")
    req = await next_of(b, "presence")
    while req.get("type") != "subscribe":
        req = await next_of(b, "presence")
    assert req.get("from") == "user1@server1.com"
    await b.send("<presence to='user1@server1.com' type='subscribed'/>")
    # server1 updates user1's roster when the 'subscribed' arrives over s2s (RFC 6121 3.1.5)
    await until(lambda: getattr(s1.roster_item("user1@server1.com", "user2@server2.com"), "subscription", None) == "to",
                s1, what="user1's roster item at 'to'")
    assert s1.roster_item("user1@server1.com", "user2@server2.com").subscription == "to"
    # user2's available presence now reaches user1 across the federation.
    while True:
        p = await next_of(a, "presence")
        if p.get("from") == "user2@server2.com/phone1" and p.get("type") is None:
            break


async def test_unknown_and_unreachable_domains(federation):
    s1, _, login, _ = federation
    a = await login(s1, "user1@server1.com/pc")
    await a.send("<message to='user3@server3.com' id='u1' type='chat'><body>?</body></message>")
    reply = await next_of(a, "message")
    assert reply.get("id") == "u1" and cond(reply) == "remote-server-not-found"
    with socket.socket() as sock:  # a port where nobody listens
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    s1.s2s.add_peer("server4.com", "127.0.0.1", dead_port)
    await a.send("<message to='user4@server4.com' id='u2' type='chat'><body>?</body></message>")
    reply = await next_of(a, "message")
    assert reply.get("id") == "u2" and cond(reply) == "remote-server-timeout"


HEADER = ("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
          "xmlns:db='jabber:server:dialback' from='server2.com' to='server1.com' version='1.0'>")


async def test_stanzas_before_dialback_and_bad_keys_are_refused(federation):
    s1, _, _, _ = federation
    c = await RawClient.open(s1.s2s_port)
    await c.send(HEADER)
    features = await c.recv()
    assert features.find("{urn:xmpp:features:dialback}dialback") is not None
    await c.send("<message from='user2@server2.com/x' to='user1@server1.com'><body>spoof</body></message>")
    err = await c.recv()
    assert err.tag.endswith("}error") and err[0].tag.endswith("invalid-from")
    await c.close()
    # A key server2.com never issued: server1.com asks server2.com, which says invalid.
    c = await RawClient.open(s1.s2s_port)
    await c.send(HEADER)
    await c.recv()
    await c.send("<db:result xmlns:db='jabber:server:dialback' from='server2.com' to='server1.com'>"
                 + "0" * 64 + "</db:result>")
    result = await c.recv()
    assert result.get("type") == "invalid"
    await c.close()


def test_dialback_key_follows_xep_0185():
    # XEP-0185's example: secret 's3cr3tf0rd14lb4ck', receiving server xmpp.example.com,
    # originating server example.org, stream id 'D60000229F'.
    key = dialback_key(b"s3cr3tf0rd14lb4ck", "xmpp.example.com", "example.org", "D60000229F")
    assert key == "37c69b1cf07a3f67c04a5ef5902fa5114f2c76fe4a2686482ba5b89323075643"


async def test_a_federated_lab_of_three_servers():
    from xmpplab.lab import Lab

    async with Lab.start(["server1.com", "server2.com", "server3.com"], federate=True) as lab:
        assert [s.hosts for s in lab.servers] == [["server1.com"], ["server2.com"], ["server3.com"]]
        assert len({s.port for s in lab.servers}) == 3
        pc = await lab.connect("user1@server1.com/pc")
        phone = await lab.connect("user3@server3.com/phone1")
        await pc.send_message("user3@server3.com/phone1", "hello from server1")
        msg = await phone.next("message")
        assert msg.get("from") == "user1@server1.com/pc"
        conns = {e["conn"] for e in lab.events if e["type"] == "open"}
        assert any(c.startswith("server1.com:s2sout-") for c in conns)
        assert any(c.startswith("server3.com:s2s-") for c in conns)


async def test_federated_lab_servers_authenticate_with_sasl_external():
    """With certificates from the lab's CA, the receiving server offers SASL EXTERNAL after STARTTLS and the
    initiating one uses it instead of dialback (RFC 6120 6.3.4, 13.7.2)."""
    from xmpplab.lab import Lab

    async with Lab.start(["server1.com", "server2.com"], federate=True, external=True) as lab:
        pc = await lab.connect("user1@server1.com/pc")
        phone = await lab.connect("user2@server2.com/phone1")
        await pc.send_message("user2@server2.com/phone1", "certified")
        assert (await phone.next("message")).get("from") == "user1@server1.com/pc"
        out = "".join(e.get("data", "") for e in lab.events
                      if e["conn"].startswith("server1.com:s2sout") and e.get("dir") == "out")
        inc = "".join(e.get("data", "") for e in lab.events
                      if e["conn"].startswith("server2.com:s2s-") and e.get("dir") == "out")
        assert "mechanism='EXTERNAL'" in out and "<db:result" not in out
        assert "<mechanism>EXTERNAL</mechanism>" in inc and "<success" in inc
        assert any(e["type"] == "tls" for e in lab.events if e["conn"].startswith("server1.com:s2sout"))


async def test_without_the_lab_ca_federated_servers_use_dialback():
    from xmpplab.lab import Lab

    async with Lab.start(["server1.com", "server2.com"], federate=True) as lab:
        pc = await lab.connect("user1@server1.com/pc")
        phone = await lab.connect("user2@server2.com/phone1")
        await pc.send_message("user2@server2.com/phone1", "by dialback")
        await phone.next("message")
        out = "".join(e.get("data", "") for e in lab.events
                      if e["conn"].startswith("server1.com:s2sout") and e.get("dir") == "out")
        assert "<db:result" in out and "EXTERNAL" not in out


async def test_a_certificate_for_another_domain_gets_no_external():
    """A peer whose CA-signed certificate names another domain is not offered EXTERNAL for this one."""
    from tests.support import RawClient, insecure_context
    from xmpplab.server.tls import certificate_file, lab_ca

    ca = str(lab_ca())
    async with Server(["server2.com"], s2s_port=0, tls_ca=ca) as s2:
        c = await RawClient.open(s2.s2s_port)
        await c.send(HEADER.replace("to='server1.com'", "to='server2.com'").replace(
            "from='server2.com'", "from='server1.com'"))
        await c.recv()
        await c.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        await c.recv()
        c._task.cancel()
        ctx = insecure_context()
        ctx.load_cert_chain(str(certificate_file(["server9.com"], ca=ca)))  # signed by the CA, wrong domain
        await c.writer.start_tls(ctx, server_hostname="server2.com")
        c.parser.reset()
        c.events = asyncio.Queue()
        c._task = asyncio.get_running_loop().create_task(c._read())
        await c.send(HEADER.replace("to='server1.com'", "to='server2.com'").replace(
            "from='server2.com'", "from='server1.com'"))
        features = await c.recv()
        assert features.find("{urn:ietf:params:xml:ns:xmpp-sasl}mechanisms") is None
        assert features.find("{urn:xmpp:features:dialback}dialback") is not None
        await c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>"
                     "c2VydmVyMS5jb20=</auth>")
        answer = await c.recv()
        assert answer.tag.endswith("}failure") or answer.tag.endswith("}error")
        await c.close()
