"""xmpplab.rawclient: the library's raw-XML client, against the lab server."""

import asyncio

import pytest
from lxml import etree

from tests.support_wait import until
from xmpplab.rawclient import LoginError, RawClient, RawClientError, RecvTimeout, StreamEnded
from xmpplab.recording import MemoryRecorder
from xmpplab.server import Server
from xmpplab.transcript import Direction, Transcript
from xmpplab.xml import serialize


@pytest.fixture
async def lab():
    srv = Server(["localhost"])
    await srv.start()
    srv.accounts.add("juliet@localhost", "secret")
    srv.accounts.add("romeo@localhost", "secret")
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.mark.parametrize("tls", ["starttls", "none"])
@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"])
async def test_login_each_mechanism_with_and_without_tls(lab, mechanism, tls):
    async with await RawClient.connect("127.0.0.1", lab.port, tls=tls) as c:
        jid = await c.login("juliet@localhost", "secret", mechanisms=(mechanism,), resource="balcony")
        assert jid == "juliet@localhost/balcony" == c.jid
        assert c.mechanism == mechanism
        assert (c.tls_version is not None) == (tls == "starttls")
        await c.send("<presence/>")
        echo = await c.recv(5)
        assert etree.QName(echo).localname == "presence"
        assert echo.get("from") == jid


async def test_resource_from_the_jid_or_chosen_by_the_server(lab):
    async with await RawClient.connect("127.0.0.1", lab.port) as a, await RawClient.connect("127.0.0.1", lab.port) as b:
        assert await a.login("juliet@localhost/phone", "secret") == "juliet@localhost/phone"
        bound = await b.login("juliet@localhost", "secret")
        assert bound.startswith("juliet@localhost/") and bound != "juliet@localhost/phone"


async def test_wrong_password_is_one_clear_sentence(lab):
    async with await RawClient.connect("127.0.0.1", lab.port) as c:
        with pytest.raises(LoginError, match=r"^SASL failed: not-authorized"):
            await c.login("juliet@localhost", "wrong")


async def test_unserved_domain_and_missing_tls(lab):
    async with await RawClient.connect("127.0.0.1", lab.port) as c:
        with pytest.raises(LoginError, match="the server refused the stream: host-unknown"):
            await c.login("juliet@elsewhere.example", "secret")
    async with Server(["localhost"], tls=False) as plain:
        plain.accounts.add("juliet@localhost", "secret")
        async with await RawClient.connect("127.0.0.1", plain.port, tls="required") as c:
            with pytest.raises(LoginError, match="does not offer STARTTLS and tls='required'"):
                await c.login("juliet@localhost", "secret")


async def test_no_common_mechanism():
    """A tiny fake server that offers only EXTERNAL."""
    async def serve(reader, writer):
        await reader.read(4096)
        writer.write(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                     b"xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='x' version='1.0'>"
                     b"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                     b"<mechanism>EXTERNAL</mechanism></mechanisms></stream:features>")
        await writer.drain()
        await reader.read(4096)
        writer.close()

    fake = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = fake.sockets[0].getsockname()[1]
    try:
        async with await RawClient.connect("127.0.0.1", port) as c:
            with pytest.raises(LoginError, match=r"^SASL failed: the server offers EXTERNAL, none of "
                                                 r"SCRAM-SHA-256, SCRAM-SHA-1, PLAIN$"):
                await c.login("juliet@localhost", "secret")
        async with await RawClient.connect("127.0.0.1", port) as c:
            with pytest.raises(ValueError, match="this client does not speak DIGEST-MD5"):
                await c.login("juliet@localhost", "secret", mechanisms=("DIGEST-MD5",))
    finally:
        fake.close()
        await fake.wait_closed()


async def test_connection_refused_is_clear():
    with pytest.raises(RawClientError, match=r"could not connect to 127\.0\.0\.1:1"):
        await RawClient.connect("127.0.0.1", 1)


async def test_recv_timeout_names_what_was_awaited(lab):
    async with await RawClient.connect("127.0.0.1", lab.port) as c:
        await c.login("juliet@localhost/balcony", "secret")
        with pytest.raises(RecvTimeout, match=r"no stanza within 0\.2 s for juliet@localhost/balcony"):
            await c.recv(0.2)
        with pytest.raises(TimeoutError):  # RecvTimeout is a TimeoutError too
            await c.recv(0.05)


async def test_request_returns_the_answer_and_keeps_the_rest_in_order(lab):
    async with await RawClient.connect("127.0.0.1", lab.port) as c:
        await c.login("juliet@localhost/balcony", "secret")
        await c.send("<presence/>")
        await c.send("<message to='juliet@localhost/balcony'><body>one</body></message>")
        # a ping round trip: both arrive before the pong, and wait in the inbox
        await c.request("<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
        answer = await c.request("<iq type='get' id='v1' to='localhost'><query xmlns='jabber:iq:version'/></iq>")
        assert answer.get("id") == "v1" and answer.get("type") == "result"
        first, second = await c.recv(), await c.recv()
        assert [etree.QName(e).localname for e in (first, second)] == ["presence", "message"]
        no_id = await c.request(etree.fromstring(
            "<iq xmlns='jabber:client' type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>"))
        assert no_id.get("type") == "result" and no_id.get("id")
        with pytest.raises(RecvTimeout, match="no answer to iq 'lost' within 0.2 s"):
            await c.request("<iq type='result' id='lost' to='localhost'/>", timeout=0.2)


async def test_send_an_element(lab):
    async with await RawClient.connect("127.0.0.1", lab.port) as c:
        await c.login("juliet@localhost/balcony", "secret")
        el = etree.fromstring("<presence xmlns='jabber:client'><status>here</status></presence>")
        await c.send(el)
        echo = await c.recv()
        assert echo.findtext("{jabber:client}status") == "here"


async def test_stream_end_after_a_stream_error(lab):
    c = await RawClient.connect("127.0.0.1", lab.port)
    await c.login("juliet@localhost/balcony", "secret")
    lab.accounts.remove("juliet@localhost")  # closes the session with a stream error
    err = await c.recv(5)
    assert etree.QName(err).localname == "error"
    with pytest.raises(StreamEnded, match="the server closed the stream"):
        await c.recv(5)
    assert c.ended == "the server closed the stream"
    # the server closes the connection after its stream
    await until(lambda: ", closed: " in repr(c), c, what="the connection closed")
    with pytest.raises(StreamEnded, match="the connection is closed"):
        await c.send("<presence/>")
    await c.close()
    await c.close()  # twice is fine
    assert "closed" in repr(c)


async def test_close_is_clean_and_recorded(lab):
    rec = MemoryRecorder()
    c = await RawClient.connect("127.0.0.1", lab.port, recorder=rec, conn_id="juliet-1")
    await c.login("juliet@localhost/balcony", "secret", mechanisms=("SCRAM-SHA-256",))
    await c.send("<presence/>")
    await c.recv()
    await c.close()
    kinds = [e["type"] for e in rec.events]
    assert kinds[0] == "open" and kinds[-1] == "close"
    assert rec.events[0]["role"] == "initiating" and rec.events[0]["kind"] == "c2s"
    assert {"tls", "auth", "bound"} <= set(kinds)
    auth = next(e for e in rec.events if e["type"] == "auth")
    assert auth == {**auth, "mechanism": "SCRAM-SHA-256", "user": "juliet@localhost"}
    assert next(e for e in rec.events if e["type"] == "bound")["jid"] == "juliet@localhost/balcony"
    assert rec.events[-1]["clean"] is True
    assert all(e["conn"] == "juliet-1" and isinstance(e["t"], float) for e in rec.events)
    # The same events a Transcript reads: client to server is "out" for the initiating side.
    t = Transcript.from_events(rec.events, recorded_by="xmpplab RawClient")
    conn = t["juliet-1"]
    assert conn.jid == "juliet@localhost/balcony" and conn.tls and conn.mechanism == "SCRAM-SHA-256"
    sent = [i for i in conn.parsed if i.direction is Direction.C2S and i.kind == "stanza"]
    assert any(i.name == "presence" for i in sent)
    assert "<presence/>" in conn.text(Direction.C2S)
    assert "</stream:stream>" in conn.text(Direction.S2C)


async def test_repr_says_who_where_and_how(lab):
    c = await RawClient.connect("127.0.0.1", lab.port)
    assert repr(c) == f"<RawClient not logged in on 127.0.0.1:{lab.port}, open>"
    await c.login("juliet@localhost/balcony", "secret", mechanisms=("PLAIN",))
    await c.send("<presence/>")
    # a ping round trip: the echo of her presence arrives before the pong
    await c.request("<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert repr(c).startswith(f"<RawClient juliet@localhost/balcony on 127.0.0.1:{lab.port} (TLSv1.")
    assert repr(c).endswith("PLAIN), open, 1 unread>")
    assert serialize(c.unread[0]).startswith("<presence")
    await c.close()


def test_bad_tls_mode_is_refused():
    with pytest.raises(ValueError, match="tls must be one of"):
        asyncio.run(RawClient.connect("127.0.0.1", 1, tls="maybe"))
