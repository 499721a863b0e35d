"""Recording hooks: every byte that crosses a stream, with a timestamp and a connection id.

A recorder is any callable taking one dict per event. The server calls it with::

    {"t": 1795507750.03, "conn": "c2s-1", "type": "open", "peer": "127.0.0.1:60322", "local": "127.0.0.1:5222",
     "kind": "c2s", "role": "receiving"}
    {"t": ..., "conn": "c2s-1", "type": "data", "dir": "in",  "data": "<stream:stream ..."}
    {"t": ..., "conn": "c2s-1", "type": "data", "dir": "out", "data": "<stream:features>..."}
    {"t": ..., "conn": "c2s-1", "type": "tls", "version": "TLSv1.3"}
    {"t": ..., "conn": "c2s-1", "type": "auth", "mechanism": "SCRAM-SHA-1", "user": "juliet@example.com"}
    {"t": ..., "conn": "c2s-1", "type": "bound", "jid": "juliet@example.com/balcony"}
    {"t": ..., "conn": "c2s-1", "type": "close"}

``dir`` is seen from the recording side, whose ``role`` in the stream the
``open`` event gives: the server is the ``receiving`` entity, so its ``in``
is client to server (C→S); a recording client is the ``initiating`` entity,
so its ``out`` is C→S. Data is the plaintext above TLS. :class:`JsonlRecorder` streams the
events to a file as JSON Lines (a header line first), never holding them in
memory; :class:`MemoryRecorder` keeps them in a list, as the notebooks do. Reading them back is the
transcript's job (:func:`xmpplab.transcript.iter_events`): recording sits below transcripts and imports none.
"""

from __future__ import annotations

import datetime
import json
import os

FORMAT = "xmpplab-transcript"
FORMAT_VERSION = 1
# One encoder for every event: json.dumps with a keyword builds a new JSONEncoder per call, a tenth of
# what recording costs the server (benchmarks/RESULTS.md, "Profile").
_encode = json.JSONEncoder(ensure_ascii=False).encode


def header(recorded_by: str, **extra) -> dict:
    """The first line of a recording: its format, version, who recorded it and when (UTC)."""
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    return {"format": FORMAT, "version": FORMAT_VERSION, "recorded_by": recorded_by, "started": now, **extra}


class MemoryRecorder:
    """Keep every event in ``self.events`` (a list of dicts)."""

    def __init__(self):
        self.events: list[dict] = []

    def __call__(self, event: dict) -> None:
        self.events.append(event)

    def __len__(self) -> int:
        return len(self.events)

    def __repr__(self) -> str:
        conns = {e["conn"] for e in self.events}
        return f"<MemoryRecorder {len(self.events)} events on {len(conns)} connections>"


class JsonlRecorder:
    """Append events to a JSON Lines file as they happen (``xmpplab serve --record FILE``).

    Lines are written through a small buffer and flushed at least every
    ``flush_every`` events and on :meth:`close`, so memory stays flat however
    long the server runs.
    """

    def __init__(self, path: str | os.PathLike, recorded_by: str = "xmpplab server", flush_every: int = 64,
                 **header_fields):
        self.path = os.fspath(path)
        self._file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - open until close(), which closes it
        self._file.write(json.dumps(header(recorded_by, **header_fields)) + "\n")
        self._file.flush()
        self._pending = 0
        self.flush_every = flush_every
        self.count = 0

    def __call__(self, event: dict) -> None:
        self._file.write(_encode(event) + "\n")
        self.count += 1
        self._pending += 1
        if self._pending >= self.flush_every or event.get("type") != "data":
            self._file.flush()
            self._pending = 0

    def close(self) -> None:
        """Flush and close the file (closing twice does nothing)."""
        if not self._file.closed:
            self._file.flush()
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"<JsonlRecorder {self.path}: {self.count} events>"

