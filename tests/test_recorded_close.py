"""The server's recording tells a stream that was closed (``</stream:stream>``) from a connection that was lost:
``{"type": "close", "clean": true}`` only for the first (the views and a teacher's transcript read it)."""

from tests.support_stanzas import online
from tests.support_wait import until


async def test_a_closed_stream_is_clean_and_a_dropped_connection_is_not(server, raw):
    events = server.recorder.__self__  # the conftest server records into a list
    closed, dropped = await online(raw, "juliet@example.com"), await online(raw, "romeo@example.net")
    conn = {e["jid"].partition("/")[0]: e["conn"] for e in events if e["type"] == "bound"}

    def close_of(bare):
        return next((e for e in events if e["type"] == "close" and e["conn"] == conn[bare]), None)

    await closed.close()              # </stream:stream>, then the TCP connection
    dropped.writer.close()            # the TCP connection alone: a train entering a tunnel
    await until(lambda: close_of("juliet@example.com") and close_of("romeo@example.net"), server)
    assert close_of("juliet@example.com")["clean"] is True
    assert close_of("romeo@example.net")["clean"] is False
