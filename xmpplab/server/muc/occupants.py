"""Presence to a room: entering (XEP-0045 7.2), presence updates (7.7), nickname changes (7.6),
exiting (7.14), probes (17.3) and removal after an error (11.1).

Entering a room that does not exist creates it (10.1)::

    C: <presence to='garden@conference.example.com/romeo'><x xmlns='http://jabber.org/protocol/muc'/></presence>
    S: <presence from='garden@conference.example.com/romeo' to='romeo@example.net/orchard'>
         <x xmlns='http://jabber.org/protocol/muc#user'>
           <status code='201'/>                                           (the room is new, 10.1.2)
           <item affiliation='owner' jid='romeo@example.net/orchard' role='moderator'/>
           <status code='110'/>                                           (this is you, 7.2.2)
         </x>
       </presence>
    S: <message from='garden@conference.example.com' type='groupchat' to='romeo@example.net/orchard'>
         <subject/>
       </message>

A joining session gets, in this order (7.1): the presence of everyone
already there, its own presence (status 110), the discussion history
(with XEP-0203 delays from the room) and the subject. The others get the
newcomer's presence. A new room is locked (item-not-found for everyone but
its owners, 7.2.10) until the owner submits a configuration or accepts the
default one (10.1.2).
"""

from __future__ import annotations

from ...errors import StanzaError
from ...jid import JID
from ...xml import element, sub
from .model import NS_MUC, NS_USER, Occupant, affiliation_rank
from .room import Notice, without_muc

#: 11.1: the delivery-related errors after which an occupant is taken out as a ghost.
KICKABLE = {"gone", "internal-server-error", "item-not-found", "jid-malformed", "recipient-unavailable",
            "redirect", "remote-server-not-found", "remote-server-timeout", "service-unavailable"}


def error_condition(stanza) -> tuple[str | None, str | None]:
    """The defined condition and the text of an error stanza, or None for each that is missing."""
    err = stanza.find("{jabber:client}error")
    if err is None:
        return None, None
    condition = text = None
    for child in err:
        if not isinstance(child.tag, str):
            continue
        name = child.tag.rpartition("}")[2]
        if name == "text":
            text = (child.text or "").strip() or None
        elif condition is None:
            condition = name
    return condition, text


def presence_to_occupant(event):
    """Presence to an occupant JID: enter (7.2), change (7.6, 7.7), exit (7.14), probe (17.3), error (11.1)."""
    service, room = event.service, event.room
    ptype = event.stanza.get("type")
    if ptype is None:
        return available(service, room, event)
    if room is None:
        if ptype == "probe":
            raise StanzaError("item-not-found", f"there is no room {event.to.bare}")
        return None  # 17.3: unavailable (or an error) from someone not in a room is ignored
    if ptype == "unavailable":
        return leave(room, event)
    if ptype == "probe":
        return probe(room, event)
    if ptype == "error":
        return error_removal(room, event)
    raise StanzaError("bad-request", f"a room does not take presence of type '{ptype}'")


def presence_to_room(event):
    """A presence to the room's bare JID: from an occupant, as if sent to its nick (Prosody does so)."""
    room = event.room
    occupant = room.occupant_of(event.from_) if room is not None else None
    if occupant is None:
        if event.stanza.get("type") is None:
            raise StanzaError("jid-malformed", "to enter a room, send presence to room@service/nickname (7.2.1)")
        return None
    event.to = JID(room.occupant_jid(occupant.nick))
    return presence_to_occupant(event)


def check_nick(nick: str) -> None:
    """17.1: no empty or invisible room nicknames."""
    if not nick.strip():
        raise StanzaError("not-acceptable", "a room nickname cannot be empty or only spaces (XEP-0045 17.1)")


def available(service, room, event):
    """Available presence to an occupant JID: enter the room (creating it, 10.1), or change nick or status."""
    stanza, real, nick = event.stanza, str(event.from_), event.to.resource
    muc_x = stanza.find(f"{{{NS_MUC}}}x")
    occupant = room.occupant_of(real) if room is not None else None
    if occupant is None and muc_x is None:
        return desync_kick(service, event)
    check_nick(nick)
    if occupant is None:
        created = room is None
        if created:
            room = service.create_room(event.to.bare, owner=event.from_.bare)
        try:
            join(room, event, muc_x, created)
        except StanzaError:
            if created:
                service.forget(room)
            raise
    elif occupant.nick == nick:
        update(room, occupant, real, stanza, muc_x)
    else:
        change_nick(room, occupant, event, muc_x)


def desync_kick(service, event) -> None:
    """7.2.18: presence without ``<x/>`` from a non-occupant is answered with a kick (110, 307, 333)."""
    p = element("presence", {"from": str(event.to), "to": str(event.from_), "type": "unavailable"})
    x = sub(p, "x", ns=NS_USER)
    item = sub(x, "item", {"affiliation": "none", "role": "none"})
    sub(item, "reason", text="You are not in the room.")
    for code in ("110", "307", "333"):
        sub(x, "status", {"code": code})
    service.server.route(p)


def join(room, event, muc_x, created: bool) -> None:
    """7.2: a session enters under a nick (a new occupant, or another session of the same user's)."""
    stanza, real, nick = event.stanza, str(event.from_), event.to.resource
    bare = event.from_.bare
    affiliation = room.affiliation(bare)
    if affiliation == "outcast":
        raise StanzaError("forbidden", "you are banned from this room (7.2.7)")
    if room.locked and affiliation != "owner":
        raise StanzaError("item-not-found", "this room is locked until its owner configures it (7.2.10)")
    if room.config.members_only and affiliation_rank(affiliation) < affiliation_rank("member"):
        raise StanzaError("registration-required", "this room is members-only (7.2.6)")
    if room.config.password and not created:
        given = muc_x.findtext(f"{{{NS_MUC}}}password") if muc_x is not None else None
        if (given or "") != room.config.password:
            raise StanzaError("not-authorized", "this room needs a password (7.2.5)")
    existing = room.occupants.get(nick)
    if existing is not None and existing.bare != bare:
        raise StanzaError("conflict", f"the nickname {nick!r} is in use in this room (7.2.8)")
    reserved_by = room.nick_owner(nick)
    if reserved_by is not None and reserved_by != str(bare):
        raise StanzaError("conflict", f"the nickname {nick!r} is reserved by a member of this room (7.2.8)")
    if existing is None and room.config.max_users and len(room.occupants) >= room.config.max_users \
            and affiliation_rank(affiliation) < affiliation_rank("admin"):
        raise StanzaError("service-unavailable", "this room is full (7.2.9)", type="wait")
    presence = without_muc(stanza)
    if existing is None:
        occupant = Occupant(nick, bare, room.default_role(affiliation), {real: presence})
    else:  # 7.2.8: the same user under the same nick from another resource
        occupant = existing
        occupant.sessions[real] = presence
    room.attach(occupant)
    self_codes = ("201",) if created else ()
    if room.config.whois == "anyone":
        self_codes = self_codes + ("100",)  # 7.2.3: everyone sees your JID
    room.send_occupants_to(real, occupant)
    room.tell_others(occupant, occupant.presence)
    targets = {real: presence} if existing is None else dict(occupant.sessions)
    room.tell_self(occupant, targets, Notice(self_codes=self_codes))
    room.send_history(real, muc_x.find(f"{{{NS_MUC}}}history") if muc_x is not None else None)
    room.send_subject(real)


def update(room, occupant, real: str, stanza, muc_x) -> None:
    """7.7 (new availability), or with ``<x/>`` a resynchronisation (7.2.1): everything a join gets."""
    occupant.sessions[real] = without_muc(stanza)
    if muc_x is not None:
        room.send_occupants_to(real, occupant)
    room.publicise(occupant)
    if muc_x is not None:
        room.send_history(real, muc_x.find(f"{{{NS_MUC}}}history"))
        room.send_subject(real)


def change_nick(room, occupant, event, muc_x) -> None:
    """7.6: unavailable for the old nick (303, with the new nick) to all, then available for the new one.

    The occupant keeps its role (a visitor stays a visitor).
    """
    real, new = str(event.from_), event.to.resource
    dest = room.occupants.get(new)
    if dest is not None and dest.bare != occupant.bare:
        raise StanzaError("conflict", f"the nickname {new!r} is in use in this room (7.6)")
    reserved_by = room.nick_owner(new)
    if reserved_by is not None and reserved_by != str(occupant.bare):
        raise StanzaError("conflict", f"the nickname {new!r} is reserved by a member of this room (7.6)")
    gone = element("presence", {"type": "unavailable"})
    notice = Notice(codes=("303",), nick=new)
    if len(occupant.sessions) == 1:
        room.detach(occupant)
        room.tell_others(occupant, gone, notice, jids=[real])
        room.tell_self(occupant, {real: gone}, notice, jids=[real])
    else:  # one session of several moves: it sees the change, the others see one session fewer
        room.by_real.pop(real, None)
        del occupant.sessions[real]
        room.tell_self(occupant, {real: gone}, notice, jids=[real])
        room.tell_others(occupant, occupant.presence)
    presence = without_muc(event.stanza)
    if dest is None:
        dest = Occupant(new, occupant.bare, occupant.role, {real: presence})
    else:
        dest.sessions[real] = presence
    room.attach(dest)
    if muc_x is not None:
        room.send_occupants_to(real, dest)
    room.tell_others(dest, dest.presence)
    room.tell_self(dest, {real: presence} if len(dest.sessions) == 1 else dict(dest.sessions))
    if muc_x is not None:
        room.send_history(real, muc_x.find(f"{{{NS_MUC}}}history"))
        room.send_subject(real)


def leave(room, event) -> None:
    """7.14: unavailable presence to the room; the leaver gets it back with 110, the others after."""
    occupant = room.occupant_of(event.from_)
    if occupant is None:
        return  # 17.3: silently ignored
    take_out(room, occupant, str(event.from_), without_muc(event.stanza), Notice())


def take_out(room, occupant, real: str, base, notice: Notice) -> None:
    """One session leaves: the occupant leaves with its last session, else the others see one fewer."""
    if len(occupant.sessions) > 1:
        room.by_real.pop(real, None)
        del occupant.sessions[real]
        gone = Occupant(occupant.nick, occupant.bare, "none", {real: base})
        room.tell_self(gone, {real: base}, Notice())
        room.tell_others(occupant, occupant.presence)
        return
    room.remove(occupant, notice, base=base)
    room.vanish_if_empty()


def error_removal(room, event) -> None:
    """11.1: an error from an occupant's client takes that session out, with status 333 (ghosts, 18.1.2).

    The status text names the error; its own text is shown only in non-anonymous
    rooms (as Prosody does: it may say more than the room should).
    """
    occupant = room.occupant_of(event.from_)
    if occupant is None:
        return
    condition, text = error_condition(event.stanza)
    message = "Kicked: " + (condition.replace("-", " ") if condition else "presence error")
    if text and room.config.whois == "anyone":
        message += ": " + text
    base = element("presence", {"type": "unavailable"})
    sub(base, "status", text=message)
    last = len(occupant.sessions) == 1
    take_out(room, occupant, str(event.from_), base, Notice(codes=("333",) if last else ()))


def probe(room, event) -> None:
    """17.3 (MAY): an occupant may probe an occupant JID for its current presence.

    A nick that is reserved by a member who is not in the room answers with
    unavailable presence (role none). Non-occupants get not-acceptable.
    """
    prober = room.occupant_of(event.from_)
    if prober is None:
        raise StanzaError("not-acceptable", "you are not in this room: probe after joining (17.3)", type="cancel")
    nick, real = event.to.resource, str(event.from_)
    target = room.occupants.get(nick)
    if target is not None:
        room.send(room.presence_about(target, target.presence, real, view=room.view_for(prober, target)))
        return
    owner = room.nick_owner(nick)
    if owner is None:
        return
    p = element("presence", {"from": room.occupant_jid(nick), "to": real, "type": "unavailable"})
    x = sub(p, "x", ns=NS_USER)
    sub(x, "item", {"affiliation": room.affiliation(owner), "role": "none", "nick": nick,
                    "jid": owner if room.sees_jids(prober) else None})
    room.send(p)


def setup(server):
    """Hook this part's handlers on the server's events (``muc/…``, see :mod:`.handlers`)."""
    server.hook("muc/presence/occupant", presence_to_occupant)
    server.hook("muc/presence/room", presence_to_room)
