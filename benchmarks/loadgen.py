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
``groupchat``
    R rooms (XEP-0045) of K occupants each, made as instant rooms (``--archiving
    on|off`` sets ``muc#roomconfig_enablearchiving``; the default leaves the
    server's default); in each room one occupant sends M groupchat messages
    with at most W in flight, counted as they arrive at a second occupant
    (every occupant gets each).  Figures: room messages/s and deliveries/s.
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


The protocol itself is in ``leanclient.py``, the scenarios in ``scenarios.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from leanclient import PBKDF2_STATS, XmppError
from scenarios import (
    scenario_groupchat,
    scenario_idle,
    scenario_login,
    scenario_ping,
    scenario_register,
    scenario_throughput,
)


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

    grp = sub.add_parser("groupchat", parents=[common], help="room messages/s (XEP-0045)")
    grp.add_argument("--rooms", type=int, default=4)
    grp.add_argument("--occupants", type=int, default=5, help="occupants per room (at least 2)")
    grp.add_argument("--first", type=int, default=0, help="room r uses accounts PREFIX{first+r*K} ...")
    grp.add_argument("--service", default=None, help="the MUC service (conference.DOMAIN)")
    grp.add_argument("--archiving", choices=["default", "on", "off"], default="default",
                     help="muc#roomconfig_enablearchiving for the rooms (XEP-0313 on rooms)")
    grp.add_argument("--messages", type=int, default=5000, help="messages per room")
    grp.add_argument("--window", type=int, default=50, help="max in flight per room")
    grp.add_argument("--body", default="Hello, this is benchmark message")
    grp.add_argument("--stall-timeout", type=float, default=10.0,
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
    "groupchat": scenario_groupchat,
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
