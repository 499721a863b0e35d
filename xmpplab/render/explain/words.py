"""Words about people and lists: names from JIDs, pronouns, quotes, "a, b and c"."""

from __future__ import annotations

# ----------------------------------------------------------------------------------- people
_SHE = {"juliet", "nurse", "rosaline", "alice", "carol", "eve", "lady", "ladycapulet", "ladymontague",
        "hermia", "helena", "ophelia", "portia", "viola", "olivia", "miranda"}
_HE = {"romeo", "benvolio", "mercutio", "tybalt", "paris", "balthasar", "friar", "laurence", "lawrence",
       "montague", "capulet", "peter", "sampson", "gregory", "abraham", "escalus", "bob", "hamlet", "horatio"}


def _local(jid: str | None) -> str | None:
    if not jid:
        return None
    bare = jid.split("/", 1)[0]
    return bare.split("@", 1)[0] if "@" in bare else None


def _domain(jid: str | None) -> str | None:
    if not jid:
        return None
    return jid.split("/", 1)[0].rpartition("@")[2] or None


def _name(jid: str | None, default: str) -> str:
    """``juliet`` for juliet@example.com/balcony; the domain for a server JID; else the default."""
    if not jid:
        return default
    return _local(jid) or jid.split("/", 1)[0]


def _their(name: str) -> str:
    key = name.lower().replace(" ", "").replace("_", "")
    if key in _SHE:
        return "her"
    if key in _HE:
        return "his"
    return "their"


def _they(name: str) -> str:
    return {"her": "she", "his": "he"}.get(_their(name), "they")


def _self(name: str) -> str:
    return {"her": "herself", "his": "himself"}.get(_their(name), "themselves")


#: The first labels of the domains chat services usually live on (XEP-0045 rooms: garden@conference.example.com).
ROOM_SERVICES = ("conference.", "muc.", "chat.", "rooms.", "groupchat.")


def is_room(jid: str | None) -> bool:
    """Whether ``jid`` looks like a chat room's (or an occupant's) address: a name on a chat service's domain."""
    return bool(jid) and "@" in jid and (_domain(jid) or "").startswith(ROOM_SERVICES)


def _is_bare_user(jid: str | None) -> bool:
    return bool(jid) and "/" not in jid and "@" in jid


def _is_full(jid: str | None) -> bool:
    return bool(jid) and "/" in jid


def _quote(text: str | None, limit: int = 70) -> str:
    text = " ".join((text or "").split())
    return f"“{text if len(text) <= limit else text[:limit - 1] + '…'}”"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text.startswith(("the ", "a ")) else text


def _and(items) -> str:
    items = [str(i) for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _or(items) -> str:
    items = [str(i) for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def _unique(cites) -> list:
    out = []
    for c in cites:
        if c is not None and c not in out:
            out.append(c)
    return out
