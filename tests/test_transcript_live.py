"""Transcripts of a live server: built as events arrive, answers found across connections."""


from tests.support_wait import until
from xmpplab.transcript import Direction, Transcript

C2S, S2C = Direction.C2S, Direction.S2C
VERSION_GET = "<iq type='get' id='v1' to='romeo@example.net/orchard'><query xmlns='jabber:iq:version'/></iq>"
VERSION_RESULT = ("<iq type='result' id='v1' to='juliet@example.com/balcony'><query xmlns='jabber:iq:version'>"
                  "<name>orchard-client</name></query></iq>")


async def juliet_asks_romeo(raw):
    juliet, romeo = await raw(), await raw()
    await juliet.login("juliet@example.com/balcony")
    await romeo.login("romeo@example.net/orchard")
    await juliet.send(VERSION_GET)
    await romeo.recv()
    await romeo.send(VERSION_RESULT)
    await juliet.recv()
    return juliet, romeo


async def test_the_parsed_view_follows_live_events(server, raw):
    t = Transcript(recorded_by="xmpplab server")
    seen = []
    t.watch(seen.append)
    server.recorder = t.add
    juliet, romeo = await juliet_asks_romeo(raw)
    await juliet.close()
    await romeo.close()
    await until(lambda: not server.connections, server, what="both connections closed on the server")
    assert [c.jid for c in t.connections.values()] == ["juliet@example.com/balcony", "romeo@example.net/orchard"]
    # What the watcher saw, item by item as chunks arrived, is what a fresh parse of all events gives.
    fresh = Transcript.from_events(list(t.events(reveal_credentials=True)))
    assert [(i.conn, i.direction, i.kind, i.text) for i in seen] == \
        [(i.conn, i.direction, i.kind, i.text) for i in fresh]
    assert len(seen) == len(t) and t.problems() == []
    assert [i.name for i in seen if i.kind == "stream-close"] == ["stream"] * 4


async def test_a_lazily_built_view_keeps_up_with_later_events(server, raw):
    events = []
    server.recorder = events.append
    juliet = await raw()
    await juliet.login("juliet@example.com/balcony")
    t = Transcript.from_events(events)
    before = len(t)  # builds the view
    server.recorder = t.add
    reply = await juliet.request("<iq type='get' id='p1' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert reply.get("type") == "result"
    ping = t.first(kind="iq", id="p1", direction="C→S")
    assert len(t) == before + 2 and t.answer_to(ping).from_ == "example.com"


async def test_answer_to_and_route_across_connections(server, raw):
    events = []
    server.recorder = events.append
    await juliet_asks_romeo(raw)
    t = Transcript.from_events(events)
    juliet = next(c.id for c in t.connections.values() if c.jid.startswith("juliet"))
    romeo = next(c.id for c in t.connections.values() if c.jid.startswith("romeo"))
    request = t.first(conn=juliet, kind="iq", id="v1", direction="C→S")
    # What juliet got back, on her own connection:
    answer = t.answer_to(request)
    assert (answer.conn, answer.direction, answer.from_) == (juliet, S2C, "romeo@example.net/orchard")
    # The request's way through the server, and romeo's answer on his connection:
    delivered = t.route(request)[1]
    assert (delivered.conn, delivered.direction, delivered.from_) == (romeo, S2C, "juliet@example.com/balcony")
    romeos_answer = t.answer_to(delivered)
    assert (romeos_answer.conn, romeos_answer.direction, romeos_answer.text) == (romeo, C2S, VERSION_RESULT)
    assert t.request_for(romeos_answer) is delivered and t.request_for(answer) is request
    # Had the recording missed the result reaching juliet, the answer is found where romeo sent it.
    lost = [e for e in events if not (e["conn"] == juliet and "type=\"result\" id=\"v1\"" in e.get("data", ""))]
    assert len(lost) == len(events) - 1
    partial = Transcript.from_events(lost)
    assert partial.answer_to(partial.first(conn=juliet, id="v1")).text == VERSION_RESULT


async def test_what_serve_record_writes_loads_as_a_transcript(server, raw, tmp_path):
    from xmpplab.recording import JsonlRecorder

    with JsonlRecorder(tmp_path / "rec.jsonl") as recorder:
        server.recorder = recorder
        juliet = await raw()
        await juliet.login("juliet@example.com/balcony", tls=True)
        await juliet.close()
        await until(lambda: not server.connections, server, what="the connection closed on the server")
    t = Transcript.load(tmp_path / "rec.jsonl")
    [conn] = t.connections.values()
    assert (conn.jid, conn.tls, conn.mechanism) == ("juliet@example.com/balcony", "TLSv1.3", "PLAIN")
    assert [i.name for i in t.items(kind="nonza", direction="C→S")] == ["starttls", "auth"]
    assert t.problems() == [] and "AGp1bGlldABzZWNyZXQ=" not in t.first(name="auth").text
