"""The client XML stream file: one endpoint's view of a connection, both directions interleaved.

What a client (or a server) would have logged had it written down every
chunk it sent and received, in the order it happened. One file per endpoint::

    <!-- xmpplab client XML stream file, version 1: client side of c2s-1 -->
    <!-- client 127.0.0.1:44344 juliet@example.com/balcony; server 127.0.0.1:43217 -->
    <!-- sent 2026-11-22T10:27:15.501246Z t=1795508835.5012457 -->
    <stream:stream to='example.com' xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' xml:lang='en' version='1.0'>
    <!-- received 2026-11-22T10:27:15.501413Z t=1795508835.501413 -->
    <?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='dda780ca67e6d23a' version='1.0' xml:lang='en'>
    <!-- received 2026-11-22T10:27:15.501501Z t=1795508835.5015008 -->
    <stream:features><starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>...</stream:features>

The format:

* Line 1 names the format, its version, the side (``client`` or ``server``;
  for s2s the initiating and the receiving server) and the connection.
  Line 2 gives the endpoints' addresses and the JID once bound.
* Then each chunk, in order: a marker line ``<!-- sent|received ISO-time
  t=unix-time -->``, the chunk's text exactly as it crossed the wire, and one
  newline added after it. ``sent`` and ``received`` are seen from the
  endpoint the file is for.
* Markers are XML comments, which XMPP forbids inside streams (RFC 6120
  section 11.1), so they can never be confused with stream content, and
  editors highlight the file as XML.
* Credentials are masked unless asked for; TLS handshake bytes never appear
  (the text is the plaintext above TLS).

:func:`read_stream_file` reads it back into a transcript (removing the one
added newline per chunk), so nothing but masked credentials is lost.
"""  # noqa: E501 - the example lines are records of the format (one a line): they cannot wrap

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

from .model import Direction, TranscriptError

VERSION = 1
_SIDES = {"client": "initiating", "initiating": "initiating", "server": "receiving", "receiving": "receiving"}
_MARKER = re.compile(r"^<!-- (sent|received) (\S+) t=(\S+) -->$")
_TITLE = re.compile(r"^<!-- xmpplab client XML stream file, version (\d+): (\w+) side of (\S+) -->$")


def _side(side: str) -> str:
    try:
        return _SIDES[side]
    except KeyError:
        raise TranscriptError(f"side must be 'client' or 'server', not {side!r}") from None


def _iso(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_stream_file(transcript, conn=None, side: str = "client", reveal_credentials: bool = False) -> str:
    """The stream file of one endpoint of one connection (``conn`` may be left out when there is one)."""
    role = _side(side)
    connection = _pick(transcript, conn)
    sent = Direction.C2S if role == "initiating" else Direction.S2C
    name = "client" if role == "initiating" else "server"
    client = " ".join(x for x in (connection.client or "?", connection.jid) if x)
    lines = [f"<!-- xmpplab client XML stream file, version {VERSION}: {name} side of {connection.id} -->\n",
             f"<!-- client {client}; server {connection.server or '?'} -->\n"]
    for chunk in connection.chunks:
        what = "sent" if chunk.direction is sent else "received"
        lines.append(f"<!-- {what} {_iso(chunk.t)} t={chunk.t!r} -->\n")
        lines.append(connection.chunk_text(chunk, reveal_credentials) + "\n")
    return "".join(lines)


def _pick(transcript, conn):
    connections = getattr(transcript, "connections", None)
    if connections is None:  # a Connection
        return transcript
    if conn is None:
        if len(connections) != 1:
            raise TranscriptError(f"this transcript has {len(connections)} connections: say which one "
                                  f"(conn=...; there are {', '.join(connections) or 'none'})")
        return next(iter(connections.values()))
    return transcript[getattr(conn, "id", conn)]


def write_stream_files(transcript, directory: str | os.PathLike, side: str = "client",
                       reveal_credentials: bool = False) -> list[Path]:
    """Write one stream file per connection (per endpoint with ``side="both"``); returns the paths.

    Files are named ``<connection>-<side>.xml``, e.g. ``c2s-1-client.xml``.
    """
    sides = ("client", "server") if side == "both" else (side,)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for connection in transcript.connections.values():
        for s in sides:
            path = directory / f"{connection.id}-{s}.xml"
            path.write_text(to_stream_file(connection, side=s, reveal_credentials=reveal_credentials),
                            encoding="utf-8", newline="\n")
            paths.append(path)
    return paths


def source_text(source: str | os.PathLike) -> str:
    """The text of a stream file given as text or as a path."""
    return source if isinstance(source, str) and "\n" in source else Path(source).read_text(encoding="utf-8")


def read_title(text: str) -> tuple[str, str, str]:
    """(recorded_by, role, connection id) from a stream file's first line; TranscriptError if it is not one."""
    first = text.split("\n", 1)[0]
    m = _TITLE.match(first)
    if m is None:
        raise TranscriptError("line 1: not an xmpplab client XML stream file")
    if int(m.group(1)) > VERSION:
        raise TranscriptError(f"this stream file is of version {m.group(1)}; this xmpplab reads version {VERSION}")
    return f"{m.group(2)} stream file", _side(m.group(2)), m.group(3)


def add_stream_file(t, text: str) -> None:
    """Add the one connection of a stream file to the (empty) transcript ``t``, made with :func:`read_title`'s
    ``recorded_by`` and ``role``."""
    _, role, conn_id = read_title(text)
    lines = text.split("\n")
    t.add({"t": 0.0, "conn": conn_id, "type": "open", "kind": "c2s", "role": role})
    marker, body = None, []

    def flush(last: bool = False):
        if marker is not None:
            what, _, stamp, lineno = marker
            try:
                when = float(stamp)
            except ValueError:
                raise TranscriptError(f"line {lineno}: t={stamp!r} is not a number") from None
            data = "\n".join(body)  # the newline added after each chunk is the line break before the next marker
            if last and data.endswith("\n"):
                data = data[:-1]  # ... and the file's last newline after the last chunk
            t.add({"t": when, "conn": conn_id, "type": "data", "dir": "out" if what == "sent" else "in",
                   "data": data})

    for lineno, line in enumerate(lines[2:], start=3):
        mm = _MARKER.match(line)
        if mm:
            flush()
            marker, body = (*mm.groups(), lineno), []
        elif marker is None:
            if line.strip():
                raise TranscriptError(f"line {lineno}: text before the first <!-- sent --> or <!-- received --> line")
        else:
            body.append(line)
    flush(last=True)
    first = next(iter(t.connections.values())).chunks
    if first:
        t.connections[conn_id].opened = first[0].t
