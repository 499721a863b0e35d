"""The Python API: start and stop inside a running loop, several domains, readable errors."""

import pytest

from tests.support import RawClient
from xmpplab import JID, Server


async def test_start_on_an_ephemeral_port_and_stop():
    server = Server(["example.com", "example.net"])
    assert "stopped" in repr(server)
    await server.start()
    try:
        assert server.running and server.port > 0
        assert f"127.0.0.1:{server.port}" in repr(server)
        server.accounts.add("juliet@example.com", "secret")
        server.accounts.add("romeo", "secret", domain="example.net")
        c = await RawClient.open(server.port)
        assert await c.login("romeo@example.net/orchard") == "romeo@example.net/orchard"
        assert "1 online" in repr(server)
    finally:
        await server.stop()
    assert not server.running
    # Its clients were told why the stream ended.
    err = await c.recv()
    assert err.tag == "{http://etherx.jabber.org/streams}error"
    assert err[0].tag.endswith("system-shutdown")


async def test_virtual_hosts_each_get_their_own_stream(raw, server):
    for domain in ("example.com", "example.net"):
        c = await raw()
        await c.open_stream(domain)
        assert c.header.attrs["from"] == domain


@pytest.mark.parametrize("kwargs, words", [
    ({"domains": ["not a domain"]}, "bad domain"),
    ({"domains": ["juliet@example.com"]}, "is not a domain"),
    ({"domains": []}, "at least one domain"),
    ({"domains": ["example.com"], "port": 99999}, "from 0 to 65535"),
])
def test_bad_arguments_are_one_sentence(kwargs, words):
    with pytest.raises(ValueError, match=words):
        Server(**kwargs)


async def test_accounts_api_errors_and_queries(server):
    with pytest.raises(ValueError, match="does not serve example.org"):
        server.accounts.add("tybalt@example.org", "x")
    with pytest.raises(ValueError, match="no user part"):
        server.accounts.add("example.com", "x")
    with pytest.raises(ValueError, match="non-empty"):
        server.accounts.add("tybalt@example.com", "")
    with pytest.raises(ValueError, match="already exists"):
        server.accounts.add("juliet@example.com", "x", replace=False)
    assert "juliet@example.com" in server.accounts
    assert JID("Juliet@Example.com") == server.accounts.add("Juliet@Example.COM", "new")
    assert server.accounts.check("juliet@example.com", "new")
    assert server.accounts.remove("juliet@example.com")
    assert "juliet@example.com" not in server.accounts


async def test_removing_an_account_closes_its_sessions(raw, server):
    c = await raw()
    await c.login("nurse@example.com/desk")
    server.accounts.remove("nurse@example.com")
    err = await c.recv()
    assert err[0].tag.endswith("not-authorized")
    assert not server.sessions


async def test_two_servers_run_side_by_side():
    async with Server(["server1.com"]) as s1, Server(["server2.com"]) as s2:
        assert s1.port != s2.port
        s1.accounts.add("user1@server1.com", "pw")
        c = await RawClient.open(s2.port)
        err = await c.open_stream("server1.com")
        assert err[0].tag.endswith("host-unknown")
        await c.close()


def test_hook_iq_names_the_events_and_refuses_a_misspelt_one():
    server = Server("example.com")
    try:
        handler = object()
        server.hook_iq("urn:example:q:query", get_self=handler, set_bare=handler)
        assert server.hooks.has("iq-get/self/urn:example:q:query")
        assert server.hooks.has("iq-set/bare/urn:example:q:query")
        with pytest.raises(ValueError, match="not get_slef"):
            server.hook_iq("urn:example:q:query", get_slef=handler)
    finally:
        server.storage.close()
