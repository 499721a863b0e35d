"""XEP-0060 Publish-Subscribe: the service behind ``pubsub.<host>`` (see also :mod:`xmpplab.server.modules.pubsub`).

* :mod:`.model`     nodes, items, affiliations, the node configuration, the namespaces (4, 17.4.4)
* :mod:`.service`   one service's nodes and its use cases: create, configure, delete, publish,
                    retract, subscribe, retrieve (6, 7, 8), stored in the server's database
* :mod:`.wire`      the iqs on the wire and their answers, the routing table :data:`~.wire.ACTIONS`
* :mod:`.component` the service at its own domain, with service discovery (5)
* :mod:`.pep`       personal eventing (XEP-0163): a service at every account's bare JID, sending to the
                    contacts whose entity capabilities (:mod:`.caps`, XEP-0115) ask for a node
"""

from .component import PubSubComponent
from .model import AFFILIATIONS, NS, NS_ERRORS, NS_EVENT, NS_OWNER, Item, Node, NodeConfig, PubSubError
from .service import PubSubService
from .wire import ACTIONS, handle_iq

__all__ = ["ACTIONS", "AFFILIATIONS", "Item", "NS", "NS_ERRORS", "NS_EVENT", "NS_OWNER", "Node", "NodeConfig",
           "PubSubComponent", "PubSubError", "PubSubService", "handle_iq"]
