"""Other formats: RFC example text in and out, the client XML stream file, slixmpp debug logs."""

import base64
import re
from pathlib import Path

import pytest

from xmpplab.transcript import MASK, Direction, Transcript, TranscriptError, read_stream_file
from xmpplab.transcript.streamfile import write_stream_files

ROOT = Path(__file__).resolve().parent.parent
RFC_C2S = (ROOT / "sample_streams" / "rfc" / "c2s-negotiation.txt").read_text()
RFC_SUB = (ROOT / "sample_streams" / "rfc" / "subscription.txt").read_text()
JULIET = ROOT / "sample_streams" / "juliet-login-starttls-scram.jsonl"
SLIX_LOG = ROOT / "tests" / "data" / "slixmpp-juliet-starttls-scram.log"
C2S, S2C = Direction.C2S, Direction.S2C


def shape(items):
    return [(i.direction, i.kind.value, i.name) for i in items]


# --- RFC example text -----------------------------------------------------------------------------

def test_rfc_client_to_server_example_is_parsed_like_a_recording():
    t = Transcript.from_rfc_text(RFC_C2S)
    assert list(t.connections) == ["c2s-1"]
    assert [i.name for i in t.items(kind="nonza")] == [
        "features", "starttls", "proceed", "features", "auth", "challenge", "response", "success", "features"]
    assert len(list(t.items(kind="stream-open"))) == 6 and t.problems() == []
    assert t["c2s-1"].jid == "juliet@example.com/balcony" and t["c2s-1"].mechanism == "SCRAM-SHA-1"
    roster = t.first(kind="iq", type="get")
    assert t.answer_to(roster).payload[0].get("jid") == "romeo@example.net"
    assert [i.t for i in t.items(kind="stream-open")][:2] == [0.0, 1.0]  # block numbers stand for times


def test_rfc_blocks_keep_their_layout_dedented():
    t = Transcript.from_rfc_text(RFC_C2S)
    features = t.first(kind="nonza", name="features")
    assert features.text == ("<stream:features>\n"
                             "  <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\n"
                             "  <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\n"
                             "    <mechanism>SCRAM-SHA-1</mechanism>\n"
                             "  </mechanisms>\n"
                             "</stream:features>")


def test_rfc_alternative_steps_are_skipped_unless_kept():
    t = Transcript.from_rfc_text(RFC_C2S)
    assert t.notes and t.notes[0].startswith("skipped an alternative (Step 5 (alt): Server refuses TLS")
    kept = Transcript.from_rfc_text(RFC_C2S, alternatives="keep")
    [problem] = kept.problems()  # <failure/> cannot follow <proceed/> on one stream
    assert problem.text.startswith("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")


def test_rfc_scram_payloads_are_masked_and_still_decode():
    t = Transcript.from_rfc_text(RFC_C2S)
    response = t.first(name="response")
    assert base64.b64decode(response.element.text.strip()) == \
        f"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p={MASK}".encode()
    assert base64.b64decode("".join(response.reveal().element.text.split())).endswith(
        b",p=6Qk+k8kpgE9GhGJotWBsbzP8Huo=")
    assert "6Qk+k8kpgE9GhGJotWBsbzP8Huo" not in t.to_rfc_text()


def test_rfc_text_round_trips():
    t = Transcript.from_rfc_text(RFC_C2S)
    by_chunk = t.to_rfc_text(by="chunk", reveal_credentials=True)
    again = Transcript.from_rfc_text(by_chunk)
    assert [(c.direction, c.data) for c in again.chunks()] == [(c.direction, c.data) for c in t.chunks()]
    by_item = Transcript.from_rfc_text(t.to_rfc_text(reveal_credentials=True))
    assert [(i.direction, i.reveal().text) for i in by_item] == [(i.direction, i.reveal().text) for i in t]
    assert by_chunk.startswith("   C: <stream:stream\n        from='juliet@example.com'\n        to='example.com'")


def test_rfc6121_example_makes_two_client_connections_and_two_s2s_connections():
    t = Transcript.from_rfc_text(RFC_SUB)
    assert {c.id: (c.kind, c.label(C2S), c.label(S2C)) for c in t.connections.values()} == {
        "c2s-user": ("c2s", "UC", "US"), "s2s-user": ("s2s", "US", "CS"),
        "c2s-contact": ("c2s", "CC", "CS"), "s2s-contact": ("s2s", "CS", "US")}
    assert all(c.headerless for c in t.connections.values())
    assert t.problems() == []
    s2s = list(t.stanzas(conn="s2s-user"))
    assert [(i.type, i.from_, i.to) for i in s2s] == [("subscribe", "romeo@example.net", "juliet@example.com")]
    assert s2s[0].ns == "jabber:server"  # server-to-server streams default to jabber:server
    request = t.first(conn="c2s-user", kind="presence", type="subscribe")
    assert [i.conn for i in t.route(request)] == ["c2s-user", "s2s-user", "c2s-contact"]
    assert [(i.direction, i.type) for i in t.stanzas(conn="c2s-contact")] == \
        [(S2C, "subscribe"), (C2S, "subscribed"), (S2C, "set")]


def test_rfc6121_text_round_trips_with_its_labels():
    t = Transcript.from_rfc_text(RFC_SUB)
    text = t.to_rfc_text()
    assert "(connection" not in text  # the labels say it all
    assert re.findall(r"^   (\w\w): ", text, re.MULTILINE) == ["UC", "US", "UC", "US", "CS", "CC", "CS", "CS",
                                                        "US", "US", "CS", "US"]
    again = Transcript.from_rfc_text(text)
    assert [(i.conn, i.direction, i.text) for i in again] == [(i.conn, i.direction, i.text) for i in t]


def test_rfc_export_of_several_recorded_clients_names_the_connections():
    events = []
    for n, jid in ((1, "juliet@example.com/balcony"), (2, "romeo@example.net/orchard")):
        events += [{"t": n, "conn": f"c2s-{n}", "type": "open", "kind": "c2s", "role": "receiving"},
                   {"t": n, "conn": f"c2s-{n}", "type": "bound", "jid": jid},
                   {"t": n, "conn": f"c2s-{n}", "type": "data", "dir": "in", "data": "<stream:stream xmlns="
                    "'jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"}]
    text = Transcript.from_events(events).to_rfc_text()
    assert "   (connection c2s-1: juliet@example.com/balcony)\n" in text
    assert "   (connection c2s-2: romeo@example.net/orchard)\n" in text


def test_rfc_import_refuses_text_without_examples():
    with pytest.raises(TranscriptError, match="no example lines found"):
        Transcript.from_rfc_text("Just prose.\n   And more prose: <b>bold</b>\n")


# --- the client XML stream file ---------------------------------------------------------------------

def test_stream_file_interleaves_both_directions_as_the_client_saw_them():
    t = Transcript.load(JULIET)
    text = t.to_stream_file()
    lines = text.splitlines()
    assert lines[0] == "<!-- xmpplab client XML stream file, version 1: client side of c2s-1 -->"
    assert re.fullmatch(r"<!-- client 127\.0\.0\.1:\d+ juliet@example\.com/balcony; server 127\.0\.0\.1:\d+ -->",
                        lines[1])
    markers = [ln.split()[1] for ln in lines if ln.startswith("<!-- sent") or ln.startswith("<!-- received")]
    assert markers[:4] == ["sent", "received", "received", "sent"]  # header, header, features, starttls
    assert len(markers) == 24
    assert lines[3].startswith("<stream:stream to='example.com'")
    server_side = t.to_stream_file(side="server").splitlines()
    assert server_side[0].endswith("server side of c2s-1 -->") and server_side[2].startswith("<!-- received ")


def test_stream_file_round_trips_exactly(tmp_path):
    t = Transcript.load(JULIET)
    back = read_stream_file(t.to_stream_file(reveal_credentials=True))
    assert [(c.t, c.direction, c.data) for c in back.chunks()] == [(c.t, c.direction, c.data) for c in t.chunks()]
    assert back["c2s-1"].role == "initiating"  # what the client would have recorded
    paths = write_stream_files(t, tmp_path, side="both")
    assert [p.name for p in paths] == ["c2s-1-client.xml", "c2s-1-server.xml"]
    from_file = read_stream_file(paths[1])
    assert [(c.direction, c.data) for c in from_file.chunks()] == \
        [(c.direction, t["c2s-1"].chunk_text(c)) for c in t.chunks()]  # masked, as written


def test_stream_file_needs_a_connection_when_there_are_several():
    t = Transcript.from_rfc_text(RFC_SUB)
    with pytest.raises(TranscriptError, match="has 4 connections: say which one"):
        t.to_stream_file()
    assert "UC" not in t.to_stream_file(conn="c2s-user")


# --- slixmpp debug logs ---------------------------------------------------------------------------

def test_slixmpp_log_gives_the_same_parsed_view_as_the_servers_recording():
    """The log and the sample recording are the same session, seen from both ends."""
    log = Transcript.from_slixmpp_log(SLIX_LOG)
    server = Transcript.load(JULIET)
    assert shape(log) == shape(server)
    assert log.problems() == []
    conn = log["c2s-1"]
    assert (conn.role, conn.jid, conn.tls, conn.mechanism) == \
        ("initiating", "juliet@example.com/balcony", "TLS", "SCRAM-SHA-256")
    # What slixmpp sent is logged exactly: the same characters the server read.
    assert conn.text(C2S, reveal_credentials=True) == server["c2s-1"].text(C2S, reveal_credentials=True)
    # What it received is its own re-serialisation: same elements, other spelling.
    assert [(i.name, i.type, i.id) for i in log.items(direction=S2C)] == \
        [(i.name, i.type, i.id) for i in server.items(direction=S2C)]
    assert log.first(direction=S2C, name="proceed").text == '<proceed xmlns="urn:ietf:params:xml:ns:xmpp-tls" />'
    assert server.first(direction=S2C, name="proceed").text == "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    assert any("re-serialisation" in n for n in log.notes) and any("repaired 6 RECV lines" in n for n in log.notes)


def test_slixmpp_log_repairs_the_mangled_stream_namespace():
    t = Transcript.from_slixmpp_log(SLIX_LOG)
    header = t.first(direction=S2C, kind="stream-open")
    assert header.text.startswith("<stream:stream xmlns='jabber:client' "
                                  "xmlns:stream='http://etherx.jabber.org/streams' from=\"example.com\"")
    assert t.first(direction=S2C, name="features").text.startswith("<stream:features><starttls")


def test_slixmpp_log_masks_what_slixmpp_logged_in_clear():
    t = Transcript.from_slixmpp_log(SLIX_LOG)
    proof = base64.b64decode(t.first(name="response").reveal().element.text).split(b",p=")[1].decode()
    assert proof not in "".join(base64.b64decode(e["data"].split(">")[1].split("<")[0]).decode()
                                for e in t.events() if "<response" in e.get("data", ""))
    assert f",p={MASK}" in base64.b64decode(t.first(name="response").element.text).decode()


@pytest.mark.parametrize("prefix", ["", "DEBUG:slixmpp.xmlstream.xmlstream:", "2026-11-24 08:42:14,657 DEBUG    "])
def test_slixmpp_log_prefixes_and_multiline_stanzas(prefix):
    log = "\n".join([
        f"{prefix}SEND: <stream:stream to='example.com' xmlns:stream='http://etherx.jabber.org/streams' "
        "xmlns='jabber:client' version='1.0'>",
        f"{prefix}RECV: <stream:stream:stream xmlns=\"http://etherx.jabber.org/streams\" from=\"example.com\" "
        "id=\"s1\" version=\"1.0\">",
        f"{prefix}SEND: <message to='romeo@example.net'><body>line one",
        "line two</body></message>",
        f"{prefix}SEND: </stream:stream>",
    ]) + "\n"
    t = Transcript.from_slixmpp_log(log)
    assert shape(t) == [(C2S, "stream-open", "stream"), (S2C, "stream-open", "stream"),
                        (C2S, "stanza", "message"), (C2S, "stream-close", "stream")]
    assert t.first(kind="message").element.findtext("{jabber:client}body") == "line one\nline two"


def test_slixmpp_log_splits_reconnections_into_connections():
    header = ("SEND: <stream:stream to='example.com' xmlns:stream='http://etherx.jabber.org/streams' "
              "xmlns='jabber:client' version='1.0'>")
    log = "\n".join(["DEBUG    Event triggered: connecting", "DEBUG    SSL: Unable to connect",
                     "DEBUG    Event triggered: connecting", f"DEBUG    {header}",
                     "INFO     connection_lost: (None,)",
                     "DEBUG    Event triggered: connecting", f"DEBUG    {header}", ""])
    t = Transcript.from_slixmpp_log(log)
    assert list(t.connections) == ["c2s-1", "c2s-2"]  # the direct TLS attempt exchanged no XML: not counted
    assert t["c2s-1"].closed is not None and t["c2s-2"].closed is None
    assert [len(c.chunks) for c in t.connections.values()] == [1, 1]
    with pytest.raises(TranscriptError, match="no SEND: or RECV: lines found"):
        Transcript.from_slixmpp_log("INFO nothing here\n")
