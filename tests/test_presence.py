"""RFC 6121 section 4, exchanging presence: initial presence and probes, updates, unavailable
presence (sent, or implied by a closed stream), directed presence, priorities and where messages
to the bare JID go. Raw XML transcripts, and slixmpp as a real client."""

import asyncio

from tests.support_roster import put_state
from tests.support_stanzas import error_of, flush, online, same, same_list
from tests.support_wait import gone, until
from xmpplab.jid import JID

J, R, N = "juliet@example.com", "romeo@example.net", "nurse@example.com"


def lovers(server, juliet="both", romeo="both"):
    put_state(server, J, R, juliet)
    put_state(server, R, J, romeo)


async def test_initial_presence_is_broadcast_and_contacts_are_probed(raw, server):
    lovers(server)
    romeo = await online(raw, f"{R}/orchard",
                         presence="<presence><show>chat</show><status>In the orchard</status></presence>")
    juliet = await raw()
    await juliet.login(f"{J}/balcony")
    await juliet.send("<presence><status>On the balcony</status><priority>1</priority></presence>")
    same_list(await flush(juliet), [
        # 4.2.2: to all her available resources, this one included
        f"<presence from='{J}/balcony' to='{J}/balcony'><status>On the balcony</status><priority>1</priority>"
        "</presence>",
        # 4.3.2: his server answers the probe with his last presence
        f"<presence from='{R}/orchard' to='{J}'><show>chat</show><status>In the orchard</status></presence>"])
    # 4.2.2: to the contacts subscribed to her (from/both); the probe itself is not delivered to him.
    same_list(await flush(romeo), [
        f"<presence from='{J}/balcony' to='{R}'><status>On the balcony</status><priority>1</priority></presence>"])


async def test_probe_answer_is_the_last_unavailable_presence_or_nothing(raw, server):
    lovers(server, juliet="to", romeo="from")
    balcony = await online(raw, f"{J}/balcony")   # he never logged in: the probe gets no answer
    romeo = await online(raw, f"{R}/orchard")
    await romeo.send("<presence type='unavailable'><status>Gone to Mantua</status></presence>")
    await flush(romeo)
    same_list(await flush(balcony), [
        f"<presence from='{R}/orchard' to='{J}'/>",
        f"<presence from='{R}/orchard' to='{J}' type='unavailable'><status>Gone to Mantua</status></presence>"])
    chamber = await raw()
    await chamber.login(f"{J}/chamber")
    await chamber.send("<presence/>")
    last = f"<presence from='{R}/orchard' to='{J}' type='unavailable'><status>Gone to Mantua</status></presence>"
    same_list(await flush(chamber), [f"<presence from='{J}/chamber' to='{J}/chamber'/>",
                                     last,                                    # the probe (from her bare JID)
                                     f"<presence from='{J}/balcony' to='{J}/chamber'/>"])  # her other resource
    # The answer went to her bare JID, so every available resource has it.
    same_list(await flush(balcony), [f"<presence from='{J}/chamber' to='{J}/balcony'/>", last])


async def test_presence_update_goes_to_contacts_and_own_resources(raw, server):
    lovers(server)
    romeo = await online(raw, f"{R}/orchard")
    balcony = await online(raw, f"{J}/balcony")
    chamber = await online(raw, f"{J}/chamber")
    for c in (romeo, balcony):
        await flush(c)
    await balcony.send("<presence><show>away</show></presence>")
    same_list(await flush(balcony), [f"<presence from='{J}/balcony' to='{J}/balcony'><show>away</show></presence>"])
    same_list(await flush(chamber), [f"<presence from='{J}/balcony' to='{J}/chamber'><show>away</show></presence>"])
    same_list(await flush(romeo), [f"<presence from='{J}/balcony' to='{R}'><show>away</show></presence>"])  # no probe


async def test_strangers_see_nothing_and_their_probes_get_nothing(raw, server):
    lovers(server)
    nurse = await online(raw, f"{N}/desk")
    juliet = await online(raw, f"{J}/balcony")
    await juliet.send("<presence><show>dnd</show></presence>")
    await flush(juliet)
    assert await flush(nurse) == []
    # 4.3.2: a probe from someone not subscribed is answered 'unsubscribed', which in her
    # (empty) state changes nothing and is not delivered (A.3.4).
    await nurse.send(f"<presence to='{J}' type='probe'/>")
    assert await flush(nurse) == []
    assert await flush(juliet) == []


async def test_unavailable_presence_is_broadcast(raw, server):
    lovers(server)
    romeo = await online(raw, f"{R}/orchard")
    balcony = await online(raw, f"{J}/balcony")
    chamber = await online(raw, f"{J}/chamber")
    for c in (romeo, balcony):
        await flush(c)
    await balcony.send("<presence type='unavailable'><status>Good night</status></presence>")
    bye = "<status>Good night</status>"
    same_list(await flush(balcony),
              [f"<presence from='{J}/balcony' to='{J}/balcony' type='unavailable'>{bye}</presence>"])
    same_list(await flush(chamber),
              [f"<presence from='{J}/balcony' to='{J}/chamber' type='unavailable'>{bye}</presence>"])
    same_list(await flush(romeo), [f"<presence from='{J}/balcony' to='{R}' type='unavailable'>{bye}</presence>"])
    # Unavailable resources get no more presence, and no messages to the bare JID.
    await romeo.send("<presence><show>xa</show></presence>")
    await romeo.send(f"<message to='{J}' type='chat'><body>Where art thou?</body></message>")
    await flush(romeo)
    assert await flush(balcony) == []
    got = await flush(chamber)
    assert [el.tag.split("}")[1] for el in got] == ["presence", "message"]


async def test_closing_the_stream_without_unavailable_presence(raw, server):
    lovers(server)
    romeo = await online(raw, f"{R}/orchard")
    juliet = await online(raw, f"{J}/balcony")
    nurse = await online(raw, f"{N}/desk")
    await juliet.send(f"<presence to='{N}/desk'/>")   # directed presence, 4.6
    await flush(juliet)
    await flush(romeo), await flush(nurse)
    juliet.writer.transport.abort()    # the connection just drops
    await until(gone(server, f"{J}/balcony"), server, what="juliet's dropped session closed")
    same_list(await flush(romeo), [f"<presence from='{J}/balcony' to='{R}' type='unavailable'/>"])
    same_list(await flush(nurse), [f"<presence from='{J}/balcony' to='{N}/desk' type='unavailable'/>"])
    # A clean close without unavailable presence counts the same.
    chamber = await online(raw, f"{J}/chamber")
    await flush(romeo)
    await chamber.send("</stream:stream>")
    await until(gone(server, f"{J}/chamber"), server, what="juliet's closed session ended")
    same_list(await flush(romeo), [f"<presence from='{J}/chamber' to='{R}' type='unavailable'/>"])


async def test_directed_presence_and_the_unavailable_that_follows(raw, server):
    lovers(server, juliet="from", romeo="to")
    juliet = await online(raw, f"{J}/balcony")
    nurse = await online(raw, f"{N}/desk")
    benvolio = await online(raw, "benvolio@example.net/square")
    romeo = await online(raw, f"{R}/orchard")
    for c in (juliet, nurse, benvolio):
        await flush(c)
    await juliet.send(f"<presence to='{N}/desk'><status>Hello nurse</status></presence>")
    await juliet.send("<presence to='benvolio@example.net'/>")
    await juliet.send(f"<presence to='{R}'><status>Just for you</status></presence>")  # he is subscribed anyway
    await flush(juliet)
    same_list(await flush(nurse),
              [f"<presence from='{J}/balcony' to='{N}/desk'><status>Hello nurse</status></presence>"])
    same_list(await flush(benvolio), [f"<presence from='{J}/balcony' to='benvolio@example.net'/>"])
    same_list(await flush(romeo), [f"<presence from='{J}/balcony' to='{R}'><status>Just for you</status></presence>"])
    # Later broadcast presence does not go to directed-presence targets (4.6.3) ...
    await juliet.send("<presence><show>away</show></presence>")
    await flush(juliet)
    assert await flush(nurse) == [] and await flush(benvolio) == []
    await flush(romeo)
    # ... but the unavailable does, once to each, and once to her subscriber.
    await juliet.send("<presence type='unavailable'/>")
    await flush(juliet)
    same_list(await flush(nurse), [f"<presence from='{J}/balcony' to='{N}/desk' type='unavailable'/>"])
    same_list(await flush(benvolio), [f"<presence from='{J}/balcony' to='benvolio@example.net' type='unavailable'/>"])
    same_list(await flush(romeo), [f"<presence from='{J}/balcony' to='{R}' type='unavailable'/>"])


async def test_directed_unavailable_ends_directed_presence(raw, server):
    juliet = await online(raw, f"{J}/balcony")
    nurse = await online(raw, f"{N}/desk")
    await flush(juliet)
    await juliet.send(f"<presence to='{N}'/>")
    await juliet.send(f"<presence to='{N}' type='unavailable'/>")
    await flush(juliet)
    assert len(await flush(nurse)) == 2
    await juliet.close()
    await until(gone(server, f"{J}/balcony"), server, what="juliet's session closed")
    assert await flush(nurse) == []


async def test_presence_errors_and_strange_addresses(raw, server):
    c = await online(raw, f"{J}/balcony")
    await c.send("<presence type='bogus' id='p1'/>")
    await c.send("<presence type='subscribe' id='p2'/>")
    got = await flush(c)
    assert [(el.get("id"), error_of(el)) for el in got] == [("p1", ("modify", "bad-request")),
                                                            ("p2", ("modify", "bad-request"))]
    # Presence to no such account, or to a resource that is not there, is silently ignored (8.5.1, 8.5.3.2.2).
    await c.send("<presence to='tybalt@example.com'/>")
    await c.send(f"<presence to='{R}/nowhere'/>")
    await c.send("<presence to='tybalt@example.com' type='probe'/>")
    assert await flush(c) == []


# priority and messages to the bare JID (4.7.2.3, 8.5.2.1.1) ------------------------------------
async def test_message_to_bare_jid_goes_to_the_highest_non_negative_priority(raw, server):
    balcony = await online(raw, f"{J}/balcony", presence="<presence><priority>5</priority></presence>")
    chamber = await online(raw, f"{J}/chamber", presence="<presence><priority>1</priority></presence>")
    garden = await online(raw, f"{J}/garden", presence="<presence><priority>-1</priority></presence>")
    romeo = await online(raw, f"{R}/orchard")
    for c in (balcony, chamber):
        await flush(c)
    assert sorted(s.priority for s in server.resources(JID(J))) == [-1, 1, 5]

    async def send(body):
        await romeo.send(f"<message to='{J}' type='chat'><body>{body}</body></message>")
        await flush(romeo)
        return [[el.findtext("{jabber:client}body") for el in await flush(c) if el.tag.endswith("}message")]
                for c in (balcony, chamber, garden)]

    assert await send("one") == [["one"], [], []]
    await balcony.send("<presence><priority>1</priority></presence>")       # now equal: both get it
    await flush(balcony), await flush(chamber)
    assert await send("two") == [["two"], ["two"], []]
    await balcony.send("<presence><priority>-5</priority></presence>")
    await chamber.send("<presence><priority>-128</priority></presence>")
    await flush(balcony), await flush(chamber)
    assert await send("three") == [[], [], []]                              # nobody: kept offline
    assert server.storage.count_offline(J) == 1
    await romeo.send(f"<message to='{J}/garden' type='chat'><body>four</body></message>")
    await flush(romeo)
    assert [el.findtext("{jabber:client}body") for el in await flush(garden)] == ["four"]  # full JID: delivered


async def test_priority_values(raw, server):
    c = await raw()
    await c.login(f"{J}/balcony")
    session = server.resources(JID(J))[0]
    for text, expected in (("7", 7), ("+3", 3), ("-128", -128), ("500", 127), ("-500", -128), ("high", 0), ("", 0)):
        await c.send(f"<presence><priority>{text}</priority></presence>")
        await flush(c)
        assert session.priority == expected, text
    assert session.available and session.presence is not None


# slixmpp -------------------------------------------------------------------------------------
async def test_presence_with_slixmpp(server, slix):
    lovers(server)
    romeo = await slix(f"{R}/orchard")
    await romeo.get_roster()
    juliet = await slix(f"{J}/balcony")
    await juliet.get_roster()

    async def presence_from(client, jid, ptype="available"):
        while True:
            p = await asyncio.wait_for(client.presences.get(), 5)
            if str(p["from"]) == jid and p["type"] == ptype:
                return p

    await presence_from(romeo, f"{J}/balcony")
    # the answer to her probe
    await until(lambda: "orchard" in juliet.client_roster[R].resources, juliet, what="romeo's resource seen")
    juliet.send_presence(pshow="away", pstatus="At the window")
    p = await presence_from(romeo, f"{J}/balcony", "away")
    assert p["status"] == "At the window"
    await juliet.close()
    await presence_from(romeo, f"{J}/balcony", "unavailable")
    same(server.presence.last_unavailable[J], f"<presence from='{J}/balcony' type='unavailable'/>")
