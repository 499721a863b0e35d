"""Explaining publish-subscribe (XEP-0060): the requests to a pubsub service and the events it sends.

A publisher sends one item to a node; the service sends it on to every
subscriber in a message (7.1.2.1). The explanation says which use case a
stanza is (subscribe 6.1, publish 7.1, retrieve 6.5, retract 7.2, create 8.1,
configure 8.2, delete 8.4) and who gets what because of it.
"""

from __future__ import annotations

from ...xml import split_qname
from ..specs import xep
from .words import _cap

NS = "http://jabber.org/protocol/pubsub"
NS_EVENT = f"{NS}#event"
NS_OWNER = f"{NS}#owner"

#: (action element, iq type) -> (what the requester asks, the XEP-0060 section).
_REQUESTS = {
    ("subscribe", "set"): ("to subscribe {jid} to the node {node}: from now on every item published there reaches "
                           "{jid} in a message", "6.1"),
    ("unsubscribe", "set"): ("to end {jid}'s subscription to the node {node}: no more notifications", "6.2"),
    ("items", "get"): ("for the items stored on the node {node}{newest}", "6.5"),
    ("publish", "set"): ("to publish the item {item} on the node {node}: the service stores it and sends it to "
                         "every subscriber, so the publisher need not know who they are", "7.1"),
    ("retract", "set"): ("to delete the item {item} from the node {node}", "7.2"),
    ("create", "set"): ("to create the node {node}; whoever creates a node owns it", "8.1"),
    ("configure", "get"): ("for the configuration form of the node {node} (only an owner may)", "8.2"),
    ("configure", "set"): ("to change the configuration of the node {node} (only an owner may)", "8.2"),
    ("delete", "set"): ("to delete the node {node} with its items; its subscribers are told", "8.4"),
    ("purge", "set"): ("to remove every item of the node {node}", "8.5"),
    ("subscriptions", "get"): ("which nodes {jid} is subscribed to", "5.6"),
    ("affiliations", "get"): ("who owns, publishes to or is a member of the node {node}", "8.9"),
    ("affiliations", "set"): ("to change who owns, publishes to or is a member of the node {node}", "8.9"),
}


def _quoted(value: str | None, default: str) -> str:
    return repr(value) if value else default


def pubsub_iq(itype: str, payload, sender: str, target: str):
    """An iq with ``<pubsub/>``: a request (get or set) or the service's answer, or None when it has no action."""
    action = next((c for c in payload if isinstance(c.tag, str)), None)
    if action is None:
        return None
    name = split_qname(action.tag)[1]
    node = _quoted(action.get("node"), "(a name the service picks)" if name == "create" else "?")
    item = action.find("{*}item")
    item_id = _quoted(item.get("id") if item is not None else None, "(an id the service picks)")
    if itype in ("get", "set"):
        asked = _REQUESTS.get((name, itype))
        if asked is None:
            return (f"{_cap(sender)} sends {target} a publish-subscribe request ({name}).", [xep(60)], f"pubsub {name}")
        words, section = asked
        newest = f" (only the {action.get('max_items')} newest)" if action.get("max_items") else ""
        text = words.format(jid=action.get("jid") or sender, node=node, item=item_id, newest=newest)
        cites = [xep(60, section)] + ([xep(60, "6.5.7")] if newest else [])
        return f"{_cap(sender)} asks {target} {text}.", cites, f"pubsub {name}"
    if name == "publish":
        return (f"{_cap(sender)} confirms the publication: the item {item_id} is on the node {node}, and each "
                "subscriber gets a notification.", [xep(60, "7.1.2")], "pubsub published")
    if name == "subscription":
        state = action.get("subscription") or "subscribed"
        return (f"{_cap(sender)} confirms: {action.get('jid')} is {state} to the node {node}.", [xep(60, "6.1")],
                "pubsub subscribed")
    if name == "items":
        count = len(action.findall("{*}item"))
        return (f"{_cap(sender)} sends {count} item{'s' if count != 1 else ''} stored on the node {node}.",
                [xep(60, "6.5")], "pubsub items")
    if name == "create":
        return f"{_cap(sender)} created the node {node}.", [xep(60, "8.1")], "pubsub created"
    return f"{_cap(sender)} answers a publish-subscribe request ({name}).", [xep(60)], f"pubsub {name}"


def pubsub_event(event, sender: str, recipient: str):
    """A ``<message><event xmlns='…#event'/></message>``: a notification from the service (7.1.2.1, 7.2.2.1, 8.4)."""
    child = next((c for c in event if isinstance(c.tag, str)), None)
    name = split_qname(child.tag)[1] if child is not None else ""
    node = _quoted(child.get("node") if child is not None else None, "?")
    if name == "items":
        published = [i.get("id") for i in child.findall(f"{{{NS_EVENT}}}item")]
        retracted = [r.get("id") for r in child.findall(f"{{{NS_EVENT}}}retract")]
        if retracted and not published:
            return (f"{_cap(sender)} tells {recipient} that the item {_quoted(retracted[0], '?')} was deleted from "
                    f"the node {node} (a publish-subscribe event).", [xep(60, "7.2.2.1")], "pubsub retract event")
        payload = child.find(f"{{{NS_EVENT}}}item/*")
        carried = f", carrying {split_qname(payload.tag)[1]!r} ({split_qname(payload.tag)[0]})" if payload is not None \
            else ""
        return (f"{_cap(sender)} notifies {recipient} of a new item {_quoted(published[0] if published else None, '')}"
                f" on the node {node}{carried}. The service sends one such message to each subscriber: the "
                "publisher sent the item once.", [xep(60, "7.1.2.1"), xep(60, "7.1")], "pubsub notification")
    if name == "delete":
        return (f"{_cap(sender)} tells {recipient} that the node {node} was deleted: no more items will come.",
                [xep(60, "8.4")], "pubsub delete event")
    if name == "purge":
        return (f"{_cap(sender)} tells {recipient} that every item of the node {node} was removed.",
                [xep(60, "8.5")], "pubsub purge event")
    return (f"{_cap(sender)} sends {recipient} a publish-subscribe event.", [xep(60)], "pubsub event")


def is_pubsub(ns: str | None) -> bool:
    """Whether a payload namespace is XEP-0060's request namespace (entity or owner)."""
    return ns in (NS, NS_OWNER)


__all__ = ["NS_EVENT", "is_pubsub", "pubsub_event", "pubsub_iq"]
