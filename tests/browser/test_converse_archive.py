"""Converse.js shows the history again after a reload: it reads it from the server's archive (XEP-0313, issue 14).

Converse.js (npm ``converse.js``) runs in headless Chromium over ``wss://`` (RFC 7395), logged in as romeo;
juliet, on xmpplab's own TCP client, writes to him. The page is then reloaded with the browser's storage
emptied, so nothing can come from Converse.js's cache: the earlier messages must come back from the archive,
and the server's recording shows the new connection's archive query and the results it got.

It skips with the reason when Node's packages, Chromium or playwright are missing, and fails instead under
``XMPPLAB_REQUIRE_PEERS=1`` (CI, after ``.ci/install-peers``).
"""

import pytest

from tests.browser.converse import converse_site, romeo_settings  # noqa: F401 - a fixture
from tests.browser.jupyter import chromium_path, have_playwright, self_signed_page
from tests.peers import need_program
from xmpplab.client import Client
from xmpplab.server import Server
from xmpplab.transcript import Transcript

pytestmark = [pytest.mark.peer, pytest.mark.timeout(180)]

NS_MAM = "urn:xmpp:mam:2"
#: Run before the page's own scripts on every load: Converse.js starts with nothing cached.
FORGET = "try { sessionStorage.clear(); localStorage.clear(); } catch (e) {}"
SAID = ("Art thou not Romeo?", "and a Montague?")


async def test_converse_shows_the_archive_after_a_reload(converse_site):  # noqa: F811
    need_program("chromium", chromium_path() is not None, "apt-get install chromium (or .ci/install-peers)")
    need_program("playwright (the Python package)", have_playwright(), "pip install -e '.[test]'")
    from playwright.async_api import expect

    events = []
    server = await Server(["example.com", "example.net"], tls=True, http_port=0, recorder=events.append).start()
    for user in ("juliet@example.com", "romeo@example.net"):
        server.accounts.add(user, "secret")
    juliet = await Client.connect("juliet@example.com/balcony", "secret", host="127.0.0.1", port=server.port,
                                  verify_tls=False)
    url = converse_site(romeo_settings(server))
    try:
        async with self_signed_page() as (page, logs):
            await page.add_init_script(FORGET)

            async def log_in_and_open_the_chat():
                try:
                    await page.wait_for_function("window.xmpplab && window.xmpplab.connected === true")
                except Exception as exc:
                    raise AssertionError(f"Converse.js did not connect: {exc}\n" + "\n".join(logs[-40:])) from None
                # PITFALLS.md: api.chats.open() waits forever for a JID that is not a contact
                await page.evaluate("""async () => {
                    const api = window.xmpplab.api;
                    if (!api.contacts.get) { return; }
                    const known = await api.contacts.get("juliet@example.com");
                    if (!known) { await api.contacts.add({jid: "juliet@example.com", name: "Juliet"}, true, false); }
                    await api.chats.open("juliet@example.com");
                }""")

            await page.goto(url)
            await log_in_and_open_the_chat()
            for text in SAID:
                await juliet.send_message("romeo@example.net", text)
            for text in SAID:  # Converse.js receives them as they are sent
                await expect(page.locator(".chat-msg__text", has_text=text)).to_be_visible(timeout=30_000)
            first_connections = {e["conn"] for e in events if e["type"] == "open"}

            await page.reload()  # storage emptied again (FORGET): only the server can give the history back
            await log_in_and_open_the_chat()
            for text in SAID:
                await expect(page.locator(".chat-msg__text", has_text=text)).to_be_visible(timeout=30_000)
    finally:
        await juliet.disconnect()
        await server.stop()
    # the history came from the archive, on the reloaded page's new connection
    t = Transcript.from_events(events, recorded_by="server")
    later = [c for c in t.connections.values() if c.id not in first_connections and c.jid
             and c.jid.startswith("romeo@example.net/")]
    assert later, "the reloaded page made no new connection as romeo"
    queries = [i for c in later for i in c.stanzas(kind="iq", type="set", direction="C→S")
               if i.payload_ns == NS_MAM]
    assert queries, "the reloaded Converse.js sent no archive query"
    results = [i for c in later for i in c.stanzas(kind="message", direction="S→C")
               if i.element.find(f"{{{NS_MAM}}}result") is not None]
    archived = " ".join(i.text for i in results)
    assert all(text in archived for text in SAID), archived[:2000]
