"""Re-driving a recording against a live server: negotiation redone live, ids and JIDs remapped, answers diffed."""

from pathlib import Path

import pytest

from tests.support_recordings import USERS, record_session
from xmpplab.rawclient import LoginError, RawClient
from xmpplab.recording import MemoryRecorder
from xmpplab.replay import Status, redrive
from xmpplab.server import Server
from xmpplab.transcript import Transcript, TranscriptError

SAMPLES = Path(__file__).resolve().parent.parent / "sample_streams"
JULIET = SAMPLES / "juliet-login-starttls-scram.jsonl"
QUIET = 0.1  # seconds of silence that end an exchange (the loopback server answers in microseconds)


@pytest.fixture
async def server():
    async with Server(["example.com", "example.net"]) as srv:
        for user in USERS:
            srv.accounts.add(user, "secret")
        yield srv


async def test_the_sample_session_gets_the_same_answers_from_the_lab_server(server):
    report = await redrive(JULIET, None, "127.0.0.1", server.port, quiet=QUIET)
    assert report.ok, report.text()
    assert repr(report) == f"<RedriveReport c2s-1 against 127.0.0.1:{server.port}: 3 exchanges, all the same>"
    assert [e.title for e in report.exchanges] == ["C→S presence", "C→S iq get jabber:iq:roster",
                                                   "C→S message 'Wherefore art thou, Romeo?'"]
    assert report.live_jid == "juliet@example.com/balcony"  # the recorded resource, bound again
    text = report.text()
    assert text.startswith(f"Re-drive of c2s-1 (recorded as juliet@example.com/balcony) against "
                           f"127.0.0.1:{server.port} as juliet@example.com/balcony: 3 exchanges, all the same")
    # The live session was negotiated for real and is itself a transcript.
    live = report.transcript.connections["redrive-1"]
    assert live.tls == "TLSv1.3" and live.mechanism == "SCRAM-SHA-256"


async def test_ids_and_jids_are_remapped_for_another_account(server):
    report = await redrive(JULIET, None, "127.0.0.1", server.port, "nurse@example.com/chamber", quiet=QUIET)
    assert report.ok, report.text()
    message = report.exchanges[2]
    assert "to=\"nurse@example.com/chamber\"" in message.sent and "juliet" not in message.sent
    recorded_id = message.request.id
    assert report.ids.live[recorded_id] == "redrive-3" and "id=\"redrive-3\"" in message.sent
    got = message.outcomes[0].got
    assert got.get("from") == "nurse@example.com/chamber" and got.get("id") == "redrive-3"


async def test_a_different_roster_is_reported_with_an_xml_diff(server):
    async with await RawClient.connect("127.0.0.1", server.port) as c:
        await c.login("juliet@example.com", "secret")
        await c.request("<iq type='set' id='r'><query xmlns='jabber:iq:roster'>"
                        "<item jid='romeo@example.net' name='Romeo'/></query></iq>")
    report = await redrive(JULIET, None, "127.0.0.1", server.port, quiet=QUIET)
    assert not report.ok and report.counts()[Status.DIFFERENT] == 1
    roster = report.exchanges[1]
    assert roster.status is Status.DIFFERENT
    outcome = roster.outcomes[0]
    assert "iq/query[jabber:iq:roster]: an extra <item/>" in outcome.differences
    assert '+    <item jid="romeo@example.net" name="Romeo" subscription="none"/>' in outcome.diff.splitlines()
    text = report.text()
    assert "2 same, 1 different" in text and "DIFFERENT" in text and "--- recorded" in text


async def test_what_only_the_other_party_did_is_missing_and_what_is_new_is_extra(server):
    t = await record_session()
    # Romeo is not re-driven, so his message is missing; an offline message waiting for juliet is extra.
    async with await RawClient.connect("127.0.0.1", server.port) as nurse:
        await nurse.login("nurse@example.com", "secret")
        await nurse.send("<message to='juliet@example.com' id='o1'><body>Madam!</body></message>")
        await nurse.request("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>")
    report = await redrive(t, t.juliet, "127.0.0.1", server.port, quiet=QUIET)
    statuses = {o.what: o.status for o in report.outcomes}
    assert statuses["message chat 'Art thou not Juliet?'"] is Status.MISSING
    assert statuses["message 'Madam!'"] is Status.EXTRA
    assert statuses["iq result jabber:iq:roster"] is Status.DIFFERENT  # this server's juliet has no Romeo
    text = report.text()
    assert "missing: the recording has <message type=\"chat\"" in text and "extra: the server also sent" in text


async def test_timestamps_and_server_made_ids_are_not_differences(server):
    async def offline_session(srv, recorder=None):
        async with await RawClient.connect("127.0.0.1", srv.port) as nurse:
            await nurse.login("nurse@example.com/chamber", "secret")
            await nurse.send("<message to='juliet@example.com' id='o1'><body>Madam!</body></message>")
            await nurse.request("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>")
        if recorder is not None:
            async with await RawClient.connect("127.0.0.1", srv.port, recorder=recorder) as juliet:
                await juliet.login("juliet@example.com/balcony", "secret")
                await juliet.send("<presence id='p1'/>")
                await juliet.recv()
                await juliet.recv()

    recorder = MemoryRecorder()
    async with Server(["example.com", "example.net"]) as first:
        for user in USERS:
            first.accounts.add(user, "secret")
        await offline_session(first, recorder)
    recording = Transcript.from_events(recorder.events, recorded_by="rawclient")
    assert "stamp=" in recording.first(kind="message").text
    await offline_session(server)
    report = await redrive(recording, None, "127.0.0.1", server.port, quiet=QUIET)
    assert report.ok, report.text()
    message = next(o for o in report.outcomes if o.what == "message 'Madam!'")
    assert message.got.find("{urn:xmpp:delay}delay").get("stamp") != \
        recording.first(kind="message").element.find("{urn:xmpp:delay}delay").get("stamp")


async def test_wrong_credentials_and_empty_recordings_say_why(server):
    with pytest.raises(LoginError, match="not-authorized"):
        await redrive(JULIET, None, "127.0.0.1", server.port, password="wrong", quiet=QUIET)
    t = Transcript.load(JULIET)
    with pytest.raises(TranscriptError, match="no connection 'c2s-9'.*c2s-1"):
        await redrive(t, "c2s-9", "127.0.0.1", server.port)
    headers_only = Transcript.from_rfc_text("C: <presence/>\nS: <presence from='a@example.com/x'/>")
    with pytest.raises(TranscriptError, match="does not say who c2s-1 was"):
        await redrive(headers_only, None, "127.0.0.1", server.port)


def test_an_archive_id_the_live_server_adds_is_not_a_difference():
    """XEP-0313 servers add a XEP-0359 <stanza-id/> to what they archive: a note about the server, left out."""
    from xmpplab.replay.exchanges import canonical, normalize
    from xmpplab.xml import parse_fragment

    recorded = parse_fragment("<message xmlns='jabber:client' to='juliet@example.com'><body>hi</body></message>")
    live = parse_fragment("<message xmlns='jabber:client' to='juliet@example.com'><body>hi</body>"
                          "<stanza-id xmlns='urn:xmpp:sid:0' by='juliet@example.com' id='x1'/></message>")
    e, g = normalize(recorded, live, None, None)
    assert canonical(e) == canonical(g)
    assert live.find("{urn:xmpp:sid:0}stanza-id") is not None  # the live stanza itself is left as it was
