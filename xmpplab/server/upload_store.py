"""Where XEP-0363 uploads are kept: the slots handed out, the files, and each account's quota.

A slot (XEP-0363 §4) is a promise: the account may PUT ``size`` bytes named
``name`` within ``SLOT_SECONDS`` (§8 recommends about 300 s), proving it with a
secret. Its bytes count against the account's quota from the moment it is
given, so two slots asked at once cannot pass the quota together. An upload
that completes becomes a file: a row in the ``upload`` table of the server's
database and a file named by the slot's id (made by the server, never by the
client) in the data directory:

- next to the database: ``DB-uploads/`` for ``--db DB``, kept across restarts;
- a temporary folder for an in-memory server, deleted when the server stops.

Files older than ``retention_days`` are deleted (retention is left to the
service by §5). A quota refusal says when enough will be free again (§6
``<retry stamp=…/>``): when the slots and files it waits for expire.

The quota is per account, unless the store is given a ``payer``: a function from an
account to whoever its uploads count against. A class server counts a student's practice
accounts (``student07.romeo@class.example``) against the student (``student07@…``), so a
student cannot multiply the quota by making accounts.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("xmpplab.server")

SLOT_SECONDS = 300.0
#: Open slots and stored files one account may have: a quota in bytes alone would allow millions of 1-byte ones.
OPEN_SLOTS_PER_ACCOUNT = 20
FILES_PER_ACCOUNT = 1000
SCHEMA = """
CREATE TABLE IF NOT EXISTS upload (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL,
  content_type TEXT NOT NULL, stamp REAL NOT NULL);
CREATE INDEX IF NOT EXISTS upload_owner ON upload (owner);
"""


class QuotaReached(Exception):
    """The account's files and open slots leave no room: ``retry`` is when there will be (None: never)."""

    def __init__(self, reason: str, retry: float | None):
        super().__init__(reason, retry)
        self.reason, self.retry = reason, retry


@dataclass
class Slot:
    """A PUT the server expects (XEP-0363 §4): who, what, and the secret that proves it."""

    id: str
    owner: str
    name: str
    size: int
    content_type: str
    secret: str
    expires: float
    busy: bool = False  # an upload into it is under way


@dataclass(frozen=True)
class StoredFile:
    """A complete upload, served by GET."""

    id: str
    owner: str
    name: str
    size: int
    content_type: str
    stamp: float


def data_folder(db_path: str | None) -> tuple[Path, bool]:
    """The folder for uploads and whether it is temporary (an in-memory database)."""
    if not db_path or db_path == ":memory:" or db_path.startswith("file:"):
        return Path(tempfile.mkdtemp(prefix="xmpplab-uploads-")), True
    db = Path(db_path).expanduser().resolve()
    return db.with_name(db.name + "-uploads"), False


class UploadStore:
    """The slots, files and quotas of one server's upload services."""

    def __init__(self, storage, db_path: str | None, quota_bytes: int, retention_days: float, payer=None):
        self.storage = storage
        self.payer = payer  # account -> whom its uploads count against (None: the account itself)
        self.db_path = db_path
        self.folder: Path | None = None  # made when the server starts (open), so a server never started leaves none
        self.temporary = False
        self.quota_bytes = quota_bytes
        self.retention = retention_days * 86400
        self.slots: dict[str, Slot] = {}
        storage.add_tables(SCHEMA)

    def open(self) -> None:
        """The server starts: make the folder and tidy it (see :meth:`tidy`)."""
        if self.folder is None:
            self.folder, self.temporary = data_folder(self.db_path)
            self.folder.mkdir(parents=True, exist_ok=True)
        self.tidy()

    def __repr__(self) -> str:
        return f"<UploadStore {self.folder}: {len(self.files())} files, {len(self.slots)} open slots>"

    # slots --------------------------------------------------------------------------
    def new_slot(self, owner: str, name: str, size: int, content_type: str, now: float | None = None) -> Slot:
        """A slot for ``owner``, or :class:`QuotaReached` when it would pass the quota."""
        now = time.time() if now is None else now
        self.expire(now)
        used = self.used(owner)
        who = "you" if self.payer is None else f"{self.payer(owner)} and the accounts counted with it"
        if used + size > self.quota_bytes:
            whose = "your files and open slots" if self.payer is None else f"the files and open slots of {who}"
            raise QuotaReached(f"{whose} take {used} of {self.quota_bytes} bytes",
                               self._free_at(owner, used + size - self.quota_bytes))
        slots = sorted(s.expires for s in self._slots_of(owner))
        if len(slots) >= OPEN_SLOTS_PER_ACCOUNT:
            raise QuotaReached(f"{who} have {len(slots)} open slots; upload into them first", slots[0])
        files = self._files_of(owner)
        if len(files) + len(slots) >= FILES_PER_ACCOUNT:
            raise QuotaReached(f"{who} keep {len(files)} files, the most an account may",
                               files[0].stamp + self.retention if files else None)
        slot = Slot(secrets.token_urlsafe(18), owner, name, size, content_type, secrets.token_urlsafe(24),
                    now + SLOT_SECONDS)
        self.slots[slot.id] = slot
        return slot

    def slot(self, slot_id: str) -> Slot | None:
        """The open slot ``slot_id``, or None (never given, used, or expired)."""
        self.expire()
        return self.slots.get(slot_id)

    def _free_at(self, owner: str, needed: int) -> float | None:
        """When ``needed`` bytes of the owner's slots and files will have expired."""
        going = [(s.expires, s.size) for s in self._slots_of(owner) if not s.busy]
        going += [(f.stamp + self.retention, f.size) for f in self._files_of(owner)]
        freed = 0
        for when, size in sorted(going):
            freed += size
            if freed >= needed:
                return when
        return None

    def used(self, owner: str) -> int:
        """Bytes the owner's files and open slots take (with a ``payer``: those of every account it pays for)."""
        if self.payer is None:
            stored = self.storage.rows("SELECT COALESCE(SUM(size), 0) FROM upload WHERE owner = ?", (owner,))[0][0]
        else:
            stored = sum(f.size for f in self._files_of(owner))
        return stored + sum(s.size for s in self._slots_of(owner))

    def _pays_with(self, owner: str):
        """Whether an account's uploads count against the same quota as ``owner``'s."""
        if self.payer is None:
            return lambda other: other == owner
        payer = self.payer(owner)
        return lambda other: self.payer(other) == payer

    def _slots_of(self, owner: str) -> list[Slot]:
        same = self._pays_with(owner)
        return [s for s in self.slots.values() if same(s.owner)]

    def _files_of(self, owner: str) -> list[StoredFile]:
        if self.payer is None:
            return self.files(owner)
        same = self._pays_with(owner)
        return [f for f in self.files() if same(f.owner)]

    # files --------------------------------------------------------------------------
    def path(self, file_id: str) -> Path:
        """Where the file ``file_id`` is (ids are the server's own: letters, digits, - and _)."""
        return self.folder / file_id

    def partial(self, slot: Slot) -> Path:
        """Where an upload into ``slot`` is written until it is complete."""
        return self.folder / f"{slot.id}.part"

    def complete(self, slot: Slot) -> StoredFile:
        """The upload into ``slot`` arrived whole: keep it as a file."""
        self.partial(slot).replace(self.path(slot.id))
        stored = StoredFile(slot.id, slot.owner, slot.name, slot.size, slot.content_type, time.time())
        self.storage.rows("INSERT INTO upload (id, owner, name, size, content_type, stamp) VALUES (?,?,?,?,?,?)",
                          (stored.id, stored.owner, stored.name, stored.size, stored.content_type, stored.stamp))
        self.slots.pop(slot.id, None)
        return stored

    def file(self, file_id: str) -> StoredFile | None:
        """The stored file ``file_id``, or None."""
        rows = self.storage.rows("SELECT id, owner, name, size, content_type, stamp FROM upload WHERE id = ?",
                                 (file_id,))
        return StoredFile(*rows[0]) if rows else None

    def files(self, owner: str | None = None) -> list[StoredFile]:
        """The stored files, of one account or of all, oldest first."""
        sql = "SELECT id, owner, name, size, content_type, stamp FROM upload"
        rows = self.storage.rows(sql + " WHERE owner = ? ORDER BY stamp" if owner else sql + " ORDER BY stamp",
                                 (owner,) if owner else ())
        return [StoredFile(*row) for row in rows]

    def delete(self, file_id: str) -> None:
        """Remove one file and its row."""
        self.path(file_id).unlink(missing_ok=True)
        self.storage.rows("DELETE FROM upload WHERE id = ?", (file_id,))

    def forget(self, owner: str) -> None:
        """An account was removed: its files and slots go."""
        for f in self.files(owner):
            self.delete(f.id)
        for slot_id in [s.id for s in self.slots.values() if s.owner == owner and not s.busy]:
            del self.slots[slot_id]

    def expire(self, now: float | None = None) -> None:
        """Drop slots past their time (unless an upload into one is under way) and files past the retention."""
        now = time.time() if now is None else now
        for slot_id in [s.id for s in self.slots.values() if s.expires <= now and not s.busy]:
            del self.slots[slot_id]
        for (file_id,) in self.storage.rows("SELECT id FROM upload WHERE stamp < ?", (now - self.retention,)):
            self.delete(file_id)

    def tidy(self) -> None:
        """At start: forget rows whose file is gone, remove files no row knows (a broken upload's part)."""
        self.expire()
        known = {f.id for f in self.files()}
        for f in list(known):
            if not self.path(f).is_file():
                log.warning("upload %s is in the database but its file is gone; forgotten", f)
                self.storage.rows("DELETE FROM upload WHERE id = ?", (f,))
        for entry in self.folder.iterdir():
            if entry.name not in known and entry.is_file():
                entry.unlink()

    def close(self) -> None:
        """The server stopped: a temporary folder goes with it (a new one is made if it starts again)."""
        self.slots.clear()
        if self.temporary and self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
