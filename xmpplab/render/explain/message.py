"""Explaining messages (RFC 6121 §5): their type, where they go (bare or full JID, §8.5), and what they carry."""

from __future__ import annotations

from ...jid import JID, InvalidJID
from ...ns import NS_CARBONS, NS_CHATSTATES, NS_DELAY, NS_MAM, NS_MUC_USER, NS_RECEIPTS
from ...transcript.model import Direction
from ...xml import split_qname
from .. import specs
from .archive import archive_result, is_stanza_id, stanza_id
from .facts import CHAT_STATES, MESSAGE_TYPES, cite
from .pep import pep_event
from .pubsub import NS_EVENT, pubsub_event
from .subject import _recipient, _s2s_prefix, _sender, _Subject
from .words import (
    ROOM_SERVICES,
    _and,
    _cap,
    _domain,
    _is_bare_user,
    _is_full,
    _local,
    _quote,
    _self,
    _their,
    _they,
    _unique,
)

C2S, S2C = Direction.C2S, Direction.S2C


def _message(s: _Subject):
    mtype = s.get("type") or "normal"
    event = s.child(NS_EVENT)
    if event is not None:  # a publish-subscribe notification (XEP-0060 7.1.2.1)
        recipient = s.client if s.direction is S2C and not s.s2s else _recipient(s, "the recipient")
        return pep_event(event, s.get("from"), recipient) or pubsub_event(event, _sender(s), recipient)
    result = s.child(NS_MAM, "result")
    if result is not None:  # one message of an archive query's results (XEP-0313 4.2)
        return archive_result(result, s.client if s.direction is S2C else _recipient(s, "the client"), s.get("from"))
    body = s.element.findtext(f"{{{s.ns}}}body") if s.element is not None else None
    subject = s.element.findtext(f"{{{s.ns}}}subject") if s.element is not None else None
    kind_words = MESSAGE_TYPES.get(mtype, f"message of type {mtype}")
    sender, to = _sender(s), s.get("to")
    cites: list = []
    notes: list[str] = []
    said = f": {_quote(body)}" if body else ""
    if subject:
        said += f" (subject {_quote(subject, 40)})"
    frm = s.get("from")
    if s.direction is S2C and not s.s2s:
        client = s.client
        if frm and _local(frm) == _local(s.client_jid) and _domain(frm) == _domain(s.client_jid):
            text = f"{_cap(client)}'s own {mtype} message comes back to {_their(client)} session{said}."
        elif frm:
            text = f"The server delivers {sender}'s {kind_words} to {client}{said}."
        else:
            text = f"The server sends {client} a {kind_words}{said}."
    elif mtype == "groupchat" and to and _is_bare_user(to) and not _looks_like_room(to, s):
        text = (f"{_cap(sender)} sends a {kind_words} to {to}{said}. But {to} is a person, not a room: a server "
                "delivers no groupchat message to a user's bare JID and answers with an error (service-unavailable).")
        cites += cite("message to a bare JID")
    elif mtype == "groupchat":
        room = to.split("/", 1)[0] if to else "the room"
        text = f"{_cap(sender)} sends a {kind_words} to the room {room}{said}."
    else:
        target = _recipient(s, "the server")
        if to and _local(to) == _local(s.client_jid) and _domain(to) == _domain(s.client_jid) and not s.s2s:
            target = _self(sender)
        text = f"{_s2s_prefix(s)}{_cap(sender)} sends {target} a {kind_words}{said}."
    # what is inside
    extras = []
    for c in s.children():
        ns, name = split_qname(c.tag)
        if ns == NS_CHATSTATES:
            if body:
                extras.append(f"the chat state '{name}'")
            cites += cite("chat state")
        elif ns == NS_RECEIPTS:
            extras.append("a request for a delivery receipt" if name == "request" else "a delivery receipt")
            cites += cite("receipt")
        elif ns == NS_DELAY:
            stamp = c.get("stamp")
            extras.append(f"a delay stamp: it was stored while the recipient was offline and sent on later"
                          f"{f' (stamped {stamp})' if stamp else ''}")
            cites += cite("delay")
        elif ns == NS_MUC_USER:
            extras.append("multi-user chat details")
            cites += cite("MUC")
        elif ns == NS_CARBONS:
            extras.append(_carbon(c, name))
            cites += cite(f"carbon {name}" if name in ("sent", "received", "private") else "carbon")
        elif is_stanza_id(ns):
            words, found = stanza_id(c)
            extras.append(words)
            cites += found
        elif ns in (s.ns,) and name in ("body", "subject", "thread"):
            continue
        else:
            known = specs.namespace_xep(ns)
            if known:
                extras.append(known[1])
                cites.append(known[0])
    state = s.child(NS_CHATSTATES)
    if not body and state is not None:
        name = split_qname(state.tag)[1]
        doing = CHAT_STATES.get(name, f"is in the chat state '{name}'")
        listener = _recipient(s, "the other side") if s.direction is not S2C else s.client
        text = (f"{_cap(sender)} tells {listener} that {_they(sender)} {_verb(sender, doing)} (a chat state "
                f"notification '{name}', no body).")
    if extras:
        text += f" It carries {_and(extras)}."
    # where it goes: bare or full JID (RFC 6121 section 8.5)
    invalid = _invalid_address(to) if s.direction is not S2C else None
    if invalid:
        text += (f" But {to} is not a valid address ({invalid}, RFC 7622): it names nobody, so the server delivers "
                 "nothing and answers with a jid-malformed error.")
        cites = [specs.stanza_error("jid-malformed")] + cites
    elif mtype == "groupchat":
        cites = cite("groupchat message") + cites
    elif mtype in ("chat", "normal", "headline") and s.direction is not S2C and _is_bare_user(to):
        owner = _local(to)
        who = {"chat": "the most available one (highest priority), or every session that opted in to get all "
                       "chats", "normal": "the most available one, or all with a non-negative priority",
               "headline": "all with a non-negative priority"}[mtype]
        text += (f" It is addressed to the bare JID {to}, so {owner}'s server chooses which of {_their(owner)} "
                 f"sessions get it ({who}).")
        cites = cite("message to a bare JID") + cites
    elif mtype in ("chat", "normal", "headline") and s.direction is not S2C and _is_full(to):
        gone = {"chat": "the server may give it to the account's other sessions instead, as if it were sent to "
                        "the bare JID",
                "normal": "the sender gets a service-unavailable error back",
                "headline": "it is dropped without a word: nobody gets it, and the sender is not told"}[mtype]
        text += f" It is addressed to the full JID {to}: only that session gets it; if it is not online, {gone}."
        cites = cite("message to a full JID") + cites
    else:
        cites = cite("message") + cites
    if mtype == "chat":
        cites += cite("chat message")
    return text, _unique(cites), mtype + " message", notes


def _verb(name: str, phrase: str) -> str:
    """'is typing' -> 'are typing' for 'they'."""
    if _they(name) != "they":
        return phrase
    return phrase.replace("is ", "are ", 1).replace("has ", "have ", 1)


def _invalid_address(to: str | None) -> str | None:
    """Why ``to`` is not a JID (RFC 7622), or None when it is one (or there is none)."""
    if not to:
        return None
    try:
        JID(to)
    except InvalidJID as exc:
        return exc.reason
    return None


def _looks_like_room(to: str, s: _Subject) -> bool:
    """Whether ``to`` may be a chat room: a domain of its own, or on the domain of a chat service (XEP-0045 rooms
    live on a service's domain, such as conference.example.com); a user's server never hosts rooms there."""
    domain = _domain(to) or ""
    return domain.startswith(ROOM_SERVICES) or "@" not in to


def _carbon(wrapper, name: str) -> str:
    """What a carbon copies (XEP-0280 §7, §8): who sent the original to whom, seen by another device."""
    inner = next((m for f in wrapper for m in f if isinstance(m.tag, str)), None)
    if name == "private":
        return "a request not to copy it to the sender's other devices (no carbons for this one)"
    if inner is None or name not in ("sent", "received"):
        return "a message carbon (a copy of a message another of the user's sessions sent or received)"
    frm, to = inner.get("from") or "someone", inner.get("to") or "someone"
    if name == "sent":
        return (f"a carbon: a copy of the message {frm} sent to {to}, so that this device of the same "
                "account sees its own side of the conversation")
    return (f"a carbon: a copy of the message {to} received from {frm}, so that every device of the account "
            "sees the conversation")
