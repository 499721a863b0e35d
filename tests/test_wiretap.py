"""xmpplab.course.wiretap: chapter 10's eavesdropper sees the bytes on the connection, not the text above TLS."""

import asyncio
import base64

import pytest

from xmpplab.course.wiretap import Wiretap
from xmpplab.rawclient import RawClient
from xmpplab.server import Server


@pytest.fixture
async def server():
    srv = Server(["example.com"])
    await srv.start()
    srv.accounts.add("juliet@example.com", "wherefore")
    try:
        yield srv
    finally:
        await srv.stop()


async def test_through_tls_the_tap_reads_the_starttls_exchange_and_nothing_of_the_login(server):
    tap = await Wiretap.start("127.0.0.1", server.port)
    try:
        async with await RawClient.connect("127.0.0.1", tap.port, tls="starttls") as c:
            await c.login("juliet@example.com", "wherefore", mechanisms=("PLAIN",), resource="balcony")
            pong = await c.request("<iq type='get' id='p1' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
            assert pong.get("type") == "result"
        seen = b"".join(data for _, data in tap.pieces)
        assert b"<starttls" in tap.find(b"<starttls") and tap.find(b"<proceed") is not None
        assert {direction for direction, _ in tap.pieces} == {"C→S", "S→C"}
        assert b"mechanism=" not in seen and base64.b64encode(b"\0juliet\0wherefore") not in seen
        assert b"juliet@example.com/balcony" not in seen     # the bound JID travels inside TLS
    finally:
        await tap.close()


async def test_without_tls_the_tap_reads_a_plain_password_and_shows_each_piece(server):
    tap = await Wiretap.start("127.0.0.1", server.port)
    try:
        async with await RawClient.connect("127.0.0.1", tap.port, tls="none") as c:
            await c.login("juliet@example.com", "wherefore", mechanisms=("PLAIN",), resource="balcony")
        auth = tap.find(b"mechanism='PLAIN'")
        assert base64.b64encode(b"\0juliet\0wherefore") in auth
        lines = repr(tap).splitlines()
        assert lines[0].startswith(f"<Wiretap on 127.0.0.1:{tap.port} → 127.0.0.1:{server.port}")
        assert lines[1].startswith("C→S") and "<stream:stream" in lines[1]
        tap.clear()
        assert tap.pieces == [] and tap.find(b"PLAIN") is None
    finally:
        await tap.close()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", tap.port)


async def test_closing_the_tap_ends_the_connections_it_relays(server):
    tap = await Wiretap.start("127.0.0.1", server.port)
    c = await RawClient.connect("127.0.0.1", tap.port, tls="none")
    await c.login("juliet@example.com", "wherefore", resource="balcony")
    await tap.close()
    with pytest.raises(Exception, match="closed|ended|stream"):
        await c.recv(timeout=5)
    await c.close()
