"""A resumed stream (XEP-0198 §5) in the stream view: the old connection ends without </stream:stream> (the gap),
the new one says "resumed from c2s-1", its <resume/> and <resumed/> rows are marked, and the acks show h=N.

The transcript is a real recording: juliet enables stream management, confirms one of romeo's two messages, her
TCP connection drops, and a new connection resumes the session.
"""

import pytest

from tests.support import RawClient
from tests.support_roster import put_state
from tests.support_stanzas import flush, online
from tests.support_wait import until
from tests.test_sm import ENABLE, login_without_bind, next_of
from xmpplab.render import explain, stream_view
from xmpplab.render.resumption import lost, resumed_by
from xmpplab.server import Server
from xmpplab.server.modules.sm import NS_SM, RESUMABLE
from xmpplab.transcript import Transcript


@pytest.fixture
async def recording():
    """(the server's transcript, the lost connection's id, the resuming connection's id)."""
    events = []
    srv = Server(["example.com", "example.net"], register=True, recorder=events.append)
    await srv.start()
    opened = []

    async def raw():
        c = await RawClient.open(srv.port)
        opened.append(c)
        return c

    try:
        for user in ("juliet@example.com", "romeo@example.net"):
            srv.accounts.add(user, "secret")
        put_state(srv, "juliet@example.com", "romeo@example.net", "both")
        put_state(srv, "romeo@example.net", "juliet@example.com", "both")
        juliet = await online(raw, "juliet@example.com")
        await juliet.send(ENABLE)
        previd = (await next_of(juliet, "enabled")).get("id")
        romeo = await online(raw, "romeo@example.net")
        await flush(romeo)
        handled = len(await flush(juliet)) + 1
        for body in ("one", "two"):
            await romeo.send(f"<message to='juliet@example.com/test' type='chat'><body>{body}</body></message>")
        await next_of(juliet, "message")
        await next_of(juliet, "message")
        await juliet.send(f"<a xmlns='{NS_SM}' h='{handled + 1}'/>")
        await flush(juliet)
        juliet.writer.transport.abort()  # the train enters the tunnel
        await until(lambda: any(s.detached for s in RESUMABLE.of(srv).values()), srv, what="the session kept")
        await romeo.send("<message to='juliet@example.com/test' type='chat'><body>three</body></message>")
        await flush(romeo)
        again = await login_without_bind(srv.port)
        opened.append(again)
        await again.send(f"<resume xmlns='{NS_SM}' previd='{previd}' h='{handled + 1}'/>")
        await next_of(again, "resumed")
        await again.send(f"<r xmlns='{NS_SM}'/>")
        await next_of(again, "a")
    finally:
        for c in opened:
            await c.close()
        await srv.stop()
    t = Transcript.from_events(events, recorded_by="server")
    old = next(c.id for c in t.connections.values() if c.jid == "juliet@example.com/test")  # her first
    new = next(c.id for c in t.connections.values() if c.resumed_from)
    return t, old, new


async def test_the_transcript_knows_which_connection_resumed_which(recording, tmp_path):
    t, old, new = recording
    assert t.connections[new].resumed_from == old
    assert lost(t.connections[old]) and not lost(t.connections[new])
    assert resumed_by(t.connections[old]) == new
    t.save(tmp_path / "resumed.jsonl")
    again = Transcript.load(tmp_path / "resumed.jsonl")
    assert again.connections[new].resumed_from == old


async def test_the_stream_view_shows_the_gap_and_the_resume(recording):
    t, old, new = recording
    page = stream_view(t, page_size=None).html()
    assert f"resumed from {old}" in page  # the new connection's header (in the legend of the merged view)
    assert f"lost without &lt;/stream:stream&gt; · resumed on {new}" in page
    assert page.count('class="xmpplab-gap"') == 1
    gap = page.index('class="xmpplab-gap"')
    assert f"connection {old} lost here: no &lt;/stream:stream&gt; was sent; {new} resumes the session" in page
    resume_row = page.index(f">resumed {old}<")
    assert gap < resume_row  # the gap, then the resume
    assert page.count(f">resumed {old}<") == 2  # <resume/> and <resumed/>
    assert ">h=3<" in page  # juliet's ack of 3 stanzas, before the drop
    assert ">r: how many?<" in page


async def test_one_connection_alone_shows_its_header_note(recording):
    t, old, new = recording
    page = stream_view(t, conn=new).html()
    assert f"resumed from {old}" in page
    assert "xmpplab-gap" not in page
    lost_page = stream_view(t, conn=old, page=-1).html()
    assert "xmpplab-gap" in lost_page and f"resumed on {new}" in lost_page


async def test_the_explanation_of_the_resume_names_the_lost_connection(recording):
    t, old, new = recording
    resumed = t.first(conn=new, kind="nonza", name="resumed")
    e = explain(resumed, t)
    assert e.citation == "XEP-0198 §5"
    assert f"takes over the session of {old}, which was lost without closing its stream" in e.text


async def test_the_text_view_shows_the_same(recording):
    t, old, new = recording
    text = stream_view(t, page_size=None).text(width=100, explanations=False)
    assert f"⚡ connection {old} lost here" in text
    assert f"resume [resumed {old}]" in text and "[h=3]" in text
    assert f"resumed from {old}" in text


async def test_a_connection_lost_without_stream_management_is_not_said_to_be_kept():
    """Without <enable resume='true'/> the server keeps nothing: the gap must not promise a resume."""
    events = []
    srv = Server(["example.com"], recorder=events.append)
    await srv.start()
    try:
        srv.accounts.add("juliet@example.com", "secret")
        c = await RawClient.open(srv.port)
        await c.login("juliet@example.com")
        await c.send("<presence/>")
        await c.recv()  # her own presence back: the server has written to this connection
        c.writer.transport.abort()
        await until(lambda: not srv.sessions, srv, what="the session ended")
    finally:
        await srv.stop()
    t = Transcript.from_events(events, recorded_by="server")
    [conn] = t.connections.values()
    assert lost(conn)
    page = stream_view(t, page_size=None).html()
    assert "in case the client resumes it" not in page
    assert "without stream management the server ends the session" in page
