"""Every task is owned (server/tasks.py): by the server or by a session, cancelled with it, its failure logged once.

A task that fails is logged where it failed (one line for a fault of the network, a traceback for a
bug) and its session goes on; a closed session cancels its tasks; stopping the server cancels and
awaits every task, so the event loop never ends with one still pending.
"""

import asyncio
import gc
import logging

from tests.support import RawClient
from xmpplab.server import Server


async def test_a_task_that_fails_is_logged_once_and_its_session_goes_on(server, raw, caplog):
    c = await raw()
    try:
        await c.login("juliet@example.com/balcony")
        (session,) = server.resources(next(iter(server.sessions)))

        async def bug():
            return 1 / 0

        async def network():
            raise ConnectionResetError("the peer went away")

        with caplog.at_level(logging.INFO, logger="xmpplab.server"):
            failed = [session.tasks.start(bug(), "a bug"), session.tasks.start(network(), "a network fault")]
            await asyncio.wait(failed)
        about = [r for r in caplog.records if "failed" in r.getMessage()]
        assert [(r.levelname, bool(r.exc_info)) for r in about] == [("ERROR", True), ("WARNING", False)]
        assert "ZeroDivisionError" in caplog.text and "the peer went away" in about[1].getMessage()
        assert about[0].getMessage().startswith(f"{session.conn_id}: a bug")
        assert len(session.tasks) == 0 and len(server.tasks) == 0
        pong = await c.request("<iq type='get' id='p1' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
        assert pong.get("type") == "result"
    finally:
        await c.close()


async def test_stopping_the_server_cancels_its_tasks_and_its_sessions_tasks(caplog):
    srv = await Server(["example.com"]).start()
    srv.accounts.add("juliet@example.com", "secret")
    c = await RawClient.open(srv.port)
    await c.login("juliet@example.com/balcony")
    (session,) = srv.resources(next(iter(srv.sessions)))
    forever = asyncio.Event()
    own = srv.tasks.start(forever.wait(), "waiting for ever")
    theirs = session.tasks.start(forever.wait(), "waiting for ever")
    assert len(srv.tasks) == 2 and len(session.tasks) == 1
    await srv.stop()
    assert own.cancelled() and theirs.cancelled()
    assert len(srv.tasks) == 0
    assert "failed" not in caplog.text and "destroyed" not in caplog.text
    await c.close()


async def test_a_closed_session_cancels_its_tasks(server, raw):
    c = await raw()
    await c.login("juliet@example.com/balcony")
    (session,) = server.resources(next(iter(server.sessions)))
    task = session.tasks.start(asyncio.Event().wait(), "waiting for ever")
    session.close()
    await asyncio.wait([task])
    assert task.cancelled() and len(server.tasks) == 0
    await c.close()


def test_no_task_is_left_pending_when_the_loop_ends(caplog):
    """Without the server's stop cancelling them, asyncio would say "Task was destroyed but it is pending!"."""
    async def main():
        srv = await Server(["example.com"]).start()
        srv.accounts.add("juliet@example.com", "secret")
        c = await RawClient.open(srv.port)
        await c.login("juliet@example.com/balcony")
        (session,) = srv.resources(next(iter(srv.sessions)))
        srv.tasks.start(asyncio.Event().wait(), "waiting for ever")
        session.tasks.start(asyncio.Event().wait(), "waiting for ever")
        await srv.stop()
        await c.close()

    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            loop.run_until_complete(main())
            loop.run_until_complete(asyncio.sleep(0))  # the client's reader ends
            loop.close()
            gc.collect()
    finally:
        loop.close()
    assert "destroyed" not in caplog.text
