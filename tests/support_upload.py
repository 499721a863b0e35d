"""Helpers for the XEP-0363 tests: a server with an HTTP port, slot requests and raw HTTP."""

from __future__ import annotations

import asyncio
import ssl
from urllib.parse import urlsplit

from xmpplab.server.modules.upload import NS_UPLOAD

U = f"{{{NS_UPLOAD}}}"


def slot_request(name: str = "balcony.jpg", size: int = 5, kind: str | None = "image/jpeg", *,
                 to: str = "upload.example.com", id: str = "u1") -> str:
    """The iq of XEP-0363 §4 asking for a slot."""
    ctype = f" content-type='{kind}'" if kind else ""
    return (f"<iq type='get' id='{id}' to='{to}'><request xmlns='{NS_UPLOAD}' filename='{name}' size='{size}'"
            f"{ctype}/></iq>")


def slot_urls(answer) -> tuple[str, dict, str]:
    """The PUT URL, its headers and the GET URL of a slot answer."""
    slot = answer.find(f"{U}slot")
    assert slot is not None, answer
    put = slot.find(f"{U}put")
    headers = {h.get("name"): h.text for h in put.findall(f"{U}header")}
    return put.get("url"), headers, slot.find(f"{U}get").get("url")


async def http(url: str, method: str = "GET", headers: dict | None = None, body: bytes = b"",
               context: ssl.SSLContext | None = None) -> tuple[int, dict, bytes]:
    """One raw HTTP/1.1 request to ``url``: ``(status, headers with lower-case names, body)``."""
    parts = urlsplit(url)
    tls = context if parts.scheme == "https" else None
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port, ssl=tls)
    fields = {"Host": parts.netloc, **(headers or {})}
    if body and "Content-Length" not in fields:
        fields["Content-Length"] = str(len(body))
    head = f"{method} {parts.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
    writer.write(head.encode() + body)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    top, _, rest = data.partition(b"\r\n\r\n")
    if top.startswith(b"HTTP/1.1 100"):
        top, _, rest = rest.partition(b"\r\n\r\n")
    lines = top.decode("iso-8859-1").split("\r\n")
    got = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), got, rest
