"""XEP-0363 through real clients: slixmpp's xep_0363 plugin uploads, another client downloads over GET."""

import asyncio
import io

import aiohttp
import pytest

from tests.support import RawClient, insecure_context, slix_client
from tests.support_upload import http, slot_request, slot_urls
from xmpplab.server import Server

PICTURE = bytes(range(256)) * 40  # 10 KiB that are not text


def trusting_session(*args, **kw):
    """slixmpp's upload session, trusting the test server's self-signed certificate (as its XMPP stream does)."""
    return aiohttp.ClientSession(*args, connector=aiohttp.TCPConnector(ssl=insecure_context()), **kw)


@pytest.mark.timeout(60)
async def test_slixmpp_uploads_a_picture_and_romeo_downloads_it(monkeypatch):
    monkeypatch.setattr("slixmpp.plugins.xep_0363.http_upload.ClientSession", trusting_session)
    server = await Server(["example.com", "example.net"], http_port=0).start()  # TLS on: https URLs
    server.accounts.add("juliet@example.com", "secret")
    server.accounts.add("romeo@example.net", "secret")
    plugins = ("xep_0030", "xep_0128", "xep_0363", "xep_0066")
    juliet = romeo = None
    try:
        juliet = await slix_client(server.port, "juliet@example.com/balcony", plugins=plugins)
        romeo = await slix_client(server.port, "romeo@example.net/orchard", plugins=plugins)
        url = await juliet.plugin["xep_0363"].upload_file("balcony.png", size=len(PICTURE),
                                                          content_type="image/png", input_file=io.BytesIO(PICTURE))
        assert url.startswith(f"https://127.0.0.1:{server.http_port}/upload/") and url.endswith("/balcony.png")
        assert juliet.plugin["xep_0363"].upload_service == "upload.example.com"  # found through disco (§3)
        message = juliet.make_message("romeo@example.net", url, mtype="chat")
        message["oob"]["url"] = url  # XEP-0066, as Conversations and Converse.js share a file
        message.send()
        got = await asyncio.wait_for(romeo.messages.get(), 10)
        assert got["oob"]["url"] == url
        async with trusting_session() as web, web.get(got["oob"]["url"]) as response:
            assert response.status == 200 and response.headers["Content-Type"] == "image/png"
            assert await response.read() == PICTURE
    finally:
        for client in (juliet, romeo):
            if client is not None:
                await client.close()
        await server.stop()


async def test_with_tls_the_slot_urls_are_https_and_the_upload_goes_over_tls():
    server = await Server(["example.com"], http_port=0).start()  # TLS on: the HTTP port speaks TLS only
    server.accounts.add("juliet@example.com", "secret")
    try:
        c = await RawClient.open(server.port)
        await c.login("juliet@example.com", tls=True)
        put_url, headers, get_url = slot_urls(await c.request(slot_request(size=5)))
        assert put_url.startswith(f"https://127.0.0.1:{server.http_port}/upload/")
        ctx = insecure_context()
        status, _, _ = await http(put_url, "PUT", {**headers, "Content-Type": "image/jpeg"}, b"hello", context=ctx)
        assert status == 201
        assert (await http(get_url, context=ctx))[2] == b"hello"
        await c.close()
    finally:
        await server.stop()
