"""How a resumed stream (XEP-0198 §5) shows in the views: the gap where a connection was lost, and the resume.

A client on a train loses its TCP connection: no ``</stream:stream>`` crosses the
wire, the server keeps the session, and a new connection takes it over::

    c2s-1  … <a h='3'/>                         ⚡ connection lost: no </stream:stream>
    c2s-3  <resume previd='5f1c' h='3'/>        [resumed c2s-1]
           <resumed previd='5f1c' h='7'/>       [resumed c2s-1]

The server records the new connection's ``bound`` event with ``resumed=<old
connection id>`` (the transcript keeps it as ``Connection.resumed_from``). These
functions read a transcript's connections (plain recorded data, never a live
server) and say what the stream view and the text view draw: the connection
header's note, the line where the old connection went silent, and the small
badges on stream management rows (``h=7`` on an ack, ``resumed c2s-1``).
"""

from __future__ import annotations

from ..ns import NS_SM
from ..transcript.model import ItemKind

__all__ = ["gap_text", "header_notes", "is_gap_after", "lost", "marks", "resumable", "resumed_by", "resumed_from"]

_ENDED = (ItemKind.STREAM_CLOSE, ItemKind.STREAM_ERROR)


def resumed_from(conn) -> str | None:
    """The id of the connection whose session this one resumed (XEP-0198 §5), or None."""
    return getattr(conn, "resumed_from", None)


def resumed_by(conn) -> str | None:
    """The id of the later connection that resumed this one's session, or None."""
    transcript = getattr(conn, "transcript", None)
    if conn is None or transcript is None:
        return None
    return next((c.id for c in transcript.connections.values() if resumed_from(c) == conn.id), None)


def lost(conn) -> bool:
    """Whether the connection closed with neither side ending its stream (no ``</stream:stream>``, no stream
    error): the TCP connection just went away, as when a phone loses its network."""
    if conn is None or getattr(conn, "closed", None) is None or getattr(conn, "headerless", False):
        return False
    items = conn.parsed
    return bool(items) and not any(i.kind in _ENDED for i in items)


def header_notes(conn) -> list[str]:
    """What the connection header adds: ``resumed from c2s-1``; ``lost without </stream:stream>``, ``resumed on
    c2s-3``."""
    notes = []
    old = resumed_from(conn)
    if old:
        notes.append(f"resumed from {old}")
    if lost(conn):
        notes.append("lost without </stream:stream>")
        later = resumed_by(conn)
        if later:
            notes.append(f"resumed on {later}")
    return notes


def is_gap_after(conn, item) -> bool:
    """Whether ``item`` is the last one of a connection that was lost (the gap is drawn after it)."""
    return conn is not None and lost(conn) and item.index == len(conn.parsed) - 1


def resumable(conn) -> bool:
    """Whether the server agreed to keep this connection's session for a resume (``<enabled resume='true'/>``)."""
    return any(i.kind is ItemKind.NONZA and i.ns == NS_SM and i.name == "enabled"
               and (i.get("resume") or "").lower() in ("true", "1") for i in conn.parsed)


def gap_text(conn) -> str:
    """The line drawn where a lost connection went silent."""
    later = resumed_by(conn)
    if later:
        then = f"; {later} resumes the session (XEP-0198 §5)"
    elif resumable(conn):
        then = "; the server keeps the session for a while in case the client resumes it (XEP-0198 §5)"
    else:
        then = ("; without stream management the server ends the session, and what it had sent since the "
                "client last read is lost (XEP-0198 §1)")
    return f"connection {conn.id} lost here: no </stream:stream> was sent{then}"


def marks(conn, item) -> list[str]:
    """Small badges for a stream management row: ``h=7`` on an ack, ``r`` on a request, ``resumed c2s-1`` on
    the ``<resume/>`` and ``<resumed/>`` of a connection that took over a lost one's session."""
    if item.kind is not ItemKind.NONZA or item.ns != NS_SM:
        return []
    name = item.name
    out = []
    if name == "a":
        out.append(f"h={item.get('h') or '?'}")
    elif name == "r":
        out.append("r: how many?")
    elif name in ("resume", "resumed"):
        old = resumed_from(conn)
        if old:
            out.append(f"resumed {old}")
        if item.get("h") is not None:
            out.append(f"h={item.get('h')}")
    return out
