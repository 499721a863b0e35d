"""Converse.js shows a room's history again after a reload: it reads it from the room's archive (XEP-0313 on rooms).

Converse.js (npm ``converse.js``) runs in headless Chromium over ``wss://`` (RFC 7395), logged in as romeo, and
enters the garden; juliet, on xmpplab's own TCP client, made the room (with no XEP-0045 history at all,
``muc#maxhistoryfetch`` 0, so nothing can come back that way) and talks in it. The page is then reloaded with the
browser's storage emptied, so nothing can come from Converse.js's cache: the earlier messages must come back from
the room's archive, and the server's recording shows the new connection's archive query to the room and its results.

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
ROOM = "garden@conference.example.com"
#: Run before the page's own scripts on every load: Converse.js starts with nothing cached.
FORGET = "try { sessionStorage.clear(); localStorage.clear(); } catch (e) {}"
SAID = ("Good morrow, cousin.", "Is the day so young?")


async def juliet_makes_the_garden(server) -> Client:
    juliet = await Client.connect("juliet@example.com/balcony", "secret", host="127.0.0.1", port=server.port,
                                  verify_tls=False)
    await juliet.send_raw(f"<presence to='{ROOM}/juliet'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
    await juliet.iq(f"<iq type='set' to='{ROOM}'><query xmlns='http://jabber.org/protocol/muc#owner'>"
                    "<x xmlns='jabber:x:data' type='submit'><field var='muc#maxhistoryfetch'><value>0</value></field>"
                    "</x></query></iq>")
    return juliet


async def test_converse_shows_a_rooms_archive_after_a_reload(converse_site):  # noqa: F811
    need_program("chromium", chromium_path() is not None, "apt-get install chromium (or .ci/install-peers)")
    need_program("playwright (the Python package)", have_playwright(), "pip install -e '.[test]'")
    from playwright.async_api import expect

    events = []
    server = await Server(["example.com", "example.net"], tls=True, http_port=0, recorder=events.append).start()
    for user in ("juliet@example.com", "romeo@example.net"):
        server.accounts.add(user, "secret")
    juliet = await juliet_makes_the_garden(server)
    url = converse_site(romeo_settings(server))
    try:
        async with self_signed_page() as (page, logs):
            await page.add_init_script(FORGET)

            async def log_in_and_enter_the_garden():
                try:
                    await page.wait_for_function("window.xmpplab && window.xmpplab.connected === true")
                except Exception as exc:
                    raise AssertionError(f"Converse.js did not connect: {exc}\n" + "\n".join(logs[-40:])) from None
                await page.evaluate(f"""async () => {{
                    await window.xmpplab.api.rooms.open("{ROOM}", {{nick: "romeo"}});
                }}""")

            await page.goto(url)
            await log_in_and_enter_the_garden()
            await expect(page.locator(".occupant-nick", has_text="juliet").first).to_be_attached(timeout=30_000)
            for text in SAID:
                await juliet.send_message(ROOM, text, type="groupchat")
            for text in SAID:  # Converse.js receives them as they are said
                await expect(page.locator(".chat-msg__text", has_text=text)).to_be_visible(timeout=30_000)
            first_connections = {e["conn"] for e in events if e["type"] == "open"}

            await page.reload()  # storage emptied again (FORGET): only the room's archive can give the history back
            await log_in_and_enter_the_garden()
            for text in SAID:
                await expect(page.locator(".chat-msg__text", has_text=text)).to_be_visible(timeout=30_000)
    finally:
        await juliet.disconnect()
        await server.stop()
    # the history came from the room's archive, on the reloaded page's new connection
    t = Transcript.from_events(events, recorded_by="server")
    later = [c for c in t.connections.values() if c.id not in first_connections and c.jid
             and c.jid.startswith("romeo@example.net/")]
    assert later, "the reloaded page made no new connection as romeo"
    queries = [i for c in later for i in c.stanzas(kind="iq", type="set", direction="C→S")
               if i.payload_ns == NS_MAM and i.element.get("to") == ROOM]
    assert queries, "the reloaded Converse.js sent no archive query to the room"
    results = [i for c in later for i in c.stanzas(kind="message", direction="S→C")
               if i.element.find(f"{{{NS_MAM}}}result") is not None and i.element.get("from") == ROOM]
    archived = " ".join(i.text for i in results)
    assert all(text in archived for text in SAID), archived[:2000]
