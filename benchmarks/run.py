"""Benchmark the xmpplab server against Prosody and ejabberd, side by side in one run.

Usage (from the repository root)::

    .venv/bin/python benchmarks/run.py            # full run, about a minute per server
    .venv/bin/python benchmarks/run.py --quick    # smaller, one round

For each server under test -- ``xmpplab``, ``xmpplab --limit-loopback`` (the
per-address limits checked on loopback too), ``xmpplab --record``, and a
Prosody and an ejabberd from Debian's packages (started on loopback through
:mod:`xmpplab.testing.prosody` and :mod:`xmpplab.testing.ejabberd`) -- it
starts the server as a separate process, creates accounts in-band, then
runs the load generator
(``benchmarks/loadgen.py``) in separate processes:

1. memory: P idle authenticated connections; the server's resident memory
   (RSS) before and after gives kB per connection;
2. throughput: N sender/receiver pairs, M messages each, bounded window,
   every message checked to arrive exactly once; messages/s;
3. logins: K logins (connect, SCRAM-SHA-1 without TLS, bind, close) with C
   at a time; logins/s.

Throughput and logins run ``--rounds`` times; the median round is reported.
All servers run at once (idle unless measured) and the rounds are
interleaved: each round visits every server before the next starts, so a
change in the machine's background load spreads over all of them.
The CPU time of the server and of the load generator during each timed part
is reported beside the figures, so one can see which side was saturated.
Results go to ``benchmarks/RESULTS.md`` (and the raw numbers to
``benchmarks/results.json``).

If ``import xmpplab.server`` fails, or ``python -m xmpplab`` does not exist
yet, the xmpplab columns say "not measured yet" and the others are measured.
The 10,000-connection benchmark and the soak are separate scripts
(``conns10k.py``, ``soak.py``); ``--only conns10k`` runs the first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import importlib.metadata
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO))

from xmpplab.testing.ejabberd import EjabberdError, EjabberdServer, ejabberd_path, ejabberd_version  # noqa: E402 - a script: the repository joins sys.path first
from xmpplab.testing.prosody import ProsodyError, ProsodyServer, free_port, prosody_path, prosody_version  # noqa: E402 - (as above)

LOADGEN = BENCH_DIR / "loadgen.py"
DOMAIN = "example.com"
PASSWORD = "bench-password"

#: The servers of the table, in column order.
SERVERS = ["xmpplab", "xmpplab --limit-loopback", "xmpplab --record", "prosody", "ejabberd"]
#: --only names: a kind of server selects its columns; conns10k runs conns10k.py.
ONLY = {"xmpplab": SERVERS[:3], "limits": ["xmpplab", "xmpplab --limit-loopback"],
        "record": ["xmpplab", "xmpplab --record"], "prosody": ["prosody"],
        "ejabberd": ["ejabberd"], "references": ["prosody", "ejabberd"]}

#: ``xmpplab --limit-loopback``: the limits apply to the benchmark's loopback
#: clients, so every check runs; the per-address counts and the byte rate are
#: raised above what the benchmark itself does (500 connections from one
#: address, a sender writing megabytes per second), so the figure is the cost
#: of checking the limits, not of being throttled by them.  The limits that
#: honest benchmark traffic never reaches keep their defaults.
LIMIT_FLAGS = ["--limit-loopback", "--bytes-per-second", "1G",
               "--connections-per-address", "100000", "--unauthenticated-per-address", "1000",
               "--registrations", "1000000", "--auth-failures", "1000000"]

#: Targets from the issue: ratios of xmpplab to Prosody.
TARGET_THROUGHPUT = 0.5     # at least half of Prosody's messages/s
TARGET_LOGINS = 0.5         # at least half of Prosody's logins/s
TARGET_MEMORY = 2.0         # at most twice Prosody's kB per idle connection


# ------------------------------------------------------------------ servers

class ServerUnderTest:
    """A server process on loopback: start, pid, measure, stop."""

    name = "?"

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port: int | None = None
        self.pid: int | None = None
        self.notes: list[str] = []

    def start(self) -> None:
        """Start the server."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop the server."""
        raise NotImplementedError

    # measuring -------------------------------------------------------------
    def processes(self) -> list[psutil.Process]:
        """The server process and its children (if it forks helpers)."""
        main = psutil.Process(self.pid)
        return [main] + main.children(recursive=True)

    def rss(self) -> int:
        """Resident memory in bytes (server plus children)."""
        total = 0
        for proc in self.processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += proc.memory_info().rss
        return total

    def cpu(self) -> float:
        """CPU seconds used so far (user + system, server plus children)."""
        total = 0.0
        for proc in self.processes():
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def alive(self) -> bool:
        """True while the server's process runs."""
        return self.pid is not None and psutil.pid_exists(self.pid)


class ProsodyUnderTest(ServerUnderTest):
    """Prosody from Debian's packages, via :class:`ProsodyServer`."""

    name = "prosody"

    def __init__(self, log_level: str = "warn", c2s_timeout: float | None = 1.0) -> None:
        super().__init__()
        # Plaintext c2s, in-band registration, mod_limits off, warn-level log
        # by default (at "info" Prosody writes lines per connection, which
        # would be measured too).  c2s_timeout works around a 0.12.3 bug: the
        # unauthenticated-connection timer (300 s) is never cancelled and
        # keeps every closed session in memory, so the login rate falls as
        # logins accumulate (1,200/s to 430/s within 6,000 logins here).
        self.server = ProsodyServer(domains=[DOMAIN], tls=False, allow_registration=True,
                                    log_level=log_level, c2s_timeout=c2s_timeout)
        if c2s_timeout is not None:
            self.notes.append(f"c2s_timeout = {c2s_timeout:g} s (workaround, see NOTES.md)")
        else:
            self.notes.append("stock c2s_timeout (300 s)")

    def start(self) -> None:
        """Start Prosody with the benchmark's configuration."""
        self.server.start()
        self.port, self.pid = self.server.port, self.server.pid

    def stop(self) -> None:
        """Stop Prosody."""
        self.server.stop()


def xmpplab_unavailable() -> str | None:
    """Why the xmpplab server cannot be benchmarked yet, or None if it can.

    Checked in a child process, so a half-written package cannot break the
    coordinator.
    """
    env = dict(os.environ, PYTHONPATH=str(REPO))
    probe = ("import importlib.util, sys\n"
             "import xmpplab.server\n"
             "if importlib.util.find_spec('xmpplab.__main__') is None:\n"
             "    sys.exit('`python -m xmpplab` does not exist yet (no xmpplab/__main__.py)')\n")
    check = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=60)
    if check.returncode != 0:
        last = (check.stderr.strip().splitlines() or ["?"])[-1]
        if last.startswith("`python -m xmpplab`"):
            return last
        return f"`import xmpplab.server` fails ({last})"
    return None


class EjabberdUnderTest(ServerUnderTest):
    """ejabberd from Debian's packages, via :class:`EjabberdServer`."""

    name = "ejabberd"

    def __init__(self) -> None:
        super().__init__()
        # Plaintext c2s, in-band registration without its per-address timeout,
        # listen backlog 1024, no shaper on the listener (unlimited), log level
        # warning.  The launcher runs erl itself (not ejabberdctl through su),
        # so the VM inherits our open-files limit.
        self.server = EjabberdServer(domains=[DOMAIN], tls=False, allow_registration=True,
                                     log_level="warning")

    def start(self) -> None:
        """Start ejabberd and note its schedulers and threads."""
        self.server.start()
        self.port, self.pid = self.server.port, self.server.pid
        threads = sum(p.num_threads() for p in self.processes())
        self.notes.append(f"Erlang VM with its default schedulers (one per core: "
                          f"{os.cpu_count()}), {threads} OS threads at start")

    def stop(self) -> None:
        """Stop ejabberd."""
        self.server.stop()


class XmpplabUnderTest(ServerUnderTest):
    """``python -m xmpplab serve`` as a separate process, optionally recording or limited."""

    def __init__(self, record: bool = False, limits: bool = False,
                 extra: list[str] | None = None) -> None:
        super().__init__()
        self.record = record
        self.limits = limits
        self.extra = list(extra or [])
        self.name = ("xmpplab --record" if record else
                     "xmpplab --limit-loopback" if limits else "xmpplab")
        if limits:
            self.notes.append("flags: " + " ".join(LIMIT_FLAGS))
        self.workdir = Path(tempfile.mkdtemp(prefix="xmpplab-bench-"))
        self.record_file = self.workdir / "record.jsonl"
        self.log_file = self.workdir / "server.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Start ``xmpplab serve`` on a free port and wait until it accepts connections."""
        self.port = free_port(self.host)
        cmd = [sys.executable, "-m", "xmpplab", "serve", "--host", self.host,
               "--port", str(self.port), "--domain", DOMAIN, "--register"]
        if self.record:
            cmd += ["--record", str(self.record_file)]
        if self.limits:
            cmd += LIMIT_FLAGS
        cmd += self.extra
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        with open(self.log_file, "wb") as log:
            self.process = subprocess.Popen(
                cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.process.pid
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        tail = self.log_file.read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"{' '.join(cmd[2:])} did not listen on port {self.port}: {tail}")

    def stop(self) -> None:
        """Stop the xmpplab server (SIGTERM, then SIGKILL) and note the size of its recording."""
        if self.record and self.record_file.exists():
            self.notes.append(f"record file: {self.record_file.stat().st_size / 1e6:.1f} MB")
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for path in self.workdir.glob("*"):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.workdir.rmdir()


# ----------------------------------------------------------------- loadgen

class Loadgen:
    """One load generator process speaking the ready/go line protocol."""

    def __init__(self, args: list[str], cpu: int | None) -> None:
        self.args = args
        self.cpu = cpu
        self.proc: asyncio.subprocess.Process | None = None
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - the loadgen's stderr for its whole run, read after
        self.ready_info: dict = {}

    async def start(self) -> None:
        """Start the load generator process, pinned to its CPU when one is given."""
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, str(LOADGEN), *self.args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=self.stderr)
        if self.cpu is not None:
            psutil.Process(self.proc.pid).cpu_affinity([self.cpu])

    async def read_event(self, timeout: float) -> dict:
        """Next JSON line from the process (ready, result or error)."""
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            await self.proc.wait()
            self.stderr.seek(0)
            raise RuntimeError(f"loadgen exited ({self.proc.returncode}): "
                               f"{self.stderr.read().decode(errors='replace')[-1500:]}")
        event = json.loads(line)
        if event.get("event") == "error":
            raise RuntimeError(f"loadgen: {event.get('error')}")
        return event

    async def wait_ready(self, timeout: float) -> dict:
        """Wait until the load generator says it is ready; returns what it said."""
        event = await self.read_event(timeout)
        if event.get("event") != "ready":
            raise RuntimeError(f"loadgen: expected ready, got {event}")
        self.ready_info = event
        return event

    def go(self) -> None:
        """Tell the load generator to start."""
        self.proc.stdin.write(b"go\n")

    async def result(self, timeout: float) -> dict:
        """The load generator's result, once it has finished."""
        event = await self.read_event(timeout)
        await self.proc.wait()
        return event

    def kill(self) -> None:
        """Kill the load generator if it still runs."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()


def common_args(server: ServerUnderTest) -> list[str]:
    """The load generator's arguments that name the server, its domain and password."""
    return ["--host", server.host, "--port", str(server.port), "--domain", DOMAIN,
            "--password", PASSWORD, "--wait-go"]


async def run_coordinated(server: ServerUnderTest, arg_lists: list[list[str]],
                          cpus: list[int | None], timeout: float) -> dict:
    """Start loadgens, wait until all are ready, say go, time server CPU, gather."""
    gens = [Loadgen(a, cpus[i % len(cpus)]) for i, a in enumerate(arg_lists)]
    try:
        for gen in gens:
            await gen.start()
        await asyncio.gather(*(g.wait_ready(timeout) for g in gens))
        busy0, cpu0, t0 = machine_busy(), server.cpu(), time.monotonic()
        for gen in gens:
            gen.go()
        results = await asyncio.gather(*(g.result(timeout) for g in gens))
        cpu1, busy1, t1 = server.cpu(), machine_busy(), time.monotonic()
    finally:
        for gen in gens:
            gen.kill()
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    loadgen_cpu = sum(r["cpu_s"] for r in results)
    return {
        "results": results, "wall_s": wall,
        "server_cpu_s": cpu1 - cpu0,
        "server_cpu_percent": 100.0 * (cpu1 - cpu0) / (t1 - t0),
        "loadgen_cpu_s": loadgen_cpu,
        "loadgen_cpu_percent": 100.0 * loadgen_cpu / wall if wall else 0.0,
        "loadgen_procs": len(gens),
        # Everything else that ran meanwhile (other users of the machine,
        # the coordinator, the kernel's softirq work): noise in the figures.
        "other_cpu_percent": max(0.0, 100.0 * ((busy1 - busy0) - (cpu1 - cpu0) - loadgen_cpu)
                                 / (t1 - t0)),
    }


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores, not idle)."""
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + getattr(times, "irq", 0.0) + \
        getattr(times, "softirq", 0.0) + getattr(times, "steal", 0.0)


def split(total: int, parts: int) -> list[int]:
    """Split ``total`` into ``parts`` near-equal integers."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


async def register_accounts(server: ServerUnderTest, count: int) -> dict:
    """Create accounts u0..u{count-1} in-band (untimed)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(LOADGEN), "register", "--host", server.host,
        "--port", str(server.port), "--domain", DOMAIN, "--password", PASSWORD,
        "--count", str(count), "--concurrency", "16",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 600)
    lines = out.decode().strip().splitlines()
    result = json.loads(lines[-1]) if lines else {}
    if proc.returncode != 0 or result.get("event") != "result":
        raise RuntimeError(f"registration failed: {result or err.decode()[-1500:]}")
    return result


async def measure_memory(server: ServerUnderTest, opts, cpus) -> dict:
    """Server RSS before and while holding P idle bound connections."""
    await asyncio.sleep(opts.settle)
    before = server.rss()
    gen = Loadgen(["idle", *common_args(server), "--connections", str(opts.idle),
                   "--concurrency", "50"], cpus[0])
    try:
        await gen.start()
        info = await gen.wait_ready(300)
        await asyncio.sleep(opts.settle)
        after = server.rss()
        gen.go()
        result = await gen.result(60)
    finally:
        gen.kill()
    connections = info["connections"]
    return {
        "connections": connections, "rss_before": before, "rss_after": after,
        "kb_per_connection": (after - before) / 1024 / connections,
        "open_wall_s": info["wall_s"], "loadgen_cpu_s": info["cpu_s"],
        "loadgen_cpu_percent": info["cpu_percent"],
        "alive_at_end": result.get("alive_at_end"),
    }


async def measure_throughput(server: ServerUnderTest, opts, cpus) -> dict:
    """One round of the throughput scenario, split over the loadgen processes."""
    procs = min(opts.loadgen_procs, opts.pairs)
    arg_lists, first = [], 0
    for pairs in split(opts.pairs, procs):
        arg_lists.append(["throughput", *common_args(server), "--pairs", str(pairs),
                          "--first-pair", str(first), "--messages", str(opts.messages),
                          "--window", str(opts.window)])
        first += pairs
    run = await run_coordinated(server, arg_lists, cpus, timeout=600)
    results = run["results"]
    received = sum(r["received"] for r in results)
    run.update({
        "expected": sum(r["expected"] for r in results),
        "received": received,
        "lost": sum(r["lost"] for r in results),
        "duplicates": sum(r["duplicates"] for r in results),
        "bounced": sum(r["bounced"] for r in results),
        "misrouted": sum(r["misrouted"] for r in results),
        "out_of_order": sum(r["out_of_order"] for r in results),
        "messages_per_s": received / run["wall_s"],
    })
    run["clean"] = not (run["lost"] or run["duplicates"] or run["bounced"] or run["misrouted"])
    return run


async def measure_logins(server: ServerUnderTest, opts, cpus) -> dict:
    """One round of the login scenario, split over the loadgen processes."""
    procs = opts.loadgen_procs
    accounts = split(opts.login_accounts, procs)
    arg_lists, first = [], 0
    for count, concurrency, n_accounts in zip(split(opts.logins, procs),
                                              split(opts.login_concurrency, procs), accounts, strict=True):
        arg_lists.append(["login", *common_args(server), "--first", str(first),
                          "--accounts", str(n_accounts), "--count", str(count),
                          "--concurrency", str(max(1, concurrency))])
        first += n_accounts
    run = await run_coordinated(server, arg_lists, cpus, timeout=600)
    ok = sum(r["ok"] for r in run["results"])
    run.update({"ok": ok, "failed": sum(r["failed"] for r in run["results"]),
                "pbkdf2_computed": sum(r["pbkdf2_computed"] for r in run["results"]),
                "logins_per_s": ok / run["wall_s"]})
    return run


def median_round(rounds: list[dict], key: str) -> dict:
    """The round whose ``key`` is the median (the lower middle for even counts)."""
    ordered = sorted(rounds, key=lambda r: r[key])
    return ordered[(len(ordered) - 1) // 2]


FAILURES = (RuntimeError, ProsodyError, EjabberdError, OSError, asyncio.TimeoutError)


async def set_up(server: ServerUnderTest, opts, loadgen_cpus) -> dict:
    """Start one server, create its accounts, measure its memory per idle connection."""
    out: dict = {"name": server.name}
    server.start()
    if opts.pin:
        for proc in server.processes():
            proc.cpu_affinity([0])
    out["pid"] = server.pid
    accounts = max(opts.idle, 2 * opts.pairs, opts.login_accounts)
    out["registration"] = await register_accounts(server, accounts)
    print(f"  {server.name}: {accounts} accounts in "
          f"{out['registration']['wall_s']:.1f} s", flush=True)
    out["memory"] = await measure_memory(server, opts, loadgen_cpus)
    print(f"  {server.name}: {out['memory']['kb_per_connection']:.1f} kB per idle "
          f"connection ({out['memory']['connections']} connections)", flush=True)
    return out


async def bench_all(plan: list[ServerUnderTest], opts) -> dict[str, dict | str]:
    """Measure every server of ``plan``; return its figures (or why it failed) by name.

    All servers run at once (idle unless measured): each is set up and its
    memory measured, then every round of throughput, and then of logins,
    visits every server before the next round starts, in an order that
    rotates.  A change in the machine's background load (other users of a
    shared machine) then spreads over all servers instead of landing on one,
    which keeps the ratios of one run comparable.
    """
    loadgen_cpus = [1] if opts.pin else [None]
    results: dict[str, dict | str] = {}
    live: list[tuple[ServerUnderTest, dict]] = []
    try:
        for server in plan:
            print(f"{server.name}: set-up", flush=True)
            try:
                live.append((server, await set_up(server, opts, loadgen_cpus)))
            except FAILURES as exc:
                print(f"  {server.name}: FAILED: {exc}", flush=True)
                results[server.name] = f"failed: {str(exc).splitlines()[0][:200]}"
                server.stop()
        phases = (("throughput", measure_throughput, "messages_per_s", "msg/s", "lost"),
                  ("login", measure_logins, "logins_per_s", "logins/s", "failed"))
        for phase, measure, key, unit, bad in phases:
            for i in range(opts.rounds):
                shift = i % max(1, len(live))
                for server, out in live[shift:] + live[:shift]:
                    if server.name in results:
                        continue                      # failed in an earlier round
                    try:
                        run = await measure(server, opts, loadgen_cpus)
                    except FAILURES as exc:
                        print(f"  {server.name}: FAILED: {exc}", flush=True)
                        results[server.name] = f"failed: {str(exc).splitlines()[0][:200]}"
                        continue
                    out.setdefault(f"{phase}_rounds", []).append(run)
                    print(f"  {server.name}: {phase} round {i + 1}: {run[key]:,.0f} {unit}, "
                          f"{bad} {run[bad]}, server CPU {run['server_cpu_percent']:.0f}%, "
                          f"loadgen CPU {run['loadgen_cpu_percent']:.0f}%", flush=True)
        for server, out in live:
            if server.name in results:
                continue
            out["throughput"] = dict(median_round(out["throughput_rounds"], "messages_per_s"))
            out["throughput"]["all_clean"] = all(r["clean"] for r in out["throughput_rounds"])
            out["login"] = median_round(out["login_rounds"], "logins_per_s")
            out["server_alive_at_end"] = server.alive()
    finally:
        for server, _out in live:
            server.stop()
    for server, out in live:
        out["notes"] = server.notes
        results.setdefault(server.name, out)
    return results


# ------------------------------------------------------------------ report

def machine_info() -> dict:
    """Facts about this machine and the software measured."""
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        scramp_version = importlib.metadata.version("scramp")
    except importlib.metadata.PackageNotFoundError:
        scramp_version = "?"
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(), "cpu": model,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(), "python": platform.python_version(),
        "prosody": prosody_version() or "not installed",
        "ejabberd": ejabberd_version() or "not installed", "scramp": scramp_version,
    }


def bottleneck(run: dict, nproc: int | None, busy: float = 85.0) -> str:
    """Which side a timed part was limited by, judged from CPU percentages."""
    server = run["server_cpu_percent"]
    per_gen = run["loadgen_cpu_percent"] / max(1, run["loadgen_procs"])
    total = server + run["loadgen_cpu_percent"]
    if nproc and total >= 100 * nproc * busy / 100:
        return "all cores busy"
    if server >= busy and per_gen >= busy:
        return "both (server and loadgen)"
    if server >= busy:
        return "server"
    if per_gen >= busy:
        return "**load generator**"
    return "neither saturated (latency)"


def fmt(value, spec: str) -> str:
    """`value` formatted with `spec` when it is a number, else as text."""
    return format(value, spec) if isinstance(value, (int, float)) else str(value)


def loops(servers: dict) -> set[str]:
    """Event loops the load generator used (asyncio or uvloop)."""
    found = set()
    for entry in servers.values():
        if isinstance(entry, dict):
            for run in entry.get("throughput_rounds", []) + entry.get("login_rounds", []):
                found.update(r.get("loop", "?") for r in run["results"])
    return found


#: Sections of RESULTS.md that other harnesses write; run.py keeps them.
OTHER_SECTIONS = ("## 10,000 connections", "## Soak", "## Classroom", "## Profile", "## Rendering", "## Course")


def keep_sections(path: Path, headings=OTHER_SECTIONS, skip: str | None = None) -> list[str]:
    """The sections of an existing report that another harness owns (text after each heading)."""
    if not path.exists():
        return []
    old, kept = path.read_text(), []
    for heading in headings:
        if heading == skip:
            continue
        start = old.find("\n" + heading)
        if start != -1:
            end = old.find("\n## ", start + 1)
            kept.append((old[start:] if end == -1 else old[start:end]).rstrip() + "\n")
    return kept


def write_report(path: Path, info: dict, opts, servers: dict[str, dict | str]) -> None:
    """Write RESULTS.md: the comparison table, CPU beside each figure, details."""
    names = SERVERS

    def value(name: str, getter):
        entry = servers.get(name)
        if not isinstance(entry, dict):
            return None
        try:
            return getter(entry)
        except (KeyError, TypeError):
            return None

    def figure(name: str, getter, spec: str) -> str:
        entry = servers.get(name)
        if not isinstance(entry, dict):
            return "not measured" if entry is None else str(entry)
        mine = value(name, getter)
        return "failed" if mine is None else fmt(mine, spec)

    def ratio(name: str, ref: str, getter) -> float | None:
        mine, theirs = value(name, getter), value(ref, getter)
        return mine / theirs if mine is not None and theirs else None

    def rcell(r: float | None) -> str:
        return "—" if r is None else f"{r:.2f}x"

    def tput(e):
        return e["throughput"]["messages_per_s"]

    def logins(e):
        return e["login"]["logins_per_s"]

    def memory(e):
        return e["memory"]["kb_per_connection"]

    def lost(e):
        return sum(r["lost"] + r["duplicates"] + r["bounced"] + r["misrouted"] for r in e["throughput_rounds"])

    metrics = [  # label, getter, format, target vs Prosody, higher is better
        (f"messages/s, {opts.pairs} pairs", tput, ",.0f", TARGET_THROUGHPUT, True),
        ("logins/s (SCRAM-SHA-1, no TLS)", logins, ",.0f", TARGET_LOGINS, True),
        ("kB RSS per idle authenticated connection", memory, ".1f", TARGET_MEMORY, False),
    ]

    lines = [
        "# Benchmark results: xmpplab server vs Prosody and ejabberd",
        "",
        "Written by `benchmarks/run.py`" + (" --quick" if opts.quick else "") +
        "; see `benchmarks/README.md` for what each figure means.",
        "",
        f"- Date: {info['date']}",
        f"- Machine: {info['nproc']} cores ({info['cpu']}), {info['memory_gib']} GiB, "
        f"Linux {info['kernel']}",
        f"- Python {info['python']}, Prosody {info['prosody']}, ejabberd {info['ejabberd']} "
        f"(Debian packages), scramp {info['scramp']}",
        f"- Load: {opts.pairs} pairs x {opts.messages:,} messages (window {opts.window} per "
        f"pair); {opts.logins:,} logins over {opts.login_accounts} accounts, {opts.login_concurrency} "
        f"at a time; {opts.idle} idle connections; median of {opts.rounds} round(s); "
        f"{opts.loadgen_procs} loadgen process(es), event loop "
        f"{', '.join(sorted(loops(servers))) or '?'}" + (", server pinned to CPU 0 and "
                                                        "loadgen to CPU 1" if opts.pin else ""),
        "- xmpplab is one Python process (one core at most), Prosody one Lua process; "
        "ejabberd's Erlang VM runs a scheduler on each core.",
        "",
        "| metric | " + " | ".join(names) + " |",
        "| --- |" + " ---: |" * len(names),
    ]
    for label, getter, spec, _target, _higher in metrics:
        lines.append(f"| {label} | " + " | ".join(figure(n, getter, spec) for n in names) + " |")
    lines.append("| messages lost, duplicated, misrouted or bounced (all rounds; must be 0) | " +
                 " | ".join(figure(n, lost, "d") for n in names) + " |")

    lines += [
        "",
        "### Ratios (same run)",
        "",
        "xmpplab against the reference servers (target from the issue against Prosody), "
        "and the cost of the limits and of recording: the figure of `xmpplab --limit-loopback` "
        "and of `xmpplab --record` divided by plain `xmpplab`'s.",
        "",
        "| metric | xmpplab / prosody | target | pass | xmpplab / ejabberd | "
        "--limit-loopback / xmpplab | --record / xmpplab |",
        "| --- | :---: | :---: | :---: | :---: | :---: | :---: |",
    ]
    for label, getter, _spec, target, higher in metrics:
        r = ratio("xmpplab", "prosody", getter)
        ok = "—" if r is None else ("yes" if (r >= target if higher else r <= target) else "**no**")
        lines.append(
            f"| {label} | {rcell(r)} | {'>=' if higher else '<='} {target}x | {ok} | "
            f"{rcell(ratio('xmpplab', 'ejabberd', getter))} | "
            f"{rcell(ratio('xmpplab --limit-loopback', 'xmpplab', getter))} | "
            f"{rcell(ratio('xmpplab --record', 'xmpplab', getter))} |")

    lines += [
        "",
        "## CPU during the timed parts",
        "",
        "Percent of one core, over the timed part of the median round. 100% server CPU "
        "means a one-process server was the bottleneck (ejabberd can use 200% on 2 cores); "
        "a load generator near 100% (per process) would mean the harness limits the figure. "
        "\"Other CPU\" is everything else that was busy on the machine meanwhile (noise).",
        "",
        "| scenario | server | server CPU | loadgen CPU | loadgen processes | other CPU | "
        "limited by |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name in names:
        entry = servers.get(name)
        if not isinstance(entry, dict):
            lines.append(f"| all | {name} | {'not measured' if entry is None else entry} "
                         "| | | | |")
            continue
        for label, key in (("throughput", "throughput"), ("logins", "login")):
            run = entry.get(key)
            if run:
                lines.append(f"| {label} | {name} | {run['server_cpu_percent']:.0f}% | "
                             f"{run['loadgen_cpu_percent']:.0f}% | {run['loadgen_procs']} | "
                             f"{run['other_cpu_percent']:.0f}% | "
                             f"{bottleneck(run, info['nproc'])} |")
        mem = entry.get("memory")
        if mem:
            lines.append(f"| opening {mem['connections']} idle connections | {name} | — | "
                         f"{mem['loadgen_cpu_percent']:.0f}% | 1 | | (not timed) |")

    lines += ["", "## Details", ""]
    for name in names:
        entry = servers.get(name)
        if not isinstance(entry, dict):
            reason = "not measured" if entry is None else entry
            lines.append(f"- **{name}**: {reason}")
            continue
        try:
            mem = entry["memory"]
            lines.append(
                f"- **{name}**: RSS {mem['rss_before'] / 2**20:.1f} MiB before, "
                f"{mem['rss_after'] / 2**20:.1f} MiB with {mem['connections']} idle connections. "
                "Throughput rounds (msg/s): " + ", ".join(
                    f"{r['messages_per_s']:,.0f}" for r in entry["throughput_rounds"]) +
                ". Login rounds (logins/s): " + ", ".join(
                    f"{r['logins_per_s']:,.0f}" for r in entry["login_rounds"]) +
                f"; failed logins: {sum(r['failed'] for r in entry['login_rounds'])}; "
                f"client PBKDF2 computations during timed logins: "
                f"{sum(r['pbkdf2_computed'] for r in entry['login_rounds'])}." +
                "".join(f" {note}." for note in entry.get("notes", [])))
        except KeyError as exc:
            lines.append(f"- **{name}**: incomplete ({exc} missing)")
    lines += [
        "",
        "The load generator and the server share the machine's "
        f"{info['nproc']} cores; the figures compare servers measured the same way, "
        "one after the other, in this one run.",
        "",
    ]
    lines += keep_sections(path)
    path.write_text("\n".join(lines))


# ------------------------------------------------------------------- main

def only_list(text: str) -> list[str]:
    """``--only a,b``: check each name."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in ONLY and n != "conns10k"]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown name {', '.join(unknown) or text!r}; choose from "
            f"{', '.join([*ONLY, 'conns10k'])}")
    return names


def parse_args(argv=None) -> argparse.Namespace:
    """The command line's options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one round")
    parser.add_argument("--only", type=only_list, default=None, metavar="NAMES",
                        help="comma-separated: xmpplab (its 3 variants), limits (xmpplab and "
                             "--limit-loopback), record, prosody, ejabberd, references (prosody "
                             "and ejabberd), conns10k (runs benchmarks/conns10k.py instead)")
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--messages", type=int, help="messages per pair (10000; quick 2000)")
    parser.add_argument("--window", type=int, default=100, help="messages in flight per pair")
    parser.add_argument("--logins", type=int, help="timed logins per round (4000; quick 1000)")
    parser.add_argument("--login-accounts", type=int, default=100)
    parser.add_argument("--login-concurrency", type=int, default=20)
    parser.add_argument("--idle", type=int, help="idle connections (500; quick 200)")
    parser.add_argument("--rounds", type=int, help="rounds of throughput and logins (3; quick 1)")
    parser.add_argument("--loadgen-procs", type=int, default=1,
                        help="load generator processes for throughput and logins")
    parser.add_argument("--pin", action="store_true",
                        help="pin the server to CPU 0 and the load generator to CPU 1")
    parser.add_argument("--prosody-log-level", default="warn",
                        choices=["debug", "info", "warn", "error"])
    parser.add_argument("--prosody-stock", action="store_true",
                        help="keep Prosody's c2s_timeout of 300 s (its login rate then "
                             "falls as logins accumulate; see NOTES.md)")
    parser.add_argument("--settle", type=float, default=2.0,
                        help="seconds to wait before reading RSS")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "RESULTS.md")
    parser.add_argument("--json", type=Path, default=BENCH_DIR / "results.json")
    opts = parser.parse_args(argv)
    defaults = {"messages": (10000, 2000), "logins": (4000, 1000), "idle": (500, 200),
                "rounds": (3, 1)}
    for key, (full, quick) in defaults.items():
        if getattr(opts, key) is None:
            setattr(opts, key, quick if opts.quick else full)
    if opts.pin and (os.cpu_count() or 1) < 2:
        parser.error("--pin needs at least 2 CPUs")
    return opts


async def main_async(opts) -> int:
    """Run the chosen benchmarks and write the results; returns an exit code."""
    only = opts.only or list(ONLY)
    wanted = [n for n in SERVERS if any(n in ONLY[o] for o in only if o in ONLY)]
    if "conns10k" in only:
        cmd = [sys.executable, str(BENCH_DIR / "conns10k.py")] + (["--quick"] if opts.quick else [])
        code = subprocess.run(cmd, cwd=REPO).returncode
        if not wanted:
            return code
    servers: dict[str, dict | str | None] = {name: None for name in SERVERS}
    plan: list[ServerUnderTest] = []
    if any(n.startswith("xmpplab") for n in wanted):
        reason = xmpplab_unavailable()
        if reason:
            print(f"xmpplab: skipped, {reason}", flush=True)
            for name in wanted:
                if name.startswith("xmpplab"):
                    servers[name] = f"not measured yet: {reason}"
        else:
            plan += [XmpplabUnderTest(record=name == "xmpplab --record",
                                      limits=name == "xmpplab --limit-loopback")
                     for name in wanted if name.startswith("xmpplab")]
    if "prosody" in wanted:
        if prosody_path() is None:
            servers["prosody"] = "not measured: prosody is not installed (apt-get install prosody)"
            print("prosody: skipped, not installed", flush=True)
        else:
            plan.append(ProsodyUnderTest(opts.prosody_log_level,
                                         None if opts.prosody_stock else 1.0))
    if "ejabberd" in wanted:
        if ejabberd_path() is None:
            servers["ejabberd"] = "not measured: ejabberd is not installed (apt-get install ejabberd)"
            print("ejabberd: skipped, not installed", flush=True)
        else:
            plan.append(EjabberdUnderTest())
    servers.update(await bench_all(plan, opts))
    info = machine_info()
    write_report(opts.output, info, opts, servers)
    opts.json.write_text(json.dumps({"machine": info, "options": {
        k: str(v) if isinstance(v, Path) else v for k, v in vars(opts).items()},
        "servers": servers}, indent=1))
    print(f"wrote {opts.output} and {opts.json}", flush=True)
    return 0


def main(argv=None) -> int:
    """Run the benchmark and write RESULTS.md."""
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
