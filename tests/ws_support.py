"""A raw XMPP-over-WebSocket test client (RFC 7395): one XML element per message, as a browser client sends."""

from __future__ import annotations

import asyncio
import base64

from lxml import etree
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support import insecure_context

NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
OPEN = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='{to}' version='1.0'/>"
CLOSE = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"


def ws_url(server, path: str = "/xmpp-websocket") -> str:
    """The server's WebSocket URL (wss:// when it has TLS)."""
    scheme = "wss" if server.tls_context is not None else "ws"
    return f"{scheme}://127.0.0.1:{server.http_port}{path}"


class WsClient:
    """``c = await WsClient.open(server)``; ``await c.send(xml)``; ``el = await c.recv()``.

    ``recv()`` returns the next message parsed as one element, or the string
    ``"closed CODE"`` once the WebSocket is closed (CODE: the server's close code).
    """

    def __init__(self, ws):
        self.ws = ws
        self.jid: str | None = None

    @classmethod
    async def open(cls, server, subprotocols=("xmpp",), **options) -> WsClient:
        """Connect to a :class:`~xmpplab.server.Server`'s WebSocket endpoint."""
        return await cls.connect(ws_url(server), subprotocols, **options)

    @classmethod
    async def connect(cls, url: str, subprotocols=("xmpp",), **options) -> WsClient:
        """Connect to ``ws://`` or ``wss://`` (any certificate accepted)."""
        if url.startswith("wss:"):
            options.setdefault("ssl", insecure_context())
        ws = await connect(url, subprotocols=list(subprotocols) or None, open_timeout=10, **options)
        return cls(ws)

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol

    async def send(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def recv(self, timeout: float = 5.0):
        try:
            message = await asyncio.wait_for(self.ws.recv(), timeout)
        except ConnectionClosed as exc:
            return f"closed {exc.rcvd.code if exc.rcvd else None}"
        return etree.fromstring(message.encode() if isinstance(message, str) else message)

    async def recv_text(self, timeout: float = 5.0) -> str:
        return await asyncio.wait_for(self.ws.recv(), timeout)

    async def open_stream(self, to: str = "example.com"):
        """Send ``<open/>``; return the server's ``<open/>`` and its features."""
        await self.send(OPEN.format(to=to))
        return await self.recv(), await self.recv()

    async def login(self, jid: str, password: str = "secret", resource: str = "web") -> str:
        """Open, SASL PLAIN, restart, bind; return the bound JID."""
        local, _, domain = jid.partition("@")
        await self.open_stream(domain)
        token = base64.b64encode(f"\0{local}\0{password}".encode()).decode()
        await self.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
        success = await self.recv()
        assert etree.QName(success).localname == "success", success
        await self.open_stream(domain)
        await self.send("<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                        f"<resource>{resource}</resource></bind></iq>")
        result = await self.recv()
        self.jid = result.findtext(".//{urn:ietf:params:xml:ns:xmpp-bind}jid")
        assert self.jid, etree.tostring(result)
        return self.jid

    async def close(self) -> None:
        await self.ws.close()
