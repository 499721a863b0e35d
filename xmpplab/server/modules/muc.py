"""XEP-0045 Multi-User Chat: a chat service at ``conference.<host>`` for every host the server serves.

Enter a room by sending presence to ``room@conference.example.com/nick``; the
first to enter creates it and owns it::

    C: <presence to='garden@conference.example.com/romeo'><x xmlns='http://jabber.org/protocol/muc'/></presence>
    S: <presence from='garden@conference.example.com/romeo' to='romeo@example.com/orchard'>
         <x xmlns='http://jabber.org/protocol/muc#user'>
           <status code='201'/><item affiliation='owner' jid='romeo@example.com/orchard' role='moderator'/>
           <status code='110'/></x></presence>
    S: <message from='garden@conference.example.com' to='romeo@example.com/orchard' type='groupchat'>
         <subject/></message>
    C: <iq type='set' to='garden@conference.example.com' id='c1'>
         <query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>
    S: <iq type='result' id='c1' from='garden@conference.example.com' to='romeo@example.com/orchard'/>

The service lives in :mod:`xmpplab.server.muc` (rooms, occupants, messages,
admin and owner use cases, disco); this module plugs it into the server: one component per host, listed in
the host's disco#items as "Chatrooms" (the ``disco-items/host`` event), and the service's own events
(``muc/…``, see :mod:`xmpplab.server.muc.handlers`) hooked on the server like any other. Presence sent
to a room is directed presence (RFC 6121 4.6), which the presence module tracks, so an occupant
whose client goes away leaves its rooms (XEP-0045 7.14, RFC 6121 4.6.3).

The slot :data:`SERVICES` (``server.muc`` in a notebook) maps each service domain to its
:class:`~xmpplab.server.muc.MUCService`; ``server.muc["conference.example.com"]["garden@conference.example.com"]``
is a room.
"""

from ..muc import MUCService, handlers
from ..slots import Slot

requires = ("presence",)  # an occupant whose client goes away leaves its rooms (4.6.3)

#: The MUC services of a server: service domain -> MUCService.
SERVICES: Slot[dict] = Slot("muc services")


def setup(server):
    """Start one MUC service at ``conference.<host>`` for each host and list it in the host's disco#items."""
    services = SERVICES.put(server, {})
    server.provide("muc", services)
    handlers.setup(server)
    parents = {}
    for host in server.hosts:
        domain = f"conference.{host}"
        if domain in server.hosts or domain in server.components:
            continue
        service = MUCService(server, domain)
        services[domain] = service
        parents[domain] = host
        server.add_component(domain, service)
    server.hook("disco-items/host", lambda query: [(domain, services[domain].name)
                                                   for domain, host in parents.items() if host == query.host])
