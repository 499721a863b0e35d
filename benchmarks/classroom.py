"""Classroom: what a class does to `xmpplab classroom`, with the teacher's dashboard polling.

Usage (from the repository root)::

    .venv/bin/python benchmarks/classroom.py                  # 100 students, 10 minutes
    .venv/bin/python benchmarks/classroom.py --minutes 1      # a quick run while developing

It starts ``xmpplab classroom --students N`` on loopback as its own process (TLS on, a self-signed
certificate; ``--limit-loopback``, since the whole class comes from one address here), reads the
class list it wrote (the CSV of accounts and passwords), and logs the students in over STARTTLS and
SCRAM, a few at a time (below ``--unauthenticated-per-address``), all within the first seconds.
Each student joins ``class@conference.DOMAIN`` (made by the command: members only) and, for
``--minutes``, sends one message per second, 10 % of them to the room and the rest to a random
classmate (the traffic of :mod:`soak`). Meanwhile the teacher, logged in too, refreshes the
dashboard every ``--poll`` seconds the way ``xmpplab.widgets.Dashboard`` does: the online list
(XEP-0133 ``get-online-users-list``, two steps), the progress grid and the routing table (the
class commands), one after the other; the time of one whole refresh is the dashboard round trip.

Checks: the logins took at most 10 s; zero messages lost; no limit tripped and no error; resident
memory flat after warm-up (within 10 %); the dashboard's p99 round trip under 200 ms; no traceback.
The section "## Classroom" of ``benchmarks/RESULTS.md`` is rewritten; raw figures go to
``benchmarks/classroom.json``. (Prosody has no class commands; its XEP-0133 part is tested for
function in tests/test_teacher.py, not measured here.)
"""

from __future__ import annotations

import asyncio
import csv
import statistics
import sys
import time

import leanclient
import soak
from conns10k import raise_open_files
from report import machine_info
from servers import BENCH_DIR

HEADING = "## Classroom"
NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_ADMIN = "http://jabber.org/protocol/admin"
NS_CLASS = "urn:xmpplab:class:0"
NS_DATA = "jabber:x:data"
MAX_LOGIN_S = 10.0
MAX_P99_MS = 200.0


class Teacher(soak.SoakClient):
    """The teacher's dashboard: logs in like a student, then only runs commands."""

    @property
    def jid(self) -> str:
        return f"teacher@{self.soak.domain}/dashboard"

    async def login(self) -> None:
        self.conn = await leanclient.login(self.soak.opts.host, self.soak.port, self.soak.domain, "teacher",
                                        self.soak.teacher_password, "dashboard", timeout=60,
                                        tls=self.soak.tls_context)
        self.alive = True

    async def command(self, node: str, fields: str | None = None) -> None:
        """Execute a command; when it answers with a form, submit ``fields`` in its session."""
        n = self.sent = self.sent + 1
        answer = await self.iq(f"<command xmlns='{NS_COMMANDS}' node='{node}' action='execute'/>",
                               self.soak.domain, f"c{n}")
        cmd = answer.find(f"{{{NS_COMMANDS}}}command")
        if cmd is not None and cmd.get("status") == "executing":
            await self.iq(f"<command xmlns='{NS_COMMANDS}' node='{node}' sessionid='{cmd.get('sessionid')}' "
                          f"action='complete'><x xmlns='{NS_DATA}' type='submit'>{fields or ''}</x></command>",
                          self.soak.domain, f"c{n}b")

    async def poll(self, stop_at: float, every: float, times: list[float]) -> None:
        """Refresh the dashboard every ``every`` seconds until ``stop_at``; record each refresh's time."""
        next_at = time.monotonic()
        while self.alive and time.monotonic() < stop_at:
            start = time.perf_counter()
            await self.command(f"{NS_ADMIN}#get-online-users-list",
                               "<field var='max_items'><value>none</value></field>")
            await self.command(f"{NS_CLASS}#progress")
            await self.command(f"{NS_CLASS}#routing")
            times.append(time.perf_counter() - start)
            next_at += every
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))  # the dashboard's own clock


class Classroom(soak.Soak):
    """The soak's students and checks, against ``xmpplab classroom`` and its class list."""

    ready_text = "press Ctrl-C"
    create_room = False

    def __init__(self, opts) -> None:
        super().__init__(opts)
        self.room = f"class@conference.{opts.domain}"
        self.accounts = self.workdir / "class.csv"
        self.passwords: dict[str, str] = {}
        self.teacher_password = ""
        self.dashboard: list[float] = []
        self.teacher: Teacher | None = None

    def server_command(self) -> list[str]:
        opts = self.opts
        cmd = [sys.executable, "-m", "xmpplab", "classroom", "--students", str(opts.clients), "--host", opts.host,
               "--port", str(self.port), "--domain", self.domain, "--db", str(self.workdir / "class.sqlite"),
               "--accounts", str(self.accounts)]
        return cmd + ([] if opts.no_limits else ["--limit-loopback"]) + opts.server_arg

    def start_server(self) -> None:
        super().start_server()
        with open(self.accounts, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                self.passwords[row["jid"].partition("@")[0]] = row["password"]
        self.teacher_password = self.passwords.pop("teacher")

    def name(self, index: int) -> str:
        width = max(2, len(str(self.opts.clients)))
        return f"student{index + 1:0{width}d}"

    def password(self, index: int) -> str:
        return self.passwords[self.name(index)]

    def extra(self, started: float, stop_at: float) -> list:
        async def dashboard() -> None:
            self.teacher = Teacher(-1, self)
            await self.teacher.login()
            reader = asyncio.create_task(self.teacher.read())
            try:
                await self.teacher.poll(stop_at, self.opts.poll, self.dashboard)
            finally:
                self.teacher.alive = False
                self.teacher.conn.close()
                reader.cancel()
        return [dashboard()]


def report(opts, room: Classroom, out: dict) -> tuple[str, bool]:
    book, memory = room.book, room.memory()
    lost, expected = book.lost(), sum(len(e) for e in book.expected)
    times = sorted(room.dashboard)
    p50 = statistics.median(times) * 1000 if times else float("nan")
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000 if times else float("nan")
    checks = {
        f"all {opts.clients} students logged in within {MAX_LOGIN_S:g} s":
            out.get("logged_in") == opts.clients and out.get("login_s", 1e9) <= MAX_LOGIN_S,
        "zero lost, none duplicated": lost == 0 and book.duplicates == 0 and expected > 0,
        "no limit tripped, no stream or stanza error": not room.failures,
        f"RSS flat after warm-up (growth <= {soak.MAX_GROWTH:.0%})": bool(memory.get("flat")),
        f"dashboard round trip p99 under {MAX_P99_MS:g} ms": bool(times) and p99 < MAX_P99_MS,
        "no traceback in the server log": out.get("server_tracebacks") == 0,
    }
    info = machine_info()
    lines = [
        HEADING, "",
        f"Written by `benchmarks/classroom.py --minutes {opts.minutes:g}` on {info['date']}, {info['nproc']} cores, "
        f"Python {info['python']}. `xmpplab classroom --students {opts.clients}` (TLS, `--limit-loopback`); the "
        f"students log in over STARTTLS with the class list's passwords, {opts.batch} at a time, join "
        f"`{room.room}` and each send one message per second ({opts.room_share:.0%} to the room); the teacher "
        f"refreshes the dashboard every {opts.poll:g} s (online list, progress grid, routing: four command round "
        f"trips). The run took {out['wall_s'] / 60:.1f} minutes.", "",
        "| figure | value |", "| --- | ---: |",
        f"| students logged in / time to log them all in | {out.get('logged_in')} / {out.get('login_s', 0):.1f} s |",
        f"| messages sent (chat / to the room) | {book.sent_chat:,} / {book.sent_room:,} |",
        f"| lost / duplicated / unexpected | {lost} / {book.duplicates} / {book.unexpected} |",
        f"| stream errors, error stanzas, lost connections | {len(room.failures)} |",
        f"| dashboard refreshes / p50 / p99 / max (ms) | {len(times)} / {p50:.1f} / {p99:.1f} / "
        f"{(times[-1] * 1000 if times else float('nan')):.1f} |",
    ]
    if memory.get("flat") is not None:
        lines += [f"| server RSS: first / last after warm-up (MiB) | {memory['first_mib']:.1f} / "
                  f"{memory['last_mib']:.1f} ({memory['growth']:+.1%}) |"]
    lines += [f"| server CPU while sending (one core) | {out['server_cpu_percent']:.1f}% |", "",
              "| check | pass |", "| --- | :---: |"]
    lines += [f"| {name} | {'yes' if good else '**no**'} |" for name, good in checks.items()]
    if room.failures:
        lines += ["", "First failures:", ""] + [f"- {f}" for f in room.failures[:10]]
    return "\n".join(lines) + "\n", all(checks.values())


def parse_args(argv=None):
    parser = soak.build_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--poll", type=float, default=2.0, help="seconds between dashboard refreshes (2)")
    parser.set_defaults(domain="class.example", json=BENCH_DIR / "classroom.json")
    return soak.parse_args(argv, parser)


async def main_async(opts) -> int:
    """Run the classroom and write its results; returns an exit code."""
    raise_open_files(opts.clients + 100)
    room = Classroom(opts)
    print(f"classroom: {opts.clients} students, {opts.minutes:g} minutes, dashboard every {opts.poll:g} s", flush=True)
    out = await soak.run_checked(room, "classroom")
    if out is None:
        return 1
    text, ok = report(opts, room, out)
    return soak.write_results(opts, HEADING, text, ok, {
        "result": out, "memory": room.memory(), "dashboard_s": room.dashboard, "sent_chat": room.book.sent_chat,
        "sent_room": room.book.sent_room, "lost": room.book.lost(), "failures": room.failures[:100]})


if __name__ == "__main__":
    sys.exit(asyncio.run(main_async(parse_args(sys.argv[1:]))))
