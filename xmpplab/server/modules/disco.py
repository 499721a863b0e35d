"""XEP-0030 Service Discovery: what the server, and an account, are and can do.

    C: <iq type='get' id='d1' to='example.com'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>
    S: <iq type='result' id='d1' from='example.com' ...>
         <query xmlns='http://jabber.org/protocol/disco#info'>
           <identity category='server' type='im' name='xmpplab'/>
           <feature var='http://jabber.org/protocol/disco#info'/> ...

This module answers; the other modules say what goes in the answers through
events (:mod:`xmpplab.server.events`): ``disco-identities/host``,
``disco-features/host`` (``server.add_feature(ns)`` is one such handler) and
``disco-items/host`` (the MUC service lists itself there), and
``disco-identities/account``, ``disco-features/account``, ``disco-items/account`` (``(jid, node, name)``)
for an account. An
account answers (``account/registered``, 4.1) to itself and to those
``disco-may-see`` allows: contacts that see its presence, says the roster.
"""

from ...errors import StanzaError
from ...jid import JID
from ...xml import NS_DISCO_INFO, NS_DISCO_ITEMS, element, sub
from ..events import AFTER_AUTH, DiscoQuery
from ..pubsub.caps import ver_of
from ..slots import Slot

NS_CAPS = "http://jabber.org/protocol/caps"
#: The XEP-0115 node naming this software, and the ``ver`` of each host's disco#info, made once per host.
CAPS_NODE = "urn:xmpplab:server"
CAPS_VER: Slot[dict] = Slot("disco: caps ver per host", dict)


def setup(server):
    """Answer disco#info and disco#items (XEP-0030) for the server and for accounts."""
    server.add_feature(NS_DISCO_INFO)
    server.add_feature(NS_DISCO_ITEMS)
    server.hook("disco-identities/host", lambda query: [("server", "im", query.server.name)])
    server.hook("disco-identities/account", lambda query: [("account", "registered", None)])
    server.hook("disco-features/account", lambda query: [NS_DISCO_INFO, NS_DISCO_ITEMS])
    server.hook(f"iq-get/host/{NS_DISCO_INFO}:query", host_info)
    server.hook(f"iq-get/host/{NS_DISCO_ITEMS}:query", host_items)
    server.hook(f"iq-get/bare/{NS_DISCO_INFO}:query", account_info)
    server.hook(f"iq-get/bare/{NS_DISCO_ITEMS}:query", account_items)
    server.hook(f"stream-features/{AFTER_AUTH}", caps_feature)


def caps_feature(session):
    """XEP-0115 §6.3: the server's own capabilities, announced in its stream features after login, so a
    client need not ask (it may: disco#info of the host with node ``CAPS_NODE#ver`` answers the same)."""
    host = session.host or session.server.default_domain
    return [element("c", {"hash": "sha-1", "node": CAPS_NODE, "ver": _ver(session.server, host)}, ns=NS_CAPS)]


def _ver(server, host: str) -> str:
    known = CAPS_VER.of(server)
    if host not in known:
        known[host] = ver_of(_info(server, "host", DiscoQuery(server, JID(host), None, None)))
    return known[host]


def _query(event) -> DiscoQuery:
    return DiscoQuery(event.server, event.to, event.from_, event.payload.get("node"))


def _info(server, about: str, query: DiscoQuery):
    """A disco#info answer from what the modules contribute: identities first, then features, sorted (3.1)."""
    hooks = server.hooks
    result = element("query", ns=NS_DISCO_INFO)
    for category, type_, name in hooks.collect(f"disco-identities/{about}", query):
        sub(result, "identity", {"category": category, "type": type_, "name": name})
    for var in sorted(set(hooks.collect(f"disco-features/{about}", query))):
        sub(result, "feature", {"var": var})
    return result


def host_info(event):
    """disco#info of the server (XEP-0030 3.1): what the modules' events contribute."""
    node = event.payload.get("node")
    if node and node != f"{CAPS_NODE}#{_ver(event.server, event.to.domain)}":  # XEP-0115 §6.2: ours answers
        raise StanzaError("item-not-found", f"no node {node!r} here")
    info = _info(event.server, "host", _query(event))
    if node:
        info.set("node", node)
    event.reply(info)
    return True


def host_items(event):
    """disco#items of the server (XEP-0030 4.1): what the modules' events contribute (components, say)."""
    query = element("query", ns=NS_DISCO_ITEMS)
    for jid, name in event.server.hooks.collect("disco-items/host", _query(event)):
        sub(query, "item", {"jid": jid, "name": name})
    event.reply(query)
    return True


def _may_see(event, query: DiscoQuery) -> bool:
    asker = event.from_
    if asker is None or asker.bare == event.to.bare:
        return True
    return event.server.hooks.fire("disco-may-see", query)


def account_info(event):
    """disco#info of an account (XEP-0030 3.1), only to those who may see it (``disco-may-see``: the roster)."""
    query = _query(event)
    if not event.server.user_exists(event.to) or not _may_see(event, query):
        raise StanzaError("service-unavailable")  # RFC 6121/XEP-0030: don't reveal the account to strangers
    result = _info(event.server, "account", query)
    if query.node:
        result.set("node", query.node)
    event.reply(result)
    return True


def account_items(event):
    """disco#items of an account: what the modules list (``disco-items/account``: personal eventing's nodes,
    XEP-0163 6.2), only to those who may see it (XEP-0030 4.1)."""
    asked = _query(event)
    if not event.server.user_exists(event.to) or not _may_see(event, asked):
        raise StanzaError("service-unavailable")
    query = element("query", ns=NS_DISCO_ITEMS)
    if asked.node:
        query.set("node", asked.node)
    for jid, node, name in event.server.hooks.collect("disco-items/account", asked):
        sub(query, "item", {"jid": jid, "node": node, "name": name})
    event.reply(query)
    return True
