"""XEP-0160 offline messages: kept while nobody is online, delivered with a XEP-0203 delay stamp.

When a message of type normal or chat reaches an account with no available
resource, the router fires ``message/offline``; the message is stored, and
delivered when the user next sends available presence with a non-negative
priority, marked with when the server received it::

    <message from='romeo@example.net/orchard' to='juliet@example.com' type='chat'>
      <body>Art thou awake?</body>
      <delay xmlns='urn:xmpp:delay' from='example.com' stamp='2026-11-24T08:00:00Z'/>
    </message>
"""

import datetime
import logging

from ...xml import NS_DELAY, NS_OFFLINE, XMLInputError, parse_fragment, serialize, sub

log = logging.getLogger("xmpplab.server")

MAX_PER_USER = 1000

requires = ("presence",)  # it fires presence-available, when the messages are delivered


def setup(server):
    """Keep messages for offline accounts and deliver them at the next available presence (XEP-0160)."""
    server.add_feature(NS_OFFLINE)
    server.hook("message/offline", store)
    server.hook("presence-available", deliver, priority=-10)


def store(event):
    """Keep a normal or chat message for an account with no available resource (XEP-0160 3); False for others."""
    server = event.server
    stanza = event.stanza
    mtype = stanza.get("type") or "normal"
    if mtype not in ("normal", "chat"):
        return False
    # XEP-0334 no-store hints are respected.
    if any(stanza.find(f"{{urn:xmpp:hints}}{hint}") is not None for hint in ("no-store", "no-permanent-store")):
        return False
    owner = str(event.to.bare)
    if server.storage.count_offline(owner) >= MAX_PER_USER:
        event.error("service-unavailable", "the recipient's offline storage is full")
        return True
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    server.storage.store_offline(owner, serialize(stanza, None), stamp)
    return True


def deliver(session):
    """Called when a resource becomes available (its first presence).

    Each message is removed from storage only once it was written to the session, so a
    connection that goes away midway keeps the rest for next time. A stored row that cannot
    be read any more (written by an older version, or edited by hand) is logged and
    dropped: it could never be delivered, and keeping it would log the same line at every
    login and count against the recipient's quota.
    """
    if session.priority < 0:
        return False
    server = session.server
    owner = str(session.jid.bare)
    for row_id, text, stamp in server.storage.offline_messages(owner):
        if session.closed:
            break
        try:
            stanza = parse_fragment(text)
        except XMLInputError as exc:
            log.warning("offline message %s for %s dropped: it cannot be read (%s)", row_id, owner, exc)
            server.storage.delete_offline(owner, row_id)
            continue
        if stanza.find(f"{{{NS_DELAY}}}delay") is None:
            delay = sub(stanza, "delay", {"from": session.jid.domain, "stamp": stamp}, ns=NS_DELAY)
            delay.tail = None
        session.send(stanza)
        server.storage.delete_offline(owner, row_id)
    return False
