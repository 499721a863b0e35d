"""One connection of a transcript: its endpoints, its raw chunks, and its parsed view.

A c2s connection recorded by the lab server looks like::

    <Connection c2s-1 c2s 127.0.0.1:44344 → 127.0.0.1:43217 juliet@example.com/balcony
     TLSv1.3 SCRAM-SHA-256: 27 chunks (14 C→S, 13 S→C), closed>

``client`` is the initiating entity's address and ``server`` the receiving
entity's, whichever side recorded them (``role`` says which: ``receiving``
when the server recorded, ``initiating`` when the client did).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from . import mask
from .model import Chunk, Direction, Item
from .query import Criteria, Query
from .view import ConnectionView

DEFAULT_LABELS = {"c2s": {Direction.C2S: "C", Direction.S2C: "S"},
                  "s2s": {Direction.C2S: "I", Direction.S2C: "R"}}


class Connection(Query):
    """A connection: metadata from the recorder's events, chunks of text, and items parsed from them."""

    def __init__(self, id: str, *, kind: str = "c2s", role: str = "receiving", client: str | None = None,
                 server: str | None = None, opened: float | None = None, headerless: bool = False,
                 labels: dict | None = None, extra: dict | None = None, transcript=None, retain: bool = True):
        self.id = id
        self.kind = kind
        self.role = role
        self.client = client
        self.server = server
        self.opened = opened
        self.closed: float | None = None
        self.clean: bool | None = None
        self.jid: str | None = None
        self.resumed_from: str | None = None  # the connection whose session this one resumed (XEP-0198 §5)
        self.tls: str | None = None
        self.cipher: str | None = None
        self.mechanism: str | None = None
        self.user: str | None = None
        self.headerless = headerless  # the recording starts inside an open stream (RFC examples)
        self.labels = {Direction.parse(k): v for k, v in (labels or {}).items()}
        self.extra = extra or {}
        self.transcript = transcript
        self.retain = retain  # False when streaming: chunks and items are not kept
        self.chunks: list[Chunk] = []
        self.chunk_count = 0
        self.chars = {d: 0 for d in Direction}
        self._view: ConnectionView | None = None
        self._items: list[Item] = []
        self._close_at: tuple | None = None  # (t, seq) of the close event

    # --- building -----------------------------------------------------------
    def add_data(self, t: float, direction: Direction, data: str, seq: int = 0, extra: dict | None = None
                 ) -> tuple[Chunk, list[Item]]:
        """Append a chunk; returns it and the items it completed (when the parsed view is live)."""
        chunk = Chunk(t, self.id, direction, data, seq, self.chars[direction], extra)
        self.chars[direction] += len(data)
        index = self.chunk_count
        self.chunk_count += 1
        if self.retain:
            self.chunks.append(chunk)
        if self.opened is None:
            self.opened = t
        if self._view is None and self.retain:
            return chunk, []
        items = self._ensure_view().feed(chunk, index)
        if self.retain:
            self._items.extend(items)
        return chunk, items

    def close(self, t: float, seq: int = 0, clean: bool | None = None) -> list[Item]:
        """The connection closed: flag anything left unfinished."""
        self.closed = t
        self.clean = clean
        self._close_at = (t, seq)
        if self._view is None and self.retain:
            return []
        items = self._ensure_view().finish(max(self.chunk_count - 1, 0), t, seq)
        if self.retain:
            self._items.extend(items)
        return items

    def _ensure_view(self) -> ConnectionView:
        if self._view is None:
            self._view = ConnectionView(self)
            for index, chunk in enumerate(self.chunks):
                self._items.extend(self._view.feed(chunk, index))
            if self._close_at is not None:
                self._items.extend(self._view.finish(max(self.chunk_count - 1, 0), *self._close_at))
        return self._view

    @property
    def live(self) -> bool:
        """Is the parsed view built (and so kept up to date as chunks arrive)?"""
        return self._view is not None

    # --- the parsed view ----------------------------------------------------
    @property
    def parsed(self) -> list[Item]:
        """All items of the parsed view (built on first use, then kept up to date)."""
        self._ensure_view()
        return self._items

    def _iter_items(self, criteria: Criteria) -> Iterator[Item]:
        if not criteria.wants_connection(self):
            return iter(())
        return (i for i in self.parsed if criteria.matches(i))

    def _scope(self):
        return self.transcript if self.transcript is not None else self

    def __len__(self) -> int:
        return len(self.parsed)

    # --- text -----------------------------------------------------------------
    def chunk_text(self, chunk: Chunk, reveal_credentials: bool = False) -> str:
        """The data of one chunk of this connection, credentials masked unless asked for."""
        if reveal_credentials:
            return chunk.data
        edits = self._ensure_view().edits[chunk.direction]
        end = chunk.offset + len(chunk.data)
        mine = [e for e in edits if e[0] < end and e[1] > chunk.offset]
        text = mask.apply_edits(chunk.data, mine, chunk.offset) if mine else chunk.data
        if "sasl" in text:  # belt and braces: a SASL element the parsed view could not place
            text = mask.mask_text(text)
        return text

    def text(self, direction, reveal_credentials: bool = False) -> str:
        """Everything sent in one direction, as one string."""
        direction = Direction.parse(direction)
        return "".join(self.chunk_text(c, reveal_credentials) for c in self.chunks if c.direction is direction)

    def label(self, direction) -> str:
        """The speaker's label in RFC example notation (``C``/``S``, ``I``/``R``, ``UC``/``US``...)."""
        direction = Direction.parse(direction)
        return self.labels.get(direction) or DEFAULT_LABELS.get(self.kind, DEFAULT_LABELS["c2s"])[direction]

    @property
    def transport(self) -> str:
        """``tcp``, or ``websocket`` for XMPP over WebSocket (RFC 7395): the recorder's ``transport`` field."""
        return self.extra.get("transport", "tcp")

    @property
    def duration(self) -> float | None:
        """Seconds from opening to closing (or to the last chunk when still open), None if never opened."""
        if self.opened is None:
            return None
        end = self.closed if self.closed is not None else (self.chunks[-1].t if self.chunks else self.opened)
        return end - self.opened

    @property
    def problems_count(self) -> int:
        """How many items of the connection are problems (text the parser refused, or no XML at all)."""
        return sum(1 for i in self.parsed if i.is_problem)

    def __repr__(self) -> str:
        ends = f"{self.client or '?'} → {self.server or '?'}"
        facts = [f for f in (self.jid, self.tls, self.mechanism) if f]
        counts = {d: sum(1 for c in self.chunks if c.direction is d) for d in Direction}
        state = "closed" if self.closed is not None else "open"
        started = ""
        if self.opened and self.opened > 86400 * 365:  # a recording, not an import numbered 0, 1, 2...
            started = " at " + datetime.datetime.fromtimestamp(self.opened, datetime.UTC).strftime(
                "%Y-%m-%d %H:%M:%S UTC")
        kind = self.kind if self.transport == "tcp" else f"{self.kind} over {self.transport}"
        return (f"<Connection {self.id} {kind} {ends}{' ' if facts else ''}{' '.join(facts)}: "
                f"{self.chunk_count} chunk{'' if self.chunk_count == 1 else 's'} "
                f"({counts[Direction.C2S]} C→S, {counts[Direction.S2C]} S→C), "
                f"{state}{started}>")
