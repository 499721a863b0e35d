"""A namespace-ill-formed groupchat message reaches no occupant and never enters the room's history."""

import pytest
from lxml import etree

from tests.support_muc import MUC, ROOM, enter, garden, muc_server
from tests.support_stanzas import BAD_ATTRIBUTE, BAD_CHILD, flush, online, refused


@pytest.fixture
async def server():
    """The shared fixture's server, with MUC (tests/support_muc.py)."""
    async with muc_server() as srv:
        yield srv


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
