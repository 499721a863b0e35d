"""Classroom: what a class does to `xmpplab classroom`, with the teacher's dashboard polling; Prosody beside it.

Usage (from the repository root)::

    .venv/bin/python benchmarks/classroom.py                  # 100 students, 10 minutes, xmpplab then Prosody
    .venv/bin/python benchmarks/classroom.py --minutes 1      # a quick run while developing
    .venv/bin/python benchmarks/classroom.py --servers xmpplab

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

Then the same load runs against Prosody (``classroom_prosody.py``): the same class list, a
members-only room made by the teacher over XMPP, the same students' traffic with the same random
seed; its dashboard can only ask the XEP-0133 part (Prosody has no class commands), so the online
list's own round trip is measured on both servers and compared.

Checks: the logins took at most 10 s; zero messages lost; no limit tripped and no error; resident
memory flat after warm-up (within 10 %); the dashboard's p99 round trip under 200 ms; no traceback.
The exit status is 1 when a run fails or one of xmpplab's checks fails (Prosody's are shown beside).
The section "## Classroom" of ``benchmarks/RESULTS.md`` is rewritten; raw figures go to
``benchmarks/classroom.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from pathlib import Path

import soak
from classroom_prosody import ProsodyClassroom, prosody_missing
from classroom_report import HEADING, report
from classroom_xmpplab import Classroom
from conns10k import raise_open_files
from servers import BENCH_DIR

SERVERS = ("xmpplab", "prosody")


def server_list(text: str) -> list[str]:
    """``--servers a,b``: check each name."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names or any(n not in SERVERS for n in names):
        raise argparse.ArgumentTypeError(f"choose from {', '.join(SERVERS)}, not {text!r}")
    return names


def parse_args(argv=None):
    """The soak's options, the dashboard's period and the servers."""
    parser = soak.build_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--poll", type=float, default=2.0, help="seconds between dashboard refreshes (2)")
    parser.add_argument("--servers", type=server_list, default=list(SERVERS),
                        help="comma-separated, run in this order: xmpplab, prosody (default both)")
    parser.set_defaults(domain="class.example", json=BENCH_DIR / "classroom.json")
    return soak.parse_args(argv, parser)


async def main_async(opts) -> int:
    """Run the classroom on each server, one after the other, and write the results; returns an exit code."""
    raise_open_files(opts.clients + 100)
    runs: dict[str, tuple[Classroom, dict | None]] = {}
    class_list: Path | None = None
    try:
        for name in opts.servers:
            if name == "prosody" and prosody_missing():
                print("prosody: skipped, not installed (apt-get install prosody)", flush=True)
                continue
            room = Classroom(opts) if name == "xmpplab" else ProsodyClassroom(opts, class_list)
            print(f"classroom on {name}: {opts.clients} students, {opts.minutes:g} minutes, "
                  f"dashboard every {opts.poll:g} s", flush=True)
            runs[name] = (room, await soak.run_checked(room, f"classroom on {name}"))
            if name == "xmpplab" and room.accounts.exists():
                class_list = room.accounts        # Prosody gets the same class list
        if not runs:
            return 1
        text, ok, data = report(opts, runs)
        code = soak.write_results(opts, HEADING, text, ok, data)
        return code if all(out is not None for _room, out in runs.values()) else 1
    finally:
        for room, _out in runs.values():
            shutil.rmtree(room.workdir, ignore_errors=True)   # the class list holds passwords


if __name__ == "__main__":
    sys.exit(asyncio.run(main_async(parse_args(sys.argv[1:]))))
