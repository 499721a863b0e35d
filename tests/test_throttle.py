"""Per-address limits: failed logins, registrations, connections, connections not logged in yet.

Loopback peers are exempt by default; ``Limits(limit_local=True)`` (``--limit-loopback``) applies the limits to
them, as here. Windows are passed with an injected clock, never by sleeping.
"""

import base64

import pytest
from lxml import etree

from tests.support import RawClient
from xmpplab.server import Server
from xmpplab.server.addresses import address_key, only_loopback
from xmpplab.server.limits import Limits
from xmpplab.server.throttle import RateLimit, Throttle
from xmpplab.xml import NS_SASL, serialize

NS_REGISTER = "jabber:iq:register"


def name(el):
    return el if isinstance(el, str) else etree.QName(el).localname


def plain(user, password):
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    return f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{token}</auth>"


def register(ident, user, password="pw"):
    return (f"<iq type='set' id='{ident}'><query xmlns='{NS_REGISTER}'><username>{user}</username>"
            f"<password>{password}</password></query></iq>")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
async def lab():
    """start(**limits) -> a server applying those limits to loopback, with a fake clock; connect() -> RawClient."""
    made = {"servers": [], "clients": []}

    class Lab:
        clock = Clock()

        async def start(self, **limits):
            self.server = Server(["example.com"], register=True, limits=Limits(limit_local=True, **limits))
            self.server.throttle = Throttle(self.server.limits, clock=self.clock)
            await self.server.start()
            self.server.accounts.add("juliet@example.com", "secret")
            made["servers"].append(self.server)
            return self.server

        async def connect(self):
            c = await RawClient.open(self.server.port)
            made["clients"].append(c)
            return c

    yield Lab()
    for c in made["clients"]:
        await c.close()
    for s in made["servers"]:
        await s.stop()


async def fail_logins(lab, count):
    """``count`` wrong PLAIN logins, on as many connections as it takes (each allows three)."""
    left = count
    while left:
        c = await lab.connect()
        await c.open_stream()
        for _ in range(min(left, 2)):
            await c.send(plain("juliet", "wrong"))
            reply = await c.recv()
            assert name(reply) == "failure" and name(reply[0]) == "not-authorized", serialize(reply)
            left -= 1
        await c.close()


async def test_failed_logins_trip_the_limit_and_reset_after_the_window(lab):
    await lab.start(auth_failures=3, auth_failure_window=600)
    await fail_logins(lab, 3)
    c = await lab.connect()
    await c.open_stream()
    await c.send(plain("juliet", "secret"))  # even the right password waits: the address is throttled
    reply = await c.recv()
    assert name(reply) == "failure" and name(reply[0]) == "temporary-auth-failure", serialize(reply)
    assert "try again in 600 s" in reply.findtext(f"{{{NS_SASL}}}text")
    lab.clock.now += 600
    d = await lab.connect()
    assert await d.login("juliet@example.com/pc") == "juliet@example.com/pc"


async def test_failed_logins_from_a_local_peer_are_not_counted_by_default():
    async with Server(["example.com"], limits=Limits(auth_failures=1)) as server:
        server.accounts.add("juliet@example.com", "secret")
        c = await RawClient.open(server.port)
        try:
            await c.open_stream()
            for _ in range(2):
                await c.send(plain("juliet", "wrong"))
                assert name((await c.recv())[0]) == "not-authorized"
            await c.send(plain("juliet", "secret"))
            assert name(await c.recv()) == "success"
        finally:
            await c.close()


async def test_registrations_trip_the_limit_and_reset_after_the_window(lab):
    server = await lab.start(registrations=2, registration_window=300)
    c = await lab.connect()
    await c.open_stream()
    for i in range(2):
        assert (await c.request(register(f"r{i}", f"student{i}"))).get("type") == "result"
    refused = await c.request(register("r2", "student2"))
    assert refused.get("type") == "error"
    error = refused.find("{jabber:client}error")
    assert error.get("type") == "wait"
    assert error.find("{urn:ietf:params:xml:ns:xmpp-stanzas}resource-constraint") is not None
    assert "student2@example.com" not in server.accounts
    lab.clock.now += 300
    assert (await c.request(register("r3", "student2"))).get("type") == "result"
    assert "student2@example.com" in server.accounts


async def test_a_connection_over_the_per_address_count_gets_a_header_and_policy_violation(lab):
    server = await lab.start(connections_per_address=3)
    clients = [await lab.connect() for _ in range(3)]
    for c in clients:
        await c.open_stream()
    extra = await lab.connect()
    err = await extra.recv()  # no need to send anything: the header comes first, then the error
    assert extra.header is not None and extra.header.attrs.get("from") == "example.com"
    assert name(err) == "error" and name(err[0]) == "policy-violation", serialize(err)
    assert "too many connections" in err.findtext("{urn:ietf:params:xml:ns:xmpp-streams}text")
    assert await extra.recv() == "</stream:stream>"
    await clients[0].send("</stream:stream>")
    assert await clients[0].recv() == "</stream:stream>"  # the server has closed it: its slot is free
    again = await lab.connect()
    assert name(await again.open_stream()) == "features"
    assert server.throttle.connections.count("127.0.0.1") == 3


async def test_connections_not_logged_in_are_limited_but_logged_in_ones_are_not(lab):
    server = await lab.start(unauthenticated_per_address=2)
    first, second = await lab.connect(), await lab.connect()
    await first.open_stream()
    await second.open_stream()
    third = await lab.connect()
    err = await third.recv()
    assert name(err[0]) == "policy-violation"
    assert "not logged in" in err.findtext("{urn:ietf:params:xml:ns:xmpp-streams}text")
    await first.send(plain("juliet", "secret"))
    assert name(await first.recv()) == "success"
    fourth = await lab.connect()
    assert name(await fourth.open_stream()) == "features"
    assert server.throttle.unauthenticated.count("127.0.0.1") == 2


def test_rate_limit_bookkeeping_expires_and_is_bounded():
    clock = Clock()
    limit = RateLimit(1, 60, clock=clock, max_addresses=1000)
    for i in range(5000):  # a flood of addresses: never more than max_addresses remembered
        limit.hit(f"10.0.{i // 256}.{i % 256}")
        assert len(limit) <= 1000
    assert limit.wait("10.0.19.135") == 60.0   # the newest are kept
    clock.now += 60
    limit.hit("192.0.2.1")  # one event after the window: everything older is gone
    assert len(limit) == 1
    assert limit.wait("10.0.19.135") == 0.0


def test_addresses_are_counted_per_ipv4_address_and_per_ipv6_64():
    assert address_key(("10.99.0.7", 40123)) == "10.99.0.7"
    assert address_key(("::ffff:10.99.0.7", 40123, 0, 0)) == "10.99.0.7"
    one, other = ("2001:db8:1:2::1", 1, 0, 0), ("2001:db8:1:2:ffff::9", 2, 0, 0)
    assert address_key(one) == address_key(other) != address_key(("2001:db8:1:3::1", 1, 0, 0))


def test_only_loopback_resolves_names_and_refuses_every_interface():
    assert only_loopback("127.0.0.1") and only_loopback("::1") and only_loopback(["localhost", "127.0.0.2"])
    assert not only_loopback("10.99.0.1") and not only_loopback("") and not only_loopback("0.0.0.0")
    assert not only_loopback("no-such-host.invalid")


async def test_server_to_server_connections_count_against_the_address_too():
    """Another server (or anything) opening s2s streams from one address is limited like clients are."""
    async with Server(["example.com"], s2s_port=0, limits=Limits(limit_local=True, connections_per_address=2)) \
            as server:
        peers = [await RawClient.open(server.s2s_port) for _ in range(2)]
        try:
            extra = await RawClient.open(server.s2s_port)
            peers.append(extra)
            err = await extra.recv()
            assert name(err) == "error" and name(err[0]) == "policy-violation", serialize(err)
            assert "too many connections" in err.findtext("{urn:ietf:params:xml:ns:xmpp-streams}text")
            assert server.throttle.connections.count("127.0.0.1") == 2
        finally:
            for p in peers:
                await p.close()
