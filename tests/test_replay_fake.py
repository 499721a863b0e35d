"""The fake server: negotiates live, then plays a recording's server side to the client that connects."""

import pytest

from tests.support_recordings import record_session
from xmpplab.client import Client
from xmpplab.rawclient import LoginError, RawClient
from xmpplab.recording import MemoryRecorder
from xmpplab.replay import FakeServer
from xmpplab.transcript import Transcript


@pytest.fixture(scope="module")
def recording():
    import asyncio
    return asyncio.run(record_session())


async def test_a_client_gets_the_recorded_roster_and_message(recording):
    recorder = MemoryRecorder()
    async with FakeServer(recording, recording.juliet, recorder=recorder) as fake:
        juliet = await Client.connect("juliet@example.com/phone", "any password will do", host="127.0.0.1",
                                      port=fake.port, verify_tls=False)
        roster = await juliet.roster()
        assert [(i.jid, i.name, i.groups) for i in roster] == [("romeo@example.net", "Romeo", ("Montague",))]
        message = await juliet.next("message")
        assert message["body"] == "Art thou not Juliet?" and message["from"] == "romeo@example.net/orchard"
        assert message["to"] == "juliet@example.com/phone"  # the recorded JID, rewritten to this client's
        await juliet.disconnect()
    session = fake.sessions[0]
    assert session.jid == "juliet@example.com/phone" and session.unmatched == []
    assert "client sent iq get jabber:iq:roster: played iq result jabber:iq:roster" in "\n".join(session.log)
    assert session.ended == "the client closed its stream"
    # The fake records like the lab server: the live session is a transcript too.
    live = Transcript.from_events(recorder.events).connections["fake-1"]
    assert live.tls == "TLSv1.3" and live.mechanism == "PLAIN" and live.jid == "juliet@example.com/phone"


async def test_answers_carry_the_clients_ids_and_unknown_requests_get_an_error(recording):
    async with FakeServer(recording, recording.juliet) as fake, await RawClient.connect("127.0.0.1", fake.port) as c:
        assert await c.login("juliet@example.com/balcony", "whatever") == "juliet@example.com/balcony"
        roster = await c.request("<iq type='get' id='mine-1'><query xmlns='jabber:iq:roster'/></iq>")
        assert roster.get("id") == "mine-1" and roster.get("type") == "result"
        assert roster.find("{jabber:iq:roster}query/{jabber:iq:roster}item").get("jid") == "romeo@example.net"
        # The recording paired Romeo's message with the roster request: it follows the answer.
        assert (await c.recv()).findtext("{jabber:client}body") == "Art thou not Juliet?"
        ping = await c.request("<iq type='get' id='mine-2' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
        assert ping.get("type") == "error"
        assert ping.find("{jabber:client}error/{urn:ietf:params:xml:ns:xmpp-stanzas}service-unavailable") \
            is not None
    assert "urn:xmpp:ping: not in the recording, answered service-unavailable" in "\n".join(fake.sessions[0].log)
    assert len(fake.sessions[0].unmatched) == 1


async def test_scram_for_known_accounts_and_wrong_passwords_fail(recording):
    async with FakeServer(recording, recording.juliet, accounts={"juliet@example.com": "secret"}) as fake:
        assert fake.mechanisms == ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]
        async with await RawClient.connect("127.0.0.1", fake.port) as c:
            await c.login("juliet@example.com", "secret")
            assert c.mechanism == "SCRAM-SHA-256" and c.jid == "juliet@example.com/balcony"  # the recorded resource
        async with await RawClient.connect("127.0.0.1", fake.port) as c:
            with pytest.raises(LoginError, match="not-authorized"):
                await c.login("juliet@example.com", "wrong")
    assert "<FakeServer playing" in repr(fake) and "2 sessions" in repr(fake)
    with pytest.raises(ValueError, match="nobody could log in"):
        FakeServer(recording, recording.juliet, accept_any_password=False)
