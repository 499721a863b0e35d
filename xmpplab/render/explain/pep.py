"""Explaining personal eventing (XEP-0163): publishing to one's own account, the notifications it sends, and the
entity capabilities (XEP-0115 ``<c/>``) that say who wants them.

A pubsub iq with no ``to``, or to an account's bare JID, is for that
account's own service (3); an event from an account's bare JID is its
service notifying a contact who showed interest (4, 4.3.1). Nickname
(XEP-0172) and avatar (XEP-0084) nodes are named for what they carry.
"""

from __future__ import annotations

from ...xml import split_qname
from ..specs import xep
from .words import _cap, _is_bare_user, _name, _their

NS_CAPS = "http://jabber.org/protocol/caps"
NICK = "http://jabber.org/protocol/nick"
AVATAR_DATA = "urn:xmpp:avatar:data"
AVATAR_META = "urn:xmpp:avatar:metadata"

#: node -> (what it is, the XEP section that publishes it, the one that receives it).
_KNOWN = {
    NICK: ("a nickname", xep(172, "4.3"), xep(172, "4.3")),
    AVATAR_DATA: ("an avatar picture", xep(84, "3.1"), xep(84, "3.4")),
    AVATAR_META: ("an avatar's metadata", xep(84, "3.2"), xep(84, "3.3")),
}


def is_pep_address(to: str | None) -> bool:
    """Whether a pubsub request goes to an account's own service: no ``to`` (one's own), or a bare account JID."""
    return not to or _is_bare_user(to)


def _what(node: str | None) -> str:
    known = _KNOWN.get(node or "")
    return f"{known[0]} (the node {node!r})" if known else f"the node {node!r}"


def pep_iq(itype: str, payload, sender: str, to: str | None):
    """A pubsub iq to an account's service (XEP-0163 3); None when it is not one this module words (its answers,
    subscribing and the owner's actions read as XEP-0060's)."""
    action = next((c for c in payload if isinstance(c.tag, str)), None)
    if action is None or itype not in ("get", "set"):
        return None
    name, node = split_qname(action.tag)[1], action.get("node")
    known = _KNOWN.get(node or "")
    if name == "publish" and itype == "set":
        whose = f"{_their(sender)} own account" if not to else f"{_name(to, 'the account')}'s account"
        text = (f"{_cap(sender)} publishes {_what(node)} on {whose}: every account is a publish-subscribe service "
                "at its bare JID (personal eventing). The node is created if it is not there; the server sends the "
                f"item to {_their(sender)} own resources and to each contact who shares presence and whose client "
                "said it wants this node ('+notify' in its entity capabilities).")
        cites = [xep(163, "3"), xep(60, "7.1")] + ([known[1]] if known else [])
        return text, cites, "pep publish"
    if name == "items" and itype == "get" and to:
        text = (f"{_cap(sender)} asks {_name(to, 'the account')}'s account for the items of {_what(node)}; with the "
                "default access model only contacts subscribed to its presence may read them.")
        cites = [xep(163, "4"), xep(60, "6.5")] + ([known[2]] if known else [])
        return text, cites, "pep items"
    return None


def pep_event(event, sender_jid: str | None, recipient: str):
    """A notification from an account's bare JID (XEP-0163 4.3.1); None for any other sender."""
    if not _is_bare_user(sender_jid):
        return None
    items = event.find("{*}items")
    if items is None:
        return None
    node = items.get("node")
    known = _KNOWN.get(node or "")
    owner = _name(sender_jid, "the account")
    retracted = items.find("{*}retract") is not None and items.find("{*}item") is None
    news = "that an item was removed from" if retracted else "of a new item on"
    text = (f"{_cap(owner)}'s account (its personal eventing service) tells {recipient} {news} {_what(node)}. "
            f"It comes from {_their(owner)} bare JID, not from the resource that published, and reaches "
            f"{recipient} because {recipient} shares presence with {owner} and {_their(recipient)} client's entity "
            "capabilities include this node with '+notify' (or it is the newest item, sent when the client came "
            "online).")
    cites = [xep(163, "4.3.1"), xep(163, "4.2")] + ([known[2]] if known else [])
    return text, cites, "pep notification"


def caps_detail(presence):
    """The words and citations for a presence's ``<c/>`` (XEP-0115 4), or None when it has none."""
    c = presence.find(f"{{{NS_CAPS}}}c")
    if c is None:
        return None
    words = (f"entity capabilities: the software {c.get('node')!r} and ver {c.get('ver')!r}, a {c.get('hash') or '?'}"
             " hash of everything the client supports; whoever does not know that ver asks the client once "
             "(disco#info about node#ver) and remembers the answer; with personal eventing, features ending in "
             "'+notify' say which events the client wants")
    return words, [xep(115, "4"), xep(115, "6.2"), xep(163, "4.2")]


def avatar_detail(presence):
    """The words and citations for a presence's avatar hash (XEP-0153 ``vcard-temp:x:update``), or None."""
    x = presence.find("{vcard-temp:x:update}x")
    photo = x.find("{vcard-temp:x:update}photo") if x is not None else None
    if photo is None:
        return None
    digest = (photo.text or "").strip()
    if not digest:
        return "avatar: none (an empty <photo/> says there is no picture)", [xep(153)]
    return (f"avatar hash {digest[:10]}…: the SHA-1 of the picture, so a contact who has not got that picture yet "
            "fetches it once (the server adds it for an account whose avatar is published with PEP)",
            [xep(153), xep(398, "4")])


__all__ = ["avatar_detail", "caps_detail", "is_pep_address", "pep_event", "pep_iq"]
