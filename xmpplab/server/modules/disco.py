"""XEP-0030 Service Discovery: what the server, and an account, are and can do.

    C: <iq type='get' id='d1' to='example.com'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>
    S: <iq type='result' id='d1' from='example.com' ...>
         <query xmlns='http://jabber.org/protocol/disco#info'>
           <identity category='server' type='im' name='xmpplab'/>
           <feature var='http://jabber.org/protocol/disco#info'/> ...

Items of the server list its components (the MUC service, when there is
one); other features add their own with ``server.add_feature(ns)`` and
``server.disco_items``. An account answers with its identity
(``account/registered``) to itself and to contacts that see its presence.
"""

from ...errors import StanzaError
from ...xml import NS_DISCO_INFO, NS_DISCO_ITEMS, element, sub


def setup(server):
    server.add_feature(NS_DISCO_INFO)
    server.add_feature(NS_DISCO_ITEMS)
    server.disco_items = {}  # host -> list of (jid, name)
    server.account_features = {NS_DISCO_INFO, NS_DISCO_ITEMS}
    server.hook(f"iq-get/host/{NS_DISCO_INFO}:query", host_info)
    server.hook(f"iq-get/host/{NS_DISCO_ITEMS}:query", host_items)
    server.hook(f"iq-get/bare/{NS_DISCO_INFO}:query", account_info)
    server.hook(f"iq-get/bare/{NS_DISCO_ITEMS}:query", account_items)


def host_info(event):
    node = event.payload.get("node")
    if node:
        raise StanzaError("item-not-found", f"no node {node!r} here")
    query = element("query", ns=NS_DISCO_INFO)
    sub(query, "identity", {"category": "server", "type": "im", "name": event.server.name})
    for var in event.server.disco_features(event.to.domain):
        sub(query, "feature", {"var": var})
    event.reply(query)
    return True


def host_items(event):
    query = element("query", ns=NS_DISCO_ITEMS)
    for jid, name in event.server.disco_items.get(event.to.domain, []):
        sub(query, "item", {"jid": jid, "name": name})
    event.reply(query)
    return True


def _may_see(event) -> bool:
    server, owner, asker = event.server, event.to.bare, event.from_
    if asker is None or asker.bare == owner:
        return True
    roster = getattr(server, "roster_item", None)
    item = roster(owner, asker.bare) if roster else None
    return item is not None and item.subscription in ("from", "both")


def account_info(event):
    if not event.server.user_exists(event.to):
        raise StanzaError("service-unavailable")
    if not _may_see(event):
        raise StanzaError("service-unavailable")  # RFC 6121/XEP-0030: don't reveal the account to strangers
    query = element("query", ns=NS_DISCO_INFO)
    if event.payload.get("node"):
        query.set("node", event.payload.get("node"))
    sub(query, "identity", {"category": "account", "type": "registered"})
    for var in sorted(getattr(event.server, "account_features", ())):
        sub(query, "feature", {"var": var})
    event.reply(query)
    return True


def account_items(event):
    if not event.server.user_exists(event.to) or not _may_see(event):
        raise StanzaError("service-unavailable")
    query = element("query", ns=NS_DISCO_ITEMS)
    if event.payload.get("node"):
        query.set("node", event.payload.get("node"))
    event.reply(query)
    return True
