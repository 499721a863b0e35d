"""The recording proxy: any client, any server, both streams recorded in plaintext, STARTTLS included."""

import pytest

from tests.support_wait import until
from xmpplab.client import Client
from xmpplab.proxy import RecordingProxy
from xmpplab.rawclient import LoginError, RawClient
from xmpplab.recording import MemoryRecorder
from xmpplab.server import Server
from xmpplab.transcript import Direction, Transcript


@pytest.fixture
async def upstream(request):
    """A lab server for example.com recording its own side (STARTTLS on unless the test says tls=False)."""
    tls = getattr(request, "param", True)
    recorder = MemoryRecorder()
    async with Server(["example.com"], tls=tls, recorder=recorder) as server:
        server.accounts.add("juliet@example.com", "secret")
        server.recorded = recorder
        yield server


async def test_starttls_session_through_the_proxy_is_recorded_in_plaintext(upstream):
    recorder, said = MemoryRecorder(), []
    async with RecordingProxy("127.0.0.1", 0, "127.0.0.1", upstream.port, recorder, notify=said.append) as proxy:
        juliet = await Client.connect("juliet@example.com/balcony", "secret", host="127.0.0.1", port=proxy.port,
                                      verify_tls=False)
        assert await juliet.roster() == []
        await juliet.send_message("juliet@example.com/balcony", "Wherefore art thou?")
        assert (await juliet.next("message"))["body"] == "Wherefore art thou?"
        await juliet.disconnect()
        await until(lambda: not proxy.connections, proxy, what="the proxied connection closed")
        assert "0 connections" in repr(proxy)

    t = Transcript.from_events(recorder.events, recorded_by="xmpplab proxy")
    assert list(t.connections) == ["proxy-1"] and t.problems() == []
    conn = t.connections["proxy-1"]
    assert conn.jid == "juliet@example.com/balcony" and conn.tls == "TLSv1.3"
    assert (conn.mechanism, conn.user) == ("SCRAM-SHA-256", "juliet@example.com")
    assert conn.extra["upstream"] == f"127.0.0.1:{upstream.port}"
    # What the learner could not see in Wireshark: SASL, the roster and the message, after STARTTLS.
    names = [i.name for i in t.items(direction="C→S", kind=["nonza", "stanza"])]
    assert names[:3] == ["starttls", "auth", "response"] and "message" in names
    assert t.first(kind="iq", namespace="jabber:iq:roster", direction="S→C").type == "result"
    assert "Wherefore art thou?" in conn.text(Direction.S2C)
    tls = next(e for e in recorder.events if e["type"] == "tls")
    assert tls["version"] == "TLSv1.3" and tls["upstream_version"] == "TLSv1.3"
    assert recorder.events[-1] == {**recorder.events[-1], "type": "close", "clean": True}
    # The proxy forwards bytes unchanged: its recording is the server's own, both ways.
    server_side = Transcript.from_events(upstream.recorded.events).connections["c2s-1"]
    for direction in Direction:
        assert conn.text(direction, reveal_credentials=True) == server_side.text(direction, reveal_credentials=True)
    # And it said what a person watching must know: the client was given the proxy's certificate.
    assert any("STARTTLS on both legs" in s and "proxy's own certificate for example.com" in s and "SHA-256" in s
               for s in said)


@pytest.mark.parametrize("upstream", [False], indirect=True)
async def test_plaintext_upstream_is_forwarded_and_recorded(upstream, tmp_path):
    from xmpplab.recording import JsonlRecorder

    path = tmp_path / "proxy.jsonl"
    with JsonlRecorder(path, recorded_by="xmpplab proxy") as recorder:
        async with RecordingProxy("127.0.0.1", 0, "127.0.0.1", upstream.port, recorder) as proxy, \
                await RawClient.connect("127.0.0.1", proxy.port, tls="none") as romeo:
            assert await romeo.login("juliet@example.com", "secret", mechanisms=["PLAIN"]) == \
                "juliet@example.com/" + romeo.jid.partition("/")[2]
            pong = await romeo.request("<iq type='get' id='p1' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
            assert pong.get("type") == "result"

    t = Transcript.load(path)
    conn = t.connections["proxy-1"]
    assert conn.tls is None and conn.mechanism == "PLAIN" and t.problems() == []
    assert t.answer_to(t.first(kind="iq", id="p1")).type == "result"
    auth = t.first(name="auth")
    assert auth.masked and "secret" not in auth.text  # the password crossed in the clear, and is masked in views
    server_side = Transcript.from_events(upstream.recorded.events).connections["c2s-1"]
    assert conn.text("C→S", reveal_credentials=True) == server_side.text("C→S", reveal_credentials=True)


async def test_a_client_that_refuses_the_proxys_certificate_cannot_log_in(upstream):
    recorder, said = MemoryRecorder(), []
    async with RecordingProxy("127.0.0.1", 0, "127.0.0.1", upstream.port, recorder, notify=said.append) as proxy:
        client = await RawClient.connect("127.0.0.1", proxy.port, verify_tls=True)
        with pytest.raises(LoginError, match="STARTTLS failed"):
            await client.login("juliet@example.com", "secret")
        await client.close()
        await until(lambda: not proxy.connections, proxy, what="the proxied connection closed")
    assert any("the client refused the proxy's certificate for example.com" in s for s in said), said
    assert not any(e["type"] == "tls" for e in recorder.events)


async def test_an_unreachable_server_is_a_stream_error_for_the_client():
    with __import__("socket").socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    async with RecordingProxy("127.0.0.1", 0, "127.0.0.1", closed_port, MemoryRecorder(), notify=[].append) as proxy:
        client = await RawClient.connect("127.0.0.1", proxy.port)
        with pytest.raises(LoginError, match="remote-connection-failed.*cannot reach the server"):
            await client.login("juliet@example.com", "secret")
        await client.close()
