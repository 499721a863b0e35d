"""The MUC service's event names: the routing table of XEP-0045, fired on the server's own hooks.

The service names each stanza for what it is addressed to (``service``:
conference.example.com, ``room``: garden@conference.example.com,
``occupant``: garden@conference.example.com/romeo) and, for iq get and set,
for its payload, under ``muc/``::

    muc/presence/occupant     muc/message/room     muc/message/occupant     muc/iq/occupant
    muc/iq-get/room/http://jabber.org/protocol/muc#admin:query
    muc/iq-set/room/http://jabber.org/protocol/muc#owner:query
    muc/iq-get/service/http://jabber.org/protocol/disco#items:query

Modules beyond XEP-0045 (the room archive, XEP-0313) hook three more: ``muc/groupchat-accepted``
(a :class:`~.model.Groupchat` the room is about to send to its occupants), ``muc/room-features`` and
``muc/config-fields`` (a room; handlers return disco features and configuration fields), and
``muc/room-gone`` (a room destroyed, or temporary and empty).

Each part of the service hooks its names in its ``setup(server)``, as the
server's modules do. A handler gets a :class:`MUCEvent`: a
:class:`~xmpplab.server.events.StanzaEvent` with the ``service`` and the
``room`` (None only for presence to a room that does not exist yet); it sends
what it has to say through the room and raises
:class:`~xmpplab.errors.StanzaError` to refuse, which becomes an error ``by``
the room (:meth:`MUCEvent.error`). One handler serves each name: it has
served the stanza whatever it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..events import StanzaEvent
from . import admin, disco, messages, occupants, owner

PREFIX = "muc/"


def setup(server) -> None:
    """Hook every part of the service on ``server``'s events."""
    for part in (occupants, messages, admin, owner, disco):
        part.setup(server)


def event_name(kind: str, target: str, stype: str | None, payload=None) -> str:
    """``muc/iq-get/room/<namespace>:<element>`` for an iq get or set, else ``muc/<kind>/<target>``."""
    if kind == "iq" and stype in ("get", "set") and payload is not None:
        ns, _, name = payload.tag[1:].partition("}") if payload.tag[:1] == "{" else ("", "", payload.tag)
        return f"{PREFIX}iq-{stype}/{target}/{ns}:{name}"
    return f"{PREFIX}{kind}/{target}"


@dataclass(slots=True)
class MUCEvent(StanzaEvent):
    """A stanza to a MUC service, a room or an occupant, with the service and the room it found."""

    service: object = None
    room: object = None

    def error(self, condition: str, text: str | None = None, type: str | None = None):
        """An error reply ``by`` the room or the service (XEP-0045's examples); never to an error."""
        self.service.error(self, condition, text, type)
