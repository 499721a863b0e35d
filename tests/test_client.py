"""The recording Client against the loopback server: login, each helper, raw XML, and the recording itself."""

import asyncio
from types import SimpleNamespace

import pytest
from lxml import etree

from tests.support import RawClient
from tests.support_wait import round_trip, until
from xmpplab.client import (
    Client,
    ClientError,
    ConnectError,
    IqError,
    RosterItem,
    StanzaTimeout,
)
from xmpplab.server import Server

USERS = ("juliet@example.com", "romeo@example.net", "nurse@example.com")


@pytest.fixture
async def rec():
    """A server whose events and the clients' events all go into one list: ``rec.server``, ``rec.events``,
    and ``await rec.connect(jid)`` for a logged-in Client."""
    events: list[dict] = []
    server = Server(["example.com", "example.net"], recorder=events.append)
    await server.start()
    for user in USERS:
        server.accounts.add(user, "secret")
    clients = []

    async def connect(jid, password="secret", **kw):
        kw.setdefault("verify_tls", False)
        client = await Client.connect(jid, password, host="127.0.0.1", port=server.port, recorder=events.append,
                                      **kw)
        clients.append(client)
        return client

    try:
        yield SimpleNamespace(server=server, events=events, connect=connect)
    finally:
        for client in clients:
            await client.disconnect()
        await server.stop()


def streams(events, conn):
    """The text each way on one connection: ``{"in": ..., "out": ...}``."""
    text = {"in": "", "out": ""}
    for e in events:
        if e["conn"] == conn and e["type"] == "data":
            text[e["dir"]] += e["data"]
    return text


def server_side(events, client_conn):
    """The server's connection id for a client's connection (the client's local address is its peer)."""
    opened = {e["conn"]: e for e in events if e["type"] == "open"}
    local = opened[client_conn]["local"]
    return next(c for c, e in opened.items() if e["role"] == "receiving" and e["peer"] == local)


async def test_login_binds_the_resource_and_records_each_step(rec):
    juliet = await rec.connect("juliet@example.com/balcony")
    assert str(juliet.jid) == "juliet@example.com/balcony"
    assert juliet.connected and juliet.conn.startswith("client-juliet-")
    assert "juliet@example.com/balcony" in repr(juliet) and "TLSv1" in repr(juliet)
    mine = [e for e in rec.events if e["conn"] == juliet.conn]
    assert mine == juliet.events
    assert mine[0]["type"] == "open" and mine[0]["role"] == "initiating" and mine[0]["kind"] == "c2s"
    kinds = [e["type"] for e in mine if e["type"] != "data"]
    assert kinds == ["open", "tls", "auth", "bound"]
    auth = next(e for e in mine if e["type"] == "auth")
    assert auth["mechanism"].startswith("SCRAM-") and auth["user"] == "juliet@example.com"
    assert next(e for e in mine if e["type"] == "bound")["jid"] == "juliet@example.com/balcony"


async def test_recording_is_the_exact_text_both_ways_also_after_starttls(rec):
    juliet = await rec.connect("juliet@example.com/balcony")
    romeo = await rec.connect("romeo@example.net/orchard")
    await juliet.send_message("romeo@example.net", "Ay me! <&> ünïcode ☀")
    await romeo.next("message")
    await juliet.disconnect()
    await romeo.disconnect()
    # the server has read both streams to their end (the clients' side ends with disconnect())
    await until(lambda: not rec.server.connections, rec.server, what="the server's connections closed")
    for client in (juliet, romeo):
        mine = streams(rec.events, client.conn)
        theirs = streams(rec.events, server_side(rec.events, client.conn))
        # What the client wrote is what the server read, byte for byte, and the other way round.
        assert mine["out"] == theirs["in"]
        assert mine["in"] == theirs["out"]
    # Plaintext above TLS: the SASL exchange and the message are readable after the tls event.
    conn_events = [e for e in rec.events if e["conn"] == juliet.conn]
    tls_at = next(i for i, e in enumerate(conn_events) if e["type"] == "tls")
    after = "".join(e["data"] for e in conn_events[tls_at:] if e["type"] == "data" and e["dir"] == "out")
    assert "<auth " in after and "Ay me! &lt;&amp;&gt; ünïcode ☀" in after
    before = "".join(e["data"] for e in conn_events[:tls_at] if e["type"] == "data")
    assert "<starttls" in before and "<proceed" in before and "<auth" not in before
    assert conn_events[-1]["type"] == "close" and conn_events[-1]["clean"] is True


async def test_send_message_and_next(rec):
    juliet = await rec.connect("juliet@example.com/balcony")
    romeo = await rec.connect("romeo@example.net/orchard")
    sent = await juliet.send_message("romeo@example.net", "Wherefore art thou?")
    assert sent["id"]
    got = await romeo.next("message", from_="juliet@example.com")
    assert got["body"] == "Wherefore art thou?"
    assert str(got["from"]) == "juliet@example.com/balcony" and got["type"] == "chat"
    assert got["id"] == sent["id"]
    # A predicate leaves the others waiting, in order.
    for n in range(3):
        await juliet.send_message("romeo@example.net", f"line {n}")
    third = await romeo.next("message", predicate=lambda m: m["body"] == "line 2")
    assert third["body"] == "line 2"
    assert (await romeo.next("message"))["body"] == "line 0"
    assert (await romeo.next("message"))["body"] == "line 1"


async def test_next_times_out_with_a_clear_message(rec):
    romeo = await rec.connect("romeo@example.net/orchard")
    with pytest.raises(StanzaTimeout, match=r"romeo@example.net/orchard waited 0.2 s for a message from "
                                            r"juliet@example.com; none arrived"):
        await romeo.next("message", timeout=0.2, from_="juliet@example.com")
    with pytest.raises(ValueError, match="kind must be one of message, presence, iq"):
        await romeo.next("messages")


async def test_a_timeout_says_what_waits_in_the_queue_and_how_to_see_it(rec):
    """next() takes stanzas in arrival order; a timeout names the others waiting and how to look at them."""
    juliet = await rec.connect("juliet@example.com/balcony")
    romeo = await rec.connect("romeo@example.net/orchard")
    romeo.clear()
    await juliet.send_message("romeo@example.net", "Good night, good night!")
    await juliet.send_presence("romeo@example.net/orchard", show="away")
    await romeo.next("presence", from_="juliet@example.com")  # both have arrived (in order) by now
    with pytest.raises(StanzaTimeout) as caught:
        await romeo.next("iq", timeout=0.2)
    text = str(caught.value)
    waiting = romeo.pending
    assert "Good night, good night!" in [s["body"] for s in waiting]
    assert f"waited 0.2 s for an iq; none arrived. {len(waiting)} other stanza" in text
    assert "a message from juliet@example.com/balcony" in text
    assert ".pending shows them" in text and ".clear() forgets them" in text


async def test_a_cell_stopped_while_next_waits_stops_even_when_a_stanza_arrives_at_that_moment(rec):
    """Jupyter's interrupt cancels the cell's task. A stanza that arrives in the same turn of the event loop (one
    that does not match) must not swallow the cancellation: asyncio.wait_for on Python 3.11 then returns the
    inner result instead of raising, and next() went on waiting."""
    romeo = await rec.connect("romeo@example.net/orchard")
    cell = asyncio.ensure_future(romeo.next("message", predicate=lambda m: m["body"] == "never", timeout=30))
    await asyncio.sleep(0)  # the task runs until it waits
    assert not cell.done()
    cell.cancel()
    romeo._wake()  # what a stanza's arrival does to the waiting next(), in the same turn
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(cell, 5)


async def test_send_presence_directed_with_show_and_status(rec):
    juliet = await rec.connect("juliet@example.com/balcony")
    romeo = await rec.connect("romeo@example.net/orchard")
    romeo.clear()
    await juliet.send_presence("romeo@example.net/orchard", show="away", status="at the window", priority=5)
    pres = await romeo.next("presence", from_="juliet@example.com/balcony")
    assert pres["show"] == "away" and pres["status"] == "at the window"


async def test_iq_returns_the_result_and_raises_on_an_error(rec):
    juliet = await rec.connect("juliet@example.com/balcony")
    pong = await juliet.iq("<iq type='get' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert pong["type"] == "result" and str(pong["from"]) == "example.com"
    version = await juliet.iq(etree.fromstring(
        "<iq xmlns='jabber:client' type='get' to='example.com'><query xmlns='jabber:iq:version'/></iq>"))
    assert version.xml.find("{jabber:iq:version}query/{jabber:iq:version}name").text
    with pytest.raises(IqError) as err:
        await juliet.iq("<iq type='get' to='example.com'><nothing xmlns='urn:example:none'/></iq>")
    assert err.value.condition == "service-unavailable" and err.value.type == "cancel"
    assert "iq get to example.com <nothing xmlns='urn:example:none'/> failed: service-unavailable" in str(err.value)
    # The answers went to iq(), not into the queue of next().
    assert [s for s in juliet.pending if s.name == "iq"] == []
    with pytest.raises(ValueError, match="'get' or 'set'"):
        await juliet.iq("<iq type='result' id='x'/>")
    with pytest.raises(ValueError, match="not well-formed"):
        await juliet.iq("<iq type='get'>")


async def test_iq_without_an_answer_times_out(rec):
    juliet = await rec.connect("juliet@example.com/balcony")
    mute = await RawClient.open(rec.server.port)
    try:
        await mute.login("nurse@example.com/silent", "secret")
        with pytest.raises(StanzaTimeout, match="got no answer within 0.3 s"):
            await juliet.iq("<iq type='get' to='nurse@example.com/silent'><ping xmlns='urn:xmpp:ping'/></iq>",
                            timeout=0.3)
    finally:
        await mute.close()


async def test_an_iq_request_from_another_client_comes_out_of_next(rec):
    juliet = await rec.connect("juliet@example.com/balcony")
    romeo = await rec.connect("romeo@example.net/orchard")
    await juliet.iq("<iq type='get' to='romeo@example.net/orchard'><ping xmlns='urn:xmpp:ping'/></iq>")
    request = await romeo.next("iq")
    assert request["type"] == "get" and str(request["from"]) == "juliet@example.com/balcony"


async def test_roster_subscribe_and_approve(rec):
    juliet = await rec.connect("juliet@example.com/balcony")
    romeo = await rec.connect("romeo@example.net/orchard")
    assert await juliet.roster() == []
    await juliet.subscribe("romeo@example.net")
    request = await romeo.next("presence", predicate=lambda p: p["type"] == "subscribe")
    assert request["from"].bare == "juliet@example.com"
    pending = await juliet.roster()
    assert pending == [RosterItem(jid="romeo@example.net", subscription="none", ask="subscribe")]
    await romeo.approve(request["from"])
    await juliet.next("presence", predicate=lambda p: p["type"] == "subscribed")
    assert [(i.jid, i.subscription, i.ask) for i in await juliet.roster()] == [("romeo@example.net", "to", None)]
    assert [(i.jid, i.subscription) for i in await romeo.roster()] == [("juliet@example.com", "from")]
    assert str((await romeo.roster())[0]) == "juliet@example.com: from"


async def test_subscription_requests_wait_for_the_learner(rec):
    # slixmpp would accept them itself (auto_authorize); the Client leaves that to approve().
    juliet = await rec.connect("juliet@example.com/balcony")
    romeo = await rec.connect("romeo@example.net/orchard")
    await juliet.subscribe("romeo@example.net")
    await romeo.next("presence", predicate=lambda p: p["type"] == "subscribe")
    await round_trip(romeo)  # an automatic 'subscribed' from romeo's client would have been processed by now
    assert [(i.subscription, i.ask) for i in await juliet.roster()] == [("none", "subscribe")]


async def test_send_raw_writes_the_text_as_given(rec):
    juliet = await rec.connect("juliet@example.com/balcony")
    romeo = await rec.connect("romeo@example.net/orchard")
    raw = "<message to='romeo@example.net' type='normal' id='raw-1'><body>typed by hand</body></message>"
    await juliet.send_raw(raw)
    got = await romeo.next("message")
    assert got["body"] == "typed by hand" and got["id"] == "raw-1"
    assert raw in [e["data"] for e in juliet.events if e["type"] == "data" and e["dir"] == "out"]
    with pytest.raises(TypeError):
        await juliet.send_raw(42)


async def test_plain_mechanism_on_request(rec):
    juliet = await rec.connect("juliet@example.com/balcony", sasl_mechanism="PLAIN")
    assert next(e for e in juliet.events if e["type"] == "auth")["mechanism"] == "PLAIN"


async def test_resource_chosen_by_the_server(rec):
    juliet = await rec.connect("juliet@example.com")
    assert juliet.jid.bare == "juliet@example.com" and juliet.jid.resource


async def test_connect_errors_say_what_failed(rec):
    with pytest.raises(ConnectError, match=r"could not log in as juliet@example.com: .*not-authorized"):
        await rec.connect("juliet@example.com/balcony", "wrong")
    with pytest.raises(ConnectError, match="TLS certificate verification failed for example.com.*verify_tls=False"):
        await rec.connect("juliet@example.com/balcony", verify_tls=True)
    with pytest.raises(ConnectError, match=r"could not connect to 127.0.0.1:1\b"):
        await Client.connect("juliet@example.com/balcony", "secret", host="127.0.0.1", port=1)


async def test_disconnect_closes_cleanly(rec):
    juliet = await rec.connect("juliet@example.com/balcony")
    await juliet.disconnect()
    assert not juliet.connected and "disconnected" in repr(juliet)
    assert juliet.events[-1]["type"] == "close" and juliet.events[-1]["clean"] is True
    assert streams(rec.events, juliet.conn)["out"].endswith("</stream:stream>")
    with pytest.raises(ClientError, match="disconnected"):
        await juliet.next("message", timeout=0.1)
    with pytest.raises(ClientError, match="not connected"):
        await juliet.send_message("romeo@example.net", "too late")
    await juliet.disconnect()  # twice is fine
    assert rec.server.sessions == {}
