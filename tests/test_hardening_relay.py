"""Nothing a client sends may break another client: namespace-ill-formed XML is refused, never relayed.

An unbound prefix (``<foo:bar/>``, ``foo:y='1'``) is a fatal error for an expat-based
client such as slixmpp: it drops its stream. The server used to relay it, to one
recipient, to a whole room (and into its history) or into offline storage. Now the
sender's stream ends with ``<not-well-formed/>`` (RFC 6120 sections 4.9.3.13 and 11)
and nothing of it reaches anyone or any store.
"""

import asyncio
import logging

import pytest
from lxml import etree

from tests.support_stanzas import (
    BAD_ATTRIBUTE,
    BAD_CHILD,
    assert_still_serving,
    flush,
    online,
    refused,
    stream_error_after,
)


def bodies(stanzas) -> list:
    return [s.findtext("{jabber:client}body") for s in stanzas if etree.QName(s).localname == "message"]


async def test_a_slixmpp_recipient_keeps_its_stream(raw, slix):
    romeo = await slix("romeo@example.net/orchard")
    lost = []
    romeo.add_event_handler("disconnected", lost.append)
    juliet = await raw()
    await juliet.login("juliet@example.com/balcony")
    await refused(juliet, BAD_CHILD.format(to="romeo@example.net/orchard"))
    nurse = await raw()
    await nurse.login("nurse@example.com/desk")
    await nurse.send("<message to='romeo@example.net/orchard' type='chat'><body>after</body></message>")
    got = await asyncio.wait_for(romeo.messages.get(), 5)
    assert got["body"] == "after"
    await romeo.plugin["xep_0199"].ping("example.net", timeout=5)  # its stream still works
    assert lost == []


@pytest.mark.parametrize("bad", [BAD_CHILD, BAD_ATTRIBUTE])
async def test_the_recipient_gets_nothing(raw, bad):
    nurse = await online(raw, "nurse@example.com/desk")
    juliet = await raw()
    await juliet.login("juliet@example.com/balcony")
    await refused(juliet, bad.format(to="nurse@example.com/desk"))
    assert await flush(nurse) == []
    await assert_still_serving(raw)


async def test_nothing_is_stored_offline(raw, server):
    juliet = await raw()
    await juliet.login("juliet@example.com/balcony")
    await refused(juliet, BAD_ATTRIBUTE.format(to="romeo@example.net"))
    assert server.storage.count_offline("romeo@example.net") == 0


@pytest.mark.parametrize("data, expected", [
    ("<foo:bar/>", "not-well-formed"),
    ("<foo:bar xmlns:foo='urn:x'/>", "unsupported-stanza-type"),  # well-formed, only unknown
])
async def test_a_top_level_element_with_an_unbound_prefix_is_not_well_formed(raw, data, expected):
    assert await stream_error_after(raw, data, login=True) == expected


async def test_a_bad_row_in_the_offline_table_does_not_lose_the_others(raw, server, caplog):
    # A row this version would refuse, stored by an older one (or edited by hand).
    store = server.storage.store_offline
    store("juliet@example.com", "<message from='romeo@example.net/o' type='chat'><body>one</body></message>", "s")
    store("juliet@example.com", "<message from='romeo@example.net/o' type='chat'><body>x</body><foo:bar/></message>",
          "s")
    store("juliet@example.com", "<message from='romeo@example.net/o' type='chat'><body>two</body></message>", "s")
    with caplog.at_level(logging.INFO, logger="xmpplab"):
        juliet = await online(raw, "juliet@example.com/balcony", presence=None)
        await juliet.send("<presence/>")
        got = await flush(juliet)
    assert bodies(got) == ["one", "two"]
    assert server.storage.count_offline("juliet@example.com") == 0
    [line] = [r for r in caplog.records if "offline" in r.getMessage()]
    assert "\n" not in line.getMessage() and line.exc_info is None
    await assert_still_serving(raw)


async def test_offline_messages_are_delivered_in_order_and_then_removed(raw, server):
    romeo = await raw()
    await romeo.login("romeo@example.net/orchard")
    for body in ("one", "two", "three"):
        await romeo.send(f"<message to='juliet@example.com' type='chat'><body>{body}</body></message>")
    await flush(romeo)
    assert server.storage.count_offline("juliet@example.com") == 3
    juliet = await online(raw, "juliet@example.com/balcony", presence=None)
    await juliet.send("<presence/>")
    assert bodies(await flush(juliet)) == ["one", "two", "three"]
    assert server.storage.count_offline("juliet@example.com") == 0


def test_a_session_that_goes_away_midway_keeps_the_rest():
    from types import SimpleNamespace

    from xmpplab.jid import JID
    from xmpplab.server.modules.offline import deliver
    from xmpplab.server.storage import Storage

    storage = Storage()
    for body in ("one", "two", "three"):
        storage.store_offline("juliet@example.com", f"<message type='chat'><body>{body}</body></message>", "s")
    sent = []

    def send(stanza):
        sent.append(stanza.findtext("{jabber:client}body"))
        session.closed = True  # the connection is lost right after the first write

    session = SimpleNamespace(priority=0, server=SimpleNamespace(storage=storage), closed=False, send=send,
                              jid=JID("juliet@example.com/balcony"))
    deliver(session)
    assert sent == ["one"]
    assert [text for _, text, _ in storage.offline_messages("juliet@example.com")] == [
        "<message type='chat'><body>two</body></message>", "<message type='chat'><body>three</body></message>"]
