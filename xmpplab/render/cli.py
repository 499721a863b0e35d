"""The ``xmpplab render`` subcommand: a transcript as a standalone HTML page (or as text in the terminal).

    xmpplab render sample_streams/juliet-login-starttls-scram.jsonl -o page.html
    xmpplab render session.txt --title "Subscribing" -o -          # the HTML on standard output
    xmpplab render session.jsonl --text --conn c2s-1                # the stream view in the terminal

Wired into :mod:`xmpplab.cli` with :func:`add_render_command` (builds the
subparser) and :func:`run_render_command` (runs it, returns the exit status;
a problem is one sentence on stderr and status 2, never a traceback).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

FORMATS = ("auto", "jsonl", "rfc", "slixmpp")


def add_render_command(subparsers):
    """Add ``render`` to the ``xmpplab`` subcommands; returns the new parser."""
    p = subparsers.add_parser(
        "render", help="a transcript as a standalone HTML page (stream view, explanations, graphs)",
        description="Write a standalone HTML page of a transcript: the two XML streams side by side, an "
                    "explanation of each stanza with its RFC or XEP section, the routing graph and the sequence "
                    "chart. The page needs no kernel and no network: open it in any browser, share it with a "
                    "class. Credentials stay masked.")
    p.add_argument("file", metavar="FILE",
                   help="a transcript: .jsonl or .jsonl.gz (an xmpplab recording), .txt (RFC example text), "
                        ".log (a slixmpp debug log) or .xml (a client XML stream file)")
    p.add_argument("-o", "--output", metavar="PAGE",
                   help="the HTML file to write (default: FILE with .html instead of its extension; '-' for "
                        "standard output)")
    p.add_argument("--title", help="the page's title (default: the transcript's description)")
    p.add_argument("--format", choices=FORMATS, default="auto",
                   help="how to read FILE (default: from its extension)")
    p.add_argument("--conn", action="append", metavar="ID", help="only this connection (repeatable)")
    p.add_argument("--no-explanations", action="store_true", help="leave out the plain-language explanations")
    p.add_argument("--no-figures", action="store_true", help="leave out the routing graph and sequence chart")
    p.add_argument("--collapsed", action="store_true", help="fold every stanza (click to open)")
    p.add_argument("--text", action="store_true", help="print the stream view in the terminal instead of HTML")
    p.add_argument("--no-color", action="store_true", help="with --text: no colours (also NO_COLOR=1)")
    p.add_argument("--width", type=int, metavar="COLUMNS", help="with --text: the width (default: the terminal's)")
    p.set_defaults(handler=run_render_command)
    return p


class _Problem(Exception):
    pass


def run_render_command(args) -> int:
    """Run ``xmpplab render`` with parsed ``args``; 0 on success, 2 on a problem the user can fix."""
    try:
        return _run(args)
    except _Problem as exc:
        print(f"xmpplab render: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `xmpplab render x -o - | head`
        return 0


def _run(args) -> int:
    transcript = load(args.file, getattr(args, "format", "auto"))
    conns = getattr(args, "conn", None)
    if conns:
        unknown = [c for c in conns if c not in transcript.connections]
        if unknown:
            raise _Problem(f"no connection {', '.join(unknown)} in {args.file}; there are: "
                           f"{', '.join(transcript.connections) or 'none'}")
        for cid in [c for c in transcript.connections if c not in conns]:
            transcript._forget(cid)
    explanations = not getattr(args, "no_explanations", False)
    if getattr(args, "text", False):
        from .terminal import color_enabled, render_terminal
        color = not getattr(args, "no_color", False) and color_enabled(sys.stdout)
        print(render_terminal(transcript, color=color, width=getattr(args, "width", None),
                              explanations=explanations), flush=True)
        return 0
    from .page import render_page
    page = render_page(transcript, title=getattr(args, "title", None), explanations=explanations,
                       figures=not getattr(args, "no_figures", False),
                       expand=False if getattr(args, "collapsed", False) else "auto")
    output = getattr(args, "output", None) or _default_output(args.file)
    if output == "-":
        sys.stdout.write(page)
        sys.stdout.flush()
        return 0
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise _Problem(f"the folder of {output} does not exist")
    try:
        Path(output).write_text(page, encoding="utf-8")
    except OSError as exc:
        raise _Problem(f"cannot write {output}: {exc.strerror or exc}") from None
    items = sum(len(c.parsed) for c in transcript.connections.values())
    print(f"wrote {output}: {len(transcript.connections)} connection{'s' if len(transcript.connections) != 1 else ''}"
          f", {items} items, {len(page.encode('utf-8')) / 1000:.0f} kB; open it in any browser", file=sys.stderr)
    return 0


def _default_output(path: str) -> str:
    name = os.fspath(path)
    for ext in (".jsonl.gz", ".jsonl", ".txt", ".log", ".xml"):
        if name.lower().endswith(ext):
            return name[: -len(ext)] + ".html"
    return name + ".html"


def load(path: str, fmt: str = "auto"):
    """Read a transcript file (format from the extension, or ``fmt``); _Problem with one sentence if not."""
    from ..transcript import Transcript, TranscriptError

    if not os.path.isfile(path):
        raise _Problem(f"there is no file {path}")
    try:
        if fmt == "jsonl":
            return Transcript.load(path)
        if fmt == "rfc":
            return Transcript.from_rfc_text(Path(path).read_text(encoding="utf-8"))
        if fmt == "slixmpp":
            return Transcript.from_slixmpp_log(Path(path).read_text(encoding="utf-8"))
        try:
            from ..replay.files import load_transcript
        except ImportError:
            load_transcript = None
        if load_transcript is not None:
            return load_transcript(path)
        name = path.lower()
        if name.endswith((".jsonl", ".jsonl.gz")):
            return Transcript.load(path)
        if name.endswith(".txt"):
            return Transcript.from_rfc_text(Path(path).read_text(encoding="utf-8"))
        if name.endswith(".log"):
            return Transcript.from_slixmpp_log(Path(path).read_text(encoding="utf-8"))
        raise _Problem(f"cannot tell the format of {path} from its extension: use --format jsonl, rfc or slixmpp")
    except TranscriptError as exc:
        raise _Problem(str(exc)) from None
    except UnicodeDecodeError:
        raise _Problem(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise _Problem(f"cannot read {path}: {exc.strerror or exc}") from None
