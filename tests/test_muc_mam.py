"""XEP-0313 on rooms: a room archives its conversation, and whoever may enter reads it back at the room's JID.

Through the wire: raw clients for the exact stanzas, slixmpp's xep_0045 and xep_0313 (with xep_0059 paging) as a
real client uses them.
"""

import datetime
import time

import pytest
from slixmpp import JID
from slixmpp.exceptions import IqError

from tests.support import RawClient, slix_client
from tests.support_muc import MODULES, OWNER, ROOM, SERVICE, USER, J, N, R, accept_instant, enter, garden, muc_server
from tests.support_stanzas import condition, flush, online
from tests.test_mam import form
from xmpplab.server import Server
from xmpplab.server.modules.mam import ARCHIVE, NS_MAM
from xmpplab.server.rsm import NS_RSM

MAM = f"{{{NS_MAM}}}"
RSM = f"{{{NS_RSM}}}"
SID = "{urn:xmpp:sid:0}stanza-id"
FORWARDED = "{urn:xmpp:forward:0}forwarded/{jabber:client}message"
PLUGINS = ("xep_0030", "xep_0045", "xep_0059", "xep_0313")
DISCO_INFO = "http://jabber.org/protocol/disco#info"


@pytest.fixture
async def server():
    """The shared fixture's server, with MUC (tests/support_muc.py)."""
    async with muc_server() as srv:
        yield srv


async def ask(client, room=ROOM, rsm="", queryid="q", **fields):
    """Query a room's archive; return (the forwarded messages, the iq that ended the query)."""
    x = form(**fields) if fields else ""
    await client.send(f"<iq type='set' id='mam-{queryid}' to='{room}'><query xmlns='{NS_MAM}' queryid='{queryid}'>"
                      f"{x}{rsm}</query></iq>")
    results = []
    while True:
        el = await client.recv()
        if el.tag.endswith("}iq") and el.get("id") == f"mam-{queryid}":
            return results, el
        result = el.find(f"{MAM}result")
        if result is None:
            continue  # a message of the room itself, not of the query
        assert el.get("from") == room and result.get("queryid") == queryid, el
        inner = result.find(FORWARDED)
        inner.set("archive-id", result.get("id"))
        results.append(inner)


def bodies(results) -> list[str]:
    return [m.findtext("{jabber:client}body") for m in results]


async def say(client, *lines, room=ROOM):
    for line in lines:
        await client.send(f"<message to='{room}' type='groupchat'><body>{line}</body></message>")
    return await flush(client)


async def features(client, jid=ROOM) -> set[str]:
    info = await client.request(f"<iq type='get' id='f' to='{jid}'><query xmlns='{DISCO_INFO}'/></iq>")
    return {f.get("var") for f in info.iter(f"{{{DISCO_INFO}}}feature")}


async def configure(client, room=ROOM, **fields):
    values = "".join(f"<field var='{var}'><value>{value}</value></field>" for var, value in fields.items())
    reply = await client.request(f"<iq type='set' id='cfg' to='{room}'><query xmlns='{OWNER}'>"
                                 f"<x xmlns='jabber:x:data' type='submit'>{values}</x></query></iq>")
    assert reply.get("type") == "result", reply


# ---------------------------------------------------------------------------- what is archived, and how it comes back
async def test_the_room_advertises_its_archive_and_stamps_each_message_with_the_rooms_stanza_id(raw, server):
    juliet, romeo = await garden(raw)
    assert {NS_MAM, f"{NS_MAM}#extended", "urn:xmpp:sid:0"} <= await features(juliet)
    assert NS_MAM not in await features(juliet, "conference.example.com")  # the archive is the room's (§3.1.2)
    [reflected] = await say(romeo, "Lady, by yonder blessed moon")
    stanza_id = reflected.find(SID)
    assert stanza_id.get("by") == ROOM
    results, fin = await ask(juliet)
    assert bodies(results) == ["Lady, by yonder blessed moon"]
    assert results[0].get("archive-id") == stanza_id.get("id")  # the id to page from
    assert fin.get("from") == ROOM and fin.find(f"{MAM}fin").get("complete") == "true"
    original = results[0]
    assert original.get("from") == f"{ROOM}/romeo" and original.get("to") is None  # §6.1.2
    assert original.get("type") == "groupchat"


async def test_only_what_the_room_shared_is_kept_and_only_once(raw, server):
    juliet, romeo = await garden(raw)
    nurse = await online(raw, N)
    await enter(nurse, "nurse")
    await flush(juliet)
    await flush(romeo)
    await say(romeo, "one for all")  # three occupants get it: it is kept once
    await romeo.send(f"<message to='{ROOM}/juliet' type='chat'><body>a private word</body></message>")
    await romeo.send(f"<message to='{ROOM}' type='groupchat'><body>forget this</body>"
                     "<no-store xmlns='urn:xmpp:hints'/></message>")
    await romeo.send(f"<message to='{ROOM}' type='groupchat'><active xmlns='http://jabber.org/protocol/chatstates'/>"
                     "</message>")
    await flush(romeo)
    results, _ = await ask(nurse)
    assert bodies(results) == ["one for all"]


async def test_a_forged_stanza_id_or_muc_user_element_is_not_passed_off_as_the_rooms(raw, server):
    juliet, romeo = await garden(raw)
    await romeo.send(f"<message to='{ROOM}' type='groupchat'><body>trust me</body>"
                     f"<stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='forged'/>"
                     f"<x xmlns='{USER}'><item jid='juliet@example.com/balcony'/></x></message>")
    [reflected] = await flush(romeo)
    assert [s.get("id") for s in reflected.findall(SID) if s.get("by") == ROOM] != ["forged"]
    assert len([s for s in reflected.findall(SID) if s.get("by") == ROOM]) == 1
    results, _ = await ask(juliet)  # juliet is the owner, a moderator: she sees the real JID, the true one (§8.4)
    assert [i.get("jid") for i in results[0].iter(f"{{{USER}}}item")] == [R]


async def test_real_jids_only_for_those_who_may_see_them(raw, server):
    juliet, romeo = await garden(raw)  # a semi-anonymous room (whois: moderators)
    await say(juliet, "I am the owner")
    owner_view, _ = await ask(juliet)
    assert [i.get("jid") for i in owner_view[0].iter(f"{{{USER}}}item")] == [J]
    romeo_view, _ = await ask(romeo)
    assert bodies(romeo_view) == ["I am the owner"] and romeo_view[0].find(f"{{{USER}}}x") is None
    hidden, _ = await ask(romeo, queryid="w", **{"with": "juliet@example.com"})
    assert hidden == []  # who said what under which account is not his to know (§4.1.1)
    await configure(juliet, **{"muc#roomconfig_whois": "anyone"})
    await flush(romeo)
    public, _ = await ask(romeo, queryid="p")
    assert [i.get("jid") for i in public[0].iter(f"{{{USER}}}item")] == [J]
    by_account, _ = await ask(romeo, queryid="a", **{"with": "juliet@example.com"})
    assert bodies(by_account) == ["I am the owner"]


# ---------------------------------------------------------------------------- through slixmpp's plugins
async def slix_room(server, n=5):
    """Juliet makes the garden and says n lines, Romeo one: slixmpp clients with xep_0045 and xep_0313."""
    juliet = await slix_client(server.port, J, plugins=PLUGINS)
    romeo = await slix_client(server.port, R, plugins=PLUGINS)
    await juliet.plugin["xep_0045"].join_muc_wait(JID(ROOM), "juliet", maxstanzas=0, timeout=5)
    await juliet.plugin["xep_0045"].set_room_config(JID(ROOM), await juliet.plugin["xep_0045"].get_room_config(
        JID(ROOM)))
    await romeo.plugin["xep_0045"].join_muc_wait(JID(ROOM), "romeo", maxstanzas=0, timeout=5)
    for i in range(n):
        juliet.send_message(mto=JID(ROOM), mbody=f"line {i}", mtype="groupchat")
    await juliet.plugin["xep_0030"].get_info(jid=JID("example.com"))  # a round trip: the server has read them
    romeo.send_message(mto=JID(ROOM), mbody="and romeo", mtype="groupchat")
    await romeo.plugin["xep_0030"].get_info(jid=JID("example.com"))
    return juliet, romeo


async def read(client, **kw) -> list[str]:
    return [m["mam_result"]["forwarded"]["stanza"]["body"]
            async for m in client.plugin["xep_0313"].iterate(jid=JID(ROOM), **kw)]


@pytest.mark.timeout(60)
async def test_slixmpp_pages_through_a_room_archive_both_ways_and_filters_it(server):
    juliet, romeo = await slix_room(server)
    try:
        everything = ["line 0", "line 1", "line 2", "line 3", "line 4", "and romeo"]
        assert await read(romeo, rsm={"max": 2}) == everything  # forwards, two at a time (XEP-0059 §2.2)
        # the last page (XEP-0059 §2.5), newest first; then the pages before it (§2.3). slixmpp's iterate(reverse=True)
        # stops after the last page (it takes first index + items == count for the end), so page back by hand
        last = [m async for m in romeo.plugin["xep_0313"].iterate(jid=JID(ROOM), rsm={"max": 2}, reverse=True)]
        back = [m["mam_result"]["forwarded"]["stanza"]["body"] for m in last]
        assert back == ["and romeo", "line 4"]
        first = last[-1]["mam_result"]["id"]
        while True:
            page = await romeo.plugin["xep_0313"].retrieve(jid=JID(ROOM), rsm={"max": 2, "before": first})
            back += [m["mam_result"]["forwarded"]["stanza"]["body"] for m in reversed(page["mam"]["results"])]
            first = page["mam_fin"]["rsm"]["first"]
            if page["mam_fin"]["complete"]:
                break
        assert back == everything[::-1]
        assert await read(romeo, with_jid=JID(f"{ROOM}/romeo")) == ["and romeo"]  # an occupant JID (§4.1.1)
        later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)
        assert await read(romeo, start=later) == []
        assert await read(romeo, end=later) == everything
        fields = await romeo.plugin["xep_0313"].get_fields(jid=JID(ROOM))
        assert {"with", "start", "end", "before-id", "after-id"} <= set(fields.get_fields())
    finally:
        await juliet.close()
        await romeo.close()


async def test_ids_and_pages_by_raw_query(raw, server):
    juliet, romeo = await garden(raw)
    await say(romeo, *(f"line {i}" for i in range(5)))
    first, fin = await ask(juliet, rsm=f"<set xmlns='{NS_RSM}'><max>2</max></set>")
    assert bodies(first) == ["line 0", "line 1"] and fin.find(f"{MAM}fin").get("complete") is None
    assert fin.findtext(f"{MAM}fin/{RSM}set/{RSM}count") == "5"
    ids = [m.get("archive-id") for m in first]
    after, _ = await ask(juliet, queryid="a", after_id=ids[1])
    assert bodies(after) == ["line 2", "line 3", "line 4"]
    one, _ = await ask(juliet, queryid="i", ids=ids[0])
    assert bodies(one) == ["line 0"]
    last, fin = await ask(juliet, queryid="l", rsm=f"<set xmlns='{NS_RSM}'><max>2</max><before/></set>")
    assert bodies(last) == ["line 3", "line 4"] and fin.find(f"{MAM}fin/{RSM}set/{RSM}first").get("index") == "3"
    _, err = await ask(juliet, queryid="x", after_id="not-an-id")
    assert condition(err) == "item-not-found"
    _, err = await ask(juliet, queryid="y", start="yesterday")
    assert condition(err) == "bad-request"


async def test_a_subject_change_is_kept_with_the_messages(raw, server):
    """XEP-0313 §6.1.2: subject changes are stored as well as messages with a body."""
    juliet, romeo = await garden(raw)
    await say(romeo, "before")
    await juliet.send(f"<message to='{ROOM}' type='groupchat'><subject>The balcony scene</subject></message>")
    await flush(juliet)
    await say(romeo, "after")
    kept, _ = await ask(juliet)
    assert [(m.findtext("{jabber:client}subject"), m.findtext("{jabber:client}body")) for m in kept] == \
        [(None, "before"), ("The balcony scene", None), (None, "after")]
    assert kept[1].get("from") == f"{ROOM}/juliet"


async def test_flipped_pages_and_metadata_of_a_room_archive(raw, server):
    """#extended on a room (XEP-0313 §4.3.4, §5): a page newest first, and the archive's first and last message."""
    juliet, romeo = await garden(raw)
    await say(romeo, *(f"line {i}" for i in range(3)))
    flipped, _ = await ask(juliet, queryid="f", rsm="<flip-page/>")
    assert bodies(flipped) == ["line 2", "line 1", "line 0"]
    meta = await juliet.request(f"<iq type='get' id='meta' to='{ROOM}'><metadata xmlns='{NS_MAM}'/></iq>")
    ids = [m.get("archive-id") for m in reversed(flipped)]
    assert meta.find(f"{MAM}metadata/{MAM}start").get("id") == ids[0]
    assert meta.find(f"{MAM}metadata/{MAM}end").get("id") == ids[-1]


# ---------------------------------------------------------------------------- who may read it
@pytest.mark.timeout(60)
async def test_a_members_only_room_refuses_its_archive_to_non_members(server, raw):
    juliet = await online(raw, J)
    await enter(juliet, "juliet")
    await accept_instant(juliet)
    await say(juliet, "for members")
    await configure(juliet, **{"muc#roomconfig_membersonly": "1"})
    await juliet.request(f"<iq type='set' id='m' to='{ROOM}'><query xmlns='http://jabber.org/protocol/muc#admin'>"
                         "<item affiliation='member' jid='romeo@example.net'/></query></iq>")
    nurse = await slix_client(server.port, N, plugins=PLUGINS)
    romeo = await slix_client(server.port, R, plugins=PLUGINS)
    try:
        with pytest.raises(IqError) as refused:  # (iterate() would end quietly on an error: retrieve() raises it)
            await nurse.plugin["xep_0313"].retrieve(jid=JID(ROOM))
        assert refused.value.condition == "forbidden"
        assert await read(romeo) == ["for members"]  # a member who is not in the room reads it
    finally:
        await nurse.close()
        await romeo.close()


async def test_an_outcast_may_not_read_an_open_rooms_archive(raw, server):
    juliet, romeo = await garden(raw)
    await say(romeo, "before the ban")
    nurse = await online(raw, N)
    assert bodies((await ask(nurse))[0]) == ["before the ban"]  # anyone may read an open room's archive
    await juliet.request(f"<iq type='set' id='b' to='{ROOM}'><query xmlns='http://jabber.org/protocol/muc#admin'>"
                         "<item affiliation='outcast' jid='nurse@example.com'/></query></iq>")
    results, err = await ask(nurse, queryid="banned")
    assert results == [] and condition(err) == "forbidden"


# ---------------------------------------------------------------------------- a room that does not archive
@pytest.mark.timeout(60)
async def test_a_room_whose_owner_switches_archiving_off(server, raw):
    juliet = await slix_client(server.port, J, plugins=PLUGINS)
    try:
        muc = juliet.plugin["xep_0045"]
        await muc.join_muc_wait(JID(ROOM), "juliet", maxstanzas=0, timeout=5)
        config = await muc.get_room_config(JID(ROOM))
        assert config.get_fields()["muc#roomconfig_enablearchiving"]["value"] is True  # on by default
        config.set_values({"muc#roomconfig_enablearchiving": False})
        await muc.set_room_config(JID(ROOM), config)
        romeo = await online(raw, R)
        await enter(romeo, "romeo")
        assert NS_MAM not in await features(romeo)
        [reflected] = await say(romeo, "off the record")
        assert reflected.find(SID) is None
        results, err = await ask(romeo)
        assert results == [] and condition(err) == "service-unavailable"
        assert server.storage.rows("SELECT COUNT(*) FROM mam WHERE owner = ?", (ROOM,)) == [(0,)]
    finally:
        await juliet.close()


# ---------------------------------------------------------------------------- kept across restarts, retention, gone
@pytest.mark.timeout(60)
async def test_a_persistent_rooms_archive_survives_a_restart(tmp_path):
    db = str(tmp_path / "lab.sqlite")
    first = await Server(["example.com", "example.net"], db=db, modules=MODULES).start()
    try:
        for user in ("juliet@example.com", "romeo@example.net"):
            first.accounts.add(user, "secret")
        juliet = await RawClient.open(first.port)
        await juliet.login(J)
        await enter(juliet, "juliet")
        await configure(juliet, **{"muc#roomconfig_persistentroom": "1"})
        await say(juliet, "remember me")
        await juliet.close()
        # what a temporary room left when its server was killed (a clean stop empties the room, which forgets it)
        ARCHIVE.of(first).store(f"orchard@{SERVICE}", f"orchard@{SERVICE}/juliet", None,
                                "<message type='groupchat'><body>a passing word</body></message>")
    finally:
        await first.stop()
    second = await Server(["example.com", "example.net"], db=db, modules=MODULES).start()
    try:
        romeo = await slix_client(second.port, R, plugins=PLUGINS)
        try:
            assert await read(romeo) == ["remember me"]
        finally:
            await romeo.close()
        assert second.storage.rows("SELECT COUNT(*) FROM mam WHERE owner = ?", (f"orchard@{SERVICE}",)) == [(0,)]
    finally:
        await second.stop()


async def test_the_retention_applies_to_rooms_and_a_destroyed_room_takes_its_archive(raw, server):
    juliet, romeo = await garden(raw)
    await say(romeo, "old", "new")
    archive = ARCHIVE.of(server)
    archive.flush()
    server.storage.rows("UPDATE mam SET stamp = ? WHERE owner = ? AND xml LIKE '%>old<%'",
                        (time.time() - (archive.retention_days + 1) * 86400, ROOM))
    archive.expire()
    assert bodies((await ask(juliet))[0]) == ["new"]
    reply = await juliet.request(f"<iq type='set' id='d' to='{ROOM}'><query xmlns='{OWNER}'><destroy/></query></iq>")
    assert reply.get("type") == "result"
    assert server.storage.rows("SELECT COUNT(*) FROM mam WHERE owner = ?", (ROOM,)) == [(0,)]
