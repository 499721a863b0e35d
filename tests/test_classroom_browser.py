"""A student joins the class from a browser: the class server's own chat page (Converse.js over wss)."""

import asyncio

import pytest

from tests.browser.jupyter import chromium_path, have_playwright, self_signed_page
from tests.peers import PEERS_DIR, need_node_package, need_program
from xmpplab.classroom import prepare_class, read_csv
from xmpplab.client import Client
from xmpplab.server import Server
from xmpplab.server.core import DEFAULT_MODULES
from xmpplab.server.modules.webchat import WebChat

pytestmark = [pytest.mark.peer, pytest.mark.timeout(180)]
DOMAIN = "class.example"


def test_assets_must_be_converse_files_or_a_url(tmp_path):
    with pytest.raises(ValueError, match="does not hold Converse.js's files"):
        WebChat(tmp_path)
    assert WebChat("https://example.org/converse").url == "https://example.org/converse/"


async def test_the_chat_page_and_its_files_are_served_and_nothing_outside_them(tmp_path):
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "converse.min.js").write_text("/* converse */")
    (tmp_path / "secret.txt").write_text("not for students")
    server = await Server([DOMAIN], http_port=0, tls=False, modules=(*DEFAULT_MODULES, WebChat(dist))).start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.http_port)

        async def get(path):
            r, w = await asyncio.open_connection("127.0.0.1", server.http_port)
            w.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.http_port}\r\n\r\n".encode())
            data = await r.read()
            w.close()
            return data.decode()

        writer.close()
        page = await get("/")
        assert page.startswith("HTTP/1.1 200") and "converse.initialize(" in page
        assert f'"websocket_url": "ws://127.0.0.1:{server.http_port}/xmpp-websocket"' in page
        assert f'"locked_domain": "{DOMAIN}"' in page and '"assets_path": "/converse/"' in page
        assert "/* converse */" in await get("/converse/converse.min.js")
        assert (await get("/converse/../secret.txt")).startswith("HTTP/1.1 404")
        assert (await get("/converse/%2e%2e/secret.txt")).startswith("HTTP/1.1 404")
    finally:
        await server.stop()


async def test_a_student_logs_in_on_the_class_chat_page_and_writes_to_a_classmate(tmp_path):
    need_program("chromium", chromium_path() is not None, "apt-get install chromium (or .ci/install-peers)")
    need_program("playwright (the Python package)", have_playwright(), "pip install -e '.[test]'")
    need_node_package("converse.js")
    dist = PEERS_DIR / "node_modules" / "converse.js" / "dist"
    server = await Server([DOMAIN], http_port=0, modules=(*DEFAULT_MODULES, "classwork", WebChat(dist))).start()
    prepare_class(server, DOMAIN, 2, tmp_path / "class.csv")
    passwords = {str(a.jid): a.password for a in read_csv(tmp_path / "class.csv")}
    bound = asyncio.get_running_loop().create_future()
    server.hook("session-bound", lambda s: s.jid.local == "student01" and not bound.done() and bound.set_result(s))
    classmate = await Client.connect(f"student02@{DOMAIN}/laptop", passwords[f"student02@{DOMAIN}"],
                                     host="127.0.0.1", port=server.port, verify_tls=False)
    try:
        async with self_signed_page() as (page, logs):
            await page.goto(f"https://127.0.0.1:{server.http_port}/")
            await page.locator("#converse-login-jid").fill("student01")  # the domain is locked to the class's
            await page.locator("#converse-login-password").fill(passwords[f"student01@{DOMAIN}"])
            await page.locator("button[type=submit]", has_text="Log in").click()
            session = await asyncio.wait_for(bound, 30)
            assert str(session.jid).startswith(f"student01@{DOMAIN}/"), "\n".join(logs[-30:])
            assert session.transport_kind == "websocket"
            # the page joins the class room by itself; a classmate on TCP joins it and sees them there
            await classmate.send_raw(f"<presence to='class@conference.{DOMAIN}/student02'>"
                                     "<x xmlns='http://jabber.org/protocol/muc'/></presence>")
            seen = await classmate.next("presence", timeout=30,
                                        from_=f"class@conference.{DOMAIN}/student01")
            assert seen["type"] != "error"
            await classmate.send_message(f"class@conference.{DOMAIN}", "hello from a laptop", type="groupchat")
            await page.locator(".chat-msg__text", has_text="hello from a laptop").first.wait_for()
    finally:
        await classmate.disconnect()
        await server.stop()
