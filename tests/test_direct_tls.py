"""XEP-0368 direct TLS: a port where TLS starts with the first byte, ALPN xmpp-client, no STARTTLS offered."""

import asyncio
import ssl

import pytest

from xmpplab.client import Client
from xmpplab.server import Server

HEADER = (b"<?xml version='1.0'?><stream:stream to='example.com' version='1.0' xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams'>")


@pytest.fixture
async def server():
    srv = await Server(["example.com"], direct_tls_port=0, recorder=(events := []).append).start()
    srv.events = events
    srv.accounts.add("juliet@example.com", "secret")
    srv.accounts.add("romeo@example.com", "secret")
    try:
        yield srv
    finally:
        await srv.stop()


async def test_tls_first_with_alpn_and_no_starttls_in_the_features(server):
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.set_alpn_protocols(["xmpp-client"])
    reader, writer = await asyncio.open_connection("127.0.0.1", server.direct_tls_port, ssl=ctx,
                                                   server_hostname="example.com")
    try:
        assert writer.get_extra_info("ssl_object").selected_alpn_protocol() == "xmpp-client"
        writer.write(HEADER)
        text = b""
        while b"</stream:features>" not in text:
            text += await asyncio.wait_for(reader.read(4096), 5)
        assert b"<mechanisms" in text and b"starttls" not in text
    finally:
        writer.close()
    opened = [e for e in server.events if e["type"] == "open" and e.get("transport") == "direct-tls"]
    assert len(opened) == 1 and any(e["type"] == "tls" and e["conn"] == opened[0]["conn"] for e in server.events)


async def test_the_ordinary_port_still_offers_starttls_without_alpn(server):
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(HEADER)
        text = b""
        while b"</stream:features>" not in text:
            text += await asyncio.wait_for(reader.read(4096), 5)
        assert b"<starttls" in text
    finally:
        writer.close()


async def test_a_client_logs_in_over_direct_tls_and_chats_with_a_starttls_one(server):
    juliet = await Client.connect("juliet@example.com/balcony", "secret", host="127.0.0.1",
                                  port=server.direct_tls_port, verify_tls=False, direct_tls=True)
    romeo = await Client.connect("romeo@example.com/orchard", "secret", host="127.0.0.1", port=server.port,
                                 verify_tls=False)
    try:
        await romeo.send_message("juliet@example.com/balcony", "through two doors")
        got = await juliet.next("message")
        assert got["body"] == "through two doors"
        conn = juliet.transcript.connections[juliet.conn]
        assert conn.tls is not None  # the client's own recording: TLS from the start
        assert not any(i.name == "starttls" for i in conn.parsed)
    finally:
        await juliet.disconnect()
        await romeo.disconnect()


def test_direct_tls_needs_tls():
    with pytest.raises(ValueError, match="direct TLS port .* needs TLS"):
        Server(["example.com"], tls=False, direct_tls_port=0)


async def test_views_name_the_transport(server):
    from xmpplab.render.summaries import connection_header_text
    from xmpplab.transcript import Transcript

    juliet = await Client.connect("juliet@example.com/balcony", "secret", host="127.0.0.1",
                                  port=server.direct_tls_port, verify_tls=False, direct_tls=True)
    await juliet.disconnect()
    transcript = Transcript.from_events(server.events)
    conn = next(c for c in transcript.connections.values() if c.transport == "direct-tls")
    assert "direct TLS" in connection_header_text(conn)
