"""The transcript model on real recordings: the parsed view, queries, answers, masking."""

import base64
import itertools
from pathlib import Path

import pytest

from xmpplab.jid import JID
from xmpplab.transcript import MASK, Direction, ItemKind, Transcript, TranscriptError

SAMPLES = Path(__file__).resolve().parent.parent / "sample_streams"
C2S, S2C = Direction.C2S, Direction.S2C


@pytest.fixture(scope="module")
def juliet():
    """slixmpp logs in as juliet: STARTTLS, SCRAM-SHA-256, bind, roster get, a message to herself."""
    return Transcript.load(SAMPLES / "juliet-login-starttls-scram.jsonl")


@pytest.fixture(scope="module")
def romeo():
    """A raw XML client logs in as romeo with PLAIN (no TLS: loopback), presence, ping, a message."""
    return Transcript.load(SAMPLES / "romeo-login-plain-raw.jsonl")


def shape(items):
    return [(i.direction, i.kind.value, i.name) for i in items]


def test_parsed_view_of_a_real_login_follows_the_negotiation(juliet):
    assert shape(juliet) == [
        (C2S, "stream-open", "stream"), (S2C, "stream-open", "stream"),
        (S2C, "nonza", "features"), (C2S, "nonza", "starttls"), (S2C, "nonza", "proceed"),
        # TLS here; both streams restart
        (C2S, "stream-open", "stream"), (S2C, "stream-open", "stream"), (S2C, "nonza", "features"),
        (C2S, "nonza", "auth"), (S2C, "nonza", "challenge"), (C2S, "nonza", "response"), (S2C, "nonza", "success"),
        # SASL done; both streams restart
        (C2S, "stream-open", "stream"), (S2C, "stream-open", "stream"), (S2C, "nonza", "features"),
        (C2S, "stanza", "iq"), (S2C, "stanza", "iq"),  # bind
        (C2S, "stanza", "presence"), (C2S, "stanza", "iq"),  # sent in one chunk
        (S2C, "stanza", "presence"), (S2C, "stanza", "iq"),  # presence reflected, roster result
        (C2S, "stanza", "message"), (S2C, "stanza", "message"),
        (C2S, "stream-close", "stream"), (S2C, "stream-close", "stream"),
    ]
    assert juliet.problems() == []


def test_items_carry_the_exact_wire_text_and_the_parsed_element(juliet):
    opens = list(juliet.items(kind="stream-open", direction="S→C"))
    assert opens[0].text.startswith("<?xml version='1.0'?><stream:stream xmlns='jabber:client'")
    assert opens[0].attrs["from"] == "example.com" and opens[0].get("version") == "1.0"
    starttls = juliet.first(name="starttls")
    assert starttls.text == '<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls" />'  # slixmpp's spelling, kept
    assert starttls.ns == "urn:ietf:params:xml:ns:xmpp-tls" and starttls.stanza_kind is None
    presence, roster_get = list(juliet.items(direction="C→S", kind="stanza"))[1:3]
    chunk = juliet["c2s-1"].chunks[presence.chunks[0]]
    assert chunk.data == presence.text + roster_get.text  # one chunk, two items, not a character lost
    message = juliet.first(kind="message", direction=S2C)
    assert message.element.findtext("{jabber:client}body") == "Wherefore art thou, Romeo?"
    assert message.from_ == message.to == "juliet@example.com/balcony"
    assert message.stanza_kind == "message" and message.type is None


def test_connection_knows_its_endpoints(juliet):
    conn = juliet["c2s-1"]
    assert conn.kind == "c2s" and conn.role == "receiving"
    assert conn.client.startswith("127.0.0.1:") and conn.server.startswith("127.0.0.1:")
    assert conn.jid == "juliet@example.com/balcony"
    assert (conn.tls, conn.mechanism, conn.user) == ("TLSv1.3", "SCRAM-SHA-256", "juliet@example.com")
    assert conn.opened < conn.closed and conn.clean is True
    assert "juliet@example.com/balcony TLSv1.3 SCRAM-SHA-256" in repr(conn)


def test_filters_return_exactly_the_matching_items(juliet):
    assert [i.name for i in juliet.items(direction="C→S", kind="nonza")] == ["starttls", "auth", "response"]
    assert [(i.direction, i.type) for i in juliet.stanzas(kind="iq")] == \
        [(C2S, "set"), (S2C, "result"), (C2S, "get"), (S2C, "result")]
    roster = list(juliet.stanzas(namespace="jabber:iq:roster"))
    assert [(i.direction, i.type) for i in roster] == [(C2S, "get"), (S2C, "result")]
    assert [i.name for i in juliet.items(namespace="urn:ietf:params:xml:ns:xmpp-sasl")] == \
        ["features", "features", "auth", "challenge", "response", "success"]  # both features offer SASL
    assert len(list(juliet.items(kind=["stream-open", "stream-close"]))) == 8
    assert list(juliet.items(jid="juliet@example.com")) == list(juliet.items())  # bare JID: every resource
    assert list(juliet.items(jid="juliet@example.com/elsewhere")) == []
    assert list(juliet.items(jid=JID("juliet@example.com/balcony"))) == list(juliet.items())  # a client's .jid
    assert list(juliet.items(conn="c2s-9")) == []
    bind = juliet.first(kind="iq")
    after_bind = list(juliet.stanzas(since=bind.t))
    assert after_bind[0] is bind and len(after_bind) == 8
    assert list(juliet.stanzas(until=bind.t)) == []
    assert [i.name for i in juliet.items(where=lambda i: i.masked)] == ["response", "success"]


def test_filter_gives_a_selection_that_answers_the_same_questions(juliet):
    iqs = juliet.filter(kind="iq")
    assert len(iqs) == 4 and repr(iqs) == "<Selection of 4 items: 2 C→S, 2 S→C; 4 stanzas (4 iq)>"
    gets = iqs.filter(type="get")
    assert len(gets) == 1 and gets[0].payload_ns == "jabber:iq:roster"
    assert iqs.answer_to(gets[0]) is juliet.first(kind="iq", type="result", namespace="jabber:iq:roster")


def test_answer_to_finds_the_roster_result(juliet):
    request = juliet.first(kind="iq", namespace="jabber:iq:roster", direction="C→S")
    answer = juliet.answer_to(request)
    assert answer.direction is S2C and answer.type == "result" and answer.id == request.id
    assert answer.payload.get("ver") == "0"
    assert juliet.request_for(answer) is request
    with pytest.raises(TranscriptError, match="takes an iq of type get or set"):
        juliet.answer_to(juliet.first(kind="message"))


def test_unknown_kind_is_refused_with_the_valid_ones():
    t = Transcript()
    with pytest.raises(TranscriptError, match="unknown kind mesage: use one of stream-open, stanza"):
        list(t.items(kind="mesage"))
    with pytest.raises(TranscriptError, match="not a direction"):
        list(t.items(direction="up"))


def test_reprs_and_summary_say_what_is_inside(juliet):
    assert repr(juliet).startswith("<Transcript recorded by xmpplab server: 1 connection "
                                   "(juliet@example.com/balcony), 24 chunks, ")
    assert repr(juliet.first(kind="iq", type="get")).startswith("<Item c2s-1#18 C→S stanza iq type='get' id=")
    assert repr(juliet.first(name="response")) == "<Item c2s-1#10 C→S nonza response (credentials masked)>"
    table = juliet.summary().splitlines()
    assert table[0] == "Transcript recorded by xmpplab server: 1 connection"
    assert table[1].split() == ["conn", "kind", "client", "server", "jid", "tls", "sasl", "chunks", "C→S", "S→C",
                                "items", "problems", "opened", "duration"]
    assert "juliet@example.com/balcony  TLSv1.3  SCRAM-SHA-256  24" in table[3]
    assert juliet.describe() == ("11 C→S, 14 S→C; 6 stream-opens, 8 stanzas (2 message, 2 presence, 4 iq), "
                                 "9 nonzas, 2 stream-closes")


# --- credentials ------------------------------------------------------------------------------------

def decoded(item):
    return base64.b64decode(item.element.text).decode()


def test_plain_credentials_are_masked_in_every_view(romeo):
    auth = romeo.first(name="auth")
    secret = "AHJvbWVvAHNlY3JldA=="  # \0romeo\0secret
    assert auth.text == f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{MASK}</auth>"
    assert auth.element.text == MASK and auth.masked
    conn = romeo["c2s-2"]
    views = [auth.text, str(auth), conn.text("C→S"), romeo.to_rfc_text(), romeo.to_stream_file(),
             romeo.to_rfc_text(by="chunk"), *(e.get("data", "") for e in romeo.events())]
    assert all(secret not in v for v in views)
    assert all(MASK in v for v in views[:6])


def test_credentials_are_revealed_on_request(romeo):
    auth = romeo.first(name="auth").reveal()
    assert base64.b64decode(auth.element.text) == b"\0romeo\0secret" and not auth.masked
    assert "AHJvbWVvAHNlY3JldA==" in romeo.first(name="auth").xml(reveal_credentials=True)
    assert "AHJvbWVvAHNlY3JldA==" in romeo.to_rfc_text(reveal_credentials=True)
    assert "AHJvbWVvAHNlY3JldA==" in romeo.to_stream_file(reveal_credentials=True)
    assert "AHJvbWVvAHNlY3JldA==" in romeo["c2s-2"].text(C2S, reveal_credentials=True)


def test_scram_keeps_names_and_nonces_but_hides_proof_and_signature(juliet):
    first = juliet.first(name="auth")
    assert not first.masked and decoded(first).startswith("y,,n=juliet,r=")  # user name and nonce teach
    challenge = juliet.first(name="challenge")
    assert not challenge.masked and ",s=" in decoded(challenge) and decoded(challenge).endswith(",i=4096")
    response = juliet.first(name="response")
    assert decoded(response).startswith("c=eSws,r=") and decoded(response).endswith(f",p={MASK}")
    assert decoded(response.reveal()).split(",p=")[1] != MASK
    assert decoded(juliet.first(name="success")) == f"v={MASK}"
    for event in juliet.events():
        assert base64.b64encode(b"secret").decode() not in event.get("data", "")
    proof = decoded(response.reveal()).split(",p=")[1]
    assert proof not in base64.b64decode(juliet["c2s-1"].text(C2S).split("<response")[1].split(">")[1]
                                         .split("<")[0]).decode()


def test_item_kinds_cover_stream_errors():
    t = Transcript.from_rfc_text("""
   C: <stream:stream to='example.com' version='1.0'
        xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>
   S: <stream:stream from='example.com' id='x' version='1.0'
        xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>
   S: <stream:error>
        <host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>
      </stream:error>
   S: </stream:stream>
""")
    error = t.first(kind="stream-error")
    assert error.kind is ItemKind.STREAM_ERROR and error.stream_error == "host-unknown"
    assert repr(error) == "<Item c2s-1#2 S→C stream-error host-unknown>"


def test_credentials_split_across_chunks_are_masked_in_both_chunks():
    stream = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
    t = Transcript.from_events([
        {"t": 1.0, "conn": "c2s-1", "type": "open", "kind": "c2s", "role": "receiving"},
        {"t": 1.1, "conn": "c2s-1", "type": "data", "dir": "in", "data": stream},
        {"t": 1.2, "conn": "c2s-1", "type": "data", "dir": "in",
         "data": "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGll"},
        {"t": 1.3, "conn": "c2s-1", "type": "data", "dir": "in", "data": "dABzZWNyZXQ=</auth><presence/>"},
    ])
    auth = t.first(name="auth")
    assert auth.chunks == (1, 2) and auth.text.endswith(f">{MASK}</auth>")
    data = [e["data"] for e in t.events() if e["type"] == "data"]
    assert data[1:] == ["<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + MASK,
                        "</auth><presence/>"]
    revealed = [e["data"] for e in t.events(reveal_credentials=True) if e["type"] == "data"]
    assert revealed[2] == "dABzZWNyZXQ=</auth><presence/>"


def test_wire_text_survives_tricky_but_legal_xml():
    """'>' in attribute values, CDATA, character references and a stanza spread over five chunks."""
    stream = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
    stanza = ("<message to='romeo@example.net' id='a&gt;b' data-x=\"1 > 0\">\n  <body><![CDATA[<i>x</i> >]]>"
              "&#x263A;</body>\n</message>")
    cuts = [0, 9, 40, 51, 80, len(stanza)]
    events = [{"t": 1.0, "conn": "c2s-1", "type": "open", "kind": "c2s", "role": "receiving"},
              {"t": 1.0, "conn": "c2s-1", "type": "data", "dir": "in", "data": stream + "  "}]
    events += [{"t": 2.0 + n, "conn": "c2s-1", "type": "data", "dir": "in", "data": stanza[a:b]}
               for n, (a, b) in enumerate(itertools.pairwise(cuts))]
    t = Transcript.from_events(events)
    message = t.first(kind="message")
    assert message.text == stanza and message.chunks == (1, 5) and message.t == 6.0
    assert message.id == "a>b" and message.element.findtext("{jabber:client}body") == "<i>x</i> >\u263a"


def test_filter_by_several_types():
    from xmpplab.transcript import Transcript

    events = [{"t": 1.0, "conn": "c2s-1", "type": "open", "kind": "c2s", "role": "receiving"},
              {"t": 1.1, "conn": "c2s-1", "type": "data", "dir": "in", "data":
               "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
               "to='example.com' version='1.0'><message type='chat'/><message type='normal'/>"
               "<message type='headline'/>"}]
    t = Transcript.from_events(events, recorded_by="server")
    assert [i.type for i in t.stanzas(type=["chat", "headline"])] == ["chat", "headline"]
    assert [i.type for i in t.stanzas(type="normal")] == ["normal"]
