"""``xmpplab replay``: step through a recording, re-drive it against a server, or fake a server."""

from __future__ import annotations

import asyncio
import sys

from .common import (
    CLIError,
    ask_password,
    color_ok,
    listen_address,
    load_transcript,
    run_until_stopped,
    server_address,
    start_service,
)


def add_parser(cmds) -> None:
    """Add the subcommand and its options to ``cmds``."""
    p_ = cmds.add_parser("replay", help="step through a recording, re-drive it against a server, or fake a server",
                         description="Print a recording stanza by stanza (C→S and S→C), re-drive its client "
                                     "side against a live server and diff the answers (--against), or play its "
                                     "server side to a client that connects (--fake).")
    p_.add_argument("file", metavar="FILE",
                    help="a recording: .jsonl, RFC text .txt, slixmpp log .log, stream file .xml")
    p_.add_argument("--conn", metavar="ID", help="one connection (default: all to print, the only client to replay)")
    p_.add_argument("--kind", action="append", metavar="KIND",
                    help="print only these (stanza, message, presence, iq, nonza, stream-open...); repeatable")
    p_.add_argument("--step", action="store_true", help="wait for Enter between stanzas")
    p_.add_argument("--no-color", action="store_true", help="plain text output")
    p_.add_argument("--reveal-credentials", action="store_true", help="show SASL data instead of masking it")
    p_.add_argument("--against", metavar="HOST[:PORT]", type=server_address,
                    help="re-drive the recorded client stanzas against this server and diff its answers")
    p_.add_argument("--jid", metavar="JID", help="with --against: the account to log in as (default: the recorded one)")
    p_.add_argument("--password", help="with --against: its password (default: asked, or read from standard "
                                       "input); with --fake: the only password accepted")
    p_.add_argument("--map", action="append", metavar="OLD=NEW",
                    help="with --against: rewrite another JID or domain, e.g. romeo@example.net=romeo@localhost")
    p_.add_argument("--no-tls", action="store_true", help="do not use STARTTLS")
    p_.add_argument("--wait", type=float, default=0.3, metavar="SECONDS",
                    help="with --against: how long the server must be quiet before the next stanza (default 0.3)")
    p_.add_argument("--fake", action="store_true", help="be a fake server playing the recording's server side")
    p_.add_argument("--listen", metavar="[HOST:]PORT", type=listen_address, help="with --fake: where clients connect")


def run(args) -> int:
    """Print the recording, re-drive it (--against) or play its server side (--fake)."""
    if args.fake and args.against:
        raise CLIError("choose --against HOST:PORT (re-drive) or --fake (fake server), not both")
    if args.listen and not args.fake:
        raise CLIError("--listen goes with --fake (the fake server listens; --against connects)")
    if args.fake and not args.listen:
        raise CLIError("--fake needs --listen [HOST:]PORT, where clients connect")
    if not args.against and (args.jid or args.map):
        raise CLIError("--jid and --map go with --against HOST:PORT")
    if (args.against or args.fake) and (args.step or args.kind):
        raise CLIError("--step and --kind are for printing a recording, not with --against or --fake")
    if args.wait <= 0:
        raise CLIError(f"--wait must be a positive number of seconds, not {args.wait}")
    jid_map = {}
    for spec in args.map or []:
        old, sep, new = spec.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise CLIError(f"--map wants OLD=NEW, e.g. romeo@example.net=romeo@localhost, not {spec!r}")
        jid_map[old.strip()] = new.strip()
    transcript = load_transcript(args.file)
    if args.conn and args.conn not in transcript.connections:
        raise CLIError(f"there is no connection {args.conn!r} in {args.file}; there are: "
                       f"{', '.join(transcript.connections) or 'none'}")
    if args.against:
        return asyncio.run(_redrive(args, transcript, jid_map))
    if args.fake:
        return asyncio.run(_fake_forever(args, transcript))
    return _print_steps(args, transcript)


def _print_steps(args, transcript) -> int:
    from ..replay import Stepper
    from ..transcript import TranscriptError

    try:
        stepper = Stepper(transcript, conn=args.conn, kinds=args.kind, reveal_credentials=args.reveal_credentials)
    except TranscriptError as exc:
        raise CLIError(str(exc)) from None
    color = not args.no_color and color_ok()
    n = len(transcript.connections)
    print(f"{args.file}: {len(stepper)} {stepper.noun}s on {n} connection{'' if n == 1 else 's'}; "
          f"C→S is client to server{' (green)' if color else ''}, S→C server to client", flush=True)
    if not args.step:
        print(stepper.render(color=color), flush=True)
        return 0
    conn = None
    for step in stepper:
        if n > 1 and step.conn != conn:
            conn = step.conn
            who = getattr(step.connection, "jid", None)
            print(f"── {conn}{f' ({who})' if who else ''} ──", flush=True)
        print(step.render(color=color), flush=True)
        try:
            answer = input("  [Enter] next, q quit " if sys.stdin.isatty() else "")
        except EOFError:
            break
        if answer.strip().lower() in ("q", "quit"):
            break
    return 0


async def _redrive(args, transcript, jid_map) -> int:
    from ..rawclient import RawClientError
    from ..replay import redrive
    from ..transcript import TranscriptError

    password = ask_password(args.password, f"password for {args.jid or 'the recorded account'}: ",
                         "the password is empty: give --password (the lab's accounts use 'secret')")
    host, port = args.against
    try:
        report = await redrive(transcript, args.conn, host, port, args.jid, password, jid_map=jid_map,
                               tls="none" if args.no_tls else "starttls", quiet=args.wait)
    except (TranscriptError, RawClientError) as exc:
        raise CLIError(str(exc)) from None
    print(report.text(), flush=True)
    return 0 if report.ok else 1


async def _fake_forever(args, transcript) -> int:
    from ..replay import FakeServer
    from ..transcript import TranscriptError

    host, port = args.listen
    try:
        fake = FakeServer(transcript, args.conn, host=host, port=port, tls=not args.no_tls,
                          accounts={_fake_user(transcript, args.conn): args.password} if args.password else None,
                          notify=lambda text: print(f"  {text}", flush=True))
    except (TranscriptError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    stop = await start_service(fake)
    login = f"password {args.password!r} only" if args.password else "any password (SASL PLAIN)"
    print(f"xmpplab fake server on {host}:{fake.port}, playing {fake.connection.id} "
          f"({fake.recorded_jid or '?'}); log in with {login}", flush=True)
    if not args.no_tls:
        print("  STARTTLS with a self-signed certificate: the client must accept it", flush=True)
    print("  press Ctrl-C to stop", flush=True)
    await run_until_stopped(fake, stop)
    return 0


def _fake_user(transcript, conn) -> str:
    """The recorded account's user name, to which a fake server's --password applies."""
    from ..replay.exchanges import pick_connection, recorded_jid

    jid = recorded_jid(pick_connection(transcript, conn)) or ""
    return jid.partition("@")[0] or "user"
