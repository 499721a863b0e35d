"""XEP-0357 Push Notifications: wake a phone's app when a message waits for it.

A phone's app cannot keep a connection open all day. Its app server runs an XMPP push
service (a pubsub service, often a component such as ``push.example.com``); the app
tells the user's server where to publish (§5)::

    C: <iq type='set' id='x42'><enable xmlns='urn:xmpp:push:0' jid='push.example.com' node='yxs32uqs'/></iq>
    S: <iq type='result' id='x42' to='juliet@example.com/phone'/>

From then on, when a chat message reaches the account and no session takes it now (it
goes to offline storage, or waits in a session whose connection dropped, XEP-0198), the
server publishes a notification to each service it was given (§7); the app server wakes
the phone through Apple's or Google's push, and the app connects and fetches the message::

    S: <iq type='set' from='juliet@example.com' to='push.example.com' id='push-…'>
         <pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='yxs32uqs'><item>
           <notification xmlns='urn:xmpp:push:0'><x xmlns='jabber:x:data' type='submit'>
             <field var='FORM_TYPE'><value>urn:xmpp:push:summary</value></field>
             <field var='message-count'><value>1</value></field>
             <field var='last-message-sender'><value>romeo@example.net/orchard</value></field>
           </x></notification></item></publish></pubsub></iq>

The summary names the sender and the count of messages waiting since the account was last
online, not the body: the push service belongs to someone else, and Apple's and Google's
servers see what it passes on (§10 warns of exactly this). A ``publish-options`` form
given with ``<enable/>`` (an app server's secret) goes with every publish (§5). An error
answer to a publish disables that service and node (§7.1). ``<disable/>`` removes a
service, or one of its nodes (§6). Enabled services are kept in the database; the
account's disco#info lists ``urn:xmpp:push:0`` (§4.1).
"""

from __future__ import annotations

import contextlib
import logging
import secrets

from ...jid import JID, InvalidJID
from ...xml import NS_CLIENT, XMLInputError, element, parse_fragment, serialize, sub
from ..forms import NS_DATA, find_form, values
from ..slots import Slot

log = logging.getLogger("xmpplab.server")

NS_PUSH = "urn:xmpp:push:0"
NS_SUMMARY = "urn:xmpp:push:summary"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
PUBLISH_OPTIONS = "http://jabber.org/protocol/pubsub#publish-options"
MAX_SERVICES = 10  # per account: an app per device is a handful
SCHEMA = ("CREATE TABLE IF NOT EXISTS push (owner TEXT NOT NULL, jid TEXT NOT NULL, node TEXT NOT NULL, "
          "options TEXT, PRIMARY KEY (owner, jid, node));")
requires = ("offline",)

#: Per server: each account's enabled services, {(service JID, node): publish-options XML or None}.
ENABLED: Slot[dict] = Slot("push: the services each account enabled", dict)
#: Per server: how many messages have waited for each account since it was last online.
WAITING: Slot[dict] = Slot("push: messages waiting per account", dict)


def setup(server):
    """Let accounts enable push services (§5, §6) and publish to them when a message waits (§7)."""
    server.storage.add_tables(SCHEMA)
    enabled = ENABLED.put(server, {})
    WAITING.put(server, {})
    for owner, jid, node, options in server.storage.rows("SELECT owner, jid, node, options FROM push"):
        enabled.setdefault(owner, {})[(jid, node)] = options
    server.hook("disco-features/account", lambda query: [] if query.node else [NS_PUSH])
    server.hook(f"iq-set/self/{NS_PUSH}:enable", enable)
    server.hook(f"iq-set/self/{NS_PUSH}:disable", disable)
    server.hook("message/offline", lambda event: offline(server, event), priority=100)
    server.hook("sm-held", lambda held: waiting(server, held[0].jid, held[1]))
    server.hook("presence-available", lambda session: _online(server, session))
    server.hook("session-resumed", lambda session: _online(server, session))
    server.hook("account-removed", lambda bare: _forget(server, bare))


def enable(event) -> bool:
    """§5: publish to ``jid`` (and ``node``) from now on, with the publish-options form if one came."""
    el, owner = event.payload, str(event.from_.bare)
    try:
        service = JID(el.get("jid") or "")
    except InvalidJID as exc:
        event.error("bad-request", f"enable names the push service in 'jid': {exc.reason}")
        return True
    node = el.get("node") or ""
    if not node:
        event.error("bad-request", "enable names the node of the push service to publish to ('node')")
        return True
    form = find_form(el)
    options = None
    if form is not None:
        if values(form).get("FORM_TYPE", [""])[0] != PUBLISH_OPTIONS:
            event.error("bad-request", f"the form of enable is one of FORM_TYPE {PUBLISH_OPTIONS}")
            return True
        options = serialize(form, NS_CLIENT)
    mine = ENABLED.of(event.server).setdefault(owner, {})
    key = (str(service), node)
    if key not in mine and len(mine) >= MAX_SERVICES:
        event.error("resource-constraint", f"an account enables at most {MAX_SERVICES} push services here")
        return True
    mine[key] = options  # enabled again: the last publish options win (§5)
    event.server.storage.rows("INSERT OR REPLACE INTO push (owner, jid, node, options) VALUES (?, ?, ?, ?)",
                              (owner, *key, options))
    event.reply()
    return True


def disable(event) -> bool:
    """§6: stop publishing to a service, or to one node of it."""
    el, owner = event.payload, str(event.from_.bare)
    try:
        service = str(JID(el.get("jid") or ""))
    except InvalidJID as exc:
        event.error("bad-request", f"disable names the push service in 'jid': {exc.reason}")
        return True
    node = el.get("node")
    _remove(event.server, owner, service, node)
    event.reply()
    return True


def _remove(server, owner: str, service: str, node: str | None) -> None:
    mine = ENABLED.of(server).get(owner, {})
    for key in [k for k in mine if k[0] == service and (node is None or k[1] == node)]:
        del mine[key]
        server.storage.rows("DELETE FROM push WHERE owner = ? AND jid = ? AND node = ?", (owner, *key))
    if not mine:
        ENABLED.of(server).pop(owner, None)


def offline(server, event) -> bool:
    """A message goes to offline storage: notify, unless a dropped session's queue notified already (sm-held)."""
    return False if event.extra.get("held") else waiting(server, event.to, event.stanza)


def waiting(server, to, stanza) -> bool:
    """A message waits for the account (offline, or for a dropped connection): notify its services (§7)."""
    if to is None or stanza.find(f"{{{NS_CLIENT}}}body") is None:
        return False
    if (stanza.get("type") or "normal") not in ("normal", "chat"):
        return False
    owner = str(JID(str(to)).bare)
    services = ENABLED.of(server).get(owner)
    if not services:
        return False
    count = WAITING.of(server)[owner] = WAITING.of(server).get(owner, 0) + 1
    for (service, node), options in list(services.items()):
        server.send_iq(_publish(owner, service, node, options, count, stanza.get("from")),
                       lambda answer, key=(service, node): _answered(server, owner, key, answer))
    return False  # offline storage (or the session's queue) keeps the message itself


def _publish(owner: str, service: str, node: str, options: str | None, count: int, sender: str | None):
    """The publish of §7: a notification with the urn:xmpp:push:summary form, and the publish options."""
    iq = element("iq", {"type": "set", "from": owner, "to": service, "id": f"push-{secrets.token_hex(6)}"})
    pubsub = sub(iq, "pubsub", ns=NS_PUBSUB)
    item = sub(sub(pubsub, "publish", {"node": node}), "item")
    form = sub(sub(item, "notification", ns=NS_PUSH), "x", {"type": "submit"}, ns=NS_DATA)
    for var, value in (("FORM_TYPE", NS_SUMMARY), ("message-count", str(count)), ("last-message-sender", sender)):
        if value:
            sub(sub(form, "field", {"var": var}), "value", text=value)
    if options:
        with contextlib.suppress(XMLInputError):  # stored by enable(), so well-formed
            sub(pubsub, "publish-options").append(parse_fragment(options))
    return iq


def _answered(server, owner: str, key: tuple[str, str], answer) -> None:
    """§7.1: a publish answered with an error disables that service and node."""
    if answer.stanza.get("type") == "error":
        log.info("push: %s refused a notification for %s; disabled (XEP-0357 7.1)", key[0], owner)
        _remove(server, owner, key[0], key[1])


def _online(server, session) -> bool:
    WAITING.of(server).pop(str(session.jid.bare), None)
    return False


def _forget(server, bare) -> bool:
    ENABLED.of(server).pop(str(bare), None)
    WAITING.of(server).pop(str(bare), None)
    server.storage.rows("DELETE FROM push WHERE owner = ?", (str(bare),))
    return False


__all__ = ["ENABLED", "NS_PUSH", "setup"]
