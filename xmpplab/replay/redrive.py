"""Re-drive a recording against a live server and diff the server's answers against the recorded ones.

::

    report = await redrive("sample_streams/juliet-login-starttls-scram.jsonl", "c2s-1",
                           "127.0.0.1", lab.server.port, "juliet@example.com", "secret")
    report.ok            # True when every answer is the same
    print(report.text()) # one line per exchange, an XML diff for each difference

The recorded negotiation cannot be sent again (TLS keys, SASL nonces and
proofs are new every time), so it is redone live by a
:class:`~xmpplab.rawclient.RawClient`: STARTTLS when offered, SASL with the
credentials given (the lab's, by default ``secret``), bind (the recorded
resource unless ``jid`` names one). Then, for each exchange of the
recording (:mod:`.exchanges`), the client stanza is sent with a new id and
its JIDs rewritten (the recorded JID becomes the bound one; ``jid_map`` adds
others, e.g. ``{"romeo@example.net": "romeo@localhost"}``), everything the
server sends until it has been quiet for ``quiet`` seconds (and until iq
answers arrived, up to ``timeout``) is collected, and compared with what the
server sent in the recording:

* **same**: equal once the recorded ids and JIDs are replaced by the live
  ones, ignoring what must change: ids the server made up, stream ids (the
  negotiation is not compared), ``<delay stamp>`` and the attributes in
  ``ignore`` (``"stamp"`` or ``"delay@stamp"``); attribute order and child
  order do not matter;
* **different**: a stanza of the same kind came back, with other content
  (the report says what differs and shows a diff);
* **missing**: the recording has a stanza the live server did not send;
* **extra**: the live server sent a stanza the recording does not have.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum

from ..rawclient import RawClient, RecvTimeout, StreamEnded
from ..recording import MemoryRecorder
from ..transcript import Item, Transcript, TranscriptError
from ..xml import NS_CLIENT, serialize, split_qname
from .exchanges import (
    DEFAULT_IGNORE,
    JID_ATTRIBUTES,
    IdMap,
    JidMap,
    canonical,
    describe_item,
    differences,
    load_source,
    normalize,
    pick_connection,
    recorded_jid,
    session_items,
    shape,
    split_exchanges,
    xml_diff,
)

LAB_PASSWORD = "secret"


class Status(StrEnum):
    """How a live answer compares with the recorded one: the same, different, missing, or extra."""
    SAME = "same"
    DIFFERENT = "different"
    MISSING = "missing"
    EXTRA = "extra"


@dataclass
class Outcome:
    """One recorded answer and the live stanza it was compared with (either may be None)."""

    status: Status
    expected: Item | None = None       # the recorded server stanza
    got: object = None                 # the live server stanza (an lxml element)
    differences: list[str] = field(default_factory=list)
    diff: str = ""                     # unified diff of the two, pretty-printed, ids and JIDs remapped

    @property
    def what(self) -> str:
        """What the stanza is, in words (the recorded one, else the live one)."""
        return describe_item(self.expected.element if self.expected is not None else self.got)

    @property
    def got_xml(self) -> str | None:
        """The live stanza as XML text, or None when none came."""
        return serialize(self.got, NS_CLIENT) if self.got is not None else None

    def __repr__(self) -> str:
        return f"<Outcome {self.status}: {self.what}>"


@dataclass
class ExchangeResult:
    """One recorded client stanza, what was sent live for it, and how the answers compared."""

    number: int
    request: Item | None           # the recorded client stanza (None: what the server sent unprompted)
    sent: str | None               # what was sent live (new id, JIDs rewritten)
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def status(self) -> Status:
        """The exchange's worst outcome: different, then missing, then extra, else the same."""
        statuses = {o.status for o in self.outcomes}
        for status in (Status.DIFFERENT, Status.MISSING, Status.EXTRA):
            if status in statuses:
                return status
        return Status.SAME

    @property
    def title(self) -> str:
        """The client's stanza that started the exchange, in words."""
        if self.request is None:
            return "after binding, before the client's first stanza"
        return describe_item(self.request)

    def __repr__(self) -> str:
        return f"<ExchangeResult {self.number}: {self.title} → {self.status}>"


class RedriveReport:
    """What a re-drive found: one :class:`ExchangeResult` per exchange; ``ok`` when all are the same."""

    def __init__(self, conn: str, recorded: str | None, live: str | None, server: str, exchanges, ids: IdMap,
                 jids: JidMap, transcript: Transcript, notes: list[str]):
        self.conn = conn
        self.recorded_jid = recorded
        self.live_jid = live
        self.server = server
        self.exchanges: list[ExchangeResult] = exchanges
        self.ids = ids
        self.jids = jids
        self.transcript = transcript  # the live session, recorded by the client side
        self.notes = notes

    @property
    def ok(self) -> bool:
        """True when every exchange got the same answers as recorded."""
        return all(e.status is Status.SAME for e in self.exchanges)

    @property
    def outcomes(self) -> list[Outcome]:
        """Every outcome of every exchange, in order."""
        return [o for e in self.exchanges for o in e.outcomes]

    def counts(self) -> dict[Status, int]:
        """How many exchanges ended in each status."""
        counts = {s: 0 for s in Status}
        for e in self.exchanges:
            counts[e.status] += 1
        return counts

    def summary(self) -> str:
        """One sentence: how many exchanges, and how many ended in each status."""
        counts = self.counts()
        n = len(self.exchanges)
        if self.ok:
            verdict = "the same" if n == 1 else "all the same"
        else:
            verdict = ", ".join(f"{c} {s}" for s, c in counts.items() if c)
        return f"{n} exchange{'' if n == 1 else 's'}, {verdict}"

    def text(self, diffs: bool = True) -> str:
        """The readable report: a title, one line per exchange, and what differs under each."""
        head = (f"Re-drive of {self.conn} (recorded as {self.recorded_jid or '?'}) against {self.server} "
                f"as {self.live_jid}: {self.summary()}")
        lines = [head]
        width = max((len(e.title) for e in self.exchanges), default=0)
        for e in self.exchanges:
            answers = ", ".join(f"{o.what} {o.status}" if o.status is not Status.SAME else o.what
                                for o in e.outcomes) or "no answer, as recorded"
            lines.append(f"{e.number:>3}. {e.title:<{width}}  {str(e.status).upper():<9} {answers}")
            if not diffs:
                continue
            for o in e.outcomes:
                if o.status is Status.SAME:
                    continue
                if o.status is Status.MISSING:
                    lines.append(f"       missing: the recording has {_one_line(o.expected.text)}")
                elif o.status is Status.EXTRA:
                    lines.append(f"       extra: the server also sent {_one_line(o.got_xml)}")
                else:
                    lines.extend(f"       {d}" for d in o.differences)
                    lines.extend(f"         {ln}" for ln in o.diff.splitlines())
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"<RedriveReport {self.conn} against {self.server}: {self.summary()}>"


async def redrive(source, conn=None, host: str = "127.0.0.1", port: int = 5222, jid: str | None = None,
                  password: str = LAB_PASSWORD, *, domain: str | None = None, tls: str = "starttls",
                  verify_tls: bool = False, jid_map: dict | None = None, ignore=DEFAULT_IGNORE,
                  quiet: float = 0.3, timeout: float = 5.0, recorder=None, lab=None) -> RedriveReport:
    """Re-drive the client side of ``conn`` against ``host:port`` (see the module docstring).

    ``source`` is a Transcript, a Connection or a file path. ``jid`` is the account to log
    in as (default: the recorded one); ``domain`` the stream's ``to`` when it differs from
    the JID's domain. ``recorder`` receives the live session's events too. With ``lab`` (a
    :class:`~xmpplab.lab.Lab`), the Lab says where and as whom (:meth:`~xmpplab.lab.Lab.login_for`:
    the account is made on demand; on a class server, the recording's people are the practice accounts).
    """
    transcript = load_source(source)
    connection = pick_connection(transcript, conn)
    recorded = recorded_jid(connection)
    exchanges = split_exchanges(session_items(connection))
    notes: list[str] = []
    if not any(e.request is not None for e in exchanges):
        raise TranscriptError(f"{connection.id} has no client stanza after binding: there is nothing to re-drive")
    login_jid = jid or recorded
    if not login_jid:
        raise TranscriptError(f"the recording does not say who {connection.id} was: give jid=...")
    if lab is not None:
        login = await lab.login_for(login_jid, _mentions(exchanges))
        host, port, login_jid, password = login.host, login.port, login.jid, login.password
        jid_map = {**login.addresses, **(jid_map or {})}
    resource = None
    if "/" not in login_jid and recorded and "/" in recorded:
        resource = recorded.partition("/")[2]

    memory = MemoryRecorder()

    def record(event: dict) -> None:
        memory(event)
        if recorder is not None:
            recorder(event)

    client = await RawClient.connect(host, port, domain, tls=tls, verify_tls=verify_tls, recorder=record,
                                     conn_id="redrive-1")
    try:
        bound = await client.login(login_jid, password, resource=resource, timeout=timeout)
        jids = JidMap.for_session(recorded, bound, jid_map)
        run = _Run(client, jids, quiet, timeout)
        results = [await run.play(e) for e in exchanges]
        if run.ended:
            notes.append(f"the server ended the stream: {run.ended}")
    finally:
        await client.close()
    compared = [_compare(e, ids=run.ids, jids=jids, ignore=ignore) for e in results]
    live = Transcript.from_events(memory.events, recorded_by="xmpplab replay (client side)", role="initiating")
    return RedriveReport(connection.id, recorded, bound, f"{host}:{port}", compared, run.ids, jids, live, notes)


def _mentions(exchanges) -> set[str]:
    """Every address the recorded stanzas of ``exchanges`` hold (to, from, jid), client's and server's."""
    found = set()
    for exchange in exchanges:
        for item in ([exchange.request] if exchange.request is not None else []) + list(exchange.answers):
            if item.element is None:
                continue
            for node in item.element.iter():
                if isinstance(node.tag, str):
                    found.update(node.get(attr) for attr in JID_ATTRIBUTES if node.get(attr))
    return found


@dataclass
class _Played:
    exchange: object
    sent: str | None
    got: list = field(default_factory=list)


class _Run:
    """Sending the recorded client stanzas and sorting what comes back into exchanges."""

    def __init__(self, client: RawClient, jids: JidMap, quiet: float, timeout: float):
        self.client, self.jids, self.quiet, self.timeout = client, jids, quiet, timeout
        self.ids = IdMap("redrive")
        self.by_live_id: dict[tuple[str, str], _Played] = {}
        self.server_requests: list = []  # live iq get/set from the server, not answered yet
        self.current: _Played | None = None
        self.ended: str | None = None

    async def play(self, exchange) -> _Played:
        sent = None
        played = _Played(exchange, None)
        waiting = set()
        if exchange.request is not None and self.ended is None:
            el = self.jids.apply(exchange.request.element)
            name = split_qname(el.tag)[1]
            if el.get("id") is not None:
                if name == "iq" and el.get("type") in ("result", "error"):
                    self._answer_server_request(el)
                else:
                    el.set("id", self.ids.new(el.get("id")))
                    self.by_live_id[(name, el.get("id"))] = played
                    if name == "iq":
                        waiting.add(el.get("id"))
            sent = serialize(el, NS_CLIENT)
            played.sent = sent
            try:
                await self.client.send(sent)
            except StreamEnded as exc:
                self.ended = exc.reason
        self.current = played
        await self._collect(waiting)
        return played

    def _answer_server_request(self, el) -> None:
        """A recorded answer to an iq the server sent (a ping...): address it to the oldest live one."""
        if self.server_requests:
            request = self.server_requests.pop(0)
            self.ids.pair(el.get("id"), request.get("id"))
            el.set("id", request.get("id"))
            if request.get("from"):
                el.set("to", request.get("from"))

    async def _collect(self, waiting: set) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while self.ended is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                el = await self.client.recv(timeout=remaining if waiting else min(self.quiet, remaining))
            except RecvTimeout:
                return
            except StreamEnded as exc:
                self.ended = exc.reason
                return
            name = split_qname(el.tag)[1]
            owner = self.by_live_id.get((name, el.get("id"))) or self.current
            owner.got.append(el)
            if name == "iq" and el.get("type") in ("result", "error"):
                waiting.discard(el.get("id"))
            elif name == "iq":
                self.server_requests.append(el)


def _compare(played: _Played, *, ids: IdMap, jids: JidMap, ignore) -> ExchangeResult:
    exchange = played.exchange
    result = ExchangeResult(exchange.number, exchange.request, played.sent)
    got = list(played.got)
    pairs: list[tuple[Item, object]] = []
    unmatched: list[Item] = []
    for expected in exchange.answers:  # first the live stanzas equal to a recorded one
        twin = None
        for candidate in got:
            e, g = normalize(expected.element, candidate, ids, jids, ignore)
            if canonical(e) == canonical(g):
                twin = candidate
                break
        if twin is None:
            unmatched.append(expected)
        else:
            got.remove(twin)
            pairs.append((expected, twin))
    for expected in unmatched:  # then the same kind of stanza, with other content
        want = shape(expected.element)
        twin = next((c for c in got if shape(c) == want), None)
        if twin is None:  # an iq error instead of a result, say: the same id tells it is the answer
            twin = next((c for c in got if shape(c)[:1] == want[:1] and _same_id(expected, c, ids)), None)
        if twin is not None:
            got.remove(twin)
        pairs.append((expected, twin))
    order = {id(a): n for n, a in enumerate(exchange.answers)}
    for expected, twin in sorted(pairs, key=lambda p: order[id(p[0])]):
        if twin is None:
            result.outcomes.append(Outcome(Status.MISSING, expected))
            continue
        e, g = normalize(expected.element, twin, ids, jids, ignore)
        if canonical(e) == canonical(g):
            result.outcomes.append(Outcome(Status.SAME, expected, twin))
        else:
            result.outcomes.append(Outcome(Status.DIFFERENT, expected, twin, differences(e, g), xml_diff(e, g)))
    result.outcomes.extend(Outcome(Status.EXTRA, None, g) for g in got)
    return result


def _same_id(expected: Item, got, ids: IdMap) -> bool:
    return expected.id is not None and ids.live.get(expected.id) == got.get("id")


def _one_line(text: str | None, limit: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 3] + "..."

