"""Messages in a room: to everyone (XEP-0045 7.4), the subject (8.1), private messages (7.5),
mediated invitations and declines (7.8.2); iqs through occupant JIDs (17.4).

A groupchat message goes to the room's bare JID and comes back to every
occupant from the sender's occupant JID, with the same id (7.4)::

    C: <message to='garden@conference.example.com' type='groupchat' id='m1'><body>Hi</body></message>
    S: <message from='garden@conference.example.com/romeo' to='juliet@example.com/balcony'
                type='groupchat' id='m1'><body>Hi</body></message>        (and to romeo himself)

A message with a ``<subject/>`` and neither ``<body/>`` nor ``<thread/>``
changes the subject (8.1); with a body or a thread it is an ordinary message.
"""

from __future__ import annotations

import copy
import itertools
import time
import uuid

from ...errors import StanzaError
from ...jid import JID, InvalidJID
from ...xml import NS_DELAY, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, element, sub
from .model import ACCEPTED, NS_CONFERENCE, NS_USER, Groupchat, affiliation_rank, role_rank
from .occupants import KICKABLE, error_condition, error_removal
from .room import without_muc

_iq_ids = itertools.count(1)
#: iqs through an occupant JID that go to the user's bare JID, whose server answers (as Prosody does).
SERVER_ANSWERS = ("vcard-temp", "urn:ietf:params:xml:ns:vcard-4.0", "http://jabber.org/protocol/pubsub")


def message_to_room(event):
    """A message to the room's bare JID: groupchat (7.4), invitations (7.8), declines, errors (18.1.2)."""
    room = event.room
    mtype = event.stanza.get("type") or "normal"
    if mtype == "groupchat":
        return groupchat(room, event)
    if mtype == "error":
        if error_condition(event.stanza)[0] in KICKABLE:
            error_removal(room, event)
        return
    if mtype == "normal":
        x = event.stanza.find(f"{{{NS_USER}}}x")
        if x is not None and x.find(f"{{{NS_USER}}}invite") is not None:
            return invite(room, event, x.find(f"{{{NS_USER}}}invite"))
        if x is not None and x.find(f"{{{NS_USER}}}decline") is not None:
            return decline(room, event, x.find(f"{{{NS_USER}}}decline"))
    if mtype == "headline":
        return
    raise StanzaError("bad-request", "messages to a room are of type groupchat (XEP-0045 7.4, 17.2)")


def groupchat(room, event) -> None:
    """7.4: reflect to every occupant from the sender's occupant JID; 8.1: or change the subject."""
    stanza = event.stanza
    sender = room.occupant_of(event.from_)
    if sender is None:
        raise StanzaError("not-acceptable", "you are not in this room: join it first (7.4)", type="cancel")
    subject = stanza.find("{jabber:client}subject")
    if subject is not None and stanza.find("{jabber:client}body") is None \
            and stanza.find("{jabber:client}thread") is None:
        return change_subject(room, sender, stanza, subject.text or "", event.from_)
    if not room.can_speak(sender):
        raise StanzaError("forbidden", "visitors cannot speak in a moderated room: ask for voice (7.4)")
    msg = copy.deepcopy(stanza)
    msg.tail = None
    for delay in msg.findall(f"{{{NS_DELAY}}}delay"):
        if delay.get("from") == str(room.jid):
            msg.remove(delay)  # a client cannot pretend to be the room's history
    msg.attrib.pop("to", None)
    msg.set("from", room.occupant_jid(sender.nick))
    if not msg.get("id"):
        msg.set("id", str(uuid.uuid4()))  # 7.4: the same id in every reflection (muc#stable_id)
    hooks = room.server.hooks
    if hooks.has(ACCEPTED):  # the room archive (XEP-0313) keeps it and adds its stanza id
        hooks.collect(ACCEPTED, Groupchat(room, sender, msg, event.from_))
    if room.is_historic(msg):
        room.add_history(msg)
    room.broadcast(msg)


def change_subject(room, sender, stanza, text: str, real=None) -> None:
    """8.1 (and 7.3): moderators, or participants when muc#roomconfig_changesubject allows it."""
    allowed = sender.role == "moderator" or (room.config.change_subject and sender.role == "participant")
    if not allowed:
        raise StanzaError("forbidden", "you may not change the subject of this room (8.1)")
    room.subject = text
    room.subject_from = room.occupant_jid(sender.nick)
    room.subject_time = time.time()
    msg = element("message", {"type": "groupchat", "from": room.subject_from, "id": stanza.get("id")})
    sub(msg, "subject", text=text or None)
    hooks = room.server.hooks
    if real is not None and hooks.has(ACCEPTED):  # the room archive keeps subject changes too (XEP-0313 §6.1.2)
        hooks.collect(ACCEPTED, Groupchat(room, sender, msg, real))
    room.broadcast(msg)
    room.save()


def private_message(event):
    """7.5: a message to room/nick goes to that occupant's real JID(s), from the sender's occupant JID."""
    room = event.room
    stanza = event.stanza
    mtype = stanza.get("type") or "normal"
    sender = room.occupant_of(event.from_)
    if mtype == "error":
        if sender is not None and error_condition(stanza)[0] in KICKABLE:
            error_removal(room, event)  # 18.1.2: the occupant's client is gone
        return
    if sender is None:
        raise StanzaError("not-acceptable", "you are not in this room (7.5)", type="cancel")
    if mtype == "groupchat":
        raise StanzaError("bad-request", "a private message cannot be of type groupchat (7.5)")
    target = room.occupants.get(event.to.resource)
    if target is None:
        raise StanzaError("item-not-found", f"nobody is called {event.to.resource!r} in this room (7.5)")
    policy = room.config.allow_pm
    needed = {"anyone": "visitor", "participants": "participant", "moderators": "moderator"}.get(policy)
    if needed is None or role_rank(sender.role) < role_rank(needed):
        raise StanzaError("forbidden", "private messages are not allowed here (muc#roomconfig_allowpm)")
    msg = without_muc(stanza)
    msg.set("from", room.occupant_jid(sender.nick))
    sub(msg, "x", ns=NS_USER)  # 7.5: marks it as a MUC private message (for XEP-0280 carbons)
    room.send_to_occupant(target, msg)


def invite(room, event, payload) -> None:
    """7.8.2: the room passes the invitation on, saying who invites (and the password, if any)."""
    try:
        invitee = JID(payload.get("to") or "")
    except InvalidJID:
        raise StanzaError("jid-malformed", "the invitee's address is not a valid JID") from None
    inviter = room.occupant_of(event.from_)
    affiliation = room.affiliation(event.from_)
    if room.config.members_only:
        needed = "member" if room.config.allow_invites else "admin"
        if affiliation_rank(affiliation) < affiliation_rank(needed):
            raise StanzaError("forbidden", "only admins may invite people to this members-only room (7.8.2)")
    elif inviter is None:
        raise StanzaError("not-acceptable", "you are not in this room (7.8.2)", type="cancel")
    elif not room.can_speak(inviter):
        raise StanzaError("forbidden", "visitors cannot invite (7.8.2)")
    reason = payload.findtext(f"{{{NS_USER}}}reason") or ""
    hidden = room.config.whois != "anyone" and room.default_role(room.affiliation(invitee)) != "moderator"
    who = room.occupant_jid(inviter.nick) if inviter is not None and hidden else str(event.from_)
    msg = without_muc(event.stanza)
    msg.set("from", str(room.jid))
    msg.set("to", str(invitee))
    x = sub(msg, "x", ns=NS_USER)
    sub(sub(x, "invite", {"from": who}), "reason", text=reason or None)
    if room.config.password:
        sub(x, "password", text=room.config.password)
    sub(msg, "x", {"jid": str(room.jid)}, ns=NS_CONFERENCE, text=reason or None)  # for clients of old
    if msg.find("{jabber:client}body") is None:
        sub(msg, "body", text=f"{who} invited you to the room {room.jid}" + (f" ({reason})" if reason else ""))
    if room.config.members_only and room.affiliation(invitee) == "none":
        room.set_affiliation(str(invitee.bare), "member", reason=f"Invited by {who}")  # 7.8.2 (MAY)
        room.save()
    room.send(msg)


def decline(room, event, payload) -> None:
    """7.8.2: the invitee declines through the room, which tells the inviter."""
    try:
        to = JID(payload.get("to") or "")
    except InvalidJID:
        raise StanzaError("jid-malformed", "the inviter's address is not a valid JID") from None
    reason = payload.findtext(f"{{{NS_USER}}}reason")
    msg = without_muc(event.stanza)
    msg.set("from", str(room.jid))
    x = sub(msg, "x", ns=NS_USER)
    sub(sub(x, "decline", {"from": str(event.from_.bare)}), "reason", text=reason or None)
    target = room.occupants.get(to.resource) if to.bare == room.jid else None
    if target is not None:
        room.send_to_occupant(target, msg)
    else:
        msg.set("to", str(to))
        room.send(msg)


def iq_to_occupant(event):
    """17.4: iqs through occupant JIDs, without revealing either side's real JID.

    A get or set from an occupant is passed to the target's primary session from the
    sender's occupant JID with a new id; the answer is passed back. A ping to one's own
    occupant JID is answered by the room (XEP-0410 MUC self-ping).
    """
    room = event.room
    stanza = event.stanza
    stype = stanza.get("type")
    if stype in ("result", "error"):
        pending = room.forwarded.pop(stanza.get("id"), None)
        if pending is None or pending[2] != str(event.from_):
            return
        orig_id, asker, _target, nick = pending
        answer = copy.deepcopy(stanza)
        answer.set("id", orig_id)
        answer.set("from", room.occupant_jid(nick))
        answer.set("to", asker)
        room.send(answer)
        return
    sender = room.occupant_of(event.from_)
    payload = event.payload
    if sender is None:
        disco = payload is not None and payload.tag in (f"{{{NS_DISCO_INFO}}}query", f"{{{NS_DISCO_ITEMS}}}query")
        raise StanzaError("bad-request" if disco else "not-acceptable", "you are not in this room (6.6, 17.4)",
                          type="modify" if disco else "cancel")
    target = room.occupants.get(event.to.resource)
    if target is None:
        raise StanzaError("item-not-found", f"nobody is called {event.to.resource!r} in this room")
    if target is sender and stype == "get" and payload is not None and payload.tag == f"{{{NS_PING}}}ping":
        room.send(element("iq", {"type": "result", "id": stanza.get("id"), "from": str(event.to),
                                 "to": str(event.from_)}))
        return
    to = target.jid
    if payload is not None and payload.tag.partition("}")[0][1:] in SERVER_ANSWERS:
        to = str(target.bare)  # the user's server answers these (vCards, avatars)
    new_id = f"muc-{next(_iq_ids)}"
    room.forwarded[new_id] = (stanza.get("id"), str(event.from_), to, target.nick)
    if len(room.forwarded) > 1000:  # answers that never came
        room.forwarded.pop(next(iter(room.forwarded)))
    fwd = copy.deepcopy(stanza)
    fwd.set("id", new_id)
    fwd.set("from", room.occupant_jid(sender.nick))
    fwd.set("to", to)
    room.send(fwd)


def setup(server):
    """Hook this part's handlers on the server's events (``muc/…``, see :mod:`.handlers`)."""
    server.hook("muc/message/room", message_to_room)
    server.hook("muc/message/occupant", private_message)
    server.hook("muc/iq/occupant", iq_to_occupant)
