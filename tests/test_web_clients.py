"""Web XMPP clients nobody here wrote, over the server's WebSocket endpoint (RFC 7395), talking to a TCP client.

- StanzaJS 12 (npm ``stanza``) from Node: it has no TCP transport, only WebSocket, as in a browser. Over
  ``wss://`` (the server's TLS, self-signed: not verified by the script).
- Converse.js 14 (npm ``converse.js``) in headless Chromium (Debian's), driven by the playwright Python
  package: its ``dist/`` is served from a local HTTP server of its own, so the page's origin differs from
  the WebSocket's (a cross-origin handshake). Over ``wss://`` too (Chromium told to accept the
  self-signed certificate).

On the other side is a TCP client: xmpplab's own (slixmpp), logged in with STARTTLS.
They skip with the reason when Node, the npm packages (``.ci/install-peers``), Chromium or playwright are
missing, and fail instead under ``XMPPLAB_REQUIRE_PEERS=1``.
"""

import asyncio

import pytest

from tests.browser.converse import converse_site, romeo_settings  # noqa: F401 - a fixture
from tests.browser.jupyter import chromium_path, have_playwright, self_signed_page
from tests.peers import need_node_package, need_program, run_stanza_client
from tests.ws_support import ws_url
from xmpplab.client import Client
from xmpplab.server import Server

pytestmark = [pytest.mark.peer, pytest.mark.timeout(180)]


async def start(tls: bool) -> Server:
    server = await Server(["example.com", "example.net"], tls=tls, http_port=0, recorder=[].append).start()
    for user in ("juliet@example.com", "romeo@example.net"):
        server.accounts.add(user, "secret")
    return server


async def test_stanzajs_over_wss_exchanges_messages_with_a_tcp_client():
    need_node_package("stanza")
    server = await start(tls=True)
    events = []
    server.recorder = events.append
    juliet = await Client.connect("juliet@example.com/balcony", "secret", host="127.0.0.1", port=server.port,
                                  verify_tls=False)
    try:
        # romeo (StanzaJS, WebSocket) writes first; juliet (TCP) answers; romeo waits for her answer
        peer = asyncio.create_task(run_stanza_client(
            service=ws_url(server), domain="example.net", username="romeo", password="secret", resource="web",
            send_to="juliet@example.com/balcony", body="hello from StanzaJS", expect_from="juliet@example.com",
            timeout=20))
        got = await juliet.next("message", timeout=25)
        assert got["body"] == "hello from StanzaJS"
        assert str(got["from"]) == "romeo@example.net/web"
        await juliet.send_message(str(got["from"]), "hello, StanzaJS")
        result = await peer
        assert result.returncode == 0, result.describe()
        assert result.event("online")["jid"] == "romeo@example.net/web"
        assert any(e.get("body") == "hello, StanzaJS" for e in result.events if e["event"] == "message"), \
            result.describe()
    finally:
        await juliet.disconnect()
        await server.stop()
    # the recording says which connection was the WebSocket one, and what StanzaJS negotiated over it
    web = [e for e in events if e["type"] == "open" and e.get("transport") == "websocket"]
    assert len(web) == 1
    assert any(e["type"] == "tls" and e["conn"] == web[0]["conn"] for e in events)  # wss counts as TLS


async def test_converse_in_chromium_over_websocket_exchanges_messages_with_a_tcp_client(converse_site):  # noqa: F811
    need_program("chromium", chromium_path() is not None, "apt-get install chromium (or .ci/install-peers)")
    need_program("playwright (the Python package)", have_playwright(), "pip install -e '.[test]'")
    from playwright.async_api import expect

    server = await start(tls=True)
    juliet = await Client.connect("juliet@example.com/balcony", "secret", host="127.0.0.1", port=server.port,
                                  verify_tls=False)
    url = converse_site(romeo_settings(server))
    try:
        async with self_signed_page() as (page, logs):  # wss:// with the test server's certificate
            await page.goto(url)
            try:
                await page.wait_for_function("window.xmpplab.connected === true")
            except Exception as exc:
                raise AssertionError(f"Converse.js did not connect: {exc}\n" + "\n".join(logs[-40:])) from None
            # PITFALLS.md: api.chats.create() waits forever for a JID that is not a contact
            await page.evaluate("""async () => {
                const api = window.xmpplab.api;
                await api.contacts.add({jid: "juliet@example.com", name: "Juliet"}, true, false);
                await api.chats.open("juliet@example.com");
            }""")
            textarea = page.locator("textarea.chat-textarea")
            await textarea.fill("hello from Converse.js")
            await textarea.press("Enter")
            # chat states (XEP-0085, no body) come first: wait for the one with a body
            got = await juliet.next("message", timeout=30, predicate=lambda m: m["body"])
            assert got["body"] == "hello from Converse.js"
            assert str(got["from"]).startswith("romeo@example.net/")
            await juliet.send_message("romeo@example.net", "hello, Converse.js")
            await expect(page.locator(".chat-msg__text", has_text="hello, Converse.js")).to_be_visible(
                timeout=30_000)
    finally:
        await juliet.disconnect()
        await server.stop()
