"""A recording XMPP client for notebooks: slixmpp underneath, small awaitable helpers on top.

Inside a running event loop (a Jupyter cell, an ``async def``)::

    juliet = await Client.connect("juliet@example.com/balcony", "secret",
                                  host="127.0.0.1", port=5222, verify_tls=False)
    await juliet.send_message("romeo@example.net", "Wherefore art thou?")
    reply = await juliet.next("message")          # the next message that arrives
    print(reply["from"], reply["body"])
    pong = await juliet.iq("<iq type='get' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
    await juliet.send_raw("<presence><show>away</show></presence>")   # any XML, as typed
    await juliet.disconnect()

A :class:`~xmpplab.lab.Lab` makes these for you (``await lab.connect(jid)``);
:meth:`Client.connect` reaches any server, Prosody and ejabberd included.

What crosses the wire is recorded, not re-serialised: :class:`RecordingClientXMPP`
records the bytes slixmpp hands to its transport and the bytes the transport
hands back, as text above TLS, in the event dicts of :mod:`xmpplab.recording`
(``open`` with ``role="initiating"``, ``data`` with ``dir`` "out" for client to
server, ``tls``, ``auth``, ``bound``, ``close``). The events are in
:attr:`Client.events` and go to the ``recorder`` you pass (the Lab's).

Underneath is a real slixmpp ``ClientXMPP`` (:attr:`Client.xmpp`): everything
slixmpp can do stays one attribute away. Received stanzas are slixmpp stanza
objects: ``msg["body"]``, ``str(msg)`` for its XML, ``msg.xml`` for the
ElementTree element.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import ssl
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Self

import slixmpp
from lxml import etree
from slixmpp.exceptions import IqError as SlixIqError
from slixmpp.exceptions import IqTimeout as SlixIqTimeout

from .client_errors import ClientError, ConnectError, IqError, StanzaTimeout
from .display import Shown
from .errors import STANZA_CONDITIONS
from .jid import JID
from .messaging import MessagingMixin
from .pinning import as_check, of_pem
from .recording_xmpp import RecordingClientXMPP, next_conn_id
from .xml import NS_CLIENT, NS_ROSTER, XMLInputError, parse_fragment

log = logging.getLogger("xmpplab.client")

__all__ = ["Client", "ClientError", "ConnectError", "IqError", "RecordingClientXMPP", "RosterItem",
           "StanzaTimeout"]

#: slixmpp plugins every Client loads: service discovery, software version, ping (it answers the server's pings).
DEFAULT_PLUGINS = ("xep_0030", "xep_0092", "xep_0199")
#: Received stanzas kept for :meth:`Client.next` before the oldest are dropped.
INBOX_LIMIT = 1000
STANZA_KINDS = ("message", "presence", "iq")


@dataclass(frozen=True)
class RosterItem:
    """One contact on the roster (RFC 6121 section 2.1.2).

    ``subscription`` is "none", "to", "from" or "both"; ``ask`` is "subscribe"
    while our own subscription request is pending.
    """

    jid: str
    subscription: str = "none"
    name: str | None = None
    ask: str | None = None
    groups: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        pending = " (pending)" if self.ask else ""
        return f"{self.jid}: {self.subscription}{pending}"


class Client(Shown, MessagingMixin):
    """A logged-in XMPP client with helpers a learner can read; make one with :meth:`connect`.

    The helpers are coroutines (``await`` them) and each has a timeout that
    raises an error naming what was awaited. ``client.xmpp`` is the slixmpp
    object; ``client.events`` is the recording of this client's stream.
    """

    def __init__(self, xmpp: RecordingClientXMPP, *, host: str | None, port: int | None, events: list,
                 name: str):
        self.xmpp = xmpp
        self.host, self.port = host, port
        self.events = events
        self.name = name
        self._inbox: list = []
        self._waiters: list[asyncio.Future] = []
        self._collecting = False
        self._closed_reason: str | None = None
        self._pin = None  # a certificate check (xmpplab.pinning), set by connect()
        #: SHA-256 fingerprint (``AB:CD:…``) of the certificate the server showed; None before or without TLS.
        self.fingerprint: str | None = None
        xmpp.add_filter("in", self._arrived)
        xmpp.add_event_handler("session_start", self._session_started)
        xmpp.add_event_handler("session_resumed", self._session_started)  # XEP-0198 §5 (Client.cut)
        xmpp.add_event_handler("disconnected", self._lost)

    # ------------------------------------------------------------------ connecting
    @classmethod
    async def connect(cls, jid: str, password: str, *, host: str | None = None, port: int = 5222,
                      verify_tls: bool = True, ca_file: str | None = None, starttls: bool = True,
                      direct_tls: bool = False, fingerprint=None,
                      sasl_mechanism: str | None = None, presence: bool = True, timeout: float = 15.0,
                      recorder=None, conn_id=None, plugins=DEFAULT_PLUGINS, auto_approve: bool = False) -> Client:
        """Connect to ``host:port`` (DNS when ``host`` is None), secure, log in, bind; return the Client.

        ``verify_tls=False`` accepts any certificate (test servers with a
        self-signed one); ``ca_file`` trusts one more CA or certificate (PEM)
        while still verifying. ``starttls=False`` keeps the stream in plain
        text (the server may refuse); ``direct_tls=True`` starts TLS at once, for a server's direct TLS port
        (XEP-0368: ``xmpplab serve --direct-tls-port``). ``fingerprint`` (``"sha256:AB:CD:…"``, or a check of
        :mod:`xmpplab.pinning`) pins the server's certificate: TLS is required, and a certificate with another
        SHA-256 fingerprint is refused before any password is sent (CA and name are not checked then: the pin is
        stricter). ``sasl_mechanism`` forces one mechanism,
        e.g. "PLAIN". ``presence`` sends initial presence after login, so the
        server delivers messages sent to the bare JID (and sends it back to
        us too, RFC 6121 section 4.2.2: the first ``next("presence")`` is our
        own). ``recorder`` receives
        each event dict too; ``conn_id`` is a callable naming each connection
        (default ``client-<user>-<n>``). Subscription requests wait for
        :meth:`approve` unless ``auto_approve``.

        Raises :class:`ConnectError` naming the step that failed.
        """
        loop = asyncio.get_running_loop()
        jid_obj = JID(jid)
        name = jid_obj.local or jid_obj.domain
        events: list[dict] = []

        def record(conn: str, type_: str, **fields) -> None:
            event = {"t": time.time(), "conn": conn, "type": type_, **fields}
            events.append(event)
            if recorder is not None:
                try:
                    recorder(event)
                except Exception:
                    log.exception("the recorder failed on %s", event.get("type"))

        kwargs = {"sasl_mech": sasl_mechanism} if sasl_mechanism else {}
        xmpp = RecordingClientXMPP(str(jid_obj), password, record=record,
                                   conn_id=conn_id or (lambda: next_conn_id(name)), **kwargs)
        xmpp.loop = loop
        # slixmpp 1.17 would try direct TLS on the STARTTLS port first: only when asked (XEP-0368 port)
        xmpp.enable_direct_tls = direct_tls
        xmpp.enable_starttls = starttls and not direct_tls
        xmpp.enable_plaintext = not starttls and not direct_tls
        xmpp.ssl_context = _tls_context(verify_tls, ca_file)
        xmpp.auto_authorize = True if auto_approve else None   # None: the learner approves
        xmpp.auto_subscribe = False
        for plugin in plugins:
            xmpp.register_plugin(plugin)
        client = cls(xmpp, host=host, port=port if host else None, events=events, name=name)
        where = f"the server at {host}:{port}" if host else f"the server of {jid_obj.domain}"
        client._pin = as_check(fingerprint, where)
        if client._pin is not None:
            xmpp.ssl_context = _tls_context(False, None)
        await client._login(timeout)
        if presence:
            await client.send_presence()
        return client

    async def _login(self, timeout: float) -> None:
        xmpp = self.xmpp
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future = loop.create_future()
        failures: list[str] = []
        where = f"{self.host}:{self.port}" if self.host else f"{xmpp.boundjid.domain} (DNS)"

        def finish(error: str | None = None) -> None:
            if not outcome.done():
                outcome.set_result(error)

        def on_failed_auth(stanza) -> None:
            mech = getattr(xmpp.plugin.get("feature_mechanisms", None), "mech", None)
            failures.append(f"{getattr(mech, 'name', '?')}: {stanza['condition'] or 'failure'}")

        def on_disconnected(reason) -> None:
            if isinstance(reason, ssl.SSLCertVerificationError):
                finish(cert_failed(reason))
            finish(f"the connection to {where} closed during login" + (f" ({reason})" if reason else ""))

        def cert_failed(exc) -> str:
            return (f"TLS certificate verification failed for {xmpp.boundjid.domain}: "
                    f"{getattr(exc, 'verify_message', None) or exc}. For a test server with a self-signed "
                    "certificate pass verify_tls=False, or ca_file= its certificate")

        def on_cert(pem: str) -> None:  # the TLS handshake is done; slixmpp has sent nothing on it yet
            self.fingerprint = of_pem(pem)
            refusal = self._pin(self.fingerprint) if self._pin is not None else None
            if refusal:
                finish(refusal)
                xmpp.abort()  # inside slixmpp's connection_made: it then sends no stream header

        def unchecked(error: str | None) -> str | None:
            if self._pin is None or self.fingerprint is not None:
                return error
            return (f"Refused {where}: it offered no TLS, so its certificate could not be checked against the "
                    "expected fingerprint (someone may have removed STARTTLS from the stream).")

        def on_stream_error(stanza) -> None:
            text = stanza["text"]
            finish(f"the server sent a stream error: {stanza['condition']}" + (f" ({text})" if text else ""))

        handlers = {
            "ssl_cert": on_cert,
            "session_start": lambda _: finish(unchecked(None)),
            "session_resumed": lambda _: finish(unchecked(None)),
            "failed_auth": on_failed_auth,
            "failed_all_auth": lambda _: finish(unchecked(
                f"could not log in as {xmpp.boundjid.bare}: {'; '.join(failures) or 'no mechanism worked'}"
                " (wrong password, or no such account?)")),
            "no_auth": lambda _: finish(unchecked("no SASL mechanism offered by the server is usable")),
            "connection_failed": lambda exc: finish(f"could not connect to {where}: {exc}"),
            "ssl_invalid_chain": lambda exc: finish(cert_failed(exc)),
            "stream_error": on_stream_error,
            "disconnected": on_disconnected,
        }
        for event, handler in handlers.items():
            xmpp.add_event_handler(event, handler)
        try:
            if self.host:
                xmpp.connect(self.host, self.port)
            else:
                xmpp.connect()
            try:
                error = await asyncio.wait_for(asyncio.shield(outcome), timeout)
            except TimeoutError:
                error = (f"no session with {where} after {timeout:g} s "
                         f"(last step: {self._last_step()})")
        finally:
            for event, handler in handlers.items():
                xmpp.del_event_handler(event, handler)
        if error is not None:
            xmpp.cancel_connection_attempt()
            xmpp.abort()
            self._stop_send_task()
            raise ConnectError(error)

    def _last_step(self) -> str:
        for event in reversed(self.events):
            if event["type"] in ("auth", "tls", "bound"):
                return event["type"]
            if event["type"] == "open":
                return "connected, negotiating the stream"
        return "connecting"

    def _session_started(self, _event) -> None:
        self._collecting = True
        self._closed_reason = None

    def _lost(self, reason) -> None:
        self._closed_reason = str(reason) if reason else "disconnected"
        self._wake()

    def _stop_send_task(self) -> None:
        # slixmpp's send loop runs until cancelled, even after a disconnect.
        task = getattr(self.xmpp, "_run_out_filters", None)
        if task is not None and not task.done():
            task.cancel()

    # ------------------------------------------------------------------ state
    @property
    def jid(self) -> JID:
        """The full JID the server bound for this session (``juliet@example.com/balcony``)."""
        return JID(str(self.xmpp.boundjid.full))

    @property
    def connected(self) -> bool:
        """True while the client has a connection to the server."""
        return self.xmpp.transport is not None

    @property
    def conn(self) -> str | None:
        """The recording's id for the current connection, e.g. ``client-juliet-1``."""
        return self.xmpp.conn_id

    @property
    def pending(self) -> list:
        """Stanzas received and not yet taken by :meth:`next`, oldest first."""
        return list(self._inbox)

    def __repr__(self) -> str:
        where = f"{self.host}:{self.port}" if self.host else "(DNS)"
        if not self.connected:
            return f"<xmpplab Client {self.xmpp.boundjid.full} disconnected from {where}>"
        secure = []
        if self.xmpp.tls_version:
            secure.append(self.xmpp.tls_version)
        if self.xmpp.mechanism:
            secure.append(self.xmpp.mechanism)
        extra = f" ({', '.join(secure)})" if secure else ""
        return (f"<xmpplab Client {self.jid} on {where}{extra}, "
                f"{len(self._inbox)} received stanza{'s' if len(self._inbox) != 1 else ''} waiting>")

    # ------------------------------------------------------------------ receiving
    def _arrived(self, stanza):
        if self._collecting and stanza.name in STANZA_KINDS and stanza.namespace == NS_CLIENT:
            # slixmpp's handlers may change the original (reply()), so keep a copy. copy.copy() would build
            # it with the stream attached, and slixmpp then gives a message without an id a made-up one:
            # attach the stream afterwards, so the copy holds exactly what crossed the wire.
            kept = stanza.__class__(xml=copy.deepcopy(stanza.xml), stream=None)
            kept.stream = stanza.stream
            self._inbox.append(kept)
            if len(self._inbox) > INBOX_LIMIT:
                del self._inbox[0]
            self._wake()
        return stanza

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _take(self, kind, predicate, from_):
        for i, stanza in enumerate(self._inbox):
            if kind is not None and stanza.name != kind:
                continue
            if from_ is not None and not _same_address(stanza["from"], from_):
                continue
            if predicate is not None and not predicate(stanza):
                continue
            return self._inbox.pop(i)
        return None

    async def next(self, kind: str | None = None, *, timeout: float = 5.0, predicate=None, from_: str | None = None):
        """Return the oldest received stanza not taken yet, waiting up to ``timeout`` seconds for one.

        ``kind`` is "message", "presence" or "iq" (None: any). ``from_`` keeps
        only stanzas from that JID (a bare JID matches all its resources);
        ``predicate(stanza)`` can filter further. Stanzas that do not match
        stay for a later call. Raises :class:`StanzaTimeout` when nothing
        matching arrives in time.
        """
        if kind is not None and kind not in STANZA_KINDS:
            raise ValueError(f"kind must be one of {', '.join(STANZA_KINDS)} (or None for any), not {kind!r}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self._take(kind, predicate, from_)
            if found is not None:
                return found
            what = (kind or "stanza") + (f" from {from_}" if from_ else "") + \
                (" matching the predicate" if predicate else "")
            if self._closed_reason and not self.connected:
                raise ClientError(f"{self.xmpp.boundjid.full} is disconnected ({self._closed_reason}); "
                                  f"no {what} can arrive")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise StanzaTimeout(f"{self.jid} waited {timeout:g} s for {'an' if what[0] == 'i' else 'a'} {what}; "
                                    "none arrived"
                                    + self._waiting_note())
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:  # asyncio.wait, not wait_for: on 3.11 wait_for swallows a cancellation when the waiter is done too
                await asyncio.wait((waiter,), timeout=remaining)
            finally:
                self._waiters.remove(waiter)

    def _waiting_note(self) -> str:
        """What else waits in the queue, for a timeout's message: next() takes stanzas in arrival order."""
        count = len(self._inbox)
        if not count:
            return ""
        shown = [f"a {s.name} from {s['from']}" for s in self._inbox[:3]]
        more = f" and {count - 3} more" if count > 3 else ""
        verb = "stanza is" if count == 1 else "stanzas are"
        return (f". {count} other {verb} waiting, not taken yet: {', '.join(shown)}{more}. next() takes "
                f"received stanzas oldest first, so one from an earlier cell may still be there: .pending "
                f"shows them, .clear() forgets them")

    def clear(self) -> int:
        """Forget the received stanzas not taken yet; return how many there were."""
        count = len(self._inbox)
        self._inbox.clear()
        return count

    # ------------------------------------------------------------------ sending
    async def _flush(self, timeout: float = 5.0) -> None:
        """Wait until slixmpp has written everything queued to the socket."""
        if not self.connected:
            raise ClientError(f"{self.xmpp.boundjid.full} is not connected ({self._closed_reason or 'disconnected'})")
        try:
            await asyncio.wait_for(self.xmpp.waiting_queue.join(), timeout)
        except TimeoutError:
            raise StanzaTimeout(f"{self.xmpp.boundjid.full}: the send queue was not written within {timeout:g} s") \
                from None

    async def send_message(self, to: str, body: str, type: str = "chat", *, subject: str | None = None):
        """Send ``<message to=... type='chat'><body>...</body></message>`` (RFC 6121 section 5); return it."""
        msg = self.xmpp.make_message(mto=str(to), mbody=body, msubject=subject, mtype=type)
        msg["id"] = self.xmpp.new_id()
        msg.send()
        await self._flush()
        return msg

    async def send_presence(self, to: str | None = None, *, type: str | None = None, show: str | None = None,
                            status: str | None = None, priority: int | None = None):
        """Send a presence stanza (RFC 6121 section 4); with no arguments, plain "I am available".

        ``type`` is None (available), "unavailable", "subscribe", "subscribed",
        "unsubscribe", "unsubscribed" or "probe"; ``show`` is "chat", "away",
        "xa" or "dnd". Returns the presence sent.
        """
        pres = self.xmpp.make_presence(pshow=show, pstatus=status, ppriority=priority,
                                       pto=str(to) if to else None, ptype=type)
        pres.send()
        await self._flush()
        return pres

    async def subscribe(self, jid: str):
        """Ask to see ``jid``'s presence: ``<presence to=... type='subscribe'/>`` (RFC 6121 section 3.1)."""
        return await self.send_presence(JID(str(jid)).bare, type="subscribe")

    async def approve(self, jid: str):
        """Let ``jid`` see our presence: ``<presence to=... type='subscribed'/>`` (RFC 6121 section 3.1.5)."""
        return await self.send_presence(JID(str(jid)).bare, type="subscribed")

    async def send_raw(self, xml: str) -> None:
        """Write ``xml`` onto the stream exactly as given (well-formed or not: the server will tell)."""
        if not isinstance(xml, (str, bytes)):
            raise TypeError(f"send_raw takes the XML as a string, not {type(xml).__name__}")
        await self._flush()
        self.xmpp.send_raw(xml)

    async def iq(self, request, *, timeout: float = 10.0):
        """Send an iq request and return its ``type='result'`` answer (a slixmpp ``Iq``).

        ``request`` is XML text (``"<iq type='get' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>"``),
        an lxml or ElementTree element, or a slixmpp ``Iq``. An ``id`` is
        added when missing. An error answer raises :class:`IqError` with the
        condition; no answer in time raises :class:`StanzaTimeout`.
        """
        iq = self._as_iq(request)
        if iq["type"] not in ("get", "set"):
            raise ValueError(f"an iq request has type 'get' or 'set', not {iq['type']!r}")
        if not iq["id"]:
            iq["id"] = self.xmpp.new_id()
        return await self._request(iq, timeout)

    async def _request(self, iq, timeout: float):
        what = _describe_iq(iq)
        if not self.connected:
            raise ClientError(f"{self.xmpp.boundjid.full} is not connected; cannot send {what}")
        try:
            answer = await iq.send(timeout=timeout)
        except SlixIqError as exc:
            self._forget_answer(iq["id"])
            raise _iq_error(what, exc.iq) from None
        except SlixIqTimeout:
            raise StanzaTimeout(f"{self.jid} sent {what} and got no answer within {timeout:g} s") from None
        self._forget_answer(iq["id"])
        return answer

    def _forget_answer(self, iq_id: str) -> None:
        # The answer is returned by iq(); it should not also come out of next("iq").
        self._inbox[:] = [s for s in self._inbox
                          if not (s.name == "iq" and s["id"] == iq_id and s["type"] in ("result", "error"))]

    def _as_iq(self, request):
        if isinstance(request, slixmpp.Iq):
            request.stream = self.xmpp
            return request
        if isinstance(request, (str, bytes)):
            try:
                request = parse_fragment(request)
            except XMLInputError as exc:
                raise ValueError(f"cannot send that iq: {exc}") from None
        if isinstance(request, etree._Element):
            request = ET.fromstring(etree.tostring(request))
        if not isinstance(request, ET.Element):
            raise TypeError(f"iq() takes XML text, an element or a slixmpp Iq, not {type(request).__name__}")
        if request.tag != f"{{{NS_CLIENT}}}iq":
            raise ValueError(f"iq() sends <iq/> stanzas; this is <{request.tag.rpartition('}')[2]}/>")
        return self.xmpp.Iq(xml=request)

    async def roster(self, *, timeout: float = 10.0) -> list[RosterItem]:
        """Ask the server for our roster (RFC 6121 section 2.2) and return its items."""
        iq = self.xmpp.Iq()
        iq["type"] = "get"
        iq["id"] = self.xmpp.new_id()
        iq.enable("roster")
        answer = await self._request(iq, timeout)
        self.xmpp.event("roster_update", answer)   # keep slixmpp's own roster (xmpp.client_roster) in step
        items = []
        for item in answer.xml.iter(f"{{{NS_ROSTER}}}item"):
            groups = tuple(g.text or "" for g in item.iter(f"{{{NS_ROSTER}}}group"))
            items.append(RosterItem(jid=item.get("jid"), subscription=item.get("subscription", "none"),
                                    name=item.get("name"), ask=item.get("ask"), groups=groups))
        return items

    # ------------------------------------------------------------------ leaving
    async def disconnect(self, timeout: float = 5.0) -> None:
        """Close the stream (``</stream:stream>``), wait for the server to close its own, then the socket."""
        xmpp = self.xmpp
        if xmpp.transport is not None:
            done = xmpp.disconnected
            xmpp.disconnect(wait=timeout)
            try:
                await asyncio.wait_for(asyncio.shield(done), timeout + 1)
            except TimeoutError:
                xmpp.abort()
        self._collecting = False
        self._stop_send_task()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.disconnect()

    @property
    def transcript(self):
        """This client's recording so far, as an :class:`xmpplab.transcript.Transcript` (a snapshot)."""
        from .transcript import Transcript
        return Transcript.from_events(list(self.events), recorded_by=f"xmpplab Client {self.xmpp.boundjid.bare}")


def _tls_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(cafile=str(ca_file))
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _same_address(got, wanted) -> bool:
    if not str(got):   # no 'from': from the server, on behalf of our own account (RFC 6120 section 8.1.2.1)
        return False
    got, wanted = JID(str(got)), JID(str(wanted))
    return got == wanted if wanted.resource else got.bare == wanted


def _describe_iq(iq) -> str:
    payload = next(iter(iq.xml), None)
    what = f"iq {iq['type']}"
    if iq["to"]:
        what += f" to {iq['to']}"
    if payload is not None:
        ns, _, name = payload.tag[1:].partition("}") if payload.tag.startswith("{") else ("", "", payload.tag)
        what += f" <{name} xmlns='{ns}'/>"
    return what


def _iq_error(what: str, answer) -> IqError:
    err = answer["error"]
    condition = err["condition"] or "undefined-condition"
    if condition not in STANZA_CONDITIONS:
        condition = "undefined-condition"
    text = err["text"] or None
    etype = err["type"] or None
    message = f"{what} failed: {condition}" + (f" ({etype})" if etype else "") + (f": {text}" if text else "")
    return IqError(message, condition, etype, text, iq=answer)
