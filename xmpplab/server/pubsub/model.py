"""XEP-0060 Publish-Subscribe: the nouns (nodes, items, affiliations, subscriptions) and the namespaces.

A *node* is a named feed on a pubsub service (``sensors`` on
``pubsub.example.com``); a *publisher* puts *items* on it (each with an id and
one payload element), and the service sends every *subscriber* a notification.
Who may do what is the node's *affiliations* (4.1: owner, publisher, member,
none, outcast) and its *access model* (4.5: ``open``, ``presence`` or ``whitelist`` here).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import asdict, dataclass, field, fields

from ...errors import StanzaError

NS = "http://jabber.org/protocol/pubsub"
NS_EVENT = f"{NS}#event"
NS_OWNER = f"{NS}#owner"
NS_ERRORS = f"{NS}#errors"
NODE_CONFIG = f"{NS}#node_config"
META_DATA = f"{NS}#meta-data"
PUBLISH_OPTIONS = f"{NS}#publish-options"

#: 4.1: affiliations, strongest first; ``outcast`` is banned from the node.
AFFILIATIONS = ("owner", "publisher", "member", "none", "outcast")
ACCESS_MODELS = ("open", "presence", "whitelist")  # 4.5 (authorize and roster: not here)
PUBLISH_MODELS = ("publishers", "subscribers", "open")  # pubsub#publish_model (17.4.4)
NOTIFICATION_TYPES = ("headline", "normal")  # pubsub#notification_type (17.4.4); headline: 13.7, not to offline storage
SEND_LAST = ("never", "on_sub", "on_sub_and_presence")  # pubsub#send_last_published_item (6.1.7; PEP: XEP-0163 4.3.4)

#: 11 (Feature Summary; section 10 before version 1.29): the features this service has, each ``http://jabber.org/protocol/pubsub#<name>``.
FEATURES = ("access-open", "access-presence", "access-whitelist", "config-node", "config-node-max",
            "create-and-configure", "create-nodes", "delete-items", "delete-nodes", "instant-nodes", "item-ids",
            "manage-affiliations", "meta-data", "modify-affiliations", "persistent-items", "publish",
            "publish-options", "publisher-affiliation", "purge-nodes", "retract-items", "retrieve-affiliations",
            "retrieve-items", "retrieve-subscriptions", "subscribe")


class PubSubError(StanzaError):
    """A stanza error with XEP-0060's application condition beside it (7.1.3: ``<payload-too-big/>`` …).

    ``feature``: for ``<unsupported feature='…'/>`` (the condition ``unsupported``).
    """

    def __init__(self, condition: str, app: str | None = None, text: str | None = None, *,
                 feature: str | None = None):
        super().__init__(condition, text)
        self.app = app
        self.feature = feature


@dataclass
class NodeConfig:
    """The node configuration this service knows: ``pubsub#<name>`` in the pubsub#node_config form (17.4.4)."""

    title: str = ""
    access_model: str = "open"
    publish_model: str = "publishers"
    max_items: int = 10
    persist_items: bool = True
    deliver_payloads: bool = True
    notify_retract: bool = True
    notify_delete: bool = True
    notification_type: str = "headline"
    send_last_published_item: str = "never"

    CHOICES = {"access_model": ACCESS_MODELS, "publish_model": PUBLISH_MODELS,
               "notification_type": NOTIFICATION_TYPES, "send_last_published_item": SEND_LAST}

    def set(self, name: str, value: str, max_items_limit: int) -> None:
        """Set one field from its form value; ``not-acceptable`` for a value the XEP or the limits refuse (8.2.5)."""
        kinds = {f.name: f.type for f in fields(self)}
        if name not in kinds:
            raise PubSubError("not-acceptable", text=f"pubsub#{name} is not a field this service knows")
        if kinds[name] in ("bool", bool):
            if value not in ("0", "1", "true", "false"):
                raise PubSubError("not-acceptable", text=f"pubsub#{name} is a boolean, not {value!r}")
            setattr(self, name, value in ("1", "true"))
        elif kinds[name] in ("int", int):
            number = max_items_limit if value == "max" else _int(value)
            if number is None or not 0 < number <= max_items_limit:
                raise PubSubError("not-acceptable",
                                  text=f"pubsub#max_items must be from 1 to {max_items_limit} (or 'max')")
            setattr(self, name, number)
        else:
            if name in self.CHOICES and value not in self.CHOICES[name]:
                raise PubSubError("not-acceptable", text=f"pubsub#{name} is one of {', '.join(self.CHOICES[name])}"
                                  f" here, not {value!r}")
            setattr(self, name, value)

    def to_json(self) -> str:
        """The configuration as JSON, for storage."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> NodeConfig:
        """A configuration read from storage (fields it no longer knows are dropped)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in json.loads(text).items() if k in known})


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


@dataclass
class Item:
    """One published item (7.1): its id, the serialised payload (or None) and the publisher's bare JID."""

    id: str
    payload: str | None
    publisher: str | None = None


@dataclass
class Node:
    """A leaf node (4.2): its configuration, affiliations, subscriptions and items (oldest first)."""

    name: str
    config: NodeConfig = field(default_factory=NodeConfig)
    affiliations: dict[str, str] = field(default_factory=dict)  # bare JID -> affiliation
    subscriptions: dict[str, str] = field(default_factory=dict)  # subscriber JID (as given) -> 'subscribed'
    items: OrderedDict[str, Item] = field(default_factory=OrderedDict)

    def affiliation(self, jid) -> str:
        """The affiliation of a JID (its bare JID's), ``none`` when it has none."""
        return self.affiliations.get(str(jid.bare), "none")

    @property
    def owners(self) -> list[str]:
        """The owners' bare JIDs."""
        return sorted(j for j, a in self.affiliations.items() if a == "owner")

    def may_access(self, jid, sees_presence=None) -> bool:
        """4.5: whether ``jid`` may subscribe and retrieve items: never an outcast; owners, publishers and
        members always; others on an open node, or on a presence node when ``sees_presence(owner, jid)``
        says they are subscribed to an owner's presence."""
        affiliation = self.affiliation(jid)
        if affiliation == "outcast":
            return False
        if affiliation in ("owner", "publisher", "member") or self.config.access_model == "open":
            return True
        if self.config.access_model == "presence" and sees_presence is not None:
            return any(sees_presence(owner, jid) for owner in self.owners)
        return False

    def may_publish(self, jid) -> bool:
        """4.1 and pubsub#publish_model: owners and publishers; subscribers or anyone when configured so."""
        affiliation = self.affiliation(jid)
        if affiliation in ("owner", "publisher"):
            return True
        model = self.config.publish_model
        if affiliation == "outcast" or model == "publishers":
            return False
        return model == "open" or any(j == str(jid) or j == str(jid.bare) for j in self.subscriptions)

    def trim(self) -> list[str]:
        """Drop the oldest items beyond max_items (7.1.2.5: the node is full, retract the oldest); return their ids."""
        dropped = []
        while len(self.items) > self.config.max_items:
            dropped.append(self.items.popitem(last=False)[0])
        return dropped
