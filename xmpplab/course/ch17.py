"""Chapter 17, the final project: the Nurse, a bot with contacts, presence, chat and group chat (17.1).

The check plays a visitor who has never met the Nurse: it asks to see her presence, expects her to
approve and to ask back (RFC 6121 §3), expects her available presence (§4.2), writes to her and
expects an answer (§5), then enters the room and calls her there, and expects her to answer in the
room (XEP-0045 §7.4). Each visitor is a new account, so a check can be run again and again. On a class
server the Nurse and the visitor are the student's practice accounts: the visitor's client maps the chapter's
addresses (``nurse@example.com``, the room) onto them, and "online" is the Lab's own Nurse client.
"""

from __future__ import annotations

from ..client import ClientError, IqError
from ..jid import JID
from .core import Result, exercise
from .project import open_room

NURSE = JID("nurse@example.com")
ROOM = "lobby@conference.example.com"
WAIT = 3.0
DELAY = "{urn:xmpp:delay}delay"


async def _wait(client, kind: str, predicate, from_=NURSE):
    """The next ``kind`` stanza from ``from_`` matching ``predicate`` within WAIT seconds, or None."""
    try:
        return await client.next(kind, timeout=WAIT, predicate=predicate, from_=from_)
    except ClientError:
        return None


def _nurse_online(lab) -> list[str]:
    """The Nurse's sessions: those her server has as available, or on a class server (which a student does not look
    inside) the Lab's own connected clients of her practice account."""
    names = getattr(lab.server, "names", None)
    if names is None:
        return [str(s.jid) for s in lab.server_for(NURSE).resources(NURSE) if s.available]
    return [names.chapter(c.jid) for c in lab.clients if c.connected and names.chapter(c.jid.bare) == str(NURSE)]


def _visitor_name(lab) -> str:
    server = lab.server_for("example.net")
    n = 1
    while server.accounts.exists(JID(f"visitor{n}@example.net")):
        n += 1
    return f"visitor{n}@example.net"


@exercise("17.1", "The Nurse: contacts, presence, chat and group chat", live=True)
async def _(answer=None, *, lab=None, **context):
    """Write one handler, async def handle(stanza), and start it with Bot.start(nurse, handle). It sees every
    stanza the Nurse receives: stanza.name is 'message', 'presence' or 'iq'; stanza['type'], stanza['from'] and
    stanza['body'] are what you expect.

    Contacts: a presence of type 'subscribe' is someone asking; nurse.approve(who) says yes, nurse.subscribe(who)
    asks back. Chat: a message of type 'chat' with a body; answer with nurse.send_message(stanza['from'], '...').
    Group chat: the Nurse must be in the room (open_room), and a 'groupchat' message comes from ROOM/nick; answer
    with nurse.send_message(ROOM, '...', type='groupchat'). Never answer her own messages: the room sends them back
    too (stanza['from'].resource is her nickname).

    if stanza.name == 'presence' and stanza['type'] == 'subscribe': await nurse.approve(stanza['from'].bare);
    await nurse.subscribe(stanza['from'].bare) / elif stanza.name == 'message' and stanza['type'] == 'chat' and
    stanza['body']: await nurse.send_message(stanza['from'], 'Anon, anon!') / elif stanza['type'] == 'groupchat' and
    stanza['from'].resource != 'Nurse' and 'nurse' in stanza['body'].lower(): await nurse.send_message(ROOM, 'I
    come, I come!', type='groupchat')"""
    if lab is None:
        return Result("17.1", False, [(False, "this check looks at the Lab: write await acheck('17.1', lab=lab)")])
    points: list[tuple[bool, str]] = []
    online = _nurse_online(lab)
    if not online:
        return Result("17.1", False, [(False, "the Nurse is not online: nurse = await lab.connect("
                                              "'nurse@example.com/bot') logs her in and says she is available")])
    points.append((True, f"the Nurse is online ({online[0]})"))
    visitor = await lab.connect(f"{_visitor_name(lab)}/checker")
    try:
        await _contacts(visitor, points)
        await _chat(visitor, points)
        await _group_chat(visitor, points)
    finally:
        await visitor.disconnect()
    return Result("17.1", all(ok for ok, _ in points), points)


async def _contacts(visitor, points) -> None:
    who = visitor.jid.bare
    await visitor.roster()  # an "interested resource": only those get the answer to a request (RFC 6121 §3.1.6)
    await visitor.subscribe(NURSE)
    said_yes = await _wait(visitor, "presence", lambda p: p["type"] == "subscribed")
    points.append((said_yes is not None, f"{who} asked to see her presence and she approved" if said_yes else
                   f"{who} asked to see her presence (type 'subscribe'); no 'subscribed' came back: "
                   "approve with await nurse.approve(stanza['from'].bare)"))
    asked = await _wait(visitor, "presence", lambda p: p["type"] == "subscribe")
    if asked is not None:
        await visitor.approve(NURSE)
    points.append((asked is not None, "she asked back, so they see each other (subscription 'both')" if asked else
                   "she did not ask back: contacts see each other when both ask; "
                   "await nurse.subscribe(stanza['from'].bare)"))
    if said_yes is not None:
        seen = await _wait(visitor, "presence", lambda p: p["type"] in ("", "available"))
        points.append((seen is not None, "once approved, her server sent her presence: she is available" if seen
                       else "no available presence from her arrived after she approved (is she online?)"))


async def _chat(visitor, points) -> None:
    await visitor.send_message(NURSE, "Nurse, where is Juliet?")
    reply = await _wait(visitor, "message", lambda m: m["type"] == "chat" and m["body"])
    points.append((reply is not None, f"she answered a chat message: {reply['body']!r}" if reply else
                   "a chat message to nurse@example.com got no answer within 3 s: "
                   "answer with await nurse.send_message(stanza['from'], '...')"))


async def _group_chat(visitor, points) -> None:
    nick = visitor.jid.local
    try:
        await visitor.iq(f"<iq type='get' to='{ROOM}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
                         timeout=WAIT)
    except IqError:
        points.append((False, f"there is no room {ROOM} yet: await open_room(nurse, ROOM, 'Nurse') creates it "
                              "and brings her in"))
        return
    await open_room(visitor, ROOM, nick)
    await visitor.send_message(ROOM, "Nurse! Where art thou?", type="groupchat")

    def answer(m) -> bool:
        return (m["type"] == "groupchat" and JID(str(m["from"])).resource not in (None, nick)
                and bool(m["body"]) and m.xml.find(DELAY) is None)

    reply = await _wait(visitor, "message", answer, from_=ROOM)
    points.append((reply is not None, f"she answered in the room, as {JID(str(reply['from'])).resource}: "
                   f"{reply['body']!r}" if reply else
                   f"{nick} called her in {ROOM}; no answer in the room within 3 s: answer a 'groupchat' "
                   "message with await nurse.send_message(ROOM, '...', type='groupchat')"))
