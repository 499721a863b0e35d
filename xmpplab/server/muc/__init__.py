"""XEP-0045 Multi-User Chat: the service behind ``conference.<host>`` (see also :mod:`xmpplab.server.modules.muc`).

One file per part of the XEP:

* :mod:`.model`     roles, affiliations, the room configuration, occupants (section 5)
* :mod:`.room`      a room: who is in it, how it tells them, history and subject (7.2)
* :mod:`.occupants` presence: enter, update, change nick, exit, probe (7.2, 7.6, 7.7, 7.14, 11.1)
* :mod:`.messages`  groupchat, subject, private messages, invitations, iqs via occupants (7.4, 7.5, 7.8, 8.1)
* :mod:`.admin`     roles and affiliations: kick, voice, ban, members (8, 9, 10.3-10.8)
* :mod:`.owner`     configuration, instant rooms, destruction (10.1, 10.2, 10.9)
* :mod:`.disco`     the service and its rooms in service discovery (6)
* :mod:`.service`   the component: finds the room, dispatches, stores persistent rooms
"""

from .model import AFFILIATIONS, NS_ADMIN, NS_MUC, NS_OWNER, NS_USER, ROLES, STATUS, Affiliation, Occupant, RoomConfig
from .room import Room
from .service import LOCK_SECONDS, MUCService

__all__ = ["AFFILIATIONS", "Affiliation", "LOCK_SECONDS", "MUCService", "NS_ADMIN", "NS_MUC", "NS_OWNER",
           "NS_USER", "Occupant", "ROLES", "Room", "RoomConfig", "STATUS"]
