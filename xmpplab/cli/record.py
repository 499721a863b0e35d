"""``xmpplab record``: a recording proxy between any client and any server."""

from __future__ import annotations

import asyncio
import os

from .common import CLIError, listen_address, run_until_stopped, server_address, start_service


def add_parser(cmds) -> None:
    """Add the subcommand and its options to ``cmds``."""
    r = cmds.add_parser("record", help="a recording proxy between any client and any server",
                        description="Forward client connections to a server and record both streams, in "
                                    "plaintext even after STARTTLS: the proxy terminates TLS on each side, so "
                                    "the client must accept the proxy's own self-signed certificate.")
    r.add_argument("--listen", metavar="[HOST:]PORT", type=listen_address, required=True,
                   help="where clients connect (host default 127.0.0.1; use 0.0.0.0 for a phone on your network)")
    r.add_argument("--upstream", metavar="HOST[:PORT]", type=server_address, required=True,
                   help="the server to forward to (port default 5222)")
    r.add_argument("-o", "--output", metavar="FILE", required=True, help="the recording to write (.jsonl)")
    r.add_argument("--cert", metavar="PEM", help="the certificate (and key) to show clients instead of a "
                                                 "self-signed one")
    r.add_argument("--verify-upstream", action="store_true", help="check the server's certificate and name")


def run(args) -> int:
    """Run the recording proxy until Ctrl-C."""
    from ..recording import JsonlRecorder

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
    from ..proxy import CERTIFICATE_WARNING, RecordingProxy

    host, port = args.listen
    up_host, up_port = args.upstream
    proxy = RecordingProxy(host, port, up_host, up_port, recorder, upstream_tls_verify=args.verify_upstream,
                           cert=args.cert, notify=lambda text: print(f"  {text}", flush=True))
    stop = await start_service(proxy)
    print(f"xmpplab record: listening on {host}:{proxy.port}, forwarding to {proxy.upstream}, "
          f"recording to {args.output}", flush=True)
    print(f"  TLS: {CERTIFICATE_WARNING}", flush=True)
    print(f"  point the client at {host} port {proxy.port} with STARTTLS (not Direct TLS); press Ctrl-C to stop",
          flush=True)
    await run_until_stopped(proxy, stop)
    print(f"recorded {recorder.count} events to {args.output}", flush=True)
    return 0
