"""Explaining roster iqs (RFC 6121 §2): get, result, set, push, remove, versioning."""

from __future__ import annotations

from ...transcript.model import Direction
from ...xml import split_qname
from .facts import cite
from .subject import _Subject
from .words import _and, _cap, _their

C2S, S2C = Direction.C2S, Direction.S2C


def _roster(s: _Subject, itype: str, payload, sender: str, me: str):
    items = [i for i in payload if isinstance(i.tag, str) and split_qname(i.tag)[1] == "item"]
    ver = payload.get("ver")
    if itype == "get":
        text = (f"{_cap(me)} asks {_their(me)} server for {_their(me)} contact list (the roster): an iq of type get "
                "in the jabber:iq:roster namespace.")
        cites = cite("roster get")
        if ver is not None:
            text += f" With ver={ver!r} (roster versioning) the server may send only what changed."
            cites += cite("roster versioning")
        return text, cites, "roster get"
    if itype == "result" and s.direction is not S2C:
        return (f"{_cap(me)} acknowledges the server's roster push (its result repeats the empty query, which "
                "servers ignore).", cite("roster push acknowledged"), "roster push acknowledged")
    if itype == "result":
        listed = [f"{i.get('jid')} ({i.get('subscription') or 'none'}"
                  f"{', asked' if i.get('ask') else ''})" for i in items]
        text = (f"The server sends {me} {_their(me)} roster: {len(items)} contact{'s' if len(items) != 1 else ''}"
                f"{': ' + _and(listed[:5]) + (', …' if len(listed) > 5 else '') if listed else ''}.")
        return text, cite("roster result"), "roster result"
    if itype == "set":
        item = items[0] if items else None
        jid = item.get("jid") if item is not None else "?"
        sub = item.get("subscription") if item is not None else None
        if s.direction is S2C:
            state = f"subscription={sub or 'none'}" + (f", ask={item.get('ask')}" if item is not None and
                                                        item.get("ask") else "")
            text = (f"The server pushes a roster change to {me}: {jid} is now {'removed' if sub == 'remove' else state}"
                    f". Every session of {me} gets this push and acknowledges it.")
            return text, cite("roster push"), "roster push"
        if sub == "remove":
            return (f"{_cap(me)} deletes {jid} from {_their(me)} roster (this also cancels subscriptions both ways).",
                    cite("roster remove"), "roster remove")
        name = item.get("name") if item is not None else None
        return ((f"{_cap(me)} adds or updates {jid}{f' (named {name!r})' if name else ''} in {_their(me)} roster: "
                "a roster set; the server answers and pushes the change to every session."),
                cite("roster set"), "roster set")
    return f"A roster iq of type {itype}.", cite("roster"), "roster"
