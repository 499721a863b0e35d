"""Stepping through a transcript: one item at a time, with its connection, direction and answer."""

from pathlib import Path

import pytest

from xmpplab.replay import Stepper
from xmpplab.transcript import Direction, Transcript

SAMPLES = Path(__file__).resolve().parent.parent / "sample_streams"
JULIET = SAMPLES / "juliet-login-starttls-scram.jsonl"


def test_stanzas_one_at_a_time_with_their_answers():
    s = Stepper(JULIET, kinds="stanza")
    assert len(s) == 8 and s.current is None
    assert repr(s) == "<Stepper of 8 stanzas, before the first (call next())>"
    first = s.next()
    assert repr(first) == ("<Step stanza 1 of 8: C→S iq set urn:ietf:params:xml:ns:xmpp-bind on c2s-1 — "
                           "answered by stanza 2>")
    roster = s.seek(3)
    assert repr(roster) == "<Step stanza 4 of 8: C→S iq get jabber:iq:roster on c2s-1 — answered by stanza 6>"
    assert roster.direction is Direction.C2S and roster.conn == "c2s-1"
    assert roster.connection.jid == "juliet@example.com/balcony"
    assert roster.reply.type == "result" and roster.reply is s[5].item
    assert s[5].prompt is roster.item and s[5].context == "answers stanza 4"
    assert "Stepper at stanza 4 of 8" in repr(s)
    assert s.prev().item.name == "presence" and s.current.number == 3
    assert s.seek(-1).item.text.startswith("<message") and s.next() is None and s.position == 7
    assert s.seek(roster.item) == roster


def test_moving_past_the_ends_and_bad_positions():
    s = Stepper(JULIET, kinds="stanza")
    assert s.prev() is None and s.current is None
    with pytest.raises(IndexError, match="there is no position 8: this stepper has 8 stanzas"):
        s.seek(8)
    assert [step.number for step in s] == list(range(1, 9)) and s.current is None  # iterating does not move
    other = Transcript.load(SAMPLES / "romeo-login-plain-raw.jsonl").first(kind="presence")
    with pytest.raises(IndexError, match="is not one of this stepper's 8 items"):
        s.seek(other)


def test_negotiation_steps_answer_each_other_and_credentials_stay_masked():
    s = Stepper(JULIET)
    by_name = {step.item.name: step for step in s if step.direction is Direction.C2S}
    assert s.noun == "item" and len(s) == 25
    assert by_name["starttls"].reply.name == "proceed"
    assert by_name["auth"].reply.name == "challenge" and by_name["response"].reply.name == "success"
    assert repr(s[0]) == "<Step item 1 of 25: C→S stream header to example.com on c2s-1 — answered by item 2>"
    response = by_name["response"]
    assert "masked" in __import__("base64").b64decode(response.item.element.text).decode()
    revealed = Stepper(JULIET, reveal_credentials=True)[response.position]
    assert revealed.text != response.text and "masked" not in __import__("base64").b64decode(
        revealed.text.split(">")[1].split("<")[0]).decode()


def test_a_bounced_message_is_answered_by_its_error():
    t = Transcript.from_rfc_text("""
       C: <message to='tybalt@example.com' id='m1' type='chat'><body>hi</body></message>
       S: <message from='tybalt@example.com' id='m1' type='error'>
            <error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>
          </message>
    """)
    s = Stepper(t)
    assert s[0].context == "answered by stanza 2" and s[1].context == "answers stanza 1"


def test_several_connections_interleave_and_can_be_narrowed():
    t = Transcript.from_rfc_text((SAMPLES / "rfc" / "subscription.txt").read_text())
    everything = Stepper(t)
    assert len({step.conn for step in everything}) == 4
    text = everything.render()
    assert "── c2s-user" in text and "── c2s-contact" in text
    only = Stepper(t, conn="c2s-contact", direction="C→S")
    assert {step.conn for step in only} == {"c2s-contact"} and all(st.direction is Direction.C2S for st in only)


def test_render_labels_directions_and_colours_the_client():
    s = Stepper(JULIET, kinds="stanza")
    plain = s[3].render(width=60)
    lines = plain.splitlines()
    assert lines[0].startswith("4 C→S │ <iq") and all(len(ln) <= 60 + 8 for ln in lines)
    assert lines[-1].endswith("┄ answered by stanza 6")
    coloured = s[3].render(color=True)
    assert coloured.startswith("\033[32m") and "\033[32m" not in s[4].render(color=True).splitlines()[0]
