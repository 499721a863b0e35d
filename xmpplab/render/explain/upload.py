"""Explaining HTTP File Upload (XEP-0363): the slot request, the slot, and why a slot was refused.

A client asks the upload service for a slot (§4): a PUT URL, with the headers to send,
and a GET URL to share. The file itself then goes over HTTP (§7), not through the XMPP
stream: only the link travels in a message.
"""

from __future__ import annotations

from ...xml import split_qname
from ..specs import xep
from .words import _cap

NS_UPLOAD = "urn:xmpp:http:upload:0"


def _size(text: str | None) -> str:
    if not text or not text.isdigit():
        return "a size"
    n = int(text)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:g} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return text


def upload_iq(itype: str, payload, sender: str, target: str):
    """An iq with ``<request/>`` (§4) or its answer ``<slot/>``; None for anything else of the namespace."""
    name = split_qname(payload.tag)[1]
    if name == "request" and itype == "get":
        kind = payload.get("content-type")
        return (f"{_cap(sender)} asks {target} for an upload slot for the file {payload.get('filename')!r} "
                f"({_size(payload.get('size'))}{', ' + kind if kind else ''}): a place on the web to PUT it and a "
                "link to share. The file will go over HTTP, not through this XML stream.",
                [xep(363, "4")], "upload slot request")
    if name == "slot" and itype == "result":
        put = payload.find(f"{{{NS_UPLOAD}}}put")
        headers = [h.get("name") for h in put.findall(f"{{{NS_UPLOAD}}}header")] if put is not None else []
        sent = f" with the header{'s' if len(headers) > 1 else ''} {', '.join(headers)} (the proof it may)" \
            if headers else ""
        return (f"{_cap(sender)} gives a slot: the client PUTs the file to the put URL{sent}; the service answers "
                "201 Created, and from then on anyone with the get URL can download it. The client shares that "
                "link, in a message's body say.", [xep(363, "4"), xep(363, "7")], "upload slot")
    return None


def upload_error_section():
    """The section of the upload service's own error details (``<file-too-large/>``, ``<retry/>``)."""
    return xep(363, "6")


__all__ = ["NS_UPLOAD", "upload_error_section", "upload_iq"]
