"""SQLite storage for one server: accounts, rosters, pending subscriptions, offline messages, rooms, pubsub nodes.

In memory by default (notebooks), or a file that survives restarts
(``xmpplab serve --db lab.sqlite``). Passwords are never stored: only the
SCRAM salted keys of RFC 5802 / RFC 7677 for SHA-1 and SHA-256, from which
PLAIN logins are verified too.

Faults of the machine (a full disk, a read-only file or mount, a database
locked or damaged) are raised as :class:`StorageFault`, a stanza error
(RFC 6120 8.3.3), and logged in one line: the handler that was storing
something answers the sender with it, and the connection stays up.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..errors import StanzaError
from ..sasl import Credentials
from .storage_pubsub import SCHEMA as PUBSUB_SCHEMA
from .storage_pubsub import PubSubRows

log = logging.getLogger("xmpplab.server")

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS accounts (
    domain TEXT NOT NULL, username TEXT NOT NULL,
    iterations INTEGER NOT NULL,
    sha1_salt BLOB NOT NULL, sha1_stored_key BLOB NOT NULL, sha1_server_key BLOB NOT NULL,
    sha256_salt BLOB NOT NULL, sha256_stored_key BLOB NOT NULL, sha256_server_key BLOB NOT NULL,
    created TEXT DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (domain, username)
);
CREATE TABLE IF NOT EXISTS roster (
    owner TEXT NOT NULL, contact TEXT NOT NULL,
    name TEXT, subscription TEXT NOT NULL DEFAULT 'none',
    ask INTEGER NOT NULL DEFAULT 0,       -- pending-out: we asked to see the contact's presence
    pending_in INTEGER NOT NULL DEFAULT 0, -- the contact asked to see ours
    approved INTEGER NOT NULL DEFAULT 0,   -- pre-approved (RFC 6121 section 3.4)
    in_roster INTEGER NOT NULL DEFAULT 1,  -- 0: state kept for a contact the user has not added
    groups TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (owner, contact)
);
CREATE TABLE IF NOT EXISTS roster_version (owner TEXT PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS subscription_requests (
    owner TEXT NOT NULL, contact TEXT NOT NULL, stanza TEXT NOT NULL,
    PRIMARY KEY (owner, contact)
);
CREATE TABLE IF NOT EXISTS offline (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL, stanza TEXT NOT NULL, stamp TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS offline_owner ON offline (owner);
CREATE TABLE IF NOT EXISTS muc_rooms (      -- XEP-0045 persistent rooms (muc#roomconfig_persistentroom)
    room TEXT PRIMARY KEY,                   -- room@conference.example.com
    service TEXT NOT NULL,                   -- conference.example.com
    config TEXT NOT NULL,                    -- the room configuration, JSON
    subject TEXT NOT NULL DEFAULT '', subject_from TEXT, subject_time REAL
);
CREATE TABLE IF NOT EXISTS muc_affiliations ( -- owners, admins, members and outcasts of persistent rooms
    room TEXT NOT NULL, jid TEXT NOT NULL, affiliation TEXT NOT NULL,
    nick TEXT, reason TEXT,                  -- a reserved room nickname (XEP-0045 9.3), why
    PRIMARY KEY (room, jid)
);
""" + PUBSUB_SCHEMA

#: A write that shows whether the database can be written (when it was last checked).
CHECK = "INSERT OR REPLACE INTO meta VALUES ('checked', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))"


@dataclass
class RosterItem:
    """One contact in a user's roster (RFC 6121 section 2.1.2) and its subscription state."""

    contact: str
    name: str | None = None
    subscription: str = "none"  # none, to, from, both
    ask: bool = False  # pending-out: shown as ask='subscribe'
    pending_in: bool = False
    approved: bool = False
    in_roster: bool = True
    groups: list[str] = field(default_factory=list)


class StorageFault(StanzaError):
    """The database refused a read or a write: answered as RFC 6120 8.3.3 says, logged in one line.

    A full disk (SQLITE_FULL, "database or disk is full") is ``resource-constraint``,
    type wait: the sender may try again later. Anything else the machine does to a
    database (a read-only file, folder or mount, a lock held by another program, a
    damaged file) is ``internal-server-error``. Every handler that answers a
    :class:`~xmpplab.errors.StanzaError` answers this one too.
    """

    def __init__(self, reason: str, full: bool):
        self.reason = reason
        self.full = full
        if full:
            super().__init__("resource-constraint", "the server's disk is full; try again later")
        else:
            super().__init__("internal-server-error", f"the server could not use its database ({reason})")


class StorageUnavailable(OSError):
    """``Server(db=...)`` (and ``Storage(..., writable=True)``) on a database that cannot be opened or
    written: one readable sentence, raised before anything starts."""


def _fault(exc: sqlite3.Error) -> StorageFault | None:
    """The fault an SQLite error stands for, or None when it is a bug (a constraint, a misuse)."""
    if not (isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError):
        return None
    reason = str(exc)
    return StorageFault(reason, getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL" or "is full" in reason)


class _Connection:
    """An SQLite connection whose faults are raised as :class:`StorageFault` and logged in one line."""

    def __init__(self, db: sqlite3.Connection, path: str):
        self.raw = db
        self.path = path

    def execute(self, sql: str, args=()):
        try:
            return self.raw.execute(sql, args)
        except sqlite3.Error as exc:
            raise self._failed(exc, sql) from None

    def executemany(self, sql: str, rows):
        try:
            return self.raw.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise self._failed(exc, sql) from None

    def _failed(self, exc: sqlite3.Error, sql: str) -> Exception:
        fault = _fault(exc)
        if fault is None:
            return exc
        log.warning("the database %s refused %s: %s", self.path, sql.split(None, 1)[0].upper(), fault.reason)
        return fault

    def __getattr__(self, name):
        return getattr(self.raw, name)


class Storage(PubSubRows):
    """A thin, synchronous wrapper around one SQLite database (fast on local disk or in memory).

    With ``writable=True`` (a server's database), a database that cannot be written
    is refused at once with :class:`StorageUnavailable` rather than at the first write.
    """

    def __init__(self, path: str | None = None, writable: bool = False):
        self.path = path or ":memory:"
        try:
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL" if path else "PRAGMA journal_mode=MEMORY")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            if _fault(exc) is None:
                raise
            hint = ": check that its folder exists and that this user may write the file and the folder" \
                if "unable to open" in str(exc) or "readonly" in str(exc) else ""
            raise StorageUnavailable(f"the database {self.path} cannot be opened ({exc}){hint}") from None
        self._db = _Connection(db, self.path)
        self._lock = threading.Lock()
        row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is not None and int(row[0]) > SCHEMA_VERSION:
            raise RuntimeError(f"{self.path} was written by a newer xmpplab (schema {row[0]})")
        try:
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            if writable:
                db.execute(CHECK)
        except sqlite3.Error as exc:
            fault = _fault(exc)
            if fault is None:
                raise
            db.close()
            why = "its disk is full" if fault.full else f"{fault.reason}: check that this user may write the " \
                "file and its folder, and that the disk is not mounted read-only"
            raise StorageUnavailable(f"the database {self.path} cannot be written ({why})") from None

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _exec(self, sql: str, args=()):
        with self._lock:
            return self._db.execute(sql, args)

    @contextmanager
    def _transaction(self):
        """Several statements as one: all of them are stored, or (after a fault) none."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                self._db.rollback()  # a no-op when SQLite already rolled back (as after SQLITE_FULL)
                raise

    def check_writable(self) -> None:
        """Write one row (when the database was last checked); raise :class:`StorageFault` if it cannot be.

        For steps that cannot be undone once begun (closing the sessions of an account being removed).
        """
        self._exec(CHECK)

    # tables of feature modules --------------------------------------------
    def add_tables(self, schema: str) -> None:
        """Create a feature module's own tables (``CREATE TABLE IF NOT EXISTS``), next to the core's."""
        with self._lock:
            try:
                self._db.raw.executescript(schema)
            except sqlite3.Error as exc:
                raise self._db._failed(exc, schema.strip()) from None

    def rows(self, sql: str, args=()) -> list[tuple]:
        """Run one statement on a module's tables; the rows it returns (a fault is a :class:`StorageFault`)."""
        return self._exec(sql, args).fetchall()

    def write_many(self, sql: str, rows) -> None:
        """Run one statement for each of ``rows`` in one transaction: all are stored, or (after a fault) none."""
        with self._transaction():
            self._db.executemany(sql, rows)

    # accounts -------------------------------------------------------------
    def put_account(self, domain: str, username: str, creds: Credentials) -> None:
        """Store an account's SCRAM keys (never its password), replacing those it had."""
        self._exec(
            "INSERT OR REPLACE INTO accounts (domain, username, iterations, sha1_salt, sha1_stored_key,"
            " sha1_server_key, sha256_salt, sha256_stored_key, sha256_server_key) VALUES (?,?,?,?,?,?,?,?,?)",
            (domain, username, creds.iterations, *creds.sha1, *creds.sha256))

    def get_account(self, domain: str, username: str) -> Credentials | None:
        """The account's SCRAM keys, or None when there is no such account."""
        row = self._exec(
            "SELECT iterations, sha1_salt, sha1_stored_key, sha1_server_key, sha256_salt, sha256_stored_key,"
            " sha256_server_key FROM accounts WHERE domain=? AND username=?", (domain, username)).fetchone()
        if row is None:
            return None
        return Credentials(row[0], tuple(row[1:4]), tuple(row[4:7]))

    def account_exists(self, domain: str, username: str) -> bool:
        """Whether the account exists."""
        return self._exec("SELECT 1 FROM accounts WHERE domain=? AND username=?",
                          (domain, username)).fetchone() is not None

    def delete_account(self, domain: str, username: str) -> bool:
        """Delete an account with its roster, requests, offline messages; return whether it existed."""
        bare = f"{username}@{domain}"
        with self._transaction():
            cur = self._db.execute("DELETE FROM accounts WHERE domain=? AND username=?", (domain, username))
            for table in ("roster", "subscription_requests", "offline", "roster_version"):
                self._db.execute(f"DELETE FROM {table} WHERE owner=?", (bare,))
            # Requests from an account that no longer exists are dropped; contacts keep their roster
            # items (the presence module has already cancelled the subscriptions both ways).
            self._db.execute("DELETE FROM subscription_requests WHERE contact=?", (bare,))
        return cur.rowcount > 0

    def list_accounts(self, domain: str | None = None) -> list[str]:
        """The accounts as ``user@domain`` strings, of one domain or of all, sorted."""
        if domain:
            rows = self._exec("SELECT username, domain FROM accounts WHERE domain=? ORDER BY username", (domain,))
        else:
            rows = self._exec("SELECT username, domain FROM accounts ORDER BY domain, username")
        return [f"{u}@{d}" for u, d in rows]

    # roster ---------------------------------------------------------------
    def get_roster(self, owner: str) -> dict[str, RosterItem]:
        """The owner's roster items by contact JID (RFC 6121 2.1)."""
        rows = self._exec("SELECT contact, name, subscription, ask, pending_in, approved, in_roster, groups"
                          " FROM roster WHERE owner=? ORDER BY contact", (owner,))
        return {r[0]: RosterItem(r[0], r[1], r[2], bool(r[3]), bool(r[4]), bool(r[5]), bool(r[6]),
                                 json.loads(r[7])) for r in rows}

    def get_item(self, owner: str, contact: str) -> RosterItem | None:
        """One roster item, or None."""
        r = self._exec("SELECT contact, name, subscription, ask, pending_in, approved, in_roster, groups"
                       " FROM roster WHERE owner=? AND contact=?", (owner, contact)).fetchone()
        if r is None:
            return None
        return RosterItem(r[0], r[1], r[2], bool(r[3]), bool(r[4]), bool(r[5]), bool(r[6]), json.loads(r[7]))

    def put_item(self, owner: str, item: RosterItem) -> None:
        """Add or replace one roster item."""
        self._exec("INSERT OR REPLACE INTO roster (owner, contact, name, subscription, ask, pending_in, approved,"
                   " in_roster, groups) VALUES (?,?,?,?,?,?,?,?,?)",
                   (owner, item.contact, item.name, item.subscription, int(item.ask), int(item.pending_in),
                    int(item.approved), int(item.in_roster), json.dumps(item.groups)))

    def delete_item(self, owner: str, contact: str) -> None:
        """Remove one roster item."""
        self._exec("DELETE FROM roster WHERE owner=? AND contact=?", (owner, contact))

    def bump_roster_version(self, owner: str) -> int:
        """Count one more change to the owner's roster and return the new version (RFC 6121 2.6)."""
        with self._transaction():
            self._db.execute("INSERT INTO roster_version VALUES (?, 1) ON CONFLICT(owner)"
                             " DO UPDATE SET version = version + 1", (owner,))
            return self._db.execute("SELECT version FROM roster_version WHERE owner=?", (owner,)).fetchone()[0]

    def roster_version(self, owner: str) -> int:
        """The owner's roster version (0 before any change)."""
        row = self._exec("SELECT version FROM roster_version WHERE owner=?", (owner,)).fetchone()
        return row[0] if row else 0

    # subscription requests (RFC 6121 section 3.1.3: kept whole, redelivered at login) ----
    def put_subscription_request(self, owner: str, contact: str, stanza: str) -> None:
        """Keep a subscription request until the owner answers it (RFC 6121 3.1.3)."""
        self._exec("INSERT OR REPLACE INTO subscription_requests VALUES (?,?,?)", (owner, contact, stanza))

    def delete_subscription_request(self, owner: str, contact: str) -> None:
        """Forget a subscription request (it was answered or cancelled)."""
        self._exec("DELETE FROM subscription_requests WHERE owner=? AND contact=?", (owner, contact))

    def subscription_requests(self, owner: str) -> list[tuple[str, str]]:
        """The requests waiting for ``owner``, oldest first: (contact, stanza)."""
        return list(self._exec("SELECT contact, stanza FROM subscription_requests WHERE owner=? ORDER BY rowid",
                               (owner,)))

    # offline messages (XEP-0160) --------------------------------------------
    def store_offline(self, owner: str, stanza: str, stamp: str) -> None:
        """Keep a message for ``owner`` to deliver at the next login (XEP-0160)."""
        self._exec("INSERT INTO offline (owner, stanza, stamp) VALUES (?,?,?)", (owner, stanza, stamp))

    def offline_messages(self, owner: str) -> list[tuple[int, str, str]]:
        """The messages kept for ``owner``, oldest first: (id, stanza, stamp). They stay stored until
        :meth:`delete_offline` is called with the id, once each was written to the recipient."""
        return self._exec("SELECT id, stanza, stamp FROM offline WHERE owner=? ORDER BY id", (owner,)).fetchall()

    def delete_offline(self, owner: str, row_id: int) -> None:
        """Forget one offline message (it was delivered)."""
        self._exec("DELETE FROM offline WHERE owner=? AND id=?", (owner, row_id))

    def count_offline(self, owner: str) -> int:
        """How many offline messages ``owner`` has waiting."""
        return self._exec("SELECT count(*) FROM offline WHERE owner=?", (owner,)).fetchone()[0]

    def __repr__(self) -> str:
        return f"<Storage {self.path}>"

    # multi-user chat rooms (XEP-0045): only persistent rooms are stored ----------
    def muc_rooms(self, service: str) -> list[tuple[str, str, str, str | None, float | None]]:
        """The stored rooms of one MUC service: (room, config JSON, subject, subject_from, subject_time)."""
        return list(self._exec("SELECT room, config, subject, subject_from, subject_time FROM muc_rooms"
                               " WHERE service=? ORDER BY room", (service,)))

    def put_muc_room(self, room: str, config: str, subject: str = "", subject_from: str | None = None,
                     subject_time: float | None = None) -> None:
        """Store a persistent room's configuration and subject (XEP-0045 10.2)."""
        service = room.partition("@")[2]
        self._exec("INSERT OR REPLACE INTO muc_rooms (room, service, config, subject, subject_from, subject_time)"
                   " VALUES (?,?,?,?,?,?)", (room, service, config, subject, subject_from, subject_time))

    def delete_muc_room(self, room: str) -> None:
        """Forget a room and its affiliations."""
        with self._transaction():
            self._db.execute("DELETE FROM muc_rooms WHERE room=?", (room,))
            self._db.execute("DELETE FROM muc_affiliations WHERE room=?", (room,))

    def muc_affiliations(self, room: str) -> list[tuple[str, str, str | None, str | None]]:
        """(jid, affiliation, reserved nick, reason) for each affiliated JID of a stored room."""
        return list(self._exec("SELECT jid, affiliation, nick, reason FROM muc_affiliations WHERE room=?"
                               " ORDER BY jid", (room,)))

    def put_muc_affiliations(self, room: str, rows) -> None:
        """Replace the affiliations of a room with ``rows`` of (jid, affiliation, nick, reason), all or none."""
        with self._transaction():
            self._db.execute("DELETE FROM muc_affiliations WHERE room=?", (room,))
            self._db.executemany("INSERT INTO muc_affiliations (room, jid, affiliation, nick, reason)"
                                 " VALUES (?,?,?,?,?)", [(room, *row) for row in rows])
