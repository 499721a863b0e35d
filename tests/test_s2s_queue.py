"""Stanzas for a remote domain wait in a bounded queue while its connection is set up (issue 10: bounded
memory per connection): beyond ``Limits.s2s_queue`` they are refused with resource-constraint at once."""

import asyncio

from tests.support import RawClient
from xmpplab.server import Server
from xmpplab.server.limits import Limits


async def test_stanzas_for_a_remote_domain_that_never_answers_are_bounded():
    accepted = []

    async def silent(reader, writer):  # accepts the TCP connection, reads, never says a word
        accepted.append(writer)
        while await reader.read(65536):
            pass

    mute = await asyncio.start_server(silent, "127.0.0.1", 0)
    try:
        async with Server(["example.com"], limits=Limits(s2s_queue=5)) as server:
            server.s2s.add_peer("mute.example", "127.0.0.1", mute.sockets[0].getsockname()[1])
            server.accounts.add("juliet@example.com", "secret")
            c = await RawClient.open(server.port)
            try:
                await c.login("juliet@example.com/r")
                await c.send("".join(f"<message to='romeo@mute.example' id='m{i}' type='chat'>"
                                     f"<body>{i}</body></message>" for i in range(8)))
                errors = [await c.recv(timeout=10) for _ in range(3)]  # the 6th, 7th and 8th
                assert [e.get("id") for e in errors] == ["m5", "m6", "m7"]
                for e in errors:
                    assert e.get("type") == "error"
                    assert e.find(".//{urn:ietf:params:xml:ns:xmpp-stanzas}resource-constraint") is not None
                    assert e.get("from") == "romeo@mute.example"
                pong = await c.request("<iq type='get' id='p' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
                assert pong.get("type") == "result"  # nothing else came back: the first five still wait
            finally:
                await c.close()
    finally:
        for w in accepted:
            w.close()
        mute.close()
        await mute.wait_closed()
