"""``xmpplab accounts add|remove|list``: manage the accounts stored in a server database (--db)."""

from __future__ import annotations

import os
import sys

from .common import CLIError, Parser, ask_password


def add_parser(cmds) -> None:
    """Add the subcommand and its options to ``cmds``."""
    a = cmds.add_parser("accounts", help="add, remove or list accounts in a database",
                        description="Manage the accounts stored in a server database (--db).")
    a_cmds = a.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    for action, text in (("add", "create an account or reset its password"), ("remove", "delete an account"),
                         ("list", "list accounts")):
        sp = a_cmds.add_parser(action, help=text, description=text[0].upper() + text[1:] + ".")
        if action != "list":
            sp.add_argument("user", metavar="USER", help="juliet@example.com, or juliet with --domain")
        sp.add_argument("--db", metavar="FILE", required=True, help="the server's SQLite file")
        sp.add_argument("--domain", metavar="DOMAIN", help="the domain, when USER has none (or to filter list)")
        if action == "add":
            sp.add_argument("--password", help="the password (default: asked, or read from standard input)")


def run(args) -> int:
    """Add, remove or list accounts in the database of ``--db``."""
    if args.action is None:
        raise CLIError("say what to do with accounts: add, remove or list")
    from ..jid import JID, InvalidJID, account_jid
    from ..server.auth import make_credentials
    from ..server.storage import Storage, StorageUnavailable

    if args.action != "list" or args.db:
        db_dir = os.path.dirname(os.path.abspath(args.db))
        if not os.path.isdir(db_dir):
            raise CLIError(f"the folder of --db {args.db} does not exist")
    try:
        storage = Storage(args.db, writable=args.action != "list")  # a list reads a read-only database too
    except StorageUnavailable as exc:
        raise CLIError(str(exc)) from None
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
        hint = "write juliet@example.com, or juliet --domain example.com"
        try:
            jid = account_jid(args.user, args.domain or None, hint)
        except ValueError as exc:  # InvalidJID too
            raise CLIError(str(exc)) from None
        if jid.resource is not None:
            raise CLIError(f"an account has no resource: write {jid.bare}, not {jid}")
        if args.action == "remove":
            if not storage.delete_account(jid.domain, jid.local):
                raise CLIError(f"there is no account {jid.bare} in {args.db}")
            print(f"removed {jid.bare}")
            return 0
        password = ask_password(args.password, f"password for {jid.bare}: ", "the password is empty")
        existed = storage.account_exists(jid.domain, jid.local)
        storage.put_account(jid.domain, jid.local, make_credentials(password))
        print(f"{'updated' if existed else 'added'} {jid.bare}")
        return 0
    finally:
        storage.close()
