"""``xmpplab classroom``: one command serves a class (accounts, room, handout), until Ctrl-C.

The command line's arguments are added by :func:`add_arguments`; :func:`run` does the work and
raises :class:`~xmpplab.classroom.ClassroomError` (one sentence) for anything the teacher must fix.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from .accounts import MAX_STUDENTS, ClassroomError, check_count, check_domain
from .handout import certificate_fingerprint, certificate_sha1, write_handout
from .setup import prepare_class

#: A class server's file upload (chapter 18): the largest file, a student's quota with their practice accounts,
#: and how long files are kept; a slot counts against the quota from the moment it is given.
FILE_MIB, QUOTA_MIB, KEEP_DAYS = 2, 10, 7
UPLOADS = f"file upload (XEP-0363: {FILE_MIB} MiB a file, {QUOTA_MIB} MiB a student with their practice accounts)"

DESCRIPTION = ("Serve a class: create teacher@DOMAIN and student01@DOMAIN ... with random passwords (or keep "
               "them from an earlier start with the same --db), write them to a class list (CSV, mode 0600) "
               "and a printable handout (one card per student with a QR code), make the members-only room "
               "class@conference.DOMAIN, and serve until Ctrl-C.")


def add_arguments(p: argparse.ArgumentParser, port_type=int) -> None:
    """The ``classroom`` subcommand's arguments (the limits flags are added by the caller)."""
    p.add_argument("--students", type=int, required=True, metavar="N",
                   help=f"how many students (1 to {MAX_STUDENTS:,}): student01 ... studentNN")
    p.add_argument("--domain", required=True, metavar="DOMAIN", help="the class's domain, e.g. class.example")
    p.add_argument("--db", required=True, metavar="FILE",
                   help="SQLite file for accounts, rosters, rooms and offline messages (kept across restarts)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: only this machine; give the laptop's "
                        "address on the school network for a class, e.g. 192.168.1.20)")
    p.add_argument("--port", type=port_type, default=5222, help="client port (default 5222)")
    p.add_argument("--http-port", type=port_type, metavar="PORT",
                   help=f"also serve a chat page for browsers (Converse.js), XMPP over WebSocket and {UPLOADS} "
                        "on this port: students open https://HOST:PORT/")
    p.add_argument("--converse", metavar="DIR_OR_URL",
                   help="where the chat page takes Converse.js's files: its dist folder (served by this "
                        "server, for a school without internet) or a URL (default: the Converse CDN)")
    p.add_argument("--s2s-port", type=port_type, metavar="PORT",
                   help="where students' own servers connect (chapter 09, #federate: TLS and their registered "
                        "certificate, never dialback): default 5269, or any free port with --port 0")
    p.add_argument("--no-federation", action="store_true",
                   help="do not listen for students' own servers (no server-to-server port)")
    p.add_argument("--accounts", default="classroom-accounts.csv", metavar="FILE",
                   help="the class list: jid,password,role (default classroom-accounts.csv)")
    p.add_argument("--handout", metavar="FILE",
                   help="the printable handout (default: next to the class list, NAME-handout.html)")
    p.add_argument("--admin", action="append", default=[], metavar="JID",
                   help="another account that may administer the class (repeatable); the teacher always may")
    p.add_argument("--register", action="store_true",
                   help="allow in-band registration (XEP-0077); closed by default")
    p.add_argument("--roster", choices=("none", "all"), default="none",
                   help="all: every student in every other's roster (default none)")
    p.add_argument("--force", action="store_true",
                   help="replace a class list that belongs to another class (its passwords are lost)")
    p.add_argument("--no-tls", action="store_true", help="no STARTTLS (only with a loopback --host)")


def class_upload():
    """XEP-0363 file upload sized for a class (with ``--http-port``, see :data:`UPLOADS`): a student's practice
    accounts count against the student's quota (``student07.romeo`` against ``student07``)."""
    from ..server.limits import MiB
    from ..server.modules.classmates import student_of
    from ..server.modules.upload import Upload

    return Upload(max_file_bytes=FILE_MIB * MiB, quota_bytes=QUOTA_MIB * MiB, retention_days=KEEP_DAYS,
                  payer=student_of)


def handout_path(args) -> Path:
    """Where the handout goes: ``--handout``, or beside the class list."""
    if args.handout:
        return Path(args.handout)
    accounts = Path(args.accounts)
    return accounts.with_name(f"{accounts.stem}-handout.html")


async def run(args, *, limits=None, stop: asyncio.Event | None = None, out=print) -> int:
    """Prepare the class, print where it is, serve until ``stop`` is set (Ctrl-C in the CLI)."""
    from ..server import Server
    from ..server.addresses import only_loopback
    from ..server.core import DEFAULT_MODULES
    from ..server.storage import StorageUnavailable

    # progress, transcripts, routing; practice accounts, pairs; students' own servers (#federate)
    CLASS_MODULES = (*DEFAULT_MODULES, "classwork", "classmates", "classfederation")
    domain, students = check_domain(args.domain), check_count(args.students)
    if args.no_tls and not only_loopback(args.host):
        raise ClassroomError(f"--no-tls works only with a loopback --host, not {args.host!r}: off loopback, "
                             "passwords must not cross the network in clear")
    if not Path(args.db).resolve().parent.is_dir():
        raise ClassroomError(f"the folder of --db {args.db} does not exist")
    if limits is not None and getattr(args, "connections_per_address", None) is None:
        # a class behind one address (a school's NAT): each student may have a browser open and a notebook,
        # whose chapter logs in several practice people (juliet, romeo, user1 on three devices ...)
        limits = limits.replace(connections_per_address=max(limits.connections_per_address, 8 * students + 10))
    modules = CLASS_MODULES
    if args.http_port is not None:
        from ..server.modules.webchat import WebChat
        try:
            modules = (class_upload(), *modules, WebChat(args.converse, title=f"Class {domain}"))
        except ValueError as exc:
            raise ClassroomError(f"--converse: {exc}") from None
    elif args.converse:
        raise ClassroomError("--converse needs --http-port: the chat page is served on that port")
    s2s_port = _s2s_port(args)
    try:
        server = Server([domain], host=args.host, port=args.port, db=args.db, register=args.register,
                        tls=not args.no_tls, limits=limits, modules=modules, http_port=args.http_port,
                        s2s_port=s2s_port)
    except (ValueError, StorageUnavailable) as exc:
        raise ClassroomError(str(exc)) from None
    every = max(1, students // 20)

    def progress(done: int, total: int) -> None:
        if total > 200 and (done % every == 0 or done == total):
            out(f"  accounts: {done:,} of {total:,}", flush=True)

    try:
        setup = prepare_class(server, domain, students, args.accounts, force=args.force,
                              roster_all=args.roster == "all", admins=args.admin, progress=progress)
        try:
            await server.start()
        except OSError as exc:
            raise ClassroomError(exc.strerror or str(exc)) from None
        host, port = server.address
        fingerprint = certificate_fingerprint(server)
        page = write_handout(handout_path(args), setup.accounts, host=host, port=port, domain=domain,
                             fingerprint=fingerprint, http_port=server.http_port,
                             sha1=certificate_sha1(server))
        setup.http_port = server.http_port
        _report(out, setup, host, port, fingerprint, page, args, server.s2s_port)
        if stop is None:
            return 0
        await stop.wait()
        out("stopping…", flush=True)
        return 0
    finally:
        await server.stop()


def _s2s_port(args) -> int | None:
    """The server-to-server port for students' own servers: None when off (``--no-federation``, or
    ``--no-tls``: they authenticate by their TLS certificate)."""
    if getattr(args, "no_federation", False) or args.no_tls:
        return None
    if getattr(args, "s2s_port", None) is not None:
        return args.s2s_port
    return 0 if args.port == 0 else 5269


def _report(out, setup, host, port, fingerprint, page, args, s2s_port=None) -> None:
    kept = "kept from the class list" if setup.reused_list else "new"
    out(f"xmpplab classroom: {len(setup.students)} students of {setup.domain} on {host}:{port}", flush=True)
    out(f"  students connect to {host} port {port} (STARTTLS {'off' if args.no_tls else 'on'}); "
        f"registration {'on' if args.register else 'off'}", flush=True)
    if fingerprint:
        out(f"  certificate SHA-256 fingerprint: {fingerprint}", flush=True)
        out(f"  (on the handout; notebooks check it: XMPPLAB_FINGERPRINT=sha256:{fingerprint})", flush=True)
    if setup.http_port is not None:
        scheme = "http" if args.no_tls else "https"
        out(f"  browsers: {scheme}://{host}:{setup.http_port}/ (a chat page; XMPP over WebSocket at "
            f"/xmpp-websocket); {UPLOADS}", flush=True)
    if s2s_port is not None:
        out(f"  students' own servers (chapter 09, #federate) connect to {host} port {s2s_port} (TLS, then their "
            "registered certificate)", flush=True)
    out(f"  class list ({kept} passwords, mode 0600): {setup.accounts_file}", flush=True)
    out(f"  handout to print: {page}", flush=True)
    if setup.room is not None:
        out(f"  the class room: {setup.room} (members only; the teacher owns it)", flush=True)
    out(f"  teacher: {setup.teacher.jid}; {setup.created} account(s) created now, database {args.db}", flush=True)
    out("  press Ctrl-C to stop", flush=True)
