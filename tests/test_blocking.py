"""XEP-0191 Blocking Command: a block list per account, kept across restarts, enforced both ways."""

import asyncio

import pytest

from tests.support_roster import put_state
from tests.support_stanzas import condition, flush, online
from xmpplab.jid import JID
from xmpplab.server import Server
from xmpplab.server.modules.blocking import NS_BLOCKING, NS_BLOCKING_ERRORS, matches

BLOCK = f"<iq type='set' id='b1'><block xmlns='{NS_BLOCKING}'><item jid='romeo@example.net'/></block></iq>"
UNBLOCK_ALL = f"<iq type='set' id='u1'><unblock xmlns='{NS_BLOCKING}'/></iq>"
GET = f"<iq type='get' id='l1'><blocklist xmlns='{NS_BLOCKING}'/></iq>"


def listed(answer) -> list[str]:
    return [i.get("jid") for i in answer.iter(f"{{{NS_BLOCKING}}}item")]


def test_items_match_as_the_xep_says():
    """XEP-0191 §6: full JID only itself; bare JID every resource; domain everything there and below."""
    assert matches("romeo@example.net", JID("romeo@example.net/orchard"))
    assert not matches("romeo@example.net/orchard", JID("romeo@example.net/garden"))
    assert matches("romeo@example.net/orchard", JID("romeo@example.net/orchard"))
    assert matches("example.net", JID("benvolio@example.net/x")) and matches("example.net", JID("muc.example.net"))
    assert not matches("example.net", JID("juliet@example.com"))
    assert matches("example.net/bot", JID("example.net/bot")) and not matches("example.net/bot", JID("example.net"))


async def test_block_list_push_and_disco(raw):
    juliet = await online(raw, "juliet@example.com")
    other = await raw()
    await other.login("juliet@example.com", resource="chamber")
    assert listed(await other.request(GET)) == []  # asking for the list makes this resource get pushes
    info = await juliet.request("<iq type='get' id='d' to='example.com'>"
                                "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
    assert NS_BLOCKING in [f.get("var") for f in info.iter("{http://jabber.org/protocol/disco#info}feature")]
    assert (await juliet.request(BLOCK)).get("type") == "result"
    push = next(el for el in await flush(other) if el.get("type") == "set")
    assert listed(push) == ["romeo@example.net"] and push[0].tag == f"{{{NS_BLOCKING}}}block"
    assert listed(await juliet.request(GET)) == ["romeo@example.net"]
    bad = await juliet.request(f"<iq type='set' id='b2'><block xmlns='{NS_BLOCKING}'/></iq>")
    assert condition(bad) == "bad-request"


async def test_a_blocked_contact_gets_nothing_through_and_juliet_cannot_write_to_him(raw):
    juliet = await online(raw, "juliet@example.com")
    romeo = await online(raw, "romeo@example.net")
    await juliet.request(BLOCK)
    await romeo.send("<message to='juliet@example.com' type='chat' id='m1'><body>hear me</body></message>")
    bounce = await romeo.recv()
    assert bounce.get("type") == "error" and condition(bounce) == "service-unavailable"
    await romeo.send("<presence to='juliet@example.com/test'/>")  # dropped without a word
    answer = await romeo.request("<iq type='get' id='v1' to='juliet@example.com/test'>"
                                 "<query xmlns='jabber:iq:version'/></iq>")
    assert condition(answer) == "service-unavailable"
    assert await flush(juliet) == []  # she received none of it
    await juliet.send("<message to='romeo@example.net' type='chat' id='m2'><body>go away</body></message>")
    refused = await juliet.recv()
    assert condition(refused) == "not-acceptable"
    assert refused.find(f"{{jabber:client}}error/{{{NS_BLOCKING_ERRORS}}}blocked") is not None
    assert await flush(romeo) == []
    assert (await juliet.request(UNBLOCK_ALL)).get("type") == "result"
    await romeo.send("<message to='juliet@example.com' type='chat' id='m3'><body>again</body></message>")
    assert (await juliet.recv()).findtext("{jabber:client}body") == "again"


async def test_blocking_hides_her_presence_and_unblocking_shows_it_again(server, raw):
    put_state(server, "juliet@example.com", "romeo@example.net", "both")
    put_state(server, "romeo@example.net", "juliet@example.com", "both")
    romeo = await online(raw, "romeo@example.net")
    juliet = await online(raw, "juliet@example.com")
    await flush(romeo)
    await juliet.request(BLOCK)
    gone = [el for el in await flush(romeo) if el.tag.endswith("presence")]
    assert [(p.get("from"), p.get("type")) for p in gone] == [("juliet@example.com/test", "unavailable")]
    await juliet.send("<presence><show>away</show></presence>")  # her broadcast skips him now
    assert not [el for el in await flush(romeo) if el.tag.endswith("presence")]
    await juliet.request(f"<iq type='set' id='u2'><unblock xmlns='{NS_BLOCKING}'>"
                         "<item jid='romeo@example.net'/></unblock></iq>")
    back = [el for el in await flush(romeo) if el.tag.endswith("presence")]
    assert [(p.get("from"), p.get("type"), p.findtext("{jabber:client}show")) for p in back] == \
        [("juliet@example.com/test", None, "away")]


async def test_the_block_list_survives_a_restart(tmp_path):
    db = str(tmp_path / "lab.sqlite")
    first = await Server(["example.com", "example.net"], db=db).start()
    first.accounts.add("juliet@example.com", "secret")
    first.accounts.add("romeo@example.net", "secret")
    from tests.support import RawClient
    c = await RawClient.open(first.port)
    await c.login("juliet@example.com")
    await c.request(BLOCK)
    await c.close()
    await first.stop()
    second = await Server(["example.com", "example.net"], db=db).start()
    try:
        romeo = await RawClient.open(second.port)
        await romeo.login("romeo@example.net")
        await romeo.send("<message to='juliet@example.com' type='chat'><body>remember me?</body></message>")
        assert condition(await romeo.recv()) == "service-unavailable"
        await romeo.close()
        second.accounts.remove("juliet@example.com")
        assert second.storage.rows("SELECT * FROM blocklist") == []
    finally:
        await second.stop()


@pytest.mark.timeout(60)
async def test_slixmpp_blocking_plugin(server, slix):
    """A real client's XEP-0191 plugin (slixmpp xep_0191) blocks, reads the list and unblocks."""
    juliet = await slix("juliet@example.com/balcony", plugins=("xep_0030", "xep_0191"))
    await juliet.plugin["xep_0191"].block(["romeo@example.net", "example.org"])
    got = await juliet.plugin["xep_0191"].get_blocked()
    assert {str(i["jid"]) for i in got["blocklist"]["items"]} == {"romeo@example.net", "example.org"}
    await juliet.plugin["xep_0191"].unblock(["example.org"])
    got = await asyncio.wait_for(juliet.plugin["xep_0191"].get_blocked(), 5)
    assert {str(i["jid"]) for i in got["blocklist"]["items"]} == {"romeo@example.net"}


async def test_an_item_that_is_not_a_jid_is_jid_malformed(raw):
    juliet = await online(raw, "juliet@example.com")
    bad = await juliet.request(f"<iq type='set' id='bad'><block xmlns='{NS_BLOCKING}'><item jid='a@b@c'/></block></iq>")
    assert condition(bad) == "jid-malformed"
    assert listed(await juliet.request(GET)) == []
