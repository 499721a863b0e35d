"""The side-by-side measurements of ``run.py``: memory per idle connection, messages/s, logins/s.

Every server of a plan is set up (accounts, memory), then each round of
throughput and then of logins visits every server, in an order that
rotates (:func:`bench_all`).
"""

from __future__ import annotations

import asyncio

from coordinator import Loadgen, common_args, register_accounts, run_coordinated, split
from servers import FAILURES, ServerUnderTest


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
