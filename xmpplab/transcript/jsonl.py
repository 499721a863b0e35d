"""Transcripts as JSON Lines: the recorder's own format, read and written in constant memory.

The first line is a header, then one event per line, in the order they happened::

    {"format": "xmpplab-transcript", "version": 1, "recorded_by": "xmpplab server", "started": "2026-..."}
    {"t": 1795508835.50111, "conn": "c2s-1", "type": "open", "peer": "127.0.0.1:44344", "local": "127.0.0.1:43217", "kind": "c2s", "role": "receiving"}
    {"t": 1795508835.50125, "conn": "c2s-1", "type": "data", "dir": "in", "data": "<stream:stream to='example.com' ..."}
    {"t": 1795508835.50142, "conn": "c2s-1", "type": "data", "dir": "out", "data": "<?xml version='1.0'?><stream:stream ..."}
    {"t": 1795508835.50429, "conn": "c2s-1", "type": "tls", "version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384"}
    ...
    {"t": 1795508835.51513, "conn": "c2s-1", "type": "close", "clean": true}

A ``data`` line is one chunk: ``dir`` is ``in`` or ``out`` as seen from the
recording side, whose ``role`` the ``open`` line gives (``receiving`` for a
server: its ``in`` is C→S; ``initiating`` for a client: its ``out`` is
C→S). ``data`` is the text exactly as it crossed the wire above TLS; JSON
keeps it byte for byte and ``t`` (a float) to the last digit, so save and
load round-trip exactly. Files saved by :func:`save` are also a recording's
files: :class:`~xmpplab.recording.JsonlRecorder` writes the same format.

Decisions:

* One line per chunk, not per stanza: chunks are what crossed the wire, and
  the parsed view is derived from them, never stored.
* Version 1 readers ignore header fields and event fields they do not know
  and keep events of unknown types (a later recorder may add ``s2s`` events);
  a higher ``version`` is refused with a sentence saying so.
* :func:`save` masks SASL credentials unless ``reveal_credentials=True`` and
  says which in the header (``"credentials": "masked"`` or ``"clear"``).
* Imported transcripts mark their ``open`` events: ``"headerless": true``
  when the text starts inside an open stream (most RFC examples), and
  ``"labels": {"C→S": "UC", "S→C": "US"}`` for the RFC speaker labels.
* ``.gz`` files are read and written compressed.
* A line that is not a valid event raises :class:`TranscriptError` naming the
  file and the line; ``on_error="skip"`` skips it instead and notes why.
"""  # noqa: E501 - the example lines are records of the format (one a line): they cannot wrap

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Iterator

from ..recording import FORMAT, FORMAT_VERSION
from .model import TranscriptError, check_event


def _open(path, mode: str, compressed: bool | None = None):
    path = os.fspath(path)
    if compressed or compressed is None and path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, mode + "b"), encoding="utf-8", newline="\n")
    return open(path, mode, encoding="utf-8", newline="\n")


def _check_header(head, path) -> dict:
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise TranscriptError(f"{path}, line 1: not an {FORMAT} file (the first line must be its header, "
                              f'{{"format": "{FORMAT}", "version": {FORMAT_VERSION}, ...}})')
    version = head.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise TranscriptError(f"{path}, line 1: the header has no format version (an integer)")
    if version > FORMAT_VERSION:
        raise TranscriptError(f"{path} is an {FORMAT} file of version {version}, written by a newer xmpplab; "
                              f"this one reads version {FORMAT_VERSION}: upgrade xmpplab to load it")
    return head


def read_header(path: str | os.PathLike) -> dict:
    """The header line of a transcript file, checked."""
    with _open(path, "r") as f:
        first = f.readline()
    try:
        head = json.loads(first)
    except json.JSONDecodeError:
        head = None
    if not first.strip():
        raise TranscriptError(f"{path}, line 1: the file is empty, expected an {FORMAT} header")
    return _check_header(head, path)


def iter_events(path: str | os.PathLike, on_error: str = "raise", notes: list | None = None) -> Iterator[dict]:
    """Yield the events of a transcript file one at a time, holding one line in memory.

    A malformed line raises :class:`TranscriptError` naming the file and line; with
    ``on_error="skip"`` it is skipped and a sentence is appended to ``notes``.
    """
    if on_error not in ("raise", "skip"):
        raise TranscriptError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    read_header(path)
    with _open(path, "r") as f:
        f.readline()
        lineno = 1
        for lineno, line in enumerate(f, start=2):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
                check_event(event)
            except (json.JSONDecodeError, TranscriptError) as exc:
                reason = f"{exc.msg} (column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else str(exc)
                if not line.endswith("\n"):
                    reason += "; the file ends in the middle of this line (was the recording interrupted?)"
                message = f"{path}, line {lineno}: {reason}"
                if on_error == "raise":
                    hint = "; load it with on_error='skip' to keep the rest" if not line.endswith("\n") else ""
                    raise TranscriptError(message + hint) from None
                if notes is not None:
                    notes.append(f"skipped {message}")
                continue
            yield event


def read_into(transcript, path: str | os.PathLike, on_error: str = "raise") -> None:
    """Add the events of a transcript file to ``transcript`` (made with the file's :func:`read_header`)."""
    for event in iter_events(path, on_error=on_error, notes=transcript.notes):
        try:
            transcript.add(event)
        except TranscriptError as exc:  # pragma: no cover - check_event catches these first
            raise TranscriptError(f"{path}: {exc}") from None


def save(transcript, path: str | os.PathLike, reveal_credentials: bool = False) -> None:
    """Write a transcript as JSON Lines (the header first); credentials masked unless asked for."""
    header = {k: v for k, v in transcript.header.items() if k not in ("format", "version", "credentials")}
    header = {"format": FORMAT, "version": FORMAT_VERSION, **header,
              "credentials": "clear" if reveal_credentials else "masked"}
    tmp = os.fspath(path) + ".tmp"
    with _open(tmp, "w", compressed=os.fspath(path).endswith(".gz")) as f:
        f.write(json.dumps(header, ensure_ascii=False) + "\n")
        for event in transcript.events(reveal_credentials=reveal_credentials):
            f.write(json.dumps(event, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
