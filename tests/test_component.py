"""XEP-0114 external components: a program serves a subdomain through the server, on loopback, with a secret."""

import asyncio

import pytest
from lxml import etree

from tests.support_stanzas import online
from xmpplab.server import Server
from xmpplab.server.component import handshake
from xmpplab.stream import StanzaReceived, StreamOpened, StreamParser

HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='{to}'>")


def text(el) -> str:
    """An element as XML, or what the parser said."""
    return etree.tostring(el, encoding=str) if hasattr(el, "tag") else str(el)


class Component:
    """A component speaking the wire protocol by hand."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.parser = StreamParser(max_stanza_bytes=1 << 20)
        self.events, self.header = [], None

    @classmethod
    async def connect(cls, port):
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def _read(self) -> bool:
        data = await asyncio.wait_for(self.reader.read(65536), 5)
        if not data:
            self.events.append("EOF")
            return False
        for ev in self.parser.feed(data):
            if isinstance(ev, StreamOpened):
                self.header = ev
            elif isinstance(ev, StanzaReceived):
                self.events.append(ev.element)
            else:
                self.events.append(ev)
        return True

    async def next(self):
        while not self.events:
            data = await asyncio.wait_for(self.reader.read(65536), 5)
            if not data:
                return "EOF"
            for ev in self.parser.feed(data):
                if isinstance(ev, StreamOpened):
                    self.header = ev
                elif isinstance(ev, StanzaReceived):
                    self.events.append(ev.element)
                else:
                    self.events.append(ev)
        return self.events.pop(0)

    async def open(self, to, secret):
        self.writer.write(HEADER.format(to=to).encode())
        while self.header is None and not self.events:
            await self._read()
        if self.events:  # refused at once: the stream error
            return self.events.pop(0)
        self.writer.write(f"<handshake>{handshake(self.header.attrs['id'], secret)}</handshake>".encode())
        return await self.next()

    def send(self, xml):
        self.writer.write(xml.encode())


@pytest.fixture
async def server():
    srv = await Server(["example.com"], components={"bot.example.com": "sesame"}, component_port=0).start()
    srv.accounts.add("juliet@example.com", "secret")
    try:
        yield srv
    finally:
        await srv.stop()


async def test_a_component_serves_its_domain_both_ways(server, raw):
    bot = await Component.connect(server.component_port)
    done = await bot.open("bot.example.com", "sesame")
    assert done.tag == "{jabber:component:accept}handshake"
    juliet = await online(raw, "juliet@example.com")
    items = await juliet.request("<iq type='get' id='d' to='example.com'>"
                                 "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>")
    assert "bot.example.com" in [i.get("jid") for i in items.iter("{http://jabber.org/protocol/disco#items}item")]
    await juliet.send("<message to='oracle@bot.example.com' type='chat' id='q1'><body>Will he come?</body></message>")
    asked = await bot.next()
    assert asked.tag == "{jabber:component:accept}message" and asked.get("from") == "juliet@example.com/test"
    bot.send("<message from='oracle@bot.example.com' to='juliet@example.com/test' type='chat'>"
             "<body>He will.</body></message>")
    answer = await juliet.recv()
    assert answer.tag == "{jabber:client}message" and answer.findtext("{jabber:client}body") == "He will."


async def test_a_wrong_secret_an_unknown_name_and_a_spoofed_from_end_the_stream(server):
    wrong = await Component.connect(server.component_port)
    assert "not-authorized" in text(await wrong.open("bot.example.com", "guess"))
    unknown = await Component.connect(server.component_port)
    assert "host-unknown" in text(await unknown.open("evil.example.com", "sesame"))
    bot = await Component.connect(server.component_port)
    await bot.open("bot.example.com", "sesame")
    bot.send("<message from='juliet@example.com' to='juliet@example.com' type='chat'><body>me</body></message>")
    assert "invalid-from" in text(await bot.next())


async def test_without_the_component_its_domain_is_unreachable(server, raw):
    juliet = await online(raw, "juliet@example.com")
    await juliet.send("<message to='bot.example.com' type='chat' id='m'><body>anyone?</body></message>")
    bounce = await juliet.recv()
    assert bounce.get("type") == "error"


def test_bad_component_settings_are_one_sentence():
    with pytest.raises(ValueError, match="served by the server itself"):
        Server(["example.com"], components={"example.com": "x"}, component_port=0)
    with pytest.raises(ValueError, match="needs components"):
        Server(["example.com"], component_port=0)
    with pytest.raises(ValueError, match="needs a shared secret"):
        Server(["example.com"], components={"bot.example.com": ""}, component_port=0)


async def test_the_component_port_is_on_loopback_only(server):
    assert server._listeners  # the listener for components is bound to 127.0.0.1 whatever the client host
    socks = [s.getsockname()[0] for lst in server._listeners for s in lst.sockets
             if s.getsockname()[1] == server.component_port]
    assert socks == ["127.0.0.1"]



@pytest.mark.timeout(60)
async def test_slixmpp_component_answers_a_client(server, raw):
    """A real component library (slixmpp's ComponentXMPP) connects, shakes hands, and answers Juliet."""
    import slixmpp

    bot = slixmpp.ComponentXMPP("bot.example.com", "sesame", "127.0.0.1", server.component_port)
    ready = asyncio.Event()
    bot.add_event_handler("session_start", lambda _: ready.set())
    bot.add_event_handler("message", lambda msg: msg.reply(f"echo: {msg['body']}").send())
    bot.connect()
    try:
        await asyncio.wait_for(ready.wait(), 10)
        juliet = await online(raw, "juliet@example.com")
        await juliet.send("<message to='echo@bot.example.com' type='chat'><body>hello</body></message>")
        answer = await juliet.recv()
        assert answer.findtext("{jabber:client}body") == "echo: hello"
        assert answer.get("from") == "echo@bot.example.com"
    finally:
        bot.disconnect()
