"""Service discovery (XEP-0030) of the MUC service and its rooms: XEP-0045 6.1 to 6.5 and 7.12.

The service says what it is and lists its public rooms (6.2, 6.3)::

    C: <iq type='get' to='conference.example.com' id='d1'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>
    S: <iq type='result' …><query xmlns='http://jabber.org/protocol/disco#items'>
         <item jid='garden@conference.example.com' name='The Capulets' garden'/></query></iq>

A room describes itself with its identity, the features of its
configuration (``muc_public``, ``muc_semianonymous``, ``muc_temporary``...)
and a ``muc#roominfo`` form (6.4).
"""

from __future__ import annotations

from ...errors import StanzaError
from ...xml import NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, element, sub
from .model import NS_DATA, NS_MUC, NS_ROOMINFO, NS_STABLE_ID

RESERVED_NICK_NODE = "x-roomuser-item"  # 7.12
#: Event whose handlers add features of their own modules to a room's disco#info (the room archive's)
MORE_FEATURES = "muc/room-features"


def room_features(room) -> list[str]:
    """The disco#info features of a room, from its configuration (6.4)."""
    c = room.config
    return [NS_MUC, NS_STABLE_ID,
            "muc_public" if c.public else "muc_hidden",
            "muc_membersonly" if c.members_only else "muc_open",
            "muc_moderated" if c.moderated else "muc_unmoderated",
            "muc_nonanonymous" if c.whois == "anyone" else "muc_semianonymous",
            "muc_passwordprotected" if c.password else "muc_unsecured",
            "muc_persistent" if c.persistent else "muc_temporary"]


def service_info(event):
    """6.2: identity conference/text and the muc feature."""
    service = event.service
    node = event.payload.get("node")
    if node:
        raise StanzaError("item-not-found", f"no node {node!r} here")
    query = element("query", ns=NS_DISCO_INFO)
    sub(query, "identity", {"category": "conference", "type": "text", "name": service.name})
    for var in sorted((NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC, NS_STABLE_ID, NS_PING)):
        sub(query, "feature", {"var": var})
    event.reply(query)


def service_items(event):
    """6.3: the public rooms (not hidden ones, nor those still locked, which do not officially exist)."""
    service = event.service
    if event.payload.get("node"):
        raise StanzaError("item-not-found", f"no node {event.payload.get('node')!r} here")
    query = element("query", ns=NS_DISCO_ITEMS)
    for jid, r in sorted(service.rooms.items()):
        if r.config.public and not r.locked:
            sub(query, "item", {"jid": jid, "name": r.config.name or r.jid.local})
    event.reply(query)


def room_info(event):
    """6.4: identity, features and room information; 7.12: the asker's reserved nickname."""
    room = event.room
    node = event.payload.get("node")
    query = element("query", ns=NS_DISCO_INFO)
    if node == RESERVED_NICK_NODE:
        query.set("node", node)
        nick = room.reserved_nick(event.from_.bare)
        if nick:
            sub(query, "identity", {"category": "conference", "type": "text", "name": nick})
        event.reply(query)
        return
    if node:
        raise StanzaError("item-not-found", f"no node {node!r} here")
    sub(query, "identity", {"category": "conference", "type": "text", "name": room.config.name or room.jid.local})
    for var in [NS_DISCO_INFO, NS_DISCO_ITEMS] + room_features(room) + event.server.hooks.collect(MORE_FEATURES, room):
        sub(query, "feature", {"var": var})
    form = sub(query, "x", {"type": "result"}, ns=NS_DATA)
    info = [("FORM_TYPE", NS_ROOMINFO, "hidden"),
            ("muc#roominfo_description", room.config.description, None),
            ("muc#roominfo_subject", room.subject, None),
            ("muc#roominfo_occupants", str(len(room.occupants)), None),
            ("muc#roomconfig_changesubject", "1" if room.config.change_subject else "0", None)]
    for var, value, ftype in info:
        sub(sub(form, "field", {"var": var, "type": ftype}), "value", text=value or None)
    event.reply(query)


def room_items(event):
    """6.5: the occupant list is private by default: an empty list."""
    event.reply(element("query", ns=NS_DISCO_ITEMS))


def pong(event):
    """XEP-0199 ping (XEP-0410 pings the room to check it is still there)."""
    event.reply()


def setup(server):
    """Hook this part's handlers on the server's events (``muc/…``, see :mod:`.handlers`)."""
    server.hook(f"muc/iq-get/service/{NS_DISCO_INFO}:query", service_info)
    server.hook(f"muc/iq-get/service/{NS_DISCO_ITEMS}:query", service_items)
    server.hook(f"muc/iq-get/room/{NS_DISCO_INFO}:query", room_info)
    server.hook(f"muc/iq-get/room/{NS_DISCO_ITEMS}:query", room_items)
    server.hook(f"muc/iq-get/service/{NS_PING}:ping", pong)
    server.hook(f"muc/iq-get/room/{NS_PING}:ping", pong)
