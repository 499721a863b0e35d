"""XEP-0313 Message Archive Management for rooms: a room keeps its conversation, and anyone allowed in reads it back.

The archive of a room is at the room's bare JID (XEP-0313 §3.3.2). The room keeps each
groupchat message it accepts with a ``<body/>`` once (§6.1.2; not private messages, not
those marked ``<no-store/>``, XEP-0334), and tells the occupants where with a XEP-0359
stanza id ``by`` the room (§3.5)::

    <message from='garden@conference.example.com/romeo' to='juliet@example.com/balcony' type='groupchat'>
      <body>Hi</body>
      <stanza-id xmlns='urn:xmpp:sid:0' by='garden@conference.example.com' id='3a-5f1c2a9e'/>
    </message>

A client queries the room as it queries its account (§4), with the same filters (§4.1; here
``with`` is an occupant JID, ``garden@conference.example.com/romeo``, or, for those who may
see real JIDs, an account) and XEP-0059 pages; the results come from the room, each message
from the occupant JID of its sender, without ``to`` (§6.1.2)::

    C: <iq type='set' to='garden@conference.example.com' id='r1'><query xmlns='urn:xmpp:mam:2' queryid='g27'/></iq>
    S: <message from='garden@conference.example.com' to='juliet@example.com/balcony'>
         <result xmlns='urn:xmpp:mam:2' queryid='g27' id='3a-5f1c2a9e'><forwarded xmlns='urn:xmpp:forward:0'>
           <delay xmlns='urn:xmpp:delay' stamp='2026-12-05T10:00:00Z'/>
           <message xmlns='jabber:client' from='garden@conference.example.com/romeo' type='groupchat' id='m1'>
             <body>Hi</body></message></forwarded></result></message>
    S: <iq type='result' from='garden@conference.example.com' id='r1'><fin xmlns='urn:xmpp:mam:2' complete='true'>…

Who may read it (§6.1.2): whoever may enter the room at the time of the query, so not an
outcast, and in a members-only room only members, admins and owners; anyone else gets
``forbidden``. The sender's real JID (a muc#user ``<x/>`` with the item's ``jid``) is shown
only where the reader may see real JIDs (a non-anonymous room, or a moderator, admin or owner
of a semi-anonymous one); a ``<x/>`` the sender put in the message itself is never kept (§8.4).

An owner may switch archiving off with the configuration field ``muc#roomconfig_enablearchiving``
(as Prosody's mod_muc_mam); it is on by default. A room that does not archive neither advertises
``urn:xmpp:mam:2`` nor adds stanza ids, and answers queries ``service-unavailable``; its messages
cost nothing more than without this module.

The messages are in the account archive's table (the ``mam`` module), so a room's archive obeys
the same retention (``Archive(retention_days=…)``) and maximum (``max_per_account``, here per room)
and survives restarts with the persistent room; a room that is destroyed (or a temporary room that
empties, or is gone after a restart) takes its archive with it.
"""

from __future__ import annotations

import copy
from xml.sax.saxutils import quoteattr

from lxml import etree

from ...errors import StanzaError
from ...jid import JID
from ...ns import NS_MAM, NS_SID
from ...xml import NS_CLIENT, serialize
from ..muc.disco import MORE_FEATURES
from ..muc.model import ACCEPTED, GONE, NS_USER, affiliation_rank
from ..muc.owner import MORE_FIELDS
from .mam import ARCHIVE, NS_MAM_EXTENDED, query_form
from .muc import SERVICES

requires = ("muc", "mam")

STANZA_ID = f"{{{NS_SID}}}stanza-id"
USER_X = f"{{{NS_USER}}}x"
FORGEABLE = frozenset({USER_X, STANZA_ID})
BODY = "{jabber:client}body"
SUBJECT = "{jabber:client}subject"
NO_STORE = ("{urn:xmpp:hints}no-store", "{urn:xmpp:hints}no-permanent-store")
FIELD = ("muc#roomconfig_enablearchiving", "archiving", "boolean", "Archive the room's messages (XEP-0313)")


def setup(server):
    """Archive the messages of every room that archives; answer queries at each room (§4); advertise it (§7)."""
    server.hook(ACCEPTED, keep)
    server.hook(GONE, forget)
    server.hook(MORE_FEATURES, lambda room: [NS_MAM, NS_MAM_EXTENDED, NS_SID] if room.config.archiving else [])
    server.hook(MORE_FIELDS, lambda room: [FIELD])
    server.hook(f"muc/iq-get/room/{NS_MAM}:query", form)
    server.hook(f"muc/iq-set/room/{NS_MAM}:query", query)
    server.hook(f"muc/iq-get/room/{NS_MAM}:metadata", metadata)
    server.hook("server-started", drop_orphans)


# ---------------------------------------------------------------------------- archiving (§3.5, §6.1.2)
def keep(accepted) -> None:
    """A groupchat message the room accepted: keep it once, with the sender's real JID, and stamp its stanza id."""
    room, msg = accepted.room, accepted.message
    if not room.config.archiving:
        return
    body = forged = False
    for child in msg:  # one pass over the children: this runs for every message of an archiving room
        tag = child.tag
        if tag in (BODY, SUBJECT):  # a subject change is kept too (§6.1.2)
            body = True
        elif tag in NO_STORE:
            return
        elif tag in FORGEABLE:
            forged = True
    if not body:
        return
    owner = str(room.jid)
    kept = msg
    if forged:  # §8.4, XEP-0359 §4: what a client put there is never passed off as the room's
        kept = copy.deepcopy(msg)
        for child in kept.findall(STANZA_ID) + kept.findall(USER_X):
            kept.remove(child)
        for old in msg.findall(STANZA_ID):
            if old.get("by") == owner:
                msg.remove(old)
    # the sender's real JID, shown to readers who may see it (§6.1.2), spliced into the text as kept
    real = str(accepted.real)
    x = (f'<x xmlns="{NS_USER}"><item affiliation="{room.affiliation(accepted.real)}" jid={quoteattr(real)} '
         f'role="{accepted.sender.role or "none"}"/></x>')
    text = serialize(kept, NS_CLIENT)
    cut = text.rfind("</message>")
    archive_id = ARCHIVE.of(room.server).store(owner, msg.get("from"), kept, text[:cut] + x + text[cut:])
    etree.SubElement(msg, STANZA_ID, {"by": owner, "id": archive_id}, nsmap={None: NS_SID})


def forget(room) -> None:
    """A room gone: its archive goes with it."""
    ARCHIVE.of(room.server).drop(str(room.jid))


def drop_orphans(server) -> None:
    """At start: the archives of rooms that did not come back (temporary rooms do not outlive a restart) go."""
    for domain, service in SERVICES.of(server).items():
        for (owner,) in server.storage.rows("SELECT DISTINCT owner FROM mam WHERE owner LIKE ?", (f"%@{domain}",)):
            if owner.endswith(f"@{domain}") and owner not in service.rooms:
                ARCHIVE.of(server).drop(owner)


# ---------------------------------------------------------------------------- queries (§4)
def allowed(room, event) -> None:
    """§6.1.2: refuse a reader who may not enter the room now; a room that does not archive serves no queries."""
    if not room.config.archiving:
        raise StanzaError("service-unavailable", "this room does not archive its messages "
                                                 "(muc#roomconfig_enablearchiving)")
    affiliation = room.affiliation(event.from_)
    if affiliation == "outcast":
        raise StanzaError("forbidden", "you are banned from this room, and so from its archive (XEP-0313 §6.1.2)")
    if room.config.members_only and affiliation_rank(affiliation) < affiliation_rank("member"):
        raise StanzaError("forbidden", "only members may read the archive of a members-only room (XEP-0313 §6.1.2)")


def form(event) -> None:
    """§4.1.5: the fields a query of the room's archive may use."""
    allowed(event.room, event)
    event.reply(query_form())


def query(event) -> None:
    """§4: the room's matching messages, from the room, then the iq result with ``<fin/>``."""
    room = event.room
    allowed(room, event)
    sees = room.sees_jids(room.occupant_of(event.from_), event.from_)
    archive = ARCHIVE.of(room.server)
    archive.answer(event, str(room.jid), room.send, str(event.from_), from_=str(room.jid),
                   matching=lambda other: _with(room, other, sees), shown=None if sees else _anonymous)


def metadata(event) -> None:
    """§5: the first and last message of the room's archive, for a reader who may read it."""
    allowed(event.room, event)
    ARCHIVE.of(event.room.server).metadata(event, str(event.room.jid))


def _with(room, other: JID, sees: bool) -> tuple[str, list]:
    """§4.1.1 in a room's archive: an occupant JID matches what it said; an account, only for who sees real JIDs."""
    if other.bare == room.jid:
        return ("with_bare = ?", [str(other)]) if other.resource is not None else ("1", [])
    if not sees:
        return "0", []  # who sent what under which real JID is not this reader's to know (§4.1.1)
    real = f' jid="{other}"' if other.resource is not None else f' jid="{other}/'
    return "instr(xml, ?) > 0", [real]


def _anonymous(message):
    """A kept message for a reader who may not see real JIDs: without the sender's muc#user ``<x/>``."""
    for x in message.findall(USER_X):
        message.remove(x)
    return message
