"""What a modern chat app adds to a :class:`~xmpplab.client.Client`: carbons, history, a network cut, avatars, files.

Chapter 18 ("From stanzas to WhatsApp") uses these; each is one XEP the XMPP
Standards Foundation's compliance suites (XEP-0479) ask of an IM client::

    await laptop.enable_carbons()                        # XEP-0280 §4: see what the phone sends
    await laptop.history(with_="romeo@example.net")      # XEP-0313 §4: the archive, newest last
    await phone.enable_sm()                              # XEP-0198 §3: acks, and a session that survives
    async with phone.cut():                              # the train enters a tunnel ...
        await romeo.send_message("juliet@example.com/phone", "Art thou there?")
    # ... and leaves it: the phone reconnects, resuming its session (XEP-0198 §5)
    await juliet.publish_avatar(png)                     # XEP-0084 §4 over PEP (XEP-0163)
    await romeo.want_avatars()                           # XEP-0163 §4 with XEP-0115 caps: "+notify"
    await romeo.avatar_of("juliet@example.com")          # XEP-0084 §4.2: the picture
    url = await juliet.upload("balcony.png", png)        # XEP-0363 §4-§5: a slot, then HTTP PUT
    await romeo.download(url)                            # HTTP GET: the picture

Every one is a few stanzas the stream view shows; :class:`MessagingMixin` is a
base class of :class:`~xmpplab.client.Client`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import http.client
import select
import ssl
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from .client_errors import ClientError, IqError
from .jid import JID
from .ns import NS_CARBONS, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_FORWARD, NS_MAM, NS_RSM
from .pinning import of_der
from .xml import NS_CLIENT

__all__ = ["History", "MessagingMixin", "Picture"]

NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_AVATAR_DATA = "urn:xmpp:avatar:data"
NS_AVATAR_METADATA = "urn:xmpp:avatar:metadata"
NS_CAPS = "http://jabber.org/protocol/caps"
NS_UPLOAD = "urn:xmpp:http:upload:0"
CAPS_NODE = "https://xmpplab.example/client"
#: How long a cut connection waits, at most, for what the server sends into it before it drops (seconds).
IN_FLIGHT_WAIT = 2.0


@dataclass(frozen=True)
class Picture:
    """An image's bytes (an avatar, a downloaded file) that a notebook shows as the picture itself."""

    data: bytes
    type: str = "image/png"

    def _repr_png_(self):
        return self.data if self.type == "image/png" else None

    def _repr_jpeg_(self):
        return self.data if self.type == "image/jpeg" else None

    def __repr__(self) -> str:
        return f"<Picture {self.type}, {len(self.data)} bytes>"


class History(list):
    """The archived messages :meth:`MessagingMixin.history` returns (slixmpp messages), oldest first."""

    def __repr__(self) -> str:
        if not self:
            return "(no archived messages)"
        return "\n".join(f"{m['from']} → {m['to']}: {m['body']}" for m in self)


def _put(url: str, data: bytes, headers: dict, kind: str, pin=None) -> int:
    """HTTP PUT ``data`` to ``url`` (blocking; run in a thread); the status code."""
    req = urllib.request.Request(url, data=data, method="PUT", headers={**headers, "Content-Type": kind})
    with _open(req, pin) as answer:
        return answer.status


def _get(url: str, pin=None) -> tuple[bytes, str]:
    """HTTP GET ``url`` (blocking; run in a thread): the body and its content type."""
    with _open(urllib.request.Request(url), pin) as answer:
        return answer.read(), answer.headers.get_content_type()


def _open(req: urllib.request.Request, pin):
    """Open ``req``: on the Lab's own server (``pin`` None) any certificate, as Lab clients do; with ``pin`` (a
    class server's: its host and a check of :mod:`xmpplab.pinning`), that host's certificate must pass the check,
    before anything is sent, and any other host's is checked against the CAs."""
    if pin is None:
        return urllib.request.urlopen(req, context=_lab_tls(), timeout=10)  # noqa: S310 (lab's own URL)
    host, check = pin
    if req.type == "https" and urllib.parse.urlsplit(req.full_url).hostname == host.strip("[]").lower():
        opener = urllib.request.build_opener(_PinnedHTTPS(check))
    else:
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ssl.create_default_context()))
    try:
        return opener.open(req, timeout=10)
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, _Refused):
            raise ClientError(str(exc.reason)) from None
        raise


class _Refused(ssl.SSLError):
    """A pinned HTTPS server showed a certificate the check refuses."""


class _PinnedHTTPS(urllib.request.HTTPSHandler):
    """HTTPS whose server certificate is checked by its SHA-256 fingerprint (:mod:`xmpplab.pinning`), not by CAs."""

    def __init__(self, check):
        super().__init__(context=_lab_tls())
        self.check = check

    def https_open(self, req):
        """Open ``req`` on a connection that checks the certificate right after the handshake."""
        check = self.check

        class Pinned(http.client.HTTPSConnection):
            def connect(self):
                super().connect()
                refusal = check(of_der(self.sock.getpeercert(True)))
                if refusal:
                    self.close()
                    raise _Refused(refusal)

        return self.do_open(Pinned, req, context=self._context)


def _lab_tls() -> ssl.SSLContext:
    """The Lab's HTTPS has a certificate of its own (like its XMPP port): accept it, as Lab clients do."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _caps_ver(identity: tuple[str, str, str], features: list[str]) -> str:
    """XEP-0115 §5.1: the sha-1 verification string of one identity and the features, base64."""
    text = "/".join((identity[0], identity[1], "", identity[2])) + "<" + "".join(f + "<" for f in sorted(features))
    return base64.b64encode(hashlib.sha1(text.encode()).digest()).decode()  # noqa: S324 (XEP-0115 names sha-1)


class MessagingMixin:
    """Helpers for the XEPs that make XMPP feel like WhatsApp (chapter 18); each names its XEP section."""

    # ------------------------------------------------------------------ XEP-0280 carbons
    async def enable_carbons(self) -> None:
        """Turn message carbons on for this session (XEP-0280 §4): copies of what the account's other devices
        send and receive arrive here too, wrapped in ``<sent/>`` or ``<received/>``."""
        await self.iq(f"<iq type='set'><enable xmlns='{NS_CARBONS}'/></iq>")

    # ------------------------------------------------------------------ XEP-0313 archive
    async def history(self, with_: str | None = None, *, max: int = 20, timeout: float = 10.0) -> History:
        """The account's archived messages (XEP-0313 §4), the newest ``max`` (the last page, XEP-0059 §2.5),
        oldest first; ``with_`` keeps one conversation (§4.1.1). Each is the archived message itself."""
        qid = self.xmpp.new_id()
        form = ""
        if with_:
            form = (f"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
                    f"<value>{NS_MAM}</value></field><field var='with'><value>{JID(str(with_))}</value></field></x>")
        await self.iq(f"<iq type='set'><query xmlns='{NS_MAM}' queryid={quoteattr(qid)}>{form}"
                      f"<set xmlns='{NS_RSM}'><max>{int(max)}</max><before/></set></query></iq>", timeout=timeout)
        found = History()
        path = f"{{{NS_MAM}}}result/{{{NS_FORWARD}}}forwarded/{{{NS_CLIENT}}}message"
        while (got := self._take("message", lambda m: _result_of(m, qid), None)) is not None:
            inner = got.xml.find(path)
            if inner is not None:
                found.append(self.xmpp.Message(xml=inner))
        return found

    # ------------------------------------------------------------------ XEP-0198 stream management
    async def enable_sm(self, timeout: float = 5.0) -> None:
        """Turn stream management on, resumable (XEP-0198 §3): each side counts the stanzas it handled and says
        so (``<r/>`` asks, ``<a h='N'/>`` answers, §4), and a lost connection can resume the session (§5)."""
        xmpp = self.xmpp
        if "xep_0198" not in xmpp.plugin:
            xmpp.register_plugin("xep_0198")
        from slixmpp.plugins.xep_0198 import stanza as sm

        loop = asyncio.get_running_loop()
        answered = loop.create_future()

        def done(stanza) -> None:
            if not answered.done():
                answered.set_result(stanza)

        xmpp.add_event_handler("sm_enabled", done, disposable=True)
        xmpp.add_event_handler("sm_failed", done, disposable=True)
        enable = sm.Enable(xmpp)
        enable["resume"] = True
        enable.send()
        try:
            answer = await asyncio.wait_for(answered, timeout)
        finally:
            xmpp.del_event_handler("sm_enabled", done)
            xmpp.del_event_handler("sm_failed", done)
        if answer.name != "enabled":
            raise ClientError(f"the server refused stream management: {answer}")

    @contextlib.asynccontextmanager
    async def cut(self, timeout: float = 15.0):
        """``async with phone.cut():`` the phone's network is gone for the block, as in a train tunnel.

        Inside, the client reads nothing: what the server sends now is lost with the connection. At the end
        the old TCP connection drops without ``</stream:stream>`` and a new one logs in: with stream management
        on (:meth:`enable_sm`) it resumes the session and the server sends again what was not acknowledged
        (XEP-0198 §5); without, it is a new session and what was in flight is gone. ``phone.resumed`` says which.
        Before it drops the connection, it waits (at most IN_FLIGHT_WAIT seconds) for bytes the server sent into it.
        """
        transport = self.xmpp.transport
        if transport is None:
            raise ClientError(f"{self.jid} is not connected: there is nothing to cut")
        raw = getattr(getattr(transport, "_ssl_protocol", None), "_transport", None) or transport
        raw.pause_reading()
        try:
            yield self
        finally:
            await _in_flight(transport.get_extra_info("socket"))
            await self._reconnect(raw, timeout)

    async def _reconnect(self, raw, timeout: float) -> None:
        """Drop the connection (no stream end: the network is gone) and log in again, resuming if we can.

        With slixmpp's XEP-0198 plugin loaded (by :meth:`enable_sm`) the new connection sends ``<resume/>``;
        if the server has forgotten the session, the plugin binds a new one and enables stream management again.
        """
        xmpp = self.xmpp
        gone, lost = xmpp.disconnected, xmpp.conn_id
        raw.abort()
        await asyncio.wait_for(asyncio.shield(gone), timeout)
        resumed: list = []

        def on_resumed(_stanza) -> None:
            resumed.append(True)

        xmpp.add_event_handler("session_resumed", on_resumed)
        try:
            await self._login(timeout)
        finally:
            xmpp.del_event_handler("session_resumed", on_resumed)
        self.resumed = bool(resumed)
        if self.resumed:  # what the server records too: this connection took over the lost one's session
            xmpp._record("bound", jid=str(self.jid), resumed=lost)
        else:
            await self.send_presence()

    #: after :meth:`cut`: True when the session was resumed (XEP-0198 §5), False when it is a new one
    resumed: bool | None = None

    # ------------------------------------------------------------------ XEP-0084 avatars over XEP-0163 PEP
    async def publish_avatar(self, data: bytes, type: str = "image/png") -> str:
        """Publish this account's avatar (XEP-0084 §4.1 data, then §4.2 metadata) on its own PEP service
        (XEP-0163); contacts who want avatars are told. Returns the avatar's id (its SHA-1)."""
        ident = hashlib.sha1(data).hexdigest()  # noqa: S324 (XEP-0084 §4.2 names SHA-1)
        await self._publish(NS_AVATAR_DATA, ident, f"<data xmlns='{NS_AVATAR_DATA}'>"
                                                   f"{base64.b64encode(data).decode()}</data>")
        await self._publish(NS_AVATAR_METADATA, ident,
                            f"<metadata xmlns='{NS_AVATAR_METADATA}'><info id='{ident}' bytes='{len(data)}' "
                            f"type={quoteattr(type)}/></metadata>")
        return ident

    async def _publish(self, node: str, ident: str, payload: str) -> None:
        await self.iq(f"<iq type='set'><pubsub xmlns='{NS_PUBSUB}'><publish node='{node}'>"
                      f"<item id='{ident}'>{payload}</item></publish></pubsub></iq>")

    async def want_avatars(self) -> None:
        """Say that this client wants its contacts' avatars (XEP-0163 §4, XEP-0084 §5): its presence carries
        XEP-0115 caps whose features include ``urn:xmpp:avatar:metadata+notify``; the server asks what they mean,
        then sends each contact's avatar metadata, now and whenever it changes."""
        disco = self.xmpp.plugin["xep_0030"]
        identity = ("client", "pc", "xmpplab")
        features = [NS_DISCO_INFO, NS_CAPS, f"{NS_AVATAR_METADATA}+notify"]
        ver = _caps_ver(identity, features)
        node = f"{CAPS_NODE}#{ver}"
        disco.add_identity(category=identity[0], itype=identity[1], name=identity[2], node=node)
        for feature in features:
            disco.add_feature(feature, node=node)
        presence = self.xmpp.make_presence()
        presence.append(ET.Element(f"{{{NS_CAPS}}}c", {"hash": "sha-1", "node": CAPS_NODE, "ver": ver}))
        presence.send()
        await self._flush()

    async def avatar_of(self, jid: str) -> Picture | None:
        """A contact's current avatar (XEP-0084 §4.2: the metadata says its id, §4.1: the data node holds it),
        or None when the contact has published none."""
        bare = JID(str(jid)).bare
        try:
            meta = await self.iq(f"<iq type='get' to='{bare}'><pubsub xmlns='{NS_PUBSUB}'>"
                                 f"<items node='{NS_AVATAR_METADATA}' max_items='1'/></pubsub></iq>")
        except IqError as exc:
            if exc.condition == "item-not-found":
                return None
            raise
        info = next(meta.xml.iter(f"{{{NS_AVATAR_METADATA}}}info"), None)
        if info is None:
            return None
        got = await self.iq(f"<iq type='get' to='{bare}'><pubsub xmlns='{NS_PUBSUB}'><items node='{NS_AVATAR_DATA}'>"
                            f"<item id={quoteattr(info.get('id', ''))}/></items></pubsub></iq>")
        data = next(got.xml.iter(f"{{{NS_AVATAR_DATA}}}data"), None)
        return Picture(base64.b64decode(data.text or ""), info.get("type", "image/png")) if data is not None else None

    # ------------------------------------------------------------------ XEP-0363 HTTP upload
    async def upload(self, filename: str, data: bytes, type: str = "image/png") -> str:
        """Share a file (XEP-0363): find the upload service in the server's disco#items (§3), ask it for a slot
        (§4), PUT the file over HTTP (§5); returns the URL to share, which anyone can GET."""
        service = await self._upload_service()
        if service is None:
            raise ClientError(f"{self.jid.domain} offers no file upload: no XEP-0363 service in its disco#items "
                              "(a Lab has one when started with an HTTP port: Lab.start(http_port=0))")
        answer = await self.iq(f"<iq type='get' to='{service}'><request xmlns='{NS_UPLOAD}' "
                               f"filename={quoteattr(filename)} size='{len(data)}' content-type={quoteattr(type)}/>"
                               "</iq>")
        put = next(answer.xml.iter(f"{{{NS_UPLOAD}}}put"))
        headers = {h.get("name"): h.text or "" for h in put.iter(f"{{{NS_UPLOAD}}}header")}
        await asyncio.to_thread(_put, put.get("url"), data, headers, type, self.https_pin)
        return next(answer.xml.iter(f"{{{NS_UPLOAD}}}get")).get("url")

    async def _upload_service(self) -> str | None:
        items = await self.iq(f"<iq type='get' to='{self.jid.domain}'><query xmlns='{NS_DISCO_ITEMS}'/></iq>")
        for item in items.xml.iter(f"{{{NS_DISCO_ITEMS}}}item"):
            info = await self.iq(f"<iq type='get' to={quoteattr(item.get('jid', ''))}>"
                                 f"<query xmlns='{NS_DISCO_INFO}'/></iq>")
            if any(f.get("var") == NS_UPLOAD for f in info.xml.iter(f"{{{NS_DISCO_INFO}}}feature")):
                return item.get("jid")
        return None

    async def download(self, url: str) -> Picture:
        """GET a shared file's URL (XEP-0363 §5: anyone with the URL may); a picture a notebook shows."""
        data, kind = await asyncio.to_thread(_get, str(url).strip(), self.https_pin)
        return Picture(data, kind)

    #: (host, check): HTTPS to ``host`` must show a certificate the check accepts (:mod:`xmpplab.pinning`), other
    #: hosts' are checked against the CAs; None (a Lab of one's own) accepts the Lab's self-signed certificate
    https_pin: tuple | None = None


def _result_of(message, qid: str) -> bool:
    """Whether a received message is one result of the archive query ``qid`` (XEP-0313 §4.2)."""
    result = message.xml.find(f"{{{NS_MAM}}}result")
    return result is not None and result.get("queryid") == qid


async def _in_flight(sock, wait: float = IN_FLIGHT_WAIT) -> None:
    """Wait until the paused connection has bytes the client never read (what the server sent into the tunnel),
    at most ``wait`` seconds; they are lost when it drops."""
    if sock is None:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while loop.time() < deadline:
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            return
        await asyncio.sleep(0.02)

