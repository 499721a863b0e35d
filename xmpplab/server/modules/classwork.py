"""Class progress over XMPP (namespace ``urn:xmpplab:class:0``, documented in docs/classroom.md).

When a notebook is connected to a class server, each ``check()`` of an exercise reports its result
to the server; nothing of the student's code is sent, only what the check concluded::

    C: <iq type='set' to='class.example' id='p1'>
         <progress xmlns='urn:xmpplab:class:0' chapter='01' exercise='01.2' passed='true' attempts='3'/></iq>
    S: <iq type='result' to='student07@class.example/laptop' id='p1'/>

The server keeps the latest result per student and exercise, and passes each report on at once,
as a headline message with the same ``<progress/>`` (plus ``student``), to every online session of
the class's administrators (``server.adhoc.admins``): that is what the teacher's dashboard shows
live. The whole grid is the ad-hoc command ``urn:xmpplab:class:0#progress`` (XEP-0050), a result
form with one item per student and exercise (XEP-0004 §3.4), for administrators only.

Three more commands show the class at work: ``#transcript`` (a student's recent streams, as the
events of xmpplab's recording format; a student may fetch only their own), ``#routing`` (who
sent what to whom lately, from the class's clients and from students' own federated servers: one row
per sender, recipient and kind, with a count) and ``#online``
(every connected resource with the client it announced in its presence (XEP-0115 ``node``), its
transport and whether it is encrypted: what XEP-0133's online list does not say). To have them, the
module records what the class's connections carry, within a memory budget per account: load it
only on a class server (``xmpplab classroom`` does), not on every server.
"""

from __future__ import annotations

import collections
import json
import re
import time
from dataclasses import dataclass

from ...errors import StanzaError
from ...jid import JID
from ...xml import element, sub
from ..forms import NS_DATA, Form
from ..pubsub.caps import caps_of
from ..slots import Slot
from .adhoc import COMMANDS, Command, Done

NS_CLASS = "urn:xmpplab:class:0"
EXERCISE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,15}$")  # "01.2", "final-1"
MAX_EXERCISES = 500  # per student: bounds the memory one account can use
TRANSCRIPT_BYTES = 256 * 1024  # recent stream events kept per account (the oldest go first)
ROUTES = 2000  # recent routed stanzas kept for #routing
ROUTING_ROWS = 100  # rows #routing answers with (the most recent pairs): a graph of more is unreadable anyway


@dataclass(frozen=True)
class Progress:
    """The latest check of one exercise by one student."""

    student: str
    chapter: str
    exercise: str
    passed: bool
    attempts: int
    time: float

    def element(self):
        """The ``<progress/>`` element this report is sent as, with the student's JID."""
        el = element("progress", {"chapter": self.chapter, "exercise": self.exercise,
                                  "passed": "true" if self.passed else "false", "attempts": self.attempts,
                                  "student": self.student}, ns=NS_CLASS)
        return el


class ClassProgress:
    """Every student's latest result per exercise (in memory), and the live feed to the teachers."""

    def __init__(self, server):
        self.server = server
        self.results: dict[str, dict[str, Progress]] = {}  # student bare JID -> exercise -> Progress

    def report(self, event) -> bool:
        """A student's ``<progress/>`` (iq set to their server)."""
        el = event.payload
        chapter, exercise = el.get("chapter") or "", el.get("exercise") or ""
        passed, attempts = el.get("passed"), el.get("attempts") or "1"
        if not EXERCISE.match(exercise) or (chapter and not EXERCISE.match(chapter)):
            raise StanzaError("bad-request", "exercise (and chapter) are short names such as 01.2", type="modify")
        if passed not in ("true", "false", "1", "0") or not attempts.isdigit() or not 0 < int(attempts) < 10**6:
            raise StanzaError("bad-request", "passed is true or false, attempts a positive number", type="modify")
        student = str(event.from_.bare)
        mine = self.results.setdefault(student, {})
        if exercise not in mine and len(mine) >= MAX_EXERCISES:
            raise StanzaError("resource-constraint", f"at most {MAX_EXERCISES} exercises per student", type="wait")
        result = Progress(student, chapter, exercise, passed in ("true", "1"), int(attempts), time.time())
        mine[exercise] = result
        event.reply()
        self._tell_teachers(event, result)
        return True

    def _tell_teachers(self, event, result: Progress) -> None:
        for admin in sorted(COMMANDS.of(self.server).admins):
            for session in self.server.resources(JID(admin)):
                msg = element("message", {"from": event.to.domain, "to": str(session.jid), "type": "headline"})
                msg.append(result.element())
                session.send(msg)

    def grid(self, event, fields):
        """The ad-hoc command ``#progress``: every result, one item each (XEP-0004 §3.4 reported/item)."""
        form = TableForm(title="Class progress", columns=(
            ("student", "jid-single", "Student"), ("exercise", "text-single", "Exercise"),
            ("chapter", "text-single", "Chapter"), ("passed", "boolean", "Passed"),
            ("attempts", "text-single", "Attempts")))
        for student in sorted(self.results):
            if student.partition("@")[2] != event.to.domain:
                continue
            for exercise in sorted(self.results[student]):
                r = self.results[student][exercise]
                form.item(student=r.student, exercise=r.exercise, chapter=r.chapter,
                          passed="true" if r.passed else "false", attempts=str(r.attempts))
        return Done(form=form)


class TableForm:
    """A result form with a table: ``<reported/>`` columns, then one ``<item/>`` per row (XEP-0004 §3.4)."""

    def __init__(self, title: str, columns):
        self.title, self.columns, self.rows = title, columns, []

    def item(self, **values) -> None:
        """Add one row (values by field var)."""
        self.rows.append(values)

    def element(self, type: str = "result"):
        """The form as ``<x xmlns='jabber:x:data'/>``: the reported columns, then one item per row."""
        x = element("x", {"type": type}, ns=NS_DATA)
        sub(x, "title", text=self.title)
        reported = sub(x, "reported")
        for var, ftype, label in self.columns:
            sub(reported, "field", {"var": var, "type": ftype, "label": label})
        for row in self.rows:
            item = sub(x, "item")
            for var, _, _ in self.columns:
                f = sub(item, "field", {"var": var})
                sub(f, "value", text=row.get(var, ""))
        return x


class RecentStreams:
    """The recent events of each account's connections (a recorder: ``server.recorder`` feeds it).

    Events of a connection are kept from its ``bound`` event on (before it, nobody is known), at
    most :data:`TRANSCRIPT_BYTES` of them per account; the oldest go first.
    """

    def __init__(self, budget: int = TRANSCRIPT_BYTES):
        self.budget = budget
        self.account_of: dict[str, str] = {}  # conn id -> bare JID
        self.events: dict[str, collections.deque] = {}  # bare JID -> (size, event)
        self.size: dict[str, int] = {}

    def __call__(self, event: dict) -> None:
        conn, kind = event["conn"], event["type"]
        if kind == "bound":
            self.account_of[conn] = event["jid"].partition("/")[0]
        account = self.account_of.get(conn)
        if account is None:
            return
        if kind == "close":
            del self.account_of[conn]
        size = len(event.get("data", "")) + 64
        kept = self.events.setdefault(account, collections.deque())
        kept.append((size, dict(event)))
        self.size[account] = self.size.get(account, 0) + size
        while self.size[account] > self.budget and kept:
            self.size[account] -= kept.popleft()[0]

    def of(self, account: str) -> list[dict]:
        """The recorded events of an account's connections, oldest first."""
        return [e for _, e in self.events.get(account, ())]


def _tee(first, second):
    if first is None:
        return second

    def both(event):
        first(event)
        second(event)
    return both


class ClassCommands:
    """``#transcript`` and ``#routing``, from what :class:`RecentStreams` and the routing hooks saw."""

    def __init__(self, server, recent: RecentStreams):
        self.server, self.recent = server, recent
        self.routes: collections.deque = collections.deque(maxlen=ROUTES)  # (time, from, to, kind)

    def routed(self, event) -> bool:
        """A stanza from a client, or from another server, on its way (a pre-routing hook: never claims it)."""
        if event.from_ is not None and event.to is not None:
            self.routes.append((time.time(), str(event.from_), str(event.to), event.kind))
        return False

    def transcript(self, event, fields):
        """A student's recent stream events; a student may ask only for their own (administrators: anyone)."""
        registry = COMMANDS.of(self.server)
        if fields is None:
            if not registry.is_admin(event.from_):
                return self._transcript_of(str(event.from_.bare))
            form = Form("A student's transcript", form_type=NS_CLASS)
            form.field("accountjid", "jid-single", "The student", required=True)
            return form
        wanted = (fields.get("accountjid") or [""])[0].strip()
        try:
            bare = str(JID(wanted).bare)
        except ValueError:
            raise StanzaError("bad-request", f"{wanted!r} is not an address", type="modify") from None
        if bare != str(event.from_.bare) and not registry.is_admin(event.from_):
            raise StanzaError("forbidden", "a student may fetch only their own transcript", type="auth")
        return self._transcript_of(bare)

    def _transcript_of(self, bare: str) -> Done:
        form = Form(f"Recent streams of {bare}", form_type=NS_CLASS)
        form.field("accountjid", "jid-single", "The student", values=[bare])
        form.field("events", "text-multi", "Recent events, one JSON object each (xmpplab's recording format)",
                   values=[json.dumps(e, ensure_ascii=False) for e in self.recent.of(bare)])
        return Done(form=form)

    def online(self, event, fields):
        """Every bound resource: its full JID, the client its presence names (XEP-0115 ``node``), its transport
        (``tcp``, ``websocket``, ``direct-tls``), whether it is encrypted, and since when (Unix time)."""
        table = TableForm("Online now", (("jid", "jid-single", "Resource"), ("client", "text-single", "Client"),
                                         ("transport", "text-single", "Transport"),
                                         ("secure", "boolean", "Encrypted"),
                                         ("since", "text-single", "Since (Unix time)")))
        for bare in sorted(self.server.sessions, key=str):
            for resource, session in sorted(self.server.sessions[bare].items()):
                caps = caps_of(session.presence) if session.presence is not None else None
                table.item(jid=f"{bare}/{resource}", client=caps.node if caps else "",
                           transport=session.transport_kind, secure="true" if session.secure else "false",
                           since=f"{session.opened_at:.0f}")
        return Done(form=table)

    def routing(self, event, fields):
        """Who sent what to whom lately: one row per (from, to, kind), the :data:`ROUTING_ROWS` most recent."""
        counts: dict = {}
        for when, frm, to, kind in self.routes:
            key = (frm, to, kind)
            n, _ = counts.get(key, (0, 0.0))
            counts[key] = (n + 1, when)
        table = TableForm("Recent routing", (("from", "jid-single", "From"), ("to", "jid-single", "To"),
                                             ("kind", "text-single", "Kind"), ("count", "text-single", "Count"),
                                             ("last", "text-single", "Last (Unix time)")))
        recent = sorted(counts.items(), key=lambda kv: -kv[1][1])[:ROUTING_ROWS]
        for (frm, to, kind), (n, when) in recent:
            table.item(**{"from": frm, "to": to, "kind": kind, "count": str(n), "last": f"{when:.3f}"})
        return Done(form=table)


requires = ("adhoc",)
#: The class's progress, and what the class commands read.
PROGRESS: Slot[ClassProgress] = Slot("class progress")
CLASS_COMMANDS: Slot[ClassCommands] = Slot("class commands")


def setup(server):
    """Take progress reports, keep recent streams, and offer the class's ad-hoc commands."""
    progress = PROGRESS.put(server, ClassProgress(server))
    server.provide("class_progress", progress)
    server.add_feature(NS_CLASS)
    server.hook(f"iq-set/host/{NS_CLASS}:progress", progress.report)
    recent = RecentStreams()
    server.recorder = _tee(server.recorder, recent)
    commands = CLASS_COMMANDS.put(server, ClassCommands(server, recent))
    for kind in ("message", "presence", "iq"):
        for where in ("full", "bare", "component", "remote"):  # not "host": requests to the server itself
            server.hook(f"pre-{kind}/{where}", commands.routed, 100)
            server.hook(f"remote-{kind}/{where}", commands.routed, 100)  # from students' own servers (#federate)
    server.hook("adhoc-commands", lambda server: [
        Command(f"{NS_CLASS}#progress", "Class progress", progress.grid),
        Command(f"{NS_CLASS}#transcript", "A student's recent streams", commands.transcript,
                allowed=lambda registry, jid: True),  # everyone: a student gets only their own
        Command(f"{NS_CLASS}#routing", "Recent routing in the class", commands.routing),
        Command(f"{NS_CLASS}#online", "Who is online, from which client", commands.online)])
