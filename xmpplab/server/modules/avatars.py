"""XEP-0398 User Avatar to vCard-Based Avatars Conversion: one avatar, seen both ways.

A modern client publishes its avatar with personal eventing (XEP-0084: the image on
``urn:xmpp:avatar:data``, its SHA-1 and type on ``urn:xmpp:avatar:metadata``); older
clients and chat rooms look for it in the vCard (XEP-0153). This module bridges them
(§3.1, done the dynamic way §6.2 allows: nothing is copied):

* a vCard read (XEP-0054 §3.1, §3.3) gets the PEP avatar as its ``<PHOTO/>`` when the
  reader may read both avatar nodes (their access model: the owner's contacts by
  default, §8), so a vCard never shows an avatar its PEP nodes would not;
* every available presence the account sends, broadcast or directed (a room join
  too), carries the avatar's hash (§4)::

      C: <presence/>
      S: <presence from='juliet@example.com/balcony' to='romeo@example.net'>
           <x xmlns='vcard-temp:x:update'><photo>8ad2…(SHA-1 of the image)</photo></x></presence>

  A presence with an empty ``<photo/>`` is left alone (the client says it has no
  avatar), an ``<x/>`` without ``<photo/>`` gets one; a client's own non-empty hash
  is kept (§4 allows either). An avatar switched off (an empty ``<metadata/>``,
  XEP-0084 §4.2) is an empty ``<photo/>``; an account that never published one is
  left alone.

The account's disco#info lists ``urn:xmpp:pep-vcard-conversion:0`` (§2). The other
direction of §3 (a vCard photo published to PEP) is optional and not done.
"""

from __future__ import annotations

import copy

from ...xml import XMLInputError, element, parse_fragment, sub
from ..slots import Slot
from .pep import PEP
from .vcard import NS_VCARD, card

NS_CONVERSION = "urn:xmpp:pep-vcard-conversion:0"
NS_UPDATE = "vcard-temp:x:update"
NS_DATA = "urn:xmpp:avatar:data"
NS_METADATA = "urn:xmpp:avatar:metadata"
requires = ("pep", "vcard")

#: Per server: each account's current avatar hash ("" when switched off); accounts that never published one
#: are absent.
HASHES: Slot[dict] = Slot("avatars: the avatar hash of each account", dict)
FIRST = 100  # before the vCard module's own answers, and before presence is routed


def setup(server):
    """Answer vCard reads with the PEP avatar (§3.1, §6.2), stamp presence with its hash (§4), advertise §2."""
    hashes = HASHES.put(server, {})
    for owner, payload in server.storage.rows("SELECT service, payload FROM pubsub_items WHERE node = ? "
                                              "ORDER BY seq", (NS_METADATA,)):
        hashes[owner] = current(payload)  # the newest row of each account wins
    server.hook("disco-features/account", lambda query: [] if query.node else [NS_CONVERSION])
    server.hook("pep-changed", lambda change: _changed(server, *change))
    for where in ("bare", "full", "host", "remote", "component"):
        server.hook(f"pre-presence/{where}", lambda event: stamp(server, event), priority=FIRST)
    server.hook(f"iq-get/self/{NS_VCARD}:vCard", lambda event: answer(server, event, event.from_.bare),
                priority=FIRST)
    server.hook(f"iq-get/bare/{NS_VCARD}:vCard", lambda event: answer(server, event, event.to.bare), priority=FIRST)
    server.hook("account-removed", lambda bare: hashes.pop(str(bare), None) and False)


def _info(metadata) -> object | None:
    """The ``<info/>`` of a metadata payload that points at the data node (not an external URL, §3.1)."""
    for info in metadata.iter(f"{{{NS_METADATA}}}info"):
        if not info.get("url") and info.get("id"):
            return info
    return None


def current(payload: str | None) -> str:
    """The hash a metadata item announces ("" for none: the avatar switched off)."""
    metadata = _parse(payload)
    info = _info(metadata) if metadata is not None else None
    return info.get("id") if info is not None else ""


def _changed(server, owner: str, node: str) -> bool:
    if node != NS_METADATA:
        return False
    node = PEP.of(server)[owner].nodes.get(NS_METADATA)
    items = node.items if node is not None else {}
    HASHES.of(server)[owner] = current(next(reversed(items.values())).payload) if items else ""
    return False


def stamp(server, event) -> bool:
    """§4: an available presence of an account with an avatar carries its hash."""
    el = event.stanza
    if el.get("type") is not None or event.from_ is None:
        return False
    found = HASHES.of(server).get(str(event.from_.bare))
    if found is None:
        return False
    x = el.find(f"{{{NS_UPDATE}}}x")
    if x is None:
        x = sub(el, "x", ns=NS_UPDATE)
    photo = x.find(f"{{{NS_UPDATE}}}photo")
    if photo is None:
        sub(x, "photo", ns=NS_UPDATE, text=found or None)
    return False


def _photo(server, owner, reader) -> tuple[str, str] | None:
    """(type, base64 image) of the owner's PEP avatar, when ``reader`` may read both nodes (§6.2, §8)."""
    if not HASHES.of(server).get(str(owner)):
        return None
    service = PEP.of(server)[owner]
    metadata, data = service.nodes.get(NS_METADATA), service.nodes.get(NS_DATA)
    if metadata is None or data is None or not metadata.items:
        return None
    if str(reader) != str(owner) and not all(n.may_access(reader, service.sees_presence) for n in (metadata, data)):
        return None
    info = _info(_parse(next(reversed(metadata.items.values())).payload))
    item = data.items.get(info.get("id")) if info is not None else None
    image = _parse(item.payload) if item is not None else None
    if image is None or not (image.text or "").strip():
        return None
    return info.get("type") or "image/png", "".join(image.text.split())


def _parse(payload):
    try:
        return parse_fragment(payload or "")
    except XMLInputError:
        return None


def answer(server, event, owner) -> bool:
    """A vCard read: the stored card with the PEP avatar as its photo, when there is one the reader may see."""
    if owner is None or not server.user_exists(owner):
        return False
    photo = _photo(server, owner, event.from_.bare)
    if photo is None:
        return False  # the vCard module answers as it would
    stored = card(server, owner)
    vcard = copy.deepcopy(stored) if stored is not None else element("vCard", ns=NS_VCARD)
    for old in vcard.findall(f"{{{NS_VCARD}}}PHOTO"):
        vcard.remove(old)
    photo_el = sub(vcard, "PHOTO", ns=NS_VCARD)
    sub(photo_el, "TYPE", ns=NS_VCARD, text=photo[0])
    sub(photo_el, "BINVAL", ns=NS_VCARD, text=photo[1])
    event.reply(vcard)
    return True


__all__ = ["HASHES", "NS_CONVERSION", "current", "setup", "stamp"]
