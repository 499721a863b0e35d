"""Run inside a private network namespace (``unshare -n``) by tests/test_class_pinning.py; prints one JSON object.

A class server on 10.99.0.1 (not loopback: what a school's network looks like to a student's laptop), and a
student's kernel joining it without a fingerprint, with the handout's, and with a wrong one; then a chapter's
Lab with the handout's fingerprint (the proxy's legs go off loopback too). Nothing here can reach the
machine's real network. Not a test module itself (no ``test_`` prefix).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from xmpplab import Lab
from xmpplab.classroom import certificate_fingerprint, join_class, prepare_class, read_csv, use_class
from xmpplab.client import ConnectError
from xmpplab.server import Server
from xmpplab.server.core import DEFAULT_MODULES

ADDRESS, DOMAIN = "10.99.0.1", "class.example"


async def attempt(coro) -> str:
    """'ok', or the sentence that refused."""
    try:
        client = await coro
    except ConnectError as exc:
        return str(exc)
    await client.disconnect()
    return "ok"


async def main() -> dict:
    folder = Path(tempfile.mkdtemp())
    server = await Server([DOMAIN], host=ADDRESS, modules=(*DEFAULT_MODULES, "classwork", "classmates")).start()
    try:
        prepare_class(server, DOMAIN, 1, folder / "class.csv")
        password = {str(a.jid): a.password for a in read_csv(folder / "class.csv")}[f"student01@{DOMAIN}"]
        fingerprint = certificate_fingerprint(server)
        where, me = f"{ADDRESS}:{server.port}", f"student01@{DOMAIN}"
        seen = {"fingerprint": fingerprint}
        seen["without"] = await attempt(join_class(where, me, password, report=False))
        seen["wrong"] = await attempt(join_class(where, me, password, report=False, fingerprint="ab" * 32))
        seen["pinned"] = await attempt(join_class(where, me, password, report=False,
                                                  fingerprint=f"sha256:{fingerprint}"))
        (folder / "password").write_text(password + "\n")
        os.environ["XMPPLAB_PASSWORD_FILE"] = str(folder / "password")
        use_class(where, me, fingerprint=f"sha256:{fingerprint}")
        lab = await Lab.start()
        try:
            juliet = await lab.connect("juliet@example.com/balcony")
            seen["lab"] = str(juliet.jid)
        finally:
            await lab.stop()
        return seen
    finally:
        await server.stop()


if __name__ == "__main__":
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", f"{ADDRESS}/32", "dev", "lo"], check=True)
    result = asyncio.run(main())
    sys.stdout.write(json.dumps(result) + "\n")
