"""The ``xmpplab`` command: ``serve``, ``accounts``, ``demo``, ``record``, ``replay`` and ``convert``.

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


def _split_host_port(text: str) -> tuple[str | None, str | None]:
    """``host:port``, ``[v6]:port``, ``host`` or ``port`` -> (host, port text); either may be None."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else None
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host or None, port
    if text.isdigit():
        return None, text
    return text or None, None


def _listen(text: str) -> tuple[str, int]:
    """``[HOST:]PORT`` to listen on; the host defaults to 127.0.0.1 (loopback)."""
    host, port = _split_host_port(text)
    if port is None:
        raise argparse.ArgumentTypeError(f"give a port to listen on, e.g. 5223 or 127.0.0.1:5223, not {text!r}")
    return host or "127.0.0.1", _port(port)


def _address(text: str) -> tuple[str, int]:
    """``HOST[:PORT]`` of a server; the port defaults to 5222."""
    host, port = _split_host_port(text)
    if host is None:
        raise argparse.ArgumentTypeError(f"give a server as HOST:PORT, e.g. 127.0.0.1:5222, not {text!r}")
    return host, _port(port) if port is not None else 5222


def _size(text: str) -> int:
    from .server.limits import parse_size
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(kind):
    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"give a number, not {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"give a positive number, not {text!r}")
        return value
    return convert


def _add_limit_flags(parser) -> None:
    """One flag per field of :class:`~xmpplab.server.limits.Limits`, with what it protects and its default."""
    from dataclasses import fields

    from .server.limits import Limits

    group = parser.add_argument_group(
        "limits", "What one peer may cost the server. They apply to peers that are not local (local: the "
                  "loopback addresses), so a learner's own laptop is never throttled; --limit-loopback applies "
                  "them on loopback too. Sizes take k and M (256k, 4M).")
    for f in fields(Limits):
        if f.name in ("local_networks", "limit_local"):
            continue
        unit = f.metadata.get("unit", "")
        kind = _size if unit == "bytes" or unit == "bytes/s" else _positive(float if f.type == "float" else int)
        default = f.default
        shown = (f"{default // 1024 // 1024}M" if unit.startswith("bytes") and default % (1024 * 1024) == 0
                 else f"{default // 1024}k" if unit.startswith("bytes") and default % 1024 == 0
                 else f"{default:g}" if isinstance(default, float) else str(default))
        group.add_argument("--" + f.name.replace("_", "-"), type=kind, default=None, metavar={"s": "SECONDS", "bytes/s": "BYTES"}.get(unit, unit.upper() if unit == "bytes" else "N"),
                           help=f"{f.metadata['help']} (default {shown}{' ' + unit if unit else ''})")
    group.add_argument("--limit-loopback", action="store_true",
                       help="apply the per-address limits to loopback peers too (for tests)")


def _limits_from(args):
    from dataclasses import fields

    from .server.limits import Limits

    changes = {f.name: getattr(args, f.name) for f in fields(Limits)
               if getattr(args, f.name, None) is not None and f.name != "limit_local"}
    if getattr(args, "limit_loopback", False):
        changes["limit_local"] = True
    return Limits(**changes)


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
    s.add_argument("--no-tls", action="store_true",
                   help="do not offer STARTTLS (only when --host is loopback: off loopback, peers must use TLS "
                        "before logging in or registering)")
    s.add_argument("--require-tls", action="store_true",
                   help="TLS first for local peers too (peers off loopback always get TLS first: STARTTLS "
                        "is required before any login or registration)")
    s.add_argument("--user", action="append", metavar="JID:PASSWORD",
                   help="create this account at start (repeatable), e.g. juliet@example.com:secret")
    s.add_argument("--s2s-port", type=_port, metavar="PORT",
                   help="listen for other servers (federation) on this port, e.g. 5269; off by default")
    s.add_argument("--peer", action="append", metavar="DOMAIN=HOST:PORT",
                   help="where the server for DOMAIN listens for servers (repeatable), e.g. "
                        "server2.com=127.0.0.1:5270; no DNS is used")
    from .server.http import add_arguments as add_http_arguments
    add_http_arguments(s)
    _add_limit_flags(s)

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

    r = cmds.add_parser("record", help="a recording proxy between any client and any server",
                        description="Forward client connections to a server and record both streams, in "
                                    "plaintext even after STARTTLS: the proxy terminates TLS on each side, so "
                                    "the client must accept the proxy's own self-signed certificate.")
    r.add_argument("--listen", metavar="[HOST:]PORT", type=_listen, required=True,
                   help="where clients connect (host default 127.0.0.1; use 0.0.0.0 for a phone on your network)")
    r.add_argument("--upstream", metavar="HOST[:PORT]", type=_address, required=True,
                   help="the server to forward to (port default 5222)")
    r.add_argument("-o", "--output", metavar="FILE", required=True, help="the recording to write (.jsonl)")
    r.add_argument("--cert", metavar="PEM", help="the certificate (and key) to show clients instead of a "
                                                 "self-signed one")
    r.add_argument("--verify-upstream", action="store_true", help="check the server's certificate and name")

    p_ = cmds.add_parser("replay", help="step through a recording, re-drive it against a server, or fake a server",
                         description="Print a recording stanza by stanza (C→S and S→C), re-drive its client "
                                     "side against a live server and diff the answers (--against), or play its "
                                     "server side to a client that connects (--fake).")
    p_.add_argument("file", metavar="FILE", help="a recording: .jsonl, RFC text .txt, slixmpp log .log, stream file .xml")
    p_.add_argument("--conn", metavar="ID", help="one connection (default: all to print, the only client to replay)")
    p_.add_argument("--kind", action="append", metavar="KIND",
                    help="print only these (stanza, message, presence, iq, nonza, stream-open...); repeatable")
    p_.add_argument("--step", action="store_true", help="wait for Enter between stanzas")
    p_.add_argument("--no-color", action="store_true", help="plain text output")
    p_.add_argument("--reveal-credentials", action="store_true", help="show SASL data instead of masking it")
    p_.add_argument("--against", metavar="HOST[:PORT]", type=_address,
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
    p_.add_argument("--listen", metavar="[HOST:]PORT", type=_listen, help="with --fake: where clients connect")

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

    from .render.cli import add_render_command
    add_render_command(cmds)

    lab = cmds.add_parser("lab", help="open the course in JupyterLab",
                          description="Open the xmpplab course (notebooks/00-welcome.ipynb) in JupyterLab.")
    lab.add_argument("--notebooks", metavar="DIR", help="the course folder (default: ./notebooks)")
    lab.add_argument("--port", type=_port, default=8888, help="JupyterLab's port (default 8888)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser (print the URL only)")
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
        if args.command == "record":
            return _record(args)
        if args.command == "replay":
            return _replay(args)
        if args.command == "convert":
            return _convert(args)
        if args.command == "lab":
            return _lab(args)
        if args.command == "render":
            from .render.cli import run_render_command
            return run_render_command(args)
    except CLIError as exc:
        print(f"xmpplab: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `xmpplab demo | head`: the reader went away; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0


def _lab(args) -> int:
    """Start JupyterLab on the course, with this Python's kernel; Ctrl-C stops it."""
    import subprocess

    folder = os.path.abspath(args.notebooks or "notebooks")
    first = "00-welcome.ipynb"
    if not os.path.isfile(os.path.join(folder, first)):
        raise CLIError(f"there is no course in {folder} (no {first}); run this in the xmpplab folder "
                       "or give --notebooks DIR")
    argv = [sys.executable, "-m", "jupyterlab", first, f"--ServerApp.root_dir={folder}",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={args.port}"]
    if args.no_browser:
        argv.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # containers and CI machines often run as root
    print(f"xmpplab: opening {os.path.join(folder, first)} in JupyterLab (Ctrl-C stops it)", flush=True)
    try:
        return subprocess.call(argv, cwd=folder)
    except KeyboardInterrupt:
        return 0


def _password(given: str | None, prompt: str, when_empty: str) -> str:
    """The --password, else asked at the terminal, else one line of standard input; never empty."""
    password = given
    if password is None:
        password = getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if not password:
        raise CLIError(when_empty)
    return password


def _color_ok() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ or "FORCE_COLOR" in os.environ


# serve ------------------------------------------------------------------------
def _serve(args) -> int:
    from .jid import JID, InvalidJID
    from .recording import JsonlRecorder
    from .server import Server
    from .server.storage import StorageUnavailable

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
    peers = {}
    for spec in args.peer or []:
        domain, sep, address = spec.partition("=")
        host, colon, port = address.rpartition(":")
        if not sep or not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise CLIError(f"--peer wants DOMAIN=HOST:PORT, e.g. server2.com=127.0.0.1:5270, not {spec!r}")
        try:
            peers[JID(domain).domain] = (host.strip("[]"), int(port))
        except InvalidJID as exc:
            raise CLIError(f"--peer {spec!r}: {exc.reason}") from None
    from .server.addresses import only_loopback
    if args.no_tls and not only_loopback(args.host):
        raise CLIError(f"--no-tls works only with a loopback --host such as 127.0.0.1, not {args.host!r}, "
                       "since off loopback passwords must not cross the network in clear")
    recorder = None
    if args.record:
        try:
            recorder = JsonlRecorder(args.record)
        except OSError as exc:
            raise CLIError(f"cannot write the recording to {args.record}: {exc.strerror}") from None
    try:
        server = Server(domains, host=args.host, port=args.port, db=args.db, register=args.register,
                        recorder=recorder, tls=not args.no_tls, require_tls=args.require_tls,
                        s2s_port=args.s2s_port, peers=peers, limits=_limits_from(args),
                        http_port=args.http_port)
    except (ValueError, StorageUnavailable) as exc:  # the latter: a --db that cannot be opened or written
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
    stop = _stop_event()
    host, port = server.address
    store = args.db or "memory (accounts are lost at exit; use --db FILE to keep them)"
    print(f"xmpplab {__version__} serving {', '.join(server.hosts)} on {host}:{port}", flush=True)
    tls = "off" if args.no_tls else "required" if args.require_tls else "on (self-signed), required off loopback"
    print(f"  clients connect to {host} port {port}; STARTTLS {tls}; "
          f"registration {'on' if args.register else 'off'}", flush=True)
    print(f"  storage: {store}", flush=True)
    if server.s2s_port is not None:
        print(f"  servers connect to {host} port {server.s2s_port} (federation, dialback)", flush=True)
    from .server.http import describe
    if (line := describe(server)) is not None:
        print(line, flush=True)
    for domain, (peer_host, peer_port) in server.s2s.peers.items():
        print(f"  the server for {domain} is at {peer_host}:{peer_port}", flush=True)
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
    from .server.storage import Storage, StorageUnavailable

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
        password = _password(args.password, f"password for {jid.bare}: ", "the password is empty")
        existed = storage.account_exists(jid.domain, jid.local)
        storage.put_account(jid.domain, jid.local, make_credentials(password))
        print(f"{'updated' if existed else 'added'} {jid.bare}")
        return 0
    finally:
        storage.close()



# record -----------------------------------------------------------------------------
def _record(args) -> int:
    from .recording import JsonlRecorder

    if not args.output.endswith(".jsonl"):
        raise CLIError(f"record writes JSON Lines: name the file .jsonl, not {args.output!r} "
                       "(xmpplab convert turns it into other formats afterwards)")
    if args.cert and not os.path.isfile(args.cert):
        raise CLIError(f"there is no certificate file {args.cert}")
    try:
        recorder = JsonlRecorder(args.output, recorded_by="xmpplab proxy")
    except OSError as exc:
        raise CLIError(f"cannot write the recording to {args.output}: {exc.strerror}") from None
    try:
        return asyncio.run(_record_forever(args, recorder))
    finally:
        recorder.close()


async def _record_forever(args, recorder) -> int:
    from .proxy import CERTIFICATE_WARNING, RecordingProxy

    host, port = args.listen
    up_host, up_port = args.upstream
    proxy = RecordingProxy(host, port, up_host, up_port, recorder, upstream_tls_verify=args.verify_upstream,
                           cert=args.cert, notify=lambda text: print(f"  {text}", flush=True))
    try:
        await proxy.start()
    except OSError as exc:
        raise CLIError(exc.strerror or str(exc)) from None
    stop = _stop_event()
    print(f"xmpplab record: listening on {host}:{proxy.port}, forwarding to {proxy.upstream}, "
          f"recording to {args.output}", flush=True)
    print(f"  TLS: {CERTIFICATE_WARNING}", flush=True)
    print(f"  point the client at {host} port {proxy.port} with STARTTLS (not Direct TLS); press Ctrl-C to stop",
          flush=True)
    try:
        await stop.wait()
    finally:
        print("stopping…", flush=True)
        await proxy.stop()
    print(f"recorded {recorder.count} events to {args.output}", flush=True)
    return 0


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows: Ctrl-C raises KeyboardInterrupt instead
            pass
    return stop


# replay -------------------------------------------------------------------------------
def _load(path: str):
    from .replay import load_transcript
    from .transcript import TranscriptError

    try:
        return load_transcript(path)
    except TranscriptError as exc:
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror}") from None


def _replay(args) -> int:
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
    transcript = _load(args.file)
    if args.conn and args.conn not in transcript.connections:
        raise CLIError(f"there is no connection {args.conn!r} in {args.file}; there are: "
                       f"{', '.join(transcript.connections) or 'none'}")
    if args.against:
        return asyncio.run(_redrive(args, transcript, jid_map))
    if args.fake:
        return asyncio.run(_fake_forever(args, transcript))
    return _print_steps(args, transcript)


def _print_steps(args, transcript) -> int:
    from .replay import Stepper
    from .transcript import TranscriptError

    try:
        stepper = Stepper(transcript, conn=args.conn, kinds=args.kind, reveal_credentials=args.reveal_credentials)
    except TranscriptError as exc:
        raise CLIError(str(exc)) from None
    color = not args.no_color and _color_ok()
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
    from .rawclient import RawClientError
    from .replay import redrive
    from .transcript import TranscriptError

    password = _password(args.password, f"password for {args.jid or 'the recorded account'}: ",
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
    from .replay import FakeServer
    from .transcript import TranscriptError

    host, port = args.listen
    try:
        fake = FakeServer(transcript, args.conn, host=host, port=port, tls=not args.no_tls,
                          accounts={_fake_user(transcript, args.conn): args.password} if args.password else None,
                          notify=lambda text: print(f"  {text}", flush=True))
    except (TranscriptError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    try:
        await fake.start()
    except OSError as exc:
        raise CLIError(exc.strerror or str(exc)) from None
    stop = _stop_event()
    login = f"password {args.password!r} only" if args.password else "any password (SASL PLAIN)"
    print(f"xmpplab fake server on {host}:{fake.port}, playing {fake.connection.id} "
          f"({fake.recorded_jid or '?'}); log in with {login}", flush=True)
    if not args.no_tls:
        print("  STARTTLS with a self-signed certificate: the client must accept it", flush=True)
    print("  press Ctrl-C to stop", flush=True)
    try:
        await stop.wait()
    finally:
        print("stopping…", flush=True)
        await fake.stop()
    return 0


def _fake_user(transcript, conn) -> str:
    """The recorded account's user name, to which a fake server's --password applies."""
    from .replay.exchanges import pick_connection, recorded_jid

    jid = recorded_jid(pick_connection(transcript, conn)) or ""
    return jid.partition("@")[0] or "user"


# convert -------------------------------------------------------------------------------
def _convert(args) -> int:
    from .replay import convert
    from .transcript import TranscriptError

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


if __name__ == "__main__":
    sys.exit(main())
