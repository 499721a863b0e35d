"""Defects the fuzz harness found outside the stream core, each reproduced through the real server.

Found while building tests/fuzz (docs/fuzzing.md): the stream parser accepts some names and namespace
names that lxml refuses when the server parses a stanza's text again. Over a server-to-server stream
that text parse is ``to_namespace()`` (jabber:server to jabber:client): a stanza with
``<x xmlns='a b'/>`` (or ``<foo:bar/>``, ``<quer:/>``) relayed by a federated server made it raise inside
``data_received``: a "Fatal error: protocol.data_received() call failed" traceback, and the link to
the other server dropped without a stream error. RFC 6120 section 4.9.3.13: such input is answered
with ``<not-well-formed/>``, and an expected fault is logged in one line.
"""

import asyncio
import logging

import pytest
from lxml import etree

from tests.support import RawClient
from xmpplab.server import Server


@pytest.fixture
async def federation():
    """server1.com and server2.com on loopback, knowing each other; s1's recorder wakes waiters."""
    records, changed = [], asyncio.Event()

    def record(fields):
        records.append(fields)
        changed.set()

    s1 = await Server(["server1.com"], s2s_port=0, recorder=record).start()
    s2 = await Server(["server2.com"], s2s_port=0).start()
    s1.s2s.add_peer("server2.com", "127.0.0.1", s2.s2s_port)
    s2.s2s.add_peer("server1.com", "127.0.0.1", s1.s2s_port)
    s1.accounts.add("user1@server1.com", "pw")
    s2.accounts.add("user2@server2.com", "pw")
    a = await RawClient.open(s1.port)
    await a.login("user1@server1.com/pc", "pw")
    b = await RawClient.open(s2.port)
    await b.login("user2@server2.com/phone", "pw")

    async def until(predicate, timeout=5):
        async def wait():
            while not predicate():
                changed.clear()
                await changed.wait()
        await asyncio.wait_for(wait(), timeout)

    yield s1, a, b, records, until
    await a.close()
    await b.close()
    await s1.stop()
    await s2.stop()


async def body_of_next_message(client):
    while True:
        el = await client.recv()
        assert not isinstance(el, str), el
        if el.tag == "{jabber:client}message":
            return el.findtext("{jabber:client}body")


def as_a_peer_server_relays_it(xml: str):
    """The element as a federated server's own parser may accept it (expat takes xmlns='a b'),
    whatever xmpplab's stream parser would say about it as a sender's server."""
    parser = etree.XMLPullParser(events=("end",))
    parser.feed(b"<stream xmlns='jabber:client'>" + xml.encode())
    return [el for _, el in parser.read_events()][-1]


@pytest.mark.parametrize("payload", ["<x xmlns='a b'/>", "<foo:bar/>", "<quer:/>"])
async def test_a_stanza_that_cannot_be_parsed_again_gets_not_well_formed_on_the_s2s_stream(
        federation, payload, caplog):
    s1, a, b, records, until = federation
    caplog.set_level(logging.INFO)
    await a.send("<message to='user2@server2.com/phone' type='chat'><body>before</body></message>")
    assert await body_of_next_message(b) == "before"  # the server-to-server link is up

    s1.route(as_a_peer_server_relays_it(f"<message from='user1@server1.com/pc' to='user2@server2.com/phone' "
                                        f"type='chat'><body>bad</body>{payload}</message>"))

    def s2s_closed():
        return any(r["type"] == "close" and "s2sout" in r["conn"] for r in records)
    await until(s2s_closed)
    received = "".join(r.get("data", "") for r in records if r["type"] == "data" and r.get("dir") == "in"
                       and "s2sout" in r["conn"])
    assert "<not-well-formed" in received, "server2 dropped the link without a stream error"
    troubles = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not troubles, [r.getMessage() for r in troubles]

    await a.send("<message to='user2@server2.com/phone' type='chat'><body>after</body></message>")
    assert await body_of_next_message(b) == "after"  # a new link carries the next message
