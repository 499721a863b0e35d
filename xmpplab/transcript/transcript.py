"""A lossless transcript: every connection, every chunk of text, in order, and a parsed view of it.

Build one from a recorder's events (in memory, or live as they arrive), load
one from JSON Lines, or import RFC example text or a slixmpp debug log::

    t = Transcript.from_events(server_events, recorded_by="server")
    t = Transcript.load("sample_streams/juliet-login-starttls-scram.jsonl")
    t.add(event)                        # live: the parsed view follows incrementally
    roster = t.first(kind="iq", namespace="jabber:iq:roster", direction="C→S")
    t.answer_to(roster)                 # <Item c2s-1#23 S→C stanza iq type='result' ...>
    print(t.summary())

The events are the recorder's (see :mod:`xmpplab.recording`): ``open``,
``data``, ``tls``, ``auth``, ``bound``, ``close``. Events of types this
version does not know are kept (and saved again) but otherwise ignored.
"""

from __future__ import annotations

import datetime
import heapq
import os
from collections.abc import Callable, Iterable, Iterator

from ..recording import FORMAT, FORMAT_VERSION
from . import jsonl, rfc, slixmpp_log, streamfile
from .connection import Connection
from .model import ROLES, Chunk, Direction, Item, TranscriptError, check_event
from .query import Criteria, Query, describe

_OPEN_FIELDS = {"t", "conn", "type", "peer", "local", "kind", "role", "headerless", "labels"}
_DATA_FIELDS = {"t", "conn", "type", "dir", "data"}


def _role_for(recorded_by: str | None) -> str:
    """A recording made by a client is from the initiating side; anything else from the receiving side."""
    return "initiating" if recorded_by and "client" in recorded_by.lower() else "receiving"


class Transcript(Query):
    """Every connection of a recording, in order (see the module docstring)."""

    def __init__(self, header: dict | None = None, *, recorded_by: str | None = None, role: str | None = None,
                 retain: bool = True):
        header = dict(header or {})
        if recorded_by is not None:
            header["recorded_by"] = recorded_by
        header.setdefault("format", FORMAT)
        header.setdefault("version", FORMAT_VERSION)
        self.header = header
        self.default_role = role or header.get("role") or _role_for(header.get("recorded_by"))
        if self.default_role not in ROLES:
            raise TranscriptError(f"role must be 'receiving' or 'initiating', not {self.default_role!r}")
        self.connections: dict[str, Connection] = {}
        self.notes: list[str] = []  # what importers and loaders want you to know (lost details, skipped lines)
        self.unknown_events = 0
        self.retain = retain
        self._log: list = []  # Chunk objects and the other events (dicts), in order
        self._seq = 0
        self._watchers: list[Callable[[Item], None]] = []

    @property
    def recorded_by(self) -> str | None:
        """Who recorded the transcript, from its header."""
        return self.header.get("recorded_by")

    # --- building -----------------------------------------------------------
    @classmethod
    def from_events(cls, events: Iterable[dict], recorded_by: str = "server", role: str | None = None,
                    **header) -> Transcript:
        """A transcript of recorder events held in memory (``MemoryRecorder.events``, a list)."""
        events = iter(events)
        first = next(events, None)
        if isinstance(first, dict) and "started" not in header and isinstance(first.get("t"), (int, float)):
            header["started"] = datetime.datetime.fromtimestamp(first["t"], datetime.UTC).isoformat(
                timespec="seconds")
        t = cls(header, recorded_by=recorded_by, role=role)
        if first is not None:
            t.add(first)
        t.extend(events)
        return t

    def extend(self, events: Iterable[dict]) -> None:
        """Add recorder events, one by one (see :meth:`add`)."""
        for event in events:
            self.add(event)

    def add(self, event: dict) -> list[Item]:
        """Add one recorder event; returns the items it completed when the parsed view is live
        (it becomes live the first time it is asked for, and for watchers, see :meth:`watch`)."""
        check_event(event)
        seq = self._seq
        self._seq += 1
        kind, conn_id, t = event["type"], event["conn"], float(event["t"])
        items: list[Item] = []
        if kind == "data":
            conn = self.connections.get(conn_id)
            if conn is None:
                conn = self._open(conn_id, {"t": t})
            extra = {k: v for k, v in event.items() if k not in _DATA_FIELDS} or None
            chunk, items = conn.add_data(t, Direction.from_recorder(event["dir"], conn.role), event["data"],
                                         seq, extra)
            if self.retain:
                self._log.append(chunk)
        else:
            if self.retain:
                self._log.append(dict(event))
            if kind == "open":
                self._open(conn_id, event)
            elif kind in ("tls", "auth", "bound", "close"):
                conn = self.connections.get(conn_id)
                if conn is None:
                    conn = self._open(conn_id, {"t": t})
                if kind == "tls":
                    conn.tls, conn.cipher = event.get("version") or "TLS", event.get("cipher")
                elif kind == "auth":
                    conn.mechanism, conn.user = event.get("mechanism"), event.get("user")
                elif kind == "bound":
                    conn.jid = event.get("jid")
                    conn.resumed_from = event.get("resumed") or conn.resumed_from
                else:
                    items = conn.close(t, seq, event.get("clean"))
            else:
                self.unknown_events += 1
        for watcher in self._watchers:
            for item in items:
                watcher(item)
        return items

    def _open(self, conn_id: str, event: dict) -> Connection:
        role = event.get("role") or self.default_role
        peer, local = event.get("peer"), event.get("local")
        client, server = (peer, local) if role == "receiving" else (local, peer)
        extra = {k: v for k, v in event.items() if k not in _OPEN_FIELDS}
        conn = self.connections.get(conn_id)
        if conn is None:
            conn = Connection(conn_id, kind=event.get("kind", "c2s"), role=role, client=client, server=server,
                              opened=event.get("t"), headerless=bool(event.get("headerless")),
                              labels=event.get("labels"), extra=extra, transcript=self, retain=self.retain)
            self.connections[conn_id] = conn
            if self._watchers:
                conn._ensure_view()
        else:  # an open event after data: fill in what it says
            conn.client, conn.server = conn.client or client, conn.server or server
            conn.kind, conn.role = event.get("kind", conn.kind), role
            conn.extra.update(extra)
        return conn

    def _forget(self, conn_id: str) -> None:
        """Remove a connection and all its events (importers drop empty connection attempts)."""
        self.connections.pop(conn_id, None)
        self._log = [e for e in self._log if (e.conn if isinstance(e, Chunk) else e.get("conn")) != conn_id]

    def watch(self, callback: Callable[[Item], None]) -> Callable[[], None]:
        """Call ``callback(item)`` for every item completed from now on; returns a function that stops it."""
        for conn in self.connections.values():
            conn._ensure_view()
        self._watchers.append(callback)
        return lambda: self._watchers.remove(callback) if callback in self._watchers else None

    # --- reading ------------------------------------------------------------
    def chunks(self, conn=None, direction=None) -> Iterator[Chunk]:
        """The raw chunks, in the order they were recorded."""
        conns = Criteria.make(conn=conn).conns
        direction = Direction.parse(direction) if direction else None
        for entry in self._log:
            if isinstance(entry, Chunk) and (conns is None or entry.conn in conns) and \
                    (direction is None or entry.direction is direction):
                yield entry

    def events(self, reveal_credentials: bool = False) -> Iterator[dict]:
        """The recorder events again, in order: what :meth:`save` writes, one per line."""
        for entry in self._log:
            if isinstance(entry, Chunk):
                conn = self.connections[entry.conn]
                event = {"t": entry.t, "conn": entry.conn, "type": "data",
                         "dir": entry.direction.to_recorder(conn.role),
                         "data": conn.chunk_text(entry, reveal_credentials)}
                if entry.extra:
                    event.update(entry.extra)
                yield event
            else:
                yield dict(entry)

    def _iter_items(self, criteria: Criteria) -> Iterator[Item]:
        if criteria.jid is not None:
            for c in self.connections.values():
                c._ensure_view()  # imported transcripts learn the JID from the bind result
        sources = [c._iter_items(criteria) for c in self.connections.values() if criteria.wants_connection(c)]
        if len(sources) == 1:
            return sources[0]
        return heapq.merge(*sources, key=lambda i: (i.seq, i.index))

    def __getitem__(self, conn_id: str) -> Connection:
        try:
            return self.connections[conn_id]
        except KeyError:
            raise KeyError(f"no connection {conn_id!r}; there are: {', '.join(self.connections) or 'none'}") from None

    # --- files and other formats ------------------------------------------------
    # Each format module reads into (or writes from) a transcript made here, and imports no Transcript.
    def save(self, path: str | os.PathLike, reveal_credentials: bool = False) -> None:
        """Write JSON Lines (see :mod:`xmpplab.transcript.jsonl`); credentials masked unless asked for."""
        jsonl.save(self, path, reveal_credentials=reveal_credentials)

    @classmethod
    def load(cls, path: str | os.PathLike, on_error: str = "raise") -> Transcript:
        """Read a JSON Lines transcript (``.jsonl`` or ``.jsonl.gz``).

        The parsed view is built when first asked for. As the file is complete, a connection
        still in the middle of an element at its end (no close event) is not flagged; one that
        closed in the middle of an element is.
        """
        t = cls(jsonl.read_header(path))
        jsonl.read_into(t, path, on_error=on_error)
        return t

    @classmethod
    def from_rfc_text(cls, text: str, *, recorded_by: str = "RFC example text", **options) -> Transcript:
        """Import RFC example text (``C:``/``S:`` lines; see :mod:`xmpplab.transcript.rfc`)."""
        t = cls(recorded_by=recorded_by, role="receiving")
        rfc.add_rfc_text(t, text, **options)
        return t

    def to_rfc_text(self, **options) -> str:
        """Export in RFC example notation (see :mod:`xmpplab.transcript.rfc`)."""
        return rfc.to_rfc_text(self, **options)

    @classmethod
    def from_slixmpp_log(cls, text: str | os.PathLike, **options) -> Transcript:
        """Import a slixmpp debug log (``SEND:``/``RECV:``; see :mod:`xmpplab.transcript.slixmpp_log`)."""
        t = cls(recorded_by="slixmpp debug log", role="initiating")
        slixmpp_log.add_slixmpp_log(t, text, **options)
        return t

    @classmethod
    def from_stream_file(cls, source: str | os.PathLike) -> Transcript:
        """Read a client XML stream file (a path, or its text) into a one-connection transcript."""
        text = streamfile.source_text(source)
        recorded_by, role, _ = streamfile.read_title(text)
        t = cls(recorded_by=recorded_by, role=role)
        streamfile.add_stream_file(t, text)
        return t

    def to_stream_file(self, conn=None, side: str = "client", reveal_credentials: bool = False) -> str:
        """One endpoint's client XML stream file (see :mod:`xmpplab.transcript.streamfile`)."""
        return streamfile.to_stream_file(self, conn, side=side, reveal_credentials=reveal_credentials)

    # --- looking at it --------------------------------------------------------
    def summary(self) -> str:
        """A text table: one line per connection."""
        rows = [("conn", "kind", "client", "server", "jid", "tls", "sasl", "chunks", "C→S", "S→C", "items",
                 "problems", "opened", "duration")]
        for c in self.connections.values():
            opened = (datetime.datetime.fromtimestamp(c.opened, datetime.UTC).strftime("%H:%M:%S")
                      if c.opened is not None else "")
            duration = f"{c.duration:.3f}s" if c.duration is not None else ""
            rows.append((c.id, c.kind, c.client or "", c.server or "", c.jid or "", c.tls or "", c.mechanism or "",
                         str(c.chunk_count), _size(c.chars[Direction.C2S]), _size(c.chars[Direction.S2C]),
                         str(len(c)), str(c.problems_count), opened, duration))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        title = f"Transcript recorded by {self.recorded_by or 'unknown'}: {_count(len(self.connections), 'connection')}"
        tail = [f"note: {n}" for n in self.notes]
        return "\n".join([title, *lines, *tail])

    def describe(self) -> str:
        """Counts of the parsed view: ``12 C→S, 15 S→C; 2 stream-opens, 9 stanzas (...)``."""
        return describe(list(self.items()))

    def __repr__(self) -> str:
        chunks = sum(c.chunk_count for c in self.connections.values())
        chars = sum(sum(c.chars.values()) for c in self.connections.values())
        who = [c.jid for c in self.connections.values() if c.jid]
        shown = ", ".join(who[:3]) + (f" and {len(who) - 3} more" if len(who) > 3 else "")
        span = ""
        times = [c.opened for c in self.connections.values() if c.opened is not None]
        if times and min(times) > 86400 * 365:  # a real recording, not an import numbered 0, 1, 2...
            span = " from " + datetime.datetime.fromtimestamp(min(times), datetime.UTC).strftime(
                "%Y-%m-%d %H:%M:%S UTC")
        problems = sum(c.problems_count for c in self.connections.values() if c.live)
        return (f"<Transcript recorded by {self.recorded_by or 'unknown'}: "
                f"{_count(len(self.connections), 'connection')}"
                f"{' (' + shown + ')' if shown else ''}, {_count(chunks, 'chunk')}, {_size(chars)}{span}"
                f"{f', {problems} problems' if problems else ''}>")


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _size(chars: int) -> str:
    """Characters of text (not bytes: the recorder keeps decoded text)."""
    if chars < 1000:
        return f"{chars} chars"
    if chars < 1_000_000:
        return f"{chars / 1000:.1f}k chars"
    return f"{chars / 1_000_000:.1f}M chars"


def read_stream_file(source: str | os.PathLike) -> Transcript:
    """Read a stream file (a path, or its text) back into a one-connection transcript."""
    return Transcript.from_stream_file(source)


def iter_items(path: str | os.PathLike, on_error: str = "raise", **criteria) -> Iterator[Item]:
    """Yield the parsed view of a transcript file, item by item, in constant memory.

    Takes the criteria of :meth:`~xmpplab.transcript.Transcript.items`. Neither chunks
    nor items are kept, and a connection is forgotten when it closes. Answers
    (``answer_to``) need the whole transcript: :meth:`Transcript.load` it for those. A ``jid``
    criterion matches a connection's items from the moment its JID is known.
    """
    wanted = Criteria.make(**criteria)
    t = Transcript(jsonl.read_header(path), retain=False)
    for event in jsonl.iter_events(path, on_error=on_error, notes=t.notes):
        for item in t.add(event):
            if wanted.matches(item) and (wanted.jid is None or wanted.wants_connection(t.connections[item.conn])):
                yield item
        if event["type"] == "close":
            t.connections.pop(event["conn"], None)  # forget it: memory stays flat
