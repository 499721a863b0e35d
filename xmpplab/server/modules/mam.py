"""XEP-0313 Message Archive Management: every account keeps its conversations, and any device reads them back.

The server archives what each account sends and receives (XEP-0313 §3.3.1, §6.1.1:
messages of type ``chat`` or ``normal`` with a ``<body/>``, unless they carry the
XEP-0334 hint ``<no-store/>`` or ``<no-permanent-store/>``), and tells the recipient
where it keeps each one with a XEP-0359 stanza id (§3.5)::

    <message from='romeo@example.net/orchard' to='juliet@example.com/balcony' type='chat'>
      <body>Art thou not Romeo?</body>
      <stanza-id xmlns='urn:xmpp:sid:0' by='juliet@example.com' id='5f1c2a9e0b7d4e21'/>
    </message>

A client asks for its archive (§4), filtered by the data form's ``with``, ``start``,
``end``, ``before-id``, ``after-id`` and ``ids`` (§4.1), a page at a time with
XEP-0059 (§4.3); each match comes as a message of its own, then the iq result::

    C: <iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2' queryid='f27'/></iq>
    S: <message to='juliet@example.com/balcony'><result xmlns='urn:xmpp:mam:2' queryid='f27' id='5f1c…'>
         <forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-12-05T10:00:00Z'/>
           <message xmlns='jabber:client' ...>...</message></forwarded></result></message>
    S: <iq type='result' id='q1'><fin xmlns='urn:xmpp:mam:2' complete='true'>
         <set xmlns='http://jabber.org/protocol/rsm'><first index='0'>5f1c…</first><last>5f1c…</last>
         <count>1</count></set></fin></iq>

An account's messages are archived once one of its clients has used the archive (a
query, or asking for the query form): a client that never reads history does not pay for
it, as with ejabberd's default (``assume_mam_usage: false``). The account is remembered
across restarts; ``Archive(everyone=True)`` archives every account from the start.

Archives are in the server's database and survive restarts. They are bounded:
messages older than ``retention_days`` are deleted (§3.2), and so are the oldest
beyond ``max_per_account``. Writes are batched (one transaction every
``FLUSH_SECONDS`` or ``FLUSH_ROWS``); a query or a stop writes what is pending first.
Archiving is not free: an archived message costs the server about twice the work of one
that is not (benchmarks/RESULTS.md).

Rooms keep archives too (XEP-0313 on rooms, :mod:`.muc_mam`): in the same table, under the room's JID, with the
same retention, answered by the same :meth:`Archive.answer`.

Use the default (``"mam"`` in ``DEFAULT_MODULES``: 30 days) or, in its place, an object with your own
settings: ``Archive(retention_days=7, everyone=True)``.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import logging
import random
import secrets
import time

from lxml import etree

from ...jid import JID, InvalidJID
from ...ns import NS_DELAY, NS_FORWARD, NS_HINTS
from ...xml import NS_CLIENT, XMLInputError, element, parse_fragment, serialize, sub
from .. import rsm
from ..forms import Form, find_form, values
from ..slots import Slot
from ..storage import StorageFault

log = logging.getLogger("xmpplab.server")

NS_MAM = "urn:xmpp:mam:2"
NS_MAM_EXTENDED = "urn:xmpp:mam:2#extended"
NS_SID = "urn:xmpp:sid:0"
BODY = f"{{{NS_CLIENT}}}body"
NO_STORE = frozenset({f"{{{NS_HINTS}}}no-store", f"{{{NS_HINTS}}}no-permanent-store"})
STANZA_ID = f"{{{NS_SID}}}stanza-id"
SID_NSMAP = {None: NS_SID}
FLUSH_SECONDS = 0.05
FLUSH_ROWS = 500
PAGE_LIMIT = 100  # results per query at most (§4.3.1), whatever the client asks

SCHEMA = """
CREATE TABLE IF NOT EXISTS mam (
  seq INTEGER PRIMARY KEY,
  owner TEXT NOT NULL, id TEXT NOT NULL, stamp REAL NOT NULL, with_bare TEXT NOT NULL, xml TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS mam_owner_seq ON mam (owner, seq);
CREATE INDEX IF NOT EXISTS mam_stamp ON mam (stamp);
CREATE TABLE IF NOT EXISTS mam_users (owner TEXT PRIMARY KEY);
"""

ARCHIVE: Slot[Archive] = Slot("mam: the archive")


class Archive:
    """The module, with its settings: how long messages are kept, and how many per account."""

    name = "mam"

    def __init__(self, retention_days: float = 30, max_per_account: int = 10000, everyone: bool = False):
        if retention_days <= 0 or max_per_account <= 0:
            raise ValueError("an archive keeps messages for more than 0 days, and more than 0 per account")
        self.retention_days = retention_days
        self.max_per_account = max_per_account
        self.everyone = everyone
        self.users: set[str] = set()  # the accounts whose clients use the archive (see the module docstring)
        self.server = None
        self._pending: list[tuple] = []
        self._last: tuple | None = None  # (element, its text): a local message is archived twice, serialised once
        # the random half of archive ids: unique with the sequence number, not guessable (XEP-0359 §4), cheap
        self._random = random.Random(secrets.randbits(64)).getrandbits
        self._timer: asyncio.TimerHandle | None = None
        self._written = 0
        # rows per owner (account or room), counted once at start and kept up to date by every write and delete
        # here, so that the clean-up touches only what it deletes instead of counting the whole table
        self._counts: collections.Counter = collections.Counter()

    # ------------------------------------------------------------------ set up
    def setup(self, server) -> None:
        """Archive messages both ways, answer queries (§4) and advertise MAM on accounts (§7)."""
        self.server = server
        ARCHIVE.put(server, self)
        server.storage.add_tables(SCHEMA)
        self._counts = collections.Counter(dict(server.storage.rows("SELECT owner, COUNT(*) FROM mam GROUP BY owner")))
        self.expire()
        # archive ids are "<seq in hex>-<random>": found by the primary key, unguessable, and made before the
        # row is written (a batch writes them later), so a message carries its id when it is delivered
        self._next_seq = server.storage.rows("SELECT COALESCE(MAX(seq), 0) FROM mam")[0][0] + 1
        self.users = {owner for (owner,) in server.storage.rows("SELECT owner FROM mam_users")}
        server.hook("disco-features/account", lambda query: [NS_MAM, NS_MAM_EXTENDED])
        server.hook(f"iq-get/self/{NS_MAM}:query", self.form)
        server.hook(f"iq-set/self/{NS_MAM}:query", self.query)
        server.hook(f"iq-get/self/{NS_MAM}:metadata", self.own_metadata)
        server.hook("account-removed", self.forget)
        self._armed = False
        self._arm()
        server.hook("server-stopped", lambda _server: self.flush())

    # ------------------------------------------------------------------ archiving (§3.3.1, §3.5)
    @staticmethod
    def eligible(stanza) -> bool:
        """Whether a message is archived (§6.1.1): chat or normal with a body, not marked no-store (XEP-0334)."""
        if stanza.get("type", "normal") not in ("chat", "normal"):
            return False
        body = False
        for child in stanza:  # one pass over the children (this runs twice for every message)
            tag = child.tag
            if tag == BODY:
                body = True
            elif tag in NO_STORE:
                return False
        return body

    def received(self, event) -> bool:
        """An incoming message for a local account: archive it and stamp its stanza id (§3.5)."""
        stanza, to = event.stanza, event.to
        owner = str(to.bare)
        if owner not in self.users and not self.everyone:
            return False
        if not self.eligible(stanza) or not self.server.user_exists(to.bare):
            return False
        if to.resource is not None and self.server.session_for(to) is None and stanza.get("type") != "chat":
            return False  # a normal message to a gone resource is bounced, not kept (RFC 6121 §8.5.3.2.1)
        for old in stanza.findall(STANZA_ID):
            if old.get("by") == owner:  # §8.3: an id claiming to be ours that we did not add is removed
                stanza.remove(old)
                self._last = None
        archive_id = self.store(owner, str(event.from_.bare) if event.from_ is not None else owner, stanza)
        etree.SubElement(stanza, STANZA_ID, {"by": owner, "id": archive_id}, nsmap=SID_NSMAP)
        return False

    def sent(self, event) -> bool:
        """A message a local client sends: archive it in the sender's archive (§6.1.1)."""
        origin, stanza = event.origin, event.stanza
        if origin is None or event.to is None:
            return False
        owner = str(origin.jid.bare)
        if owner not in self.users and not self.everyone or not self.eligible(stanza):
            return False
        self.store(owner, str(event.to.bare), stanza)
        return False

    def use(self, owner: str) -> None:
        """From now on, archive ``owner``'s messages: one of its clients asked for the archive."""
        if owner not in self.users:
            self.users.add(owner)
            self.server.storage.rows("INSERT OR IGNORE INTO mam_users (owner) VALUES (?)", (owner,))
            self._arm()

    def _message_hooks(self):
        for where in ("full", "bare"):
            yield f"message/{where}", self.received
        for where in ("full", "bare", "remote", "component"):
            yield f"pre-message/{where}", self.sent

    def _arm(self) -> None:
        """The message path is hooked only while some account is archived: otherwise archiving costs nothing."""
        wanted = self.everyone or bool(self.users)
        if wanted is self._armed:
            return
        self._armed = wanted
        for name, handler in self._message_hooks():
            if wanted:
                self.server.hooks.add(name, handler, 100)
            else:
                self.server.hooks.remove(name, handler)

    def store(self, owner: str, with_bare: str, stanza, text: str | None = None) -> str:
        """Keep ``stanza`` (or ``text``, its XML as kept) in the archive ``owner`` (batched), filed under
        ``with_bare``; return its archive id."""
        seq = self._next_seq
        self._next_seq += 1
        archive_id = f"{seq:x}-{self._random(32):08x}"
        if text is None:
            last = self._last
            if last is not None and last[0] is stanza:  # the same message just archived for its sender: same text
                text = last[1]
            else:
                text = serialize(stanza, NS_CLIENT)
                self._last = (stanza, text)
        self._pending.append((seq, owner, archive_id, time.time(), with_bare, text))
        if len(self._pending) >= FLUSH_ROWS:
            self.flush()
        elif self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)
            except RuntimeError:  # no loop (a synchronous caller): write now
                self.flush()
        return archive_id

    def flush(self) -> int:
        """Write the pending messages in one transaction; return how many."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        rows, self._pending = self._pending, []
        if not rows:
            return 0
        try:
            self.server.storage.write_many("INSERT INTO mam (seq, owner, id, stamp, with_bare, xml) "
                                           "VALUES (?,?,?,?,?,?)", rows)
        except StorageFault as exc:
            # The messages themselves were delivered or kept offline; only their history copy is lost.
            log.warning("%d messages were not archived: the database refused them (%s)", len(rows), exc.reason)
            return 0
        self._written += len(rows)
        self._counts.update(row[1] for row in rows)
        if self._written >= 10 * FLUSH_ROWS:
            self._written = 0
            self.expire()
        return len(rows)

    def expire(self) -> None:
        """Delete what is older than the retention (§3.2) and each archive's oldest beyond its maximum.

        Both deletions find their rows through an index (by time, by owner and sequence) and cost what they
        delete, however large the table: the clean-up runs on the event loop every few thousand messages.
        """
        storage, counts = self.server.storage, self._counts
        for (owner,) in storage.rows("DELETE FROM mam WHERE stamp < ? RETURNING owner",
                                     (time.time() - self.retention_days * 86400,)):
            counts[owner] -= 1
        for owner, n in [(owner, n) for owner, n in counts.items() if n > self.max_per_account or n <= 0]:
            if n > self.max_per_account:
                storage.rows("DELETE FROM mam WHERE seq IN (SELECT seq FROM mam WHERE owner = ? ORDER BY seq "
                             "LIMIT ?)", (owner, n - self.max_per_account))
                counts[owner] = self.max_per_account
            else:
                del counts[owner]

    def drop(self, owner: str) -> None:
        """Delete one archive (an account's, a room's), what waits to be written included."""
        self.flush()
        self.server.storage.rows("DELETE FROM mam WHERE owner = ?", (owner,))
        self._counts.pop(owner, None)

    def forget(self, bare) -> bool:
        """An account removed: its archive goes too."""
        self.drop(str(bare))
        self.server.storage.rows("DELETE FROM mam_users WHERE owner = ?", (str(bare),))
        self.users.discard(str(bare))
        self._arm()
        return False

    # ------------------------------------------------------------------ queries (§4)
    def form(self, event) -> bool:
        """§4.1.5: the fields a query may use."""
        if event.origin is not None:
            self.use(str(event.origin.jid.bare))
        event.reply(query_form())
        return True

    def query(self, event) -> bool:
        """§4: send the matching messages one by one, then the iq result with the page's ``<fin/>``."""
        session = event.origin
        if session is None:
            return False
        owner = str(session.jid.bare)
        self.use(owner)
        to = str(session.jid)
        self.answer(event, owner, session.send, to)
        return True

    def own_metadata(self, event) -> bool:
        """§5 on one's own archive."""
        if event.origin is None:
            return False
        owner = str(event.origin.jid.bare)
        self.use(owner)
        self.metadata(event, owner)
        return True

    def answer(self, event, owner: str, send, to: str, *, from_: str | None = None, matching=None,
               shown=None) -> None:
        """Answer a query (§4) on the archive ``owner``: ``send`` each match, then reply with ``<fin/>``.

        Shared by every archive (an account's, a room's): ``matching(jid)`` gives the SQL condition
        and arguments of the ``with`` filter (§4.1.1), ``shown(message)`` edits each archived message
        before it is forwarded (a room hides real JIDs from those who may not see them).
        """
        self.flush()
        payload = event.payload
        try:
            where, args = self._filters(owner, values(find_form(payload)), matching or _with_account)
            page = rsm.request(payload, PAGE_LIMIT)
            rows, complete, count = self._page(where, args, page)
        except (ValueError, LookupError) as exc:
            event.error("item-not-found" if isinstance(exc, LookupError) else "bad-request", str(exc))
            return
        queryid = payload.get("queryid")
        flipped = payload.find(f"{{{NS_MAM}}}flip-page") is not None  # §4.3.4: the same page, newest first
        for _seq, archive_id, stamp, xml in (reversed(rows) if flipped else rows):
            send(self._result(to, from_, queryid, archive_id, stamp, xml, shown))
        fin = element("fin", {"complete": "true" if complete else None}, ns=NS_MAM)
        first = rows[0][1] if rows else None
        index = self._index(where, args, rows[0][0]) if rows else None
        fin.append(rsm.answer(first, rows[-1][1] if rows else None, count, index))
        event.reply(fin)

    def metadata(self, event, owner: str) -> None:
        """§5: the first and last message of the archive (id and time), or an empty ``<metadata/>``."""
        self.flush()
        found = element("metadata", ns=NS_MAM)
        for tag, order in (("start", "ASC"), ("end", "DESC")):
            row = self.server.storage.rows(f"SELECT id, stamp FROM mam WHERE owner = ? ORDER BY seq {order} LIMIT 1",
                                           (owner,))
            if row:
                sub(found, tag, {"id": row[0][0], "timestamp": _stamp(row[0][1])})
        event.reply(found)

    def _filters(self, owner: str, form: dict, matching) -> tuple[str, list]:
        where, args = ["owner = ?"], [owner]
        if form.get("FORM_TYPE", [NS_MAM])[:1] != [NS_MAM]:
            raise ValueError(f"the query form's FORM_TYPE is {NS_MAM} (XEP-0313 §4.1)")
        if form.get("with"):
            try:
                other = JID(form["with"][0])
            except InvalidJID as exc:
                raise ValueError(f"'with' is not a JID: {exc}") from None
            condition, extra = matching(other)
            where.append(condition)
            args += extra
        for var, op in (("start", ">="), ("end", "<=")):
            if form.get(var):
                where.append(f"stamp {op} ?")
                args.append(_timestamp(form[var][0]))
        for var, op in (("after-id", ">"), ("before-id", "<")):
            if form.get(var):
                where.append(f"seq {op} ?")
                args.append(self._seq(owner, form[var][0]))
        if form.get("ids"):
            seqs = [self._seq(owner, i) for i in form["ids"]]
            where.append(f"seq IN ({','.join('?' * len(seqs))})")
            args += seqs
        return " AND ".join(where), args

    def _seq(self, owner: str, archive_id: str) -> int:
        try:
            seq = int(archive_id.partition("-")[0], 16)
        except ValueError:
            seq = -1
        row = self.server.storage.rows("SELECT seq FROM mam WHERE seq = ? AND owner = ? AND id = ?",
                                       (seq, owner, archive_id))
        if not row:
            raise LookupError(f"there is no message {archive_id!r} in this archive (XEP-0313 §4.3.2)")
        return row[0][0]

    def _page(self, where: str, args: list, page: rsm.Page) -> tuple[list, bool, int]:
        storage = self.server.storage
        count = storage.rows(f"SELECT COUNT(*) FROM mam WHERE {where}", args)[0][0]
        if page.before is not None:  # the page just before an id, or the last page (XEP-0059 §2.3, §2.5)
            cond, extra = (where, args) if page.before == "" else \
                (f"{where} AND seq < ?", [*args, self._seq(args[0], page.before)])
            rows = storage.rows(f"SELECT seq, id, stamp, xml FROM mam WHERE {cond} ORDER BY seq DESC LIMIT ?",
                                [*extra, page.max + 1])
            complete = len(rows) <= page.max
            rows = list(reversed(rows[:page.max]))
        else:
            cond, extra = (where, args) if page.after is None else \
                (f"{where} AND seq > ?", [*args, self._seq(args[0], page.after)])
            rows = storage.rows(f"SELECT seq, id, stamp, xml FROM mam WHERE {cond} ORDER BY seq LIMIT ?",
                                [*extra, page.max + 1])
            complete = len(rows) <= page.max
            rows = rows[:page.max]
        return rows, complete, count

    def _index(self, where: str, args: list, seq: int) -> int:
        return self.server.storage.rows(f"SELECT COUNT(*) FROM mam WHERE {where} AND seq < ?", [*args, seq])[0][0]

    @staticmethod
    def _result(to: str, from_: str | None, queryid, archive_id: str, stamp: float, xml: str, shown=None):
        """One match (§4.2): the original, forwarded, with the time it was received."""
        msg = element("message", {"from": from_, "to": to, "id": secrets.token_hex(6)})
        result = sub(msg, "result", {"queryid": queryid, "id": archive_id}, ns=NS_MAM)
        forwarded = sub(result, "forwarded", ns=NS_FORWARD)
        sub(forwarded, "delay", {"stamp": _stamp(stamp)}, ns=NS_DELAY)
        try:
            original = parse_fragment(xml)
        except XMLInputError:  # a row that cannot be read any more: say so rather than drop the page
            original = element("message", ns=NS_CLIENT)
        forwarded.append(shown(original) if shown is not None else original)
        return msg


def _with_account(other: JID) -> tuple[str, list]:
    """§4.1.1 in an account's archive: a bare JID matches the conversation, a full JID that resource only."""
    if other.resource is not None:
        return "with_bare = ? AND (xml LIKE ? OR xml LIKE ?)", [str(other.bare), f"%from=\"{other}\"%",
                                                                 f"%to=\"{other}\"%"]
    return "with_bare = ?", [str(other)]


def query_form():
    """§4.1.5: the ``<query/>`` with the data form of the fields a query may use."""
    f = Form(form_type=NS_MAM)
    f.field("with", "jid-single")
    for var in ("start", "end", "before-id", "after-id"):
        f.field(var, "text-single")
    f.field("ids", "list-multi")
    q = element("query", ns=NS_MAM)
    q.append(f.element("form"))
    return q


def _stamp(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _timestamp(text: str) -> float:
    """A XEP-0082 DateTime (``2026-12-05T10:00:00Z``, fractions and offsets allowed) as seconds since 1970."""
    try:
        value = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a XEP-0082 date and time, such as 2026-12-05T10:00:00Z") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.timestamp()


def setup(server):
    """The default archive: 30 days, 10,000 messages per account."""
    Archive().setup(server)
