"""The Client helpers of chapter 18 (xmpplab/messaging.py), through a real Lab: each does what its XEP promises,
and without it the chapter's "going wrong" really goes wrong."""

import pytest

from xmpplab.client import ClientError, StanzaTimeout
from xmpplab.course.ch18 import HEART, MOON
from xmpplab.lab import Lab
from xmpplab.render import stream_view
from xmpplab.render.resumption import lost

J, R = "juliet@example.com", "romeo@example.net"


async def test_carbons_copy_what_another_device_sends():
    async with Lab.start(replace=False) as lab:
        phone, laptop = await lab.connect(f"{J}/phone"), await lab.connect(f"{J}/laptop")
        romeo = await lab.connect(f"{R}/orchard")
        await phone.send_message(R, "before")
        await romeo.next("message")
        with pytest.raises(StanzaTimeout):
            await laptop.next("message", timeout=0.5)
        await laptop.enable_carbons()
        sent = await phone.send_message(R, "after")
        copy = await laptop.next("message")
        inner = copy.xml.find("{urn:xmpp:carbons:2}sent/{urn:xmpp:forward:0}forwarded/{jabber:client}message")
        assert inner is not None and inner.get("id") == sent["id"]


async def test_history_gives_the_conversation_oldest_first_filtered_and_paged():
    async with Lab.start(replace=False) as lab:
        phone = await lab.connect(f"{J}/phone")
        romeo = await lab.connect(f"{R}/orchard")
        nurse = await lab.connect("nurse@example.com/bot")
        assert list(await phone.history()) == []  # the account uses the archive from now on
        for n in range(3):
            await romeo.send_message(J, f"romeo {n}")
            await phone.next("message")
        await nurse.send_message(J, "nurse")
        await phone.next("message")
        laptop = await lab.connect(f"{J}/laptop")
        with_romeo = await laptop.history(with_=R)
        assert [m["body"] for m in with_romeo] == ["romeo 0", "romeo 1", "romeo 2"]
        assert [m["body"] for m in await laptop.history(max=2)] == ["romeo 2", "nurse"]
        assert "romeo@example.net/orchard → juliet@example.com: romeo 0" in repr(with_romeo)
        assert not [m for m in laptop.pending if m.name == "message"]  # the results were taken


async def test_a_cut_without_stream_management_loses_what_was_in_flight():
    async with Lab.start(replace=False) as lab:
        phone = await lab.connect(f"{J}/phone")
        romeo = await lab.connect(f"{R}/orchard")
        async with phone.cut():
            await romeo.send_message(f"{J}/phone", "lost in the tunnel")
        assert phone.resumed is False and phone.connected
        with pytest.raises(StanzaTimeout):
            await phone.next("message", timeout=0.5)
        await romeo.send_message(f"{J}/phone", "after the tunnel")  # the new session works
        assert (await phone.next("message"))["body"] == "after the tunnel"


async def test_a_cut_with_stream_management_resumes_and_loses_nothing():
    async with Lab.start(replace=False) as lab:
        phone = await lab.connect(f"{J}/phone")
        romeo = await lab.connect(f"{R}/orchard")
        await phone.enable_sm()
        lines = [f"line {n}" for n in range(6)]
        async with phone.cut():
            for line in lines:
                await romeo.send_message(f"{J}/phone", line)
        assert phone.resumed is True
        assert [(await phone.next("message"))["body"] for _ in lines] == lines
        t = lab.transcript
        new = t.connections[phone.conn]
        assert new.resumed_from is not None and lost(t.connections[new.resumed_from])
        page = stream_view(t, page_size=None).html()
        assert 'class="xmpplab-gap"' in page and f"resumed from {new.resumed_from}" in page
        # a second tunnel resumes again (the session keeps its id)
        async with phone.cut():
            await romeo.send_message(f"{J}/phone", "again")
        assert phone.resumed is True and (await phone.next("message"))["body"] == "again"


async def test_cut_needs_a_connection():
    async with Lab.start(replace=False) as lab:
        phone = await lab.connect(f"{J}/phone")
        await phone.disconnect()
        with pytest.raises(ClientError, match="nothing to cut"):
            async with phone.cut():
                pass


async def test_an_avatar_reaches_a_contact_who_wants_avatars():
    async with Lab.start(replace=False) as lab:
        phone = await lab.connect(f"{J}/phone", auto_approve=True)
        romeo = await lab.connect(f"{R}/orchard", auto_approve=True)
        assert await romeo.avatar_of(J) is None
        await romeo.subscribe(J)
        await phone.subscribe(R)
        await romeo.next("presence", from_=J, predicate=lambda p: p["type"] in ("", "available"))
        await phone.next("presence", from_=R, predicate=lambda p: p["type"] in ("", "available"))
        await phone.publish_avatar(HEART)
        with pytest.raises(StanzaTimeout):
            await romeo.next("message", predicate=lambda m: m["type"] == "headline", timeout=0.5)
        await romeo.want_avatars()
        news = await romeo.next("message", predicate=lambda m: m["type"] == "headline")
        assert news.xml.find(".//{urn:xmpp:avatar:metadata}info") is not None
        picture = await romeo.avatar_of(J)
        assert picture.data == HEART and picture.type == "image/png" and picture._repr_png_() == HEART


async def test_upload_shares_a_file_by_url_and_needs_an_http_port():
    async with Lab.start(replace=False) as lab:
        phone = await lab.connect(f"{J}/phone")
        with pytest.raises(ClientError, match="no file upload"):
            await phone.upload("moon.png", MOON)
    async with Lab.start(replace=False, http_port=0) as lab:
        phone = await lab.connect(f"{J}/phone")
        romeo = await lab.connect(f"{R}/orchard")
        url = await phone.upload("moon.png", MOON)
        assert url.startswith("https://127.0.0.1:") and url.endswith("/moon.png")
        picture = await romeo.download(url)
        assert picture.data == MOON and picture.type == "image/png"


def test_the_chapters_pictures_are_pngs():
    for picture in (HEART, MOON):
        assert picture.startswith(b"\x89PNG\r\n\x1a\n") and picture.endswith(b"IEND\xaeB`\x82")


async def test_a_session_the_server_forgot_is_not_resumed_but_a_new_one_starts():
    from xmpplab.server.modules.sm import RESUMABLE

    async with Lab.start(replace=False) as lab:
        phone = await lab.connect(f"{J}/phone")
        romeo = await lab.connect(f"{R}/orchard")
        await phone.enable_sm()
        async with phone.cut():
            RESUMABLE.of(lab.server).clear()  # as if the session had expired (XEP-0198 §5: item-not-found)
        assert phone.resumed is False and phone.connected
        await romeo.send_message(f"{J}/phone", "a new session")
        assert (await phone.next("message", predicate=lambda m: m["body"] == "a new session"))["body"]
