"""Publish-subscribe and storage faults: a change the database refuses is answered with the error of
RFC 6120 8.3.3 and leaves the node as it was, in memory as on disk (what a restart would read back)."""

from contextlib import contextmanager

import pytest

from tests.support import RawClient
from tests.support_pubsub import PS, create, publish_xml, request
from tests.support_stanzas import error_of, flush
from xmpplab.server import Server

J, R = "juliet@example.com/balcony", "romeo@example.net/orchard"
READING = "<reading xmlns='urn:example:sensor' celsius='21.5'/>"


@contextmanager
def read_only(server):
    """The server's database refuses writes (SQLITE_READONLY, as a disk remounted read-only) until the end."""
    server.storage._exec("PRAGMA query_only=ON")
    try:
        yield
    finally:
        server.storage._exec("PRAGMA query_only=OFF")


@pytest.fixture
async def stored(tmp_path):
    async with Server(["example.com", "example.net"], db=str(tmp_path / "lab.sqlite")) as srv:
        for user in ("juliet@example.com", "romeo@example.net"):
            srv.accounts.add(user, "secret")
        juliet, romeo = await RawClient.open(srv.port), await RawClient.open(srv.port)
        await juliet.login(J)
        await romeo.login(R)
        await romeo.send("<presence/>")
        await flush(romeo)
        await create(juliet, "sensors")
        await request(juliet, "set", publish_xml("sensors", "r1", READING))
        try:
            yield srv, juliet, romeo
        finally:
            await juliet.close()
            await romeo.close()


async def test_a_publish_that_cannot_be_stored_is_refused_and_notifies_nobody(stored):
    server, juliet, romeo = stored
    await request(romeo, "set", "<subscribe node='sensors' jid='romeo@example.net'/>")
    with read_only(server):
        refused = await request(juliet, "set", publish_xml("sensors", "r2", READING))
    assert error_of(refused) == ("cancel", "internal-server-error")
    assert await flush(romeo) == []  # no notification for an item that is not there
    items = await request(romeo, "get", "<items node='sensors'/>")
    assert [i.get("id") for i in items.iter(f"{{{PS}}}item")] == ["r1"]


async def test_subscribe_create_and_delete_that_cannot_be_stored_change_nothing(stored):
    server, juliet, romeo = stored
    service = server.pubsub["pubsub.example.com"]
    with read_only(server):
        assert error_of(await request(romeo, "set", "<subscribe node='sensors' jid='romeo@example.net'/>")) == \
            ("cancel", "internal-server-error")
        assert error_of(await request(juliet, "set", "<create node='other'/>"))[1] == "internal-server-error"
        deleted = await request(juliet, "set", "<delete node='sensors'/>", ns=f"{PS}#owner")
        assert error_of(deleted)[1] == "internal-server-error"
    assert service["sensors"].subscriptions == {} and "other" not in service.nodes
    assert "sensors" in service.nodes and list(service["sensors"].items) == ["r1"]
    assert (await request(romeo, "set", "<subscribe node='sensors' jid='romeo@example.net'/>")).get("type") == "result"
