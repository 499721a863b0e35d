"""The ``xmpplab`` command: ``serve``, ``accounts`` and ``demo``.

Run ``xmpplab --help`` or ``xmpplab COMMAND --help``. A wrong argument gets
one readable sentence and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import sys

from . import __version__


class CLIError(Exception):
    """A problem the user can fix; printed as one sentence."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one sentence instead of usage + message
        self.exit(2, f"xmpplab: {message} (see '{self.prog} --help')\n")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the port must be a number, not {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"the port must be from 0 to 65535, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="xmpplab", description="Learn and teach XMPP hands-on, with a real server inside.")
    p.add_argument("--version", action="version", version=f"xmpplab {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log what the server does")
    cmds = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    s = cmds.add_parser("serve", help="run the XMPP server in the foreground",
                        description="Run the xmpplab XMPP server until Ctrl-C.")
    s.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; use 0.0.0.0 for a classroom)")
    s.add_argument("--port", type=_port, default=5222, help="client port (default 5222; 0 picks a free one)")
    s.add_argument("--domain", action="append", metavar="DOMAIN",
                   help="a domain to serve; repeat for several (default example.com)")
    s.add_argument("--db", metavar="FILE", help="SQLite file for accounts, rosters and offline messages "
                                                "(default: in memory, lost at exit)")
    s.add_argument("--register", action="store_true", help="allow in-band registration (XEP-0077)")
    s.add_argument("--record", metavar="FILE", help="write every byte of every stream to FILE (JSON Lines)")
    s.add_argument("--no-tls", action="store_true", help="do not offer STARTTLS")
    s.add_argument("--require-tls", action="store_true", help="refuse SASL before STARTTLS except on loopback")
    s.add_argument("--user", action="append", metavar="JID:PASSWORD",
                   help="create this account at start (repeatable), e.g. juliet@example.com:secret")

    a = cmds.add_parser("accounts", help="add, remove or list accounts in a database",
                        description="Manage the accounts stored in a server database (--db).")
    a_cmds = a.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    for action, text in (("add", "create an account or reset its password"), ("remove", "delete an account"),
                         ("list", "list accounts")):
        sp = a_cmds.add_parser(action, help=text, description=text[0].upper() + text[1:] + ".")
        if action != "list":
            sp.add_argument("user", metavar="USER", help="juliet@example.com, or juliet with --domain")
        sp.add_argument("--db", metavar="FILE", required=True, help="the server's SQLite file")
        sp.add_argument("--domain", metavar="DOMAIN", help="the domain, when USER has none (or to filter list)")
        if action == "add":
            sp.add_argument("--password", help="the password (default: asked, or read from standard input)")

    d = cmds.add_parser("demo", help="a headless tour: two users, a roster, a subscription, messages",
                        description="Start a loopback server, log in juliet and romeo, and show the XML.")
    d.add_argument("--no-color", action="store_true", help="plain text output")
    d.add_argument("--all", action="store_true", help="show both users' connections, not only juliet's")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "accounts":
            if args.action is None:
                raise CLIError("say what to do with accounts: add, remove or list")
            return _accounts(args)
        if args.command == "demo":
            from .demo import run_demo
            return asyncio.run(run_demo(color=not args.no_color and _color_ok(), show_all=args.all))
    except CLIError as exc:
        print(f"xmpplab: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _color_ok() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ or "FORCE_COLOR" in os.environ


# serve ------------------------------------------------------------------------
def _serve(args) -> int:
    from .jid import JID, InvalidJID
    from .recording import JsonlRecorder
    from .server import Server

    users = []
    for spec in args.user or []:
        jid, sep, password = spec.partition(":")
        if not sep or not password:
            raise CLIError(f"--user wants JID:PASSWORD, e.g. juliet@example.com:secret, not {spec!r}")
        users.append((jid, password))
    domains = args.domain or ["example.com"]
    for d in domains:
        try:
            j = JID(d)
        except InvalidJID as exc:
            raise CLIError(f"--domain {d!r} is not a valid domain: {exc.reason}") from None
        if not j.is_domain or j.resource:
            raise CLIError(f"--domain wants a domain such as example.com, not the address {d!r}")
    recorder = None
    if args.record:
        try:
            recorder = JsonlRecorder(args.record)
        except OSError as exc:
            raise CLIError(f"cannot write the recording to {args.record}: {exc.strerror}") from None
    try:
        server = Server(domains, host=args.host, port=args.port, db=args.db, register=args.register,
                        recorder=recorder, tls=not args.no_tls, require_tls=args.require_tls)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    except Exception as exc:  # sqlite3 errors on a bad --db path and the like
        raise CLIError(f"cannot open the database {args.db}: {exc}") from None
    for jid, password in users:
        try:
            server.accounts.add(jid, password)
        except ValueError as exc:
            raise CLIError(f"--user {jid}: {exc}") from None
    try:
        return asyncio.run(_serve_forever(server, args))
    finally:
        if recorder:
            recorder.close()


async def _serve_forever(server, args) -> int:
    try:
        await server.start()
    except OSError as exc:
        raise CLIError(exc.strerror or str(exc)) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows: Ctrl-C raises KeyboardInterrupt instead
            pass
    host, port = server.address
    store = args.db or "memory (accounts are lost at exit; use --db FILE to keep them)"
    print(f"xmpplab {__version__} serving {', '.join(server.hosts)} on {host}:{port}", flush=True)
    print(f"  clients connect to {host} port {port}; STARTTLS {'off' if args.no_tls else 'on (self-signed)'}; "
          f"registration {'on' if args.register else 'off'}", flush=True)
    print(f"  storage: {store}", flush=True)
    if args.record:
        print(f"  recording every stream to {args.record}", flush=True)
    if not server.accounts.list():
        print("  no accounts yet: xmpplab accounts add juliet@example.com --db FILE, --user, or --register",
              flush=True)
    print("  press Ctrl-C to stop", flush=True)
    try:
        await stop.wait()
    finally:
        print("stopping…", flush=True)
        await server.stop()
    return 0


# accounts ---------------------------------------------------------------------------
def _accounts(args) -> int:
    from .jid import JID, InvalidJID
    from .server.auth import make_credentials
    from .server.storage import Storage

    if args.action != "list" or args.db:
        db_dir = os.path.dirname(os.path.abspath(args.db))
        if not os.path.isdir(db_dir):
            raise CLIError(f"the folder of --db {args.db} does not exist")
    try:
        storage = Storage(args.db)
    except Exception as exc:
        raise CLIError(f"cannot open the database {args.db}: {exc}") from None
    try:
        if args.action == "list":
            domain = None
            if args.domain:
                try:
                    domain = JID(args.domain).domain
                except InvalidJID as exc:
                    raise CLIError(f"--domain: {exc.reason}") from None
            names = storage.list_accounts(domain)
            for name in names:
                print(name)
            if not names:
                print("no accounts" + (f" in {domain}" if domain else ""), file=sys.stderr)
            return 0
        user = args.user if "@" in args.user or not args.domain else f"{args.user}@{args.domain}"
        try:
            jid = JID(user)
        except InvalidJID as exc:
            raise CLIError(str(exc)) from None
        if jid.local is None:
            raise CLIError(f"{user!r} has no user part: write juliet@example.com, or juliet --domain example.com")
        if jid.resource is not None:
            raise CLIError(f"an account has no resource: write {jid.bare}, not {user}")
        if args.action == "remove":
            if not storage.delete_account(jid.domain, jid.local):
                raise CLIError(f"there is no account {jid.bare} in {args.db}")
            print(f"removed {jid.bare}")
            return 0
        password = args.password
        if password is None:
            if sys.stdin.isatty():
                password = getpass.getpass(f"password for {jid.bare}: ")
            else:
                password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise CLIError("the password is empty")
        existed = storage.account_exists(jid.domain, jid.local)
        storage.put_account(jid.domain, jid.local, make_credentials(password))
        print(f"{'updated' if existed else 'added'} {jid.bare}")
        return 0
    finally:
        storage.close()


if __name__ == "__main__":
    sys.exit(main())
