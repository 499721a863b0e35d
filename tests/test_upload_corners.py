"""XEP-0363 corners: a broken-off upload, 100-continue, when to retry, open slots, removed accounts, restarts."""

import asyncio
import datetime
import time
from urllib.parse import urlsplit

from tests.support import RawClient
from tests.support_stanzas import condition
from tests.support_upload import U, http, slot_request, slot_urls
from xmpplab.server import Server
from xmpplab.server.upload_store import OPEN_SLOTS_PER_ACCOUNT, SLOT_SECONDS


async def _juliet(server):
    c = await RawClient.open(server.port)
    await c.login("juliet@example.com")
    return c


async def test_an_upload_cut_off_leaves_nothing_and_100_continue_is_answered():
    server = await Server(["example.com"], tls=False, http_port=0).start()
    server.accounts.add("juliet@example.com", "secret")
    try:
        c = await _juliet(server)
        put_url, headers, get_url = slot_urls(await c.request(slot_request(size=10)))
        parts = urlsplit(put_url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        writer.write(f"PUT {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: {headers['Authorization']}"
                     "\r\nContent-Type: image/jpeg\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n".encode())
        assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5) == b"HTTP/1.1 100 Continue\r\n\r\n"
        part = server.uploads.folder / f"{get_url.split('/')[-2]}.part"
        assert part.exists()  # the body goes to disk as it comes
        writer.write(b"half")
        writer.write_eof()  # the client gives up half-way
        assert await asyncio.wait_for(reader.read(), 5) == b""  # the server hangs up without an answer
        writer.close()
        assert not part.exists()
        assert (await http(get_url))[0] == 404
        # the slot is free again: the whole file goes up
        assert (await http(put_url, "PUT", {**headers, "Content-Type": "image/jpeg"}, b"0123456789"))[0] == 201
        assert (await http(get_url))[2] == b"0123456789"
        await c.close()
    finally:
        await server.stop()


async def test_quota_retry_is_when_the_oldest_slot_expires_and_open_slots_are_bounded():
    from tests.test_upload import upload_modules

    server = await Server(["example.com"], tls=False, http_port=0,
                          modules=upload_modules(quota_bytes=100)).start()
    server.accounts.add("juliet@example.com", "secret")
    try:
        c = await _juliet(server)
        asked = time.time()
        await c.request(slot_request(size=60, id="a"))
        full = await c.request(slot_request(size=60, id="b"))
        assert condition(full) == "resource-constraint"
        stamp = datetime.datetime.fromisoformat(full.find(f"{{jabber:client}}error/{U}retry").get("stamp"))
        assert abs(stamp.timestamp() - (asked + SLOT_SECONDS)) < 2  # the 60-byte slot expires then
        for i in range(OPEN_SLOTS_PER_ACCOUNT - 1):
            assert (await c.request(slot_request(size=1, id=f"s{i}"))).get("type") == "result"
        many = await c.request(slot_request(size=1, id="over"))
        assert condition(many) == "resource-constraint" and "open slots" in many.findtext(".//{*}text")
        await c.close()
    finally:
        await server.stop()


async def test_a_removed_account_takes_its_files_along_and_a_restart_tidies_up(tmp_path):
    db = str(tmp_path / "lab.sqlite")
    server = await Server(["example.com"], tls=False, http_port=0, db=db).start()
    server.accounts.add("juliet@example.com", "secret")
    try:
        c = await _juliet(server)
        urls = []
        for i in range(2):
            put_url, headers, get_url = slot_urls(await c.request(slot_request(f"f{i}.jpg", 3, id=f"u{i}")))
            assert (await http(put_url, "PUT", {**headers, "Content-Type": "image/jpeg"}, b"abc"))[0] == 201
            urls.append(get_url)
        await c.close()
        folder = server.uploads.folder
    finally:
        await server.stop()
    (folder / urls[0].split("/")[-2]).unlink()  # a file lost while the server was down
    (folder / "junk.part").write_bytes(b"half an upload")
    server = await Server(["example.com"], tls=False, http_port=0, db=db).start()
    try:
        assert [f.name for f in server.uploads.files()] == ["f1.jpg"]
        assert sorted(p.name for p in folder.iterdir()) == [urls[1].split("/")[-2]]
        server.accounts.remove("juliet@example.com")
        assert server.uploads.files() == [] and list(folder.iterdir()) == []
    finally:
        await server.stop()
