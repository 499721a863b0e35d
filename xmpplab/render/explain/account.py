"""Explaining an account's settings kept by its server: blocking (XEP-0191 §3), the vCard (XEP-0054 §3),
private XML storage (XEP-0049 §2.2), push notifications (XEP-0357 §5, §6) and turning message carbons on or off
(XEP-0280 §4, §5).

    <iq type='set'><block xmlns='urn:xmpp:blocking'><item jid='iago@example.net'/></block></iq>     §3.3
    <iq type='get'><vCard xmlns='vcard-temp'/></iq>                                                   §3.1
    <iq type='set'><enable xmlns='urn:xmpp:carbons:2'/></iq>                                          §4
    <iq type='get'><query xmlns='jabber:iq:private'><prefs xmlns='example:prefs'/></query></iq>      §2.2
"""

from __future__ import annotations

from ...ns import NS_BLOCKING, NS_CARBONS, NS_PRIVATE, NS_PUSH, NS_VCARD
from ...transcript.model import Direction
from ...xml import split_qname
from .facts import cite
from .subject import _Subject
from .words import _and, _cap, _local, _quote, _their

C2S, S2C = Direction.C2S, Direction.S2C

#: vCard fields (XEP-0054 §3, the vCard of RFC 2426) a sentence names.
_VCARD_FIELDS = (("FN", "name"), ("NICKNAME", "nickname"), ("EMAIL", "e-mail"), ("URL", "web page"),
                 ("BDAY", "birthday"), ("PHOTO", "a photo"))


def account_iq(s: _Subject, itype: str, payload, sender: str):
    """An iq about blocking, the vCard, private storage or carbons, or None when the payload is none of these."""
    ns = split_qname(payload.tag)[0]
    if ns == NS_PRIVATE:
        return _private(s, itype, payload, sender)
    if ns == NS_PUSH and itype == "set":
        return _push(payload, sender)
    if ns == NS_BLOCKING:
        return _blocking(s, itype, payload, sender)
    if ns == NS_VCARD:
        return _vcard(s, itype, payload, sender)
    if ns == NS_CARBONS and itype == "set":
        name = split_qname(payload.tag)[1]
        if name == "enable":
            return (f"{_cap(sender)} turns message carbons on for this session: from now on it also gets a copy of "
                    f"the chats {_their(sender)} other devices send and receive.", cite("carbons enable"),
                    "carbons enable")
        if name == "disable":
            return (f"{_cap(sender)} turns message carbons off for this session: no more copies of what "
                    f"{_their(sender)} other devices send and receive.", cite("carbons disable"), "carbons disable")
    return None


def _jids(payload) -> list[str]:
    return [i.get("jid") or "?" for i in payload if isinstance(i.tag, str) and split_qname(i.tag)[1] == "item"]


def _blocking(s: _Subject, itype: str, payload, sender: str):
    """XEP-0191 §3.2 (the list), §3.3 (block), §3.4 (unblock), §3.5 (unblock all), and the pushes."""
    name, jids = split_qname(payload.tag)[1], _jids(payload)
    listed = _and(jids[:5]) + (", …" if len(jids) > 5 else "")
    push = itype == "set" and s.direction is S2C
    me = s.client
    if name == "blocklist" and itype == "get":
        return (f"{_cap(sender)} asks {_their(sender)} server for {_their(sender)} block list (blocking command).",
                cite("blocklist get"), "blocklist get")
    if name == "blocklist":
        what = f"{len(jids)} blocked: {listed}" if jids else "nobody is blocked"
        return (f"The server sends {me} {_their(me)} block list ({what}). It will also tell this session of every "
                "change (a push).", cite("blocklist"), "blocklist")
    if name == "block" and push:
        return (f"The server tells this session of {me} that {listed or '?'} {'is' if len(jids) == 1 else 'are'} now "
                "blocked (a block push: every session that asked for the block list learns of the change).",
                cite("block"), "block push")
    if name == "block":
        return (f"{_cap(sender)} blocks {listed or '?'}: from now on the server delivers nothing from "
                f"{'them' if len(jids) != 1 else 'that address'} (a message gets an error, as if {me} were offline), "
                f"sends them no more of {_their(sender)} presence, and refuses what {sender} sends them. A bare JID "
                "or a domain blocks every address under it.", cite("block"), "block")
    if name == "unblock" and not jids:
        if push:
            return (f"The server tells this session of {me} that everyone was unblocked (an unblock push).",
                    cite("unblock all"), "unblock push")
        return (f"{_cap(sender)} unblocks everyone on {_their(sender)} block list (an <unblock/> without items).",
                cite("unblock all"), "unblock all")
    if name == "unblock":
        if push:
            return (f"The server tells this session of {me} that {listed} {'is' if len(jids) == 1 else 'are'} no "
                    "longer blocked (an unblock push).", cite("unblock"), "unblock push")
        return (f"{_cap(sender)} unblocks {listed}: stanzas flow again both ways, and {_their(sender)} presence is "
                "sent to them again if they are subscribed.", cite("unblock"), "unblock")
    return (f"{_cap(sender)} sends a blocking command ({name}).", cite("block"), f"blocking {name}")


def _vcard_fields(payload) -> str:
    found = []
    for tag, words in _VCARD_FIELDS:
        el = payload.find(f"{{{NS_VCARD}}}{tag}")
        if el is None:
            continue
        value = (el.text or "").strip()
        found.append(words if tag == "PHOTO" or not value else f"{words} {_quote(value, 40)}")
    return _and(found)


def _vcard(s: _Subject, itype: str, payload, sender: str):
    """XEP-0054 §3.1 (one's own card), §3.2 (replacing it), §3.3 (another user's card)."""
    to, frm = s.get("to"), s.get("from")
    own_bare = (s.client_jid or "").split("/", 1)[0]
    if itype == "get":
        if not to or to.split("/", 1)[0] == own_bare:
            return (f"{_cap(sender)} asks {_their(sender)} server for {_their(sender)} own vCard (profile card).",
                    cite("own vCard"), "vCard get")
        return (f"{_cap(sender)} asks for {_local(to) or to}'s vCard (profile card); {_their(_local(to) or to)} "
                "server answers for them.", cite("another's vCard"), "vCard get")
    if itype == "set":
        fields = _vcard_fields(payload)
        return (f"{_cap(sender)} replaces {_their(sender)} vCard{f' ({fields})' if fields else ' with an empty one'}:"
                " the server stores it whole (there are no partial updates); anyone may read it.",
                cite("vCard update"), "vCard set")
    fields = _vcard_fields(payload)
    whose_bare = (frm or own_bare).split("/", 1)[0]
    own = not frm or whose_bare == own_bare
    whose = f"{_their(s.client)} own" if own else f"{_local(whose_bare) or whose_bare}'s"
    return (f"The server sends {s.client} {whose} vCard: {fields or 'empty'}.",
            cite("own vCard" if own else "another's vCard"), "vCard result")


def _private(s: _Subject, itype: str, payload, sender: str):
    """XEP-0049 §2.2: storing and fetching XML of one's own namespace; §3: nobody else's."""
    namespaces = []
    for child in payload:
        if isinstance(child.tag, str) and split_qname(child.tag)[0] not in namespaces:
            namespaces.append(split_qname(child.tag)[0])
    what = _and([f"'{ns}'" for ns in namespaces]) or "nothing"
    to = s.get("to")
    own_bare = (s.client_jid or "").split("/", 1)[0]
    if to and to.split("/", 1)[0] not in (own_bare, ""):
        return (f"{_cap(sender)} reaches for {_local(to) or to}'s private XML storage, which only that account may "
                "read or write: the server refuses (forbidden).", cite("another's private storage"),
                "private storage of another")
    if itype == "get":
        return (f"{_cap(sender)} asks {_their(sender)} server for the private XML it keeps under {what} "
                "(private XML storage: settings a client keeps on the account, such as bookmarks).",
                cite("private storage"), "private get")
    if itype == "set":
        return (f"{_cap(sender)} stores private XML under {what} on {_their(sender)} account: the server keeps it, "
                "replacing what that namespace held, and gives it to no one else.", cite("private storage"),
                "private set")
    return (f"The server sends {s.client} the private XML it keeps under {what} (empty when nothing was stored).",
            cite("private storage"), "private result")


def _push(payload, sender: str):
    """XEP-0357 §5 (enable) and §6 (disable): where the server publishes when a message waits for the account."""
    name, service, node = split_qname(payload.tag)[1], payload.get("jid") or "?", payload.get("node")
    where = f"{service}{f', node {node!r}' if node else ''}"
    if name == "enable":
        return (f"{_cap(sender)} asks {_their(sender)} server to notify the app's push service ({where}) whenever a "
                "message waits for the account while no session takes it: the app server then wakes the phone, "
                "which connects and fetches it.", cite("push enable"), "push enable")
    if name == "disable":
        return (f"{_cap(sender)} tells {_their(sender)} server to stop notifying {where}.", cite("push disable"),
                "push disable")
    return None
