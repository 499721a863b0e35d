"""XMPP over WebSocket (RFC 7395) and XEP-0156 discovery on the server's HTTP port.

The client here is raw (tests/ws_support.py): each test sends the messages a
browser client would and checks what comes back, message by message.
"""

import asyncio
import json
import os
import re
import signal
import sys

import pytest
from lxml import etree
from websockets.exceptions import InvalidStatus

from tests.support import RawClient, insecure_context, slix_client
from tests.ws_support import CLOSE, NS_FRAMING, OPEN, WsClient
from xmpplab.render.stream_view import connection_header_text
from xmpplab.server import Server
from xmpplab.server.limits import Limits
from xmpplab.transcript import Transcript

NS_STREAM = "http://etherx.jabber.org/streams"
NS_STREAMS = "urn:ietf:params:xml:ns:xmpp-streams"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"


async def start(**options) -> Server:
    """A server with an HTTP port, juliet and romeo (password 'secret'); plain ws:// unless tls=True."""
    options.setdefault("tls", False)
    server = await Server(["example.com", "example.net"], http_port=0, **options).start()
    for user in ("juliet@example.com", "romeo@example.net"):
        server.accounts.add(user, "secret")
    return server


@pytest.fixture
async def plain():
    server = await start(recorder=[].append)
    try:
        yield server
    finally:
        await server.stop()


async def until(condition) -> None:
    """Wait until ``condition()`` holds: the server sees a connection go once its loop reads the FIN."""
    while not condition():
        await asyncio.sleep(0.01)


def tag(el) -> str:
    return el if isinstance(el, str) else el.tag


def stream_error(el) -> str:
    assert tag(el) == f"{{{NS_STREAM}}}error", el if isinstance(el, str) else etree.tostring(el)
    return etree.QName(el[0]).localname


async def expect_error_and_close(client: WsClient, condition: str) -> None:
    """RFC 7395 sections 3.5 and 3.6: a stream error, then <close/>, then the WebSocket closes."""
    assert stream_error(await client.recv()) == condition
    assert tag(await client.recv()) == f"{{{NS_FRAMING}}}close"
    assert (await client.recv()).startswith("closed")


async def test_open_answers_open_and_features_then_close_answers_close(plain):
    client = await WsClient.open(plain)
    assert client.subprotocol == "xmpp"  # RFC 7395 3.1: the server answers with the subprotocol
    header, features = await client.open_stream("example.com")
    assert header.tag == f"{{{NS_FRAMING}}}open"
    assert header.get("from") == "example.com" and header.get("version") == "1.0" and header.get("id")
    assert features.tag == f"{{{NS_STREAM}}}features"
    assert [m.text for m in features.iter(f"{{{NS_SASL}}}mechanism")]  # loopback: login offered
    assert features.find(f"{{{NS_TLS}}}starttls") is None  # RFC 7395 3.9: never STARTTLS inside WebSocket
    await client.send(CLOSE)
    assert tag(await client.recv()) == f"{{{NS_FRAMING}}}close"
    assert await client.recv() == "closed 1000"


async def test_each_server_message_is_one_element_with_its_namespaces(plain):
    client = await WsClient.open(plain)
    await client.send(OPEN.format(to="example.com"))
    texts = [await client.recv_text(), await client.recv_text()]
    assert texts[0].startswith(f'<open xmlns="{NS_FRAMING}"')
    assert texts[1].startswith(f'<stream:features xmlns:stream="{NS_STREAM}"')  # RFC 7395 3.3.3: declared
    await client.close()


async def test_handshake_without_the_xmpp_subprotocol_is_refused(plain):
    with pytest.raises(InvalidStatus) as refused:
        await WsClient.open(plain, subprotocols=())
    assert refused.value.response.status_code == 400
    with pytest.raises(InvalidStatus):
        await WsClient.open(plain, subprotocols=("chat",))


async def test_cross_origin_handshake_is_accepted(plain):
    # a web client's page (Converse.js) is served from elsewhere than the XMPP server
    client = await WsClient.open(plain, origin="http://127.0.0.1:1")
    header, _ = await client.open_stream()
    assert header.tag == f"{{{NS_FRAMING}}}open"
    await client.close()


async def test_a_message_that_is_not_one_complete_element_gets_a_stream_error_then_close(plain):
    client = await WsClient.open(plain)
    await client.open_stream()
    await client.send("<message xmlns='jabber:client' to='romeo@example.net'><body>a stanza split ")
    await expect_error_and_close(client, "not-well-formed")


async def test_a_stanza_split_across_two_messages_is_refused(plain):
    # RFC 7395 3.3.3: one message, one complete element; the second half never completes the first
    client = await WsClient.open(plain)
    await client.login("juliet@example.com")
    await client.send("<message xmlns='jabber:client' to='romeo@example.net'>")
    await expect_error_and_close(client, "not-well-formed")


async def test_two_elements_in_one_message_are_refused(plain):
    client = await WsClient.open(plain)
    await client.send(OPEN.format(to="example.com") + OPEN.format(to="example.com"))
    header = await client.recv()  # the server opens its stream to say why it closes it
    assert header.tag == f"{{{NS_FRAMING}}}open"
    await expect_error_and_close(client, "not-well-formed")


async def test_a_binary_message_is_refused(plain):
    client = await WsClient.open(plain)
    await client.open_stream()
    await client.send(b"<presence xmlns='jabber:client'/>")
    await expect_error_and_close(client, "bad-format")


async def test_restricted_xml_is_refused_as_over_tcp(plain):
    client = await WsClient.open(plain)
    await client.open_stream()
    await client.send("<!-- a comment -->")
    await expect_error_and_close(client, "restricted-xml")
    client = await WsClient.open(plain)
    await client.open_stream()
    await client.send("<message xmlns='jabber:client'><!-- a comment --></message>")
    await expect_error_and_close(client, "restricted-xml")


async def test_a_tcp_style_stream_header_is_refused(plain):
    client = await WsClient.open(plain)
    await client.send("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
                      "to='example.com' version='1.0'>")
    await client.recv()  # the server's <open/>
    await expect_error_and_close(client, "not-well-formed")


async def test_stanzas_route_between_websocket_and_tcp(plain):
    ws = await WsClient.open(plain)
    romeo = await ws.login("romeo@example.net", resource="browser")
    tcp = await RawClient.open(plain.port)
    juliet = await tcp.login("juliet@example.com/balcony")
    try:
        await ws.send(f"<message xmlns='jabber:client' to='{juliet}' type='chat' id='m1'><body>hi</body></message>")
        got = await tcp.recv()
        assert got.get("from") == romeo and got.findtext("{jabber:client}body") == "hi"
        await tcp.send(f"<message to='{romeo}' type='chat' id='m2'><body>hello, web</body></message>")
        text = await ws.recv_text()
        assert text.startswith("<message xmlns=\"jabber:client\"")  # RFC 7395 3.3.3: namespace declared
        got = etree.fromstring(text.encode())
        assert got.get("from") == juliet and got.findtext("{jabber:client}body") == "hello, web"
    finally:
        await tcp.close()
        await ws.close()


async def test_wss_with_tls_counts_as_encrypted_and_routes_to_a_slixmpp_client():
    server = await start(tls=True, limits=Limits(local_networks=()))  # every peer remote: TLS first
    try:
        ws = await WsClient.open(server)
        _, features = await ws.open_stream("example.com")
        assert features.find(f"{{{NS_TLS}}}starttls") is None  # TLS is below the WebSocket (RFC 7395 3.9)
        assert [m.text for m in features.iter(f"{{{NS_SASL}}}mechanism")]  # so login is offered, remote or not
        await ws.close()
        ws = await WsClient.open(server)
        romeo = await ws.login("romeo@example.net")
        juliet = await slix_client(server.port, "juliet@example.com/balcony")
        try:
            await ws.send("<message xmlns='jabber:client' to='juliet@example.com/balcony' type='chat'>"
                          "<body>over wss</body></message>")
            msg = await asyncio.wait_for(juliet.messages.get(), 10)
            assert str(msg["from"]) == romeo and msg["body"] == "over wss"
        finally:
            await juliet.close()
            await ws.close()
    finally:
        await server.stop()


async def test_plain_ws_off_loopback_is_refused_like_plain_tcp():
    # Limits(local_networks=()) makes the loopback client a remote peer: without TLS it may not log in
    server = await start(limits=Limits(local_networks=()))
    try:
        ws = await WsClient.open(server)
        _, features = await ws.open_stream()
        assert len(features) == 0  # nothing offered: no STARTTLS inside WebSocket, no login in clear
        await ws.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldABzZWNyZXQ=</auth>")
        await expect_error_and_close(ws, "policy-violation")
    finally:
        await server.stop()


async def test_a_message_over_the_stanza_size_limit_closes_the_websocket():
    server = await start(max_stanza_bytes=4096)
    try:
        ws = await WsClient.open(server)
        await ws.login("romeo@example.net")
        await ws.send(f"<message xmlns='jabber:client' to='juliet@example.com'><body>{'x' * 5000}</body></message>")
        assert await ws.recv() == "closed 1009"  # RFC 6455 7.4.1: message too big
    finally:
        await server.stop()


async def test_connections_per_address_count_websocket_and_tcp_together():
    server = await start(limits=Limits(limit_local=True, connections_per_address=2))
    try:
        tcp = await RawClient.open(server.port)
        first = await WsClient.open(server)
        await first.open_stream()
        third = await WsClient.open(server)
        assert tag(await third.recv()) == f"{{{NS_FRAMING}}}open"
        await expect_error_and_close(third, "policy-violation")
        await first.close()
        await tcp.close()
    finally:
        await server.stop()


async def test_idle_http_connections_count_as_not_logged_in():
    server = await start(limits=Limits(limit_local=True, unauthenticated_per_address=2))
    try:
        idle = [await asyncio.open_connection("127.0.0.1", server.http_port) for _ in range(2)]
        reader, writer = await asyncio.open_connection("127.0.0.1", server.http_port)
        assert await asyncio.wait_for(reader.read(), 5) == b""  # the third is closed at once
        writer.close()
        for _, w in idle:
            w.close()
            await w.wait_closed()
        await asyncio.wait_for(until(lambda: not server.throttle.unauthenticated.count("127.0.0.1")), 5)
        client = await WsClient.open(server)  # room again; an upgraded connection is counted by its session
        header, features = await client.open_stream()
        assert features.tag == f"{{{NS_STREAM}}}features"
        assert server.throttle.unauthenticated.count("127.0.0.1") == 1
        await client.close()
    finally:
        await server.stop()


async def test_bytes_per_second_apply_to_websocket_input():
    server = await start(limits=Limits(limit_local=True, bytes_per_second=2000))
    try:
        ws = await WsClient.open(server)
        await ws.login("romeo@example.net")
        loop = asyncio.get_running_loop()
        started = loop.time()
        pad = "x" * 400
        for i in range(8):  # 8 pings of about 500 bytes: 4000 bytes at 2000 per second, a burst of 2000
            await ws.send(f"<iq xmlns='jabber:client' type='get' id='p{i}' to='example.net' pad='{pad}'>"
                          "<ping xmlns='urn:xmpp:ping'/></iq>")
        answers = [await ws.recv(10) for _ in range(8)]
        assert [a.get("id") for a in answers] == [f"p{i}" for i in range(8)]
        assert loop.time() - started >= 0.5  # the bytes beyond the burst waited until they were earned
        await ws.close()
    finally:
        await server.stop()


async def test_websocket_sessions_are_recorded_and_labelled(plain):
    events = []
    plain.recorder = events.append
    ws = await WsClient.open(plain)
    await ws.login("romeo@example.net")
    await ws.send("<presence xmlns='jabber:client'/>")
    await ws.send("<iq xmlns='jabber:client' type='get' id='ping1'><ping xmlns='urn:xmpp:ping'/></iq>")
    await ws.recv()  # the answer to the ping: everything before it is recorded
    await ws.close()
    opened = [e for e in events if e["type"] == "open"]
    assert opened[0]["transport"] == "websocket" and opened[0]["kind"] == "c2s"
    transcript = Transcript.from_events(events)
    conn = next(iter(transcript.connections.values()))
    assert conn.transport == "websocket" and conn.jid.startswith("romeo@example.net/")
    assert "WebSocket" in connection_header_text(conn)
    assert "over websocket" in repr(conn)
    # the recording holds the XML stream the session saw, so it parses like a TCP one
    assert [i.name for i in conn.parsed if i.kind.value == "stanza"][-1] == "iq"


async def test_host_meta_points_at_the_websocket_endpoint(plain):
    for path, check in (("/.well-known/host-meta", "xrd"), ("/.well-known/host-meta.json", "json")):
        reader, writer = await asyncio.open_connection("127.0.0.1", plain.http_port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{plain.http_port}\r\n\r\n".encode())
        response = await asyncio.wait_for(reader.read(), 5)  # the server closes after one answer
        writer.close()
        head, _, body = response.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert b"Access-Control-Allow-Origin: *" in head
        url = f"ws://127.0.0.1:{plain.http_port}/xmpp-websocket"
        if check == "json":
            assert json.loads(body) == {"links": [{"rel": "urn:xmpp:alt-connections:websocket", "href": url}]}
        else:
            link = etree.fromstring(body).find("{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link")
            assert link.get("rel") == "urn:xmpp:alt-connections:websocket" and link.get("href") == url


async def test_host_meta_over_tls_points_at_wss():
    server = await start(tls=True)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.http_port, ssl=insecure_context())
        writer.write(f"GET /.well-known/host-meta.json HTTP/1.1\r\nHost: localhost:{server.http_port}\r\n\r\n".encode())
        body = (await asyncio.wait_for(reader.read(), 5)).partition(b"\r\n\r\n")[2]
        writer.close()
        assert json.loads(body)["links"][0]["href"] == f"wss://localhost:{server.http_port}/xmpp-websocket"
    finally:
        await server.stop()


async def test_other_paths_are_not_found(plain):
    reader, writer = await asyncio.open_connection("127.0.0.1", plain.http_port)
    writer.write(b"GET /elsewhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    response = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert response.startswith(b"HTTP/1.1 404")


def test_framing_cuts_a_restart_in_the_middle_of_one_write_into_messages():
    from xmpplab.server.ws_framing import Framing

    header = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/"
              "streams' from='example.com' id='{}' version='1.0' xml:lang='en'>")
    framing = Framing()
    first = framing.outgoing((header.format("a") + "<stream:features/>").encode())
    assert first == [f'<open xmlns="{NS_FRAMING}" from="example.com" id="a" version="1.0" xml:lang="en"/>',
                     f'<stream:features xmlns:stream="{NS_STREAM}"/>']
    # SASL success and the restarted stream's header left in one write (RFC 6120 6.4.6, RFC 7395 3.7)
    second = framing.outgoing((f"<success xmlns='{NS_SASL}'/>" + header.format("b") + "<stream:features/>").encode())
    assert second == [f'<success xmlns="{NS_SASL}"/>',
                      f'<open xmlns="{NS_FRAMING}" from="example.com" id="b" version="1.0" xml:lang="en"/>',
                      f'<stream:features xmlns:stream="{NS_STREAM}"/>']


def test_framing_turns_open_into_a_stream_header_with_its_attributes():
    from xmpplab.server.ws_framing import Framing

    header = Framing().incoming("<?xml version='1.0'?> <open xmlns='urn:ietf:params:xml:ns:xmpp-framing' "
                                "to='example.com' version='1.0' xml:lang='fr' id='x&apos;y'/>")
    assert header == (b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
                      b"to='example.com' id='x&apos;y' version='1.0' xml:lang='fr'>")
    assert Framing().incoming("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>") == b"</stream:stream>"
    assert Framing().incoming(" ") == b""  # whitespace: nothing for the session


def test_the_framing_examples_in_the_docstrings_hold():
    import doctest

    from xmpplab.server import ws_framing

    assert doctest.testmod(ws_framing).failed == 0


async def test_http_port_is_checked_and_reported():
    with pytest.raises(ValueError, match="HTTP port"):
        Server(["example.com"], http_port=70000)
    server = await Server(["example.com"], tls=False).start()
    try:
        assert server.http_port is None  # off unless asked for
    finally:
        await server.stop()


async def test_xmpplab_serve_http_port_serves_browser_clients_and_records_them(tmp_path):
    record = tmp_path / "streams.jsonl"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "xmpplab", "serve", "--port", "0", "--http-port", "0", "--domain", "example.com",
        "--user", "juliet@example.com:secret", "--record", str(record),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        lines = []
        while not lines or "Ctrl-C" not in lines[-1]:
            lines.append((await asyncio.wait_for(proc.stdout.readline(), 30)).decode())
            assert lines[-1], "".join(lines)
        url = re.search(r"browser clients connect to (wss://127\.0\.0\.1:\d+/xmpp-websocket)", "".join(lines))
        assert url, "".join(lines)
        client = await WsClient.connect(url.group(1))
        assert await client.login("juliet@example.com", resource="cli") == "juliet@example.com/cli"
        await client.send(CLOSE)
        assert tag(await client.recv()) == f"{{{NS_FRAMING}}}close"
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    [conn] = Transcript.load(record).connections.values()
    assert conn.transport == "websocket" and conn.jid == "juliet@example.com/cli" and conn.tls


async def test_a_websocket_client_that_does_not_read_is_closed_with_policy_violation():
    import socket

    from xmpplab.server.limits import KiB
    from xmpplab.server.storage import RosterItem

    events = []
    server = await start(limits=Limits(max_unsent_bytes=64 * KiB, unsent_timeout=1.0), recorder=events.append)
    for i in range(1000):  # a roster answer of about 50 KB
        server.storage.put_item("romeo@example.net", RosterItem(contact=f"contact{i:05}@example.com"))
    closed = asyncio.Event()
    server.hook("session-closed", lambda session: closed.set())
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # what it does not read stays in the server
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.http_port))
        client = await WsClient.connect(f"ws://127.0.0.1:{server.http_port}/xmpp-websocket", sock=sock,
                                        max_queue=1)  # the client library stops reading once one is queued
        await client.login("romeo@example.net")
        for i in range(200):  # 10 MB of answers that are never read
            await client.send(f"<iq xmlns='jabber:client' type='get' id='r{i}'><query xmlns='jabber:iq:roster'/></iq>")
        await asyncio.wait_for(closed.wait(), 30)
        sent = "".join(e["data"] for e in events if e["type"] == "data" and e["dir"] == "out")
        assert "<policy-violation" in sent  # RFC 6120 4.9.3.14, as over TCP
        client.ws.transport.abort()
    finally:
        await server.stop()


async def test_the_routing_graph_labels_a_websocket_session_live_and_recorded():
    """The views show a WebSocket session like a TCP one, labelled as WebSocket (issue 11)."""
    from xmpplab.render.graph import routing_graph
    events = []
    server = await Server(["example.com"], http_port=0, tls=False, recorder=events.append).start()
    try:
        server.accounts.add("romeo@example.com", "secret")
        ws = await WsClient.open(server)
        try:
            await ws.login("romeo@example.com", "secret", resource="browser")
            live = routing_graph(server).dot()
            assert "c2s over WebSocket" in live
        finally:
            await ws.close()
    finally:
        await server.stop()
    recorded = routing_graph(Transcript.from_events(events)).dot()
    assert "c2s over WebSocket" in recorded
