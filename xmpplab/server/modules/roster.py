"""RFC 6121 section 2: the roster, the server-side contact list of an account.

Roster get (2.1.3, 2.2). Asking for the roster makes the resource an
*interested resource* (2.1.6), which from then on receives roster pushes::

    C: <iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>
    S: <iq type='result' id='r1' to='juliet@example.com/balcony'>
         <query xmlns='jabber:iq:roster' ver='3'>
           <item jid='romeo@example.net' name='Romeo' subscription='both'><group>Friends</group></item>
           <item jid='nurse@example.com' subscription='none' ask='subscribe'/>
         </query></iq>

Roster versioning (2.6): every change of what a roster shows bumps a
counter, sent as ``ver``. A client that sends the version it has cached gets
an empty result when nothing changed (2.6.3), and pushes afterwards::

    C: <iq type='get' id='r2'><query xmlns='jabber:iq:roster' ver='3'/></iq>
    S: <iq type='result' id='r2' to='juliet@example.com/balcony'/>

Roster set: add or update one item (2.3, 2.4). The item is replaced exactly
as given (name and groups); 'subscription' (other than "remove"), 'ask' and
'approved' cannot be set this way, they are ignored (2.1.2, 2.1.5). The
server answers, then pushes the new item to every interested resource,
including the one that sent the set (2.3.2, 2.1.6)::

    C: <iq type='set' id='r3'><query xmlns='jabber:iq:roster'>
         <item jid='nurse@example.com' name='Nurse'><group>Servants</group></item></query></iq>
    S: <iq type='result' id='r3' to='juliet@example.com/balcony'/>
    S: <iq type='set' id='push-…' to='juliet@example.com/balcony'>
         <query xmlns='jabber:iq:roster' ver='4'>
           <item jid='nurse@example.com' name='Nurse' subscription='none'><group>Servants</group></item>
         </query></iq>
    C: <iq type='result' id='push-…'/>

Errors (2.3.3): more than one <item/>, or the same group twice, is
<bad-request/>; a <group/> of zero length, or a name or group longer than
:data:`MAX_TEXT`, is <not-acceptable/>. A missing or invalid 'jid', or one
with a resource, is <bad-request/>; the account itself is <not-allowed/>.

Remove (2.5): ``subscription='remove'``. The server deletes the item, answers,
pushes ``<item jid='…' subscription='remove'/>`` and cancels the presence
subscriptions in both directions: the presence module sends ``unsubscribed``
(when the contact was subscribed to the user, or had asked to be) and
``unsubscribe`` (when the user was subscribed to the contact, or had asked
to be), see :func:`xmpplab.server.modules.presence.PresenceService.roster_item_removed`.
An item that is not in the roster is <item-not-found/> (2.5.3).

Pushes carry no 'from' (2.1.6 allows none, or the account's bare JID).
The presence module changes subscription states through :class:`Roster`
(the slot :data:`ROSTER`; ``server.roster`` in a notebook), which pushes
whenever what the roster shows changed. The stream features after
authentication offer roster versioning (2.6.1)::

    S: <stream:features><bind …/><ver xmlns='urn:xmpp:features:rosterver'/></stream:features>
"""

from __future__ import annotations

import secrets
from types import SimpleNamespace

from ...errors import StanzaError
from ...jid import JID, InvalidJID
from ...xml import NS_ROSTER, element, sub
from ..events import AFTER_AUTH
from ..slots import Slot
from ..storage import RosterItem

#: The longest name or group we keep, in characters (2.3.3: "a server-configured limit").
MAX_TEXT = 1023
NS_ROSTER_VERSIONING = "urn:xmpp:features:rosterver"

#: The rosters of the server's accounts; and, per session, whether it asked for the roster (2.1.6).
ROSTER: Slot[Roster] = Slot("roster")
INTERESTED: Slot[bool] = Slot("roster: interested resource", bool)


def _key(jid) -> str:
    """A roster key: the bare JID as a string."""
    if isinstance(jid, JID):
        return str(jid.bare)
    return str(jid)


def _visible(item: RosterItem | None):
    """What a client sees of an item (None: not in the roster)."""
    if item is None or not item.in_roster:
        return None
    return (item.name, item.subscription, bool(item.ask), bool(item.approved), tuple(item.groups))


def _trivial(item: RosterItem) -> bool:
    """A row that records nothing: not in the roster, and no subscription state at all."""
    return (not item.in_roster and item.subscription == "none" and not item.ask
            and not item.pending_in and not item.approved)


def item_element(item: RosterItem | None, contact: str | None = None):
    """``<item jid=… name=… subscription=… ask='subscribe' approved='true'><group/>…</item>`` (2.1.2).

    With ``item=None``, the item of a removal push: ``<item jid=… subscription='remove'/>``.
    """
    if item is None:
        return element("item", {"jid": contact, "subscription": "remove"}, ns=NS_ROSTER)
    el = element("item", {"jid": item.contact, "name": item.name, "subscription": item.subscription or "none",
                          "ask": "subscribe" if item.ask else None,
                          "approved": "true" if item.approved else None}, ns=NS_ROSTER)
    for group in item.groups:
        sub(el, "group", text=group)
    return el


class Roster:
    """The rosters of all accounts (``server.roster``): items, state, pushes and versions.

    Owners and contacts are bare JIDs (a :class:`~xmpplab.jid.JID` or its string).
    A stored row with ``in_roster=False`` keeps subscription state (a pending
    inbound request, RFC 6121 A.1 "None + Pending In") for a contact the user
    has not added; it is not part of the roster the user sees.
    """

    def __init__(self, server):
        self.server = server

    @property
    def storage(self):
        """The server's storage, where the rosters live."""
        return self.server.storage

    # reading -------------------------------------------------------------
    def get(self, owner, contact) -> RosterItem | None:
        """The stored state of ``contact`` for ``owner``, in the roster or not."""
        return self.storage.get_item(_key(owner), _key(contact))

    def item(self, owner, contact) -> RosterItem | None:
        """The roster item of ``contact`` in ``owner``'s roster, or None (``server.roster_item``)."""
        item = self.get(owner, contact)
        return item if item is not None and item.in_roster else None

    def items(self, owner) -> list[RosterItem]:
        """The items of ``owner``'s roster (2.1.4)."""
        return [i for i in self.storage.get_roster(_key(owner)).values() if i.in_roster]

    def rows(self, owner) -> list[RosterItem]:
        """Every stored row of ``owner``, including state kept outside the roster."""
        return list(self.storage.get_roster(_key(owner)).values())

    def version(self, owner) -> str:
        """The owner's roster version as the ``ver`` attribute shows it (RFC 6121 2.6)."""
        return str(self.storage.roster_version(_key(owner)))

    def interested(self, owner) -> list:
        """The resources that requested the roster (2.1.6)."""
        return [s for s in self.server.resources(JID(_key(owner))) if INTERESTED.get(s)]

    # writing -------------------------------------------------------------
    def save(self, owner, item: RosterItem, force_push: bool = False, stored=None) -> bool:
        """Store ``item``; when what the roster shows changed, bump the version and push (2.1.6).

        ``force_push``: push even if nothing visible changed (a roster set always gets a push,
        2.3.2 and 2.4.2). ``stored()`` is called once the item is stored, before the pushes
        (the iq result, which a storage fault replaces with an error). Returns whether a push was sent.
        """
        owner = _key(owner)
        old = self.storage.get_item(owner, item.contact)
        if _trivial(item):
            if old is not None:
                self.storage.delete_item(owner, item.contact)
        else:
            self.storage.put_item(owner, item)
        if stored is not None:
            stored()
        if _visible(old) == _visible(item) and not (force_push and item.in_roster):
            return False
        self.push(owner, item.contact, item if item.in_roster else None)
        return True

    def remove(self, owner, contact, stored=None) -> RosterItem | None:
        """Delete ``contact`` from ``owner``'s roster with its subscription state; push the removal.

        ``stored()`` is called once the rows are deleted, before the push. Returns the item as it
        was (None if there was none).
        """
        owner, contact = _key(owner), _key(contact)
        old = self.storage.get_item(owner, contact)
        if old is None:
            return None
        self.storage.delete_item(owner, contact)
        self.storage.delete_subscription_request(owner, contact)
        if stored is not None:
            stored()
        if old.in_roster:
            self.push(owner, contact, None)
        return old

    def push(self, owner, contact: str, item: RosterItem | None) -> None:
        """Bump the roster version and send a roster push to every interested resource (2.1.6, 2.6)."""
        owner = _key(owner)
        ver = str(self.storage.bump_roster_version(owner))
        for session in self.interested(owner):
            iq = element("iq", {"type": "set", "id": f"push-{secrets.token_hex(6)}", "to": session.jid_str})
            query = sub(iq, "query", {"ver": ver}, ns=NS_ROSTER)
            query.append(item_element(item, contact))
            session.send(iq)


def setup(server):
    """Serve roster get and set (RFC 6121 2.1), roster versioning (2.6) and who may see an account."""
    roster = ROSTER.put(server, Roster(server))
    server.provide("roster", roster)
    server.provide("roster_item", roster.item)
    server.add_feature(NS_ROSTER)
    server.hook(f"stream-features/{AFTER_AUTH}", lambda session: [element("ver", ns=NS_ROSTER_VERSIONING)])
    server.hook("disco-may-see", may_see)
    server.hook(f"iq-get/self/{NS_ROSTER}:query", roster_get)
    server.hook(f"iq-set/self/{NS_ROSTER}:query", roster_set)


def may_see(query) -> bool:
    """XEP-0030 with RFC 6121: a contact subscribed to the account's presence (from/both) may discover it."""
    item = ROSTER.of(query.server).item(query.jid.bare, query.asker.bare)
    return item is not None and item.subscription in ("from", "both")


def roster_get(event):
    """2.1.3 / 2.2 / 2.6.3: answer with the roster (or an empty result when ``ver`` is current)."""
    server, session = event.server, event.origin
    owner = event.from_.bare
    roster = ROSTER.of(server)
    if session is not None:
        INTERESTED.put(session, True)  # 2.1.6: it requested the roster
    current = roster.version(owner)
    if event.payload.get("ver") == current:
        event.reply()  # 2.6.3: nothing changed since the version the client has
        return True
    query = element("query", {"ver": current}, ns=NS_ROSTER)
    for item in roster.items(owner):
        query.append(item_element(item))
    event.reply(query)
    return True


def _text(value: str | None, what: str) -> None:
    if value is not None and len(value) > MAX_TEXT:
        raise StanzaError("not-acceptable", f"the {what} is longer than {MAX_TEXT} characters (RFC 6121 2.3.3)")


def roster_set(event):
    """2.1.5 / 2.3 / 2.4 / 2.5: add, update or remove one item."""
    server = event.server
    owner = event.from_.bare
    children = [c for c in event.payload if isinstance(c.tag, str)]
    if len(children) != 1 or children[0].tag != f"{{{NS_ROSTER}}}item":
        raise StanzaError("bad-request", "a roster set carries exactly one <item/> (RFC 6121 2.3.3)")
    el = children[0]
    jid_s = el.get("jid")
    if not jid_s:
        raise StanzaError("bad-request", "the <item/> has no 'jid' attribute (RFC 6121 2.1.2.3)")
    try:
        jid = JID(jid_s)
    except InvalidJID as exc:
        raise StanzaError("bad-request", f"the item's 'jid' is not a valid JID: {exc.reason}") from None
    if jid.resource is not None:
        raise StanzaError("bad-request", "a roster item is a bare JID (no resource)")
    contact = str(jid)
    if jid == owner:
        raise StanzaError("not-allowed", "an account is not a contact of itself")
    roster = ROSTER.of(server)
    if el.get("subscription") == "remove":
        old = roster.get(owner, contact)
        if old is None or not old.in_roster:
            raise StanzaError("item-not-found", f"{contact} is not in the roster (RFC 6121 2.5.3)")
        roster.remove(owner, contact, stored=event.reply)
        server.hooks.fire("roster-item-removed", SimpleNamespace(owner=owner, item=old, session=event.origin))
        return True
    name = el.get("name") or None
    _text(name, "name")
    groups = [g.text or "" for g in el.findall(f"{{{NS_ROSTER}}}group")]
    if len(set(groups)) != len(groups):
        raise StanzaError("bad-request", "the same group appears twice (RFC 6121 2.3.3)")
    for group in groups:
        if group == "":
            raise StanzaError("not-acceptable", "a <group/> of zero length (RFC 6121 2.3.3)")
        _text(group, "group name")
    item = roster.get(owner, contact) or RosterItem(contact)
    item.name, item.groups, item.in_roster = name, groups, True
    # 2.3.2: the result to the resource that sent the set (once stored), and a push to all interested ones
    roster.save(owner, item, force_push=True, stored=event.reply)
    return True
