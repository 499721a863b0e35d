"""XEP-0280 Message Carbons: every resource of an account sees both sides of its conversations.

A client turns carbons on for its own session (XEP-0280 §4; off again, §5)::

    C: <iq type='set' id='c1'><enable xmlns='urn:xmpp:carbons:2'/></iq>
    S: <iq type='result' id='c1' to='romeo@example.net/home'/>

From then on, a chat message that another resource of the account *receives*
reaches this one too, wrapped (§7), and so does one that another resource *sends*
(§8)::

    <message from='romeo@example.net' to='romeo@example.net/home' type='chat'>
      <received xmlns='urn:xmpp:carbons:2'>
        <forwarded xmlns='urn:xmpp:forward:0'>
          <message xmlns='jabber:client' from='juliet@example.com/balcony' to='romeo@example.net/garden'
                   type='chat'><body>Wherefore art thou?</body></message>
        </forwarded>
      </received>
    </message>

Eligible (§6): type ``chat``; type ``normal`` with a ``<body/>``; or a chat
state, a receipt or a chat marker (what a conversation view shows). Never a
``groupchat``, an ``error``, a message from a group chat room (a private message
in a room carries ``<x xmlns='…muc#user'/>``), and never one with ``<private
xmlns='urn:xmpp:carbons:2'/>`` (§9) or the XEP-0334 hint ``<no-copy/>``.
A resource that received the original does not get a copy of it (§7), nor
does the one that sent it (§8).
"""

from __future__ import annotations

import copy

from ...ns import NS_CARBONS, NS_CHAT_MARKERS, NS_CHATSTATES, NS_FORWARD, NS_HINTS, NS_MUC_USER, NS_RECEIPTS
from ...xml import element, split_qname, sub
from ..slots import Slot

ENABLED: Slot[bool] = Slot("carbons: enabled", bool)
#: Per server, the sessions with carbons on, by account: most accounts have none, and then a message costs
#: one dictionary lookup here, nothing more.
BY_ACCOUNT: Slot[dict] = Slot("carbons: sessions by account", dict)

#: Payloads that make a message of any type part of a conversation (XEP-0280 §6).
CONVERSATION_NS = frozenset({NS_CHATSTATES, NS_RECEIPTS, NS_CHAT_MARKERS})


def setup(server):
    """Advertise carbons, let each session turn them on and off, and copy messages both ways (XEP-0280)."""
    server.add_feature(NS_CARBONS)
    for where in ("self", "host"):
        server.hook(f"iq-set/{where}/{NS_CARBONS}:enable", enable)
        server.hook(f"iq-set/{where}/{NS_CARBONS}:disable", disable)
    server.hook("session-closed", _forget)
    server.hook("session-resumed", _resumed)


#: Per server: whether the message hooks are on. They are only while some session has carbons enabled, so a
#: server where nobody uses them pays nothing per message (measured: about 0.9x messages/s otherwise).
ARMED: Slot[bool] = Slot("carbons: message hooks on", bool)


def _message_hooks():
    yield "message/delivered", received
    for where in ("full", "bare", "host", "remote", "component"):
        yield f"pre-message/{where}", sent


def _arm(server) -> None:
    """Hook the message path while some session has carbons on, unhook it when none has."""
    wanted = bool(BY_ACCOUNT.of(server))
    if ARMED.of(server) is wanted:
        return
    ARMED.put(server, wanted)
    for name, handler in _message_hooks():
        if wanted:
            server.hooks.add(name, handler)
        else:
            server.hooks.remove(name, handler)


def enable(event):
    """XEP-0280 §4: carbons on for the session that asked."""
    return _switch(event, True)


def disable(event):
    """XEP-0280 §5: carbons off for the session that asked."""
    return _switch(event, False)


def _switch(event, on: bool) -> bool:
    session = event.origin
    if session is None or event.stanza.get("to") not in (None, str(session.jid.bare), session.jid.domain):
        return False
    ENABLED.put(session, on)
    by_account = BY_ACCOUNT.of(event.server)
    sessions = by_account.setdefault(session.jid.bare, set())
    if on:
        sessions.add(session)
    else:
        sessions.discard(session)
        if not sessions:
            del by_account[session.jid.bare]
    _arm(event.server)
    event.reply()
    return True


def _resumed(session) -> None:
    """XEP-0198: a new connection took over a session; it gets its copies now."""
    sessions = BY_ACCOUNT.of(session.server).get(session.jid.bare)
    if sessions is not None and session.resumed_from in sessions:
        sessions.discard(session.resumed_from)
        sessions.add(session)


def _forget(session) -> None:
    by_account = BY_ACCOUNT.of(session.server)
    sessions = by_account.get(session.jid.bare) if session.jid is not None else None
    if sessions is not None:
        sessions.discard(session)
        if not sessions:
            del by_account[session.jid.bare]
            _arm(session.server)


def eligible(stanza) -> bool:
    """Whether a message is copied to an account's other resources (XEP-0280 §6, §9; XEP-0334 no-copy)."""
    mtype = stanza.get("type") or "normal"
    if mtype in ("groupchat", "error", "headline"):
        return False
    children = [c for c in stanza if isinstance(c.tag, str)]
    names = {split_qname(c.tag) for c in children}
    if (NS_CARBONS, "private") in names or (NS_HINTS, "no-copy") in names:
        return False
    if any(ns == NS_CARBONS for ns, _ in names):
        return False  # already a carbon: never copied again
    if (NS_MUC_USER, "x") in names:
        return False  # from a room, a private message in a room included (§6)
    if mtype == "chat":
        return True
    if any(name == "body" for _, name in names):
        return True
    return any(ns in CONVERSATION_NS for ns, _ in names)


def _copies(server, bare, skip) -> list:
    return [s for s in BY_ACCOUNT.of(server).get(bare, ()) if s not in skip and not s.closed]


def _wrap(stanza, direction: str, session):
    """The carbon for ``session``: ``<message from=bare to=full><DIRECTION><forwarded>original``."""
    carbon = element("message", {"from": str(session.jid.bare), "to": str(session.jid),
                                 "type": stanza.get("type") or None})
    forwarded = sub(sub(carbon, direction, ns=NS_CARBONS), "forwarded", ns=NS_FORWARD)
    forwarded.append(copy.deepcopy(stanza))
    return carbon


def received(event):
    """XEP-0280 §7: a message delivered to some resources of an account; a copy to its other carbons-enabled ones."""
    stanza = event.stanza
    if event.to.bare not in BY_ACCOUNT.of(event.server) or not eligible(stanza):
        return False
    for session in _copies(event.server, event.to.bare, event.extra.get("delivered", ())):
        session.send(_wrap(stanza, "received", session))
    return False


def sent(event):
    """XEP-0280 §8: a message a resource sent; a copy to the account's other carbons-enabled resources."""
    origin = event.origin
    stanza = event.stanza
    if origin is None or origin.jid.bare not in BY_ACCOUNT.of(event.server) or not eligible(stanza):
        return False
    to = event.to
    if to is not None and to.bare == origin.jid.bare:
        return False  # to oneself: the other resources get it as received, if at all
    for session in _copies(event.server, origin.jid.bare, (origin,)):
        session.send(_wrap(stanza, "sent", session))
    return False
