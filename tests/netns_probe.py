"""Run inside a private network namespace (``unshare -n``) by tests/test_off_loopback.py; prints one JSON object.

It puts 10.99.0.1 on the namespace's own ``lo``, starts ``xmpplab serve --host 10.99.0.1 --register`` and
speaks to it from 10.99.0.1, an address that is not loopback: what a laptop on a classroom network sees.
Nothing here can reach the machine's real network. Not a test module itself (no ``test_`` prefix).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import signal
import subprocess
import sys

from lxml import etree

from tests.support import RawClient

ADDRESS = "10.99.0.1"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
SERVE = [sys.executable, "-m", "xmpplab", "serve", "--domain", "example.com", "--port", "0"]


def offered(features) -> list[str]:
    out = []
    for child in features:
        name = etree.QName(child).localname
        if name == "starttls":
            out.append("starttls-required" if child.find(f"{{{NS_TLS}}}required") is not None else "starttls")
        elif name == "mechanisms":
            out += [m.text for m in child]
        else:
            out.append(name)
    return out


def error_of(el) -> list:
    """[condition, text] of a stream error or a SASL failure; [name] of anything else."""
    if isinstance(el, str):
        return [el]
    name = etree.QName(el).localname
    if name in ("error", "failure"):
        text = next((c.text for c in el if etree.QName(c).localname == "text"), "")
        return [etree.QName(el[0]).localname, text]
    return [name]


async def before_tls(port: int, send: str) -> list:
    c = await RawClient.open(port, host=ADDRESS)
    try:
        await c.open_stream()
        await c.send(send)
        return error_of(await c.recv())
    finally:
        await c.close()


async def probe(port: int) -> dict:
    out = {}
    c = await RawClient.open(port, host=ADDRESS)
    out["peer_is"] = c.writer.get_extra_info("sockname")[0]
    out["features_before_tls"] = offered(await c.open_stream())
    await c.close()
    plain = base64.b64encode(b"\0juliet\0secret").decode()
    out["plain_before_tls"] = await before_tls(port, f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{plain}</auth>")
    scram = base64.b64encode(b"n,,n=juliet,r=abcdef").decode()
    out["scram_before_tls"] = await before_tls(
        port, f"<auth xmlns='{NS_SASL}' mechanism='SCRAM-SHA-256'>{scram}</auth>")
    out["register_before_tls"] = await before_tls(
        port, "<iq type='set' id='r0'><query xmlns='jabber:iq:register'><username>mallory</username>"
              "<password>sniffed</password></query></iq>")
    c = await RawClient.open(port, host=ADDRESS)
    try:
        await c.open_stream()
        await c.starttls()
        out["features_after_tls"] = offered(await c.open_stream())
        reply = await c.request("<iq type='set' id='r1'><query xmlns='jabber:iq:register'><username>romeo"
                                "</username><password>wherefore</password></query></iq>")
        out["register_after_tls"] = reply.get("type")
        again = await c.request("<iq type='set' id='r2'><query xmlns='jabber:iq:register'><username>tybalt"
                                "</username><password>princox</password></query></iq>")
        out["second_registration"] = error_of(again[0]) if again.get("type") == "error" else [again.get("type")]
    finally:
        await c.close()
    c = await RawClient.open(port, host=ADDRESS)
    try:
        out["login_after_tls"] = await c.login("romeo@example.com/pc", "wherefore", tls=True)
    finally:
        await c.close()
    return out


async def serve_without_tls() -> dict:
    """``xmpplab serve --host 10.99.0.1 --no-tls``: its exit code and stderr (None if it kept serving)."""
    proc = await asyncio.create_subprocess_exec(*SERVE, "--host", ADDRESS, "--no-tls",
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        stderr = await asyncio.wait_for(proc.stderr.read(), 30)
        return {"no_tls_rc": await proc.wait(), "no_tls_stderr": stderr.decode()}
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return {"no_tls_rc": None, "no_tls_stderr": "it kept serving"}


async def main() -> dict:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", f"{ADDRESS}/32", "dev", "lo"], check=True)
    result = await serve_without_tls()
    server = await asyncio.create_subprocess_exec(*SERVE, "--host", ADDRESS, "--register",
                                                  stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                  env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        banner = ""
        while "Ctrl-C" not in banner:
            line = (await asyncio.wait_for(server.stdout.readline(), 30)).decode()
            if not line:
                raise SystemExit(f"xmpplab serve stopped: {(await server.stderr.read()).decode()}")
            banner += line
        port = int(re.search(rf"on {re.escape(ADDRESS)}:(\d+)", banner).group(1))
        result.update(await probe(port))
    finally:
        if server.returncode is None:
            server.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(server.wait(), 10)
            except TimeoutError:
                server.kill()
                await server.wait()
    result["serve_stderr"] = (await server.stderr.read()).decode()
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
