"""The HTTP side of XEP-0363 (§7): PUT into a slot, GET (and HEAD) a file, OPTIONS for web pages.

Every file lives at ``/upload/<id>/<name>`` on the server's HTTP port; the id is
long and random (§9.3), the name is the one the client gave (percent-encoded).

    PUT /upload/<id>/<name>       Authorization: Bearer <secret from the slot>
        201 Created               the file is served from now on (§7)
        403 Forbidden             no secret, or the wrong one
        404 Not Found             no such slot (never given, used, or expired after 300 s)
        409 Conflict              an upload into this slot is under way already
        411 Length Required       no Content-Length
        400 / 413                 a Content-Length other than the slot's size (§7 MUST)
        415 Unsupported Media     a Content-Type other than the one in the slot request (§7 SHOULD)
    GET  /upload/<id>/<name>      200 with Content-Type and Content-Length; 404 otherwise
    HEAD /upload/<id>/<name>      the same without the body
    OPTIONS /upload/…             204 with the CORS headers of §8, so web clients on other pages may PUT

Files are sent with ``Content-Security-Policy: default-src 'none'`` (§9.1), so an
uploaded page cannot run scripts in the server's name. The body of a PUT goes
to disk chunk by chunk as it arrives (:mod:`~xmpplab.server.http_exchange`).
"""

from __future__ import annotations

import hmac
import logging
from urllib.parse import quote, unquote

from .http_exchange import TEXT
from .upload_store import StoredFile, UploadStore

log = logging.getLogger("xmpplab.server")

PREFIX = "/upload/"
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "OPTIONS, HEAD, GET, PUT",
        "Access-Control-Allow-Headers": "Authorization, Content-Type"}
SAFE = {"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none';",
        "X-Content-Type-Options": "nosniff"}


def file_path(file_id: str, name: str) -> str:
    """The URL path of a file: ``/upload/<id>/<percent-encoded name>`` (§4: non-ASCII percent-encoded)."""
    return f"{PREFIX}{file_id}/{quote(name, safe='')}"


def split_path(path: str) -> tuple[str, str] | None:
    """``(id, name)`` of an upload path, or None when ``path`` is not one."""
    if not path.startswith(PREFIX):
        return None
    file_id, slash, name = path[len(PREFIX):].partition("/")
    if not slash or not file_id or not name or "/" in name:
        return None
    return file_id, unquote(name)


def _refuse(status: int, reason: str) -> tuple[int, dict, bytes]:
    return status, {**TEXT, **CORS}, f"{reason}\n".encode()


def _media(value: str) -> str:
    return value.partition(";")[0].strip().lower()


class Receiver:
    """One PUT's body on its way to disk."""

    def __init__(self, store: UploadStore, slot):
        self.store, self.slot = store, slot
        slot.busy = True
        self.path = store.partial(slot)
        self.out = self.path.open("wb")
        self.failed: str | None = None

    def write(self, chunk: bytes) -> None:
        """Append a chunk to the partial file."""
        if self.failed is None:
            try:
                self.out.write(chunk)
            except OSError as exc:
                self.failed = exc.strerror or str(exc)

    def finish(self) -> tuple[int, dict, bytes]:
        """The body is complete: keep the file (201) or say why not."""
        try:
            self.out.close()
            if self.failed is None:
                stored = self.store.complete(self.slot)
                log.info("upload: %s stored %s (%d bytes)", stored.owner, stored.name, stored.size)
                return 201, {**TEXT, **CORS}, b"created\n"
        except OSError as exc:
            self.failed = exc.strerror or str(exc)
        self.abort()
        return _refuse(507, f"the server could not store the file ({self.failed})")

    def abort(self) -> None:
        """The upload broke off: remove the partial file; the slot may be used again until it expires."""
        self.out.close()
        self.path.unlink(missing_ok=True)
        self.slot.busy = False


def put(store: UploadStore, exchange) -> None:
    """Check a PUT against its slot (§7) and take its body, or refuse it."""
    where = split_path(exchange.path)
    slot = store.slot(where[0]) if where else None
    if slot is None or slot.name != where[1]:
        return exchange.respond(*_refuse(404, "there is no open upload slot here (never given, used, or expired)"))
    headers = exchange.head.headers
    given = headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {slot.secret}".encode()):
        return exchange.respond(*_refuse(403, "this slot needs the Authorization header given with it (XEP-0363 §4)"))
    if slot.busy:
        return exchange.respond(*_refuse(409, "an upload into this slot is under way already"))
    length = exchange.length
    if length is None:
        return exchange.respond(*_refuse(411, "send the body with a Content-Length (XEP-0363 §7), not a "
                                              "transfer coding"))
    if length != slot.size:
        status = 413 if length > slot.size else 400
        return exchange.respond(*_refuse(status, f"Content-Length is {length} but the slot is for {slot.size} "
                                                 "bytes (XEP-0363 §7)"))
    kind = _media(headers.get("content-type", "application/octet-stream"))
    if kind != _media(slot.content_type):
        return exchange.respond(*_refuse(415, f"Content-Type is {kind} but the slot is for "
                                              f"{slot.content_type} (XEP-0363 §7)"))
    try:
        exchange.receiver = Receiver(store, slot)
    except OSError as exc:
        exchange.respond(*_refuse(507, f"the server could not store the file ({exc.strerror})"))


def found(store: UploadStore, path: str) -> StoredFile | None:
    """The stored file at an upload path, or None."""
    where = split_path(path)
    stored = store.file(where[0]) if where else None
    return stored if stored is not None and stored.name == where[1] else None


def file_headers(stored: StoredFile) -> dict:
    """The headers a file is served with."""
    return {"Content-Type": stored.content_type, **SAFE, **CORS, "Cache-Control": "max-age=86400"}


def get(store: UploadStore, path: str) -> tuple[int, dict, bytes]:
    """GET: the file (it is at most the service's max-file-size), or 404."""
    stored = found(store, path)
    if stored is None:
        return _refuse(404, "no such file")
    try:
        body = store.path(stored.id).read_bytes()
    except OSError:
        return _refuse(404, "no such file")
    return 200, file_headers(stored), body


def other(store: UploadStore, exchange) -> None:
    """HEAD and OPTIONS on an upload path; any other method is not allowed there."""
    if exchange.method == "OPTIONS":
        return exchange.respond(204, CORS)
    if exchange.method == "HEAD":
        stored = found(store, exchange.path)
        if stored is None:
            return exchange.respond(404, TEXT, length=0)
        return exchange.respond(200, file_headers(stored), length=stored.size)
    exchange.respond(405, {"Allow": "OPTIONS, HEAD, GET, PUT", **TEXT}, b"use PUT to upload, GET to download\n")
