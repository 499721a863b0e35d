"""The teacher's side, over XMPP only: ad-hoc commands (XEP-0050) from a logged-in client.

Everything goes through standard commands, so it works from the teacher's laptop against the
class server, and the XEP-0133 parts against Prosody (``mod_admin_adhoc``) or ejabberd too::

    teacher = Teacher(await xmpplab.Client.connect("teacher@class.example", password, host=..., ...))
    await teacher.online()                      # ['student01@class.example/laptop', ...]
    await teacher.announce("Back at ten.", subject="Break")
    await teacher.reset_password("student07@class.example", "new-password")
    await teacher.progress()                    # [{'student': ..., 'exercise': '01.2', 'passed': True, ...}]
    await teacher.transcript("student07@class.example")   # a Transcript: show it with stream_view()

Each command's answer is a :class:`CommandResult`: its status, its note, its result form's fields and
table rows. A command the account may not run raises :class:`~xmpplab.client.IqError` (``forbidden``).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_ADMIN = "http://jabber.org/protocol/admin"
NS_CLASS = "urn:xmpplab:class:0"
NS_DATA = "jabber:x:data"


@dataclass
class CommandResult:
    """What a command answered: ``status`` (completed, executing, canceled), a note, the fields, the rows."""

    node: str
    status: str
    sessionid: str | None
    note: str | None = None
    fields: dict[str, list[str]] = field(default_factory=dict)
    rows: list[dict[str, str]] = field(default_factory=list)

    def value(self, var: str, default: str | None = None) -> str | None:
        """The first value of a field."""
        return (self.fields.get(var) or [default])[0]


def _read(answer, node: str) -> CommandResult:
    xml = answer.xml if hasattr(answer, "xml") else answer
    cmd = xml.find(f"{{{NS_COMMANDS}}}command")
    if cmd is None:
        raise ValueError(f"the answer to {node} holds no <command/>")
    result = CommandResult(node, cmd.get("status") or "", cmd.get("sessionid"),
                           note=cmd.findtext(f"{{{NS_COMMANDS}}}note"))
    x = cmd.find(f"{{{NS_DATA}}}x")
    if x is not None:
        for f in x.findall(f"{{{NS_DATA}}}field"):
            if f.get("var"):
                result.fields[f.get("var")] = [v.text or "" for v in f.findall(f"{{{NS_DATA}}}value")]
        for item in x.findall(f"{{{NS_DATA}}}item"):
            result.rows.append({f.get("var"): (f.findtext(f"{{{NS_DATA}}}value") or "")
                                for f in item.findall(f"{{{NS_DATA}}}field")})
    return result


def _submit(values: dict) -> str:
    parts = [f"<x xmlns='{NS_DATA}' type='submit'>"]
    for var, vals in values.items():
        vals = vals if isinstance(vals, (list, tuple)) else [vals]
        parts.append(f"<field var={quoteattr(var)}>" + "".join(f"<value>{escape(str(v))}</value>" for v in vals)
                     + "</field>")
    parts.append("</x>")
    return "".join(parts)


class Teacher:
    """Run the class's commands from ``client`` (an :class:`xmpplab.Client` logged in as an administrator)."""

    def __init__(self, client, domain: str | None = None):
        self.client = client
        self.domain = domain or client.jid.domain

    def __repr__(self) -> str:
        return f"<Teacher {self.client.jid} on {self.domain}>"

    async def command(self, node: str, values: dict | None = None, *, timeout: float = 10.0) -> CommandResult:
        """Execute ``node``; when it asks for a form, submit ``values`` (the fields it needs) in its session."""
        first = _read(await self.client.iq(
            f"<iq type='set' to={quoteattr(self.domain)}><command xmlns='{NS_COMMANDS}' node={quoteattr(node)} "
            "action='execute'/></iq>", timeout=timeout), node)
        if first.status != "executing":
            return first
        form = {"FORM_TYPE": first.fields.get("FORM_TYPE", [])}
        form.update(values or {})
        return _read(await self.client.iq(
            f"<iq type='set' to={quoteattr(self.domain)}><command xmlns='{NS_COMMANDS}' node={quoteattr(node)} "
            f"sessionid={quoteattr(first.sessionid or '')} action='complete'>{_submit(form)}</command></iq>",
            timeout=timeout), node)

    async def commands(self) -> list[tuple[str, str]]:
        """(node, name) of every command this account may run (XEP-0050 §2.2)."""
        answer = await self.client.iq(f"<iq type='get' to={quoteattr(self.domain)}><query "
                                      f"xmlns='http://jabber.org/protocol/disco#items' node='{NS_COMMANDS}'/></iq>")
        query = answer.xml.find("{http://jabber.org/protocol/disco#items}query")
        return [(i.get("node"), i.get("name")) for i in query]

    # XEP-0133 ------------------------------------------------------------------------
    async def online(self) -> list[str]:
        """The full JIDs of everyone online (§4.21)."""
        result = await self.command(f"{NS_ADMIN}#get-online-users-list", {"max_items": "none"})
        return result.fields.get("onlineuserjids", [])

    async def online_count(self) -> int:
        """How many accounts are online now (XEP-0133 get-online-users-num)."""
        return int((await self.command(f"{NS_ADMIN}#get-online-users-num")).value("onlineusersnum", "0"))

    async def registered_count(self) -> int:
        """How many accounts the class server has (XEP-0133 get-registered-users-num)."""
        return int((await self.command(f"{NS_ADMIN}#get-registered-users-num")).value("registeredusersnum", "0"))

    async def add_user(self, jid: str, password: str) -> CommandResult:
        """Create an account (XEP-0133 section 4.1, add-user)."""
        return await self.command(f"{NS_ADMIN}#add-user", {"accountjid": jid, "password": password,
                                                           "password-verify": password})

    async def delete_user(self, *jids: str) -> CommandResult:
        """Delete accounts, ending their sessions (XEP-0133 section 4.2, delete-user)."""
        return await self.command(f"{NS_ADMIN}#delete-user", {"accountjids": list(jids)})

    async def reset_password(self, jid: str, password: str) -> CommandResult:
        """Set a new password for an account (XEP-0133 section 4.7, change-user-password)."""
        return await self.command(f"{NS_ADMIN}#change-user-password", {"accountjid": jid, "password": password})

    async def end_session(self, *jids: str) -> CommandResult:
        """End the sessions of accounts, or of one resource (XEP-0133 section 4.5, end-user-session)."""
        return await self.command(f"{NS_ADMIN}#end-user-session", {"accountjids": list(jids)})

    async def announce(self, body: str, subject: str = "") -> CommandResult:
        """Send a message to every online user (XEP-0133 section 4.23, announce)."""
        return await self.command(f"{NS_ADMIN}#announce", {"subject": subject, "announcement": body.split("\n")})

    # urn:xmpplab:class:0 (an xmpplab class server only) -----------------------------------
    async def progress(self) -> list[dict]:
        """Every student's latest result per exercise."""
        rows = (await self.command(f"{NS_CLASS}#progress")).rows
        return [{"student": r["student"], "exercise": r["exercise"], "chapter": r.get("chapter", ""),
                 "passed": r["passed"] == "true", "attempts": int(r["attempts"] or 0)} for r in rows]

    async def routing(self) -> list[dict]:
        """Who wrote to whom lately: from, to, kind, count (most recent first)."""
        rows = (await self.command(f"{NS_CLASS}#routing")).rows
        return [{"from": r["from"], "to": r["to"], "kind": r["kind"], "count": int(r["count"])} for r in rows]

    async def clients(self) -> list[dict]:
        """Everyone online with their client: jid (full), client (the XEP-0115 node its presence named, or
        ""), transport (tcp, websocket, direct-tls), secure (encrypted)."""
        rows = (await self.command(f"{NS_CLASS}#online")).rows
        return [{"jid": r["jid"], "client": r.get("client", ""), "transport": r.get("transport", ""),
                 "secure": r.get("secure") in ("true", "1")} for r in rows]

    async def transcript(self, student: str):
        """A student's recent streams as a :class:`~xmpplab.transcript.Transcript` (show it with stream_view)."""
        from ..transcript import Transcript

        result = await self.command(f"{NS_CLASS}#transcript", {"accountjid": student})
        events = [json.loads(line) for line in result.fields.get("events", [])]
        return Transcript.from_events(events)


def progress_of(message) -> dict | None:
    """The progress report a live headline carries (``urn:xmpplab:class:0``), or None."""
    xml = message.xml if hasattr(message, "xml") else message
    p = xml.find(f"{{{NS_CLASS}}}progress") if isinstance(xml, ET.Element) else None
    if p is None:
        return None
    return {"student": p.get("student"), "exercise": p.get("exercise"), "chapter": p.get("chapter") or "",
            "passed": p.get("passed") == "true", "attempts": int(p.get("attempts") or 0)}
