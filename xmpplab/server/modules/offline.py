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

from lxml import etree

from ...xml import NS_DELAY, NS_OFFLINE, serialize, sub

MAX_PER_USER = 1000


def setup(server):
    server.add_feature(NS_OFFLINE)
    server.hook("message/offline", store)
    server.hook("presence-available", deliver, priority=-10)


def store(event):
    server = event.server
    stanza = event.stanza
    mtype = stanza.get("type") or "normal"
    if mtype not in ("normal", "chat"):
        return False
    # XEP-0334 no-store hints are respected.
    if stanza.find("{urn:xmpp:hints}no-store") is not None or stanza.find("{urn:xmpp:hints}no-permanent-store") is not None:
        return False
    owner = str(event.to.bare)
    if server.storage.count_offline(owner) >= MAX_PER_USER:
        event.error("service-unavailable", "the recipient's offline storage is full")
        return True
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    server.storage.store_offline(owner, serialize(stanza, None), stamp)
    return True


def deliver(session):
    """Called when a resource becomes available (its first presence)."""
    if session.priority < 0:
        return False
    server = session.server
    for text, stamp in server.storage.pop_offline(str(session.jid.bare)):
        stanza = etree.fromstring(text)
        if stanza.find(f"{{{NS_DELAY}}}delay") is None:
            delay = sub(stanza, "delay", {"from": session.jid.domain, "stamp": stamp}, ns=NS_DELAY)
            delay.tail = None
        session.send(stanza)
    return False
