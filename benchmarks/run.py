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


import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from measure import bench_all
from report import machine_info, write_report
from servers import (
    BENCH_DIR,
    REPO,
    SERVERS,
    EjabberdUnderTest,
    ProsodyUnderTest,
    ServerUnderTest,
    XmpplabUnderTest,
    ejabberd_path,
    prosody_path,
    xmpplab_unavailable,
)

#: --only names: a kind of server selects its columns; conns10k runs conns10k.py.
ONLY = {"xmpplab": SERVERS[:3], "limits": ["xmpplab", "xmpplab --limit-loopback"],
        "record": ["xmpplab", "xmpplab --record"], "prosody": ["prosody"],
        "ejabberd": ["ejabberd"], "references": ["prosody", "ejabberd"]}


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
