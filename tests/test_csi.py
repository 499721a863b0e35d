"""XEP-0352 Client State Indication: an inactive client gets presence updates late, and only the latest."""

from tests.support_roster import put_state
from tests.support_stanzas import condition, flush, online
from xmpplab.jid import JID
from xmpplab.server.modules.csi import NS_CSI, is_inactive

INACTIVE = f"<inactive xmlns='{NS_CSI}'/>"
ACTIVE = f"<active xmlns='{NS_CSI}'/>"


async def lovers(server, raw):
    put_state(server, "juliet@example.com", "romeo@example.net", "both")
    put_state(server, "romeo@example.net", "juliet@example.com", "both")
    juliet = await online(raw, "juliet@example.com")
    romeo = await online(raw, "romeo@example.net")
    await flush(juliet)
    return juliet, romeo


def shows(elements) -> list:
    return [(e.get("type"), e.findtext("{jabber:client}show")) for e in elements if e.tag.endswith("presence")]


async def test_csi_is_offered_after_login(raw):
    c = await raw()
    features = await c.login("juliet@example.com")
    assert features.find(f"{{{NS_CSI}}}csi") is not None


async def test_inactive_holds_presence_keeps_the_latest_and_a_message_comes_through_in_order(server, raw):
    juliet, romeo = await lovers(server, raw)
    await juliet.send(INACTIVE)
    for show in ("away", "xa", "dnd"):
        await romeo.send(f"<presence><show>{show}</show></presence>")
    await flush(romeo)
    await juliet.expect_nothing()  # three updates, all held
    await romeo.send("<message to='juliet@example.com' type='chat'><body>wake up</body></message>")
    first, second = await juliet.recv(), await juliet.recv()
    assert shows([first]) == [(None, "dnd")]  # only the latest update, written before the message
    assert second.findtext("{jabber:client}body") == "wake up"
    await juliet.expect_nothing()


async def test_active_writes_what_was_held(server, raw):
    juliet, romeo = await lovers(server, raw)
    await juliet.send(INACTIVE)
    await romeo.send("<presence type='unavailable'/>")
    await flush(romeo)
    await juliet.expect_nothing()
    await juliet.send(ACTIVE)
    assert shows([await juliet.recv()]) == [("unavailable", None)]
    await romeo.send("<presence/>")  # active again: straight through
    assert shows([await juliet.recv()]) == [(None, None)]


async def test_an_unknown_nonza_still_ends_the_stream(raw):
    c = await online(raw, "juliet@example.com")
    await c.send("<bogus xmlns='urn:example:nothing'/>")
    assert condition(await c.recv()) == "unsupported-stanza-type"


async def test_slixmpp_csi_plugin_switches_the_state(server, slix):
    """A real client's XEP-0352 plugin (slixmpp xep_0352) sees the feature and tells its state."""
    juliet = await slix("juliet@example.com/balcony", plugins=("xep_0030", "xep_0352", "xep_0199"))
    session = server.session_for(JID("juliet@example.com/balcony"))
    juliet.plugin["xep_0352"].send_inactive()
    await juliet.plugin["xep_0199"].ping("example.com")  # a round trip: the nonza before it has arrived
    assert is_inactive(session)
    juliet.plugin["xep_0352"].send_active()
    await juliet.plugin["xep_0199"].ping("example.com")
    assert not is_inactive(session)


async def test_what_is_held_stays_bounded(server, raw, monkeypatch):
    monkeypatch.setattr("xmpplab.server.modules.csi.MAX_HELD_CHARS", 300)
    juliet, romeo = await lovers(server, raw)
    await juliet.send(INACTIVE)
    await romeo.send(f"<presence><status>{'x' * 400}</status></presence>")  # over the bound: written at once
    assert shows([await juliet.recv()]) == [(None, None)]
