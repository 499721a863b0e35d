"""The nouns of XEP-0045: roles, affiliations, a room's configuration, an occupant.

Roles (XEP-0045 5.1) last as long as a visit; affiliations (5.2) are kept
with the room, per bare JID::

    role:         none < visitor < participant < moderator
    affiliation:  outcast < none < member < admin < owner

The default role follows the affiliation (5.1.2): owners and admins enter as
moderators, members and others as participants, except that nobody without
an affiliation enters a members-only room and they enter a moderated room as
visitors.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field, fields

from ...jid import JID

NS_MUC = "http://jabber.org/protocol/muc"
NS_USER = "http://jabber.org/protocol/muc#user"
NS_ADMIN = "http://jabber.org/protocol/muc#admin"
NS_OWNER = "http://jabber.org/protocol/muc#owner"
NS_ROOMCONFIG = "http://jabber.org/protocol/muc#roomconfig"
NS_ROOMINFO = "http://jabber.org/protocol/muc#roominfo"
NS_STABLE_ID = "http://jabber.org/protocol/muc#stable_id"
NS_DATA = "jabber:x:data"
NS_CONFERENCE = "jabber:x:conference"  # XEP-0249; still added to mediated invitations for old clients
NS_HINTS = "urn:xmpp:hints"

#: Events for modules beyond XEP-0045 (see :mod:`.handlers`): a groupchat message accepted, a room gone.
ACCEPTED = "muc/groupchat-accepted"
GONE = "muc/room-gone"

ROLES = {"none": 0, "visitor": 1, "participant": 2, "moderator": 3}
AFFILIATIONS = {"outcast": -1, "none": 0, "member": 1, "admin": 2, "owner": 3}
WHOIS = ("moderators", "anyone")  # muc#roomconfig_whois: who sees real JIDs (semi- or non-anonymous)
ALLOW_PM = ("anyone", "participants", "moderators", "none")  # muc#roomconfig_allowpm

#: Status codes (XEP-0045 section 16.6, the registry). Only the ones this service sends.
STATUS = {
    "100": "the room is non-anonymous: everyone sees your real JID",
    "104": "the room's configuration changed (not privacy-related)",
    "110": "this presence is about you",
    "172": "the room is now non-anonymous",
    "173": "the room is now semi-anonymous",
    "201": "a new room was created",
    "301": "banned",
    "303": "nickname changed",
    "307": "kicked",
    "321": "removed: affiliation changed",
    "322": "removed: the room is now members-only",
    "333": "removed by the service because of an error",
}


@dataclass
class RoomConfig:
    """A room's configuration: the ``muc#roomconfig`` form of XEP-0045 section 16.5.3.

    The defaults make a temporary, public, open, unmoderated, semi-anonymous
    room without a password, as Prosody's do (except ``public``: the lab lists
    its rooms, so that disco#items shows them).
    """

    name: str = ""                     # muc#roomconfig_roomname
    description: str = ""              # muc#roomconfig_roomdesc
    persistent: bool = False           # muc#roomconfig_persistentroom: kept when empty, and stored
    public: bool = True                # muc#roomconfig_publicroom: listed in disco#items
    members_only: bool = False         # muc#roomconfig_membersonly
    moderated: bool = False            # muc#roomconfig_moderatedroom: newcomers are visitors
    password: str = ""                 # muc#roomconfig_roomsecret (with passwordprotectedroom)
    whois: str = "moderators"          # muc#roomconfig_whois: moderators or anyone
    change_subject: bool = False       # muc#roomconfig_changesubject: participants may set it
    allow_invites: bool = False        # muc#roomconfig_allowinvites: members may invite (members-only rooms)
    allow_pm: str = "anyone"           # muc#roomconfig_allowpm
    max_users: int = 0                 # muc#roomconfig_maxusers (0: no limit)
    presence_broadcast: list = field(default_factory=lambda: ["moderator", "participant", "visitor"])
    history_length: int = 20           # muc#maxhistoryfetch
    archiving: bool = True             # muc#roomconfig_enablearchiving: the room archive (XEP-0313) keeps messages

    def to_json(self) -> str:
        """The configuration as JSON, for storage of a persistent room."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RoomConfig:
        """A configuration from stored JSON; fields this version does not know are left out."""
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def copy(self) -> RoomConfig:
        """A copy that can be changed without changing this one."""
        return copy.deepcopy(self)


@dataclass
class Affiliation:
    """A bare JID's long-lived standing in one room (XEP-0045 5.2), with its reserved nickname."""

    affiliation: str
    nick: str | None = None
    reason: str | None = None


@dataclass(eq=False)
class Occupant:
    """Someone in a room under one nickname, with one or more sessions (XEP-0045 7.2.8).

    ``sessions`` maps each real full JID in the room under this nick to the
    last presence it sent (with the MUC extensions removed): a user may join
    the same nick from several resources. The first session is the primary
    one, whose presence the others see.
    """

    nick: str
    bare: JID
    role: str = "participant"
    sessions: dict = field(default_factory=dict)

    @property
    def jid(self) -> str | None:
        """The primary session's real full JID."""
        return next(iter(self.sessions), None)

    @property
    def presence(self):
        """The primary session's last presence (None when no session is left)."""
        return self.sessions[self.jid] if self.sessions else None

    def __repr__(self) -> str:
        return f"<Occupant {self.nick} {self.role} {', '.join(self.sessions)}>"


def role_rank(role: str | None) -> int:
    """A role as a number, to compare roles (``None`` is ``none``)."""
    return ROLES[role or "none"]


def affiliation_rank(affiliation: str | None) -> int:
    """An affiliation as a number, to compare them (``None`` is ``none``; outcast is lowest)."""
    return AFFILIATIONS[affiliation or "none"]


@dataclass(slots=True)
class Groupchat:
    """A groupchat message the room accepted (XEP-0045 7.4), before it goes to the occupants.

    ``message`` is the copy the occupants get (from the sender's occupant JID, no ``to``): a handler
    may add to it (the room archive adds its XEP-0359 stanza id). ``real`` is the sender's full JID.
    """

    room: object
    sender: object
    message: object
    real: object
