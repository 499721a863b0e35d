"""``xmpplab demo``: a headless tour: two users, a roster, a subscription, messages."""

from __future__ import annotations

import asyncio

from .common import color_ok


def add_parser(cmds) -> None:
    """Add the subcommand and its options to ``cmds``."""
    d = cmds.add_parser("demo", help="a headless tour: two users, a roster, a subscription, messages",
                        description="Start a loopback server, log in juliet and romeo, and show the XML.")
    d.add_argument("--no-color", action="store_true", help="plain text output")
    d.add_argument("--all", action="store_true", help="show both users' connections, not only juliet's")


def run(args) -> int:
    """Start a loopback server, log in juliet and romeo, and print the XML."""
    from ..demo import run_demo
    return asyncio.run(run_demo(color=not args.no_color and color_ok(), show_all=args.all))
