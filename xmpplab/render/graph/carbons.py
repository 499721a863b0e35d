"""Carbons on a stanza's path (XEP-0280 §7, §8): the copies a server fans out to the account's other resources.

When romeo's phone gets juliet's message, his server also sends his laptop a
copy, wrapped::

    <message from='romeo@example.net' to='romeo@example.net/home'>
      <received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>
        <message from='juliet@example.com/balcony' to='romeo@example.net/garden' id='m1'>…</message>
      </forwarded></received></message>

The copy is another stanza (no id, a new sender), so following the original does
not find it. :func:`carbon_hops` looks for the copies of the original among what
servers sent their clients after it, and makes each one more stop on the path,
``via="carbon"``, from the server that made it to the resource that got it.
"""

from __future__ import annotations

from ...ns import NS_CARBONS, NS_FORWARD
from ...xml import split_qname
from .model import Hop

__all__ = ["carbon_hops", "copied_message"]


def copied_message(item):
    """The message inside a carbon item (``<received/>`` or ``<sent/>``), or None when ``item`` is no carbon."""
    el = getattr(item, "element", None)
    if el is None:
        return None
    for wrapper in el:
        if not isinstance(wrapper.tag, str) or split_qname(wrapper.tag) not in ((NS_CARBONS, "received"),
                                                                                (NS_CARBONS, "sent")):
            continue
        forwarded = wrapper.find(f"{{{NS_FORWARD}}}forwarded")
        if forwarded is None:
            return None
        return next((m for m in forwarded if isinstance(m.tag, str) and split_qname(m.tag)[1] == "message"), None)
    return None


def _body(el) -> str | None:
    return next((c.text for c in el if isinstance(c.tag, str) and split_qname(c.tag)[1] == "body"), None)


def _copies(inner, original) -> bool:
    """Whether the message inside a carbon is ``original`` (same id and type; without an id, same body and to)."""
    if (inner.get("type") or "normal") != (original.type or "normal") or inner.get("id") != original.id:
        return False
    if original.id is None:
        return _body(inner) == _body(original.element) and inner.get("to") == original.to
    return True


def carbon_hops(transcript, chain, link_of, first_number: int) -> list[Hop]:
    """The stops the carbons of the stanza ``chain[0]`` add: one per resource that got a copy, numbered from
    ``first_number``; each from its server (``src``) ``via="carbon"``."""
    original = chain[0]
    if original.name != "message":
        return []
    start = (original.seq, original.index)
    hops: list[Hop] = []
    seen: set = set()
    for item in transcript.stanzas(kind="message", direction="S→C"):
        if (item.seq, item.index) <= start:
            continue
        link = link_of.get(item.conn)
        if link is None or link.kind != "c2s" or id(link) in seen:
            continue
        inner = copied_message(item)
        if inner is None or not _copies(inner, original):
            continue
        seen.add(id(link))
        server, resource = link.ends(item.direction)
        hops.append(Hop(first_number + len(hops), resource, link.label_of(resource), link.kind_of(resource),
                        server, "carbon", tuple(link.conns), item, getattr(item, "t", None)))
    return hops
