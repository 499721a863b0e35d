"""Bad input gets the RFC's stream or stanza error, and the server keeps serving everyone else."""

import asyncio

import pytest

from tests.support_stanzas import assert_still_serving, condition, stream_error_after
from tests.support_wait import until

HEADER = ("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
          "to='example.com' version='1.0'>")


@pytest.mark.parametrize("data, expected", [
    ("<message><body>unclosed</message>", "not-well-formed"),
    ("<message to='a' to='b'/>", "not-well-formed"),
    ("<message><!-- a comment --></message>", "restricted-xml"),
    ("<?xml-stylesheet href='x'?>", "restricted-xml"),
    ("<message><body>&custom;</body></message>", "restricted-xml"),
    ("<!DOCTYPE message [<!ENTITY lol 'lol'>]><message/>", "restricted-xml"),
    ("<message>" + "<x>" * 100 + "</x>" * 100 + "</message>", "policy-violation"),
])
async def test_bad_xml_gets_a_stream_error(raw, data, expected):
    assert await stream_error_after(raw, data, login=True) == expected
    await assert_still_serving(raw)


async def test_dtd_before_the_stream_header_is_restricted_xml(raw):
    c = await raw()
    await c.send("<?xml version='1.0'?><!DOCTYPE stream:stream [<!ENTITY a 'b'>]>" + HEADER)
    assert condition(await c.recv()) == "restricted-xml"
    await assert_still_serving(raw)


async def test_billion_laughs_does_not_expand(raw):
    lol = "<!DOCTYPE lolz [<!ENTITY lol 'lol'>" + "".join(
        f"<!ENTITY lol{i} '{('&lol' + str(i - 1) + ';') * 10 if i else '&lol;' * 10}'>" for i in range(9)) + "]>"
    c = await raw()
    await c.send(lol + HEADER + "<message><body>&lol8;</body></message>")
    assert condition(await c.recv()) == "restricted-xml"
    await assert_still_serving(raw)


async def test_huge_stanza_is_a_policy_violation(raw, server):
    c = await raw()
    await c.login("juliet@example.com/balcony")
    await c.send("<message to='romeo@example.net'><body>")
    chunk = "x" * 65536
    for _ in range(server.max_stanza_bytes // len(chunk) + 2):
        await c.send(chunk)
    err = await c.recv()
    assert condition(err) == "policy-violation"
    await assert_still_serving(raw)


async def test_a_whole_stanza_over_the_limit_in_one_write_is_refused_not_relayed(raw, server):
    """A complete message a little over the limit, written at once: the server reads it in one or two reads,
    and must still refuse it, not pass on what the recipient's server (with the same limit) would choke on."""
    romeo = await raw()
    await romeo.login("romeo@example.net/orchard")
    await romeo.send("<presence/>")
    c = await raw()
    await c.login("juliet@example.com/balcony")
    body = "x" * (server.max_stanza_bytes + 40_000)
    await c.send(f"<message to='romeo@example.net/orchard' type='chat'><body>{body}</body></message>")
    assert condition(await c.recv()) == "policy-violation"
    await romeo.send("<iq type='get' id='still' to='example.net'><ping xmlns='urn:xmpp:ping'/></iq>")
    while True:  # everything Romeo gets before the answer to his ping: the big message is not among it
        got = await romeo.recv()
        assert got.tag != "{jabber:client}message", "the oversized message was relayed"
        if got.get("id") == "still":
            break


async def test_unknown_top_level_element_is_unsupported_stanza_type(raw):
    assert await stream_error_after(raw, "<telegram to='romeo@example.net'/>", login=True) == \
        "unsupported-stanza-type"


async def test_wrong_stream_namespace(raw):
    c = await raw()
    await c.send("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
                 "to='example.com' version='1.0'>")
    assert condition(await c.recv()) == "invalid-namespace"
    c2 = await raw()
    await c2.send("<html><body>")
    assert condition(await c2.recv()) == "invalid-namespace"


async def test_old_stream_version_is_unsupported(raw):
    c = await raw()
    await c.send("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
                 "to='example.com'>")
    assert condition(await c.recv()) == "unsupported-version"


async def test_spoofed_from_is_invalid_from(raw, server):
    c = await raw()
    await c.login("juliet@example.com/balcony")
    await c.send("<message from='romeo@example.net/orchard' to='nurse@example.com'><body>x</body></message>")
    assert condition(await c.recv()) == "invalid-from"
    # Her own address, bare or full, is fine (and gets stamped with the full JID).
    nurse = await raw()
    await nurse.login("nurse@example.com/desk")
    j2 = await raw()
    await j2.login("juliet@example.com/garden")
    await j2.send("<message from='juliet@example.com' to='nurse@example.com/desk'><body>hi</body></message>")
    got = await nurse.recv()
    assert got.get("from") == "juliet@example.com/garden"


@pytest.mark.parametrize("to", ["juliet@@example.com", "@example.com", "a@b@c", "juliet@example.com/",
                                "juli et@example.com"])
async def test_invalid_to_gets_jid_malformed(raw, to):
    c = await raw()
    await c.login("juliet@example.com/balcony")
    await c.send(f"<message id='m1' to='{to}'><body>x</body></message>")
    reply = await c.recv()
    assert reply.get("type") == "error" and reply.get("id") == "m1"
    assert condition(reply) == "jid-malformed"
    # not from the broken address, and not without 'from' (that would mean her own account, RFC 6120
    # 8.1.2.1): from her server
    assert reply.get("from") == "example.com"
    pong = await c.request("<iq type='get' id='p' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert pong.get("type") == "result"  # a stanza error does not end the stream


async def test_disconnect_mid_stanza_cleans_up(raw, server):
    c = await raw()
    await c.login("juliet@example.com/balcony")
    assert server.session_for(__import__("xmpplab").JID("juliet@example.com/balcony")) is not None
    await c.send("<message to='romeo@example.net'><body>half a mess")
    c.writer.transport.abort()
    await until(lambda: not server.sessions, server, what="the aborted session removed")
    assert server.sessions == {}
    await assert_still_serving(raw)


async def test_many_connections_opening_and_closing_at_once(server, raw):
    async def one(i):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        if i % 3 == 0:
            writer.transport.abort()  # gone before saying anything
            return
        writer.write(HEADER.encode())
        if i % 3 == 1:
            writer.write(b"<message><body>cut off")
        await writer.drain()
        await reader.read(100)
        writer.close()

    await asyncio.gather(*(one(i) for i in range(300)))
    await until(lambda: not server.connections, server, what="all 300 connections closed on the server")
    assert len(server.connections) == 0
    await assert_still_serving(raw)


async def test_a_start_tag_that_never_ends_hits_the_size_limit(raw, server):
    c = await raw()
    await c.login("juliet@example.com/balcony")
    await c.send("<message to='a'b'")  # libxml2 waits for the quote to close: it never does
    for _ in range(server.max_stanza_bytes // 65536 + 2):
        await c.send("y" * 65536)
    assert condition(await c.recv()) == "policy-violation"


async def test_a_connection_that_never_negotiates_is_timed_out():
    from tests.support import RawClient
    from xmpplab.server import Server

    async with Server(["example.com"], negotiation_timeout=0.3) as srv:
        c = await RawClient.open(srv.port)
        await c.open_stream()
        assert condition(await c.recv(timeout=3)) == "connection-timeout"
        await c.close()
