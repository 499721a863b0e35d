"""10,000 concurrent authenticated connections: memory per connection and ping round trips.

Usage (from the repository root)::

    .venv/bin/python benchmarks/conns10k.py                      # xmpplab, Prosody, ejabberd
    .venv/bin/python benchmarks/conns10k.py --servers xmpplab    # the regression figure only
    .venv/bin/python benchmarks/conns10k.py --quick              # 2,000 connections

For each server: start it on loopback as its own process, create N accounts
in-band (plus a few for the pingers), read its resident memory (RSS), open N
authenticated, bound, idle connections from load generator processes
(``loadgen.py idle``, split over ``--procs`` processes), read RSS again, then
let a few extra clients ping the server (XEP-0199, one ping at a time each,
a few ms apart) while the N are held; the same pings run once before the N
connect, as a baseline.  Figures: kB RSS per idle connection, ping round-trip
p50/p99/max, and whether all N were still open at the end.

Regression figure (xmpplab): at most ``MAX_KB`` kB per idle connection and a
p99 round trip under ``MAX_P99_MS`` ms while the N are held; the exit status
is 1 when xmpplab misses either.  Not a unit test: nothing in CI depends on
timings.

The script raises its own open-files limit to the hard limit (these machines
allow 20,000 per process); the server and the load generators inherit it.
Client and server are separate processes, so 10,000 connections need about
10,000 descriptors on each side.  ejabberd is started by
:mod:`xmpplab.testing.ejabberd`, which runs ``erl`` directly rather than
``ejabberdctl`` (that goes through ``su``, which resets the limit to 1024),
so the Erlang VM inherits the raised limit too.

The section "## 10,000 connections" of ``benchmarks/RESULTS.md`` is
rewritten; the raw figures go to ``benchmarks/conns10k.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from pathlib import Path

from coordinator import Loadgen, common_args, machine_busy, register_accounts, split
from report import machine_info
from sections import replace_section
from servers import (
    BENCH_DIR,
    EjabberdUnderTest,
    ProsodyUnderTest,
    ServerUnderTest,
    XmpplabUnderTest,
    ejabberd_path,
    prosody_path,
    xmpplab_unavailable,
)

MAX_KB = 20.0          # kB RSS per idle authenticated connection, at most
MAX_P99_MS = 5.0       # p99 ping round trip while the connections are held, under
HEADING = "## 10,000 connections"


def raise_open_files(wanted: int) -> tuple[int, int]:
    """Raise this process's soft open-files limit towards the hard limit; return (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, wanted)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


async def ping_round(server: ServerUnderTest, first: int, opts) -> dict:
    """A few extra clients ping the server; round-trip percentiles."""
    gen = Loadgen(["ping", *common_args(server), "--first", str(first), "--clients",
                   str(opts.pingers), "--pings", str(opts.pings), "--interval",
                   str(opts.interval)], None)
    try:
        await gen.start()
        await gen.wait_ready(120)
        gen.go()
        return await gen.result(300)
    finally:
        gen.kill()


async def bench_one(server: ServerUnderTest, opts) -> dict:
    """Start one server, hold N idle connections, measure; stop it."""
    out: dict = {"name": server.name}
    started = time.monotonic()
    server.start()
    try:
        n = opts.connections
        reg = await register_accounts(server, n + opts.pingers)
        out["registration_s"] = reg["wall_s"]
        print(f"  {server.name}: {n + opts.pingers} accounts in {reg['wall_s']:.1f} s", flush=True)
        out["ping_before"] = (await ping_round(server, n, opts))["rtt"]
        await asyncio.sleep(opts.settle)
        before = server.rss()
        gens, first = [], 0
        for count in split(n, opts.procs):
            gens.append(Loadgen(["idle", *common_args(server), "--first", str(first),
                                 "--connections", str(count), "--concurrency",
                                 str(opts.concurrency)], None))
            first += count
        try:
            opened = time.monotonic()
            for gen in gens:
                await gen.start()
            infos = await asyncio.gather(*(g.wait_ready(opts.timeout) for g in gens))
            out["open_s"] = time.monotonic() - opened
            held = sum(i["connections"] for i in infos)
            print(f"  {server.name}: {held} connections open in {out['open_s']:.1f} s", flush=True)
            await asyncio.sleep(opts.settle)
            after = server.rss()
            cpu0, busy0, t0 = server.cpu(), machine_busy(), time.monotonic()
            ping = await ping_round(server, n, opts)
            cpu1, busy1, t1 = server.cpu(), machine_busy(), time.monotonic()
            out["server_cpu_percent_while_pinging"] = 100.0 * (cpu1 - cpu0) / (t1 - t0)
            # Everything else busy meanwhile (other users of the shared machine): noise.
            out["other_cpu_percent_while_pinging"] = max(
                0.0, 100.0 * ((busy1 - busy0) - (cpu1 - cpu0) - ping["cpu_s"]) / (t1 - t0))
            rss_end = server.rss()
            for gen in gens:
                gen.go()
            results = await asyncio.gather(*(g.result(120) for g in gens))
        finally:
            for gen in gens:
                gen.kill()
        out.update({
            "connections": held, "rss_before": before, "rss_after": after, "rss_end": rss_end,
            "kb_per_connection": (after - before) / 1024 / held,
            "ping": ping["rtt"], "alive_at_end": sum(r["alive_at_end"] for r in results),
            "server_alive": server.alive(),
        })
        print(f"  {server.name}: {out['kb_per_connection']:.1f} kB per connection, ping p99 "
              f"{ping['rtt']['p99_ms']:.2f} ms (before: {out['ping_before']['p99_ms']:.2f} ms), "
              f"{out['alive_at_end']} alive at the end", flush=True)
    finally:
        server.stop()
    out["notes"] = server.notes
    out["wall_s"] = time.monotonic() - started
    return out


def passes(entry: dict) -> bool:
    """True if a server meets the targets: memory per connection, p99 ping, and every connection alive at the end."""
    return (entry["kb_per_connection"] <= MAX_KB and entry["ping"]["p99_ms"] < MAX_P99_MS
            and entry["alive_at_end"] == entry["connections"])


def section(opts, limits: tuple[int, int], entries: dict, wall: float) -> str:
    """The "10,000 connections" section of RESULTS.md."""
    info = machine_info()
    lines = [
        HEADING, "",
        f"Written by `benchmarks/conns10k.py` on {info['date']}, {info['nproc']} cores, "
        f"Python {info['python']}; the whole run took {wall / 60:.1f} minutes. "
        f"{opts.connections:,} authenticated, bound, idle connections (one account each, "
        f"no presence) from {opts.procs} load generator process(es); meanwhile "
        f"{opts.pingers} more clients send {opts.pings} pings each (XEP-0199 to the server, "
        f"one at a time, {opts.interval:g} ms apart). Open-files limit {limits[0]:,} "
        f"(hard {limits[1]:,}). Regression figure for xmpplab: at most {MAX_KB:g} kB per "
        f"connection, p99 under {MAX_P99_MS:g} ms, all connections still open.", "",
        "| server | connections | kB RSS per connection | ping p50 / p99 / max while held (ms) "
        "| ping p99 before (ms) | open time (s) | alive at end | server run (s) | pass |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
    ]
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            lines.append(f"| {name} | {entry} | | | | | | | |")
            continue
        p = entry["ping"]
        verdict = ("yes" if passes(entry) else "**no**") if name == "xmpplab" else "—"
        lines.append(
            f"| {name} | {entry['connections']:,} | {entry['kb_per_connection']:.1f} | "
            f"{p['p50_ms']:.2f} / {p['p99_ms']:.2f} / {p['max_ms']:.1f} | "
            f"{entry['ping_before']['p99_ms']:.2f} | {entry['open_s']:.1f} | "
            f"{entry['alive_at_end']:,} | {entry['wall_s']:.0f} | {verdict} |")
    lines.append("")
    for name, entry in entries.items():
        if isinstance(entry, dict):
            lines.append(f"- {name}: RSS {entry['rss_before'] / 2**20:.0f} MiB before, "
                         f"{entry['rss_after'] / 2**20:.0f} MiB with the connections, "
                         f"{entry['rss_end'] / 2**20:.0f} MiB after the pings; accounts "
                         f"created in {entry['registration_s']:.0f} s; server CPU while pinging "
                         f"{entry['server_cpu_percent_while_pinging']:.0f}%, everything else on the "
                         f"machine {entry['other_cpu_percent_while_pinging']:.0f}% (of one core; "
                         "noise that delays the pings)." +
                         "".join(f" {note}." for note in entry.get("notes", [])))
    return "\n".join(lines) + "\n"


def parse_args(argv=None) -> argparse.Namespace:
    """The command line's options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default="xmpplab,prosody,ejabberd",
                        help="comma-separated: xmpplab, prosody, ejabberd (default all three)")
    parser.add_argument("--quick", action="store_true", help="2,000 connections")
    parser.add_argument("--connections", type=int, help="idle connections (10000; quick 2000)")
    parser.add_argument("--procs", type=int, default=2, help="load generator processes")
    parser.add_argument("--concurrency", type=int, default=50, help="logins at a time per process")
    parser.add_argument("--pingers", type=int, default=4)
    parser.add_argument("--pings", type=int, default=500, help="pings per pinger")
    parser.add_argument("--interval", type=float, default=5.0, help="ms between a pinger's pings")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before reading RSS")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds the connections may take to open")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "RESULTS.md")
    parser.add_argument("--json", type=Path, default=BENCH_DIR / "conns10k.json")
    opts = parser.parse_args(argv)
    if opts.connections is None:
        opts.connections = 2000 if opts.quick else 10000
    opts.servers = [s.strip() for s in opts.servers.split(",") if s.strip()]
    unknown = set(opts.servers) - {"xmpplab", "prosody", "ejabberd"}
    if unknown:
        parser.error(f"unknown server {', '.join(sorted(unknown))}: choose xmpplab, prosody, ejabberd")
    return opts


async def main_async(opts) -> int:
    """Measure each server chosen, then write the results; returns an exit code."""
    started = time.monotonic()
    # Server and load generators are children: they inherit the raised limit.
    limits = raise_open_files(opts.connections + 1000)
    per_side = opts.connections + opts.pingers + 100
    if limits[0] < per_side:
        print(f"the open-files limit is {limits[0]} (hard {limits[1]}), fewer than the "
              f"{per_side} the server needs for {opts.connections} connections", file=sys.stderr)
        return 2
    entries: dict[str, dict | str] = {}
    for name in opts.servers:
        if name == "xmpplab":
            reason = xmpplab_unavailable()
            server = None if reason else XmpplabUnderTest()
        elif name == "prosody":
            reason = None if prosody_path() else "prosody is not installed"
            server = ProsodyUnderTest() if not reason else None
        else:
            reason = None if ejabberd_path() else "ejabberd is not installed"
            server = EjabberdUnderTest() if not reason else None
        if server is None:
            entries[name] = f"not measured: {reason}"
            continue
        print(f"{name}:", flush=True)
        try:
            entries[name] = await bench_one(server, opts)
        except (TimeoutError, RuntimeError, OSError) as exc:
            print(f"  {name}: FAILED: {exc}", flush=True)
            entries[name] = f"failed: {str(exc).splitlines()[0][:200]}"
    wall = time.monotonic() - started
    replace_section(opts.output, HEADING, section(opts, limits, entries, wall))
    opts.json.write_text(json.dumps({"options": {k: str(v) if isinstance(v, Path) else v
                                                 for k, v in vars(opts).items()},
                                     "open_files": limits, "wall_s": wall,
                                     "servers": entries}, indent=1))
    print(f"wrote {opts.output} ({HEADING[3:]}) and {opts.json} in {wall / 60:.1f} min", flush=True)
    mine = entries.get("xmpplab")
    if isinstance(mine, dict) and not passes(mine):
        print(f"xmpplab misses the regression figure: {mine['kb_per_connection']:.1f} kB per "
              f"connection (max {MAX_KB:g}), p99 {mine['ping']['p99_ms']:.2f} ms "
              f"(max {MAX_P99_MS:g}), {mine['alive_at_end']} of {mine['connections']} alive",
              flush=True)
        return 1
    return 0 if not isinstance(mine, str) else 1


def main(argv=None) -> int:
    """Run the benchmark and write its section of RESULTS.md."""
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
