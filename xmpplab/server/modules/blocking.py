"""XEP-0191 Blocking Command: a user stops all communication with a contact, kept across sessions.

    C: <iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item jid='iago@example.net'/></block></iq>
    S: <iq type='result' id='b1' to='juliet@example.com/balcony'/>
    S: <iq type='set' id='push-1' to='juliet@example.com/chamber'>      (each resource that asked for the list)
         <block xmlns='urn:xmpp:blocking'><item jid='iago@example.net'/></block></iq>

From then on (XEP-0191 §3.3) the server delivers nothing from the contact: a presence
is dropped without a word, a message or an iq get/set gets ``<service-unavailable/>``
(so the user looks offline); and what the user sends to the contact comes back as
``<not-acceptable/>`` with ``<blocked xmlns='urn:xmpp:blocking:errors'/>``. The user's
presence to the contact stops too: an unavailable presence when the block starts, the
current presence again when it ends (§3.4). ``<unblock/>`` with no item unblocks all (§3.5).

An item matches as in XEP-0191 §6: a full JID only itself, a bare JID every resource, a
domain everything at that domain and its subdomains. The list is stored in the server's
database. Stanzas that a module answers before routing (an iq to the user's bare JID
by payload, such as disco) are not filtered yet.
"""

from __future__ import annotations

import copy
import functools
import itertools

from ...errors import StanzaError, error_reply
from ...jid import JID, InvalidJID
from ...xml import element, split_qname, sub
from ..slots import Slot
from .presence import PRESENCE, subscribed_from
from .roster import ROSTER

NS_BLOCKING = "urn:xmpp:blocking"
NS_BLOCKING_ERRORS = "urn:xmpp:blocking:errors"
MAX_ITEMS = 1000  # per account: a list that large is a mistake or an attack
FIRST = 1000      # before the presence, roster and router handlers
requires = ("roster", "presence")

SCHEMA = "CREATE TABLE IF NOT EXISTS blocklist (owner TEXT NOT NULL, jid TEXT NOT NULL, PRIMARY KEY (owner, jid));"

#: Per server: the block list of every account that has one (bare JID string -> set of JID strings).
LISTS: Slot[dict] = Slot("blocking: lists", dict)
#: Per session: it asked for the block list, so it gets the pushes (§3.3).
ASKED: Slot[bool] = Slot("blocking: asked for the list", bool)
_push_ids = itertools.count(1)


def setup(server):
    """Serve the block list (§3.2–3.5) and filter stanzas both ways (§3.3), from the database's lists."""
    server.add_feature(NS_BLOCKING)
    server.storage.add_tables(SCHEMA)
    lists = LISTS.put(server, {})
    for owner, jid in server.storage.rows("SELECT owner, jid FROM blocklist"):
        lists.setdefault(owner, set()).add(jid)
    for where in ("self", "host"):
        server.hook(f"iq-get/{where}/{NS_BLOCKING}:blocklist", get_list)
        server.hook(f"iq-set/{where}/{NS_BLOCKING}:block", block)
        server.hook(f"iq-set/{where}/{NS_BLOCKING}:unblock", unblock)
    server.hook("account-removed", forget_account(server))
    _arm(server)


#: Per server: whether the filters are on the stanza path. They are only while some account blocks someone,
#: so a server where nobody does pays nothing per stanza.
ARMED: Slot[bool] = Slot("blocking: filters on", bool)


def _filters():
    for kind in ("message", "presence", "iq"):
        for where in ("full", "bare"):
            yield f"{kind}/{where}", inbound
        for where in ("full", "bare", "host", "remote", "component"):
            yield f"pre-{kind}/{where}", outbound
    yield "route/remote", inbound


def _arm(server) -> None:
    """Put the filters on the stanza path while some account has a non-empty block list, and off when none has."""
    wanted = any(LISTS.of(server).values())
    if ARMED.of(server) is wanted:
        return
    ARMED.put(server, wanted)
    for name, handler in _filters():
        if wanted:
            server.hooks.add(name, handler, FIRST)
        else:
            server.hooks.remove(name, handler)


def matches(item: str, jid: JID) -> bool:
    """Whether the block list item ``item`` covers the address ``jid`` (XEP-0191 §6)."""
    try:
        blocked = JID(item)
    except InvalidJID:
        return False
    if blocked.resource is not None:
        return blocked == jid if blocked.local is not None else (
            blocked.domain == jid.domain and blocked.resource == jid.resource and jid.local is None)
    if blocked.local is not None:
        return blocked == jid.bare
    return jid.domain == blocked.domain or jid.domain.endswith("." + blocked.domain)


def blocks(server, owner: JID, other: JID | None) -> bool:
    """Whether ``owner`` (an account) blocks ``other``."""
    if other is None:
        return False
    items = LISTS.of(server).get(str(owner.bare))
    return bool(items) and other.bare != owner.bare and any(matches(i, other) for i in items)


# the list (§3.2 – §3.5) ---------------------------------------------------------------------------------
def _own(handler):
    """Only a session of one of the server's accounts manages its list; anything else is not handled here."""
    @functools.wraps(handler)
    def handle(event) -> bool:
        return event.origin is not None and event.origin.jid is not None and handler(event)
    return handle


def _items(payload, action: str) -> list[str]:
    found = []
    for item in payload:
        if not isinstance(item.tag, str) or split_qname(item.tag) != (NS_BLOCKING, "item"):
            continue
        try:
            found.append(str(JID(item.get("jid") or "")))
        except InvalidJID:
            raise StanzaError("jid-malformed", f"cannot {action} {item.get('jid')!r}: it is not a JID") from None
    return found


def _list_element(name: str, jids) -> object:
    el = element(name, ns=NS_BLOCKING)
    for jid in sorted(jids):
        sub(el, "item", {"jid": jid})
    return el


@_own
def get_list(event):
    """§3.2: the block list; this session now gets the pushes."""
    ASKED.put(event.origin, True)
    event.reply(_list_element("blocklist", LISTS.of(event.server).get(str(event.origin.jid.bare), ())))
    return True


@_own
def block(event):
    """§3.3: add items, push them, and stop the user's presence reaching them."""
    server, owner = event.server, event.origin.jid.bare
    jids = _items(event.payload, "block")  # a bad JID: jid-malformed, answered by the hooks (StanzaError)
    if not jids:
        event.error("bad-request", "a <block/> holds at least one <item jid='...'/> (XEP-0191 §3.3)")
        return True
    current = LISTS.of(server).setdefault(str(owner), set())
    new = [j for j in dict.fromkeys(jids) if j not in current]
    if len(current) + len(new) > MAX_ITEMS:
        event.error("resource-constraint", f"a block list holds at most {MAX_ITEMS} items")
        return True
    for jid in new:
        server.storage.rows("INSERT OR IGNORE INTO blocklist (owner, jid) VALUES (?, ?)", (str(owner), jid))
    for contact in _visible_to(server, owner, new):  # §3.3: unavailable presence to a contact who saw it,
        for session in _available(server, owner):    # sent before the block starts filtering it out
            server.route(element("presence", {"type": "unavailable", "from": str(session.jid), "to": contact}))
    current.update(new)
    _changed(event, owner, "block", jids)
    return True


@_own
def unblock(event):
    """§3.4, §3.5: remove items (all of them when none is named), push, and send the presence again."""
    server, owner = event.server, event.origin.jid.bare
    jids = _items(event.payload, "unblock")  # a bad JID: jid-malformed, answered by the hooks (StanzaError)
    lists = LISTS.of(server)
    current = lists.get(str(owner), set())
    gone = list(current) if not jids else [j for j in jids if j in current]
    for jid in gone:
        server.storage.rows("DELETE FROM blocklist WHERE owner=? AND jid=?", (str(owner), jid))
        current.discard(jid)
    if not current:
        lists.pop(str(owner), None)
    _changed(event, owner, "unblock", jids)
    service = PRESENCE.of(server)
    for contact in _visible_to(server, owner, gone):
        service.send_current_presence(owner, contact)
    return True


def _available(server, owner) -> list:
    return [s for s in server.resources(owner) if s.available]


def _visible_to(server, owner: JID, jids) -> list[str]:
    """Which of ``jids`` (bare contacts) see ``owner``'s presence: subscription 'from' or 'both' (RFC 6121 §4)."""
    roster = ROSTER.of(server)
    return [j for j in jids if "@" in j and "/" not in j and subscribed_from(roster.item(owner, JID(j)))]


def _changed(event, owner: JID, action: str, jids) -> None:
    """The list changed: filter by it, answer the request, and push the <block/> or <unblock/> to each of the
    account's sessions that asked for the list (§3.3, §3.4)."""
    _arm(event.server)
    event.reply()
    _push(event.server, owner, _list_element(action, jids))


def _push(server, owner: JID, payload) -> None:
    for session in server.resources(owner):
        if ASKED.get(session):
            push = element("iq", {"type": "set", "id": f"block-push-{next(_push_ids)}", "to": str(session.jid)})
            push.append(copy.deepcopy(payload))
            session.send(push)


# filtering (§3.3) ---------------------------------------------------------------------------------------
def inbound(event):
    """A stanza on its way to an account, or leaving for another server: stop it if either side blocks."""
    server, to, frm = event.server, event.to, event.from_
    lists = LISTS.of(server)
    if not lists or to is None:
        return False
    if str(to.bare) in lists and blocks(server, to, frm):
        _refuse_inbound(event)
        return True
    # the server's own stanza on the user's behalf (a presence broadcast) to someone the user blocks: dropped
    return frm is not None and event.origin is None and str(frm.bare) in lists and blocks(server, frm, to)


def _refuse_inbound(event) -> None:
    """§3.3: presence dropped silently; a message, or an iq get or set, answered service-unavailable."""
    stype = event.stanza.get("type")
    if event.kind == "message" and stype != "error" or event.kind == "iq" and stype in ("get", "set"):
        event.error("service-unavailable")


def outbound(event):
    """§3.3: what the user sends to a blocked contact comes back as not-acceptable with <blocked/>."""
    session = event.origin
    lists = LISTS.of(event.server)
    if not lists or session is None or event.to is None or str(session.jid.bare) not in lists:
        return False
    if not blocks(event.server, session.jid, event.to):
        return False
    if event.stanza.get("type") != "error":
        reply = error_reply(event.stanza, "not-acceptable", type="cancel")
        sub(reply[-1], "blocked", ns=NS_BLOCKING_ERRORS)
        event.server.send_back(reply, event)
    return True


def forget_account(server):
    """The handler for ``account-removed`` on ``server``: the account's block list goes too."""
    def forget(bare) -> bool:
        if LISTS.of(server).pop(str(bare), None) is not None:
            server.storage.rows("DELETE FROM blocklist WHERE owner=?", (str(bare),))
            _arm(server)
        return False
    return forget
