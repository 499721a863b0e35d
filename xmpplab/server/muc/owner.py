"""``muc#owner``: creating and configuring rooms (XEP-0045 10.1, 10.2) and destroying them (10.9).

Accepting the default configuration makes an *instant room* (10.1.2) and
unlocks it::

    C: <iq type='set' to='garden@conference.example.com' id='c1'>
         <query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query>
       </iq>
    S: <iq type='result' id='c1' from='garden@conference.example.com'/>

An ``iq get`` returns the configuration form (10.1.3); submitting it changes
the room, and the occupants are told with status 104, or 172/173 when the
room becomes non-anonymous/semi-anonymous (10.2.1)::

    S: <message type='groupchat' from='garden@conference.example.com' to='…'>
         <x xmlns='http://jabber.org/protocol/muc#user'><status code='104'/></x></message>
"""

from __future__ import annotations

from ...errors import StanzaError
from ...jid import JID, InvalidJID
from ...xml import element, sub
from .model import ALLOW_PM, NS_DATA, NS_OWNER, NS_ROOMCONFIG, NS_USER, WHOIS, affiliation_rank
from .room import Notice

#: The form (16.5.3): field var, RoomConfig attribute, field type, label.
FIELDS = [
    ("muc#roomconfig_roomname", "name", "text-single", "Natural-Language Room Name"),
    ("muc#roomconfig_roomdesc", "description", "text-single", "Short Description of Room"),
    ("muc#roomconfig_persistentroom", "persistent", "boolean", "Make Room Persistent"),
    ("muc#roomconfig_publicroom", "public", "boolean", "Make Room Publicly Searchable"),
    ("muc#roomconfig_membersonly", "members_only", "boolean", "Make Room Members-Only"),
    ("muc#roomconfig_allowinvites", "allow_invites", "boolean", "Allow Members to Invite Others"),
    ("muc#roomconfig_moderatedroom", "moderated", "boolean", "Make Room Moderated"),
    ("muc#roomconfig_changesubject", "change_subject", "boolean", "Allow Occupants to Change Subject"),
    ("muc#roomconfig_passwordprotectedroom", None, "boolean", "Password Required to Enter"),
    ("muc#roomconfig_roomsecret", "password", "text-private", "Password"),
    ("muc#roomconfig_whois", "whois", "list-single", "Who May Discover Real JIDs"),
    ("muc#roomconfig_allowpm", "allow_pm", "list-single", "Roles that May Send Private Messages"),
    ("muc#roomconfig_presencebroadcast", "presence_broadcast", "list-multi", "Roles Whose Presence Is Broadcast"),
    ("muc#roomconfig_maxusers", "max_users", "text-single", "Maximum Number of Occupants (0: no limit)"),
    ("muc#maxhistoryfetch", "history_length", "text-single", "Maximum Number of History Messages"),
]
#: Event whose handlers add fields of their own modules to the form, as (var, attribute, type, label)
#: tuples like FIELDS (the room archive adds muc#roomconfig_enablearchiving).
MORE_FIELDS = "muc/config-fields"
OPTIONS = {"whois": WHOIS, "allow_pm": ALLOW_PM, "presence_broadcast": ("moderator", "participant", "visitor")}


def _owner_only(room, event) -> None:
    if room.affiliation(event.from_) != "owner":
        raise StanzaError("forbidden", "only the room's owners may do this (10)")


def get_config(event):
    """10.1.3, 10.2: the configuration form, with the current values."""
    room = event.room
    _owner_only(room, event)
    query = element("query", ns=NS_OWNER)
    form = sub(query, "x", {"type": "form"}, ns=NS_DATA)
    sub(form, "title", text=f"Configuration for {room.jid}")
    sub(form, "instructions", text="Complete and submit this form to configure the room.")
    field = sub(form, "field", {"var": "FORM_TYPE", "type": "hidden"})
    sub(field, "value", text=NS_ROOMCONFIG)
    config = room.config
    for var, attr, ftype, label in fields(room):
        field = sub(form, "field", {"var": var, "type": ftype, "label": label})
        value = bool(config.password) if attr is None else getattr(config, attr)
        for option in OPTIONS.get(attr, ()):
            sub(sub(field, "option", {"label": option}), "value", text=option)
        for v in (value if isinstance(value, list) else [value]):
            text = ("1" if v else "0") if isinstance(v, bool) else str(v)
            sub(field, "value", text=text or None)
    event.reply(query)


def set_config(event):
    """An owner's set to muc#owner: submit or cancel the configuration form (10.2), or destroy the room (10.9)."""
    service, room = event.service, event.room
    _owner_only(room, event)
    children = [c for c in event.payload if isinstance(c.tag, str)]
    if len(children) != 1:
        raise StanzaError("bad-request", "send one <x xmlns='jabber:x:data'/> or one <destroy/>")
    child = children[0]
    if child.tag == f"{{{NS_OWNER}}}destroy":
        return destroy(service, room, event, child)
    if child.tag != f"{{{NS_DATA}}}x":
        raise StanzaError("bad-request", "expected a data form or <destroy/>")
    ftype = child.get("type")
    if ftype == "cancel":
        if room.locked:  # 10.1.1 step 6: cancelling the initial configuration destroys the room
            return destroy(service, room, event, element("destroy", ns=NS_OWNER))
        return event.reply()
    if ftype != "submit":
        raise StanzaError("bad-request", "submit the form (type='submit') or cancel it")
    new = parse_form(room.config, child, fields(room))
    apply_config(room, new, event)


def fields(room) -> list[tuple]:
    """The fields of this room's configuration form: XEP-0045's, then those the server's modules add."""
    return FIELDS + room.server.hooks.collect(MORE_FIELDS, room)


def parse_form(config, form, known=FIELDS):
    """The submitted form applied to a copy of the configuration (fields left out keep their values)."""
    values: dict[str, list[str]] = {}
    for field in form.findall(f"{{{NS_DATA}}}field"):
        values[field.get("var")] = [(v.text or "") for v in field.findall(f"{{{NS_DATA}}}value")]
    form_type = values.pop("FORM_TYPE", None)
    if form_type is not None and form_type[:1] != [NS_ROOMCONFIG]:
        raise StanzaError("bad-request", f"the form is not a room configuration ({NS_ROOMCONFIG})")
    new = config.copy()
    protected = None
    for var, attr, ftype, _label in known:
        if var not in values:
            continue
        given = values[var]
        first = given[0] if given else ""
        if ftype == "boolean":
            if first not in ("", "0", "1", "false", "true"):
                raise StanzaError("not-acceptable", f"{var} is a boolean: 1 or 0")
            value = first in ("1", "true")
            if attr is None:
                protected = value
                continue
        elif ftype == "list-multi":
            value = [v for v in given if v]
            bad = [v for v in value if v not in OPTIONS[attr]]
            if bad:
                raise StanzaError("not-acceptable", f"{var}: {', '.join(bad)} is not one of {', '.join(OPTIONS[attr])}")
        elif attr in ("max_users", "history_length"):
            try:
                value = 0 if first in ("", "none") else int(first)
            except ValueError:
                raise StanzaError("not-acceptable", f"{var} is a number") from None
            if value < 0:
                raise StanzaError("not-acceptable", f"{var} cannot be negative")
        else:
            value = first
            if attr in OPTIONS and value not in OPTIONS[attr]:
                raise StanzaError("not-acceptable", f"{var} is one of {', '.join(OPTIONS[attr])}")
        setattr(new, attr, value)
    if protected is False:
        new.password = ""
    elif protected is True and not new.password:
        raise StanzaError("not-acceptable", "a password-protected room needs a password (10.1.3)")
    return new


def apply_config(room, new, event) -> None:
    """10.2: the new configuration takes effect; the owner is answered, the occupants told (10.2.1)."""
    old = room.config
    codes = []
    if new.whois != old.whois:
        codes.append("172" if new.whois == "anyone" else "173")
    if any(getattr(new, f) != getattr(old, f) for f in vars(old) if f != "whois"):
        codes.append("104")
    room.config = new
    room.unlock()
    if new.members_only and not old.members_only:  # 10.2: non-members leave, with status 322
        for occupant in list(room.occupants.values()):
            if affiliation_rank(room.affiliation(occupant.bare)) < affiliation_rank("member"):
                room.remove(occupant, Notice(codes=("322",)))
    if new.presence_broadcast != old.presence_broadcast:
        for occupant in list(room.occupants.values()):
            was, now = occupant.role in old.presence_broadcast, occupant.role in new.presence_broadcast
            if now and not was:
                room.tell_others(occupant, occupant.presence)
            elif was and not now:
                room.tell_others(occupant, element("presence", {"type": "unavailable"}), force=True)
    while len(room.history) > max(new.history_length, 0):
        room.history.popleft()
    room.save()
    event.reply()
    if codes:
        msg = element("message", {"type": "groupchat", "from": str(room.jid)})
        x = sub(msg, "x", ns=NS_USER)
        for code in codes:
            sub(x, "status", {"code": code})
        room.broadcast(msg)
    room.vanish_if_empty()


def destroy(service, room, event, request) -> None:
    """10.9: everyone is removed with the <destroy/> (alternate venue, reason); then the room is gone."""
    el = element("destroy", ns=NS_USER)
    if request.get("jid"):
        try:
            el.set("jid", str(JID(request.get("jid"))))
        except InvalidJID:
            raise StanzaError("jid-malformed", "the alternate venue is not a valid JID") from None
    for name in ("reason", "password"):
        text = request.findtext(f"{{{NS_OWNER}}}{name}")
        if text is not None:
            sub(el, name, text=text)
    for occupant in list(room.occupants.values()):
        room.remove(occupant, Notice(destroy=el))
    service.forget(room)
    event.reply()


def setup(server):
    """Hook this part's handlers on the server's events (``muc/…``, see :mod:`.handlers`)."""
    server.hook(f"muc/iq-get/room/{NS_OWNER}:query", get_config)
    server.hook(f"muc/iq-set/room/{NS_OWNER}:query", set_config)
