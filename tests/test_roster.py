"""RFC 6121 section 2, the roster: get, set, update, remove, pushes to interested resources, versioning.

Read as transcripts: a client sends XML, the test lists the stanzas each client got, in order, and
compares them with the expected XML structurally (element names, namespaces, attributes and
children; an attribute value or text of ``*`` matches anything): see tests/support_stanzas.py.
"""

import asyncio

from tests.support_roster import state
from tests.support_stanzas import ROSTER, error_of, flush, online, same_list, show
from tests.support_wait import until


# roster get ------------------------------------------------------------------------
async def test_roster_get_answers_with_a_version_and_makes_the_resource_interested(raw, server):
    c = await raw()
    await c.login("juliet@example.com/balcony")
    session = next(iter(server.sessions["juliet@example.com"].values()))
    assert server.roster.interested("juliet@example.com") == []
    await c.send(f"<iq type='get' id='r1'><query xmlns='{ROSTER}'/></iq>")
    same_list(await flush(c), [
        f"<iq type='result' id='r1' to='juliet@example.com/balcony'><query xmlns='{ROSTER}' ver='0'/></iq>"])
    assert server.roster.interested("juliet@example.com") == [session]


async def test_roster_of_another_account_is_not_served(raw):
    c = await online(raw, "juliet@example.com/balcony")
    reply = await c.request(f"<iq type='get' id='r2' to='romeo@example.net'><query xmlns='{ROSTER}'/></iq>")
    assert error_of(reply) == ("cancel", "service-unavailable")


# roster set: add, update ------------------------------------------------------------
async def test_add_item_result_then_push_to_every_interested_resource(raw, server):
    balcony = await online(raw, "juliet@example.com/balcony")
    chamber = await online(raw, "juliet@example.com/chamber", presence=None)   # interested, not available
    garden = await online(raw, "juliet@example.com/garden", roster=False)     # available, not interested
    await flush(balcony)  # garden's initial presence
    await balcony.send(f"<iq type='set' id='a1'><query xmlns='{ROSTER}'>"
                       "<item jid='nurse@example.com' name='Nurse'><group>Servants</group><group>Capulets</group>"
                       "</item></query></iq>")
    push = ("<iq type='set' id='*' to='juliet@example.com/{res}'><query xmlns='jabber:iq:roster' ver='1'>"
            "<item jid='nurse@example.com' name='Nurse' subscription='none'>"
            "<group>Servants</group><group>Capulets</group></item></query></iq>")
    same_list(await flush(balcony), ["<iq type='result' id='a1' to='juliet@example.com/balcony'/>",
                                     push.format(res="balcony")])
    same_list(await flush(chamber), [push.format(res="chamber")])
    same_list(await flush(garden), [])
    # The push is acknowledged like any iq; the roster now holds the item.
    await balcony.send("<iq type='result' id='whatever'/>")
    await garden.send(f"<iq type='get' id='g1'><query xmlns='{ROSTER}'/></iq>")
    same_list(await flush(garden), [
        f"<iq type='result' id='g1' to='juliet@example.com/garden'><query xmlns='{ROSTER}' ver='1'>"
        "<item jid='nurse@example.com' name='Nurse' subscription='none'>"
        "<group>Servants</group><group>Capulets</group></item></query></iq>"])
    assert server.roster_item("juliet@example.com", "nurse@example.com").name == "Nurse"
    assert server.roster_item("juliet@example.com", "romeo@example.net") is None


async def test_update_replaces_the_item_exactly(raw):
    c = await online(raw, "juliet@example.com/balcony")
    await c.send(f"<iq type='set' id='u1'><query xmlns='{ROSTER}'>"
                 "<item jid='romeo@example.net' name='Romeo'><group>Friends</group></item></query></iq>")
    await flush(c)
    # 2.4.1: new name, groups replaced (one added, one dropped)
    await c.send(f"<iq type='set' id='u2'><query xmlns='{ROSTER}'>"
                 "<item jid='romeo@example.net' name='My Romeo'><group>Lovers</group></item></query></iq>")
    same_list(await flush(c), [
        "<iq type='result' id='u2' to='juliet@example.com/balcony'/>",
        f"<iq type='set' id='*' to='juliet@example.com/balcony'><query xmlns='{ROSTER}' ver='2'>"
        "<item jid='romeo@example.net' name='My Romeo' subscription='none'><group>Lovers</group></item></query></iq>"])
    # no name, no groups: both gone
    await c.send(f"<iq type='set' id='u3'><query xmlns='{ROSTER}'><item jid='romeo@example.net'/></query></iq>")
    same_list(await flush(c), [
        "<iq type='result' id='u3' to='juliet@example.com/balcony'/>",
        f"<iq type='set' id='*' to='juliet@example.com/balcony'><query xmlns='{ROSTER}' ver='3'>"
        "<item jid='romeo@example.net' subscription='none'/></query></iq>"])


async def test_subscription_ask_and_approved_cannot_be_set(raw, server):
    c = await online(raw, "juliet@example.com/balcony")
    await c.send(f"<iq type='set' id='s1'><query xmlns='{ROSTER}'><item jid='romeo@example.net' "
                 "subscription='both' ask='subscribe' approved='true'/></query></iq>")
    same_list(await flush(c), [
        "<iq type='result' id='s1' to='juliet@example.com/balcony'/>",
        f"<iq type='set' id='*' to='juliet@example.com/balcony'><query xmlns='{ROSTER}' ver='1'>"
        "<item jid='romeo@example.net' subscription='none'/></query></iq>"])
    assert state(server, "juliet@example.com", "romeo@example.net") == ("none", False, False, False, True)


async def test_roster_set_errors(raw, server):
    c = await online(raw, "juliet@example.com/balcony")
    cases = [
        ("<item jid='romeo@example.net'/><item jid='nurse@example.com'/>", ("modify", "bad-request")),
        ("", ("modify", "bad-request")),
        ("<item jid='romeo@example.net'><group>A</group><group>A</group></item>", ("modify", "bad-request")),
        ("<item jid='romeo@example.net'><group/></item>", ("modify", "not-acceptable")),
        ("<item jid='romeo@example.net'><group>A</group><group></group></item>", ("modify", "not-acceptable")),
        (f"<item jid='romeo@example.net' name='{'x' * 1024}'/>", ("modify", "not-acceptable")),
        (f"<item jid='romeo@example.net'><group>{'g' * 1024}</group></item>", ("modify", "not-acceptable")),
        ("<item name='nobody'/>", ("modify", "bad-request")),
        ("<item jid='romeo@@example.net'/>", ("modify", "bad-request")),
        ("<item jid='romeo@example.net/orchard'/>", ("modify", "bad-request")),
        ("<item jid='juliet@example.com'/>", ("cancel", "not-allowed")),
        ("<item jid='tybalt@example.com' subscription='remove'/>", ("cancel", "item-not-found")),
    ]
    for i, (body, expected) in enumerate(cases):
        await c.send(f"<iq type='set' id='e{i}'><query xmlns='{ROSTER}'>{body}</query></iq>")
        got = await flush(c)
        assert len(got) == 1, [show(g) for g in got]  # the error only: no push
        assert got[0].get("id") == f"e{i}" and got[0].get("type") == "error"
        assert error_of(got[0]) == expected, body
    assert server.roster.items("juliet@example.com") == []
    assert server.roster.version("juliet@example.com") == "0"


# remove ------------------------------------------------------------------------------
async def test_remove_pushes_subscription_remove(raw, server):
    balcony = await online(raw, "juliet@example.com/balcony")
    chamber = await online(raw, "juliet@example.com/chamber")
    await balcony.send(f"<iq type='set' id='a'><query xmlns='{ROSTER}'><item jid='nurse@example.com'/></query></iq>")
    await flush(balcony), await flush(chamber)
    await balcony.send(f"<iq type='set' id='rm'><query xmlns='{ROSTER}'>"
                       "<item jid='nurse@example.com' subscription='remove'/></query></iq>")
    push = (f"<iq type='set' id='*' to='juliet@example.com/{{}}'><query xmlns='{ROSTER}' ver='2'>"
            "<item jid='nurse@example.com' subscription='remove'/></query></iq>")
    same_list(await flush(balcony), ["<iq type='result' id='rm' to='juliet@example.com/balcony'/>",
                                     push.format("balcony")])
    same_list(await flush(chamber), [push.format("chamber")])
    assert server.roster.get("juliet@example.com", "nurse@example.com") is None


# versioning (2.6) ----------------------------------------------------------------------
async def test_roster_versioning(raw):
    c = await online(raw, "juliet@example.com/balcony")
    await c.send(f"<iq type='set' id='a'><query xmlns='{ROSTER}'><item jid='nurse@example.com'/></query></iq>")
    await flush(c)
    # The client's cached version is the current one: an empty result (2.6.3).
    await c.send(f"<iq type='get' id='v1'><query xmlns='{ROSTER}' ver='1'/></iq>")
    same_list(await flush(c), ["<iq type='result' id='v1' to='juliet@example.com/balcony'/>"])
    # A stale (or empty) version: the whole roster with the current version.
    for i, ver in enumerate(("0", "")):
        await c.send(f"<iq type='get' id='v{i + 2}'><query xmlns='{ROSTER}' ver='{ver}'/></iq>")
        same_list(await flush(c), [
            f"<iq type='result' id='v{i + 2}' to='juliet@example.com/balcony'><query xmlns='{ROSTER}' ver='1'>"
            "<item jid='nurse@example.com' subscription='none'/></query></iq>"])


# slixmpp -----------------------------------------------------------------------------
async def test_roster_with_slixmpp(slix):
    juliet = await slix("juliet@example.com/balcony")
    await juliet.get_roster()
    assert list(juliet.client_roster.keys()) in ([], ["juliet@example.com"])
    updated = asyncio.Event()
    juliet.add_event_handler("roster_update", lambda _: updated.set())
    await juliet.update_roster("romeo@example.net", name="Romeo", groups=["Friends", "Montagues"])
    await asyncio.wait_for(updated.wait(), 5)
    item = juliet.client_roster["romeo@example.net"]
    assert item["name"] == "Romeo" and sorted(item["groups"]) == ["Friends", "Montagues"]
    assert item["subscription"] == "none"
    # a second client of the same account sees the same roster
    chamber = await slix("juliet@example.com/chamber")
    await chamber.get_roster()
    assert chamber.client_roster["romeo@example.net"]["name"] == "Romeo"
    updated.clear()
    await juliet.del_roster_item("romeo@example.net")
    await asyncio.wait_for(updated.wait(), 5)
    # the push with subscription='remove' reaches the other resource too
    await until(lambda: "romeo@example.net" not in chamber.client_roster, chamber, what="romeo gone from chamber")
