"""Rosters and rooms as an account's own streams show them: what a student may know of a server they do not run.

A private Lab reads its server's storage; on a class server the Lab knows only what crossed its
own streams, which is enough to follow the RFC's state machines from the outside:

* a roster item (RFC 6121 §2.1.2) is set by each roster result and push the account received
  (§2.1.6), and moved by the subscription stanzas it sent and received (RFC 6121 §3 and
  Appendix A: ``subscribe`` sent marks the request pending, ``subscribed`` received adds 'to',
  ``subscribed`` sent adds 'from', ``unsubscribe``/``unsubscribed`` take them away);
* a room's occupants (XEP-0045 §7.2.3) are the latest presence of each nickname the room sent.
"""

from __future__ import annotations

from ..jid import JID, InvalidJID
from ..server.storage import RosterItem
from ..transcript.model import Direction

NS_ROSTER = "jabber:iq:roster"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
_ADD = {("none", "to"): "to", ("none", "from"): "from", ("to", "from"): "both", ("from", "to"): "both"}
_TAKE = {("to", "to"): "none", ("both", "to"): "from", ("from", "from"): "none", ("both", "from"): "to"}


def _bare(address) -> str | None:
    try:
        return str(JID(address).bare) if address else None
    except InvalidJID:
        return None


def _streams_of(transcript, bare: str):
    """The account's streams: as the server side recorded them when there is such a recording, else the client's."""
    mine = [c for c in transcript.connections.values() if c.kind == "c2s" and _bare(c.jid) == bare]
    server_side = [c for c in mine if c.role == "receiving"]
    return server_side or mine


def _in_order(conns, **criteria):
    items = [item for conn in conns for item in conn.items(**criteria) if item.element is not None]
    return sorted(items, key=lambda i: (i.t, i.seq, i.index))


def roster_seen(transcript, owner) -> dict[str, RosterItem]:
    """``owner``'s roster (contact bare JID -> item) as the owner's streams show it.

    What the owner's contacts sent counts too when the Lab recorded them: a resource that never asked
    for the roster is not told of an approval (RFC 6121 §3.1.6 delivers ``subscribed`` to interested
    resources only), but the contact's own stream shows it was sent."""
    owner = _bare(str(owner))
    roster: dict[str, RosterItem] = {}
    mine = _streams_of(transcript, owner)
    theirs = [c for c in transcript.connections.values() if c.kind == "c2s" and c.role == "initiating"
              and c not in mine and _bare(c.jid) != owner]
    events = [(i, True) for i in _in_order(mine, kind=["iq", "presence"])]
    events += [(i, False) for i in _in_order(theirs, kind="presence", direction="C→S")
               if _bare(i.to) == owner and i.type in ("subscribed", "unsubscribe", "unsubscribed")]
    events.sort(key=lambda pair: (pair[0].t, pair[0].seq, pair[0].index))
    for item, own in events:
        if item.name == "iq" and item.direction is Direction.S2C:
            _read_roster(roster, item.element)
            continue
        if item.name != "presence" or item.type not in ("subscribe", "subscribed", "unsubscribe", "unsubscribed"):
            continue
        # a stanza may be seen twice (sent by one, delivered to the other): the transitions are idempotent
        sent = own and item.direction is Direction.C2S
        contact = _bare(item.to if sent else item.from_) if own else _bare(transcript.connections[item.conn].jid)
        if contact is None:
            continue
        old = roster.get(contact) or RosterItem(contact)
        sub, ask = old.subscription, old.ask
        if sent and item.type == "subscribe":
            ask = sub not in ("to", "both")
        elif not sent and item.type == "subscribed":
            sub, ask = _ADD.get((sub, "to"), sub), False
        elif sent and item.type == "subscribed":
            sub = _ADD.get((sub, "from"), sub)
        elif (sent and item.type == "unsubscribe") or (not sent and item.type == "unsubscribed"):
            sub, ask = _TAKE.get((sub, "to"), sub), False
        elif (sent and item.type == "unsubscribed") or (not sent and item.type == "unsubscribe"):
            sub = _TAKE.get((sub, "from"), sub)
        else:
            continue  # a request received: pending-in, not an item yet
        roster[contact] = RosterItem(contact, old.name, sub, ask=ask, groups=list(old.groups))
    return roster


def _read_roster(roster: dict, el) -> None:
    """A roster result or push (RFC 6121 §2.1.4, §2.1.6) sets the items it carries."""
    for query in el:
        if query.tag != f"{{{NS_ROSTER}}}query":
            continue
        for entry in query:
            contact = _bare(entry.get("jid"))
            if contact is None:
                continue
            if entry.get("subscription") == "remove":
                roster.pop(contact, None)
            else:
                roster[contact] = RosterItem(contact, entry.get("name"), entry.get("subscription") or "none",
                                             ask=entry.get("ask") == "subscribe")


def room_seen(transcript, room) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Occupants of ``room`` (nick -> (role, real JIDs)) from the latest presence the room sent each nickname."""
    room = _bare(str(room))
    occupants: dict[str, tuple[str, tuple[str, ...]]] = {}
    for item in _in_order(list(transcript.connections.values()), kind="presence", direction="S→C"):
        try:
            sender = JID(item.from_) if item.from_ else None
        except InvalidJID:
            continue
        if sender is None or str(sender.bare) != room or not sender.resource:
            continue
        if item.type == "unavailable":
            occupants.pop(sender.resource, None)
            continue
        role, jids = "participant", ()
        for x in item.element:
            if x.tag == f"{{{NS_MUC_USER}}}x":
                for i in x:
                    if i.tag == f"{{{NS_MUC_USER}}}item":
                        role = i.get("role") or role
                        jids = (i.get("jid"),) if i.get("jid") else jids
        occupants[sender.resource] = (role, jids)
    return occupants
