"""Put a class on a server: its accounts, its room, and (if the teacher asks) the students' rosters.

:func:`prepare_class` is idempotent: run it again on the same database and class list, and every
account, password, roster, room and undelivered message is kept; only what is missing is added.
The class list (CSV) is written *before* the accounts, so a password is never lost: an interrupted
start is finished by the next one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..jid import JID
from .accounts import Account, ClassroomError, check_count, check_domain, new_class, read_csv, same_class, write_csv

ROOM_NAME = "class"
MAX_ROSTER_ALL = 500  # --roster all makes n*(n-1) roster items: 250,000 at 500 students


@dataclass
class ClassSetup:
    """What :func:`prepare_class` did: the accounts (teacher first), the room, what was new."""

    domain: str
    accounts: list[Account]
    accounts_file: Path
    room: JID | None
    created: int = 0          # accounts made now (the others were in the database already)
    reused_list: bool = False  # the class list on disk was this class's: its passwords were kept
    admins: list[JID] = field(default_factory=list)
    http_port: int | None = None  # the chat page and WebSocket port, once the server listens

    @property
    def teacher(self) -> Account:
        """The teacher's account (always the first)."""
        return self.accounts[0]

    @property
    def students(self) -> list[Account]:
        """The students' accounts, in the order of the class list."""
        return [a for a in self.accounts if a.role == "student"]

    def __repr__(self) -> str:
        return (f"<ClassSetup {self.domain}: {len(self.students)} students, room {self.room}, "
                f"{self.created} accounts created, list {self.accounts_file}>")


def _class_accounts(server, domain: str, students: int, path: Path, force: bool) -> tuple[list[Account], bool]:
    """The accounts to use: this class's list from disk, or new ones (never silently another class's)."""
    if path.exists():
        old = read_csv(path)
        if same_class(old, domain, students):
            return old, True
        if not force:
            raise ClassroomError(f"{path} holds another class's accounts (not {students} students of {domain}); "
                                 "give another --accounts file, or --force to replace it")
    elif not force:
        known = [name for name in ("teacher", "student01") if server.storage.account_exists(domain, name)]
        if known:
            raise ClassroomError(f"the database already has this class ({known[0]}@{domain}) but its class list "
                                 f"{path} is missing, so the passwords are unknown; give the class's --accounts "
                                 "file, or --force to give everyone a new password")
    return new_class(domain, students), False


def _check_writable(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ClassroomError(f"cannot write the class list {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ClassroomError(f"cannot write the class list {path}: permission denied")


def prepare_class(server, domain: str, students: int, accounts_file: str | os.PathLike = "classroom-accounts.csv",
                  *, force: bool = False, roster_all: bool = False, admins=(), progress=None) -> ClassSetup:
    """Create (or find again) a class on ``server``, which must serve ``domain`` and be started.

    ``progress(done, total)`` is called while accounts are created (hashing a password takes a few
    milliseconds: thousands of students take a while). Raises :class:`ClassroomError` (one sentence)
    for a wrong argument or an unusable file, before anything is written.
    """
    domain, students = check_domain(domain), check_count(students)
    if domain not in server.hosts:
        raise ClassroomError(f"this server does not serve {domain}; start it with that domain")
    if roster_all and students > MAX_ROSTER_ALL:
        raise ClassroomError(f"--roster all puts every student in every other's roster: at most "
                             f"{MAX_ROSTER_ALL} students, not {students}")
    try:
        admin_jids = [JID(str(a)).bare for a in admins]
    except ValueError as exc:
        raise ClassroomError(f"an --admin is not a valid address: {exc}") from None
    path = Path(accounts_file)
    _check_writable(path)
    server.storage.check_writable()
    accounts, reused = _class_accounts(server, domain, students, path, force)
    if not reused:
        write_csv(path, accounts)
    setup = ClassSetup(domain, accounts, path, None, reused_list=reused,
                       admins=[accounts[0].jid] + [a for a in admin_jids if a != accounts[0].jid])
    for done, account in enumerate(accounts, start=1):
        exists = server.storage.account_exists(domain, account.jid.local)
        if not exists or not reused:
            server.accounts.add(account.jid, account.password)
            setup.created += not exists
        if progress is not None:
            progress(done, len(accounts))
    registry = getattr(server, "adhoc", None)
    if registry is not None:  # XEP-0133 service administration for the teacher and every --admin
        registry.admins.update(str(a) for a in setup.admins)
    setup.room = _class_room(server, setup)
    if roster_all:
        _befriend(server, setup.students)
    return setup


def _class_room(server, setup: ClassSetup) -> JID | None:
    """``class@conference.DOMAIN``: members-only and persistent, the teacher owner, every student a member."""
    service = getattr(server, "muc", {}).get(f"conference.{setup.domain}")
    if service is None:
        return None
    jid = JID(local=ROOM_NAME, domain=service.domain)
    room = service.get(jid)
    if room is None:
        room = service.create_room(jid, owner=setup.teacher.jid)
        room.config.name = "The class"
        room.config.persistent = True
        room.config.members_only = True
        room.config.public = True
        room.unlock()
    for admin in setup.admins:
        room.set_affiliation(str(admin), "owner")
    for student in setup.students:
        if str(student.jid) not in room.affiliations:
            room.set_affiliation(str(student.jid), "member", nick=student.jid.local)
    service.save(room)
    return jid


def _befriend(server, students: list[Account]) -> None:
    """Every student sees every other's presence (subscription both), for ``--roster all``."""
    from ..server.storage import RosterItem

    storage = server.storage
    for a in students:
        roster = storage.get_roster(str(a.jid))
        changed = False
        for b in students:
            if a is b or (str(b.jid) in roster and roster[str(b.jid)].subscription == "both"):
                continue
            storage.put_item(str(a.jid), RosterItem(str(b.jid), name=b.jid.local, subscription="both",
                                                    groups=["Class"]))
            changed = True
        if changed:
            storage.bump_roster_version(str(a.jid))
