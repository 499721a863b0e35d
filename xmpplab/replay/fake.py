"""A fake server: negotiate live with a client, then answer it with the server side of a recording.

::

    async with FakeServer("juliet-session.jsonl", "c2s-1") as fake:       # 127.0.0.1, a free port
        juliet = await Client.connect("juliet@example.com/balcony", "any password",
                                      host="127.0.0.1", port=fake.port, verify_tls=False)
        await juliet.roster()          # the roster of the recording
    fake.sessions[0].log               # what the client sent and what was played to it

Negotiation is live, as a client expects it (RFC 6120 sections 4 to 7), by
the same :class:`~xmpplab.negotiation.ServerNegotiator` the lab server runs:
the stream header, STARTTLS with the fake's own self-signed certificate (the
client must accept it; :mod:`xmpplab.certs`), SASL (PLAIN accepting any
password by default; SCRAM-SHA-256 and SCRAM-SHA-1 too for the ``accounts``
given, by :mod:`xmpplab.sasl`), and binding the resource the client asks for
(else the recorded one). The fake serves whatever domain the client names.

Then the recording plays (:mod:`.exchanges`): what the server sent
unprompted after binding goes out at once; each client stanza is matched to
the first recorded client stanza not used yet that has the same shape (kind,
type, and an iq's payload), and the recorded server stanzas of that exchange
are sent, with the recorded request's id replaced by the client's id and the
recorded JIDs by the client's. An iq get or set the recording does not have
gets ``service-unavailable``; other unmatched stanzas are noted in the
session's log and get nothing.
"""

from __future__ import annotations

import asyncio
import codecs
import collections
import contextlib
import itertools
import logging
import secrets
import ssl
import time

from ..delegate import delegated
from ..escape import escape_attr as _esc
from ..lifecycle import StartStop
from ..listener import Listener
from ..negotiation import (
    Authenticated,
    Bind,
    Close,
    Hash,
    Policy,
    Restart,
    SASLFailed,
    Send,
    ServerNegotiator,
    StartTLS,
    State,
)
from ..sasl import Plain, SASLFailure, Scram, make_credentials
from ..sockaddr import format_address as _fmt
from ..stream import StanzaReceived, StreamClosed, StreamParser, StreamViolation
from ..xml import NS_CLIENT, NS_SESSION, NS_STANZAS, element, serialize, split_qname, sub
from .exchanges import (
    IdMap,
    JidMap,
    describe_item,
    load_source,
    pick_connection,
    recorded_jid,
    session_items,
    shape,
    split_exchanges,
)

log = logging.getLogger("xmpplab.replay")


class _Closed(Exception):
    """The session is over; the message says why."""


class FakeServer(StartStop):
    """Play the server side of one recorded connection to any client that connects (see the module docstring).

    ``accounts`` maps a user (``juliet`` or ``juliet@example.com``) to a password; with it,
    SCRAM is offered too. ``accept_any_password`` (the default when no accounts are given)
    lets PLAIN log anyone in. ``domain`` is the certificate's name (default: the recorded
    domain). ``recorder`` receives the live sessions' events, as the lab server records.
    ``notify`` is called with each line of the sessions' logs as it happens.
    """

    def __init__(self, source, conn=None, *, host: str = "127.0.0.1", port: int = 0, domain: str | None = None,
                 accounts: dict | None = None, accept_any_password: bool | None = None, tls: bool = True,
                 cert: str | None = None, recorder=None, notify=None):
        self.transcript = load_source(source)
        self.connection = pick_connection(self.transcript, conn)
        self.recorded_jid = recorded_jid(self.connection)
        self.exchanges = split_exchanges(session_items(self.connection))
        recorded_domain = self.recorded_jid.partition("@")[2].partition("/")[0] if self.recorded_jid else None
        self.domain = domain or recorded_domain or "example.com"
        self.accounts = {str(k).partition("@")[0].lower(): v for k, v in (accounts or {}).items()}
        self.accept_any_password = (not self.accounts) if accept_any_password is None else accept_any_password
        if not self.accounts and not self.accept_any_password:
            raise ValueError("nobody could log in: give accounts={'juliet': 'secret'} or accept_any_password=True")
        self.host = host
        self.tls = tls
        self.cert = cert
        self.recorder = recorder
        self.notify = notify  # called with each line of every session's log, e.g. print
        self.sessions: list[FakeSession] = []
        self._tls_context: ssl.SSLContext | None = None
        self._listening = Listener(self._serve, host, port)
        self._numbers = itertools.count(1)

    port = delegated("_listening.port", "The port the fake server listens on; None before it starts.")

    @property
    def mechanisms(self) -> list[str]:
        """The SASL mechanisms offered: SCRAM only for known accounts (it needs the password)."""
        return (["SCRAM-SHA-256", "SCRAM-SHA-1"] if self.accounts else []) + ["PLAIN"]

    @property
    def address(self) -> tuple[str, int | None]:
        """Where the fake server listens: (host, port); the port is None before it starts."""
        return self.host, self.port

    async def start(self) -> FakeServer:
        """Listen (on a free port when ``port=0``); returns self."""
        if self._listening.listening:
            return self
        if self.tls:
            from ..certs import server_context
            self._tls_context = await asyncio.get_running_loop().run_in_executor(
                None, server_context, [self.domain], self.cert, None)
        await self._listening.start()
        log.info("fake server for %s listening on %s:%s", self.connection.id, self.host, self.port)
        return self

    async def stop(self) -> None:
        """Stop listening and end every session."""
        for session in self.sessions:
            session.abort()
        await self._listening.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = FakeSession(self, reader, writer, f"fake-{next(self._numbers)}")
        self.sessions.append(session)
        await session.run()

    def __repr__(self) -> str:
        where = f"on {self.host}:{self.port}" if self._listening.listening else "not listening"
        n = sum(1 for e in self.exchanges if e.request is not None)
        return (f"<FakeServer playing {self.connection.id} ({self.recorded_jid or '?'}, {n} recorded client "
                f"stanza{'' if n == 1 else 's'}) {where}, {len(self.sessions)} session"
                f"{'' if len(self.sessions) == 1 else 's'}>")


class _AnyPlain:
    """RFC 4616 PLAIN that lets any user in with any password (a fake server for tests)."""

    name = "PLAIN"

    def step(self, data: bytes):
        parts = data.split(b"\x00")
        if len(parts) != 3 or not parts[1]:
            raise SASLFailure("malformed-request", "PLAIN expects authzid, authcid and password")
        try:
            return None, True, parts[1].decode("utf-8").lower()
        except UnicodeDecodeError:
            raise SASLFailure("malformed-request", "PLAIN credentials are not UTF-8") from None


class FakeSession(Policy):
    """One client of a :class:`FakeServer`: its live negotiation, then the recording played to it.

    ``log`` says, in order, what the client sent and what was played; ``unmatched`` holds
    the client stanzas the recording had nothing for; ``jid`` is the bound JID.
    """

    def __init__(self, fake: FakeServer, reader, writer, conn_id: str):
        self.fake = fake
        self.reader, self.writer = reader, writer
        self.conn_id = conn_id
        self.jid: str | None = None
        self.username: str | None = None
        self.domain = fake.domain
        self.log: list[str] = []
        self.unmatched: list = []
        self.played = 0
        self.ended: str | None = None
        self._parser = StreamParser()
        self._events: collections.deque = collections.deque()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._creds: dict = {}
        self._neg: ServerNegotiator | None = None  # made when the client connects (_negotiate)
        peer, local = writer.get_extra_info("peername"), writer.get_extra_info("sockname")
        self._record("open", peer=_fmt(peer), local=_fmt(local), kind="c2s", role="receiving",
                     replaying=fake.connection.id)

    def _note(self, text: str) -> None:
        self.log.append(text)
        if self.fake.notify is not None:
            self.fake.notify(f"{self.conn_id}: {text}")

    # --- wire -------------------------------------------------------------------------
    def _record(self, type_: str, **fields) -> None:
        if self.fake.recorder is not None:
            self.fake.recorder({"t": time.time(), "conn": self.conn_id, "type": type_, **fields})

    def _write(self, text: str) -> None:
        self._record("data", dir="out", data=text)
        self.writer.write(text.encode("utf-8"))

    async def _event(self):
        while not self._events:
            data = await self.reader.read(65536)
            if not data:
                raise _Closed("the client closed the connection")
            self._record("data", dir="in", data=self._decoder.decode(data))
            self._events.extend(self._parser.feed(data))
        return self._events.popleft()

    async def _element(self):
        event = await self._event()
        if isinstance(event, StanzaReceived):
            return event.element
        if isinstance(event, StreamClosed):
            self._write("</stream:stream>")
            raise _Closed("the client closed its stream")
        if isinstance(event, StreamViolation):
            self._stream_error(event.condition, event.text)
        self._stream_error("invalid-xml", "a stream header inside the stream")

    def _stream_error(self, condition: str, text: str | None = None):
        body = f"<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>{_esc(text)}</text>" if text else ""
        self._write(f"<stream:error><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>{body}</stream:error>"
                    "</stream:stream>")
        raise _Closed(f"stream error {condition}" + (f": {text}" if text else ""))

    def abort(self) -> None:
        """Close the connection to the client."""
        if not self.writer.is_closing():
            self.writer.close()

    async def run(self) -> None:
        """Negotiate the stream with the client, then play the recorded server's side; note how it ended."""
        try:
            await self._negotiate()
            await self._play()
        except _Closed as exc:
            self.ended = str(exc)
        except (ConnectionError, OSError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
            self.ended = f"the connection failed: {exc}"
        except asyncio.CancelledError:
            self.ended = "the fake server stopped"
        finally:
            self._note(f"ended: {self.ended}")
            with contextlib.suppress(ConnectionError, OSError, ssl.SSLError, RuntimeError):
                await self.writer.drain()
            self.abort()
            self._record("close", clean=self.ended == "the client closed its stream")

    # --- negotiation (RFC 6120 sections 4 to 7), by the shared negotiator ----------------------------------
    async def _negotiate(self) -> None:
        self._neg = ServerNegotiator(self, tls_available=self.fake.tls)
        while self._neg.state is not State.READY:
            event = await self._event()
            if isinstance(event, StreamClosed):
                self._write("</stream:stream>")
                raise _Closed("the client closed its stream")
            await self._perform(self._neg.receive(event))

    async def _perform(self, actions: list) -> None:
        """Do what the negotiator asks, in order."""
        for action in actions:
            kind = type(action)
            if kind is Send:
                self._write(action.data)
            elif kind is Close:
                if self._neg.stream_id is None:
                    self._write(self._neg.error_header())
                if action.condition is None:
                    self._write("</stream:stream>")
                    raise _Closed("the fake server closed the stream")
                self._stream_error(action.condition, action.text)
            elif kind is StartTLS:
                await self._starttls()
                await self._perform(self._neg.tls_established())
            elif kind is Restart:
                self._parser.reset()
            elif kind is Hash:
                result = await asyncio.get_running_loop().run_in_executor(None, action.func, *action.args)
                await self._perform(self._neg.hashed(result))
            elif kind is SASLFailed:
                self._note(f"SASL failed: {action.condition}")
            elif kind is Authenticated:
                self.username, self.domain = action.username, self._neg.host
                self._record("auth", mechanism=action.mechanism, user=f"{action.username}@{self.domain}")
                self._note(f"SASL {action.mechanism}: {action.username}@{self.domain} logged in")
            elif kind is Bind:
                recorded = self.fake.recorded_jid or ""
                resource = action.resource or recorded.partition("/")[2] or f"fake-{secrets.token_hex(4)}"
                self.jid = f"{self.username}@{self.domain}/{resource}"
                await self._perform(self._neg.bound(action.iq, self.jid))
                self._record("bound", jid=self.jid)
                self._note(f"bound {self.jid}")

    async def _starttls(self) -> None:
        await self.writer.drain()
        await self.writer.start_tls(self.fake._tls_context, ssl_handshake_timeout=10)
        self._parser.reset()
        self._events.clear()
        ssl_object = self.writer.get_extra_info("ssl_object")
        self._record("tls", version=ssl_object.version() if ssl_object else None,
                     cipher=(ssl_object.cipher() or [None])[0] if ssl_object else None)
        self._note("STARTTLS: TLS with the fake server's own certificate")

    # the negotiator's Policy: any domain, this fake's mechanisms and accounts
    @property
    def default_domain(self) -> str:
        """The fake's domain (used only when a header names none)."""
        return self.fake.domain

    def stream_features(self, stage: str) -> list:
        """After authentication, RFC 3921's session, optional (as the server's session module offers it)."""
        if stage != "after-auth":
            return []
        session = element("session", ns=NS_SESSION)
        sub(session, "optional", ns=NS_SESSION)
        return [session]

    def sasl_mechanisms(self):
        """The fake's mechanisms (:attr:`FakeServer.mechanisms`)."""
        return self.fake.mechanisms

    def sasl_mechanism(self, name: str, host: str):
        """PLAIN letting anyone in, or checking the fake's accounts; SCRAM for those accounts."""
        if name == "PLAIN":
            return _AnyPlain() if self.fake.accept_any_password else Plain(self._lookup, host)
        return Scram(name, self._lookup)

    def _lookup(self, username: str):
        password = self.fake.accounts.get(username.lower())
        if password is None:
            return None
        if username not in self._creds:
            self._creds[username] = make_credentials(password)
        return self._creds[username]

    # --- the recording ---------------------------------------------------------------------------
    async def _play(self) -> None:
        self.jids = JidMap.for_session(self.fake.recorded_jid, self.jid)
        self.ids = IdMap("fake")
        pending = list(self.fake.exchanges)
        if pending and pending[0].request is None:
            self._send_answers(pending.pop(0), "after binding")
        while True:
            el = await self._element()
            what = describe_item(el)
            if split_qname(el.tag)[1] == "iq" and el.get("type") == "set" and \
                    el.find(f"{{{NS_SESSION}}}session") is not None and not any(
                        e.request is not None and shape(e.request.element) == shape(el) for e in pending):
                self._write(f"<iq type='result' id='{_esc(el.get('id') or '')}'/>")  # legacy session: say yes
                self._note("client sent a legacy session request: answered result")
                continue
            match = next((e for e in pending if e.request is not None and shape(e.request.element) == shape(el)),
                         None)
            if match is None:
                self.unmatched.append(el)
                if split_qname(el.tag)[1] == "iq" and el.get("type") in ("get", "set"):
                    self._write(_not_recorded(el, self.jid))
                    self._note(f"client sent {what}: not in the recording, answered service-unavailable")
                else:
                    self._note(f"client sent {what}: not in the recording, nothing played")
                continue
            pending.remove(match)
            if match.request.id and el.get("id"):
                self.ids.pair(match.request.id, el.get("id"))
            self._send_answers(match, f"client sent {what}")
            await self.writer.drain()

    def _send_answers(self, exchange, why: str) -> None:
        for answer in exchange.answers:
            el = self.jids.apply(answer.element)
            if el.get("id") in self.ids.live:
                el.set("id", self.ids.live[el.get("id")])
            self._write(serialize(el, NS_CLIENT))
            self.played += 1
        played = ", ".join(describe_item(a.element) for a in exchange.answers) or "nothing (as recorded)"
        self._note(f"{why}: played {played}")

    def __repr__(self) -> str:
        state = f"ended: {self.ended}" if self.ended else "open"
        return (f"<FakeSession {self.conn_id} {self.jid or 'not bound'}: {self.played} recorded stanzas played, "
                f"{len(self.unmatched)} unmatched, {state}>")


def _not_recorded(el, jid: str | None) -> str:
    to = f" to='{_esc(jid)}'" if jid else ""
    sender = f" from='{_esc(el.get('to'))}'" if el.get("to") else ""
    return (f"<iq type='error' id='{_esc(el.get('id') or '')}'{to}{sender}><error type='cancel'>"
            f"<service-unavailable xmlns='{NS_STANZAS}'/><text xmlns='{NS_STANZAS}'>the recording has no such "
            f"request (xmpplab fake server)</text></error></iq>")
