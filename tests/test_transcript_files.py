"""Transcripts on disk: JSON Lines round trips, bad lines, bad XML, and streaming in constant memory."""

import json
import shutil
import tracemalloc
from pathlib import Path

import pytest

from xmpplab.transcript import MASK, Transcript, TranscriptError, iter_events, iter_items, read_header

SAMPLES = Path(__file__).resolve().parent.parent / "sample_streams"
JULIET = SAMPLES / "juliet-login-starttls-scram.jsonl"
ROMEO = SAMPLES / "romeo-login-plain-raw.jsonl"


def lines_of(path):
    return Path(path).read_text(encoding="utf-8").splitlines()


def write_lines(path, lines):
    Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def chunk_tuples(t):
    return [(c.conn, c.t, c.direction, c.data) for c in t.chunks()]


def test_save_and_load_round_trip_losslessly(tmp_path):
    original = Transcript.load(JULIET)
    original.save(tmp_path / "copy.jsonl", reveal_credentials=True)
    copy = Transcript.load(tmp_path / "copy.jsonl")
    assert chunk_tuples(copy) == chunk_tuples(original)  # byte-identical data, the very same floats
    assert list(copy.events(reveal_credentials=True)) == list(original.events(reveal_credentials=True))
    source_events = [json.loads(line) for line in lines_of(JULIET)[1:]]
    assert list(copy.events(reveal_credentials=True)) == source_events
    assert [i.text for i in copy] == [i.text for i in original]
    assert read_header(tmp_path / "copy.jsonl")["credentials"] == "clear"


def test_saving_masks_credentials_unless_asked(tmp_path):
    Transcript.load(ROMEO).save(tmp_path / "masked.jsonl")
    text = (tmp_path / "masked.jsonl").read_text()
    assert "AHJvbWVvAHNlY3JldA==" not in text and f"mechanism='PLAIN'>{MASK}</auth>" in text
    assert read_header(tmp_path / "masked.jsonl")["credentials"] == "masked"
    again = Transcript.load(tmp_path / "masked.jsonl")
    assert [i.text for i in again] == [i.text for i in Transcript.load(ROMEO)]  # only the payload differs


def test_compressed_files_round_trip(tmp_path):
    Transcript.load(JULIET).save(tmp_path / "t.jsonl.gz", reveal_credentials=True)
    assert (tmp_path / "t.jsonl.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert chunk_tuples(Transcript.load(tmp_path / "t.jsonl.gz")) == chunk_tuples(Transcript.load(JULIET))


def test_a_malformed_line_names_the_file_and_line(tmp_path):
    lines = lines_of(ROMEO)
    lines[6] = lines[6][:-10]  # cut the JSON short
    path = write_lines(tmp_path / "bad.jsonl", lines)
    with pytest.raises(TranscriptError, match=r"bad\.jsonl, line 7: .*column"):
        Transcript.load(path)
    lines = lines_of(ROMEO)
    lines[3] = json.dumps({"t": 1.0, "conn": "c2s-2", "type": "data", "dir": "sideways", "data": "<a/>"})
    with pytest.raises(TranscriptError, match=r"line 4: a data event needs 'dir': 'in' or 'out', not 'sideways'"):
        Transcript.load(write_lines(tmp_path / "bad2.jsonl", lines))
    lines[3] = "[1, 2]"
    with pytest.raises(TranscriptError, match=r"line 4: an event is a JSON object, not list"):
        Transcript.load(write_lines(tmp_path / "bad3.jsonl", lines))
    lines[3] = json.dumps({"conn": "c2s-2", "type": "close"})
    with pytest.raises(TranscriptError, match=r"line 4: the event has no 't' \(unix time, a number\)"):
        Transcript.load(write_lines(tmp_path / "bad4.jsonl", lines))


def test_an_interrupted_recording_says_so_and_can_be_loaded_anyway(tmp_path):
    text = ROMEO.read_text()
    path = tmp_path / "cut.jsonl"
    path.write_text(text[:-25])  # the recorder died in the middle of the last line
    with pytest.raises(TranscriptError, match="line 23: .*ends in the middle of this line .* on_error='skip'"):
        Transcript.load(path)
    t = Transcript.load(path, on_error="skip")
    [note] = t.notes
    assert note.startswith(f"skipped {path}, line 23: ") and note.endswith(
        "; the file ends in the middle of this line (was the recording interrupted?)")
    assert t["c2s-2"].closed is None and len(list(t.stanzas())) == 8


def test_versions_and_headers_are_checked(tmp_path):
    lines = lines_of(ROMEO)
    lines[0] = json.dumps({"format": "xmpplab-transcript", "version": 2, "recorded_by": "the future"})
    with pytest.raises(TranscriptError, match=r"version 2, written by a newer xmpplab; this one reads version 1: "
                                              r"upgrade xmpplab to load it"):
        Transcript.load(write_lines(tmp_path / "v2.jsonl", lines))
    with pytest.raises(TranscriptError, match=r"other\.jsonl, line 1: not an xmpplab-transcript file"):
        Transcript.load(write_lines(tmp_path / "other.jsonl", ['{"hello": "world"}']))
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(TranscriptError, match="line 1: the file is empty"):
        Transcript.load(tmp_path / "empty.jsonl")


def test_unknown_event_types_and_fields_are_kept(tmp_path):
    lines = lines_of(ROMEO)
    future = {"t": 1.5, "conn": "c2s-2", "type": "sm-enabled", "resume": True}
    lines.insert(5, json.dumps(future))
    data = json.loads(lines[3])
    data["tcp_segment"] = 3
    lines[3] = json.dumps(data)
    t = Transcript.load(write_lines(tmp_path / "future.jsonl", lines))
    assert t.unknown_events == 1 and len(list(t.stanzas())) == 8
    t.save(tmp_path / "again.jsonl", reveal_credentials=True)
    assert [json.loads(x) for x in lines_of(tmp_path / "again.jsonl")[1:]] == [json.loads(x) for x in lines[1:]]


def test_a_truncated_chunk_is_flagged_and_the_rest_still_loads(tmp_path):
    lines = lines_of(ROMEO)
    n = next(i for i, line in enumerate(lines) if '"data": "<presence/>"' in line)
    event = json.loads(lines[n])
    event["data"] = "<presence"  # lost its end; the ping iq that follows lands inside its start tag
    lines[n] = json.dumps(event)
    t = Transcript.load(write_lines(tmp_path / "truncated.jsonl", lines))
    [problem] = t.problems()
    assert problem.direction == "C→S" and problem.condition == "not-well-formed"
    assert problem.text == "<presence<iq type='get' id='ping1' to='example.net'><ping xmlns='urn:xmpp:ping'/></iq>"
    chunks = t["c2s-2"].chunks
    first, last = problem.chunks
    assert (chunks[first].data, chunks[last].data[:4]) == ("<presence", "<iq ")
    # The view resumes at the next chunk: the message and the stream close are still there.
    after = [(i.direction, i.kind.value, i.name) for i in t.items(since=problem.t)]
    assert after[1:] == [("S→C", "stanza", "iq"), ("C→S", "stanza", "message"), ("S→C", "stanza", "message"),
                         ("C→S", "stream-close", "stream"), ("S→C", "stream-close", "stream")]
    assert len(t["c2s-2"].chunks) == 18  # every chunk is kept, as it was


def test_a_connection_closed_mid_element_is_flagged_as_truncated():
    t = Transcript.from_events([
        {"t": 1.0, "conn": "c2s-1", "type": "open", "kind": "c2s", "role": "receiving"},
        {"t": 1.1, "conn": "c2s-1", "type": "data", "dir": "in",
         "data": "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"},
        {"t": 1.2, "conn": "c2s-1", "type": "data", "dir": "in", "data": "<message><body>Good ni"},
        {"t": 1.3, "conn": "c2s-1", "type": "close", "clean": False},
    ])
    [problem] = t.problems()
    assert problem.text == "<message><body>Good ni" and "truncated" in problem.problem and problem.t == 1.3


def test_non_xml_such_as_a_tls_client_hello_is_flagged_not_fatal():
    hello = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\ufffd\ufffd"  # as the recorder decodes it
    t = Transcript.from_events([
        {"t": 1.0, "conn": "c2s-1", "type": "open", "kind": "c2s", "role": "receiving"},
        {"t": 1.1, "conn": "c2s-1", "type": "data", "dir": "in", "data": hello},
        {"t": 1.2, "conn": "c2s-1", "type": "data", "dir": "out", "data":
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><stream:error>"
            "<not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"},
        {"t": 1.3, "conn": "c2s-1", "type": "close"},
    ])
    assert [(i.direction, i.kind.value) for i in t] == [
        ("C→S", "non-xml"), ("S→C", "stream-open"), ("S→C", "stream-error"), ("S→C", "stream-close")]
    assert t.first(kind="non-xml").text == hello
    assert t.first(kind="stream-error").stream_error == "not-well-formed"


def test_iter_events_streams_a_big_file_in_constant_memory(tmp_path):
    path, size = big_transcript(tmp_path / "big.jsonl", megabytes=30)
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_events(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size > 30_000_000 and count > 30_000
    assert peak < 1_000_000, f"iterating {size / 1e6:.0f} MB took {peak / 1e6:.1f} MB"


def test_iter_items_parses_a_file_in_constant_memory(tmp_path):
    path, size = big_transcript(tmp_path / "big.jsonl", megabytes=4)
    tracemalloc.start()
    try:
        messages = sum(1 for _ in iter_items(path, kind="message", direction="C→S"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert messages > 2000
    assert peak < 1_000_000, f"parsing {size / 1e6:.0f} MB took {peak / 1e6:.1f} MB"


def test_iter_items_gives_the_same_view_as_load(tmp_path):
    shutil.copy(JULIET, tmp_path / "j.jsonl")
    streamed = [(i.conn, i.direction, i.kind, i.text, i.t) for i in iter_items(tmp_path / "j.jsonl")]
    loaded = [(i.conn, i.direction, i.kind, i.text, i.t) for i in Transcript.load(JULIET)]
    assert streamed == loaded
    assert [i.name for i in iter_items(JULIET, jid="juliet@example.com", kind="stanza")] == \
        ["iq", "presence", "iq", "presence", "iq", "message", "message"]  # from the moment the JID is bound


def big_transcript(path: Path, megabytes: float) -> tuple[Path, int]:
    """A long chat: juliet and romeo exchange messages of 800 characters on one connection."""
    head = {"format": "xmpplab-transcript", "version": 1, "recorded_by": "test"}
    stream = "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'"
    events = [{"t": 1.0, "conn": "c2s-1", "type": "open", "kind": "c2s", "role": "receiving"},
              {"t": 1.0, "conn": "c2s-1", "type": "data", "dir": "in", "data": f"<stream:stream {stream}>"},
              {"t": 1.0, "conn": "c2s-1", "type": "data", "dir": "out", "data": f"<stream:stream {stream}>"}]
    body = "O Romeo, Romeo! " * 50
    size = 0
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(obj) + "\n" for obj in (head, *events))
        n = 0
        while size < megabytes * 1_000_000:
            line = json.dumps({"t": 2.0 + n / 1000, "conn": "c2s-1", "type": "data", "dir": "in" if n % 2 else "out",
                               "data": f"<message to='romeo@example.net' id='m{n}'><body>{body}</body></message>"})
            f.write(line + "\n")
            size += len(line) + 1
            n += 1
    return path, size
