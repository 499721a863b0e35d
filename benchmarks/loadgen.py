"""A lean asyncio XMPP load generator (plaintext, SCRAM-SHA-1, no TLS).

It speaks just enough XMPP to load a server on loopback: stream open, SASL
SCRAM-SHA-1 (via ``scramp``), stream restart, resource binding, the old
session request when a server marks it required, in-band registration
(XEP-0077), and chat messages.  Everything runs on raw asyncio Protocols:
no slixmpp, no TLS.

Scenarios (each a subcommand; ``--help`` lists the options):

``register``
    Create accounts ``PREFIX0 .. PREFIX{N-1}`` in-band (not timed).
``throughput``
    N sender/receiver pairs; each sender sends M chat messages to its
    receiver's full JID as fast as the window allows: at most W messages
    of a pair are in flight (sent but not yet arrived at the receiver), so
    nothing piles up and nothing may be dropped.  Every arrival is checked:
    each message must come exactly once, to its own receiver (lost,
    duplicated, misrouted, out-of-order and bounced messages are counted).  Figure: messages/s over the whole run.
``login``
    K logins with C at a time; a login is connect, stream, SCRAM-SHA-1,
    restart, bind, ``</stream:stream>``, close.  Accounts are warmed up
    (logged in once each) before the timed part, so the client's PBKDF2 is
    cached.  Figure: logins/s.
``ping``
    K clients each send P pings (XEP-0199) to the server one at a time,
    a few milliseconds apart; round-trip percentiles (p50, p99, max).
``idle``
    Open P authenticated, bound connections and keep them idle until told
    to close them (the coordinator measures the server's memory meanwhile).

The coordinator (``run.py``) passes ``--wait-go``: after its untimed setup a
scenario prints ``{"event": "ready"}`` on stdout and waits for a line on
stdin before it starts the timed part, so several loadgen processes start
together.  The final line is a JSON object with the figures and the load
generator's own CPU time during the timed part.

Client CPU savings:

* SCRAM makes the client compute PBKDF2 (thousands of HMACs) per login.
  ``scramp`` has no public way to reuse a salted password, so this module
  memoises ``scramp.core.hi`` per (hash, password, salt, iterations): each
  account costs one PBKDF2 per process, later logins only a few HMACs.  The
  number of PBKDF2 computations is reported (``pbkdf2_computed``).
* Handshakes are parsed with ``xml.etree``'s C pull parser; once a
  throughput connection is bound it switches to a byte scanner that only
  looks for ``<message ... id='N'>`` start tags.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import json
import os
import re
import ssl
import statistics
import sys
import time
import xml.etree.ElementTree as ET

import psutil
import scramp
import scramp.core

STREAM_NS = "http://etherx.jabber.org/streams"
SASL_NS = "urn:ietf:params:xml:ns:xmpp-sasl"
BIND_NS = "urn:ietf:params:xml:ns:xmpp-bind"
SESSION_NS = "urn:ietf:params:xml:ns:xmpp-session"
TLS_NS = "urn:ietf:params:xml:ns:xmpp-tls"
CLIENT_NS = "jabber:client"
REGISTER_NS = "jabber:iq:register"

RESOURCE = "lg"


# ---------------------------------------------------------------- SCRAM cache

_uncached_hi = scramp.core.hi
_hi_cache: dict[tuple, bytes] = {}
PBKDF2_STATS = {"computed": 0, "reused": 0}


def _cached_hi(hf, password, salt, iterations):
    """``scramp.core.hi`` (PBKDF2) memoised per (hash, password, salt, count).

    The salt and iteration count of an account do not change between
    logins, so the salted password can be reused; the per-login nonce only
    enters the cheap HMACs after it.
    """
    key = (hf, bytes(password), bytes(salt), int(iterations))
    salted = _hi_cache.get(key)
    if salted is None:
        PBKDF2_STATS["computed"] += 1
        salted = _hi_cache[key] = _uncached_hi(hf, password, salt, iterations)
    else:
        PBKDF2_STATS["reused"] += 1
    return salted


scramp.core.hi = _cached_hi


# ------------------------------------------------------------------ protocol

class XmppError(Exception):
    """The server refused something, closed the stream, or timed out."""


def xml_escape(text: str) -> str:
    """Escape text for XML character data and single-quoted attributes."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&apos;"))


class XmppConnection(asyncio.Protocol):
    """One client stream.

    In handshake mode the bytes go through a C pull parser and complete
    top-level elements (children of ``<stream:stream>``) are queued for
    :meth:`next_element`.  Setting :attr:`fast_handler` hands every later
    chunk of bytes straight to that callable instead (no parsing).
    """

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.elements: collections.deque[ET.Element] = collections.deque()
        self.waiter: asyncio.Future | None = None
        self.error: Exception | None = None
        self.fast_handler = None
        self.stream_attrs: dict[str, str] = {}
        self.jid: str | None = None
        self._parser: ET.XMLPullParser | None = None
        self._root: ET.Element | None = None
        self._depth = 0

    # asyncio.Protocol ------------------------------------------------------
    def connection_made(self, transport) -> None:
        """Keep the transport (asyncio callback)."""
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        """Parse what arrived and hand on each stanza (or give the bytes to the fast handler when one is set)."""
        if self.fast_handler is not None:
            self.fast_handler(data)
            return
        try:
            self._parser.feed(data)
            for event, element in self._parser.read_events():
                if event == "start":
                    self._depth += 1
                    if self._depth == 1:
                        self._root = element
                        self.stream_attrs = dict(element.attrib)
                else:
                    self._depth -= 1
                    if self._depth == 1:
                        self._root.remove(element)   # keep the tree small
                        self.elements.append(element)
                    elif self._depth == 0:
                        self._fail(XmppError("server closed the stream"))
        except ET.ParseError as exc:
            self._fail(XmppError(f"XML error from server: {exc}"))
        self._wake()

    def connection_lost(self, exc) -> None:
        """The connection is gone: fail what waits on it."""
        self._fail(XmppError(f"connection lost: {exc or 'closed by server'}"))
        self._wake()

    # helpers ---------------------------------------------------------------
    def _fail(self, exc: Exception) -> None:
        if self.error is None:
            self.error = exc

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done() and (self.elements or self.error):
            waiter.set_result(None)

    def send(self, data: bytes | str) -> None:
        """Write raw bytes (or text) to the server."""
        if isinstance(data, str):
            data = data.encode()
        self.transport.write(data)

    def open_stream(self, domain: str) -> None:
        """Start (or restart) the stream with a fresh parser."""
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._depth = 0
        self._root = None
        self.elements.clear()
        self.send(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            f"xmlns:stream='{STREAM_NS}' to='{domain}' version='1.0'>")

    async def next_element(self, timeout: float | None = 30.0) -> ET.Element:
        """Return the next top-level element the server sent.

        ``timeout=None`` waits without a timer of its own (cheaper when the
        caller already runs under one ``asyncio.timeout``).
        """
        while not self.elements:
            if self.error is not None:
                raise self.error
            self.waiter = self.loop.create_future()
            try:
                if timeout is None:      # the caller runs under asyncio.timeout()
                    await self.waiter
                else:
                    await asyncio.wait_for(self.waiter, timeout)
            except TimeoutError:
                raise XmppError(f"no answer from the server within {timeout} s") from None
            finally:
                self.waiter = None
        element = self.elements.popleft()
        if element.tag == f"{{{STREAM_NS}}}error":
            condition = element[0].tag.rsplit("}", 1)[-1] if len(element) else "?"
            raise XmppError(f"stream error: {condition}")
        return element

    async def expect(self, tag: str, timeout: float | None = 30.0) -> ET.Element:
        """Return the next element, which must have ``tag`` (Clark notation)."""
        element = await self.next_element(timeout)
        if element.tag != tag:
            raise XmppError(f"expected {tag}, got {ET.tostring(element, 'unicode')[:300]}")
        return element

    async def iq(self, payload: str, iq_id: str, timeout: float | None = 30.0,
                 kind: str = "set", to: str | None = None) -> ET.Element:
        """Send ``<iq type='set'>`` (or ``kind``) and return its result (raise on error)."""
        address = f" to='{xml_escape(to)}'" if to else ""
        self.send(f"<iq type='{kind}' id='{iq_id}'{address}>{payload}</iq>")
        while True:
            element = await self.next_element(timeout)
            if element.tag == f"{{{CLIENT_NS}}}iq" and element.get("id") == iq_id:
                break
        if element.get("type") != "result":
            error = element.find(f"{{{CLIENT_NS}}}error")
            condition = error[0].tag.rsplit("}", 1)[-1] if error is not None and len(error) else "?"
            raise XmppError(f"iq {iq_id} failed: {condition}")
        return element

    def close(self) -> None:
        """Send ``</stream:stream>`` and close the socket (no waiting)."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"</stream:stream>")
            self.transport.close()


async def connect(host: str, port: int) -> XmppConnection:
    """Open a TCP connection to the server."""
    loop = asyncio.get_running_loop()
    _transport, conn = await loop.create_connection(XmppConnection, host, port)
    return conn


def _check_features(features: ET.Element) -> None:
    starttls = features.find(f"{{{TLS_NS}}}starttls")
    if starttls is not None and starttls.find(f"{{{TLS_NS}}}required") is not None:
        raise XmppError("the server requires STARTTLS; pass tls=True (soak.py) to use it")


def insecure_tls_context() -> ssl.SSLContext:
    """A client TLS context that accepts the lab's self-signed certificate (loopback only)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def starttls(conn: XmppConnection, domain: str, context: ssl.SSLContext,
                   timeout: float | None) -> ET.Element:
    """RFC 6120 section 5: ``<starttls/>``, ``<proceed/>``, TLS handshake, new stream; return its features."""
    conn.send(f"<starttls xmlns='{TLS_NS}'/>")
    await conn.expect(f"{{{TLS_NS}}}proceed", timeout)
    conn.transport = await conn.loop.start_tls(conn.transport, conn, context,
                                               server_hostname=domain)
    conn.open_stream(domain)
    return await conn.expect(f"{{{STREAM_NS}}}features", timeout)


async def login(host: str, port: int, domain: str, user: str, password: str,
                resource: str = RESOURCE, timeout: float = 30.0,
                tls: ssl.SSLContext | None = None) -> XmppConnection:
    """Connect, authenticate with SCRAM-SHA-1, bind; return the open connection.

    With ``tls`` (a client context) the stream goes through STARTTLS first.
    """
    try:
        async with asyncio.timeout(timeout):
            return await _login(host, port, domain, user, password, resource, tls)
    except TimeoutError:
        raise XmppError(f"login of {user} took more than {timeout} s") from None


async def _login(host: str, port: int, domain: str, user: str, password: str,
                 resource: str, tls: ssl.SSLContext | None = None) -> XmppConnection:
    """The steps of :func:`login`, under its single timeout."""
    timeout = None
    conn = await connect(host, port)
    try:
        conn.open_stream(domain)
        features = await conn.expect(f"{{{STREAM_NS}}}features", timeout)
        if tls is not None:
            if features.find(f"{{{TLS_NS}}}starttls") is None:
                raise XmppError("the server does not offer STARTTLS")
            features = await starttls(conn, domain, tls, timeout)
        _check_features(features)
        mechanisms = [m.text for m in features.iter(f"{{{SASL_NS}}}mechanism")]
        if "SCRAM-SHA-1" not in mechanisms:
            raise XmppError(f"SCRAM-SHA-1 not offered (offered: {mechanisms})")

        scram = scramp.ScramClient(["SCRAM-SHA-1"], user, password)
        first = base64.b64encode(scram.get_client_first().encode()).decode()
        conn.send(f"<auth xmlns='{SASL_NS}' mechanism='SCRAM-SHA-1'>{first}</auth>")
        challenge = await conn.next_element(timeout)
        if challenge.tag != f"{{{SASL_NS}}}challenge":
            raise XmppError(f"SASL: {challenge.tag.rsplit('}', 1)[-1]} instead of challenge")
        scram.set_server_first(base64.b64decode(challenge.text or "").decode())
        final = base64.b64encode(scram.get_client_final().encode()).decode()
        conn.send(f"<response xmlns='{SASL_NS}'>{final}</response>")
        outcome = await conn.next_element(timeout)
        if outcome.tag == f"{{{SASL_NS}}}challenge":        # v= sent as a challenge
            scram.set_server_final(base64.b64decode(outcome.text or "").decode())
            conn.send(f"<response xmlns='{SASL_NS}'/>")
            outcome = await conn.next_element(timeout)
        if outcome.tag != f"{{{SASL_NS}}}success":
            condition = outcome[0].tag.rsplit("}", 1)[-1] if len(outcome) else "?"
            raise XmppError(f"SASL failed for {user}: {condition}")
        if outcome.text and outcome.text.strip() not in ("", "="):
            scram.set_server_final(base64.b64decode(outcome.text).decode())

        conn.open_stream(domain)
        features = await conn.expect(f"{{{STREAM_NS}}}features", timeout)
        bind = (f"<bind xmlns='{BIND_NS}'><resource>{xml_escape(resource)}</resource></bind>")
        result = await conn.iq(bind, "bind", timeout)
        jid = result.find(f"{{{BIND_NS}}}bind/{{{BIND_NS}}}jid")
        conn.jid = jid.text if jid is not None else f"{user}@{domain}/{resource}"
        session = features.find(f"{{{SESSION_NS}}}session")
        if session is not None and session.find(f"{{{SESSION_NS}}}optional") is None:
            await conn.iq(f"<session xmlns='{SESSION_NS}'/>", "sess", timeout)
        return conn
    except BaseException:
        conn.close()
        raise


async def register(host: str, port: int, domain: str, user: str, password: str,
                   timeout: float = 30.0) -> bool:
    """Create an account in-band (XEP-0077); False if it already existed."""
    conn = await connect(host, port)
    try:
        conn.open_stream(domain)
        features = await conn.expect(f"{{{STREAM_NS}}}features", timeout)
        _check_features(features)
        try:
            await conn.iq(f"<query xmlns='{REGISTER_NS}'><username>{xml_escape(user)}"
                          f"</username><password>{xml_escape(password)}</password></query>",
                          "reg", timeout)
        except XmppError as exc:
            if "conflict" in str(exc):
                return False
            raise
        return True
    finally:
        conn.close()


def user_name(prefix: str, index: int) -> str:
    """Account name number ``index``."""
    return f"{prefix}{index}"


# ----------------------------------------------------------------- measuring

class Meter:
    """Wall time (monotonic, comparable between processes) and own CPU time."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.start_wall = self.end_wall = 0.0
        self.start_cpu = self.end_cpu = None

    def start(self) -> None:
        """Note the CPU times and the wall clock at the start."""
        self.start_cpu = self.process.cpu_times()
        self.start_wall = time.monotonic()

    def stop(self) -> None:
        """Note the CPU times and the wall clock at the end."""
        self.end_wall = time.monotonic()
        self.end_cpu = self.process.cpu_times()

    def report(self) -> dict:
        """Figures common to every scenario."""
        user = self.end_cpu.user - self.start_cpu.user
        system = self.end_cpu.system - self.start_cpu.system
        wall = self.end_wall - self.start_wall
        return {
            "start": self.start_wall, "end": self.end_wall, "wall_s": wall,
            "cpu_user_s": user, "cpu_system_s": system, "cpu_s": user + system,
            "cpu_percent": 100.0 * (user + system) / wall if wall > 0 else 0.0,
        }


async def wait_go(enabled: bool) -> None:
    """Print the ready line and wait for any line on stdin (if enabled)."""
    if not enabled:
        return
    print(json.dumps({"event": "ready"}), flush=True)
    line = await asyncio.to_thread(sys.stdin.readline)
    if not line:
        raise SystemExit("coordinator went away")


async def gather_limited(coros, limit: int) -> list:
    """Run coroutines with at most ``limit`` at a time; return results in order."""
    semaphore = asyncio.Semaphore(limit)

    async def run(coro):
        async with semaphore:
            return await coro

    return await asyncio.gather(*(run(c) for c in coros))


# --------------------------------------------------------------- scenarios

async def scenario_register(args) -> dict:
    """Create accounts prefix{first} .. prefix{first+count-1}."""
    started = time.monotonic()
    created = await gather_limited(
        (register(args.host, args.port, args.domain, user_name(args.prefix, i), args.password)
         for i in range(args.first, args.first + args.count)),
        args.concurrency)
    wall = time.monotonic() - started
    return {"scenario": "register", "created": sum(created),
            "existed": len(created) - sum(created), "wall_s": wall}


_MESSAGE_START = re.compile(rb"<message\b[^>]*>")
_ID_ATTR = re.compile(rb"""\sid=['"]p(\d+)-(\d+)['"]""")


class Pair:
    """One sender and one receiver, with the window and arrival book-keeping."""

    def __init__(self, index: int, sender: XmppConnection, receiver: XmppConnection,
                 messages: int, window: int, body: str, done: asyncio.Future,
                 on_progress) -> None:
        self.index = index
        self.sender = sender
        self.receiver = receiver
        self.total = messages
        self.window = window
        self.refill = max(1, window // 4)
        self.sent = 0
        self.received = 0            # unique arrivals
        self.duplicates = 0
        self.out_of_order = 0
        self.bounced = 0             # error messages seen by either side
        self.misrouted = 0           # another pair's message reached this receiver
        self.last_id = -1
        self.reads = 0               # data_received calls on the receiver
        self.seen = bytearray(messages)
        self.done = done
        self.on_progress = on_progress
        to = xml_escape(receiver.jid)
        # Pre-built pieces of every message; only the number changes.
        # The id names the pair and the sequence number: p<pair>-<n>.
        self._template = (f"<message to='{to}' type='chat' id='p{index}-%d'><body>"
                          f"{xml_escape(body)} %d</body></message>")
        self._tail = b""
        self._sender_tail = b""
        receiver.fast_handler = self.on_receiver_data
        sender.fast_handler = self.on_sender_data

    def pump(self) -> None:
        """Send as many messages as the window allows (in one write)."""
        room = min(self.total - self.sent, self.window - (self.sent - self.received))
        if room <= 0 or (room < self.refill and self.sent + room < self.total):
            return
        template = self._template
        first = self.sent
        self.sent += room
        self.sender.transport.write(
            "".join([template % (i, i) for i in range(first, first + room)]).encode())

    def _scan(self, data: bytes, tail: bytes) -> tuple[list[bytes], bytes]:
        """Split off complete ``<message>`` stanzas; return start tags and the rest."""
        buffer = tail + data if tail else data
        cut = buffer.rfind(b"</message>")
        if cut < 0:
            return [], buffer[-65536:] if len(buffer) > 65536 else buffer
        return _MESSAGE_START.findall(buffer, 0, cut), buffer[cut:]

    def on_receiver_data(self, data: bytes) -> None:
        """Count the messages in a chunk the receiver got; then refill the window."""
        self.reads += 1
        tags, self._tail = self._scan(data, self._tail)
        seen = self.seen
        for tag in tags:
            if b"error" in tag and (b"type='error'" in tag or b'type="error"' in tag):
                self.bounced += 1
                continue
            match = _ID_ATTR.search(tag)
            if match is None or int(match.group(1)) != self.index:
                self.misrouted += 1
                continue
            number = int(match.group(2))
            if number >= self.total or seen[number]:
                self.duplicates += 1
                continue
            seen[number] = 1
            self.received += 1
            if number < self.last_id:
                self.out_of_order += 1
            self.last_id = number
        if tags:
            self.on_progress()
            if self.received >= self.total:
                if not self.done.done():
                    self.done.set_result(None)
            else:
                self.pump()

    def on_sender_data(self, data: bytes) -> None:
        """A sender should get nothing but bounces: count those as lost."""
        tags, self._sender_tail = self._scan(data, self._sender_tail)
        for tag in tags:
            if b"error" in tag:
                self.bounced += 1


async def scenario_throughput(args) -> dict:
    """N pairs, M messages each, window W; messages/s and exactly-once check."""
    loop = asyncio.get_running_loop()
    first = args.first_pair
    # Accounts: pair k uses prefix{2k} (sender) and prefix{2k+1} (receiver).
    logins = []
    for k in range(first, first + args.pairs):
        logins.append(login(args.host, args.port, args.domain,
                            user_name(args.prefix, 2 * k), args.password))
        logins.append(login(args.host, args.port, args.domain,
                            user_name(args.prefix, 2 * k + 1), args.password))
    conns = await gather_limited(logins, 20)
    if args.presence:
        for conn in conns:
            conn.send("<presence/>")
        await asyncio.sleep(0.5)

    last_progress = [time.monotonic()]

    def progress() -> None:
        last_progress[0] = time.monotonic()

    pairs = [
        Pair(first + j, conns[2 * j], conns[2 * j + 1], args.messages, args.window,
             args.body, loop.create_future(), progress)
        for j in range(args.pairs)
    ]
    await wait_go(args.wait_go)

    meter = Meter()
    meter.start()
    progress()
    for pair in pairs:
        pair.pump()
    pending = {pair.done for pair in pairs}
    timed_out = False
    while pending:
        _done, pending = await asyncio.wait(pending, timeout=1.0)
        if pending and time.monotonic() - last_progress[0] > args.stall_timeout:
            timed_out = True
            break
    meter.stop()

    for conn in conns:
        conn.close()
    sent = sum(p.sent for p in pairs)
    received = sum(p.received for p in pairs)
    expected = args.pairs * args.messages
    result = {
        "scenario": "throughput", "pairs": args.pairs, "messages_per_pair": args.messages,
        "window": args.window, "expected": expected, "sent": sent, "received": received,
        "lost": expected - received, "duplicates": sum(p.duplicates for p in pairs),
        "out_of_order": sum(p.out_of_order for p in pairs),
        "bounced": sum(p.bounced for p in pairs), "stalled": timed_out,
        "misrouted": sum(p.misrouted for p in pairs),
        "receiver_reads": sum(p.reads for p in pairs),
    }
    result.update(meter.report())
    result["messages_per_s"] = received / result["wall_s"] if result["wall_s"] else 0.0
    return result


async def scenario_login(args) -> dict:
    """K timed logins (connect, SCRAM-SHA-1, bind, close) with C at a time."""
    accounts = [user_name(args.prefix, args.first + i) for i in range(args.accounts)]

    async def one(user: str) -> bool:
        try:
            conn = await login(args.host, args.port, args.domain, user, args.password)
        except (XmppError, OSError) as exc:
            failures.append(f"{user}: {exc}")
            return False
        conn.close()
        return True

    failures: list[str] = []
    # Warm-up: one login per account fills the PBKDF2 cache (not timed).
    await gather_limited((one(u) for u in accounts), args.concurrency)
    warmup_failures = len(failures)
    failures.clear()
    await wait_go(args.wait_go)

    meter = Meter()
    pbkdf2_before = PBKDF2_STATS["computed"]
    meter.start()
    results = await gather_limited(
        (one(accounts[i % len(accounts)]) for i in range(args.count)), args.concurrency)
    meter.stop()
    ok = sum(results)
    result = {"scenario": "login", "count": args.count, "concurrency": args.concurrency,
              "ok": ok, "failed": args.count - ok, "warmup_failed": warmup_failures,
              "first_failures": failures[:5],
              "pbkdf2_computed": PBKDF2_STATS["computed"] - pbkdf2_before}
    result.update(meter.report())
    result["logins_per_s"] = ok / result["wall_s"] if result["wall_s"] else 0.0
    return result


async def scenario_idle(args) -> dict:
    """Open P bound connections, report, keep them until told, then close."""
    meter = Meter()
    meter.start()
    conns = await gather_limited(
        (login(args.host, args.port, args.domain, user_name(args.prefix, args.first + i),
               args.password) for i in range(args.connections)),
        args.concurrency)
    meter.stop()
    for conn in conns:
        conn.fast_handler = lambda data: None      # ignore anything the server sends
    if args.presence:
        for conn in conns:
            conn.send("<presence/>")
    result = {"scenario": "idle", "connections": len(conns)}
    result.update(meter.report())
    if args.wait_go:
        # Tell the coordinator the connections are open; it measures, then says go.
        print(json.dumps({"event": "ready", **result}), flush=True)
        await asyncio.to_thread(sys.stdin.readline)
    else:
        await asyncio.sleep(args.hold)
    alive = sum(1 for c in conns if c.error is None and not c.transport.is_closing())
    for conn in conns:
        conn.close()
    result["alive_at_end"] = alive
    return result


def percentiles_ms(samples: list[float]) -> dict:
    """p50, p90, p99 and max of round trips given in seconds, in milliseconds."""
    if not samples:
        return {"count": 0}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return 1000.0 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"count": len(ordered), "p50_ms": at(0.50), "p90_ms": at(0.90), "p99_ms": at(0.99),
            "max_ms": 1000.0 * ordered[-1], "mean_ms": 1000.0 * statistics.fmean(ordered)}


async def scenario_ping(args) -> dict:
    """K clients each send P pings (XEP-0199) to the server, one at a time; round-trip percentiles."""
    conns = await gather_limited(
        (login(args.host, args.port, args.domain, user_name(args.prefix, args.first + i),
               args.password) for i in range(args.clients)), 10)
    await wait_go(args.wait_go)
    rtts: list[float] = []
    ping = "<ping xmlns='urn:xmpp:ping'/>"

    async def pinger(conn: XmppConnection, k: int) -> None:
        for n in range(args.pings):
            started = time.perf_counter()
            await conn.iq(ping, f"ping{k}-{n}", 10.0, kind="get", to=args.domain)
            rtts.append(time.perf_counter() - started)
            await asyncio.sleep(args.interval / 1000.0)      # pacing, not waiting for an event

    meter = Meter()
    meter.start()
    await asyncio.gather(*(pinger(c, k) for k, c in enumerate(conns)))
    meter.stop()
    for conn in conns:
        conn.close()
    result = {"scenario": "ping", "clients": args.clients, "pings_per_client": args.pings,
              "interval_ms": args.interval, "rtt": percentiles_ms(rtts)}
    result.update(meter.report())
    return result


# ------------------------------------------------------------------- command

def build_parser() -> argparse.ArgumentParser:
    """The command line (one subcommand per scenario)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--host", default="127.0.0.1")
    common.add_argument("--port", type=int, required=True)
    common.add_argument("--domain", default="example.com")
    common.add_argument("--prefix", default="u", help="account names are PREFIX<number>")
    common.add_argument("--password", default="bench-password")
    common.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto",
                        help="event loop; auto uses uvloop when it is installed")
    common.add_argument("--wait-go", action="store_true",
                        help="print a ready line and wait for a stdin line before timing")
    sub = parser.add_subparsers(dest="scenario", required=True)

    reg = sub.add_parser("register", parents=[common], help="create accounts in-band")
    reg.add_argument("--first", type=int, default=0)
    reg.add_argument("--count", type=int, required=True)
    reg.add_argument("--concurrency", type=int, default=16)

    thr = sub.add_parser("throughput", parents=[common], help="messages/s through N pairs")
    thr.add_argument("--pairs", type=int, default=10)
    thr.add_argument("--first-pair", type=int, default=0,
                     help="pair k uses accounts PREFIX{2k} and PREFIX{2k+1}")
    thr.add_argument("--messages", type=int, default=10000, help="messages per pair")
    thr.add_argument("--window", type=int, default=100, help="max in flight per pair")
    thr.add_argument("--body", default="Hello, this is benchmark message")
    thr.add_argument("--presence", action="store_true", help="send initial presence first")
    thr.add_argument("--stall-timeout", type=float, default=10.0,
                     help="give up after this many seconds without an arrival")

    log = sub.add_parser("login", parents=[common], help="logins/s")
    log.add_argument("--first", type=int, default=0)
    log.add_argument("--accounts", type=int, default=100, help="distinct accounts used")
    log.add_argument("--count", type=int, default=2000, help="timed logins")
    log.add_argument("--concurrency", type=int, default=20)

    idle = sub.add_parser("idle", parents=[common], help="hold idle bound connections")
    idle.add_argument("--first", type=int, default=0)
    idle.add_argument("--connections", type=int, default=500)
    idle.add_argument("--concurrency", type=int, default=50)
    idle.add_argument("--presence", action="store_true", help="send initial presence")
    idle.add_argument("--hold", type=float, default=5.0,
                      help="seconds to hold without --wait-go")
    png = sub.add_parser("ping", parents=[common], help="ping round trips (XEP-0199)")
    png.add_argument("--first", type=int, default=0)
    png.add_argument("--clients", type=int, default=4)
    png.add_argument("--pings", type=int, default=500, help="pings per client, one at a time")
    png.add_argument("--interval", type=float, default=5.0, help="milliseconds between pings")
    return parser


SCENARIOS = {
    "ping": scenario_ping,
    "register": scenario_register,
    "throughput": scenario_throughput,
    "login": scenario_login,
    "idle": scenario_idle,
}


def event_loop_runner(choice: str):
    """Return ``(name, run)``: uvloop's runner if asked or auto and installed.

    uvloop is optional (not a project dependency); it cuts the load
    generator's CPU per login by about a third.
    """
    if choice in ("auto", "uvloop"):
        try:
            import uvloop
            return "uvloop", uvloop.run
        except ImportError:
            if choice == "uvloop":
                raise SystemExit("--loop uvloop: uvloop is not installed (pip install uvloop)") from None
    return "asyncio", asyncio.run


def main(argv: list[str] | None = None) -> int:
    """Run one scenario and print its JSON result as the last stdout line."""
    args = build_parser().parse_args(argv)
    loop_name, run = event_loop_runner(args.loop)
    try:
        result = run(SCENARIOS[args.scenario](args))
    except (XmppError, OSError) as exc:
        print(json.dumps({"event": "error", "scenario": args.scenario, "error": str(exc)}),
              flush=True)
        return 1
    result["event"] = "result"
    result["loop"] = loop_name
    result["pbkdf2"] = dict(PBKDF2_STATS)
    result["pid"] = os.getpid()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
