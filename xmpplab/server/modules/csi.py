"""XEP-0352 Client State Indication: a phone in a pocket says so, and the server holds back the chatter.

After login the server offers ``<csi xmlns='urn:xmpp:csi:0'/>`` among the stream
features (XEP-0352 §4); the client then sends, beside its stanzas, one of two nonzas::

    C: <inactive xmlns='urn:xmpp:csi:0'/>      (the screen is off)
    C: <active xmlns='urn:xmpp:csi:0'/>        (the user is looking again)

What a server does with an inactive client is its own policy (§5). This one holds
back presence updates (available and unavailable presence: who came online, who
went away), keeping only the latest from each sender, and lets everything else
through at once, first writing what it held so the client sees things in order.
A message, a subscription request or an iq is never delayed. ``<active/>`` writes
what was held. At most ``MAX_HELD`` senders (``MAX_HELD_CHARS`` characters) are held;
one more writes them all, so what an inactive connection keeps stays bounded.
"""

from __future__ import annotations

from ...xml import NS_CLIENT, element, serialize, split_qname
from ..events import AFTER_AUTH
from ..slots import Slot

NS_CSI = "urn:xmpp:csi:0"
MAX_HELD = 500         # senders held at most ...
MAX_HELD_CHARS = 65536  # ... and characters: what a connection may keep is bounded (hardening)

#: Per session while it is inactive: the presence held back, by sender (text as it will be written).
HELD: Slot[dict] = Slot("csi: held presence", dict)


def setup(server):
    """Offer CSI after login (XEP-0352 §4) and follow each client's state (§5)."""
    server.hook(f"stream-features/{AFTER_AUTH}", lambda session: [element("csi", ns=NS_CSI)])
    server.hook(f"nonza/{NS_CSI}:inactive", inactive)
    server.hook(f"nonza/{NS_CSI}:active", active)
    server.hook("session-detached", _detached, 10)  # before stream management keeps the session


def _detached(session) -> bool:
    """The connection is gone and stream management keeps the session: what was held joins its queue."""
    flush(session)
    session.hold = None
    return False


def inactive(event) -> bool:
    """The client is not being looked at: hold presence updates from now on."""
    session = event.session
    if session.hold is None:
        HELD.put(session, {})
        session.hold = lambda stanza: _hold(session, stanza)
    return True


def active(event) -> bool:
    """The client is looked at again: write what was held, and hold nothing more."""
    flush(event.session)
    event.session.hold = None
    return True


def is_inactive(session) -> bool:
    """Whether the client said it is inactive (for views and tests)."""
    return session.hold is not None and HELD.get(session) is not None


def flush(session) -> int:
    """Write the held presence, oldest sender first; return how many."""
    held = HELD.get(session) or {}
    texts = list(held.values())
    held.clear()
    for text in texts:
        session.write_stanza(text)  # counted and kept by stream management (XEP-0198) like any other stanza
    return len(texts)


def _hold(session, stanza) -> bool:
    ns, kind = split_qname(stanza.tag)
    if kind != "presence" or stanza.get("type") not in (None, "unavailable"):
        flush(session)  # something that matters: first what came before it, then it
        return False
    held = HELD.of(session)
    sender = stanza.get("from") or ""
    held.pop(sender, None)  # the latest from each sender, in the order of their latest update
    held[sender] = serialize(stanza, NS_CLIENT)
    if len(held) > MAX_HELD or sum(map(len, held.values())) > MAX_HELD_CHARS:
        flush(session)
    return True
