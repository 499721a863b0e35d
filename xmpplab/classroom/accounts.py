"""A class's accounts: names, passwords a student can type from paper, and the CSV the teacher keeps.

``teacher@DOMAIN`` and ``student01@DOMAIN`` … ``studentNN@DOMAIN`` (two digits, three above 99).
Passwords are random, 12 characters from an alphabet without look-alikes (no ``0 O o 1 l I i``),
so a card read aloud or copied by hand still works. The CSV (``jid,password,role``) is written with
mode 0600: it is the only place the passwords exist (the server stores salted hashes only).

>>> student_names(3)
['student01', 'student02', 'student03']
>>> student_names(100)[-1]
'student100'
>>> len(make_password()) >= 10 and not set(make_password()) & set("0Oo1lIi")
True
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ..jid import JID, InvalidJID

#: Letters and digits that cannot be mistaken for one another on a printed card.
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
PASSWORD_LENGTH = 12
MAX_STUDENTS = 10_000
ROLES = ("teacher", "student")
HEADER = ["jid", "password", "role"]


class ClassroomError(ValueError):
    """A wrong argument or a file that cannot be used: one sentence for the teacher, nothing touched."""


@dataclass(frozen=True)
class Account:
    """One row of the class list."""

    jid: JID
    password: str
    role: str  # "teacher" or "student"

    def __repr__(self) -> str:
        return f"<Account {self.jid} ({self.role})>"


def student_names(count: int) -> list[str]:
    """``student01`` … with two digits, three (or more) once there are more than 99."""
    width = max(2, len(str(count)))
    return [f"student{i:0{width}d}" for i in range(1, count + 1)]


def make_password(length: int = PASSWORD_LENGTH) -> str:
    """A random password from :data:`ALPHABET` (about 69 bits for 12 characters)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def check_domain(domain: str) -> str:
    """The class's domain, prepared (RFC 7622), or a :class:`ClassroomError` saying why not."""
    try:
        jid = JID(str(domain))
    except InvalidJID as exc:
        raise ClassroomError(f"{domain!r} is not a domain a class can use: {exc.reason}") from None
    if jid.local is not None or jid.resource is not None:
        raise ClassroomError(f"{domain!r} is an address, not a domain: give only the part after '@', "
                             "for example class.example")
    return jid.domain


def check_count(students) -> int:
    """A number of students between 1 and :data:`MAX_STUDENTS`."""
    if isinstance(students, bool) or not isinstance(students, int) or not 1 <= students <= MAX_STUDENTS:
        raise ClassroomError(f"a class has between 1 and {MAX_STUDENTS:,} students, not {students!r}")
    return students


def new_class(domain: str, students: int) -> list[Account]:
    """Fresh accounts for a class: the teacher first, then the students in order."""
    domain, students = check_domain(domain), check_count(students)
    accounts = [Account(JID(local="teacher", domain=domain), make_password(), "teacher")]
    accounts += [Account(JID(local=name, domain=domain), make_password(), "student")
                 for name in student_names(students)]
    return accounts


def read_csv(path: str | os.PathLike) -> list[Account]:
    """The accounts of a class list written by :func:`write_csv` (one sentence if it is not one)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ClassroomError(f"cannot read the class list {path}: {exc.strerror}") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0] != HEADER:
        raise ClassroomError(f"{path} is not a class list: its first line should be {','.join(HEADER)}")
    accounts = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        try:
            jid_text, password, role = row
            jid = JID(jid_text)
        except (ValueError, InvalidJID):
            raise ClassroomError(f"{path}, line {number}: expected jid,password,role") from None
        if role not in ROLES or not password or jid.local is None or jid.resource is not None:
            raise ClassroomError(f"{path}, line {number}: expected a bare JID, a password and teacher or student")
        accounts.append(Account(jid, password, role))
    return accounts


def same_class(old: list[Account], new_domain: str, students: int) -> bool:
    """Whether a class list on disk is the class asked for now (same domain, same students)."""
    wanted = {f"{n}@{new_domain}" for n in student_names(students)}
    have = {str(a.jid) for a in old if a.role == "student"}
    return have == wanted and any(a.role == "teacher" and a.jid.domain == new_domain for a in old)


def write_private(path: str | os.PathLike, text: str, what: str) -> Path:
    """Write ``text`` to ``path`` readable by its owner only (mode 0600, also over an older file), atomically;
    ``what`` names the file in the one-sentence error."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o600)  # also when a leftover temporary file had other permissions
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise ClassroomError(f"cannot write {what} {path}: {exc.strerror}") from None
    return path


def write_csv(path: str | os.PathLike, accounts: list[Account]) -> Path:
    """Write the class list, readable by its owner only (mode 0600), atomically."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(HEADER)
    for a in accounts:
        writer.writerow([str(a.jid), a.password, a.role])
    return write_private(path, text.getvalue(), "the class list")
