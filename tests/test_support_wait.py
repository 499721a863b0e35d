"""Self-tests of tests/support_wait.py: until() wakes on events, names what it waited for, and cleans up."""

import pytest
from slixmpp.exceptions import IqError

from tests.support_wait import gone, round_trip, until
from xmpplab.server import Server


async def test_until_wakes_on_what_the_server_records_and_puts_its_recorder_back(raw, server):
    recorder = server.recorder
    c = await raw()
    await c.login("juliet@example.com/balcony")
    c.writer.transport.abort()
    await until(gone(server, "juliet@example.com/balcony"), server, what="juliet's session closed")
    assert server.sessions == {} and server.recorder is recorder


async def test_until_names_what_never_happened():
    async with Server(["example.com"]) as srv:
        with pytest.raises(AssertionError, match=r"^the moon still false 0\.1 s later$"):
            await until(lambda: False, srv, timeout=0.1, what="the moon")
        assert srv.recorder is None


async def test_until_wants_a_source_it_can_watch():
    with pytest.raises(ValueError, match="name what can make the condition true"):
        await until(lambda: True)
    with pytest.raises(TypeError, match="cannot watch int"):
        await until(lambda: True, 42)


async def test_round_trip_fails_on_an_error_reply(slix):
    juliet = await slix("juliet@example.com/balcony")
    await round_trip(juliet)
    with pytest.raises(IqError) as failed:
        await round_trip(juliet, "nobody@example.com")  # no such account: an error, not a pong
    assert failed.value.condition == "service-unavailable"


async def test_round_trip_and_until_with_a_lab():
    from xmpplab.client import IqError as ClientIqError
    from xmpplab.lab import Lab

    async with Lab.start() as lab:
        juliet = await lab.connect("juliet@example.com/balcony")
        await round_trip(juliet)
        with pytest.raises(ClientIqError) as failed:
            await round_trip(juliet, "nobody@example.com")
        assert failed.value.condition == "service-unavailable"
        await juliet.disconnect()
        await until(lambda: not lab.server.sessions, lab, what="juliet logged out")
