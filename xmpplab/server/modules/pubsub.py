"""XEP-0060 Publish-Subscribe: a pubsub service at ``pubsub.<host>`` for every host the server serves.

A publisher creates a node and publishes items; the service sends each
subscriber the item in a ``<message/>`` (7.1.2.1), so one publish reaches every
subscriber without the publisher knowing who they are::

    C: <iq type='set' to='pubsub.example.com' id='c1'>
         <pubsub xmlns='http://jabber.org/protocol/pubsub'><create node='sensors'/></pubsub></iq>
    S: <iq type='result' from='pubsub.example.com' to='juliet@example.com/balcony' id='c1'/>
    C: <iq type='set' to='pubsub.example.com' id='s1'>                                  (romeo, 6.1)
         <pubsub xmlns='http://jabber.org/protocol/pubsub'>
           <subscribe node='sensors' jid='romeo@example.net'/></pubsub></iq>
    C: <iq type='set' to='pubsub.example.com' id='p1'>                                  (juliet, 7.1)
         <pubsub xmlns='http://jabber.org/protocol/pubsub'>
           <publish node='sensors'><item id='r1'><reading xmlns='urn:example:sensor' celsius='21.5'/></item></publish>
         </pubsub></iq>
    S: <message from='pubsub.example.com' to='romeo@example.net' type='headline'>
         <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='sensors'>
           <item id='r1'><reading xmlns='urn:example:sensor' celsius='21.5'/></item></items></event></message>

The service lives in :mod:`xmpplab.server.pubsub`; this module plugs it in: one
component per host, listed in the host's disco#items (the ``disco-items/host``
event), nodes and items kept in the server's database. The limits
``pubsub_nodes_per_account``, ``pubsub_item_bytes`` and ``pubsub_items_per_node``
(:class:`~xmpplab.server.limits.Limits`) bound what one account may keep.

The slot :data:`SERVICES` (``server.pubsub`` in a notebook) maps each service domain to its
:class:`~xmpplab.server.pubsub.PubSubService`; ``server.pubsub["pubsub.example.com"]["sensors"]`` is a node.
"""

from ..pubsub import PubSubComponent, PubSubService
from ..slots import Slot

#: The pubsub services of a server: service JID -> PubSubService.
SERVICES: Slot[dict] = Slot("pubsub services")


def setup(server):
    """Start one pubsub service at ``pubsub.<host>`` for each host and list it in the host's disco#items."""
    services = SERVICES.put(server, {})
    server.provide("pubsub", services)
    parents = {}
    for host in server.hosts:
        domain = f"pubsub.{host}"
        if domain in server.hosts or domain in server.components:
            continue
        service = services[domain] = PubSubService(server, domain)
        parents[domain] = host
        server.add_component(domain, PubSubComponent(service))
    server.hook("disco-items/host", lambda query: [(domain, services[domain].name)
                                                   for domain, host in parents.items() if host == query.host])
    server.hook("account-removed", lambda bare: forget(services, bare))


def forget(services: dict, bare) -> None:
    """An account was removed: drop its affiliations and subscriptions on every service."""
    for service in services.values():
        service.forget(bare)
