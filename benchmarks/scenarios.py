"""The load generator's scenarios: register, throughput, groupchat, login, idle and ping (see ``loadgen.py``).

Each scenario takes the parsed command line and returns its figures as a
dict; with ``--wait-go`` it does its untimed set-up first, says it is ready
and waits for the coordinator's go (:func:`wait_go`).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import sys
import time

import psutil
from leanclient import PBKDF2_STATS, XmppConnection, XmppError, login, register, user_name, xml_escape


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
                 on_progress, room: str | None = None) -> None:
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
        to = xml_escape(room or receiver.jid)  # a room: the receiver is one of its occupants
        # Pre-built pieces of every message; only the number changes.
        # The id names the pair and the sequence number: p<pair>-<n>.
        self._template = (f"<message to='{to}' type='{'groupchat' if room else 'chat'}' id='p{index}-%d'><body>"
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
    result = await _timed(args, pairs, conns, last_progress, progress)
    result.update({"scenario": "throughput", "pairs": args.pairs})
    return result


async def _timed(args, pairs: list[Pair], conns: list, last_progress: list, progress) -> dict:
    """Pump every pair until each message arrived (or nothing arrives for ``--stall-timeout``); the figures."""
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
    expected = len(pairs) * args.messages
    result = {
        "messages_per_pair": args.messages,
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


MUC = "http://jabber.org/protocol/muc"
MUC_OWNER = "http://jabber.org/protocol/muc#owner"


async def scenario_groupchat(args) -> dict:
    """R rooms of K occupants each; in every room one occupant sends M groupchat messages (window W) and all
    K get each one (XEP-0045 7.4); the figure is room messages/s, counted at a second occupant."""
    loop = asyncio.get_running_loop()
    k = args.occupants
    conns = await gather_limited(
        (login(args.host, args.port, args.domain, user_name(args.prefix, args.first + i), args.password)
         for i in range(args.rooms * k)), 20)
    service = args.service or f"conference.{args.domain}"
    archiving = {"on": "1", "off": "0"}.get(args.archiving)
    field = "" if archiving is None else \
        f"<field var='muc#roomconfig_enablearchiving'><value>{archiving}</value></field>"
    last_progress = [time.monotonic()]

    def progress() -> None:
        last_progress[0] = time.monotonic()

    pairs, tag = [], f"{os.getpid()}"
    for r in range(args.rooms):
        room = f"bench{tag}-{r}@{service}"
        members = conns[r * k:(r + 1) * k]
        for j, conn in enumerate(members):  # no history: nothing was said yet, and it would only be parsed
            conn.send(f"<presence to='{room}/o{j}'><x xmlns='{MUC}'><history maxstanzas='0'/></x></presence>")
            if j == 0:  # 10.1.2: the owner accepts the default configuration (with or without archiving)
                await conn.iq(f"<query xmlns='{MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'>{field}</x>"
                              "</query>", f"cfg{r}", to=room)
        for j, conn in enumerate(members):  # a round trip each: every join has been handled
            await conn.iq("<ping xmlns='urn:xmpp:ping'/>", f"joined{r}-{j}", kind="get", to=args.domain)
        for conn in members[2:]:
            conn.fast_handler = lambda data: None  # the other occupants get every message too; not counted
        pairs.append(Pair(r, members[0], members[1], args.messages, args.window, args.body,
                          loop.create_future(), progress, room=room))
    result = await _timed(args, pairs, conns, last_progress, progress)
    result.update({"scenario": "groupchat", "rooms": args.rooms, "occupants": k, "archiving": args.archiving})
    result["deliveries_per_s"] = result["messages_per_s"] * k
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
