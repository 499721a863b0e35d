"""The pubsub service as a component (``pubsub.example.com``): every stanza to it, and its disco (XEP-0060 5).

The server hands the component each stanza addressed to its domain. An iq
with ``<pubsub/>`` goes to :func:`.wire.handle_iq`; disco#info says what the
service is (5.1: identity ``pubsub/service`` and the features of section 11, Feature Summary)
and what a node is (5.3: ``pubsub/leaf``); disco#items lists the nodes (5.2)::

    C: <iq type='get' to='pubsub.example.com' id='d1'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>
    S: <iq type='result' …><query xmlns='http://jabber.org/protocol/disco#items'>
         <item jid='pubsub.example.com' node='sensors' name='Greenhouse'/></query></iq>
"""

from __future__ import annotations

import logging

from ...errors import StanzaError
from ...jid import JID
from ...xml import NS_CLIENT, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, element, local_name, sub
from ..events import DiscoQuery
from ..forms import Form
from .model import FEATURES, META_DATA, NS, PubSubError
from .wire import error_for, handle_iq

log = logging.getLogger("xmpplab.server.pubsub")


class PubSubComponent:
    """The component handler of one :class:`~.service.PubSubService` at its own domain."""

    def __init__(self, service):
        self.service = service

    def __call__(self, event) -> None:
        """Serve one stanza to the service's domain; refusals become errors ``by`` the service.

        Each iq, from a local client or over server-to-server, first fires ``pubsub-iq``: a module may refuse it
        there (raise a :class:`~xmpplab.errors.StanzaError`) before the service sees it."""
        if event.from_ is None:
            return
        if event.kind == "message" and event.type == "error":
            self.bounce(event)
            return
        if event.kind != "iq" or event.type not in ("get", "set"):
            return  # presence and other messages to the service: nothing to do (notifications go out, not in)
        try:
            if self.service.server.hooks.fire("pubsub-iq", event):
                return  # a module answered it (a class server refuses a request for another student's node)
            if not (handle_iq(self.service, event) or self.disco(event) or self.ping(event)):
                raise StanzaError("service-unavailable")
        except StanzaError as exc:
            self.service.server.route(error_for(event.stanza, exc, self.service.jid))

    def bounce(self, event) -> None:
        """XEP-0060 13.4: a notification that came back as an error may end a subscription."""
        err = event.stanza.find(f"{{{NS_CLIENT}}}error")
        condition = next((local_name(c.tag) for c in err if isinstance(c.tag, str)), None) if err is not None \
            else None
        self.service.bounced(event.stanza.get("id"), event.from_, err.get("type") if err is not None else None,
                             condition)

    def ping(self, event) -> bool:
        """XEP-0199: a component answers pings too."""
        payload = event.payload
        if event.type == "get" and payload is not None and payload.tag == f"{{{NS_PING}}}ping":
            event.reply()
            return True
        return False

    def hidden(self, asker, name: str) -> bool:
        """Whether a module hides the node ``name`` from ``asker``'s disco#items (``pubsub-node-hidden``, with a
        :class:`~xmpplab.server.events.DiscoQuery`; a class server hides another student's nodes)."""
        server = self.service.server
        return server.hooks.fire("pubsub-node-hidden", DiscoQuery(server, JID(self.service.jid), asker, name))

    def disco(self, event) -> bool:
        """XEP-0060 5.1 to 5.4: what the service and each node are, and which nodes there are."""
        payload = event.payload
        if event.type != "get" or payload is None or local_name(payload.tag) != "query":
            return False
        ns = payload.tag[1:].partition("}")[0]
        if ns not in (NS_DISCO_INFO, NS_DISCO_ITEMS):
            return False
        name = payload.get("node")
        node = self.service.node(name) if name else None  # item-not-found for a node that is not there
        query = element("query", {"node": name}, ns=ns)
        if ns == NS_DISCO_ITEMS:
            if node is None:
                for n in sorted(self.service.nodes.values(), key=lambda n: n.name):
                    if not self.hidden(event.from_, n.name):
                        sub(query, "item", {"jid": self.service.jid, "node": n.name, "name": n.config.title or None})
        elif node is None:
            sub(query, "identity", {"category": "pubsub", "type": "service", "name": self.service.name})
            features = (*FEATURES, "auto-create") if self.service.auto_create else FEATURES
            for var in sorted({NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS, *(f"{NS}#{f}" for f in features)}):
                sub(query, "feature", {"var": var})
        else:
            sub(query, "identity", {"category": "pubsub", "type": "leaf"})
            sub(query, "feature", {"var": NS})
            query.append(meta_data(node).element("result"))
        event.reply(query)
        return True


def meta_data(node) -> Form:
    """5.4: the node's meta-data form (``pubsub#meta-data``): its title, owners and access model."""
    form = Form(form_type=META_DATA)
    form.field("pubsub#title", "text-single", values=[node.config.title])
    form.field("pubsub#owner", "jid-multi", values=node.owners)
    form.field("pubsub#access_model", "list-single", values=[node.config.access_model])
    form.field("pubsub#publish_model", "list-single", values=[node.config.publish_model])
    form.field("pubsub#num_subscribers", "text-single", values=[len(node.subscriptions)])
    return form


__all__ = ["PubSubComponent", "PubSubError", "meta_data"]
