"""XEP-0363 HTTP File Upload: the service in disco, slots and their refusals, PUT and GET on the HTTP port."""

import pytest

from tests.support import RawClient
from tests.support_stanzas import condition, online
from tests.support_upload import U, http, slot_request, slot_urls
from xmpplab.server import Server
from xmpplab.server.core import DEFAULT_MODULES
from xmpplab.server.modules.upload import NS_UPLOAD, Upload
from xmpplab.xml import NS_DISCO_INFO, NS_DISCO_ITEMS

DATA = "{jabber:x:data}"


def upload_modules(**settings):
    """The default modules with an upload service of these settings."""
    return (*[m for m in DEFAULT_MODULES if m != "upload"], Upload(**settings))


@pytest.fixture
async def web():
    """A plain-HTTP (loopback, no TLS) server with an HTTP port, small limits, and juliet and romeo."""
    srv = Server(["example.com", "example.net"], tls=False, http_port=0,
                 modules=upload_modules(max_file_bytes=1000, quota_bytes=2500))
    await srv.start()
    for user in ("juliet@example.com", "romeo@example.net", "nurse@example.com"):
        srv.accounts.add(user, "secret")
    opened = []

    async def raw():
        c = await RawClient.open(srv.port)
        opened.append(c)
        return c

    srv.raw = raw
    try:
        yield srv
    finally:
        for c in opened:
            await c.close()
        await srv.stop()


async def test_the_service_is_found_through_disco(web):
    juliet = await online(web.raw, "juliet@example.com")
    items = await juliet.request(f"<iq type='get' id='d1' to='example.com'><query xmlns='{NS_DISCO_ITEMS}'/></iq>")
    listed = {i.get("jid") for i in items.iter(f"{{{NS_DISCO_ITEMS}}}item")}
    assert "upload.example.com" in listed and "upload.example.net" not in listed
    info = await juliet.request(f"<iq type='get' id='d2' to='upload.example.com'><query xmlns='{NS_DISCO_INFO}'/></iq>")
    identity = info.find(f"{{{NS_DISCO_INFO}}}query/{{{NS_DISCO_INFO}}}identity")
    assert (identity.get("category"), identity.get("type")) == ("store", "file")
    assert NS_UPLOAD in {f.get("var") for f in info.iter(f"{{{NS_DISCO_INFO}}}feature")}
    fields = {f.get("var"): f.findtext(f"{DATA}value") for f in info.iter(f"{DATA}field")}
    assert fields == {"FORM_TYPE": NS_UPLOAD, "max-file-size": "1000"}


async def test_a_file_goes_up_by_put_and_comes_down_by_get(web):
    juliet = await online(web.raw, "juliet@example.com")
    answer = await juliet.request(slot_request("très cool.jpg", 5))
    put_url, headers, get_url = slot_urls(answer)
    assert put_url == get_url and get_url.startswith(f"http://127.0.0.1:{web.http_port}/upload/")
    assert get_url.endswith("/tr%C3%A8s%20cool.jpg") and list(headers) == ["Authorization"]
    status, _, _ = await http(put_url, "PUT", {**headers, "Content-Type": "image/jpeg"}, b"hello")
    assert status == 201
    assert list(web.uploads.folder.iterdir()) == [web.uploads.folder / get_url.split("/")[-2]]
    status, got, body = await http(get_url)
    assert (status, body, got["content-type"], got["content-length"]) == (200, b"hello", "image/jpeg", "5")
    assert "default-src 'none'" in got["content-security-policy"]
    status, got, body = await http(get_url, "HEAD")
    assert (status, got["content-length"], body) == (200, "5", b"")
    # the slot is used: a second PUT finds no slot
    assert (await http(put_url, "PUT", {**headers, "Content-Type": "image/jpeg"}, b"again"))[0] == 404


async def test_refused_slots(web):
    juliet = await online(web.raw, "juliet@example.com")
    big = await juliet.request(slot_request(size=1001))
    assert condition(big) == "not-acceptable"
    assert big.findtext(f"{{jabber:client}}error/{U}file-too-large/{U}max-file-size") == "1000"
    assert big.find(f"{U}request").get("size") == "1001"  # the request is echoed (§6)
    for bad in (slot_request("../etc/passwd"), slot_request(size=0), slot_request(size="x")):
        assert condition(await juliet.request(bad)) == "bad-request"
    romeo = await online(web.raw, "romeo@example.net")  # another domain's account
    assert condition(await romeo.request(slot_request())) == "not-allowed"


async def test_the_quota_counts_open_slots_and_says_when_to_retry(web):
    juliet = await online(web.raw, "juliet@example.com")
    for i in range(2):
        await juliet.request(slot_request(size=1000, id=f"q{i}"))
    full = await juliet.request(slot_request(size=1000, id="q3"))
    assert condition(full) == "resource-constraint"
    err = full.find("{jabber:client}error")
    assert err.get("type") == "wait" and err.find(f"{U}retry").get("stamp").endswith("Z")
    nurse = await online(web.raw, "nurse@example.com")  # a quota is per account
    assert (await nurse.request(slot_request(size=1000))).get("type") == "result"


async def test_refused_uploads(web):
    juliet = await online(web.raw, "juliet@example.com")
    put_url, headers, get_url = slot_urls(await juliet.request(slot_request(size=5)))
    ok = {**headers, "Content-Type": "image/jpeg"}
    assert (await http(put_url, "PUT", {"Content-Type": "image/jpeg"}, b"hello"))[0] == 403
    assert (await http(put_url, "PUT", {**ok, "Authorization": "Bearer guess"}, b"hello"))[0] == 403
    assert (await http(put_url, "PUT", ok, b"hello!"))[0] == 413
    assert (await http(put_url, "PUT", ok, b"hey"))[0] == 400
    assert (await http(put_url, "PUT", {**ok, "Content-Type": "text/html"}, b"hello"))[0] == 415
    assert (await http(put_url, "PUT", {**ok, "Transfer-Encoding": "chunked"}, b""))[0] == 411
    assert (await http(put_url.replace("/upload/", "/upload/x"), "PUT", ok, b"hello"))[0] == 404
    status, _, reason = await http(get_url)
    assert status == 404 and reason  # nothing was stored
    assert (await http(get_url.rsplit("/", 2)[0] + "/")).__getitem__(0) == 404  # no listing
    assert (await http(put_url, "DELETE", ok))[0] == 405
    assert (await http(put_url, "OPTIONS"))[1]["access-control-allow-methods"].startswith("OPTIONS")
    assert list(web.uploads.folder.iterdir()) == []  # no partial file left behind
    assert (await http(put_url, "PUT", ok, b"hello"))[0] == 201  # the slot still works after the refusals


async def test_without_an_http_port_there_is_no_service(raw):
    juliet = await online(raw, "juliet@example.com")
    items = await juliet.request(f"<iq type='get' id='d1' to='example.com'><query xmlns='{NS_DISCO_ITEMS}'/></iq>")
    assert "upload.example.com" not in {i.get("jid") for i in items.iter(f"{{{NS_DISCO_ITEMS}}}item")}
    assert condition(await juliet.request(slot_request())) == "remote-server-not-found"


async def test_files_outlive_a_restart_with_a_database_and_a_memory_server_cleans_up(tmp_path):
    db = str(tmp_path / "lab.sqlite")
    first = await Server(["example.com"], tls=False, http_port=0, db=db).start()
    first.accounts.add("juliet@example.com", "secret")
    try:
        c = await RawClient.open(first.port)
        await c.login("juliet@example.com")
        put_url, headers, get_url = slot_urls(await c.request(slot_request(size=5)))
        assert (await http(put_url, "PUT", {**headers, "Content-Type": "image/jpeg"}, b"hello"))[0] == 201
        await c.close()
        assert first.uploads.folder == tmp_path / "lab.sqlite-uploads"
    finally:
        await first.stop()
    second = await Server(["example.com"], tls=False, http_port=0, db=db).start()
    try:
        moved = get_url.replace(f":{first.http_port}/", f":{second.http_port}/")
        assert (await http(moved))[2] == b"hello"
    finally:
        await second.stop()
    memory = Server(["example.com"], tls=False, http_port=0)
    assert memory.uploads.folder is None  # a server never started leaves no folder behind
    await memory.start()
    folder = memory.uploads.folder
    assert folder.is_dir()
    await memory.stop()
    assert not folder.exists()


async def test_xmpplab_serve_with_an_http_port_shares_files(tmp_path):
    """``xmpplab serve --http-port`` turns the service on and says where the files are kept."""
    import asyncio
    import os
    import signal
    import sys

    db = tmp_path / "lab.sqlite"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "xmpplab", "serve", "--port", "0", "--http-port", "0", "--no-tls", "--db", str(db),
        "--user", "juliet@example.com:secret", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        out = ""
        while "Ctrl-C" not in out:
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            assert line, out
            out += line
        assert f"file sharing (XEP-0363) at upload.example.com: files in {tmp_path / 'lab.sqlite-uploads'}" in out
        port = int(out.split("serving example.com on 127.0.0.1:")[1].split()[0])
        c = await RawClient.open(port)
        await c.login("juliet@example.com")
        put_url, headers, get_url = slot_urls(await c.request(slot_request(size=5)))
        assert (await http(put_url, "PUT", {**headers, "Content-Type": "image/jpeg"}, b"hello"))[0] == 201
        assert (await http(get_url))[2] == b"hello"
        await c.close()
    finally:
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    assert b"Traceback" not in await proc.stderr.read()


async def test_other_requests_on_the_http_port_are_served_as_before(web):
    """Only upload paths are taken by the module: HEAD of XEP-0156 host-meta still answers, a PUT elsewhere does not."""
    base = f"http://127.0.0.1:{web.http_port}"
    status, headers, body = await http(f"{base}/.well-known/host-meta", "HEAD")
    assert (status, body) == (200, b"") and headers["content-type"].startswith("application/xrd+xml")
    assert (await http(f"{base}/.well-known/host-meta"))[0] == 200
    assert (await http(f"{base}/elsewhere", "PUT", body=b"x"))[0] == 405  # a body nobody takes
