"""RFC 6121 sections 3 and 4: presence subscriptions and presence, with Appendix A's state machine.

Both ends of a subscription live in this one process (every domain the server
serves), so each stanza is handled twice: once by the *user's server* as it
goes out (``pre-presence/…`` hooks: stamp, update the sender's roster, route)
and once by the *contact's server* as it comes in (``presence/bare``: update
the receiver's roster, deliver, auto-reply). A remote domain is not reachable
yet: what is routed there comes back as a ``remote-server-not-found`` error.

Subscription states (A.1), as stored in a :class:`~xmpplab.server.storage.RosterItem`
(``subscription``, ``ask`` = pending out, ``pending_in``)::

    none   none+out   none+in   none+out+in   to   to+in   from   from+out   both

Requesting a subscription (3.1), Romeo asks, Juliet approves::

    R: <presence to='juliet@example.com' type='subscribe'><nick xmlns='http://jabber.org/protocol/nick'>Romeo</nick></presence>
    S→R (push): <item jid='juliet@example.com' subscription='none' ask='subscribe'/>          none → none+out
    S→R: <presence from='juliet@example.com' to='romeo@example.net' type='unavailable'/>    (receipt, as Prosody)
    S→J: <presence from='romeo@example.net' to='juliet@example.com' type='subscribe'><nick …>Romeo</nick></presence>
                                                           (kept whole, redelivered at each login until answered)
    J: <presence to='romeo@example.net' type='subscribed'/>
    S→J (push): <item jid='romeo@example.net' subscription='from'/>                           none+in → from
    S→R: <presence from='juliet@example.com' to='romeo@example.net' type='subscribed'/>
    S→R (push): <item jid='juliet@example.com' subscription='to'/>                            none+out → to
    S→R: <presence from='juliet@example.com/balcony' to='romeo@example.net'/>   (her current presence, 3.1.5)

Cancelling (3.2, ``unsubscribed``), unsubscribing (3.3, ``unsubscribe``) and
pre-approving (3.4, ``subscribed`` before any request: the item gets
``approved='true'`` and the later request is approved at once) follow the
tables :data:`OUTBOUND` (A.2) and :data:`INBOUND` (A.3). Subscription stanzas
are stamped with the sender's bare JID and sent to the contact's bare JID
(3.1.2); roster pushes follow every change that shows in a roster. Where a
stanza is redundant the contact's server answers for the contact: a
``subscribe`` from someone already subscribed is answered ``subscribed``
(3.1.3); a redundant ``subscribed``/``unsubscribed`` is not routed (A.2.3,
A.2.4) and one that arrives in the wrong state is not delivered (A.3).

Presence (4): the first available presence (initial presence, 4.2) goes to
every contact with subscription from/both and to all the user's available
resources including the sender; the server then probes (4.3) the contacts
the user is subscribed to (to/both), from the user's bare JID, and each
contact's server answers with the last presence of each available resource
(or the last unavailable presence, or nothing, 4.3.2); the new resource also
gets the presence of the user's other resources and any pending subscription
requests. Later presence (4.4) goes to the same people; unavailable presence
(4.5), sent or implied by a closed stream, goes to them and to every JID
that got directed presence (4.6) from that session::

    J: <presence><show>away</show><priority>5</priority></presence>
    S→J: <presence from='juliet@example.com/balcony' to='juliet@example.com/balcony'>…</presence>
    S→R: <presence from='juliet@example.com/balcony' to='romeo@example.net'>…</presence>
    S→R: <presence from='juliet@example.com' to='romeo@example.net' type='probe'/>   (initial presence only)

``<priority/>`` (-128…127, 4.7.2.3) chooses where messages to the bare JID
go (the router's RFC 6121 8.5.2.1.1 rules); a resource becoming available
fires ``presence-available`` (offline messages listen).

Two behaviours copied from Prosody, allowed but not required by the RFC,
make the server's stanzas match Prosody's own test scripts (see
:data:`ACK_SUBSCRIBE_WITH_UNAVAILABLE` and :data:`PROBE_AFTER_APPROVAL`).
"""

from __future__ import annotations

import copy
import logging

from lxml import etree

from ...errors import error_reply
from ...jid import JID
from ...presence_values import clamp_priority
from ...xml import NS_CLIENT, element, serialize
from ..c2s import State
from ..events import AFTER_AUTH
from ..slots import Slot
from ..storage import RosterItem
from .roster import ROSTER

requires = ("roster",)

log = logging.getLogger("xmpplab.server")

SUBSCRIPTION_TYPES = ("subscribe", "subscribed", "unsubscribe", "unsubscribed")
PRESENCE_TYPES = (None, "unavailable", "probe", "error") + SUBSCRIPTION_TYPES

#: Prosody answers a subscription request it stores with an unavailable presence from the
#: contact's bare JID ("acknowledging receipt"); the RFC neither asks for it nor forbids it.
#: It reveals nothing (it is sent whatever the contact's availability).
ACK_SUBSCRIBE_WITH_UNAVAILABLE = True
#: Prosody probes the contact after approving a request when the approver is itself subscribed
#: to the requester (state "Both"), so both ends end up with fresh presence. A probe from a
#: subscribed user is always legitimate (4.3); it repeats presence the user may already have.
PROBE_AFTER_APPROVAL = True

NS_PRE_APPROVAL = "urn:xmpp:features:pre-approval"
#: The service, per server; per session, the JIDs that got directed presence from it (4.6.3).
PRESENCE: Slot[PresenceService] = Slot("presence")
DIRECTED: Slot[set] = Slot("presence: directed to", set)

#: The names RFC 6121 Appendix A uses for the nine defined states.
STATE_NAMES = {
    "none": "None", "none+out": "None + Pending Out", "none+in": "None + Pending In",
    "none+out+in": "None + Pending Out/In", "to": "To", "to+in": "To + Pending In",
    "from": "From", "from+out": "From + Pending Out", "both": "Both",
}

#: A.2: the user's server and the subscription stanzas its user sends: state -> (route?, new state or None).
OUTBOUND = {
    "subscribe": {  # A.2.1 (3.1.2)
        "none": (True, "none+out"), "none+out": (True, None), "none+in": (True, "none+out+in"),
        "none+out+in": (True, None), "to": (True, None), "to+in": (True, None),
        "from": (True, "from+out"), "from+out": (True, None), "both": (True, None)},
    "unsubscribe": {  # A.2.2 (3.3.2)
        "none": (True, None), "none+out": (True, "none"), "none+in": (True, None),
        "none+out+in": (True, "none+in"), "to": (True, "none"), "to+in": (True, "none+in"),
        "from": (True, None), "from+out": (True, "from"), "both": (True, "from")},
    "subscribed": {  # A.2.3 (3.1.5); in none, none+out and to a pre-approval (3.4)
        "none": (False, None), "none+out": (False, None), "none+in": (True, "from"),
        "none+out+in": (True, "from+out"), "to": (False, None), "to+in": (True, "both"),
        "from": (False, None), "from+out": (False, None), "both": (False, None)},
    "unsubscribed": {  # A.2.4 (3.2.2); in none, none+out and to it cancels a pre-approval
        "none": (False, None), "none+out": (False, None), "none+in": (True, "none"),
        "none+out+in": (True, "none+out"), "to": (False, None), "to+in": (True, "to"),
        "from": (True, "none"), "from+out": (True, "none+out"), "both": (True, "to")},
}

#: A.3: the contact's server and the subscription stanzas that arrive: state -> (deliver?, new state or None).
INBOUND = {
    "subscribe": {  # A.3.1 (3.1.3); from, from+out, both: auto-reply "subscribed"
        "none": (True, "none+in"), "none+out": (True, "none+out+in"), "none+in": (False, None),
        "none+out+in": (False, None), "to": (True, "to+in"), "to+in": (False, None),
        "from": (False, None), "from+out": (False, None), "both": (False, None)},
    "unsubscribe": {  # A.3.2 (3.3.3)
        "none": (False, None), "none+out": (False, None), "none+in": (True, "none"),
        "none+out+in": (True, "none+out"), "to": (False, None), "to+in": (True, "to"),
        "from": (True, "none"), "from+out": (True, "none+out"), "both": (True, "to")},
    "subscribed": {  # A.3.3 (3.1.6)
        "none": (False, None), "none+out": (True, "to"), "none+in": (False, None),
        "none+out+in": (True, "to+in"), "to": (False, None), "to+in": (False, None),
        "from": (False, None), "from+out": (True, "both"), "both": (False, None)},
    "unsubscribed": {  # A.3.4 (3.2.3)
        "none": (False, None), "none+out": (True, "none"), "none+in": (False, None),
        "none+out+in": (True, "none+in"), "to": (True, "none"), "to+in": (True, "none+in"),
        "from": (False, None), "from+out": (True, "from"), "both": (True, "from")},
}

#: 3.4: a pre-approved request is approved at once: the state it leads to.
PREAPPROVED = {"none": "from", "none+out": "from+out", "to": "both"}


def state_of(item: RosterItem | None) -> str:
    """The Appendix A state of a stored item (``none`` when there is none)."""
    if item is None:
        return "none"
    sub = item.subscription
    if sub == "both":
        return "both"
    if sub == "to":
        return "to+in" if item.pending_in else "to"
    if sub == "from":
        return "from+out" if item.ask else "from"
    return "none" + ("+out" if item.ask else "") + ("+in" if item.pending_in else "")


def set_state(item: RosterItem, state: str) -> RosterItem:
    """Set an item's subscription fields from an Appendix A state such as ``none+out+in``; return the item."""
    parts = state.split("+")
    item.subscription = parts[0]
    item.ask = "out" in parts
    item.pending_in = "in" in parts
    return item


def subscribed_to(item: RosterItem | None) -> bool:
    """The owner sees the contact's presence (to/both)."""
    return item is not None and item.subscription in ("to", "both")


def subscribed_from(item: RosterItem | None) -> bool:
    """The contact sees the owner's presence (from/both)."""
    return item is not None and item.subscription in ("from", "both")


def _with(stanza, **attrs):
    """A copy of ``stanza`` with attributes set (None removes one)."""
    el = copy.deepcopy(stanza)
    el.tail = None
    for key, value in attrs.items():
        key = key.rstrip("_")
        if value is None:
            el.attrib.pop(key, None)
        else:
            el.set(key, str(value))
    return el


def _presence(frm, to, ptype=None):
    return element("presence", {"from": str(frm), "to": str(to), "type": ptype})


def _priority(stanza) -> int:
    """4.7.2.3: an integer from -128 to +127; anything else counts as 0, out of range is clamped."""
    text = (stanza.findtext(f"{{{NS_CLIENT}}}priority") or "").strip()
    try:
        value = int(text) if text else 0
    except ValueError:
        return 0
    return clamp_priority(value)


class PresenceService:
    """Presence and subscriptions for every domain of one server (:data:`PRESENCE`; ``server.presence``)."""

    def __init__(self, server):
        self.server = server
        #: The last unavailable presence of each account, to answer probes when it is offline (4.3.2).
        self.last_unavailable: dict[str, object] = {}

    @property
    def roster(self):
        """The roster module's service (read when an event arrives, never at setup)."""
        return ROSTER.of(self.server)

    # helpers ---------------------------------------------------------------
    def route(self, stanza) -> None:
        """Route a stanza the presence service generated."""
        self.server.route(stanza)

    def available_resources(self, bare) -> list:
        """The sessions of an account that have sent available presence."""
        return [s for s in self.server.resources(bare) if s.available]

    def _row(self, owner, contact) -> RosterItem:
        return self.roster.get(owner, contact) or RosterItem(str(contact), in_roster=False)

    def send_current_presence(self, owner: JID, to, fallback: bool = False) -> int:
        """Send the last presence of each of ``owner``'s available resources to ``to``.

        With ``fallback`` and no available resource, send the last unavailable presence
        received from the account instead, if there is one (4.3.2). Returns how many were sent.
        """
        sent = 0
        for s in self.available_resources(owner):
            if s.presence is not None:
                self.route(_with(s.presence, to=to))
                sent += 1
        if not sent and fallback:
            last = self.last_unavailable.get(str(owner))
            if last is not None:
                self.route(_with(last, to=to))
        return sent

    # outbound: stanzas from a local client (pre-presence/*) ------------------
    def outbound(self, event) -> bool:
        """Presence a client sends (RFC 6121 4.2, 4.6, 3.1): broadcast, directed, or a subscription."""
        session = event.origin
        if session is None or session.jid is None:
            return False
        stanza = event.stanza
        ptype = stanza.get("type")
        if ptype not in PRESENCE_TYPES:
            event.error("bad-request", f"'{ptype}' is not a presence type (RFC 6121 4.7.1)")
            return True
        if event.to is None:
            if ptype is None:
                self.available(session, stanza)
            elif ptype == "unavailable":
                self.unavailable(session, stanza)
            elif ptype != "error":
                event.error("bad-request", f"a presence of type '{ptype}' needs a 'to' address")
            return True
        if ptype in SUBSCRIPTION_TYPES:
            self.outbound_subscription(session, stanza, ptype, event.to)
            return True
        if ptype in (None, "unavailable"):
            self.track_directed(session, event.to, ptype)
        return False  # directed presence, probes and errors are routed as they are

    def available(self, session, stanza) -> None:
        """4.2.2 (initial presence) and 4.4.2 (later presence)."""
        server = self.server
        owner = session.jid.bare
        presence = _with(stanza, to=None)
        first = not session.available
        session.available = True
        session.priority = _priority(stanza)
        session.presence = presence
        # To all of the user's available resources, the sender first (an entity is subscribed to itself).
        session.send(_with(presence, to=session.jid_str))
        for s in self.available_resources(owner):
            if s is not session:
                s.send(_with(presence, to=s.jid_str))
        rows = self.roster.rows(owner)
        for item in rows:
            if subscribed_from(item):
                self.route(_with(presence, to=item.contact))
        if not first:
            return
        for item in rows:  # 4.3.1: probes, from the bare JID, to the contacts the user is subscribed to
            if subscribed_to(item):
                self.route(_presence(owner, item.contact, "probe"))
        for s in self.available_resources(owner):  # the new resource learns of the others
            if s is not session and s.presence is not None:
                session.send(_with(s.presence, to=session.jid_str))
        # 3.1.3: subscription requests are delivered whenever the contact creates an available resource.
        for _contact, text in server.storage.subscription_requests(str(owner)):
            try:
                session.send(etree.fromstring(text))
            except etree.XMLSyntaxError:
                log.warning("a stored subscription request of %s is not XML; dropped", owner)
        server.hooks.fire("presence-available", session)

    def unavailable(self, session, stanza) -> None:
        """4.5.2: unavailable presence from a resource (sent, or implied by a closed stream)."""
        owner = session.jid.bare
        presence = _with(stanza, to=None)
        was_available = session.available
        session.available = False
        session.presence = None
        self.last_unavailable[str(owner)] = presence
        covered = set()
        if was_available:
            if session.state is State.READY:
                session.send(_with(presence, to=session.jid_str))
            for s in self.available_resources(owner):
                s.send(_with(presence, to=s.jid_str))
            for item in self.roster.rows(owner):
                if subscribed_from(item):
                    covered.add(item.contact)
                    self.route(_with(presence, to=item.contact))
        # 4.6.3 / 4.5.2: and to everyone who got directed presence from this resource.
        directed = DIRECTED.get(session)
        for jid in sorted(directed or ()):
            if str(JID(jid).bare) not in covered:
                self.route(_with(presence, to=jid))
        if directed:
            directed.clear()

    def track_directed(self, session, to: JID, ptype) -> None:
        """4.6.3: remember directed available presence to entities not subscribed to the user."""
        owner = session.jid.bare
        if to.bare == owner or subscribed_from(self.roster.get(owner, to.bare)):
            return
        if ptype is None:
            DIRECTED.of(session).add(str(to))
        elif DIRECTED.get(session):
            DIRECTED.get(session).discard(str(to))

    def outbound_subscription(self, session, stanza, ptype: str, to: JID) -> None:
        """The user's server: 3.1.2, 3.1.5, 3.2.2, 3.3.2 and 3.4, per Appendix A.2."""
        server = self.server
        owner, peer = session.jid.bare, to.bare
        if peer == owner:
            return  # the user is subscribed to its own presence already (4.2.2)
        stanza.set("from", str(owner))  # 3.1.2: stamped with the bare JID, sent to the bare JID
        stanza.set("to", str(peer))
        if ptype == "subscribe" and peer.domain in server.hosts and peer.local is not None \
                and not server.user_exists(peer):
            # 3.1.2: a request that cannot be delivered (no such local account) gets an error back.
            session.send(error_reply(stanza, "service-unavailable", f"there is no account {peer}"))
            return
        item = self._row(owner, peer)
        state = state_of(item)
        route, new = OUTBOUND[ptype][state]
        if ptype == "subscribe":
            if new:
                set_state(item, new)
            item.in_roster = True  # the push shows the potential contact with ask='subscribe'
            self.roster.save(owner, item)
            self.route(stanza)
        elif ptype == "unsubscribe":
            if new:
                set_state(item, new)
                self.roster.save(owner, item)
            self.route(stanza)
        elif ptype == "subscribed":
            if route:
                set_state(item, new)
                item.approved = False
                item.in_roster = True  # 3.1.5: the contact's server adds the user to the roster
                server.storage.delete_subscription_request(str(owner), str(peer))
                self.roster.save(owner, item)
                self.route(stanza)
                self.send_current_presence(owner, peer)  # 3.1.5
                if PROBE_AFTER_APPROVAL and subscribed_to(item):
                    self.route(_presence(owner, peer, "probe"))
            elif state in PREAPPROVED and not item.approved:
                item.approved = True  # 3.4: pre-approved; not routed
                item.in_roster = True
                self.roster.save(owner, item)
        elif ptype == "unsubscribed":
            if route:
                if subscribed_from(item):
                    # 3.2.2: unavailable from each available resource while the user is still subscribed.
                    for s in self.available_resources(owner):
                        self.route(_presence(s.jid_str, peer, "unavailable"))
                set_state(item, new)
                server.storage.delete_subscription_request(str(owner), str(peer))
                self.roster.save(owner, item)
                self.route(stanza)
            elif item.approved:
                item.approved = False  # 3.4: the pre-approval is withdrawn; not routed
                self.roster.save(owner, item)

    # inbound: stanzas arriving for a local account (presence/bare, presence/full) ---
    def inbound_bare(self, event) -> bool:
        """Presence to a bare JID (RFC 6121 4.3, 3.1.3, 8.5.2): subscriptions, probes, delivery."""
        stanza = event.stanza
        ptype = stanza.get("type")
        if event.from_ is None:
            return True
        if ptype in SUBSCRIPTION_TYPES:
            self.inbound_subscription(stanza, ptype, event.from_.bare, event.to.bare)
            return True
        if ptype == "probe":
            self.answer_probe(event.to.bare, event.from_)
            return True
        if not self.server.user_exists(event.to):
            return True  # 8.5.1: presence to no such user is silently ignored
        if ptype == "error":
            for s in self.available_resources(event.to.bare):
                s.send(stanza)
            return True
        return ptype not in (None, "unavailable")  # 8.5.2.1.2: the router delivers to all available resources

    def inbound_full(self, event) -> bool:
        """Presence to a full JID: subscriptions and probes go to the bare JID (3.1.3); the router delivers the rest."""
        ptype = event.stanza.get("type")
        if ptype in SUBSCRIPTION_TYPES or ptype == "probe":
            return self.inbound_bare(event)  # 3.1.3: treated as addressed to the bare JID
        return False

    def inbound_subscription(self, stanza, ptype: str, peer: JID, owner: JID) -> None:
        """The contact's server: 3.1.3, 3.1.6, 3.2.3, 3.3.3 and 3.4, per Appendix A.3."""
        server = self.server
        if peer == owner or not server.user_exists(owner):
            return  # 8.5.1: silently ignored
        stanza.set("from", str(peer))
        stanza.set("to", str(owner))
        item = self._row(owner, peer)
        state = state_of(item)
        deliver, new = INBOUND[ptype][state]
        if ptype == "subscribe":
            if subscribed_from(item):
                # 3.1.3: already subscribed: auto-reply, and (as an approval would) send current presence.
                self.route(_presence(owner, peer, "subscribed"))
                self.send_current_presence(owner, peer, fallback=True)
                return
            if item.approved and state in PREAPPROVED:
                # 3.4: pre-approved: approved at once, the contact is not asked.
                set_state(item, PREAPPROVED[state])
                item.approved = False
                self.route(_presence(owner, peer, "subscribed"))
                self.roster.save(owner, item)
                self.send_current_presence(owner, peer)
                return
            if not deliver:
                return  # a request is already pending: only the first one is kept and delivered
            if ACK_SUBSCRIBE_WITH_UNAVAILABLE:
                self.route(_presence(owner, peer, "unavailable"))
            set_state(item, new)
            self.roster.save(owner, item)
            # 3.1.3: the complete stanza is kept, with its extensions, until approved or denied.
            server.storage.put_subscription_request(str(owner), str(peer), serialize(stanza, None))
            for s in self.available_resources(owner):
                s.send(stanza)
            return
        if not deliver:
            return
        had_from = subscribed_from(item)
        for s in self.roster.interested(owner):  # delivered before the roster push (3.1.6)
            s.send(stanza)
        set_state(item, new)
        if not item.pending_in:
            server.storage.delete_subscription_request(str(owner), str(peer))
        self.roster.save(owner, item)
        if ptype == "unsubscribe" and had_from:
            # 3.3.3: unavailable presence from each of the contact's available resources to the user.
            for s in self.available_resources(owner):
                self.route(_presence(s.jid_str, peer, "unavailable"))

    def answer_probe(self, owner: JID, requester: JID) -> None:
        """4.3.2: answer a probe with the last presence of each available resource."""
        if requester.bare == owner:
            for s in self.available_resources(owner):
                if s.presence is not None and s.jid != requester:
                    self.route(_with(s.presence, to=requester))
            return
        if not self.server.user_exists(owner) or not subscribed_from(self.roster.get(owner, requester.bare)):
            # 4.3.2 (and 8.5.1): not subscribed, or no such account: "unsubscribed".
            self.route(_presence(owner, requester.bare, "unsubscribed"))
            return
        self.send_current_presence(owner, requester, fallback=True)

    # life cycle --------------------------------------------------------------
    def session_closed(self, session) -> bool:
        """4.5.2: a stream that ends without unavailable presence is treated as if it had sent it."""
        if session.jid is None or not (session.available or DIRECTED.get(session)):
            return False
        self.unavailable(session, element("presence", {"type": "unavailable", "from": session.jid_str}))
        return False

    def roster_item_removed(self, ev) -> bool:
        """2.5.2: removing an item cancels the subscriptions both ways."""
        owner, item = ev.owner, ev.item
        peer = JID(item.contact)
        if subscribed_from(item) or item.pending_in:
            if subscribed_from(item):  # 3.2.2: unavailable before the cancellation
                for s in self.available_resources(owner):
                    self.route(_presence(s.jid_str, peer, "unavailable"))
            self.route(_presence(owner, peer, "unsubscribed"))
        if subscribed_to(item) or item.ask:
            self.route(_presence(owner, peer, "unsubscribe"))
        return False

    def account_removed(self, bare: JID) -> bool:
        """An account is gone: its contacts see it unsubscribe and cancel their subscriptions."""
        self.last_unavailable.pop(str(bare), None)
        storage = self.server.storage
        # Called before the account's rows are deleted: its own roster (which also keeps the state
        # of contacts it never added) names everyone who may have it as a contact.
        for owner in storage.get_roster(str(bare)):
            if storage.get_item(owner, str(bare)) is None:
                continue
            owner_jid = JID(owner)
            for ptype in ("unsubscribe", "unsubscribed"):
                self.inbound_subscription(_presence(bare, owner, ptype), ptype, bare, owner_jid)
        return False


def setup(server):
    """Handle presence and subscriptions (RFC 6121 3 and 4) and offer pre-approval (3.4)."""
    service = PRESENCE.put(server, PresenceService(server))
    server.provide("presence", service)
    server.hook(f"stream-features/{AFTER_AUTH}", lambda session: [element("sub", ns=NS_PRE_APPROVAL)])  # 3.4
    for where in ("bare", "full", "host", "remote", "component"):
        server.hook(f"pre-presence/{where}", service.outbound)
    server.hook("presence/bare", service.inbound_bare)
    server.hook("presence/full", service.inbound_full)
    server.hook("session-closed", service.session_closed)
    server.hook("roster-item-removed", service.roster_item_removed)
    server.hook("pre-account-removed", service.account_removed)
