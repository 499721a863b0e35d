"""``xmpplab serve``: run the XMPP server in the foreground until Ctrl-C."""

from __future__ import annotations

import asyncio

from .. import __version__
from .common import CLIError, byte_size, port_number, positive_number, run_until_stopped, start_service


def add_parser(cmds) -> None:
    """Add the subcommand and its options to ``cmds``."""
    s = cmds.add_parser("serve", help="run the XMPP server in the foreground",
                        description="Run the xmpplab XMPP server until Ctrl-C.")
    s.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; use 0.0.0.0 for a classroom)")
    s.add_argument("--port", type=port_number, default=5222, help="client port (default 5222; 0 picks a free one)")
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
    s.add_argument("--s2s-port", type=port_number, metavar="PORT",
                   help="listen for other servers (federation) on this port, e.g. 5269; off by default")
    s.add_argument("--peer", action="append", metavar="DOMAIN=HOST:PORT",
                   help="where the server for DOMAIN listens for servers (repeatable), e.g. "
                        "server2.com=127.0.0.1:5270; no DNS is used")
    s.add_argument("--component", action="append", metavar="DOMAIN=SECRET",
                   help="let an external component (XEP-0114) serve DOMAIN, e.g. bot.example.com=sesame "
                        "(repeatable); it connects to --component-port")
    s.add_argument("--component-port", type=port_number, metavar="PORT",
                   help="listen for external components on this port, on 127.0.0.1 only, e.g. 5347")
    s.add_argument("--direct-tls-port", type=port_number, metavar="PORT",
                   help="also serve clients that start TLS at once, without STARTTLS (XEP-0368, ALPN "
                        "xmpp-client), on this port, e.g. 5223; off by default")
    from ..server.http import add_arguments as add_http_arguments
    add_http_arguments(s)
    _add_limit_flags(s)


def _add_limit_flags(parser) -> None:
    """One flag per field of :class:`~xmpplab.server.limits.Limits`, with what it protects and its default."""
    from dataclasses import fields

    from ..server.limits import Limits

    group = parser.add_argument_group(
        "limits", "What one peer may cost the server. They apply to peers that are not local (local: the "
                  "loopback addresses), so a learner's own laptop is never throttled; --limit-loopback applies "
                  "them on loopback too. Sizes take k and M (256k, 4M).")
    for f in fields(Limits):
        if f.name in ("local_networks", "limit_local"):
            continue
        unit = f.metadata.get("unit", "")
        number = float if f.type == "float" else int
        kind = byte_size if unit in ("bytes", "bytes/s") else positive_number(number)
        default = f.default
        shown = (f"{default // 1024 // 1024}M" if unit.startswith("bytes") and default % (1024 * 1024) == 0
                 else f"{default // 1024}k" if unit.startswith("bytes") and default % 1024 == 0
                 else f"{default:g}" if isinstance(default, float) else str(default))
        metavar = {"s": "SECONDS", "bytes/s": "BYTES"}.get(unit, unit.upper() if unit == "bytes" else "N")
        group.add_argument("--" + f.name.replace("_", "-"), type=kind, default=None, metavar=metavar,
                           help=f"{f.metadata['help']} (default {shown}{' ' + unit if unit else ''})")
    group.add_argument("--limit-loopback", action="store_true",
                       help="apply the per-address limits to loopback peers too (for tests)")


def _limits_from(args):
    from dataclasses import fields

    from ..server.limits import Limits

    changes = {f.name: getattr(args, f.name) for f in fields(Limits)
               if getattr(args, f.name, None) is not None and f.name != "limit_local"}
    if getattr(args, "limit_loopback", False):
        changes["limit_local"] = True
    return Limits(**changes)


def run(args) -> int:
    """Run the server until Ctrl-C (or SIGTERM)."""
    from ..jid import JID, InvalidJID
    from ..recording import JsonlRecorder
    from ..server import Server
    from ..server.storage import StorageUnavailable

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
    components = {}
    for spec in args.component or []:
        name, sep, secret = spec.partition("=")
        if not sep or not name or not secret:
            raise CLIError(f"--component wants DOMAIN=SECRET, e.g. bot.example.com=sesame, not {spec!r}")
        components[name] = secret
    if components and args.component_port is None:
        raise CLIError("--component needs --component-port: the port components connect to (5347 is usual)")
    from ..server.addresses import only_loopback
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
                        http_port=args.http_port, direct_tls_port=args.direct_tls_port,
                        components=components, component_port=args.component_port)
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
    stop = await start_service(server)
    host, port = server.address
    store = args.db or "memory (accounts are lost at exit; use --db FILE to keep them)"
    print(f"xmpplab {__version__} serving {', '.join(server.hosts)} on {host}:{port}", flush=True)
    tls = "off" if args.no_tls else "required" if args.require_tls else "on (self-signed), required off loopback"
    print(f"  clients connect to {host} port {port}; STARTTLS {tls}; "
          f"registration {'on' if args.register else 'off'}", flush=True)
    print(f"  storage: {store}", flush=True)
    if server.component_port is not None:
        print(f"  components ({', '.join(server.component_secrets)}) connect to 127.0.0.1 port "
              f"{server.component_port} (XEP-0114)", flush=True)
    if server.direct_tls_port is not None:
        print(f"  clients may also start TLS at once on port {server.direct_tls_port} (XEP-0368, direct TLS)",
              flush=True)
    if server.s2s_port is not None:
        print(f"  servers connect to {host} port {server.s2s_port} (federation, dialback)", flush=True)
    from ..server.http import describe
    if (line := describe(server)) is not None:
        print(line, flush=True)
    uploads = server.provided.get("uploads")
    if uploads is not None:
        kept = "kept next to the database" if not uploads.temporary else "deleted at exit"
        print(f"  file sharing (XEP-0363) at upload.{server.default_domain}: files in {uploads.folder} ({kept})",
              flush=True)
    for domain, (peer_host, peer_port) in server.s2s.peers.items():
        print(f"  the server for {domain} is at {peer_host}:{peer_port}", flush=True)
    if args.record:
        print(f"  recording every stream to {args.record}", flush=True)
    if not server.accounts.list():
        print("  no accounts yet: xmpplab accounts add juliet@example.com --db FILE, --user, or --register",
              flush=True)
    print("  press Ctrl-C to stop", flush=True)
    await run_until_stopped(server, stop)
    return 0
