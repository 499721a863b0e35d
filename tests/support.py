"""Test clients: a raw XML client built on xmpplab's own stream core and negotiator, and a thin slixmpp wrapper."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ssl

from lxml import etree

from xmpplab.negotiation import ClientNegotiator, Failed, Ready, Restart, Send, Stanza, StartTLS
from xmpplab.stream import StanzaReceived, StreamClosed, StreamOpened, StreamParser, StreamViolation
from xmpplab.xml import parse_fragment, serialize

HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='{to}' version='1.0'>")


def insecure_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class RawClient:
    """Speak XML directly: ``await c.send("<message/>")``, ``el = await c.recv()``.

    ``recv()`` returns the next element at depth 1 (a stanza, features, a stream error),
    or the string ``"</stream:stream>"`` when the server closed its stream, or
    ``"EOF"`` when the connection closed.
    """

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.parser = StreamParser(max_stanza_bytes=10 * 1024 * 1024)
        self.events: asyncio.Queue = asyncio.Queue()
        self.header = None
        self.jid = None
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, port: int, host: str = "127.0.0.1"):
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def _read(self):
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                for ev in self.parser.feed(data):
                    if isinstance(ev, StreamOpened):
                        self.header = ev
                    elif isinstance(ev, StanzaReceived):
                        self.events.put_nowait(ev.element)
                    elif isinstance(ev, StreamClosed):
                        self.events.put_nowait("</stream:stream>")
                    elif isinstance(ev, StreamViolation):
                        self.events.put_nowait(f"violation: {ev.condition}")
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            self.events.put_nowait("EOF")

    async def send(self, data: str | bytes) -> None:
        self.writer.write(data.encode() if isinstance(data, str) else data)
        await self.writer.drain()

    async def recv(self, timeout: float = 5.0):
        return await asyncio.wait_for(self.events.get(), timeout)

    async def expect_nothing(self, timeout: float = 0.3) -> None:
        try:
            got = await asyncio.wait_for(self.events.get(), timeout)
        except TimeoutError:
            return
        raise AssertionError(f"expected nothing, got {got if isinstance(got, str) else serialize(got)}")

    async def open_stream(self, to: str = "example.com") -> etree._Element:
        """Send a stream header; return the features element."""
        await self.send(HEADER.format(to=to))
        return await self.recv()

    async def starttls(self, to: str = "example.com"):
        """Send <starttls/>, expect <proceed/>, do the handshake (the stream is not reopened)."""
        await self.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        proceed = await self.recv()
        assert etree.QName(proceed).localname == "proceed", proceed
        await self._tls_handshake(to)

    async def _tls_handshake(self, to: str) -> None:
        self._task.cancel()
        await asyncio.sleep(0)  # let the reading task end before the transport changes under it
        await self.writer.start_tls(insecure_context(), server_hostname=to)
        self.parser.reset()
        self.events = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def login(self, jid: str, password: str = "secret", resource: str | None = "test", tls: bool = False):
        """Open the stream, (STARTTLS,) authenticate with PLAIN, restart, bind: xmpplab's ClientNegotiator
        does the steps. Returns the bound JID."""
        local, _, domain = jid.partition("@")
        domain, _, res = domain.partition("/")
        neg = ClientNegotiator(domain, user=local, password=password, mechanisms=("PLAIN",), resource=res or resource,
                               tls="required" if tls else "none")
        actions, aside = collections.deque(neg.start()), []
        while True:
            while actions:
                action = actions.popleft()
                if isinstance(action, Send):
                    await self.send(action.data)
                elif isinstance(action, Restart):
                    self.parser.reset()
                elif isinstance(action, StartTLS):
                    await self._tls_handshake(domain)
                    actions.extend(neg.tls_established())
                elif isinstance(action, Stanza):
                    aside.append(action.element)  # not part of the negotiation: left for recv()
                elif isinstance(action, Failed):
                    raise AssertionError(f"login failed: {action.reason}")
                elif isinstance(action, Ready):
                    for el in aside:
                        self.events.put_nowait(el)
                    self.jid = action.jid
                    return self.jid
            got = await self.recv()
            if isinstance(got, str):
                raise AssertionError(f"login failed: {got}")
            actions.extend(neg.element(got))

    async def request(self, xml: str, timeout: float = 5.0):
        """Send an iq and return the answer with the same id (other stanzas are kept for recv)."""
        el = parse_fragment(xml)
        await self.send(xml)
        skipped = []
        try:
            while True:
                got = await self.recv(timeout)
                if not isinstance(got, str) and got.get("id") == el.get("id") and etree.QName(got).localname == "iq":
                    return got
                if isinstance(got, str):
                    raise AssertionError(f"stream ended while waiting for iq {el.get('id')}: {got}")
                skipped.append(got)
        finally:
            for s in skipped:
                self.events.put_nowait(s)

    async def close(self) -> None:
        try:
            if not self.writer.is_closing():
                self.writer.write(b"</stream:stream>")
                self.writer.close()
        except Exception:
            pass
        self._task.cancel()


class SlixClient:
    """A logged-in slixmpp ClientXMPP with a queue of what it received."""

    def __init__(self, xmpp):
        self.xmpp = xmpp
        self.messages: asyncio.Queue = asyncio.Queue()
        self.presences: asyncio.Queue = asyncio.Queue()
        xmpp.add_event_handler("message", self.messages.put_nowait)
        xmpp.add_event_handler("presence", self.presences.put_nowait)

    def __getattr__(self, name):
        return getattr(self.xmpp, name)

    async def close(self):
        if self.xmpp.transport is not None:
            self.xmpp.disconnect()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.xmpp.disconnected, 5)


async def slix_client(port: int, jid: str, password: str = "secret", presence: bool = True,
                      plugins=("xep_0030", "xep_0199", "xep_0092", "xep_0077")) -> SlixClient:
    import slixmpp

    xmpp = slixmpp.ClientXMPP(jid, password)
    xmpp.enable_direct_tls = False  # slixmpp 1.17 tries direct TLS first, then STARTTLS
    xmpp.ssl_context = insecure_context()
    for p in plugins:
        xmpp.register_plugin(p)
    started = asyncio.Event()
    failed: list = []
    xmpp.add_event_handler("session_start", lambda _: started.set())
    xmpp.add_event_handler("failed_auth", lambda _: failed.append("failed_auth") or started.set())
    client = SlixClient(xmpp)
    xmpp.connect("127.0.0.1", port)
    await asyncio.wait_for(started.wait(), 15)
    if failed:
        await client.close()
        raise AssertionError(f"{jid} could not log in")
    if presence:
        xmpp.send_presence()
    return client
