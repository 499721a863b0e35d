"""Transcript files in the formats xmpplab reads and writes, chosen by the file's extension.

=============  ========================================================  =====  ======
extension      format                                                    read   write
=============  ========================================================  =====  ======
``.jsonl``     xmpplab's recording (JSON Lines; ``.jsonl.gz`` too)       yes    yes
``.txt``       RFC example notation (``C:`` / ``S:`` blocks)             yes    yes
``.log``       a slixmpp debug log (``SEND:`` / ``RECV:``)               yes    no
``.xml``       the client XML stream file of one connection              yes    yes
``.scs``       a scansion conversation script (:mod:`xmpplab.scansion`)  no     yes
=============  ========================================================  =====  ======

>>> convert("sample_streams/juliet-login-starttls-scram.jsonl", "/tmp/juliet.txt")  # doctest: +SKIP
'RFC example text, 25 blocks (credentials masked)'
"""

from __future__ import annotations

import os
from pathlib import Path

from ..transcript import Transcript, TranscriptError

READS = {".jsonl": "an xmpplab recording", ".jsonl.gz": "an xmpplab recording", ".txt": "RFC example text",
         ".log": "a slixmpp debug log", ".xml": "a client XML stream file"}
LAB_PASSWORD = "secret"  # xmpplab.lab.DEFAULT_PASSWORD, without importing slixmpp for it
WRITES = {".jsonl": "an xmpplab recording", ".jsonl.gz": "an xmpplab recording", ".txt": "RFC example text",
          ".xml": "a client XML stream file", ".scs": "a scansion script"}


def extension(path) -> str:
    """The file's extension in lower case, ``.jsonl.gz`` counted as one."""
    name = os.fspath(path).lower()
    return ".jsonl.gz" if name.endswith(".jsonl.gz") else Path(name).suffix


def load_transcript(path) -> Transcript:
    """Read a transcript from a file of any format xmpplab reads (see the module docstring)."""
    ext = extension(path)
    if ext not in READS:
        raise TranscriptError(f"cannot read {os.fspath(path)}: xmpplab reads {_list(READS)}, "
                              f"and knows them by their extension")
    if not os.path.isfile(path):
        raise TranscriptError(f"there is no file {os.fspath(path)}")
    if ext in (".jsonl", ".jsonl.gz"):
        return Transcript.load(path)
    if ext == ".txt":
        return Transcript.from_rfc_text(Path(path).read_text(encoding="utf-8"))
    if ext == ".log":
        return Transcript.from_slixmpp_log(Path(path))
    return Transcript.from_stream_file(Path(path))


def convert(source, destination, *, conn=None, side: str = "client", reveal_credentials: bool = False) -> str:
    """Write ``source`` (a path or a Transcript) to ``destination`` in the format its extension names.

    ``conn`` narrows RFC text and stream files to one connection (a stream file needs one
    when the transcript has several), ``side`` says whose stream file it is. Credentials
    are masked unless ``reveal_credentials``. Returns a sentence saying what was written.
    """
    ext = extension(destination)
    if ext not in WRITES:
        hint = " (slixmpp logs are read, not written)" if ext == ".log" else ""
        raise TranscriptError(f"cannot write {os.fspath(destination)}: xmpplab writes {_list(WRITES)}{hint}")
    transcript = source if isinstance(source, Transcript) else load_transcript(source)
    if conn is not None and conn not in transcript.connections:
        raise TranscriptError(f"there is no connection {conn!r}; there are: {', '.join(transcript.connections)}")
    secrets = "credentials in the clear" if reveal_credentials else "credentials masked"
    if ext in (".jsonl", ".jsonl.gz"):
        if conn is not None:
            kept = Transcript(dict(transcript.header))
            kept.extend(e for e in transcript.events(reveal_credentials=True) if e["conn"] == conn)
            transcript = kept
        transcript.save(destination, reveal_credentials=reveal_credentials)
        n = len(transcript.connections)
        return f"{WRITES[ext]}, {n} connection{'' if n == 1 else 's'} ({secrets})"
    if ext == ".txt":
        text = transcript.to_rfc_text(conn=conn, reveal_credentials=reveal_credentials)
        _write(destination, text)
        return f"RFC example text, {text.count(chr(10) + chr(10)) + 1 if text else 0} blocks ({secrets})"
    if ext == ".xml":
        text = transcript.to_stream_file(conn, side=side, reveal_credentials=reveal_credentials)
        _write(destination, text)
        return f"the {side}'s XML stream file of {conn or next(iter(transcript.connections))} ({secrets})"
    return _write_scansion(transcript, destination)


def _write_scansion(transcript: Transcript, destination) -> str:
    try:
        from ..scansion import script_from_recording
        script = script_from_recording(transcript, password=LAB_PASSWORD)
    except (ImportError, NotImplementedError):
        raise TranscriptError("this xmpplab cannot write scansion scripts yet (xmpplab.scansion has no "
                              "converter)") from None
    text = script.to_text()
    _write(destination, text)
    characters = len(getattr(script, "characters", {}) or {})
    return (f"a scansion script with {characters} character{'' if characters == 1 else 's'}; "
            "recordings hold no passwords, so each "
            f"character has the lab's password {LAB_PASSWORD!r}: edit the [Client] blocks for another server")


def _write(path, text: str) -> None:
    tmp = os.fspath(path) + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)


def _list(formats: dict) -> str:
    names = [f"{ext} ({what})" for ext, what in formats.items() if ext != ".jsonl.gz"]
    return ", ".join(names[:-1]) + " and " + names[-1]
