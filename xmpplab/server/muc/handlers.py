"""The MUC service's event names: the routing table of XEP-0045, as in the server's own hooks.

The service names each stanza for what it is addressed to (``service``:
conference.example.com, ``room``: garden@conference.example.com,
``occupant``: garden@conference.example.com/romeo) and, for iq get and set,
for its payload::

    presence/occupant     message/room     message/occupant     iq/occupant
    iq-get/room/http://jabber.org/protocol/muc#admin:query
    iq-set/room/http://jabber.org/protocol/muc#owner:query
    iq-get/service/http://jabber.org/protocol/disco#items:query

A handler is ``handler(service, room, event)`` (``room`` is None only for
presence to a room that does not exist yet); it sends what it has to say
through the room and raises :class:`~xmpplab.errors.StanzaError` to refuse.
"""

HANDLERS: dict = {}


def on(*names):
    """Register a handler for one or more event names."""
    def register(handler):
        for name in names:
            HANDLERS[name] = handler
        return handler
    return register


def event_name(kind: str, target: str, stype: str | None, payload=None) -> str:
    if kind == "iq" and stype in ("get", "set") and payload is not None:
        ns, _, name = payload.tag[1:].partition("}") if payload.tag[:1] == "{" else ("", "", payload.tag)
        return f"iq-{stype}/{target}/{ns}:{name}"
    return f"{kind}/{target}"
