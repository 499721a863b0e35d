"""``xmpplab convert``: convert a transcript between formats."""

from __future__ import annotations

import os

from .common import CLIError


def add_parser(cmds) -> None:
    """Add the subcommand and its options to ``cmds``."""
    c = cmds.add_parser("convert", help="convert a transcript between formats",
                        description="Convert a transcript; formats are known by extension: .jsonl (recording), "
                                    ".txt (RFC example text), .log (slixmpp debug log, read only), .xml (client XML "
                                    "stream file), .scs (scansion script, write only).")
    c.add_argument("input", metavar="IN")
    c.add_argument("output", metavar="OUT")
    c.add_argument("--conn", metavar="ID", help="only this connection")
    c.add_argument("--side", choices=("client", "server"), default="client",
                   help="whose stream file to write (.xml; default client)")
    c.add_argument("--reveal-credentials", action="store_true", help="keep SASL data in the clear")


def run(args) -> int:
    """Convert IN to OUT (formats known by their extension)."""
    from ..replay import convert
    from ..transcript import TranscriptError

    if os.path.abspath(args.input) == os.path.abspath(args.output):
        raise CLIError("IN and OUT are the same file: write the conversion to another one")
    try:
        what = convert(args.input, args.output, conn=args.conn, side=args.side,
                       reveal_credentials=args.reveal_credentials)
    except TranscriptError as exc:
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise CLIError(f"cannot write {args.output}: {exc.strerror}") from None
    print(f"wrote {args.output}: {what}")
    return 0
