"""The ``xmpplab`` command's entry point: the parser of every subcommand, and the dispatch to the one asked for.

Each subcommand is one module of this package with ``add_parser(cmds)`` and
``run(args)``; ``render`` lives with the views (:mod:`xmpplab.render.cli`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .. import __version__
from . import accounts, classroom, convert, demo, lab, record, replay, serve
from .common import CLIError, Parser

#: The subcommands in the order ``xmpplab --help`` lists them ("render" comes from the views).
_BEFORE_RENDER = (serve, classroom, accounts, demo, record, replay, convert)
_AFTER_RENDER = (lab,)
_RUN = {"serve": serve.run, "classroom": classroom.run, "accounts": accounts.run, "demo": demo.run,
        "record": record.run, "replay": replay.run, "convert": convert.run, "lab": lab.run}


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``xmpplab`` and all its subcommands."""
    p = Parser(prog="xmpplab", description="Learn and teach XMPP hands-on, with a real server inside.")
    p.add_argument("--version", action="version", version=f"xmpplab {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log what the server does")
    cmds = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in _BEFORE_RENDER:
        module.add_parser(cmds)
    from ..render.cli import add_render_command
    add_render_command(cmds)
    for module in _AFTER_RENDER:
        module.add_parser(cmds)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run ``xmpplab`` with ``argv`` (default: the command line); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "render":
            from ..render.cli import run_render_command
            return run_render_command(args)
        return _RUN[args.command](args)
    except CLIError as exc:
        print(f"xmpplab: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `xmpplab demo | head`: the reader went away; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
