"""A publish-subscribe service (XEP-0060): the nodes behind one JID and what may be done to them.

The service's JID is ``pubsub.example.com`` for the server's pubsub component;
personal eventing (XEP-0163) gives each account a service at its bare JID,
whose owner is that account (:class:`~.pep.PepService`). Each use case is one method that checks
what the XEP requires, changes the node (in memory and in storage) and sends
the notifications; a refusal is a :class:`~.model.PubSubError` with the
section's condition. The wire (parsing iqs, building answers) is in :mod:`.wire`.
"""

from __future__ import annotations

import itertools
import logging
import secrets
from collections import OrderedDict

from ...jid import JID
from ...xml import element, parse_fragment, serialize, sub
from ..events import DiscoQuery
from .model import NS_EVENT, Item, Node, NodeConfig, PubSubError

log = logging.getLogger("xmpplab.server.pubsub")

#: How many notification ids the service remembers to recognise a bounce (13.4).
SENT_KEPT = 1000


class PubSubService:
    """The nodes of one pubsub service (``jid``), stored in the server's database."""

    def __init__(self, server, jid: str, *, name: str = "Publish-Subscribe", owner: str | None = None,
                 default_config: NodeConfig | None = None, auto_create: bool = False):
        self.server = server
        self.jid = str(JID(jid))
        self.name = name
        self.owner = owner  # PEP: the account that owns every node of its service
        self.auto_create = auto_create  # 7.1.4: publishing to a node that does not exist creates it
        self.default_config = default_config or NodeConfig()
        self.nodes: dict[str, Node] = {}
        self._ids = itertools.count(1)
        self._sent: OrderedDict[str, str] = OrderedDict()  # notification id -> node, for bounces (13.4)
        self.load()

    def __repr__(self) -> str:
        return f"<PubSubService {self.jid}: {len(self.nodes)} nodes>"

    def __getitem__(self, name: str) -> Node:
        return self.nodes[name]

    @property
    def limits(self):
        """The server's limits (``pubsub_*`` fields bound nodes and items)."""
        return self.server.limits

    # storage -----------------------------------------------------------------------
    def load(self) -> None:
        """Read the stored nodes of this service (once, at start); one that cannot be read is logged and skipped."""
        storage = self.server.storage
        for name, config in storage.pubsub_nodes(self.jid):
            try:
                node = Node(name, NodeConfig.from_json(config))
            except (ValueError, TypeError):
                log.exception("the stored pubsub node %s on %s could not be read; skipped", name, self.jid)
                continue
            node.affiliations = dict(storage.pubsub_affiliations(self.jid, name))
            node.subscriptions = dict(storage.pubsub_subscriptions(self.jid, name))
            for item_id, publisher, payload in storage.pubsub_items(self.jid, name):
                node.items[item_id] = Item(item_id, payload, publisher)
            self.nodes[name] = node

    # lookups -----------------------------------------------------------------------
    def node(self, name: str | None) -> Node:
        """The node called ``name``: ``nodeid-required`` without a name, ``item-not-found`` when there is none."""
        if not name:
            raise PubSubError("bad-request", "nodeid-required")
        node = self.nodes.get(name)
        if node is None:
            raise PubSubError("item-not-found", text=f"there is no node {name!r} on {self.jid}")
        return node

    def sees_presence(self, owner: str, jid: JID) -> bool:
        """Whether ``jid`` is subscribed to ``owner``'s presence (RFC 6121 3: the owner's roster says from or
        both), asked through the ``disco-may-see`` event, so the roster module answers (for the presence
        access model, 4.5)."""
        return bool(self.server.hooks.fire("disco-may-see", DiscoQuery(self.server, JID(owner), jid)))

    @staticmethod
    def refuse_access(node: Node, actor: JID, subscribing: bool) -> None:
        """The error for one who may not subscribe (6.1.3) or read (6.5.9): banned, no presence, no whitelist."""
        cases = "6.1.3" if subscribing else "6.5.9"
        if node.affiliation(actor) == "outcast":
            raise PubSubError("forbidden", text=f"you are banned from this node ({cases})")
        if node.config.access_model == "presence":
            raise PubSubError("not-authorized", "presence-subscription-required",
                              text=f"only those subscribed to the owner's presence may ({cases})")
        raise PubSubError("not-allowed", "closed-node", text=f"this node has a whitelist; ask its owner ({cases})")

    def owned(self, name: str | None, actor: JID) -> Node:
        """A node the actor owns (8: owner use cases); ``forbidden`` for anyone else."""
        node = self.node(name)
        if node.affiliation(actor) != "owner":
            raise PubSubError("forbidden", text=f"only an owner of {name!r} may do this")
        return node

    # 8.1 create, 8.2 configure, 8.4 delete, 8.5 purge ------------------------------------
    def create(self, actor: JID, name: str | None, config: dict[str, str] | None = None) -> Node:
        """8.1: a new node owned by the actor (8.1.2 instant node when ``name`` is None)."""
        if name is not None and name in self.nodes:
            raise PubSubError("conflict", text=f"the node {name!r} exists already")
        if self.owner is not None and str(actor.bare) != self.owner:
            raise PubSubError("forbidden", text="only the account itself creates nodes on its personal service")
        owned = sum(1 for n in self.nodes.values() if n.affiliation(actor) == "owner")
        if owned >= self.limits.pubsub_nodes_per_account:
            raise PubSubError("resource-constraint", "max-nodes-exceeded", text=f"{actor.bare} owns {owned} nodes "
                              "already, the most this server allows (pubsub_nodes_per_account)")
        node = Node(name or self._instant_name(), NodeConfig(**vars(self.default_config)))
        for var, value in (config or {}).items():
            node.config.set(var, value, self.limits.pubsub_items_per_node)
        node.affiliations[str(actor.bare)] = "owner"
        self.server.storage.put_pubsub_node(self.jid, node.name, node.config.to_json(), owner=str(actor.bare))
        self.nodes[node.name] = node
        return node

    def _instant_name(self) -> str:
        while True:
            name = f"node-{secrets.token_hex(4)}"
            if name not in self.nodes:
                return name

    def configure(self, actor: JID, name: str | None, values: dict[str, str]) -> Node:
        """8.2.4: change the configuration (all of the form or nothing); items beyond max_items go."""
        node = self.owned(name, actor)
        config = NodeConfig(**vars(node.config))
        for var, value in values.items():
            config.set(var, value, self.limits.pubsub_items_per_node)
        storage = self.server.storage
        storage.put_pubsub_node(self.jid, node.name, config.to_json())
        if not config.persist_items:
            storage.delete_pubsub_items(self.jid, node.name)
        dropped = list(node.items)[:max(0, len(node.items) - config.max_items)]
        if dropped:
            storage.delete_pubsub_items(self.jid, node.name, tuple(dropped))
        node.config = config
        node.trim()
        return node

    def delete(self, actor: JID, name: str | None) -> None:
        """8.4: delete the node and tell its subscribers (8.4.2 ``<delete node='…'/>``)."""
        self._delete(self.owned(name, actor))

    def _delete(self, node: Node) -> None:
        self.server.storage.delete_pubsub_node(self.jid, node.name)
        del self.nodes[node.name]
        self.changed(node.name)
        if node.config.notify_delete:
            self._notify(node, lambda event: sub(event, "delete", {"node": node.name}))

    def purge(self, actor: JID, name: str | None) -> None:
        """8.5: remove every item of the node and tell its subscribers (``<purge node='…'/>``)."""
        node = self.owned(name, actor)
        self.server.storage.delete_pubsub_items(self.jid, node.name)
        node.items.clear()
        self.changed(node.name)
        self._notify(node, lambda event: sub(event, "purge", {"node": node.name}))

    def set_affiliation(self, actor: JID, name: str | None, jid: JID, affiliation: str) -> None:
        """8.9.2: an owner sets someone's affiliation (a whitelist is the members); an outcast loses its
        subscription (8.9.2.4)."""
        node = self.owned(name, actor)
        bare = str(jid.bare)
        after = {j: a for j, a in node.affiliations.items() if j != bare}
        if affiliation != "none":
            after[bare] = affiliation
        if "owner" not in after.values():  # 8.9.2.4: the service MUST NOT leave a node without an owner
            raise PubSubError("not-acceptable", text="a node keeps at least one owner")
        self.server.storage.put_pubsub_affiliation(self.jid, node.name, bare, affiliation)
        node.affiliations = after
        if not node.may_access(jid, self.sees_presence):
            for subscriber in [s for s in node.subscriptions if JID(s).bare == jid.bare]:
                self._unsubscribe(node, subscriber)

    # 6.1 subscribe, 6.2 unsubscribe ---------------------------------------------------------
    def subscribe(self, actor: JID, name: str | None, jid: JID) -> Node:
        """6.1: subscribe ``jid`` (the actor's own bare or full JID) to the node."""
        node = self.node(name)
        if jid.bare != actor.bare:
            raise PubSubError("bad-request", "invalid-jid", text="you may subscribe only your own JID (6.1.3.1)")
        if not node.may_access(actor, self.sees_presence):
            self.refuse_access(node, actor, subscribing=True)
        self.server.storage.put_pubsub_subscription(self.jid, node.name, str(jid), "subscribed")
        node.subscriptions[str(jid)] = "subscribed"
        return node

    def last_item(self, node: Node, to: JID) -> None:
        """6.1.7: send the newest item to a new subscriber (``send_last_published_item`` on_sub, or
        on_sub_and_presence for personal eventing, XEP-0163 4.3.4)."""
        if node.config.send_last_published_item != "never" and node.items:
            item = next(reversed(node.items.values()))
            self._send(node, str(to), self._items_event(node, [item]))

    def unsubscribe(self, actor: JID, name: str | None, jid: JID) -> None:
        """6.2: end a subscription (one's own, or as the node's owner anyone's)."""
        node = self.node(name)
        if jid.bare != actor.bare and node.affiliation(actor) != "owner":
            raise PubSubError("forbidden", text="you may unsubscribe only your own JID (6.2.3.3)")
        if str(jid) not in node.subscriptions:
            raise PubSubError("unexpected-request", "not-subscribed", text=f"{jid} is not subscribed (6.2.3.2)")
        self._unsubscribe(node, str(jid))

    def _unsubscribe(self, node: Node, jid: str) -> None:
        self.server.storage.put_pubsub_subscription(self.jid, node.name, jid, None)
        node.subscriptions.pop(jid, None)

    def subscriptions_of(self, actor: JID, name: str | None = None) -> list[tuple[str, str, str]]:
        """5.6: (node, JID, state) of the actor's subscriptions, on one node or on all."""
        nodes = [self.node(name)] if name else list(self.nodes.values())
        return [(n.name, jid, state) for n in nodes for jid, state in sorted(n.subscriptions.items())
                if JID(jid).bare == actor.bare]

    # 6.5 retrieve, 7.1 publish, 7.2 retract ---------------------------------------------------
    def items(self, actor: JID, name: str | None, ids=(), max_items: int | None = None) -> tuple[Node, list[Item]]:
        """6.5: the node's items (oldest first), the ``ids`` asked for, or the ``max_items`` newest (6.5.7)."""
        node = self.node(name)
        if not node.may_access(actor, self.sees_presence):
            self.refuse_access(node, actor, subscribing=False)
        if ids:
            found = [node.items[i] for i in ids if i in node.items]
            if not found:
                raise PubSubError("item-not-found", text="none of these items is on the node (6.5.9.12)")
            return node, found
        items = list(node.items.values())
        return node, items[-max_items:] if max_items else items

    def publish(self, actor: JID, name: str | None, item_id: str | None, payload,
                options: dict[str, str] | None = None) -> Item:
        """7.1: store the item (replacing one with the same id, 7.1.2) and notify every subscriber.

        ``options`` are the preconditions of 7.1.5 (``publish-options``): each must match the node's
        configuration (else ``conflict`` with ``precondition-not-met``); a node auto-created (7.1.4) gets them.
        """
        if name and name not in self.nodes and self.auto_create:
            self.create(actor, name, options)
        node = self.node(name)
        if options:
            wanted = NodeConfig(**vars(node.config))
            for var, value in options.items():
                wanted.set(var, value, self.limits.pubsub_items_per_node)
            if wanted != node.config:
                raise PubSubError("conflict", "precondition-not-met",
                                  text="the node's configuration does not match the publish-options (7.1.5)")
        if not node.may_publish(actor):
            raise PubSubError("forbidden", text=f"{actor.bare} may not publish to {node.name!r} (7.1.3.1)")
        text = serialize(payload, None) if payload is not None else None  # with its namespace
        if text is not None and len(text.encode()) > self.limits.pubsub_item_bytes:
            raise PubSubError("not-acceptable", "payload-too-big",
                              text=f"an item's payload may be at most {self.limits.pubsub_item_bytes} bytes here")
        if text is None and (node.config.persist_items or node.config.deliver_payloads):
            raise PubSubError("bad-request", "payload-required", text="this node needs a payload in the item (7.1.3.7)")
        item = Item(item_id or self._item_id(), text, str(actor.bare))
        kept = [i for i in node.items if i != item.id]
        dropped = kept[:max(0, len(kept) + 1 - node.config.max_items)]  # 7.1.2.5: the oldest go
        if node.config.persist_items:
            self.server.storage.put_pubsub_item(self.jid, node.name, item.id, item.publisher, item.payload,
                                                tuple(dropped))
        node.items.pop(item.id, None)
        node.items[item.id] = item
        node.trim()
        self._notify(node, lambda event: self._items_event(node, [item], event))
        self.changed(node.name)
        return item

    def changed(self, name: str) -> None:
        """A node's items changed (published, retracted, purged, or the node deleted): nothing here; a
        personal eventing service tells the server's modules (``pep-changed``)."""

    def _item_id(self) -> str:
        return f"{secrets.token_hex(6)}-{next(self._ids)}"

    def retract(self, actor: JID, name: str | None, item_id: str | None, notify: bool = False) -> None:
        """7.2: delete an item; with ``notify`` (or pubsub#notify_retract) tell the subscribers."""
        node = self.node(name)
        if not item_id:
            raise PubSubError("bad-request", "item-required", text="say which item to retract (7.2.3.4)")
        item = node.items.get(item_id)
        if item is None:
            raise PubSubError("item-not-found", text=f"there is no item {item_id!r} on {node.name!r}")
        if node.affiliation(actor) not in ("owner", "publisher") and item.publisher != str(actor.bare):
            raise PubSubError("forbidden", text="only a publisher or an owner retracts items (7.2.3.1)")
        self.server.storage.delete_pubsub_items(self.jid, node.name, (item_id,))
        del node.items[item_id]
        self.changed(node.name)
        if notify or node.config.notify_retract:
            self._notify(node, lambda event: sub(sub(event, "items", {"node": node.name}), "retract",
                                                 {"id": item_id}))

    def forget(self, jid: JID) -> None:
        """An account was removed: it owns, publishes and subscribes to nothing any more. A node it was the only
        owner of goes too, as if it had deleted it (8.4): nobody could configure or delete it after, nor make
        one of that name again."""
        bare = str(jid.bare)
        alone = [n for n in self.nodes.values() if n.owners == [bare]]
        self.server.storage.forget_pubsub_jid(bare)
        for node in self.nodes.values():
            node.affiliations.pop(bare, None)
            for subscriber in [s for s in node.subscriptions if str(JID(s).bare) == bare]:
                del node.subscriptions[subscriber]
        for node in alone:
            self._delete(node)

    # notifications (7.1.2.1) -------------------------------------------------------------------
    def _items_event(self, node: Node, items: list[Item], event=None):
        """``<event><items node='…'><item id='…'>payload</item></items></event>`` (payload when deliver_payloads)."""
        event = element("event", ns=NS_EVENT) if event is None else event
        parent = sub(event, "items", {"node": node.name})
        for item in items:
            el = sub(parent, "item", {"id": item.id})
            if node.config.deliver_payloads and item.payload:
                el.append(parse_fragment(item.payload))
        return event

    def recipients(self, node: Node) -> list[str]:
        """Who gets the node's notifications (13.3): its subscribers, in the order they subscribed.

        Personal eventing (XEP-0163) adds the contacts that show interest (:meth:`.pep.PepService.recipients`).
        """
        return [jid for jid, state in node.subscriptions.items() if state == "subscribed"]

    def _notify(self, node: Node, fill) -> None:
        """Send one ``<message><event/></message>`` to each recipient (7.1.2.1)."""
        for jid in self.recipients(node):
            event = element("event", ns=NS_EVENT)
            fill(event)
            self._send(node, jid, event)

    def _send(self, node: Node, to: str, event) -> None:
        message_id = f"{node.name}-{secrets.token_hex(4)}"
        self._sent[message_id] = node.name
        while len(self._sent) > SENT_KEPT:
            self._sent.popitem(last=False)
        message = element("message", {"from": self.jid, "to": to, "type": node.config.notification_type,
                                      "id": message_id})
        message.append(event)
        self.server.route(message)

    def bounced(self, message_id: str | None, sender: JID, error_type: str | None, condition: str | None) -> bool:
        """13.4: a notification came back as an error. Of type cancel (the address is gone) or ``gone``: the
        subscription of that address to the node ends. Returns whether one did."""
        name = self._sent.pop(message_id, None) if message_id else None
        node = self.nodes.get(name) if name else None
        if node is None or not (error_type == "cancel" or condition == "gone"):
            return False
        ended = [jid for jid in node.subscriptions if jid in (str(sender), str(sender.bare))]
        for jid in ended:
            self._unsubscribe(node, jid)
            log.info("pubsub %s: the notification to %s bounced (%s), so its subscription to %s ended",
                     self.jid, jid, condition, node.name)
        return bool(ended)
