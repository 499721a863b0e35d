"""XEP-0198 Stream Management: acks both ways, and a dropped connection resumed without losing a message."""

import base64

import pytest

from tests.support import RawClient
from tests.support_roster import put_state
from tests.support_stanzas import condition, flush, online
from tests.support_wait import until
from xmpplab.jid import JID
from xmpplab.server.modules import sm
from xmpplab.server.modules.sm import NS_SM, RESUMABLE

SM = f"{{{NS_SM}}}"
ENABLE = f"<enable xmlns='{NS_SM}' resume='true'/>"


def why(failed) -> str:
    """The stanza error condition inside a <failed/> (XEP-0198 §3, §5)."""
    return failed[0].tag.rpartition("}")[2]


async def next_of(c, name):
    """The next element called ``name`` (others before it are dropped); a string when the stream ended."""
    while True:
        el = await c.recv()
        if isinstance(el, str) or el.tag.rpartition("}")[2] == name:
            return el


async def enabled(raw, jid="juliet@example.com"):
    c = await online(raw, jid)
    await c.send(ENABLE)
    answer = await next_of(c, "enabled")
    assert answer.get("resume") == "true" and answer.get("id") and int(answer.get("max")) > 0
    return c, answer.get("id")


async def login_without_bind(port, user="juliet", domain="example.com"):
    """Open a stream, log in with PLAIN, restart: the features offer bind and sm; nothing is bound."""
    c = await RawClient.open(port)
    await c.open_stream(domain)
    token = base64.b64encode(f"\0{user}\0secret".encode()).decode()
    await c.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
    assert (await c.recv()).tag.endswith("success")
    c.parser.reset()
    features = await c.open_stream(domain)
    assert features.find(f"{SM}sm") is not None
    return c


async def test_enable_and_the_clients_count_of_handled_stanzas(raw):
    c, _ = await enabled(raw)
    for i in range(3):
        await c.send(f"<message to='romeo@example.net' type='chat'><body>{i}</body></message>")
    await c.send(f"<r xmlns='{NS_SM}'/>")
    assert (await next_of(c, "a")).get("h") == "3"
    await c.send(ENABLE)
    assert why(await next_of(c, "failed")) == "unexpected-request"


async def test_the_server_asks_for_acks_and_forgets_what_was_acknowledged(server, raw):
    c, _ = await enabled(raw)
    session = server.resources(JID("juliet@example.com"))[0]
    romeo = await online(raw, "romeo@example.net")
    for i in range(sm.REQUEST_EVERY):
        await romeo.send(f"<message to='juliet@example.com/test' type='chat'><body>{i}</body></message>")
    assert (await next_of(c, "r")) is not None  # after REQUEST_EVERY unacknowledged stanzas
    assert len(session.unacked) == sm.REQUEST_EVERY
    await c.send(f"<a xmlns='{NS_SM}' h='{sm.REQUEST_EVERY}'/>")
    await flush(c)
    assert len(session.unacked) == 1  # the ping's answer that flush() itself asked for
    await c.send(f"<a xmlns='{NS_SM}' h='999'/>")
    assert condition(await next_of(c, "error")) == "undefined-condition"


async def test_a_dropped_connection_is_resumed_and_nothing_is_lost(server, raw):
    put_state(server, "juliet@example.com", "romeo@example.net", "both")
    put_state(server, "romeo@example.net", "juliet@example.com", "both")
    juliet, previd = await enabled(raw)
    romeo = await online(raw, "romeo@example.net")
    await flush(romeo)
    handled = len(await flush(juliet)) + 1  # what reached her since she enabled it (his presence), and the pong
    await romeo.send("<message to='juliet@example.com/test' type='chat'><body>one</body></message>")
    await romeo.send("<message to='juliet@example.com/test' type='chat'><body>two</body></message>")
    await next_of(juliet, "message")
    await next_of(juliet, "message")
    await juliet.send(f"<a xmlns='{NS_SM}' h='{handled + 1}'/>")  # she confirms only the first message ...
    await flush(juliet)
    juliet.writer.transport.abort()  # ... and the train enters the tunnel: no </stream:stream>
    await until(lambda: any(s.detached for s in RESUMABLE.of(server).values()), server, what="the session kept")
    await romeo.send("<message to='juliet@example.com/test' type='chat'><body>three</body></message>")
    await flush(romeo)
    assert not [el for el in await flush(romeo) if el.get("type") == "unavailable"]  # she still looks online
    again = await login_without_bind(server.port)
    await again.send(f"<resume xmlns='{NS_SM}' previd='{previd}' h='{handled + 1}'/>")
    resumed = await next_of(again, "resumed")
    assert resumed.get("previd") == previd
    bodies = []
    while len(bodies) < 2:
        el = await next_of(again, "message")
        bodies.append(el.findtext("{jabber:client}body"))
    assert bodies == ["two", "three"]  # what she had not confirmed, then what came while she was away
    await again.send("<message to='romeo@example.net' type='chat'><body>I am back</body></message>")
    assert (await next_of(romeo, "message")).get("from") == "juliet@example.com/test"


async def test_a_session_not_resumed_in_time_ends_and_its_messages_wait_offline(server, raw, monkeypatch):
    monkeypatch.setattr(sm, "RESUME_SECONDS", 0.2)
    put_state(server, "juliet@example.com", "romeo@example.net", "both")
    put_state(server, "romeo@example.net", "juliet@example.com", "both")
    juliet, previd = await enabled(raw)
    romeo = await online(raw, "romeo@example.net")
    await flush(romeo)
    juliet.writer.transport.abort()
    await until(lambda: any(s.detached for s in RESUMABLE.of(server).values()), server, what="the session kept")
    await romeo.send("<message to='juliet@example.com/test' type='chat'><body>are you there?</body></message>")
    gone = await next_of(romeo, "presence")  # RESUME_SECONDS later: she goes offline for good
    assert gone.get("type") == "unavailable" and gone.get("from") == "juliet@example.com/test"
    late = await login_without_bind(server.port)
    await late.send(f"<resume xmlns='{NS_SM}' previd='{previd}' h='0'/>")
    assert why(await next_of(late, "failed")) == "item-not-found"
    fresh = await RawClient.open(server.port)
    await fresh.login("juliet@example.com", resource="balcony")
    await fresh.send("<presence/>")
    kept = await next_of(fresh, "message")
    assert kept.findtext("{jabber:client}body") == "are you there?"
    assert kept.find("{urn:xmpp:delay}delay") is not None  # from offline storage (XEP-0160)
    await fresh.close()


async def test_a_clean_close_ends_the_session_at_once(server, raw):
    juliet, previd = await enabled(raw)
    await juliet.close()  # </stream:stream>: the client means it
    await until(lambda: previd not in RESUMABLE.of(server), server, what="the session forgotten")
    again = await login_without_bind(server.port)
    await again.send(f"<resume xmlns='{NS_SM}' previd='{previd}' h='0'/>")
    assert why(await next_of(again, "failed")) == "item-not-found"


async def test_another_account_cannot_resume_juliets_session(server, raw):
    juliet, previd = await enabled(raw)
    juliet.writer.transport.abort()
    await until(lambda: any(s.detached for s in RESUMABLE.of(server).values()), server, what="the session kept")
    thief = await login_without_bind(server.port, user="romeo", domain="example.net")
    await thief.send(f"<resume xmlns='{NS_SM}' previd='{previd}' h='0'/>")
    assert why(await next_of(thief, "failed")) == "item-not-found"


@pytest.mark.timeout(60)
async def test_slixmpp_stream_management_plugin_enables_and_acknowledges(server, slix):
    """A real client's XEP-0198 plugin (slixmpp xep_0198) enables it and answers the server's requests."""
    juliet = await slix("juliet@example.com/balcony", plugins=("xep_0030", "xep_0198", "xep_0199"))
    await until(lambda: juliet.plugin["xep_0198"].enabled_out, server, what="slixmpp enabled stream management")
    session = server.resources(JID("juliet@example.com"))[0]
    romeo = await slix("romeo@example.net/orchard")
    for i in range(2 * sm.REQUEST_EVERY):
        romeo.send_message(mto="juliet@example.com/balcony", mbody=str(i), mtype="chat")
    await until(lambda: sm.STATE.get(session).acked >= 2 * sm.REQUEST_EVERY, server,
                what="slixmpp acknowledged what it received", timeout=10)
    assert len(session.unacked) < sm.REQUEST_EVERY
