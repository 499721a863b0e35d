"""``muc#admin``: roles (moderator use cases, XEP-0045 section 8) and affiliations (admins, section 9;
owners, 10.3 to 10.8).

A kick (8.2) sets a role to none, by nickname::

    C: <iq type='set' to='garden@conference.example.com' id='k1'>
         <query xmlns='http://jabber.org/protocol/muc#admin'>
           <item nick='tybalt' role='none'><reason>Fighting</reason></item>
         </query>
       </iq>
    S: (to tybalt)  <presence type='unavailable' from='garden@…/tybalt'> … <item affiliation='none' role='none'>
                      <actor nick='romeo'/><reason>Fighting</reason></item><status code='307'/><status code='110'/> …
    S: <iq type='result' id='k1' from='garden@conference.example.com'/>
    S: (to the others) the same unavailable presence, without 110

Affiliations are set by bare JID (9.3, granting membership; a ``nick`` reserves it)::

    <item affiliation='member' jid='juliet@example.com' nick='juliet'/>

Who may do what: moderators change roles (section 8: else ``forbidden``),
but not of someone with a higher affiliation (``not-allowed``); admins change
affiliations up to member and ban (section 9: else ``forbidden``), owners
everything (10.3-10.8), but the last owner cannot step down (``conflict``).
"""

from __future__ import annotations

from ...errors import StanzaError
from ...jid import JID, InvalidJID
from ...xml import element, sub
from .model import AFFILIATIONS, NS_ADMIN, NS_USER, ROLES, affiliation_rank, role_rank
from .room import Notice


def _items(event):
    return [c for c in event.payload if isinstance(c.tag, str) and c.tag == f"{{{NS_ADMIN}}}item"]


def admin_get(event):
    """9.5, 10.5, 10.8: affiliation lists (admins and owners); 8.5, 9.8: role lists (moderators)."""
    room = event.room
    items = _items(event)
    if len(items) != 1:
        raise StanzaError("bad-request", "ask for one list: <item affiliation='member'/> or <item role='moderator'/>")
    aff, role = items[0].get("affiliation"), items[0].get("role")
    asker_aff = room.affiliation(event.from_)
    query = element("query", ns=NS_ADMIN)
    if aff is not None and role is None:
        if aff not in AFFILIATIONS:
            raise StanzaError("bad-request", f"{aff!r} is not an affiliation")
        rank = affiliation_rank(asker_aff)
        members_may_see = room.config.members_only and room.config.whois == "anyone" and aff == "member" \
            and rank >= affiliation_rank("member")  # 9.5 (note)
        if not members_may_see and (rank < affiliation_rank("admin") or rank < affiliation_rank(aff)):
            raise StanzaError("forbidden", "only admins and owners may see this list (9.5, 10.5, 10.8)")
        for jid, a in sorted(room.affiliations.items()):
            if a.affiliation == aff:
                item = sub(query, "item", {"affiliation": aff, "jid": jid,
                                           "nick": a.nick if aff != "outcast" else None})
                if a.reason:
                    sub(item, "reason", text=a.reason)
    elif role is not None and aff is None:
        if role not in ROLES:
            raise StanzaError("bad-request", f"{role!r} is not a role")
        asker = room.occupant_of(event.from_)
        if asker is None or asker.role != "moderator":
            raise StanzaError("forbidden", "only moderators may see this list (8.5, 9.8)")
        for occupant in room.occupants.values():
            if occupant.role == role:
                for real in occupant.sessions:  # 17.4: nick, role, affiliation and full JID
                    sub(query, "item", {"affiliation": room.affiliation(occupant.bare), "jid": real,
                                        "nick": occupant.nick, "role": role})
    else:
        raise StanzaError("bad-request", "an item names an affiliation or a role, not both (17.4)")
    event.reply(query)


def admin_set(event):
    """Role and affiliation changes; every item is checked before any is applied."""
    room = event.room
    items = _items(event)
    if not items:
        raise StanzaError("bad-request", "the query has no <item/>")
    changes = [_check(room, event, item) for item in items]
    replied = []

    def reply():
        if not replied:
            replied.append(True)
            event.reply()

    for change in changes:
        change(reply)
    room.save()
    reply()  # 9.3: after the presence of those affected (Prosody's order; a kick answers earlier, 8.2)


def _actor(room, real) -> tuple:
    occupant = room.occupant_of(real)
    return (occupant.nick if occupant is not None else None, str(real))


def _check(room, event, item):
    """Validate one item and return the function that applies it."""
    aff, role, nick = item.get("affiliation"), item.get("role"), item.get("nick")
    reason = item.findtext(f"{{{NS_ADMIN}}}reason")
    jid = None
    if item.get("jid"):
        try:
            jid = JID(item.get("jid"))
        except InvalidJID:
            raise StanzaError("jid-malformed", f"{item.get('jid')!r} is not a valid JID") from None
    if aff is not None and role is not None:
        raise StanzaError("bad-request", "change an affiliation or a role, not both at once (17.4)")
    if aff is not None:
        if aff not in AFFILIATIONS:
            raise StanzaError("bad-request", f"{aff!r} is not an affiliation")
        if jid is None and nick is not None:  # a client that names the occupant by nick (as Prosody allows)
            occupant = room.occupants.get(nick)
            if occupant is None:
                raise StanzaError("item-not-found", f"nobody is called {nick!r} in this room")
            jid, nick = occupant.bare, None
        if jid is None:
            raise StanzaError("bad-request", "an affiliation is set for a bare JID: <item jid='…'/> (17.4)")
        if jid.resource is not None:
            raise StanzaError("jid-malformed", "affiliations are for bare JIDs (17.4)")
        bare = str(jid)
        _may_set_affiliation(room, event.from_, bare, aff)
        return lambda reply: set_affiliation(room, event.from_, bare, aff, nick=nick, reason=reason)
    if role is not None:
        if role not in ROLES:
            raise StanzaError("bad-request", f"{role!r} is not a role")
        if nick is None and jid is not None:
            occupant = next(iter(room.occupants_of(str(jid.bare))), None)
            nick = occupant.nick if occupant is not None else None
        target = room.occupants.get(nick) if nick is not None else None
        if target is None:
            raise StanzaError("item-not-found", f"nobody is called {nick!r} in this room" if nick else
                              "a role is set by nickname: <item nick='…' role='…'/> (17.4)")
        _may_set_role(room, event.from_, target, role)
        return lambda reply: set_role(room, event.from_, target, role, reason=reason, reply=reply)
    raise StanzaError("bad-request", "an item needs an affiliation or a role")


def _may_set_affiliation(room, actor, bare: str, new: str) -> None:
    actor_aff = room.affiliation(actor)
    current = room.affiliations[bare].affiliation if bare in room.affiliations else "none"
    if actor_aff == "owner":
        if bare == str(actor.bare) and current == "owner" and new != "owner":
            owners = [j for j, a in room.affiliations.items() if a.affiliation == "owner"]
            if owners == [bare]:
                raise StanzaError("conflict", "the last owner cannot step down: name another owner first (10.4)")
        return
    if actor_aff != "admin":
        raise StanzaError("forbidden", "only admins and owners may change affiliations (9)")
    if new in ("owner", "admin"):
        raise StanzaError("forbidden", "only owners may grant owner or admin status (10.3, 10.6)")
    if current in ("owner", "admin"):
        raise StanzaError("not-allowed", "an admin cannot change the affiliation of an admin or owner (9.1)")


def _may_set_role(room, actor, target, new: str) -> None:
    mod = room.occupant_of(actor)
    if mod is None or mod.role != "moderator":
        raise StanzaError("forbidden", "only moderators may change roles (8)")
    actor_aff = room.affiliation(actor)
    if affiliation_rank(actor_aff) < affiliation_rank(room.affiliation(target.bare)):
        raise StanzaError("not-allowed", "you cannot change the role of someone with a higher affiliation (8.2)")
    if (new == "moderator" or target.role == "moderator") and actor_aff not in ("owner", "admin"):
        raise StanzaError("not-allowed", "only admins and owners grant or revoke moderator status (9.6, 9.7)")


def set_role(room, actor, target, role: str, *, reason=None, reply=None) -> None:
    """8.2 (kick: role none, status 307), 8.3/8.4 (voice), 9.6/9.7 (moderator)."""
    notice = Notice(actor=_actor(room, actor), reason=reason)
    if role == "none":
        notice.codes = ("307",)
        room.remove(target, notice, after_self=reply)
        room.vanish_if_empty()
        return
    prev = target.role
    target.role = role
    room.publicise(target, notice, prev_role=prev)
    _moderator_view_changed(room, target, prev)


def set_affiliation(room, actor, bare: str, affiliation: str, *, nick=None, reason=None) -> None:
    """9.1-9.7, 10.3-10.7: change the affiliation, then the roles and presence of those it concerns."""
    before = room.affiliations[bare].affiliation if bare in room.affiliations else "none"
    room.set_affiliation(bare, affiliation, nick=nick, reason=reason)
    actor_t = _actor(room, actor) if actor is not None else None
    if nick is not None:  # 9.3: a reserved nick; someone else using it has to go
        squatter = room.occupants.get(nick)
        if squatter is not None and str(squatter.bare) != bare:
            room.remove(squatter, Notice(codes=("307",), actor=actor_t, reason="This nickname is reserved"))
    role = room.default_role(affiliation)
    down = affiliation_rank(affiliation) < affiliation_rank(before)
    affected = room.occupants_of(bare)
    for occupant in affected:
        prev = occupant.role
        if role == "none":
            code = "301" if affiliation == "outcast" else "321"  # 9.1 banned; 9.4 removed from members-only
            room.remove(occupant, Notice(codes=(code,), actor=actor_t, reason=reason))
            continue
        if down or role_rank(role) > role_rank(occupant.role):
            occupant.role = role
        room.publicise(occupant, Notice(actor=actor_t, reason=reason), prev_role=prev)
        _moderator_view_changed(room, occupant, prev)
    if not affected:
        # Not in the room: the occupants who may see real JIDs hear of it (as Prosody does) ...
        msg = element("message", {"from": str(room.jid)})
        item = sub(sub(msg, "x", ns=NS_USER), "item", {"affiliation": affiliation, "jid": bare})
        if reason:
            sub(item, "reason", text=reason)
        room.broadcast(msg, only=lambda o: room.sees_jids(o))
        # ... and 18.1 (MAY): the user gets an out-of-room notice, status 101.
        note = element("message", {"from": str(room.jid), "to": bare, "type": "headline"})
        sub(note, "body", text=f"Your affiliation in room {room.jid} is now {affiliation}.")
        sub(sub(note, "x", ns=NS_USER), "status", {"code": "101"})
        room.send(note)
    room.vanish_if_empty()


def _moderator_view_changed(room, occupant, prev_role) -> None:
    """In a semi-anonymous room a new (or former) moderator now sees (or no longer sees) real JIDs."""
    if room.config.whois == "anyone" or (prev_role == "moderator") == (occupant.role == "moderator"):
        return
    for real in list(occupant.sessions):
        room.send_occupants_to(real, occupant)


def setup(server):
    """Hook this part's handlers on the server's events (``muc/…``, see :mod:`.handlers`)."""
    server.hook(f"muc/iq-get/room/{NS_ADMIN}:query", admin_get)
    server.hook(f"muc/iq-set/room/{NS_ADMIN}:query", admin_set)
