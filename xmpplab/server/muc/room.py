"""One chat room (XEP-0045): its occupants, affiliations, history and subject, and how it tells people.

Everything a room sends goes through :meth:`Room.send` (``server.route``), to
the occupants' real JIDs, from the room (``room@service``) or from an
occupant JID (``room@service/nick``).

Occupant presence always carries the ``muc#user`` extension with the
occupant's affiliation and role (XEP-0045 17.3). Who sees the real JID
depends on the room (7.2.3, 7.2.4): in a non-anonymous room (whois
``anyone``) everyone does, in a semi-anonymous one (whois ``moderators``)
only moderators, and the occupant itself always::

    <presence from='garden@conference.example.com/romeo' to='juliet@example.com/balcony'>
      <x xmlns='http://jabber.org/protocol/muc#user'>
        <item affiliation='owner' role='moderator'/>          (juliet is not a moderator: no jid)
      </x>
    </presence>

Status codes that concern the occupant itself (100, 201, 210 and 110) go
only to its own sessions. Inside ``<x/>`` the elements come in one order:
status codes, ``<destroy/>``, the items, and status 110 last (Prosody's
order; the XEP does not fix one).
"""

from __future__ import annotations

import copy
import datetime
import time
from collections import deque
from dataclasses import dataclass

from ...jid import JID
from ...xml import NS_DELAY, element, serialize, sub
from .model import NS_HINTS, NS_MUC, NS_USER, Affiliation, Occupant, RoomConfig, affiliation_rank, role_rank


def stamp(t: float) -> str:
    """A XEP-0082 DateTime in UTC: 2026-11-24T08:00:00.123456Z."""
    return datetime.datetime.fromtimestamp(t, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stamp(text: str) -> float | None:
    """A XEP-0082 DateTime as seconds since the epoch, or None when it cannot be read."""
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (ValueError, AttributeError):
        return None


def without_muc(stanza, *, drop_type: bool = False):
    """A copy of a client's stanza without the MUC elements a client must not pass on (17.3)."""
    el = copy.deepcopy(stanza)
    el.tail = None
    for child in list(el):
        if isinstance(child.tag, str) and child.tag in (f"{{{NS_MUC}}}x", f"{{{NS_USER}}}x"):
            el.remove(child)
    for key in ("to", "from") + (("type",) if drop_type else ()):
        el.attrib.pop(key, None)
    return el


@dataclass
class Notice:
    """What a presence from the room says beyond the item: status codes, actor, reason, destruction."""

    codes: tuple = ()          # to everyone (303, 307, 301, 321, 322, 333)
    self_codes: tuple = ()     # to the occupant itself only (100, 201, 210); 110 is added by the room
    nick: str | None = None    # the new nickname (303)
    actor: tuple | None = None  # (nick or None, real JID) of the moderator or admin who acted
    reason: str | None = None
    destroy: object = None     # a <destroy/> element (10.9)


NO_NOTICE = Notice()


class Room:
    """A room at ``room@service``; :class:`~xmpplab.server.muc.service.MUCService` keeps them."""

    def __init__(self, service, jid: JID, config: RoomConfig | None = None, *, lock_for: float = 0):
        self.service = service
        self.server = service.server
        self.jid = jid.bare
        self.config = config or RoomConfig()
        self.affiliations: dict[str, Affiliation] = {}   # bare JID -> Affiliation
        self.occupants: dict[str, Occupant] = {}         # nick -> occupant
        self.by_real: dict[str, Occupant] = {}           # real full JID -> occupant
        self.history: deque = deque()                    # (message, time, characters)
        self.subject = ""
        self.subject_from: str | None = None             # occupant JID of who set it, or None (the room)
        self.subject_time: float | None = None
        self.locked_until = time.time() + lock_for if lock_for else 0.0
        self.forwarded: dict = {}                        # iq id -> (id, asker, target, nick) (17.4)

    def __repr__(self) -> str:
        state = " locked" if self.locked else ""
        return f"<Room {self.jid}{state}: {len(self.occupants)} occupants, {len(self.affiliations)} affiliated>"

    # state ---------------------------------------------------------------------
    @property
    def locked(self) -> bool:
        """10.1.1: a new room admits nobody else until its owner configures it (or the lock times out)."""
        if self.locked_until and time.time() >= self.locked_until:
            self.locked_until = 0.0
        return bool(self.locked_until)

    def unlock(self) -> None:
        """Let everyone in: the owner configured the room or accepted the defaults (10.1.2, 10.1.3)."""
        self.locked_until = 0.0

    def occupant_jid(self, nick: str) -> str:
        """The occupant JID of a nick: ``room@service/nick``."""
        return f"{self.jid}/{nick}"

    def occupant_of(self, real) -> Occupant | None:
        """The occupant a real full JID is in the room as, or None."""
        return self.by_real.get(str(real))

    def affiliation(self, jid) -> str:
        """5.2: by bare JID; a banned domain bans everyone on it."""
        j = jid if isinstance(jid, JID) else JID(str(jid))
        aff = self.affiliations.get(str(j.bare))
        if aff is None:
            domain = self.affiliations.get(j.domain)
            return "outcast" if domain is not None and domain.affiliation == "outcast" else "none"
        return aff.affiliation

    def reserved_nick(self, bare) -> str | None:
        """The nick reserved for a bare JID through its affiliation (9.3), or None."""
        aff = self.affiliations.get(str(bare))
        return aff.nick if aff is not None else None

    def nick_owner(self, nick: str) -> str | None:
        """The bare JID that reserved ``nick`` (9.3), if any."""
        for jid, aff in self.affiliations.items():
            if aff.nick == nick and aff.affiliation != "outcast":
                return jid
        return None

    def default_role(self, affiliation: str) -> str:
        """5.1.2: the role someone with ``affiliation`` gets on entering ("none": may not enter)."""
        if affiliation in ("owner", "admin"):
            return "moderator"
        if affiliation == "outcast":
            return "none"
        if affiliation == "member":
            return "participant"
        if self.config.members_only:
            return "none"
        return "visitor" if self.config.moderated else "participant"

    def sees_jids(self, viewer: Occupant | None, real=None) -> bool:
        """7.2.3/7.2.4: may this occupant (or this real JID) see occupants' real JIDs?"""
        if self.config.whois == "anyone":
            return True
        if viewer is not None:
            return viewer.role == "moderator"
        return real is not None and self.affiliation(real) in ("owner", "admin")

    def broadcasts(self, role: str | None) -> bool:
        """muc#roomconfig_presencebroadcast: is the presence of occupants with this role sent to others?"""
        return (role or "none") in self.config.presence_broadcast

    def save(self) -> None:
        """Store the room if it is persistent (called after every change worth keeping)."""
        self.service.save(self)

    # sending ---------------------------------------------------------------------
    def send(self, stanza) -> None:
        """Route a stanza from the room."""
        self.server.route(stanza)

    def send_to_occupant(self, occupant: Occupant, stanza) -> None:
        """To every session of an occupant (7.2.8: a nick with several resources gets everything)."""
        for real in list(occupant.sessions):
            el = copy.deepcopy(stanza)
            el.set("to", real)
            self.send(el)

    def broadcast(self, stanza, only=None) -> None:
        """Send a stanza to every session of every occupant, or of those ``only(occupant)`` accepts."""
        for occupant in list(self.occupants.values()):
            if only is None or only(occupant):
                self.send_to_occupant(occupant, stanza)

    # occupant presence -------------------------------------------------------------
    def _item(self, x, occupant: Occupant, jid: str | None, notice: Notice, full_view: bool):
        attrs = {"affiliation": self.affiliation(occupant.bare), "role": occupant.role or "none",
                 "jid": jid, "nick": notice.nick}
        item = sub(x, "item", attrs)
        if notice.actor is not None:
            actor_nick, actor_jid = notice.actor
            sub(item, "actor", {"nick": actor_nick, "jid": actor_jid if full_view else None})
        if notice.reason:
            sub(item, "reason", text=notice.reason)
        return item

    def presence_about(self, occupant: Occupant, base, to: str, *, view: str, notice: Notice | None = None,
                       jids=None, to_self: bool = False, unavailable: bool = False):
        """The presence of ``occupant`` for one recipient.

        ``view`` is ``full`` (sees real JIDs and the actor's), ``self`` (the occupant's own
        JIDs, the actor's nick only) or ``anon`` (no real JIDs). ``to_self`` adds the
        self-only codes and status 110.
        """
        notice = notice or NO_NOTICE
        p = copy.deepcopy(base)
        p.tail = None
        if not to_self:
            p.attrib.pop("id", None)  # the original id goes back to the sender only (7.2.2)
        p.set("from", self.occupant_jid(occupant.nick))
        p.set("to", to)
        if unavailable:
            p.set("type", "unavailable")
        x = sub(p, "x", ns=NS_USER)
        for code in notice.codes + (notice.self_codes if to_self else ()):
            sub(x, "status", {"code": code})
        if notice.destroy is not None:
            x.append(copy.deepcopy(notice.destroy))
        shown = list(occupant.sessions) if jids is None else list(jids)
        if view == "anon" or not shown:
            self._item(x, occupant, None, notice, False)
        else:
            for real in shown:
                self._item(x, occupant, real, notice, view == "full")
        if to_self:
            sub(x, "status", {"code": "110"})
        return p

    def view_for(self, viewer: Occupant, occupant: Occupant) -> str:
        """How much ``viewer`` sees of ``occupant``'s presence: ``full``, ``self`` or ``anon`` (7.2.3, 7.2.4)."""
        if self.sees_jids(viewer):
            return "full"
        return "self" if viewer.bare == occupant.bare else "anon"

    def tell_others(self, occupant: Occupant, base, notice: Notice | None = None, *, jids=None, prev_role=None,
                    force: bool = False) -> None:
        """7.2.2, 7.6, 7.7, 7.14: an occupant's presence to every other occupant whose role allows it."""
        for other in list(self.occupants.values()):
            if other is occupant:
                continue
            if force or self.broadcasts(occupant.role):
                unavailable = False
            elif prev_role is not None and self.broadcasts(prev_role):
                unavailable = True  # they saw this occupant before: it disappears for them
            else:
                continue
            for real in list(other.sessions):
                self.send(self.presence_about(occupant, base, real, view=self.view_for(other, occupant),
                                              notice=notice, jids=jids, unavailable=unavailable))

    def tell_self(self, occupant: Occupant, targets: dict, notice: Notice | None = None, *, jids=None) -> None:
        """The occupant's own presence, with status 110, to its sessions (``targets``: real JID -> presence)."""
        for real, base in targets.items():
            self.send(self.presence_about(occupant, base, real, view="self", notice=notice, jids=jids,
                                          to_self=True))

    def publicise(self, occupant: Occupant, notice: Notice | None = None, *, prev_role=None) -> None:
        """An occupant's current presence to the others, then to itself (7.2.2: self-presence last)."""
        self.tell_others(occupant, occupant.presence, notice, prev_role=prev_role)
        self.tell_self(occupant, dict(occupant.sessions), notice)

    def send_occupants_to(self, real: str, joiner: Occupant) -> None:
        """7.2.2: the presence of every other occupant, to a new (or resynchronising) session."""
        for other in list(self.occupants.values()):
            if other is joiner:
                continue
            if not (self.broadcasts(other.role) or other.bare == joiner.bare):
                continue
            self.send(self.presence_about(other, other.presence, real, view=self.view_for(joiner, other)))

    def remove(self, occupant: Occupant, notice: Notice, *, base=None, after_self=None) -> None:
        """Take an occupant out (leave, kick, ban, error, destruction): role none, unavailable to all.

        The occupant's sessions get their unavailable presence first (7.14, 8.2), then
        ``after_self()`` runs (a kick answers the moderator there), then the others are told.
        """
        prev_role = occupant.role
        sessions = dict(occupant.sessions)
        base = base if base is not None else element("presence", {"type": "unavailable"})
        self.detach(occupant)
        occupant.role = "none"
        jids = list(sessions)
        self.tell_self(occupant, {real: base for real in sessions}, notice, jids=jids)
        if after_self is not None:
            after_self()
        if notice.destroy is None:  # 10.9: on destruction each occupant hears only of itself
            self.tell_others(occupant, base, notice, jids=jids, prev_role=prev_role)

    def attach(self, occupant: Occupant) -> None:
        """Add an occupant under its nick and its real JIDs."""
        self.occupants[occupant.nick] = occupant
        for real in occupant.sessions:
            self.by_real[real] = occupant

    def detach(self, occupant: Occupant) -> None:
        """Remove an occupant (only if it is still the one under its nick and real JIDs)."""
        if self.occupants.get(occupant.nick) is occupant:
            del self.occupants[occupant.nick]
        for real in occupant.sessions:
            if self.by_real.get(real) is occupant:
                del self.by_real[real]

    def vanish_if_empty(self) -> bool:
        """7.14: a temporary room is destroyed when its last occupant leaves."""
        if not self.occupants and not self.config.persistent:
            self.service.forget(self)
            return True
        return False

    # history and subject (7.2.13, 7.2.15) ----------------------------------------------------
    @staticmethod
    def is_historic(msg) -> bool:
        """Which groupchat messages are kept: those with a body, or with a XEP-0334 store hint."""
        if msg.find(f"{{{NS_HINTS}}}no-store") is not None or \
                msg.find(f"{{{NS_HINTS}}}no-permanent-store") is not None:
            return False
        if msg.find(f"{{{NS_HINTS}}}store") is not None:
            return True
        return msg.find("{jabber:client}body") is not None

    def add_history(self, msg, when: float | None = None) -> None:
        """Keep a copy of a groupchat message, with a delay from the room, for those who join later (7.2.13)."""
        if self.config.history_length <= 0:
            self.history.clear()
            return
        when = time.time() if when is None else when
        kept = copy.deepcopy(msg)
        kept.attrib.pop("to", None)
        sub(kept, "delay", {"from": str(self.jid), "stamp": stamp(when)}, ns=NS_DELAY)
        self.history.append((kept, when, len(serialize(kept))))
        while len(self.history) > self.config.history_length:
            self.history.popleft()

    def send_history(self, real: str, request) -> None:
        """7.2.13/7.2.14: the newest history that fits maxstanzas, maxchars, seconds and since."""
        limits = {} if request is None else request.attrib

        def number(name):
            try:
                value = int(limits[name])
            except (KeyError, ValueError):
                return None
            return max(value, 0)

        maxstanzas, maxchars, seconds = number("maxstanzas"), number("maxchars"), number("seconds")
        since = parse_stamp(limits["since"]) if "since" in limits else None
        if seconds is not None:
            since = max(since or 0.0, time.time() - seconds)
        chosen, chars = [], 0
        for kept, when, size in reversed(self.history):
            if maxstanzas is not None and len(chosen) >= maxstanzas:
                break
            if since is not None and when < since:
                break
            chars += size + len(real)
            if maxchars is not None and chars > maxchars:
                break
            chosen.append(kept)
        for kept in reversed(chosen):
            el = copy.deepcopy(kept)
            el.set("to", real)
            self.send(el)

    def subject_message(self):
        """7.2.15: the subject, from whoever set it, with a delay if it was ever set; empty if none."""
        msg = element("message", {"type": "groupchat", "from": self.subject_from or str(self.jid)})
        sub(msg, "subject", text=self.subject or None)
        if self.subject_time is not None:
            sub(msg, "delay", {"from": str(self.jid), "stamp": stamp(self.subject_time)}, ns=NS_DELAY)
        return msg

    def send_subject(self, real: str) -> None:
        """Send the subject to one real JID (the last thing a joining session gets, 7.2.15)."""
        msg = self.subject_message()
        msg.set("to", real)
        self.send(msg)

    # affiliations and roles ------------------------------------------------------------
    def set_affiliation(self, bare: str, affiliation: str, *, nick: str | None = None,
                        reason: str | None = None) -> None:
        """Give a bare JID an affiliation (``none`` removes it); a reserved nick is kept unless banned."""
        if affiliation == "none":
            self.affiliations.pop(bare, None)
        else:
            old = self.affiliations.get(bare)
            keep_nick = old.nick if old is not None and affiliation != "outcast" else None
            self.affiliations[bare] = Affiliation(affiliation, nick or keep_nick, reason)

    def occupants_of(self, bare: str) -> list[Occupant]:
        """The occupants a bare JID is in the room as."""
        return [o for o in self.occupants.values() if str(o.bare) == bare]

    def outranks(self, actor_aff: str, target_aff: str) -> bool:
        """Whether an actor's affiliation is at least the target's (admin use cases, 9 and 10)."""
        return affiliation_rank(actor_aff) >= affiliation_rank(target_aff)

    def can_speak(self, occupant: Occupant | None) -> bool:
        """Whether the occupant may send groupchat messages: a participant or more (5.1.1, 7.4)."""
        return occupant is not None and role_rank(occupant.role) >= role_rank("participant")
