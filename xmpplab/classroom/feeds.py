"""Publish-subscribe nodes as the Lab's own streams show them: what a student may know of a service they do not run.

A private Lab reads its server's pubsub service; on a class server the Lab knows what crossed its own
streams, which is enough to follow XEP-0060 from the outside. Each request to a pubsub service
(``pubsub.class.example``) counts once the service answered it with a ``result`` (matched by the iq's id on
the same stream):

* ``<create/>`` (§8.1, the instant node's name from the answer, §8.1.2) makes a node owned by the creator,
  with the access and publish models of its ``<configure/>`` form (§8.1.3); ``<configure/>`` (§8.2.4)
  changes them, ``<affiliations/>`` (§8.9.2) adds publishers; ``<delete/>`` (§8.4) and ``<purge/>`` (§8.5)
  end the node or its items;
* ``<subscribe/>`` (§6.1) adds the subscription the answer names, ``<unsubscribe/>`` (§6.2) ends it;
* ``<publish/>`` (§7.1, the item id from the answer), ``<retract/>`` (§7.2) and the items a notification
  (§7.1.2.1) or a retrieval (§6.5) shows count the node's items.
"""

from __future__ import annotations

from ..jid import JID, InvalidJID
from ..server.forms import find_form, values
from ..snapshot import FeedNode, PubSubService
from ..transcript.model import Direction
from .rosters import _bare, _in_order

NS = "http://jabber.org/protocol/pubsub"
NS_OWNER = f"{NS}#owner"
NS_EVENT = f"{NS}#event"
SERVICE_PREFIX = "pubsub."


def _service(address) -> str | None:
    """The address when it is a pubsub service's (``pubsub.DOMAIN``, no local part), else None."""
    try:
        j = JID(address) if address else None
    except InvalidJID:
        return None
    return str(j) if j is not None and j.local is None and j.domain.startswith(SERVICE_PREFIX) else None


def _streams(transcript) -> list:
    """The client streams, as the server side recorded them when there is such a recording, else the clients'."""
    c2s = [c for c in transcript.connections.values() if c.kind == "c2s"]
    return [c for c in c2s if c.role == "receiving"] or c2s


class _Feeds:
    """Nodes being followed: (service, node) -> what is known of it."""

    def __init__(self):
        self.nodes: dict[tuple[str, str], dict] = {}

    def node(self, service: str, name: str | None) -> dict | None:
        return self.nodes.get((service, name)) if name else None

    def answered(self, service: str, actor: str, request, answer) -> None:
        """A request to ``service`` from ``actor`` (bare JID) that the service answered with ``answer`` (a result)."""
        for pubsub in request:
            if pubsub.tag not in (f"{{{NS}}}pubsub", f"{{{NS_OWNER}}}pubsub"):
                continue
            action = next((a for a in pubsub if isinstance(a.tag, str) and a.tag.startswith("{")), None)
            if action is not None:
                self.action(service, actor, action.tag.partition("}")[2], action, pubsub, answer)

    def action(self, service: str, actor: str, verb: str, action, pubsub, answer) -> None:
        name = action.get("node")
        said = {el.tag.partition("}")[2]: el for el in answer.iter() if isinstance(el.tag, str)}
        if verb == "create":
            name = name or (said["create"].get("node") if "create" in said else None)
            if name:
                self.nodes[(service, name)] = {"owners": {actor}, "subscribers": [], "items": set(),
                                               "access": "open", "publish": "publishers"}
                self.configure(self.node(service, name), pubsub.find(f"{{{NS}}}configure"))
            return
        node = self.node(service, name)
        if node is None:
            return
        if verb == "configure":
            self.configure(node, action)
        elif verb == "affiliations":
            node["owners"] |= {str(a.get("jid")) for a in action if a.get("affiliation") in ("owner", "publisher")}
        elif verb == "delete":
            del self.nodes[(service, name)]
        elif verb == "purge":
            node["items"].clear()
        elif verb == "subscribe" and "subscription" in said:
            got = said["subscription"]
            if got.get("subscription") == "subscribed" and got.get("jid") not in node["subscribers"]:
                node["subscribers"].append(got.get("jid"))
        elif verb == "unsubscribe" and action.get("jid") in node["subscribers"]:
            node["subscribers"].remove(action.get("jid"))
        elif verb == "publish":
            node["items"].update(i.get("id") for i in answer.iter(f"{{{NS}}}item") if i.get("id"))
        elif verb == "retract":
            node["items"].difference_update(i.get("id") for i in action if i.get("id"))
        elif verb == "items":
            node["items"].update(i.get("id") for i in answer.iter(f"{{{NS}}}item") if i.get("id"))

    @staticmethod
    def configure(node: dict, parent) -> None:
        """The access and publish models of a ``pubsub#node_config`` form, when it gives them."""
        form = values(find_form(parent)) if parent is not None else {}
        node["access"] = (form.get("pubsub#access_model") or [node["access"]])[0]
        node["publish"] = (form.get("pubsub#publish_model") or [node["publish"]])[0]

    def notified(self, service: str, message) -> None:
        """A notification (§7.1.2.1): its items are on the node; ``<delete/>`` (§8.4.2) ends the node."""
        for event in message.iter(f"{{{NS_EVENT}}}event"):
            for el in event:
                node = self.node(service, el.get("node"))
                if node is None:
                    continue
                if el.tag == f"{{{NS_EVENT}}}delete":
                    del self.nodes[(service, el.get("node"))]
                elif el.tag == f"{{{NS_EVENT}}}items":
                    node["items"].update(i.get("id") for i in el.iter(f"{{{NS_EVENT}}}item") if i.get("id"))


def feeds_seen(transcript) -> tuple[PubSubService, ...]:
    """The pubsub services and nodes the Lab's streams created, subscribed to and published on (module docstring)."""
    feeds, asked = _Feeds(), {}
    for item in _in_order(_streams(transcript), kind=["iq", "message"]):
        el, conn = item.element, transcript.connections[item.conn]
        if item.direction is Direction.C2S and item.name == "iq" and _service(item.to):
            asked[(item.conn, el.get("id"))] = (_service(item.to), _bare(conn.jid), el)
        elif item.direction is Direction.S2C and item.name == "iq" and item.type == "result":
            request = asked.pop((item.conn, el.get("id")), None)
            if request is not None and request[1]:
                feeds.answered(request[0], request[1], request[2], el)
        elif item.direction is Direction.S2C and item.name == "message" and _service(item.from_):
            feeds.notified(_service(item.from_), el)
    services: dict[str, list[FeedNode]] = {}
    for (service, name), node in sorted(feeds.nodes.items()):
        services.setdefault(service, []).append(FeedNode(
            name, publishers=tuple(sorted(node["owners"])), subscribers=tuple(node["subscribers"]),
            items=len(node["items"]), access_model=node["access"], publish_model=node["publish"]))
    return tuple(PubSubService(domain, domain[len(SERVICE_PREFIX):], tuple(nodes))
                 for domain, nodes in sorted(services.items()))
