"""XEP-0114 Jabber Component Protocol: a trusted program serves a subdomain through the server.

A bot, a gateway or a game server can be an XMPP service of its own, written in any
language, without being a client: it connects to the server's component port, names the
domain it serves and proves it knows the shared secret (XEP-0114 §3)::

    C: <stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams'
                      to='bot.example.com'>
    S: <stream:stream xmlns='jabber:component:accept' xmlns:stream='…' from='bot.example.com' id='3f9a…'>
    C: <handshake>aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e</handshake>     (SHA-1 of id + secret, in hex)
    S: <handshake/>

From then on every stanza for ``bot.example.com`` (or ``anyone@bot.example.com``) goes to
the component, and the component sends stanzas from those addresses, which the server
routes like its own. The server lists the component in its disco#items.

The protocol has no TLS and trusts the component with its domain, so the component port
listens on loopback only (``127.0.0.1``), whatever address clients use. Each component name
has its secret: ``Server(components={"bot.example.com": "secret"}, component_port=5347)``,
``xmpplab serve --component bot.example.com=secret --component-port 5347``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from ..errors import error_reply
from ..jid import JID, InvalidJID
from ..stream import StreamOpened
from ..xml import NS_CLIENT, NS_COMPONENT, NS_STREAM, serialize, split_qname, to_namespace
from .connection import StreamConnection

log = logging.getLogger("xmpplab.server")

COMPONENT_HOST = "127.0.0.1"  # components are trusted and their protocol has no TLS: loopback only


def handshake(stream_id: str, secret: str) -> str:
    """XEP-0114 §3: the handshake a component sends, lowercase hex SHA-1 of the stream id and the secret.

    >>> handshake("3BF96D32", "sesame")
    '7a98dc4c9e92493d7fd66a25364c862637789c45'
    """
    return hashlib.sha1((stream_id + secret).encode("utf-8")).hexdigest()


class ComponentConnection(StreamConnection):
    """One external component's connection (XEP-0114 "accept" method)."""

    kind = "component"
    role = "receiving"

    def __init__(self, server):
        super().__init__(server)
        self.domain: str | None = None
        self.ready = False

    # StreamConnection hooks ---------------------------------------------------------------
    def opened(self) -> None:
        """Components connect over loopback only (the listener is bound there); nothing to check yet."""

    def stream_opened(self, ev: StreamOpened) -> None:
        """The header names the component (XEP-0114 §3): answer with ours, or close the stream."""
        if self.stream_id is not None:
            return self.close("policy-violation", "a component's stream is opened once")
        if ev.default_ns != NS_COMPONENT:
            return self.close("invalid-namespace", f"a component's stream is in {NS_COMPONENT}")
        try:
            name = JID(ev.attrs.get("to") or "").domain
        except InvalidJID:
            name = None
        self.stream_id = secrets.token_hex(8)
        self.domain = name
        self.write(f"<?xml version='1.0'?><stream:stream xmlns='{NS_COMPONENT}' xmlns:stream='{NS_STREAM}' "
                   f"from='{name or self.server.default_domain}' id='{self.stream_id}'>")
        if name is None or name not in self.server.component_secrets:
            return self.close("host-unknown", f"this server has no component {ev.attrs.get('to')!r}")
        if name in self.server.components:
            return self.close("conflict", f"{name} is already connected")

    def send_error_header(self) -> None:
        """Our stream header, before a stream error when none was sent yet."""
        self.stream_id = secrets.token_hex(8)
        self.write(f"<?xml version='1.0'?><stream:stream xmlns='{NS_COMPONENT}' xmlns:stream='{NS_STREAM}' "
                   f"from='{self.server.default_domain}' id='{self.stream_id}'>")

    def element(self, el) -> None:
        """The handshake first; then stanzas from the component's addresses, routed like the server's own."""
        ns, name = split_qname(el.tag)
        if not self.ready:
            if ns != NS_COMPONENT or name != "handshake":
                return self.close("not-authorized", "send the <handshake/> first (XEP-0114 §3)")
            expected = handshake(self.stream_id, self.server.component_secrets[self.domain])
            if not hmac.compare_digest((el.text or "").strip().lower().encode(), expected.encode()):
                log.info("%s: component %s sent a wrong handshake", self.conn_id, self.domain)
                return self.close("not-authorized", "the handshake does not match the shared secret")
            self.ready = True
            self.write(f"<handshake xmlns='{NS_COMPONENT}'/>")
            self.server.add_component(self.domain, self._deliver)
            log.info("%s: component %s connected", self.conn_id, self.domain)
            return None
        if ns != NS_COMPONENT or name not in ("message", "presence", "iq"):
            return self.close("unsupported-stanza-type", f"<{name}/> is not a stanza")
        try:
            frm = JID(el.get("from") or "")
        except InvalidJID:
            frm = None
        if frm is None or frm.domain != self.domain:
            return self.close("invalid-from", f"a component sends from its own domain, {self.domain}")
        self.server.router.route(to_namespace(el, NS_CLIENT), origin=None)
        return None

    def _deliver(self, event) -> None:
        """A stanza for the component's domain: write it on this stream (in the component namespace)."""
        if self.closed:
            if event.stanza.get("type") != "error":
                event.server.router.route(error_reply(event.stanza, "service-unavailable"))
            return
        self.write(serialize(event.stanza, NS_COMPONENT))

    def lost(self) -> None:
        """The component is gone: its domain is no longer served."""
        if self.ready and self.server.components.get(self.domain) == self._deliver:
            del self.server.components[self.domain]
            log.info("%s: component %s disconnected", self.conn_id, self.domain)
