"""XEP-0050 Ad-Hoc Commands: the server offers commands that any XMPP client can list and run.

Discover the commands (§2.2; an account that may run none sees an empty list)::

    C: <iq type='get' to='example.com' id='d1'>
         <query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/></iq>
    S: <iq type='result' ...><query ... node='http://jabber.org/protocol/commands'>
         <item jid='example.com' node='http://jabber.org/protocol/admin#add-user' name='Add a User'/> ...

Run one (§3.4): the server answers with a form to fill (``status='executing'``), the client
submits it with the ``sessionid`` it got, and the server answers ``status='completed'``, with a
note or a result form; ``action='cancel'`` ends a session (``status='canceled'``)::

    C: <iq type='set' to='example.com' id='c1'>
         <command xmlns='http://jabber.org/protocol/commands' node='...#add-user' action='execute'/></iq>
    S: <iq type='result' ...><command node='...#add-user' sessionid='a1b2' status='executing'>
         <actions execute='complete'><complete/></actions><x xmlns='jabber:x:data' type='form'>…</x></command>

Commands come from other modules through the event ``adhoc-commands`` (each handler returns a list
of :class:`Command`): :mod:`.admin` adds XEP-0133 service administration. Who may run a command is
the command's ``allowed(jid)``; by default only the server's administrators, ``server.adhoc.admins``
(bare JIDs), may. Anyone else gets ``<forbidden/>``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ...errors import StanzaError
from ...xml import element, sub
from ..forms import Form, find_form, values
from ..slots import Slot

NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
SESSION_SECONDS = 600.0   # a form not submitted within ten minutes is forgotten
MAX_SESSIONS = 16         # open sessions per requester (full JID); the oldest goes first


@dataclass
class Done:
    """A command's final answer (``status='completed'``): a note for a person and/or a result form."""

    note: str | None = None
    form: Form | None = None
    note_type: str = "info"  # info, warn or error (XEP-0050 §3.4.3)


@dataclass
class Command:
    """One command: its node, name, and ``run(event, fields)`` (fields None: first call, show the form).

    ``run`` returns a :class:`Form` to fill (the session stays open) or a :class:`Done`; it raises
    :class:`~xmpplab.errors.StanzaError` for a wrong submission (``bad-request`` with a text).
    """

    node: str
    name: str
    run: Callable
    allowed: Callable | None = None  # allowed(registry, bare_jid) -> bool; None: administrators only


@dataclass
class _Session:
    node: str
    started: float = field(default_factory=time.monotonic)


class AdhocCommands:
    """The server's commands, their open sessions, and its administrators."""

    def __init__(self, server):
        self.server = server
        self._commands: dict[str, Command] | None = None  # gathered from "adhoc-commands" on first use
        self._added: dict[str, Command] = {}
        self.admins: set[str] = set()
        self._sessions: dict[str, dict[str, _Session]] = {}  # requester full JID -> sessionid -> session

    @property
    def commands(self) -> dict[str, Command]:
        """Every command offered: those the modules contribute (``adhoc-commands``), then :meth:`add`'s."""
        if self._commands is None:
            self._commands = {c.node: c for c in self.server.hooks.collect("adhoc-commands", self.server)}
        return {**self._commands, **self._added}

    def add(self, node: str, name: str, run: Callable, allowed: Callable | None = None) -> None:
        """Offer one more command (XEP-0050 §2.2), from a notebook or a test."""
        self._added[node] = Command(node, name, run, allowed)

    def is_admin(self, jid) -> bool:
        """Whether the JID's bare JID is one of the server's administrators."""
        return str(jid.bare if hasattr(jid, "bare") else jid) in self.admins

    def may_run(self, command: Command, jid) -> bool:
        """Whether ``jid`` may run the command: its own ``allowed`` says, else administrators only."""
        if jid is None:
            return False
        if command.allowed is not None:
            return bool(command.allowed(self, jid))
        return self.is_admin(jid)

    # sessions -------------------------------------------------------------------------
    def _open(self, requester: str, node: str) -> str:
        now = time.monotonic()
        mine = self._sessions.setdefault(requester, {})
        for sid in [s for s, sess in mine.items() if now - sess.started > SESSION_SECONDS]:
            del mine[sid]
        while len(mine) >= MAX_SESSIONS:
            del mine[next(iter(mine))]
        sid = secrets.token_hex(6)
        mine[sid] = _Session(node)
        return sid

    def _close(self, requester: str, sid: str) -> None:
        mine = self._sessions.get(requester)
        if mine is not None:
            mine.pop(sid, None)
            if not mine:
                del self._sessions[requester]

    def forget(self, requester: str) -> None:
        """The requester went offline: its open sessions go too."""
        self._sessions.pop(requester, None)

    # stanzas ----------------------------------------------------------------------------
    def execute(self, event) -> bool:
        """``<command/>`` in an iq set (XEP-0050 §3.4)."""
        request = event.payload
        node = request.get("node") or ""
        command = self.commands.get(node)
        if command is None:
            raise StanzaError("item-not-found", f"there is no command {node!r} here")
        if not self.may_run(command, event.from_):
            raise StanzaError("forbidden", f"{event.from_.bare} may not run {command.name!r}", type="auth")
        requester, sid, action = str(event.from_), request.get("sessionid"), request.get("action") or "execute"
        if sid is not None:
            session = self._sessions.get(requester, {}).get(sid)
            if session is None or session.node != node:
                raise StanzaError("bad-request", "this command session has expired or never existed; start "
                                  "the command again", type="modify")  # §4.4: sessionid unknown (bad-sessionid)
        if action == "cancel":
            if sid is not None:
                self._close(requester, sid)
            event.reply(self._answer(node, sid or "", "canceled"))
            return True
        if action not in ("execute", "complete", "next"):
            raise StanzaError("bad-request", f"the action {action!r} is not offered here", type="modify")
        fields = values(find_form(request)) if sid is not None else None
        event.extra["adhoc"] = (node, sid)
        try:
            outcome = command.run(event, fields)
        except StanzaError:
            if sid is not None:
                self._close(requester, sid)
            raise
        if isinstance(outcome, Form):
            sid = sid or self._open(requester, node)
            answer = self._answer(node, sid, "executing")
            actions = sub(answer, "actions", {"execute": "complete"})
            sub(actions, "complete")
            answer.append(outcome.element("form"))
            event.reply(answer)
        elif outcome is not None:  # None: the command answers later (reply_later), after work off the loop
            self.reply_later(event, outcome)
        return True

    def reply_later(self, event, done: Done) -> None:
        """Answer ``status='completed'`` for a command run from ``event`` (also after work off the loop)."""
        node, sid = event.extra["adhoc"]
        if sid is not None:
            self._close(str(event.from_), sid)
        answer = self._answer(node, sid or secrets.token_hex(6), "completed")
        if done.note:
            sub(answer, "note", {"type": done.note_type}, text=done.note)
        if done.form is not None:
            answer.append(done.form.element("result"))
        event.reply(answer)

    @staticmethod
    def _answer(node: str, sid: str, status: str):
        return element("command", {"node": node, "sessionid": sid, "status": status}, ns=NS_COMMANDS)

    def items(self, event) -> bool:
        """disco#items of the commands node: what this requester may run (XEP-0050 §2.2)."""
        query = event.payload
        if query.get("node") != NS_COMMANDS:
            return False  # another node, or none: the disco module answers
        answer = element("query", {"node": NS_COMMANDS}, ns=NS_DISCO_ITEMS)
        for command in self.commands.values():
            if self.may_run(command, event.from_):
                sub(answer, "item", {"jid": event.to.domain, "node": command.node, "name": command.name})
        event.reply(answer)
        return True

    def info(self, event) -> bool:
        """disco#info of one command's node (XEP-0050 §2.3), or of the commands node itself."""
        node = event.payload.get("node")
        if node != NS_COMMANDS and node not in self.commands:
            return False
        answer = element("query", {"node": node}, ns=NS_DISCO_INFO)
        if node == NS_COMMANDS:
            sub(answer, "identity", {"category": "automation", "type": "command-list", "name": "Commands"})
        else:
            if not self.may_run(self.commands[node], event.from_):
                raise StanzaError("forbidden", f"{event.from_.bare} may not run this command", type="auth")
            sub(answer, "identity", {"category": "automation", "type": "command-node",
                                     "name": self.commands[node].name})
            sub(answer, "feature", {"var": NS_COMMANDS})
            sub(answer, "feature", {"var": "jabber:x:data"})
        event.reply(answer)
        return True


#: The server's commands and administrators (modules that need them say ``requires = ("adhoc",)``).
COMMANDS: Slot[AdhocCommands] = Slot("ad-hoc commands")


def setup(server):
    """Answer XEP-0050 commands at the server's JID and list them in disco (before the disco module does)."""
    registry = COMMANDS.put(server, AdhocCommands(server))
    server.provide("adhoc", registry)  # for notebooks, tests and the classroom: server.adhoc.admins
    server.add_feature(NS_COMMANDS)
    server.hook(f"iq-set/host/{NS_COMMANDS}:command", registry.execute)
    server.hook(f"iq-get/host/{NS_DISCO_ITEMS}:query", registry.items, 10)  # before the disco module
    server.hook(f"iq-get/host/{NS_DISCO_INFO}:query", registry.info, 10)
    server.hook("session-closed", lambda session: registry.forget(str(session.jid)) if session.jid else None)
