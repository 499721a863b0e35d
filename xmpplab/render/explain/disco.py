"""Explaining service discovery (XEP-0030): disco#info (identities and features) and disco#items."""

from __future__ import annotations

from ...xml import split_qname
from .facts import cite
from .words import _and, _cap


def _disco(info: bool, itype: str, payload, sender: str, target: str, iq_words: str):
    """A disco#info (``info``) or disco#items request or result."""
    topic = "disco#info" if info else "disco#items"
    node = payload.get("node")
    on = f" (node {node!r})" if node else ""
    if itype == "get":
        what = ("what it is and which features it supports (its identities and features)" if info
                else "which items it offers (rooms, services, other entities)")
        return (f"{_cap(sender)} asks {target}{on} {what}: service discovery, {iq_words}.", cite(topic),
                "disco#info" if info else "disco#items")
    if info:
        ids = [f"{i.get('category')}/{i.get('type')}" for i in payload if split_qname(i.tag)[1] == "identity"]
        feats = [f.get("var") for f in payload if split_qname(f.tag)[1] == "feature"]
        listed = f" ({_and(feats[:4])}{', …' if len(feats) > 4 else ''})" if feats else ""
        return ((f"{_cap(sender)} describes itself: {_and(ids) or 'no identity'}, {len(feats)} feature"
                f"{'s' if len(feats) != 1 else ''}{listed}."),
                cite(topic), "disco#info result")
    items = [i.get("jid") for i in payload if split_qname(i.tag)[1] == "item"]
    return ((f"{_cap(sender)} lists {len(items)} item{'s' if len(items) != 1 else ''}"
            f"{': ' + _and(items[:5]) + (', …' if len(items) > 5 else '') if items else ''}."), cite(topic),
            "disco#items result")
