"""XEP-0357 push notifications: a message waiting for an account wakes its app through the app's push service.

The push service is a real component library (slixmpp's ComponentXMPP) on push.example.com, as an app
server's would be; Juliet's app enables it, Romeo writes while she is away, and the service receives the
publish the XEP describes, with the count and the sender but never the body.
"""

import asyncio
from xml.etree import ElementTree

import pytest
import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from tests.support_stanzas import condition, online
from xmpplab.server import Server
from xmpplab.server.modules.push import ENABLED, NS_PUSH

PUBSUB = "http://jabber.org/protocol/pubsub"
DATA = "{jabber:x:data}"
J, R = "juliet@example.com", "romeo@example.net"
ENABLE = f"<iq type='set' id='on'><enable xmlns='{NS_PUSH}' jid='push.example.com' node='juliets-phone'/></iq>"


class PushService:
    """The app server's XMPP push service: takes every publish, answers result (or the error it is told to)."""

    def __init__(self, port: int, answer: str = "result"):
        self.answer = answer
        self.got: asyncio.Queue = asyncio.Queue()
        self.xmpp = slixmpp.ComponentXMPP("push.example.com", "sesame", "127.0.0.1", port)
        self.ready = asyncio.Event()
        self.xmpp.add_event_handler("session_start", lambda _: self.ready.set())
        self.xmpp.register_handler(Callback("push", MatchXPath(f"{{jabber:component:accept}}iq/{{{PUBSUB}}}pubsub"),
                                            self._publish))

    def _publish(self, iq) -> None:
        self.got.put_nowait(iq.xml)
        reply = iq.reply(clear=True)
        if self.answer != "result":
            reply["type"] = "error"
            reply["error"]["condition"] = self.answer
        reply.send()

    async def start(self) -> "PushService":
        self.xmpp.connect()
        await asyncio.wait_for(self.ready.wait(), 10)
        return self

    async def next(self, timeout: float = 5.0):
        return await asyncio.wait_for(self.got.get(), timeout)

    def stop(self) -> None:
        self.xmpp.disconnect()


def summary(publish) -> dict[str, str]:
    """The urn:xmpp:push:summary form of a publish, field by field."""
    form = publish.find(f".//{{{NS_PUSH}}}notification/{DATA}x")
    return {f.get("var"): f.findtext(f"{DATA}value") for f in form.iter(f"{DATA}field")}


@pytest.fixture
async def server():
    """Juliet's and Romeo's server, with the app server's push service's component domain."""
    srv = await Server(["example.com", "example.net"], components={"push.example.com": "sesame"},
                       component_port=0).start()
    for jid in (J, R):
        srv.accounts.add(jid, "secret")
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def lab(server):
    service = await PushService(server.component_port).start()
    try:
        yield server, service
    finally:
        service.stop()


async def test_the_account_advertises_push(raw):
    c = await online(raw, J)
    info = await c.request(f"<iq type='get' id='d' to='{J}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
    assert NS_PUSH in {f.get("var") for f in info.iter("{http://jabber.org/protocol/disco#info}feature")}


async def test_a_message_for_an_absent_account_is_pushed_with_count_and_sender_not_the_body(lab, raw):
    server, service = lab
    phone = await online(raw, J)
    assert (await phone.request(ENABLE)).get("type") == "result"
    await phone.close()
    romeo = await online(raw, R)
    await romeo.send(f"<message to='{J}' type='chat'><body>Wherefore art thou?</body></message>")
    first = await service.next()
    assert first.get("from") == J and first.get("to") == "push.example.com"
    assert first.find(f"{{{PUBSUB}}}pubsub/{{{PUBSUB}}}publish").get("node") == "juliets-phone"
    assert summary(first) == {"FORM_TYPE": "urn:xmpp:push:summary", "message-count": "1",
                              "last-message-sender": f"{R}/test"}
    assert "Wherefore" not in ElementTree.tostring(first, encoding="unicode")  # the body stays with her server
    await romeo.send(f"<message to='{J}' type='chat'><body>Answer me!</body></message>")
    assert summary(await service.next())["message-count"] == "2"
    # she comes back: both messages are there, and the count starts again
    back = await online(raw, J, presence=None)
    await back.send("<presence/>")
    bodies = []
    while len(bodies) < 2:
        got = await back.recv()
        if got.tag == "{jabber:client}message":
            bodies.append(got.findtext("{jabber:client}body"))
    assert bodies == ["Wherefore art thou?", "Answer me!"]
    await back.close()
    await romeo.send(f"<message to='{J}' type='chat'><body>Again?</body></message>")
    assert summary(await service.next())["message-count"] == "1"


async def test_publish_options_go_with_every_publish_and_disable_stops_them(lab, raw):
    server, service = lab
    phone = await online(raw, J)
    with_secret = (f"<iq type='set' id='on2'><enable xmlns='{NS_PUSH}' jid='push.example.com' node='n2'>"
                   "<x xmlns='jabber:x:data' type='submit'>"
                   "<field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
                   "<field var='secret'><value>eruio234</value></field></x></enable></iq>")
    assert (await phone.request(with_secret)).get("type") == "result"
    await phone.close()
    romeo = await online(raw, R)
    await romeo.send(f"<message to='{J}' type='chat'><body>one</body></message>")
    pushed = await service.next()
    secret = pushed.find(f".//{{{PUBSUB}}}publish-options/{DATA}x/{DATA}field[@var='secret']")
    assert secret is not None and secret.findtext(f"{DATA}value") == "eruio234"
    phone = await online(raw, J, presence=None)
    assert (await phone.request(f"<iq type='set' id='off'><disable xmlns='{NS_PUSH}' jid='push.example.com'/></iq>"
                                )).get("type") == "result"
    await phone.close()
    assert ENABLED.of(server).get(J) is None
    await romeo.send(f"<message to='{J}' type='chat'><body>two</body></message>")
    with pytest.raises(TimeoutError):
        await service.next(timeout=1.0)


async def test_a_service_that_answers_with_an_error_is_disabled(lab, raw):
    server, service = lab
    service.answer = "item-not-found"  # the app server forgot this phone
    phone = await online(raw, J)
    await phone.request(ENABLE)
    await phone.close()
    romeo = await online(raw, R)
    await romeo.send(f"<message to='{J}' type='chat'><body>hello?</body></message>")
    await service.next()
    for _ in range(100):  # the error answer travels back through the component's stream
        if ENABLED.of(server).get(J) is None:
            break
        await asyncio.sleep(0.05)  # another process's answer: nothing in this loop to wait on
    assert ENABLED.of(server).get(J) is None
    await romeo.send(f"<message to='{J}' type='chat'><body>anyone?</body></message>")
    with pytest.raises(TimeoutError):
        await service.next(timeout=1.0)


async def test_bad_enables_get_one_clear_error(raw):
    phone = await online(raw, J)
    no_jid = f"<iq type='set' id='b1'><enable xmlns='{NS_PUSH}' node='n'/></iq>"
    no_node = f"<iq type='set' id='b2'><enable xmlns='{NS_PUSH}' jid='push.example.com'/></iq>"
    wrong_form = (f"<iq type='set' id='b3'><enable xmlns='{NS_PUSH}' jid='push.example.com' node='n'>"
                  "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:other</value></field>"
                  "</x></enable></iq>")
    for bad in (no_jid, no_node, wrong_form):
        assert condition(await phone.request(bad)) == "bad-request"


async def test_enabled_services_survive_a_restart(tmp_path):
    db = str(tmp_path / "lab.sqlite")
    first = await Server(["example.com"], db=db).start()
    first.accounts.add(J, "secret")
    from tests.support import RawClient
    c = await RawClient.open(first.port)
    await c.login(J)
    await c.request(ENABLE)
    await c.close()
    await first.stop()
    second = await Server(["example.com"], db=db).start()
    try:
        assert ENABLED.of(second)[J] == {("push.example.com", "juliets-phone"): None}
    finally:
        await second.stop()


async def test_a_message_waiting_in_a_dropped_session_is_pushed_once(lab, raw, monkeypatch):
    """The phone's connection drops (XEP-0198 keeps the session): Romeo's message waits in it, and is pushed.
    When nobody resumes and it moves to offline storage, no second notification goes out."""
    from tests.support_roster import put_state
    from tests.support_wait import until
    from xmpplab.server.modules import sm
    monkeypatch.setattr(sm, "RESUME_SECONDS", 0.3)
    server, service = lab
    put_state(server, J, R, "both")
    put_state(server, R, J, "both")
    phone = await online(raw, J)
    await phone.request(ENABLE)
    await phone.send(f"<enable xmlns='{sm.NS_SM}' resume='true'/>")
    while (await phone.recv()).tag != f"{{{sm.NS_SM}}}enabled":
        pass
    romeo = await online(raw, R)
    phone.writer.transport.abort()  # the train enters the tunnel
    await until(lambda: any(s.detached for s in sm.RESUMABLE.of(server).values()), server, what="the session kept")
    await romeo.send(f"<message to='{J}/test' type='chat'><body>in the tunnel?</body></message>")
    assert summary(await service.next())["message-count"] == "1"
    await until(lambda: not sm.RESUMABLE.of(server), server, what="the session given up")
    with pytest.raises(TimeoutError):
        await service.next(timeout=1.0)
