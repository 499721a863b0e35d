"""Chapter 08, Multi-user chat (XEP-0045, section numbers of version 1.35): join a room under a nickname
(08.1), and speak to everyone in it (08.2)."""

from __future__ import annotations

import asyncio

from ..jid import JID
from ..ns import NS_MUC, NS_MUC_USER
from ..xml import split_qname
from .core import Checker, body_of, exercise, jid_or_none, settle

ROOM = JID("garden@conference.example.com")
JULIET = JID("juliet@example.com")


@exercise("08.1", "user1 joins the garden", stanza="presence")
def _(c, **context):
    """You join a room by sending presence to your occupant JID: the room's address, a '/', and the nickname you want
    (XEP-0045 §7.2.1).

    The room is garden@conference.example.com and the nickname user1, so the presence goes to
    garden@conference.example.com/user1. It is available presence (no 'type') and carries an empty <x
    xmlns='http://jabber.org/protocol/muc'/> to say that the client speaks MUC.

    <presence to='garden@conference.example.com/user1'><x xmlns='http://jabber.org/protocol/muc'/></presence>"""
    c.value("type", None, "no 'type': available presence, as joining needs (§7.2.1)",
            {"unavailable": "type='unavailable' is how you leave a room (§7.14); to join, send available presence: "
                            "no 'type'"},
            "leave out type='{}': the presence that joins a room MUST NOT have a 'type' (§7.2.1)")
    to = c.el.get("to")
    target = jid_or_none(to)
    if to is None:
        c.fail(f"it needs a 'to': the occupant JID {ROOM}/user1 (the room, a '/', your nickname)")
    elif target is None:
        c.fail(f"'to' is not a valid address: '{to}'")
    elif target.bare == ROOM:
        if target.resource is None:
            c.fail(f"to='{to}' names the room but no nickname: write {ROOM}/user1 (without a nickname the "
                   "service answers jid-malformed, §7.2.1)")
        elif target.resource == "user1":
            c.ok(f"to='{to}': the room garden, nickname user1")
        else:
            c.fail(f"the nickname is the part after the '/': it should be 'user1', not '{target.resource}'")
    elif target.local == ROOM.local and target.domain != ROOM.domain:
        c.fail(f"rooms live on the chat service {ROOM.domain}, not on {target.domain}: "
               f"to='{ROOM}/user1'")
    else:
        c.fail(f"'to' should be the occupant JID {ROOM}/user1, not '{to}'")
    xs = [child for child in c.el if isinstance(child.tag, str) and split_qname(child.tag)[1] == "x"]
    muc = [x for x in xs if split_qname(x.tag)[0] == NS_MUC]
    if muc:
        c.ok("it carries <x xmlns='http://jabber.org/protocol/muc'/>: this client speaks MUC")
    elif any(split_qname(x.tag)[0] == NS_MUC_USER for x in xs):
        c.fail("muc#user is the namespace of what the room sends; a client joining uses "
               "<x xmlns='http://jabber.org/protocol/muc'/>, without '#user' (§7.2.1)")
    else:
        c.fail("add <x xmlns='http://jabber.org/protocol/muc'/>: a MUC client MUST include it when it joins "
               "(§7.2.1)")
    return c


# ---------------------------------------------------------------------------------------------
# 08.2: Juliet speaks to everyone in a room; the check reads what the room did in the Lab's recording.

def _same_bare(address, bare: JID) -> bool:
    j = jid_or_none(address)
    return j is not None and j.bare == bare


def _server_side(lab):
    return [conn for conn in lab.transcript.connections.values() if conn.kind == "c2s" and conn.role == "receiving"]


def _streams_of(lab, bare: JID):
    """Every recording of ``bare``'s client streams: the clients' own (what they send is there at once) and the
    server's (which also has clients that do not record into the Lab)."""
    return [conn for conn in lab.transcript.connections.values() if conn.kind == "c2s" and _same_bare(conn.jid, bare)]


def _to_a_room(item) -> bool:
    j = jid_or_none(item.to)
    return j is not None and j.local is not None and j.domain.startswith("conference.")


def _error_after(conn, item):
    """The room's error answer to ``item`` on the same stream (same id, or any error from that room)."""
    room = jid_or_none(item.to).bare
    for later in conn.items(kind="message", direction="S→C", since=item.t):
        if (later.seq, later.index) <= (item.seq, item.index) or later.type != "error":
            continue
        if (item.id and later.id == item.id) or _same_bare(later.from_, room):
            return later
    return None


def _condition(item) -> str | None:
    el = item.element
    for child in el:
        if isinstance(child.tag, str) and split_qname(child.tag)[1] == "error":
            for cond in child:
                if isinstance(cond.tag, str) and split_qname(cond.tag)[1] != "text":
                    return split_qname(cond.tag)[1]
    return None


def _reflections(lab, item):
    """(connection JID, delivered item) for each groupchat copy of ``item`` the room delivered."""
    room = jid_or_none(item.to).bare
    body = body_of(item)
    found = []
    for conn in _server_side(lab):
        for got in conn.items(kind="message", direction="S→C", since=item.t):
            sender = jid_or_none(got.from_)
            if got.type == "groupchat" and sender is not None and sender.bare == room and sender.resource \
                    and body_of(got) == body and (not item.id or got.id == item.id):
                found.append((conn.jid, got))
                break
    return found


@exercise("08.2", "Juliet speaks to the whole room", live=True)
async def _(answer=None, *, lab=None, **context):
    """To speak to everyone, write to the room itself, not to one occupant: to='garden@conference.example.com'
    (XEP-0045 §7.4). A message to garden@conference.example.com/romeo is a private message to Romeo (§7.5).

    A message to everyone has type='groupchat' and the words in a <body/>; the room sends a copy to every occupant,
    Juliet included, from her occupant JID.

    <message to='garden@conference.example.com' type='groupchat'><body>Welcome to the garden!</body></message>"""
    c = Checker()
    if lab is None:
        c.fail("this exercise looks at what happened in your Lab: write `await acheck(\"08.2\", lab=lab)`")
        return c

    await asyncio.sleep(0.1)              # let the server read what was just sent
    sent = sorted(((conn, item) for conn in _streams_of(lab, JULIET)
                   for item in conn.items(kind="message", direction="C→S")), key=lambda pair: pair[1].t)
    if not sent:
        c.fail("Juliet has not sent a message yet: write it in `answer` and send it with "
               "`await juliet.send_raw(answer)`")
        return c
    conn, item = sent[-1]                 # her last message: the answer
    to = jid_or_none(item.to)
    if to is None or not _to_a_room(item):
        where = f"to '{item.to}'" if item.to else "with no 'to' (to her own account)"
        c.fail(f"Juliet's last message went {where}, not to a room: write to the room, {ROOM}")
        return c
    body = body_of(item)
    if to.resource is not None:
        c.fail(f"to='{item.to}' names one occupant, '{to.resource}': that is a private message (§7.5). To speak to "
               f"everyone, write to the room itself: to='{to.bare}' (§7.4)")
    else:
        c.ok(f"to='{item.to}': the room itself")
    if item.type == "groupchat":
        c.ok("type='groupchat'")
    else:
        c.fail(f"a message to everyone in the room has type='groupchat', not {item.type or 'none'!r} (§7.4)")
    if body:
        c.ok(f"it says '{body}'")
    else:
        c.fail("give the message a <body/> with some words")

    def outcome():
        error = _error_after(conn, item)
        if error is not None:
            return "error", error
        copies = _reflections(lab, item)
        return ("reflected", copies) if copies else None

    if to.resource is not None:   # a private message: nothing more to check
        return c
    found = await settle(outcome, timeout=2.0)
    if found is None:
        c.fail("the room did not send it back to anyone: is Juliet in that room? (join it first)")
    elif found[0] == "error":
        condition = _condition(found[1])
        why = {"not-acceptable": "Juliet is not in that room: join it first (§7.4)",
               "bad-request": "the room refuses messages to itself that are not type='groupchat' (a service may, §7.4)",
               "item-not-found": "there is no such room (or it is locked until its owner configures it, §7.2.10)",
               "forbidden": "Juliet has no voice in that room (§7.4)"}.get(condition, "")
        c.fail(f"the room answered with the error <{condition}/>" + (f": {why}" if why else ""))
    else:
        copies = found[1]
        others = [jid for jid, _ in copies if not _same_bare(jid, JULIET)]
        who = copies[0][1].from_
        if others:
            c.ok(f"the room sent it to every occupant ({len(copies)} of them), from Juliet's occupant JID {who} "
                 "(§7.4)")
        else:
            c.ok(f"the room sent it back to Juliet, from her occupant JID {who}; nobody else is in the room yet")
    return c
