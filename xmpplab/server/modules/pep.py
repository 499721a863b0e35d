"""XEP-0163 Personal Eventing Protocol: a pubsub service at every account's bare JID, fed by presence.

The account publishes to itself; contacts who share presence and show interest
through entity capabilities (XEP-0115) get each item, and the newest one when
they come online (4.3.4). Nickname (XEP-0172) and avatar (XEP-0084) are such nodes::

    C: <presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='…' ver='…'/></presence>   (romeo)
    S: <iq type='get' from='example.net' to='romeo@example.net/orchard' id='caps-…'>           (XEP-0115 6.2)
         <query xmlns='http://jabber.org/protocol/disco#info' node='…#…'/></iq>
    C: <iq type='result' …><query …>…<feature var='http://jabber.org/protocol/nick+notify'/></query></iq>
    S: <message from='juliet@example.com' to='romeo@example.net/orchard' type='headline'>   (last item, 4.3.4)
         <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='http://jabber.org/protocol/nick'>…

What this module hooks: pubsub iqs to an account's bare JID (or with no ``to``,
the account's own; XEP-0163 3) go to that account's
:class:`~xmpplab.server.pubsub.pep.PepService`; presence reaching an account's bare JID
from a contact, and each resource's own broadcast presence, feed the
:class:`~xmpplab.server.pubsub.pep.Interest`; the account's disco#info gets identity
``pubsub/pep`` and the pubsub features (6.1). Services are made when first needed and
read their nodes from the database, so they survive a restart. ``server.pep[jid]``
in a notebook is one account's service.
"""

from __future__ import annotations

from ...errors import StanzaError
from ...jid import JID
from ..pubsub import NS, NS_OWNER, PubSubError
from ..pubsub.caps import caps_of
from ..pubsub.model import FEATURES
from ..pubsub.pep import Interest, PepService
from ..pubsub.wire import error_for, handle_iq
from ..slots import Slot
from .blocking import blocks

requires = ("roster", "presence")

#: XEP-0163 6.1 and 5: the pubsub features a PEP service adds to XEP-0060's (auto-create 7.1.4,
#: auto-subscribe 9.1, filtered-notifications 9.2, last-published 6.1.7).
PEP_FEATURES = ("auto-create", "auto-subscribe", "filtered-notifications", "last-published")


class Pep:
    """Every account's :class:`PepService` (made on first use) and the :class:`Interest` they share."""

    def __init__(self, server):
        self.server = server
        self.services: dict[str, PepService] = {}
        self.interest = Interest(server, self.send_last)

    def __repr__(self) -> str:
        return f"<PEP: {len(self.services)} services, {len(self.interest.known)} caps known>"

    def __getitem__(self, jid) -> PepService:
        return self.service(JID(str(jid)))

    def service(self, jid: JID) -> PepService:
        """The PEP service of an account (its bare JID), read from the database the first time."""
        bare = str(jid.bare)
        found = self.services.get(bare)
        if found is None:
            found = self.services[bare] = PepService(self.server, bare, self.interest,
                                                     lambda other: blocks(self.server, jid.bare, other))
        return found

    def send_last(self, owner: str, full: str, nodes) -> None:
        """XEP-0163 4.3.4: ``full`` became available or interested: the newest item of each node it wants."""
        jid = JID(owner)
        if jid.domain in self.server.hosts and self.server.user_exists(jid):
            self.service(jid).send_last(full, nodes)

    def forget(self, bare) -> None:
        """An account was removed: its service and every trace of it on other services go."""
        service = self.services.pop(str(bare), None) or PepService(self.server, str(bare), self.interest)
        for node in list(service.nodes):
            self.server.storage.delete_pubsub_node(service.jid, node)
        for other in self.services.values():
            other.forget(bare)
        self.interest.seen.pop(str(bare), None)


#: The server's PEP state (``server.pep``).
PEP: Slot[Pep] = Slot("pep")


def setup(server):
    """Serve personal eventing (XEP-0163) for every account of the server."""
    pep = PEP.put(server, Pep(server))
    server.provide("pep", pep)
    for type_ in ("get", "set"):
        for ns in (NS, NS_OWNER):
            server.hook(f"iq-{type_}/bare/{ns}:pubsub", lambda event: serve(pep, event))
    server.hook("disco-identities/account", lambda query: [("pubsub", "pep", None)] if not query.node else [])
    server.hook("disco-features/account", account_features)
    server.hook("disco-items/account", lambda query: account_items(pep, query))
    server.hook("pre-presence/bare", lambda event: own_presence(pep, event), priority=10)
    server.hook("presence/bare", lambda event: contact_presence(pep, event), priority=10)
    server.hook("session-closed", lambda session: pep.interest.gone(session.jid_str, str(session.jid.bare)))
    server.hook("account-removed", lambda bare: pep.forget(bare))


def account_features(query) -> list[str]:
    """XEP-0163 6.1: the account's disco#info lists every XEP-0060 feature its service has."""
    if query.node:
        return []
    return [NS, *(f"{NS}#{f}" for f in (*FEATURES, *PEP_FEATURES))]


def account_items(pep: Pep, query) -> list[tuple[str, str, str | None]]:
    """XEP-0163 6.2: the account's nodes as disco#items, only those the asker may read (its access model)."""
    if query.node:
        return []
    service = pep.service(query.jid)
    asker = query.asker or query.jid
    return [(service.jid, node.name, node.config.title or None)
            for node in sorted(service.nodes.values(), key=lambda n: n.name)
            if node.may_access(asker, service.sees_presence)]


def serve(pep: Pep, event) -> bool:
    """A pubsub iq to an account's bare JID: its PEP service answers, errors with XEP-0060's conditions."""
    owner = event.to if event.to is not None else event.from_
    if owner is None or owner.domain not in event.server.hosts or not event.server.user_exists(owner):
        raise StanzaError("service-unavailable")
    service = pep.service(owner)
    try:
        handle_iq(service, event)
    except PubSubError as exc:
        reply = error_for(event.stanza, exc, service.jid)
        if not event.stanza.get("to"):
            reply.set("from", service.jid)
        event.server.send_back(reply, event)
    return True


def own_presence(pep: Pep, event) -> bool:
    """A resource's broadcast presence (no ``to``): its caps, shown to its own account (XEP-0163 4, case 3)."""
    if event.stanza.get("to") or event.from_ is None:
        return False
    observe(pep, str(event.from_.bare), event)
    return False


def contact_presence(pep: Pep, event) -> bool:
    """Presence reaching an account's bare JID from a contact's resource (4.3.4: how the service learns)."""
    if event.from_ is None or event.to is None or event.from_.resource is None or event.from_.bare == event.to.bare:
        return False
    if event.to.domain in event.server.hosts:
        observe(pep, str(event.to.bare), event)
    return False


def observe(pep: Pep, owner: str, event) -> None:
    """Available presence: remember the resource's caps; unavailable: forget it."""
    ptype = event.stanza.get("type")
    full = str(event.from_)
    if ptype is None:
        pep.interest.available(owner, full, caps_of(event.stanza))
    elif ptype in ("unavailable", "error"):
        pep.interest.gone(full, owner)


__all__ = ["PEP", "PEP_FEATURES", "Pep", "setup"]
