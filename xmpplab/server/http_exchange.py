"""Requests on the HTTP port other than GET: a PUT with a body (XEP-0363 §7), HEAD, OPTIONS.

The WebSocket library behind :mod:`~xmpplab.server.websocket` parses GET requests
without a body only (a WebSocket handshake, a page). So the HTTP connection looks
at the first request line itself: ``GET`` goes on to that library as before; any
other method is read here, head first (at most :data:`MAX_HEAD` bytes), and offered
to the modules on the ``http-exchange`` event as an :class:`Exchange` (a request no
module takes goes on to the WebSocket library too: HEAD of host-meta, say)::

    PUT /upload/Xy3…/tr%C3%A8s%20cool.jpg HTTP/1.1
    Content-Length: 23456
    Content-Type: image/jpeg
    Authorization: Bearer 9f…

A module answers at once (:meth:`Exchange.respond`) or takes the body by setting
``exchange.receiver``: an object with ``write(chunk)``, ``finish()`` returning
``(status, headers, body)`` and ``abort()``. The body is handed on in the chunks it
arrives in, so a large upload never sits in memory; only ``Content-Length``
bodies are read (``Exchange.length`` is None without one, or with a transfer coding:
the module answers 411). Every answer closes the connection.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from http import HTTPStatus

from ..delegate import delegated

log = logging.getLogger("xmpplab.server")

MAX_HEAD = 16 * 1024
TEXT = {"Content-Type": "text/plain; charset=utf-8"}


class BadRequest(ValueError):
    """A request head that cannot be read: answered with 400 and the reason."""


@dataclass
class RequestHead:
    """The request line and header fields of one request (field names in lower case)."""

    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The target without its query."""
        return self.target.partition("?")[0]


def first_method(buffer: bytes) -> str | None:
    """The method of the request line in ``buffer``, or None while it is not complete."""
    space = buffer.find(b" ", 0, 32)
    if space < 0:
        if len(buffer) >= 32 or b"\n" in buffer:
            raise BadRequest("the request line does not start with a method")
        return None
    return buffer[:space].decode("ascii", "replace")


def parse_head(raw: bytes) -> RequestHead:
    """Read a request head (up to the empty line); :class:`BadRequest` when it is not HTTP/1.x."""
    try:
        text = raw.decode("iso-8859-1")
        line, *lines = text.split("\r\n")
        method, target, version = line.split(" ")
    except ValueError:
        raise BadRequest("the request line is not 'METHOD TARGET HTTP/1.1'") from None
    if not version.startswith("HTTP/1.") or not target.startswith("/"):
        raise BadRequest("the request line is not 'METHOD /path HTTP/1.1'")
    headers: dict[str, str] = {}
    for text_line in lines:
        if not text_line:
            continue
        name, colon, value = text_line.partition(":")
        name = name.strip().lower()
        if not colon or not name or name != name.strip() or " " in name:
            raise BadRequest(f"a header field is not 'Name: value': {text_line[:40]!r}")
        if name in headers and name in ("content-length", "content-type", "authorization", "host"):
            raise BadRequest(f"the header {name} is given twice")
        headers[name] = value.strip()
    return RequestHead(method, target, headers)


def format_response(status: int, headers: dict, body: bytes = b"", length: int | None = None) -> bytes:
    """An HTTP/1.1 response that closes the connection; ``length`` overrides Content-Length (for HEAD)."""
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines += [f"Content-Length: {len(body) if length is None else length}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("iso-8859-1") + body


class Exchange:
    """One non-GET request: its head, then its body handed to the module that took it."""

    def __init__(self, head: RequestHead, host: str, secure: bool, write, close):
        self.head = head
        self.host = host  # what the client used to reach us (the Host header)
        self.secure = secure
        self.receiver = None
        self.done = False
        self._write, self._close = write, close
        self._left = 0
        length = head.headers.get("content-length")
        if length is not None and not length.isdigit():
            raise BadRequest("Content-Length is not a number")
        #: The body's length, or None without Content-Length (a module that takes a body must refuse that:
        #: there is no chunked transfer coding here).
        self.length = int(length) if length is not None and "transfer-encoding" not in head.headers else None

    method = delegated("head.method", "The request method (PUT, HEAD, OPTIONS…).")
    path = delegated("head.path", "The request path, without its query.")

    def respond(self, status: int, headers: dict | None = None, body: bytes = b"", length: int | None = None):
        """Send the answer and close the connection (once)."""
        if self.done:
            return
        self.done = True
        self._write(format_response(status, headers or {}, body, length))
        self._close()

    def start(self, hooks, rest: bytes) -> bool:
        """Offer the request to the modules and feed what came after its head; False when none took it."""
        try:
            claimed = hooks.first("http-exchange", self)
        except Exception:  # a module's bug: the client gets an answer, the log the traceback
            log.exception("http-exchange: %s %s failed", self.method, self.path)
            self.respond(500, TEXT, b"the server failed on this request\n")
            return True
        if not claimed:
            return False
        if self.done:
            return True
        if self.receiver is None or self.length is None:
            self.respond(500, TEXT, b"the request was taken but not answered\n")
            return True
        self._left = self.length
        if self.head.headers.get("expect", "").lower() == "100-continue":
            self._write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.data_received(rest)
        return True

    def data_received(self, data: bytes) -> None:
        """Hand on the body's bytes (no more than Content-Length); answer when it is complete."""
        if self.done:
            return
        if data and self._left:
            chunk = data[:self._left]
            self._left -= len(chunk)
            self.receiver.write(chunk)
        if self._left == 0 and not self.done:
            self.respond(*self.receiver.finish())

    def connection_lost(self) -> None:
        """The client went away before its body was complete: the receiver drops what it had."""
        if not self.done and self.receiver is not None:
            self.done = True
            self.receiver.abort()
