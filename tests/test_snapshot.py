"""Server.snapshot(): what a server holds, as plain immutable data, and the views that draw it.

The routing graph, the roster board and the Lab's card read snapshots, never the live server:
these tests check what a user sees in them, and that a snapshot keeps showing the moment it was taken.
"""

import dataclasses

import pytest

from xmpplab.lab import Lab
from xmpplab.render.graph import routing_graph
from xmpplab.snapshot import LabSnapshot, ServerSnapshot, snapshots_of

PING = "<iq type='get' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>"
UNLOCK = ("<iq type='set' to='garden@conference.example.com' id='unlock'>"
          "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>")
JOIN = "<presence to='garden@conference.example.com/{nick}'><x xmlns='http://jabber.org/protocol/muc'/></presence>"


async def barrier(client):
    """A ping round trip: when its answer is back, the server has handled everything the client sent before."""
    await client.iq(PING)


@pytest.fixture
async def garden():
    """A Lab with juliet and romeo online, juliet away with priority 5, both in garden@conference.example.com,
    and romeo subscribed to juliet's presence (she approved)."""
    async with Lab.start(replace=False) as lab:
        juliet = await lab.connect("juliet@example.com/balcony")
        romeo = await lab.connect("romeo@example.net/orchard")
        await juliet.send_presence(show="away", status="In the garden", priority=5)
        await romeo.subscribe("juliet@example.com")
        await juliet.next("presence", predicate=lambda p: p["type"] == "subscribe")
        await juliet.approve("romeo@example.net")
        # subscribed: the server sends romeo juliet's current presence (RFC 6121 3.1.6)
        await romeo.next("presence", predicate=lambda p: str(p["from"]) == "juliet@example.com/balcony")
        for client, nick in ((juliet, "juliet"), (romeo, "romeo")):
            await client.send_raw(JOIN.format(nick=nick))
            joined = await client.next("presence", predicate=lambda p, nick=nick: str(p["from"]).endswith("/" + nick))
            assert joined["type"] != "error", joined
            if nick == "juliet":  # she created it: accept the default configuration to unlock it (XEP-0045 10.1.2)
                await juliet.iq(UNLOCK)
        await barrier(juliet)
        await barrier(romeo)
        yield lab, juliet, romeo


async def test_a_snapshot_holds_who_is_online_their_presence_rosters_and_rooms(garden):
    lab, juliet, romeo = garden
    snap = lab.server.snapshot()
    assert isinstance(snap, ServerSnapshot)
    assert snap.hosts == ("example.com", "example.net") and snap.running and snap.port == lab.server.port
    balcony = snap.account("juliet@example.com").resources
    assert [(r.jid, r.available, r.show, r.status, r.priority) for r in balcony] == [
        ("juliet@example.com/balcony", True, "away", "In the garden", 5)]
    assert balcony[0].conn.startswith("c2s-")
    # RFC 6121 Appendix A: romeo sees juliet ("to"), juliet is seen by romeo ("from")
    romeo_roster = {e.contact: e.subscription for e in snap.account("romeo@example.net").roster}
    juliet_roster = {e.contact: e.subscription for e in snap.account("juliet@example.com").roster}
    assert romeo_roster == {"juliet@example.com": "to"} and juliet_roster == {"romeo@example.net": "from"}
    service = next(s for s in snap.services if s.domain == "conference.example.com")
    assert service.parent == "example.com"
    (room,) = service.rooms
    assert room.jid == "garden@conference.example.com"
    assert {(o.nick, o.jids) for o in room.occupants} == {("juliet", ("juliet@example.com/balcony",)),
                                                          ("romeo", ("romeo@example.net/orchard",))}


async def test_a_snapshot_is_immutable_and_stays_as_it_was(garden):
    lab, juliet, romeo = garden
    before = lab.snapshot()
    assert isinstance(before, LabSnapshot) and snapshots_of(before) == before.servers
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.servers[0].accounts[0].resources[0].priority = 99  # type: ignore[misc]
    await juliet.disconnect()
    # romeo sees juliet's presence: her unavailable presence comes once her session is gone (RFC 6121 4.5.2)
    await romeo.next("presence", predicate=lambda p: p["type"] == "unavailable"
                     and str(p["from"]) == "juliet@example.com/balcony")
    after = lab.snapshot()
    assert after != before
    assert after.servers[0].account("juliet@example.com").resources == ()
    assert before.servers[0].account("juliet@example.com").online            # the old one still shows her


async def test_recent_routes_say_where_each_stanza_was_for(garden):
    lab, juliet, romeo = garden
    await juliet.send_message("romeo@example.net/orchard", "Wherefore art thou?")
    await romeo.next("message")
    routes = lab.server.snapshot().routes
    sent = [r for r in routes if r.kind == "message" and r.to == "romeo@example.net/orchard"]
    assert sent and sent[-1].where == "full" and sent[-1].from_ == "juliet@example.com/balcony"
    assert sent[-1].origin.startswith("c2s-")
    await juliet.send_raw("<presence to='orchard@conference.example.com/juliet'>"
                          "<x xmlns='http://jabber.org/protocol/muc'/></presence>")
    await juliet.next("presence", predicate=lambda p: str(p["from"]) == "orchard@conference.example.com/juliet")
    routes = lab.server.snapshot().routes
    joined = [r for r in routes if r.kind == "presence" and r.to == "orchard@conference.example.com/juliet"]
    assert [r.where for r in joined] == ["component"]
    assert 0 < len(routes) <= 50                                       # only the most recent are kept


async def test_the_graph_of_a_lab_with_two_clients_and_a_room_shows_them(garden):
    lab, juliet, romeo = garden
    for source in (lab, lab.snapshot(), lab.server, lab.server.snapshot()):
        g = routing_graph(source)
        assert {n.id for n in g.nodes_of("resource")} == {"juliet@example.com/balcony", "romeo@example.net/orchard"}
        assert [n.id for n in g.nodes_of("room")] == ["garden@conference.example.com"]
        assert {(e.src, e.info["nick"]) for e in g.edges_of("occupant")} == {
            ("juliet@example.com/balcony", "juliet"), ("romeo@example.net/orchard", "romeo")}
        assert ("romeo@example.net", "juliet@example.com", "subscribed") in g.subscriptions()
        text = g.text()
        assert "/balcony  available, show away, priority 5" in text
        assert "garden@conference.example.com: juliet@example.com/balcony as juliet, " \
               "romeo@example.net/orchard as romeo" in text


async def test_views_drawn_from_a_snapshot_show_that_moment_after_the_lab_stopped():
    from xmpplab.widgets import RosterBoard

    async with Lab.start(replace=False) as lab:
        juliet = await lab.connect("juliet@example.com/balcony")
        await barrier(juliet)
        snap = lab.snapshot()
    assert not lab.running
    g = routing_graph(snap)                                            # the server is gone; the snapshot is not
    assert [n.id for n in g.nodes_of("resource")] == ["juliet@example.com/balcony"]
    board = RosterBoard(snap)
    try:
        assert board.presence() == {"juliet@example.com/balcony": "available"}
        assert "juliet@example.com" in board.html
    finally:
        board.close()
    assert lab.snapshot().servers[0].accounts == ()                    # a stopped server shows nothing


async def test_the_lab_card_reads_the_snapshot(garden):
    lab, juliet, romeo = garden
    html = lab._repr_mimebundle_(include=["text/html"])["text/html"]
    address = f"example.com example.net on 127.0.0.1:{lab.snapshot().servers[0].port}"
    assert address in html and ">balcony</span>" in html and ">orchard</span>" in html


def test_routing_graph_refuses_what_is_not_a_lab_a_server_a_snapshot_or_a_transcript():
    with pytest.raises(TypeError, match="or a snapshot"):
        routing_graph(["not a server"])
    with pytest.raises(TypeError):
        snapshots_of(42)
