"""A namespace-ill-formed groupchat message reaches no occupant and never enters the room's history."""

from lxml import etree

from tests.test_hardening_relay import BAD_ATTRIBUTE, BAD_CHILD, refused
from tests.test_muc import MUC, ROOM, enter, garden, server  # noqa: F401  (server: the MUC-enabled fixture)
from tests.test_roster import flush, online


def messages(stanzas) -> list:
    return [s for s in stanzas if etree.QName(s).localname == "message"]


async def test_bad_groupchat_reaches_nobody_and_stays_out_of_history(raw):
    juliet, romeo = await garden(raw)
    for bad in (BAD_CHILD, BAD_ATTRIBUTE):
        bad = bad.format(to=ROOM).replace("type='chat'", "type='groupchat'")
        await refused(romeo, bad)
        assert messages(await flush(juliet)) == []  # only romeo's leaving presence
        romeo = await online(raw, "romeo@example.net/orchard")
        await enter(romeo, "romeo")
        await flush(juliet)
    await romeo.send(f"<message to='{ROOM}' type='groupchat'><body>fine</body></message>")
    assert [m.findtext("{jabber:client}body") for m in messages(await flush(juliet))] == ["fine"]
    nurse = await online(raw, "nurse@example.com/desk")
    history = messages(await enter(nurse, "nurse", x=f"<x xmlns='{MUC}'/>"))
    # the history, then the (empty) subject (XEP-0045 7.2.13, 7.2.15)
    assert [m.findtext("{jabber:client}body") for m in history] == ["fine", None]
