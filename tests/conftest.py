"""Shared fixtures: a server on an ephemeral loopback port, raw-XML clients and slixmpp clients."""

import pytest

from tests.support import RawClient, slix_client
from xmpplab.server import Server


@pytest.fixture
async def server():
    """A fresh in-memory server for example.com and example.net, with juliet and romeo (password 'secret')."""
    srv = Server(["example.com", "example.net"], register=True, recorder=[].append)
    await srv.start()
    for user in ("juliet@example.com", "romeo@example.net", "nurse@example.com", "benvolio@example.net"):
        srv.accounts.add(user, "secret")
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def raw(server):
    """Open raw XML clients: ``c = await raw()``; each is closed at the end of the test."""
    opened = []

    async def make(**kw):
        c = await RawClient.open(server.port, **kw)
        opened.append(c)
        return c

    yield make
    for c in opened:
        await c.close()


@pytest.fixture
async def slix(server):
    """Log in slixmpp clients: ``juliet = await slix("juliet@example.com/balcony")``."""
    opened = []

    async def make(jid, password="secret", **kw):
        c = await slix_client(server.port, jid, password, **kw)
        opened.append(c)
        return c

    yield make
    for c in opened:
        await c.close()
