"""Flow control: a peer that does not read cannot grow the server, and one that sends fast is slowed.

RFC 6120 section 13.12 (denial of service) asks a server to limit what one
connection may cost it. Here: the bytes waiting to be sent to a peer are
capped (``Limits.max_unsent_bytes``): above the cap the server stops reading
from it, refuses stanzas routed to it with ``<resource-constraint/>``
(RFC 6120 section 8.3.3.18) and, when it stays above the cap for
``Limits.unsent_timeout`` seconds, closes it with ``<policy-violation/>``
(section 4.9.3.14). And what a non-local peer may send is limited to
``Limits.bytes_per_second``.
"""

from __future__ import annotations

import asyncio
import socket
import time

import psutil
import pytest
from lxml import etree

from tests.support import RawClient
from xmpplab.server import Server
from xmpplab.server.limits import KiB, Limits, MiB
from xmpplab.server.storage import RosterItem

PING = "<iq type='get' id='{id}' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>"
ROSTER_GET = "<iq type='get' id='r{n}'><query xmlns='jabber:iq:roster'/></iq>"
CAP = 256 * KiB


def condition(el) -> str:
    err = el if etree.QName(el).localname == "error" else el.find("{jabber:client}error")
    return etree.QName(err[0]).localname


async def started(limits: Limits) -> Server:
    srv = Server(["example.com"], limits=limits)
    await srv.start()
    for user in ("flood", "victim", "juliet", "nurse"):
        srv.accounts.add(f"{user}@example.com", "secret")
    return srv


async def slow_reader(port: int) -> RawClient:
    """A raw client with a small receive window, so what it does not read stays in the server."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock)
    return RawClient(reader, writer)


async def stop_reading(c: RawClient) -> None:
    c._task.cancel()
    await asyncio.gather(c._task, return_exceptions=True)
    c.events = asyncio.Queue()  # only the "EOF" the cancelled reader left (everything before was awaited)


def resume_reading(c: RawClient) -> None:
    c._task = asyncio.get_running_loop().create_task(c._read())


def session_of(server: Server, c: RawClient):
    port = c.writer.get_extra_info("sockname")[1]
    return next(s for s in server.connections if s.peer and s.peer[1] == port)


def unsent(conn) -> int:
    """Bytes the server holds for this peer: its own queue and the transport's (TLS and TCP) buffers."""
    return conn.unsent_bytes


async def round_trips(c: RawClient, n: int, tag: str) -> list[float]:
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        pong = await c.request(PING.format(id=f"{tag}{i}"), timeout=30)
        assert pong.get("type") == "result"
        times.append(time.perf_counter() - t0)
    return times


async def stream_error_at_the_end(c: RawClient) -> str:
    """Read everything left (the server closed the stream) and return the stream error's condition."""
    resume_reading(c)
    while True:
        el = await c.recv(timeout=30)
        assert el not in ("EOF", "</stream:stream>"), "the stream ended without a stream error"
        if not isinstance(el, str) and etree.QName(el).localname == "error":
            return etree.QName(el[0]).localname


async def until_closed(conn, watch, bound: int, deadline: float = 30.0) -> int:
    """Sample the connection's unsent bytes until the server closes it; return the largest seen."""
    largest = 0
    t_end = time.monotonic() + deadline
    while not conn.closed:
        largest = max(largest, watch(conn))
        assert largest <= bound, f"{largest} bytes wait for a peer that does not read (cap {CAP})"
        assert time.monotonic() < t_end, "the peer that does not read was never closed"
        await asyncio.sleep(0.01)  # the clock is the subject: the largest backlog over time, sampled
    return largest


# a client that asks for its own large roster and never reads the answers --------------------
@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
async def test_a_client_that_does_not_read_is_bounded_then_closed_and_others_are_not_slowed(tls):
    server = await started(Limits(max_unsent_bytes=CAP, unsent_timeout=1.0))
    for i in range(2000):  # a roster answer of about 100 KB
        server.storage.put_item("flood@example.com", RosterItem(contact=f"contact{i:05}@example.com"))
    rss = psutil.Process()
    try:
        pinger = await RawClient.open(server.port)
        await pinger.login("nurse@example.com/pinger", tls=tls)
        await round_trips(pinger, 3, "base")

        flooder = await slow_reader(server.port)
        await flooder.login("flood@example.com/flood", tls=tls)
        roster = await flooder.request(ROSTER_GET.format(n="first"))
        one_answer = len(etree.tostring(roster))
        assert one_answer > 80_000
        conn = session_of(server, flooder)
        await stop_reading(flooder)
        rss_before = rss.memory_info().rss

        async def flood():
            batch = "".join(ROSTER_GET.format(n=i) for i in range(100))  # one read holds a hundred requests
            for _ in range(200):
                flooder.writer.write(batch.encode())
                await flooder.writer.drain()   # blocks as soon as the server stops reading

        flooding = asyncio.get_running_loop().create_task(flood())
        held: list[int] = []  # for each ping answered during the flood: the bytes then waiting for the flooder

        async def ping_while_flooding():
            i = 0
            while not conn.closed:
                await round_trips(pinger, 1, f"flood{i}-")
                held.append(unsent(conn))
                i += 1

        pinging = asyncio.get_running_loop().create_task(ping_while_flooding())
        try:
            largest = await until_closed(conn, unsent, CAP + one_answer)
        finally:
            flooding.cancel()
        await pinging
        rss_growth = rss.memory_info().rss - rss_before

        assert largest > CAP // 2, "the flood never reached the cap: the test did not test anything"
        assert await stream_error_at_the_end(flooder) == "policy-violation"
        assert rss_growth < 64 * MiB
        # Everyone else is served meanwhile: pings are answered while the flooder's backlog stands at the cap
        # (counted, not timed: a busy machine slows both alike)
        assert sum(1 for n in held if n > CAP // 2) >= 3, f"pings answered during the flood, with backlog: {held}"
        pong = await pinger.request(PING.format(id="after"))
        assert pong.get("type") == "result"
        await pinger.close()
        await flooder.close()
    finally:
        await server.stop()


async def test_one_read_with_many_requests_stops_at_the_cap_and_resumes_in_order():
    """A thousand requests in one read: the server answers them all, in order, without holding them all."""
    server = await started(Limits(max_unsent_bytes=64 * KiB, unsent_timeout=30.0))
    for i in range(200):  # about 10 KB per answer
        server.storage.put_item("flood@example.com", RosterItem(contact=f"contact{i:05}@example.com"))
    try:
        c = await RawClient.open(server.port)
        await c.login("flood@example.com/flood")
        conn = session_of(server, c)
        largest = 0
        await stop_reading(c)
        c.writer.write("".join(ROSTER_GET.format(n=i) for i in range(1000)).encode())
        await c.writer.drain()
        # The server stops before the thousand answers (10 MB) are queued.
        for _ in range(100):  # the clock is the subject: the backlog sampled for a second while nobody reads
            largest = max(largest, unsent(conn))
            await asyncio.sleep(0.01)
        assert largest <= 64 * KiB + 12 * KiB
        resume_reading(c)
        ids = []
        while len(ids) < 1000:
            el = await c.recv(timeout=30)
            assert not isinstance(el, str), el
            ids.append(el.get("id"))
        assert ids == [f"r{i}" for i in range(1000)]
        assert (await c.request(PING.format(id="end"))).get("type") == "result"
        await c.close()
    finally:
        await server.stop()


# stanzas routed to a client that does not read ----------------------------------------------
async def test_stanzas_for_a_client_that_does_not_read_are_refused_then_it_is_closed():
    server = await started(Limits(max_unsent_bytes=CAP, unsent_timeout=1.0))
    try:
        victim = await slow_reader(server.port)
        await victim.login("victim@example.com/v")
        conn = session_of(server, victim)
        await stop_reading(victim)
        sender = await RawClient.open(server.port)
        await sender.login("juliet@example.com/sender")
        body = "x" * 1000
        message = f"<message to='victim@example.com/v' type='chat' id='m{{n}}'><body>{body}</body></message>"
        one_stanza = len(message) + 200

        refused = []

        async def collect_errors():
            while True:
                el = await sender.events.get()  # no wait_for: it can swallow the cancel (Python 3.11)
                if isinstance(el, str):
                    return
                if el.get("type") == "error" and etree.QName(el).localname == "message":
                    refused.append(el)

        collecting = asyncio.get_running_loop().create_task(collect_errors())

        async def flood():
            n = 0
            while not conn.closed and n < 20_000:
                sender.writer.write("".join(message.format(n=n + i) for i in range(50)).encode())
                n += 50
                await sender.writer.drain()
                await asyncio.sleep(0)  # not a clock wait: one turn of the loop, so the server reads in between

        flooding = asyncio.get_running_loop().create_task(flood())
        try:
            largest = await until_closed(conn, unsent, CAP + one_stanza)
        finally:
            await flooding
        assert largest > CAP // 2
        assert refused, "messages beyond the cap were neither queued nor refused"
        assert {condition(el) for el in refused} == {"resource-constraint"}
        assert refused[0].find("{jabber:client}error").get("type") == "wait"
        assert await stream_error_at_the_end(victim) == "policy-violation"
        collecting.cancel()
        await asyncio.gather(collecting, return_exceptions=True)
        # The sender was not cut off.
        assert (await sender.request(PING.format(id="after"))).get("type") == "result"
        await sender.close()
        await victim.close()
    finally:
        await server.stop()


# bytes per second ----------------------------------------------------------------------------
async def _send_pings(limits: Limits, n: int, size: int) -> float:
    """Send n pings of about ``size`` bytes each in one go; return the seconds until the last answer."""
    server = await started(limits)
    try:
        c = await RawClient.open(server.port)
        await c.login("juliet@example.com/fast", tls=True)
        pad = "p" * (size - len(PING.format(id="")) - 6)
        t0 = time.perf_counter()
        c.writer.write("".join(PING.format(id=f"{i:05}{pad}") for i in range(n)).encode())
        await c.writer.drain()
        answered = 0
        while answered < n:
            el = await c.recv(timeout=30)
            assert not isinstance(el, str), el
            assert el.get("type") == "result"
            answered += 1
        elapsed = time.perf_counter() - t0
        await c.close()
        return elapsed
    finally:
        await server.stop()


async def test_a_fast_sender_is_slowed_to_the_rate_and_still_answered():
    rate = 128 * KiB
    n, size = 320, 1024  # 320 KiB: one second's burst, then 1.5 s at the rate
    ideal = (n * size - rate) / rate
    elapsed = await _send_pings(Limits(local_networks=(), bytes_per_second=rate), n, size)
    assert elapsed >= 0.6 * ideal, f"{n * size} bytes took {elapsed:.2f} s; at {rate} bytes/s at least {ideal:.2f} s"


async def test_local_peers_are_not_slowed():
    rate = 128 * KiB
    n, size = 320, 1024
    ideal = (n * size - rate) / rate
    elapsed = await _send_pings(Limits(bytes_per_second=rate), n, size)
    assert elapsed < 0.6 * ideal, f"a local peer took {elapsed:.2f} s for {n * size} bytes"
