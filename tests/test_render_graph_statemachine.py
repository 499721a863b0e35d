"""The negotiation state machine, drawn from the server's own table, with one state highlighted."""

import re
from pathlib import Path

import pytest

from xmpplab.render.statemachine import (
    CURRENT_FILL,
    state_machine,
    states_of_connection,
)
from xmpplab.server.c2s import TRANSITIONS, State
from xmpplab.transcript import Transcript

SAMPLES = Path(__file__).resolve().parent.parent / "sample_streams"


def node_lines(dot: str) -> dict:
    return {m.group(1): m.group(2) for m in re.finditer(r'^\s*"(\w+)" \[(.*)\];$', dot, re.MULTILINE)}


def test_drawn_from_the_servers_table():
    sm = state_machine()
    assert sm.states == list(State) and sm.transitions == list(TRANSITIONS) and sm.current is None
    dot = sm.dot()
    edges = re.findall(r'^\s*"(\w+)" -> "(\w+)" \[label="([^"]*)"', dot, re.MULTILINE)
    assert [(a, b) for a, b, _ in edges] == [(a.value, b.value) for a, _, b in TRANSITIONS]
    for (_, _, label), (_, trigger, _) in zip(edges, TRANSITIONS, strict=True):
        assert label.replace("\\n", " ") == trigger
    assert set(node_lines(dot)) - {"__start"} == {s.value for s in State}
    assert "(current)" not in dot


@pytest.mark.parametrize("given", [State.SASL, "sasl", "SASL"])
def test_given_state_is_highlighted(given):
    sm = state_machine(given)
    assert sm.current is State.SASL
    nodes = node_lines(sm.dot())
    assert CURRENT_FILL in nodes["sasl"] and "(current)" in nodes["sasl"]
    assert all(CURRENT_FILL not in attrs for name, attrs in nodes.items() if name != "sasl")
    text = sm.text()
    assert "current state: sasl" in text and "[sasl]" in text and "[open]" not in text


def test_unknown_state_is_refused():
    with pytest.raises(ValueError, match="not a state"):
        state_machine("dancing")


def test_a_live_session_shows_its_state():
    class Session:  # what state_machine reads of a C2SSession
        state = State.BIND

    assert state_machine(Session()).current is State.BIND


def test_recorded_connection_gives_last_state_and_trail():
    t = Transcript.load(SAMPLES / "juliet-login-starttls-scram.jsonl")
    conn = next(iter(t.connections.values()))
    current, trail = states_of_connection(conn)
    assert current is State.CLOSED
    assert [b.value for _, _, b in trail] == ["open", "tls", "connected", "open", "sasl", "authenticated", "bind",
                                              "ready", "closed"]
    sm = state_machine(conn)
    assert sm.current is State.CLOSED and "path taken: connected → open → tls" in sm.text()
    taken = [line for line in sm.dot().splitlines() if "->" in line and 'penwidth="2.2"' in line]
    assert len(taken) == 8  # every transition of the table except <failure/> was taken (tls→connected too)


def test_connection_cut_short_stops_where_it_was():
    t = Transcript.from_rfc_text("""
C: <stream:stream to='example.com' version='1.0' xmlns='jabber:client'
     xmlns:stream='http://etherx.jabber.org/streams'>
S: <stream:stream from='example.com' id='s1' version='1.0' xmlns='jabber:client'
     xmlns:stream='http://etherx.jabber.org/streams'>
C: <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldABzZWNyZXQ=</auth>
S: <failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>
C: <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldABzZWNyZXQ=</auth>
""")
    conn = next(iter(t.connections.values()))
    current, trail = states_of_connection(conn)
    assert current is State.SASL
    assert [b.value for _, _, b in trail] == ["open", "sasl", "open", "sasl"]


async def test_live_lab_session():
    from xmpplab.lab import Lab

    async with Lab.start(replace=False) as lab:
        juliet = await lab.connect("juliet@example.com/balcony")
        session = lab.server.sessions[juliet.jid.bare]["balcony"]
        assert state_machine(session).current is State.READY
        client_view = state_machine(juliet)  # the client's own recording of its connection
        assert client_view.current is State.READY
        assert juliet.conn in client_view.source
