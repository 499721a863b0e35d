"""Soak: a class's worth of clients over STARTTLS for minutes, with the limits on.

Usage (from the repository root)::

    .venv/bin/python benchmarks/soak.py                 # 100 clients, 10 minutes
    .venv/bin/python benchmarks/soak.py --minutes 1     # a quick run while developing

It starts ``xmpplab serve`` on loopback as its own process, with TLS (a
self-signed certificate), the per-address limits applied to loopback peers
(``--limit-loopback``: the clients all come from 127.0.0.1, as a class behind
one address would) and the accounts ``s0`` .. ``s{N-1}`` created at start
(``--user``: in-band registration would trip ``--registrations``, one per
address per 300 s).  Then N clients log in a few at a time (fewer than
``--unauthenticated-per-address``), each through STARTTLS and SCRAM-SHA-1,
send initial presence and join ``room@conference.DOMAIN`` (the first one
creates it as an instant room, XEP-0045 10.1.2).

For ``--minutes`` each client sends one message per second (at its own
phase): with probability ``--room-share`` to the room, otherwise a chat
message to a randomly chosen other client's full JID.  Every message has a
unique id (``<sender>-<n>``, also in the body); the script counts, per
intended recipient, which ids arrived (every occupant, the sender included,
receives each room message).  Checks:

* zero lost: every message reached each intended recipient, none twice;
* the limits never trip on this honest traffic: any stream error (for
  example ``<policy-violation/>``), lost connection, or error stanza
  (``resource-constraint``, ``policy-violation``, ...) counts as a failure and
  is listed;
* resident memory (RSS) of the server, sampled every ``--sample`` seconds
  after a warm-up, is flat: the median of the last three samples is within
  10 % of the median of the first three;
* the server logged no traceback.

The exit status is 1 when a check fails.  The section "## Soak" of
``benchmarks/RESULTS.md`` is rewritten; raw figures go to
``benchmarks/soak.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import leanclient
import psutil
from conns10k import raise_open_files
from coordinator import machine_busy
from report import machine_info
from sections import replace_section
from servers import BENCH_DIR, REPO, free_port, terminate

HEADING = "## Soak"
PASSWORD = "soak-password"
RESOURCE = "soak"
CLIENT_NS = "jabber:client"
MUC_NS = "http://jabber.org/protocol/muc"
MUC_USER_NS = "http://jabber.org/protocol/muc#user"
MUC_OWNER_NS = "http://jabber.org/protocol/muc#owner"
STANZA_NS = "urn:ietf:params:xml:ns:xmpp-stanzas"
DELAY_NS = "urn:xmpp:delay"
MAX_GROWTH = 0.10      # RSS after warm-up may grow by at most 10 %


class Book:
    """Who should receive which message id, and who did."""

    def __init__(self, clients: int) -> None:
        self.expected: list[set[str]] = [set() for _ in range(clients)]
        self.received: list[set[str]] = [set() for _ in range(clients)]
        self.duplicates = 0
        self.unexpected = 0
        self.sent_chat = 0
        self.sent_room = 0
        self.outstanding = 0
        self.drained = asyncio.Event()

    def expect(self, recipient: int, ident: str) -> None:
        """A message to `recipient` is on its way."""
        self.expected[recipient].add(ident)
        self.outstanding += 1
        self.drained.clear()

    def arrived(self, recipient: int, ident: str) -> None:
        """A message reached `recipient`: count it, or count it as a duplicate or unexpected."""
        if ident in self.received[recipient]:
            self.duplicates += 1
        elif ident not in self.expected[recipient]:
            self.unexpected += 1
        else:
            self.received[recipient].add(ident)
            self.outstanding -= 1
            if self.outstanding == 0:
                self.drained.set()

    def lost(self) -> int:
        """How many messages sent never arrived."""
        return sum(len(e - r) for e, r in zip(self.expected, self.received, strict=True))


class SoakClient:
    """One logged-in client: reads everything the server sends, sends once a second."""

    def __init__(self, index: int, soak: Soak) -> None:
        self.index = index
        self.soak = soak
        self.conn: leanclient.XmppConnection | None = None
        self.joined = asyncio.Event()
        self.iq_waiters: dict[str, asyncio.Future] = {}
        self.sent = 0
        self.alive = False

    @property
    def jid(self) -> str:
        """The client's full JID."""
        return f"{self.soak.name(self.index)}@{self.soak.domain}/{RESOURCE}"

    async def login(self) -> None:
        """Log in and send initial presence."""
        opts = self.soak.opts
        self.conn = await leanclient.login(opts.host, self.soak.port, self.soak.domain,
                                        self.soak.name(self.index), self.soak.password(self.index), RESOURCE,
                                        timeout=60, tls=self.soak.tls_context)
        self.alive = True
        self.conn.send("<presence/>")

    async def read(self) -> None:
        """Handle every element until the stream ends; anything unexpected is a failure."""
        while True:
            try:
                element = await self.conn.next_element(None)
            except leanclient.XmppError as exc:
                self.alive = False
                if not self.soak.closing:
                    self.soak.fail(self.index, str(exc))
                return
            self.handle(element)

    def handle(self, element: ET.Element) -> None:
        """Handle one stanza: count a message, note a join or an error, answer an iq."""
        kind = element.get("type", "")
        tag = element.tag.rsplit("}", 1)[-1]
        if kind == "error":
            error = element.find(f"{{{CLIENT_NS}}}error")
            condition = "?"
            if error is not None:
                for child in error:
                    if child.tag.startswith(f"{{{STANZA_NS}}}") and not child.tag.endswith("}text"):
                        condition = child.tag.rsplit("}", 1)[-1]
            self.soak.fail(self.index, f"{tag} error from {element.get('from')}: {condition} "
                                       f"({error.get('type') if error is not None else '?'})")
            waiter = self.iq_waiters.pop(element.get("id", ""), None)
            if waiter is not None and not waiter.done():
                waiter.set_exception(leanclient.XmppError(f"iq error {condition}"))
            return
        if tag == "message":
            body = element.find(f"{{{CLIENT_NS}}}body")
            if body is None or not (body.text or "").startswith("soak "):
                return                                  # e.g. the room's subject
            if element.find(f"{{{DELAY_NS}}}delay") is not None:
                return                                  # room history (none is expected)
            self.soak.book.arrived(self.index, body.text.split(" ", 2)[1])
        elif tag == "presence":
            x = element.find(f"{{{MUC_USER_NS}}}x")
            if x is not None and any(s.get("code") == "110" for s in x.findall(f"{{{MUC_USER_NS}}}status")):
                self.joined.set()
        elif tag == "iq":
            waiter = self.iq_waiters.pop(element.get("id", ""), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(element)
            elif kind in ("get", "set"):                 # answer what we do not implement
                self.conn.send(f"<iq type='error' id='{leanclient.xml_escape(element.get('id', ''))}' "
                               f"to='{leanclient.xml_escape(element.get('from', ''))}'><error type='cancel'>"
                               f"<service-unavailable xmlns='{STANZA_NS}'/></error></iq>")

    async def iq(self, payload: str, to: str, ident: str, timeout: float = 30) -> ET.Element:
        """Send an iq set and wait for its answer."""
        future = asyncio.get_running_loop().create_future()
        self.iq_waiters[ident] = future
        self.conn.send(f"<iq type='set' id='{ident}' to='{to}'>{payload}</iq>")
        return await asyncio.wait_for(future, timeout)

    async def join(self, create: bool) -> None:
        """Join the soak's room (XEP-0045 section 7.2), creating it as an instant room when `create`."""
        room = self.soak.room
        self.conn.send(f"<presence to='{room}/{self.soak.name(self.index)}'><x xmlns='{MUC_NS}'>"
                       "<history maxstanzas='0'/></x></presence>")
        await asyncio.wait_for(self.joined.wait(), 30)
        if create:   # XEP-0045 10.1.2: accept the default configuration (an instant room)
            await self.iq(f"<query xmlns='{MUC_OWNER_NS}'><x xmlns='jabber:x:data' type='submit'/>"
                          "</query>", room, "create")

    async def chatter(self, stop_at: float) -> None:
        """One message per second until ``stop_at`` (monotonic), at a random phase."""
        soak, rng = self.soak, self.soak.rng
        await asyncio.sleep(rng.random())
        next_at = time.monotonic()
        others = [k for k in range(soak.opts.clients) if k != self.index]
        while self.alive and time.monotonic() < stop_at:
            ident = f"{self.index}-{self.sent}"
            body = f"soak {ident} from {soak.name(self.index)}"
            if rng.random() < soak.opts.room_share:
                for k in range(soak.opts.clients):
                    soak.book.expect(k, ident)
                soak.book.sent_room += 1
                self.conn.send(f"<message to='{soak.room}' type='groupchat' id='{ident}'>"
                               f"<body>{body}</body></message>")
            else:
                k = rng.choice(others)
                soak.book.expect(k, ident)
                soak.book.sent_chat += 1
                self.conn.send(f"<message to='{soak.name(k)}@{soak.domain}/{RESOURCE}' type='chat' "
                               f"id='{ident}'><body>{body}</body></message>")
            self.sent += 1
            next_at += 1.0
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))   # the pace of a person


class Soak:
    """The server process, the clients and the checks."""

    def __init__(self, opts) -> None:
        self.opts = opts
        self.domain = opts.domain
        self.room = f"room@conference.{opts.domain}"
        self.rng = random.Random(opts.seed)
        self.book = Book(opts.clients)
        self.failures: list[str] = []
        self.closing = False
        self.tls_context = leanclient.insecure_tls_context()
        self.workdir = Path(tempfile.mkdtemp(prefix="xmpplab-soak-"))
        self.log_file = self.workdir / "server.log"
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.samples: list[tuple[float, int]] = []     # (seconds since sending began, RSS)

    #: What the server prints once it listens.
    ready_text = "clients connect to"
    #: Whether the first client creates the room (an instant room); a class's room exists already.
    create_room = True

    def name(self, index: int) -> str:
        """The account (local part) of client ``index``."""
        return f"s{index}"

    def password(self, index: int) -> str:
        """The password of client ``index``."""
        return PASSWORD

    async def prepare(self) -> None:
        """Set up what the server needs before the clients log in (nothing here: ``--user`` made the accounts)."""

    def extra(self, started: float, stop_at: float) -> list:
        """More coroutines to run while the clients send (none here; the classroom adds its teacher)."""
        return []

    def fail(self, index: int, what: str) -> None:
        who = self.name(index) if index >= 0 else "teacher"
        self.failures.append(f"{who}: {what}")
        if len(self.failures) <= 10:
            print(f"  FAILURE {who}: {what}", flush=True)

    # the server ---------------------------------------------------------------------
    def server_command(self) -> list[str]:
        """The command line that starts the xmpplab server with an account per client."""
        opts = self.opts
        cmd = [sys.executable, "-m", "xmpplab", "serve", "--host", opts.host, "--port",
               str(self.port), "--domain", self.domain]
        if not opts.no_limits:
            cmd.append("--limit-loopback")
        for i in range(opts.clients):
            cmd += ["--user", f"s{i}@{self.domain}:{PASSWORD}"]
        return cmd + opts.server_arg

    def start_server(self) -> None:
        """Start the xmpplab server on a free port, its output into the log file."""
        self.port = free_port(self.opts.host)
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        with open(self.log_file, "wb") as log:
            self.process = subprocess.Popen(
                self.server_command(), cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            try:   # the server prints its address once it listens
                if self.ready_text in self.log_file.read_text(errors="replace"):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not start: {self.log_text()[-1500:]}")

    def server_pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    def server_running(self) -> bool:
        """Whether the server process still runs."""
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        """What the server wrote to its log."""
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def rss(self) -> int:
        """The server's resident memory, children included, in bytes."""
        main = psutil.Process(self.server_pid())
        return sum(p.memory_info().rss for p in [main] + main.children(recursive=True))

    def stop_server(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL)."""
        process, self.process = self.process, None
        terminate(process, 15)

    # the run -------------------------------------------------------------------------
    async def sample_rss(self, started: float, stop_at: float) -> None:
        """Note the server's memory every few seconds until `stop_at`."""
        while time.monotonic() < stop_at and self.server_running():
            self.samples.append((time.monotonic() - started, self.rss()))
            await asyncio.sleep(self.opts.sample)

    async def run(self) -> dict:
        """Run the soak: start the server, log the clients in, let them chat, and collect the figures."""
        opts = self.opts
        out: dict = {}
        t0 = time.monotonic()
        self.start_server()
        try:
            await self.prepare()
            clients = [SoakClient(i, self) for i in range(opts.clients)]
            t_login = time.monotonic()
            readers = []
            for first in range(0, opts.clients, opts.batch):   # a few unauthenticated at a time
                batch = clients[first:first + opts.batch]
                results = await asyncio.gather(*(c.login() for c in batch), return_exceptions=True)
                for client, result in zip(batch, results, strict=True):
                    if isinstance(result, BaseException):
                        self.fail(client.index, f"login: {result}")
                    else:
                        readers.append(asyncio.create_task(client.read()))
            live = [c for c in clients if c.alive]
            out["logged_in"] = len(live)
            out["login_s"] = time.monotonic() - t_login   # from the first login to the last
            print(f"  {len(live)} clients logged in over STARTTLS in {out['login_s']:.1f} s",
                  flush=True)
            if live:
                await live[0].join(create=self.create_room)
                for first in range(1, len(live), opts.batch):
                    await asyncio.gather(*(c.join(create=False)
                                           for c in live[first:first + opts.batch]))
                print(f"  {len(live)} joined {self.room}", flush=True)

            duration = opts.minutes * 60.0
            started = time.monotonic()
            stop_at = started + duration
            sampler = asyncio.create_task(self.sample_rss(started, stop_at + 0.5))
            cpu0, own0, busy0 = self.server_cpu(), own_cpu(), machine_busy()
            await asyncio.gather(*(c.chatter(stop_at) for c in live), *self.extra(started, stop_at))
            server_s, own_s = self.server_cpu() - cpu0, own_cpu() - own0
            out["server_cpu_percent"] = 100.0 * server_s / duration
            out["clients_cpu_percent"] = 100.0 * own_s / duration
            # Everything else the machine did meanwhile (other users of a shared machine): noise.
            out["other_cpu_percent"] = max(0.0, 100.0 * (machine_busy() - busy0 - server_s - own_s) / duration)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.book.drained.wait(), opts.drain)
            await sampler
            out["alive_at_end"] = sum(c.alive for c in clients)
            self.closing = True
            for c in live:
                c.conn.close()
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
        finally:
            self.stop_server()
        log = self.log_text()
        out["server_tracebacks"] = log.count("Traceback")
        out["server_log_lines"] = len(log.splitlines())
        out["wall_s"] = time.monotonic() - t0
        return out

    def server_cpu(self) -> float:
        """The server's CPU time so far, in seconds."""
        times = psutil.Process(self.server_pid()).cpu_times()
        return times.user + times.system

    # the verdict --------------------------------------------------------------------
    def memory(self) -> dict:
        """The server's memory after warm-up: first, last and largest, its growth, and whether it stayed flat."""
        warm = [rss for t, rss in self.samples if t >= self.opts.warmup]
        if len(warm) < 6:
            return {"samples": len(warm), "flat": None}
        first, last = statistics.median(warm[:3]), statistics.median(warm[-3:])
        return {"samples": len(warm), "first_mib": first / 2**20, "last_mib": last / 2**20,
                "max_mib": max(warm) / 2**20, "growth": (last - first) / first,
                "flat": (last - first) / first <= MAX_GROWTH,
                "before_warmup_mib": self.samples[0][1] / 2**20 if self.samples else None}


def own_cpu() -> float:
    """This process's CPU time so far (the clients), in seconds."""
    times = psutil.Process().cpu_times()
    return times.user + times.system


def report(opts, soak: Soak, out: dict) -> tuple[str, bool]:
    """The soak's results as a Markdown section, and whether every check passed."""
    book, memory = soak.book, soak.memory()
    lost = book.lost()
    expected = sum(len(e) for e in book.expected)
    checks = {
        "zero lost, none duplicated": lost == 0 and book.duplicates == 0 and expected > 0,
        "no limit tripped, no stream or stanza error": not soak.failures,
        f"RSS flat after warm-up (growth <= {MAX_GROWTH:.0%})": bool(memory.get("flat")),
        "all clients connected to the end": out.get("alive_at_end") == opts.clients,
        "no traceback in the server log": out.get("server_tracebacks") == 0,
    }
    ok = all(checks.values())
    info = machine_info()
    limits = "with `--limit-loopback` (default limits)" if not opts.no_limits else "without limits"
    extra = f", extra server flags `{' '.join(opts.server_arg)}`" if opts.server_arg else ""
    lines = [
        HEADING, "",
        f"Written by `benchmarks/soak.py --minutes {opts.minutes:g}` on {info['date']}, "
        f"{info['nproc']} cores, Python {info['python']}. {opts.clients} clients over STARTTLS "
        f"(one process), xmpplab {limits}{extra}; each sends one message per second, "
        f"{opts.room_share:.0%} of them to `{soak.room}` ({out['logged_in']} joined), the rest "
        f"as chat to a random other client. Warm-up {opts.warmup:g} s, RSS sampled every "
        f"{opts.sample:g} s. The run took {out['wall_s'] / 60:.1f} minutes "
        f"(logins {out['login_s']:.1f} s, {opts.batch} at a time).", "",
        "| figure | value |", "| --- | ---: |",
        f"| messages sent (chat / to the room) | {book.sent_chat:,} / {book.sent_room:,} |",
        f"| deliveries expected (by recipient) | {expected:,} |",
        f"| lost / duplicated / unexpected | {lost} / {book.duplicates} / {book.unexpected} |",
        f"| stream errors, error stanzas, lost connections | {len(soak.failures)} |",
        f"| clients connected at the end | {out.get('alive_at_end')} of {opts.clients} |",
    ]
    if memory.get("flat") is not None:
        lines += [
            f"| server RSS: first / last / max after warm-up (MiB) | {memory['first_mib']:.1f} / "
            f"{memory['last_mib']:.1f} / {memory['max_mib']:.1f} |",
            f"| RSS growth after warm-up | {memory['growth']:+.1%} |",
        ]
    lines += [f"| server CPU while sending (one core) | {out['server_cpu_percent']:.1f}% |", "",
              "| check | pass |", "| --- | :---: |"]
    lines += [f"| {name} | {'yes' if good else '**no**'} |" for name, good in checks.items()]
    if soak.failures:
        lines += ["", "First failures:", ""] + [f"- {f}" for f in soak.failures[:10]]
    return "\n".join(lines) + "\n", ok


def build_parser(description: str = __doc__.split("\n\n")[0]) -> argparse.ArgumentParser:
    """The soak's options (the classroom benchmark adds its own)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long clients send (10)")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--room-share", type=float, default=0.1,
                        help="share of the messages sent to the room (0.1)")
    parser.add_argument("--warmup", type=float,
                        help="seconds of sending before RSS counts (min(60, a quarter of the run))")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--batch", type=int, default=5,
                        help="logins and joins at a time (below --unauthenticated-per-address)")
    parser.add_argument("--drain", type=float, default=15.0,
                        help="seconds to wait for the last messages after sending stops")
    parser.add_argument("--no-limits", action="store_true",
                        help="run the server without --limit-loopback (for comparison)")
    parser.add_argument("--server-arg", action="append", default=[], metavar="ARG",
                        help="one more argument for xmpplab serve (repeatable), e.g. "
                             "--server-arg=--record --server-arg=/tmp/soak.jsonl")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--domain", default="example.com")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "RESULTS.md")
    parser.add_argument("--json", type=Path, default=BENCH_DIR / "soak.json")
    return parser


def parse_args(argv=None, parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    parser = parser or build_parser()
    opts = parser.parse_args(argv)
    if opts.warmup is None:
        opts.warmup = min(60.0, opts.minutes * 15.0)
    if opts.clients < 2 or opts.minutes <= 0:
        parser.error("the soak needs at least 2 clients and a positive --minutes")
    return opts


async def run_checked(runner, name: str) -> dict | None:
    """``runner.run()``, or None after printing why it failed and the end of the server's log."""
    try:
        return await runner.run()
    except (TimeoutError, RuntimeError, OSError, leanclient.XmppError) as exc:
        print(f"{name} FAILED: {exc}", flush=True)
        print(runner.log_text()[-2000:], flush=True)
        return None
    finally:
        runner.stop_server()


def write_results(opts, heading: str, text: str, ok: bool, data: dict) -> int:
    """Rewrite ``heading``'s section of RESULTS.md and the raw figures in ``opts.json``; the exit code."""
    replace_section(opts.output, heading, text)
    opts.json.write_text(json.dumps(data, indent=1))
    print(text, flush=True)
    print(f"wrote {opts.output} ({heading[3:]}) and {opts.json}: {'PASS' if ok else 'FAIL'}", flush=True)
    return 0 if ok else 1


async def main_async(opts) -> int:
    """Run the soak and write its results; returns an exit code."""
    raise_open_files(opts.clients + 100)
    soak = Soak(opts)
    print(f"soak: {opts.clients} clients, {opts.minutes:g} minutes", flush=True)
    try:
        out = await run_checked(soak, "soak")
    finally:
        shutil.rmtree(soak.workdir, ignore_errors=True)   # the server's log, read by now
    if out is None:
        return 1
    text, ok = report(opts, soak, out)
    return write_results(opts, HEADING, text, ok, {
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(opts).items()},
        "result": out, "memory": soak.memory(), "rss_samples": soak.samples,
        "sent_chat": soak.book.sent_chat, "sent_room": soak.book.sent_room,
        "lost": soak.book.lost(), "duplicates": soak.book.duplicates,
        "failures": soak.failures[:100]})


def main(argv=None) -> int:
    """Run the soak as the command line asks; returns an exit code."""
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
