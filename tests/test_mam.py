"""XEP-0313 Message Archive Management with XEP-0059 paging: what each account sent and received, read back."""

import time

import pytest
from lxml import etree

from tests.support import RawClient
from tests.support_stanzas import condition, flush, online
from xmpplab.jid import JID
from xmpplab.server import DEFAULT_MODULES, Server
from xmpplab.server.modules.mam import ARCHIVE, NS_MAM, NS_SID, Archive
from xmpplab.server.rsm import NS_RSM

MAM = f"{{{NS_MAM}}}"
RSM = f"{{{NS_RSM}}}"


def form(**fields) -> str:
    inner = "".join(f"<field var='{k.replace('_', '-')}'><value>{v}</value></field>" for k, v in fields.items())
    return (f"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>{NS_MAM}</value>"
            f"</field>{inner}</x>")


async def ask(client, rsm="", queryid="q", **fields):
    """Send a query; return (results, fin) once the iq result came: the results are the bodies, in order."""
    x = form(**fields) if fields else ""
    await client.send(f"<iq type='set' id='mam-{queryid}'><query xmlns='{NS_MAM}' queryid='{queryid}'>{x}"
                      f"{rsm}</query></iq>")
    results = []
    while True:
        el = await client.recv()
        if el.tag.endswith("}iq"):
            return results, el
        result = el.find(f"{MAM}result")
        assert result is not None and result.get("queryid") == queryid, el
        inner = result.find("{urn:xmpp:forward:0}forwarded/{jabber:client}message")
        assert result.find("{urn:xmpp:forward:0}forwarded/{urn:xmpp:delay}delay").get("stamp")
        results.append((result.get("id"), inner.findtext("{jabber:client}body"), inner.get("from")))


async def reading(raw, jid):
    """A client that uses the archive: it asks for its history at login (as Converse.js and Conversations do)."""
    c = await online(raw, jid)
    history, _ = await ask(c, queryid="login")
    assert history == []
    return c


async def chat(raw, n=3):
    juliet = await reading(raw, "juliet@example.com")
    romeo = await reading(raw, "romeo@example.net")
    for i in range(n):
        await romeo.send(f"<message to='juliet@example.com' type='chat'><body>line {i}</body></message>")
    got = [await juliet.recv() for _ in range(n)]
    return juliet, romeo, got


async def test_mam_is_advertised_on_the_account(raw):
    c = await online(raw, "juliet@example.com")
    info = await c.request("<iq type='get' id='d' to='juliet@example.com'>"
                           "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
    assert NS_MAM in [f.get("var") for f in info.iter("{http://jabber.org/protocol/disco#info}feature")]


async def test_received_messages_carry_their_archive_id_and_come_back_in_order(raw):
    juliet, romeo, got = await chat(raw)
    ids = [m.find(f"{{{NS_SID}}}stanza-id") for m in got]
    assert all(i is not None and i.get("by") == "juliet@example.com" for i in ids)
    results, fin = await ask(juliet)
    assert [body for _, body, _ in results] == ["line 0", "line 1", "line 2"]
    assert [i for i, _, _ in results] == [i.get("id") for i in ids]
    done = fin.find(f"{MAM}fin")
    assert done.get("complete") == "true"
    assert done.findtext(f"{RSM}set/{RSM}first") == results[0][0] and done.findtext(f"{RSM}set/{RSM}count") == "3"
    sent, _ = await ask(romeo)  # the sender's own archive has what he sent
    assert [body for _, body, _ in sent] == ["line 0", "line 1", "line 2"]


async def test_pages_forwards_backwards_and_the_last_page(raw):
    juliet, romeo, _ = await chat(raw, 5)
    first, fin = await ask(juliet, rsm=f"<set xmlns='{NS_RSM}'><max>2</max></set>")
    assert [b for _, b, _ in first] == ["line 0", "line 1"] and fin.find(f"{MAM}fin").get("complete") is None
    after = first[-1][0]
    second, _ = await ask(juliet, rsm=f"<set xmlns='{NS_RSM}'><max>2</max><after>{after}</after></set>", queryid="r")
    assert [b for _, b, _ in second] == ["line 2", "line 3"]
    last, fin = await ask(juliet, rsm=f"<set xmlns='{NS_RSM}'><max>2</max><before/></set>", queryid="s")
    assert [b for _, b, _ in last] == ["line 3", "line 4"]
    assert fin.findtext(f"{MAM}fin/{RSM}set/{RSM}first") == last[0][0]
    assert fin.find(f"{MAM}fin/{RSM}set/{RSM}first").get("index") == "3"
    unknown, err = await ask(juliet, rsm=f"<set xmlns='{NS_RSM}'><after>nope</after></set>", queryid="t")
    assert unknown == [] and condition(err) == "item-not-found"


async def test_a_flipped_page_is_the_same_page_newest_first(raw):
    """XEP-0313 §4.3.4 (what #extended promises): <flip-page/> changes the order, not the page."""
    juliet, romeo, _ = await chat(raw, 4)
    rsm = f"<set xmlns='{NS_RSM}'><max>3</max></set>"
    plain, fin = await ask(juliet, rsm=rsm, queryid="p")
    await juliet.send(f"<iq type='set' id='mam-f'><query xmlns='{NS_MAM}' queryid='f'>{rsm}<flip-page/></query></iq>")
    flipped = []
    while True:
        el = await juliet.recv()
        if el.tag.endswith("}iq"):
            break
        flipped.append(el.findtext(".//{jabber:client}body"))
    assert [b for _, b, _ in plain] == ["line 0", "line 1", "line 2"]
    assert flipped == ["line 2", "line 1", "line 0"]
    assert el.findtext(f"{MAM}fin/{RSM}set/{RSM}first") == fin.findtext(f"{MAM}fin/{RSM}set/{RSM}first")


async def test_the_archive_metadata_names_its_first_and_last_message(raw):
    """XEP-0313 §5 (what #extended promises): the first and last id and time, or an empty <metadata/>."""
    c = await online(raw, "nurse@example.com")
    empty = await c.request(f"<iq type='get' id='m0'><metadata xmlns='{NS_MAM}'/></iq>")
    assert empty.get("type") == "result" and len(empty.find(f"{MAM}metadata")) == 0
    juliet, romeo, got = await chat(raw, 3)
    meta = await juliet.request(f"<iq type='get' id='m1'><metadata xmlns='{NS_MAM}'/></iq>")
    start, end = meta.find(f"{MAM}metadata/{MAM}start"), meta.find(f"{MAM}metadata/{MAM}end")
    ids = [m.find(f"{{{NS_SID}}}stanza-id").get("id") for m in got]
    assert (start.get("id"), end.get("id")) == (ids[0], ids[-1])
    assert start.get("timestamp").endswith("Z") and start.get("timestamp") <= end.get("timestamp")


async def test_filters_with_ids_and_time(raw):
    juliet, romeo, _ = await chat(raw, 2)
    nurse = await reading(raw, "nurse@example.com")
    await nurse.send("<message to='juliet@example.com' type='chat'><body>from the nurse</body></message>")
    await juliet.recv()
    with_romeo, _ = await ask(juliet, **{"with": "romeo@example.net"})
    assert [b for _, b, _ in with_romeo] == ["line 0", "line 1"]
    full, _ = await ask(juliet, queryid="f", **{"with": "nurse@example.com/test"})
    assert [b for _, b, _ in full] == ["from the nurse"]
    one, _ = await ask(juliet, queryid="i", ids=with_romeo[1][0])
    assert [b for _, b, _ in one] == ["line 1"]
    later, _ = await ask(juliet, queryid="a", after_id=with_romeo[0][0])
    assert [b for _, b, _ in later] == ["line 1", "from the nurse"]
    future, _ = await ask(juliet, queryid="z", start="2999-01-01T00:00:00Z")
    assert future == []
    bad, err = await ask(juliet, queryid="b", start="yesterday")
    assert condition(err) == "bad-request"


async def test_an_account_whose_clients_never_read_the_archive_is_not_archived_until_one_does(server, raw):
    """As ejabberd's assume_mam_usage: false: no cost for clients that never read history."""
    juliet = await online(raw, "juliet@example.com")
    romeo = await online(raw, "romeo@example.net")
    await romeo.send("<message to='juliet@example.com' type='chat'><body>unkept</body></message>")
    first = await juliet.recv()
    assert first.find(f"{{{NS_SID}}}stanza-id") is None
    assert (await ask(juliet))[0] == []  # nothing kept; and now she reads her archive ...
    await romeo.send("<message to='juliet@example.com' type='chat'><body>kept</body></message>")
    second = await juliet.recv()
    assert second.find(f"{{{NS_SID}}}stanza-id") is not None
    assert [b for _, b, _ in (await ask(juliet, queryid="again"))[0]] == ["kept"]
    assert "juliet@example.com" in ARCHIVE.of(server).users and "romeo@example.net" not in ARCHIVE.of(server).users


async def test_no_store_and_groupchat_are_not_archived(raw):
    juliet = await reading(raw, "juliet@example.com")
    romeo = await online(raw, "romeo@example.net")
    await romeo.send("<message to='juliet@example.com' type='chat'><body>forget this</body>"
                     "<no-store xmlns='urn:xmpp:hints'/></message>")
    await romeo.send("<message to='juliet@example.com' type='headline'><body>news</body></message>")
    await flush(juliet)
    results, _ = await ask(juliet)
    assert results == []


async def test_the_archive_survives_a_restart_and_an_account_removal_takes_it(tmp_path):
    db = str(tmp_path / "lab.sqlite")
    first = await Server(["example.com", "example.net"], db=db).start()
    for user in ("juliet@example.com", "romeo@example.net"):
        first.accounts.add(user, "secret")
    ARCHIVE.of(first).use("juliet@example.com")  # her phone reads the archive: remembered across the restart
    romeo = await RawClient.open(first.port)
    await romeo.login("romeo@example.net")
    await romeo.send("<message to='juliet@example.com' type='chat'><body>while you slept</body></message>")
    await flush(romeo)
    await romeo.close()
    await first.stop()
    second = await Server(["example.com", "example.net"], db=db).start()
    try:
        juliet = await RawClient.open(second.port)
        await juliet.login("juliet@example.com")
        results, _ = await ask(juliet)
        assert [b for _, b, _ in results] == ["while you slept"]
        await juliet.close()
        second.accounts.remove("juliet@example.com")
        assert second.storage.rows("SELECT COUNT(*) FROM mam WHERE owner='juliet@example.com'") == [(0,)]
    finally:
        await second.stop()


def archive_server(archive, db=None):
    """A server whose archive is ``archive`` (its settings), with ``db`` if given."""
    return Server(["example.com"], db=db, modules=(*[m for m in DEFAULT_MODULES if m != "mam"], archive))


def keep(archive, owner, n):
    """Archive ``n`` messages for ``owner`` the way the server does (batched, then written); their ids."""
    msg = etree.fromstring("<message xmlns='jabber:client' type='chat'><body>hi</body></message>")
    ids = [archive.store(owner, "romeo@example.net", msg) for _ in range(n)]
    archive.flush()
    return ids


def ids_of(server, owner):
    return [i for (i,) in server.storage.rows("SELECT id FROM mam WHERE owner = ? ORDER BY seq", (owner,))]


async def test_retention_and_the_per_account_maximum():
    archive = Archive(retention_days=1, max_per_account=2)
    server = await archive_server(archive).start()
    try:
        assert ARCHIVE.of(server) is archive and archive.everyone is False
        juliet, nurse = keep(archive, "juliet@example.com", 4), keep(archive, "nurse@example.com", 1)
        server.storage.rows("UPDATE mam SET stamp = ? WHERE id = ?", (time.time() - 3 * 86400, juliet[0]))
        archive.expire()
        assert ids_of(server, "juliet@example.com") == juliet[2:]  # [0] too old, [1] beyond the two newest
        assert ids_of(server, "nurse@example.com") == nurse
        later = keep(archive, "juliet@example.com", 3)
        archive.expire()
        assert ids_of(server, "juliet@example.com") == later[1:]  # still the two newest, counted as they came
        archive.forget("nurse@example.com")
        assert ids_of(server, "nurse@example.com") == []
        again = keep(archive, "nurse@example.com", 3)  # counted from nothing: what was forgotten does not count
        archive.expire()
        assert ids_of(server, "nurse@example.com") == again[1:]
    finally:
        await server.stop()
    with pytest.raises(ValueError, match="more than 0 days"):
        Archive(retention_days=0)


async def test_a_lower_maximum_applies_to_what_was_kept_before_a_restart(tmp_path):
    db = str(tmp_path / "archive.sqlite")
    first = Archive(max_per_account=10)
    server = await archive_server(first, db).start()
    kept = keep(first, "juliet@example.com", 5)
    await server.stop()
    server = await archive_server(Archive(max_per_account=2), db).start()
    try:
        assert ids_of(server, "juliet@example.com") == kept[-2:]
    finally:
        await server.stop()


@pytest.mark.timeout(60)
async def test_slixmpp_mam_plugin_reads_the_archive(server, raw, slix):
    """A real client's XEP-0313 plugin (slixmpp xep_0313, with xep_0059 paging) reads the history."""
    ARCHIVE.of(server).use("juliet@example.com")  # she read her archive from another device before
    romeo = await online(raw, "romeo@example.net")
    for i in range(3):
        await romeo.send(f"<message to='juliet@example.com' type='chat'><body>offline {i}</body></message>")
    await flush(romeo)
    juliet = await slix("juliet@example.com/phone", plugins=("xep_0030", "xep_0059", "xep_0313"))
    bodies = [m["mam_result"]["forwarded"]["stanza"]["body"]
              async for m in juliet.plugin["xep_0313"].iterate(with_jid=JID("romeo@example.net"), rsm={"max": 2})]
    assert bodies == ["offline 0", "offline 1", "offline 2"]


async def test_everyone_archives_every_account_from_the_start(raw):
    server = Server(["example.com", "example.net"],
                    modules=(*[m for m in DEFAULT_MODULES if m != "mam"], Archive(everyone=True)))
    await server.start()
    try:
        for user in ("juliet@example.com", "romeo@example.net"):
            server.accounts.add(user, "secret")
        romeo = await RawClient.open(server.port)
        await romeo.login("romeo@example.net")
        await romeo.send("<message to='juliet@example.com' type='chat'><body>before she ever looked</body></message>")
        await flush(romeo)
        juliet = await RawClient.open(server.port)
        await juliet.login("juliet@example.com")
        assert [b for _, b, _ in (await ask(juliet))[0]] == ["before she ever looked"]
        await romeo.close()
        await juliet.close()
    finally:
        await server.stop()


async def test_the_message_path_is_hooked_only_once_an_account_is_archived(server, raw):
    """Nobody reads an archive yet: archiving costs nothing per message (its hooks are not there)."""
    archive = ARCHIVE.of(server)
    assert not archive._armed
    await reading(raw, "juliet@example.com")
    assert archive._armed
    server.accounts.remove("juliet@example.com")
    assert not archive._armed


async def test_an_account_made_again_after_the_archive_was_unhooked_keeps_each_message_once(server, raw):
    """A class server's practice account is removed and made again for each chapter (``#practice``): the archive's
    hooks go when its last account goes and come back when the new one reads its history, once, not twice."""
    await reading(raw, "juliet@example.com")
    server.accounts.remove("juliet@example.com")
    server.accounts.add("juliet@example.com", "secret")
    juliet = await reading(raw, "juliet@example.com")
    romeo = await online(raw, "romeo@example.net")
    await romeo.send("<message to='juliet@example.com' type='chat'><body>once</body></message>")
    await juliet.recv()
    assert [b for _, b, _ in (await ask(juliet, queryid="again"))[0]] == ["once"]
