"""The MUC service: one component domain (``conference.example.com``) and its rooms (XEP-0045).

The server hands the service every stanza addressed to its domain, from
local clients, from the server itself and from federation. The service finds
the room, names the event (:mod:`.handlers`) and fires it on the server's hooks; a
:class:`~xmpplab.errors.StanzaError` becomes the error reply, ``by`` the room
(and for presence with the ``<x xmlns='http://jabber.org/protocol/muc'/>``
the XEP's examples carry)::

    <presence from='garden@conference.example.com/romeo' to='…' type='error'>
      <x xmlns='http://jabber.org/protocol/muc'/>
      <error by='garden@conference.example.com' type='cancel'><conflict xmlns='…'/></error>
    </presence>

Persistent rooms (``muc#roomconfig_persistentroom``) are stored with their
configuration, subject and affiliations, and come back when the server
starts again with the same database.
"""

from __future__ import annotations

import logging

from ...errors import StanzaError, error_reply
from ...jid import JID
from ...xml import element
from .handlers import PREFIX, MUCEvent, event_name
from .model import GONE, NS_MUC, Affiliation, RoomConfig
from .room import Room

log = logging.getLogger("xmpplab.server.muc")

#: XEP-0045 10.1.1: a new room is locked until its owner configures it. The XEP sets no time
#: limit ("an implementation MAY set a timeout"); like Prosody, the lock lifts after 5 minutes.
LOCK_SECONDS = 300.0


class MUCService:
    """The rooms of one MUC service; ``service(event)`` is its component handler."""

    def __init__(self, server, domain: str, *, name: str = "Chatrooms", lock_rooms: bool = True,
                 lock_seconds: float = LOCK_SECONDS, default_config: RoomConfig | None = None):
        self.server = server
        self.domain = JID(domain).domain
        self.name = name
        self.lock_rooms = lock_rooms
        self.lock_seconds = lock_seconds
        self.default_config = default_config or RoomConfig()
        self.rooms: dict[str, Room] = {}
        self.load()

    def __repr__(self) -> str:
        return f"<MUCService {self.domain}: {len(self.rooms)} rooms>"

    def __getitem__(self, jid) -> Room:
        return self.rooms[str(JID(str(jid)).bare)]

    def get(self, jid) -> Room | None:
        """The room at this JID (bare), or None."""
        return self.rooms.get(str(JID(str(jid)).bare))

    # rooms --------------------------------------------------------------------
    def create_room(self, jid: JID, owner: JID | None = None) -> Room:
        """10.1.1: a new room, locked, its creator the owner."""
        room = Room(self, jid.bare, self.default_config.copy(),
                    lock_for=self.lock_seconds if self.lock_rooms else 0)
        if owner is not None:
            room.set_affiliation(str(owner.bare), "owner")
        self.rooms[str(room.jid)] = room
        return room

    def forget(self, room: Room) -> None:
        """The room is gone (destroyed, or temporary and empty), in memory and in storage."""
        if self.rooms.get(str(room.jid)) is room:
            del self.rooms[str(room.jid)]
        self.server.storage.delete_muc_room(str(room.jid))
        self.server.hooks.collect(GONE, room)  # the room archive forgets it too

    def save(self, room: Room) -> None:
        """Store a persistent room with its affiliations; a room that is no longer persistent is forgotten."""
        storage = self.server.storage
        key = str(room.jid)
        if self.rooms.get(key) is not room:
            return
        if not room.config.persistent:
            storage.delete_muc_room(key)
            return
        storage.put_muc_room(key, room.config.to_json(), room.subject, room.subject_from, room.subject_time)
        storage.put_muc_affiliations(key, [(jid, a.affiliation, a.nick, a.reason)
                                           for jid, a in sorted(room.affiliations.items())])

    def load(self) -> None:
        """Read the stored rooms of this service (once, at start); one that cannot be read is logged and skipped."""
        storage = self.server.storage
        for key, config, subject, subject_from, subject_time in storage.muc_rooms(self.domain):
            try:
                room = Room(self, JID(key), RoomConfig.from_json(config))
            except Exception:
                log.exception("the stored room %s could not be read; skipped", key)
                continue
            room.subject, room.subject_from, room.subject_time = subject or "", subject_from, subject_time
            for jid, aff, nick, reason in storage.muc_affiliations(key):
                room.affiliations[jid] = Affiliation(aff, nick, reason)
            self.rooms[key] = room

    # stanzas --------------------------------------------------------------------
    def __call__(self, event) -> None:
        """The component handler: every stanza to ``conference.example.com`` and its rooms."""
        if event.from_ is None or event.to is None:
            return
        to = event.to
        target = "service" if to.local is None else ("room" if to.resource is None else "occupant")
        stype = event.stanza.get("type")
        hooks = self.server.hooks
        name = event_name(event.kind, target, stype, event.payload)
        if not hooks.has(name):
            name = f"{PREFIX}{event.kind}/{target}"
        room = self.rooms.get(str(to.bare)) if target != "service" else None
        try:
            if room is None and target != "service" and event.kind != "presence":
                raise StanzaError("item-not-found", f"there is no room {to.bare} (7.2.11, 17.2)")
            if not hooks.has(name):
                self.unhandled(event, target)
                return
        except StanzaError as exc:
            self.error(event, exc.condition, exc.text, exc.type)
            return
        # a StanzaError from the handler becomes MUCEvent.error, a bug internal-server-error (Hooks.fire)
        hooks.fire(name, MUCEvent(event.server, event.stanza, event.kind, event.from_, event.to, event.origin,
                                  event.extra, service=self, room=room))

    def unhandled(self, event, target: str) -> None:
        """RFC 6120 8.4: an iq nobody serves; messages to the service itself; presence is dropped."""
        stype = event.stanza.get("type")
        if event.kind == "iq" and stype in ("get", "set"):
            raise StanzaError("service-unavailable")
        if event.kind == "message" and (stype or "normal") in ("normal", "chat"):
            raise StanzaError("service-unavailable", "this is a chat service: join a room and talk there")

    def error(self, event, condition: str, text: str | None = None, type: str | None = None) -> None:
        """An error reply, ``by`` the room or the service; never an error to an error (RFC 6120 8.3.1)."""
        stanza = event.stanza
        if stanza.get("type") in ("error", "result"):
            return
        to = event.to
        by = str(to.bare) if to.local is not None else self.domain
        reply = error_reply(stanza, condition, text, type, by=by)
        if event.kind == "presence":
            reply.insert(0, element("x", ns=NS_MUC))  # as in every error example of 7.2
        self.server.route(reply)
