"""Practice accounts and partners for students on a class server (``urn:xmpplab:class:0``, docs/classroom.md).

A chapter of the course uses several people (juliet, romeo, user1 ...) but a student has one
account. On a class server each student owns a *namespace* of practice accounts, named after their
own account: ``student07`` may create and reset ``student07.romeo@class.example`` and no other.
The ad-hoc command (XEP-0050) ``urn:xmpplab:class:0#practice`` does it, in one form with the
fields ``name`` and ``password``; the account is always a fresh one (an older one of that name is
deleted first, with its roster, pending requests and stored messages, and its sessions end), so a
chapter starts from a clean slate, as it does on a private server::

    C: <iq type='set' to='class.example'><command xmlns='http://jabber.org/protocol/commands'
         node='urn:xmpplab:class:0#practice' sessionid='s1' action='complete'>
         <x xmlns='jabber:x:data' type='submit'><field var='name'><value>romeo</value></field>
         <field var='password'><value>...</value></field></x></command></iq>
    S: <iq type='result' ...><command ... status='completed'><note type='info'>student07.romeo@class.example
         is ready</note><x type='result'>...<field var='accountjid'><value>student07.romeo@class.example</value>
         ...

Only class accounts (a local part without a dot: the teacher and the students) may run it; a
practice account may not make more. At most :data:`MAX_PRACTICE` practice accounts per student.

``urn:xmpplab:class:0#pair`` pairs two students for an exercise that needs a partner. The first
to ask for a chapter waits (the answer has no ``partner``); when a second student asks for the same
chapter, both learn the other's JID: the second in the command's answer, the first in a headline
message from the server carrying ``<paired xmlns='urn:xmpplab:class:0' partner='...' chapter='03'/>``.
A waiting student who goes offline is forgotten. A student who has waited long enough submits the form
again with ``leave`` true: the wait ends, and the answer names the partner if one came meanwhile (the
headline may still be on its way), so both sides always agree on who is paired with whom.

The chapters' rooms live in the same namespace (``student07.garden@conference.class.example``):
a stanza from anyone else (another student, or their practice accounts) to such a room is refused
with ``<forbidden/>`` before it reaches the room, so nobody reads another student's practice
rooms. The class's administrators may enter any.

The nodes of the class server's publish-subscribe services (XEP-0060) follow the same rule: a node named
``student07.greenhouse`` on ``pubsub.class.example`` belongs to student07. A student (or their practice
accounts) creates nodes in their own namespace only, and any request naming another's node (create,
subscribe, items, publish, configure, delete, disco#info ...) is refused with ``<forbidden/>`` before it
reaches the service (the service fires ``pubsub-iq`` for each iq, so a request over server-to-server is
refused too: an address of another server works in nobody's namespace); disco#items on the service lists a
student only the nodes they may reach (their own and the administrators' unprefixed ones). Administrators
may do anything the service allows them.
"""

from __future__ import annotations

import re

from ...errors import StanzaError
from ...jid import JID
from ...ns import NS_REGISTER
from ...xml import NS_DISCO_INFO, NS_DISCO_ITEMS, element, sub
from ..forms import Form
from ..slots import Slot
from .adhoc import COMMANDS, Command, Done
from .admin import _set_password

NS_CLASS = "urn:xmpplab:class:0"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
#: where a ``node`` attribute names a node: XEP-0060's elements and disco queries (not an item's payload)
NODE_NAMESPACES = (NS_PUBSUB, f"{NS_PUBSUB}#owner", NS_DISCO_INFO, NS_DISCO_ITEMS)
PRACTICE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")  # romeo, user1, juliet-example
CHAPTER = re.compile(r"^[0-9A-Za-z._-]{0,16}$")
MAX_PRACTICE = 40  # practice accounts per student: bounds what one student can make the server store


def is_class_account(registry, jid) -> bool:
    """A class account (teacher or student), not a practice account: no dot in its local part."""
    return jid.local is not None and "." not in jid.local


def student_of(bare) -> str:
    """The class account a practice account belongs to (``student07.romeo@d`` → ``student07@d``), or itself."""
    local, at, domain = str(bare).partition("@")
    return f"{local.partition('.')[0]}@{domain}" if at else str(bare)


def practice(event, fields):
    """``#practice``: create (or give a new password to) ``OWNER.NAME@DOMAIN`` for the requester."""
    if fields is None:
        form = Form("A practice account", "A name for one of the people of a chapter, and its password.",
                    form_type=NS_CLASS)
        form.field("name", "text-single", "The person (romeo, juliet, user1 ...)", required=True)
        form.field("password", "text-private", "The practice account's password", required=True)
        return form
    owner = event.from_
    if owner.domain != event.to.domain:
        raise StanzaError("forbidden", "practice accounts are made on your own server", type="auth")
    name = ((fields.get("name") or [""])[0]).strip().lower()
    password = (fields.get("password") or [""])[0]
    if not PRACTICE_NAME.match(name):
        raise StanzaError("bad-request", "a practice name is letters, digits, - and _ (romeo, user1), "
                          "at most 32", type="modify")
    if not password:
        raise StanzaError("bad-request", "the password is missing", type="modify")
    jid = JID(local=f"{owner.local}.{name}", domain=event.to.domain)
    storage = event.server.storage
    if storage.account_exists(jid.domain, jid.local):
        storage.check_writable()  # a StorageFault before anything is deleted
        event.server.accounts.remove(jid)  # a fresh one: its roster, requests and messages go, its sessions end
    else:
        mine = [u for u in storage.list_accounts(jid.domain) if u.startswith(f"{owner.local}.")]
        if len(mine) >= MAX_PRACTICE:
            raise StanzaError("resource-constraint", f"at most {MAX_PRACTICE} practice accounts per student",
                              type="wait")
    result = Form(f"{jid} is ready", form_type=NS_CLASS)
    result.field("accountjid", "jid-single", "The practice account", values=[str(jid)])
    return _set_password(event, jid, password, Done(f"{jid} is ready", form=result))


class Pairing:
    """Students waiting for a partner, one per domain and chapter, and the pairs made."""

    def __init__(self, server):
        self.server = server
        self.waiting: dict[tuple[str, str], JID] = {}  # (domain, chapter) -> full JID of who waits
        self.paired: dict[JID, tuple[str, JID]] = {}  # full JID -> (chapter, partner) found since it last asked

    def pair(self, event, fields):
        """``#pair``: wait for a partner for ``chapter``, or take the one waiting; with ``leave``, stop waiting."""
        if fields is None:
            form = Form("Find a partner", "The chapter whose exercise needs a partner.", form_type=NS_CLASS)
            form.field("chapter", "text-single", "Chapter (03, 06 ...)")
            form.field("leave", "boolean", "Stop waiting (a partner found meanwhile is named)")
            return form
        chapter = ((fields.get("chapter") or [""])[0]).strip()
        if not CHAPTER.match(chapter):
            raise StanzaError("bad-request", "a chapter is a short name such as 03", type="modify")
        me = event.from_
        key = (event.to.domain, chapter)
        answer = Form("Your partner", form_type=NS_CLASS)
        answer.field("chapter", "text-single", "Chapter", values=[chapter])
        if ((fields.get("leave") or [""])[0]).strip() in ("1", "true"):
            return self.leave(me, key, answer)
        self.paired.pop(me, None)
        other = self.waiting.get(key)
        if other is not None and (other.bare == me.bare or self.server.session_for(other) is None):
            other = None  # asked again, or the one waiting has gone
        if other is None:
            self.waiting[key] = me
            answer.field("partner", "jid-single", "Partner", values=[])
            return Done("waiting for a partner: you will get a message naming them", form=answer)
        del self.waiting[key]
        self.paired[other] = (chapter, me.bare)
        note = element("message", {"from": event.to.domain, "to": str(other), "type": "headline"})
        sub(note, "body", text=f"Your partner for chapter {chapter or '(any)'} is {me.bare}.")
        sub(note, "paired", {"partner": str(me.bare), "chapter": chapter}, ns=NS_CLASS)
        self.server.session_for(other).send(note)
        answer.field("partner", "jid-single", "Partner", values=[str(other.bare)])
        return Done(f"your partner is {other.bare}", form=answer)

    def leave(self, me: JID, key: tuple[str, str], answer: Form) -> Done:
        """``leave``: ``me`` waits no more for ``key``'s chapter; the answer names a partner found meanwhile."""
        if self.waiting.get(key) == me:
            del self.waiting[key]
        chapter, partner = self.paired.pop(me, (None, None))
        if chapter != key[1]:
            partner = None
        answer.field("partner", "jid-single", "Partner", values=[str(partner)] if partner else [])
        if partner:
            return Done(f"your partner is {partner}", form=answer)
        return Done("you no longer wait for a partner", form=answer)

    def gone(self, session) -> None:
        """A session closed: if it was waiting for a partner, it waits no more."""
        if session.jid is None:
            return
        for key, who in list(self.waiting.items()):
            if who == session.jid:
                del self.waiting[key]
        self.paired.pop(session.jid, None)


def _owner(jid) -> str | None:
    return jid.local.partition(".")[0] if jid is not None and jid.local else None


def guard_rooms(event) -> bool:
    """A stanza to a practice room (``OWNER.NAME@conference...``) from someone else: ``forbidden``. Someone else
    includes every address of another server (a student's own, federated: ``student01@student02.class.example``
    is not student01)."""
    to = event.to
    if to is None or to.local is None or "." not in to.local or event.from_ is None:
        return False
    if _class_owner(event.from_, to) == _owner(to) or COMMANDS.of(event.server).is_admin(event.from_):
        return False
    raise StanzaError("forbidden", f"{to.bare} is a practice room of {_owner(to)}", type="auth")


def keep_class_accounts(event) -> bool:
    """XEP-0077 3.2 on a class server: a class account (the teacher, a student) does not cancel itself, since
    the class list, the class room and the teacher's grid are made of them; the teacher deletes one with
    XEP-0133 delete-user. A practice account still may (chapter 13)."""
    if event.from_ is not None and event.payload.find(f"{{{NS_REGISTER}}}remove") is not None \
            and is_class_account(None, event.from_.bare):
        raise StanzaError("not-allowed", "a class account is not cancelled in-band: the teacher deletes it "
                          "(XEP-0133 delete-user); a practice account of yours may cancel itself")
    return False


def _class_owner(jid, service) -> str | None:
    """Whose namespace ``jid`` works in on ``service`` (``pubsub.class.example``): its owner's, when it is an
    account of the class's own domain; None for an address of another server (a student's own, federated)."""
    return _owner(jid) if jid is not None and jid.domain == service.domain.partition(".")[2] else None


def guard_feeds(event) -> bool:
    """A pubsub request to the class's service naming another student's node (or, from a student, creating one
    outside their namespace): ``forbidden``. Fired by the service for each iq (``pubsub-iq``), local or not."""
    payload = event.payload
    if event.from_ is None or payload is None or COMMANDS.of(event.server).is_admin(event.from_):
        return False
    mine, to = _class_owner(event.from_, event.to), event.to
    for el in payload.iter():
        node = el.get("node") if isinstance(el.tag, str) and el.tag[1:].partition("}")[0] in NODE_NAMESPACES else None
        if node and "." in node and node.partition(".")[0] != mine:
            raise StanzaError("forbidden", f"the node {node} on {to} belongs to {node.partition('.')[0]}", type="auth")
        if el.tag == f"{{{NS_PUBSUB}}}create" and not (mine and node and node.startswith(f"{mine}.")):
            raise StanzaError("forbidden", f"on this class server your nodes are named {mine}.NAME" if mine else
                              "only the class's own accounts make nodes here", type="auth")
    return False


def hide_feeds(query) -> bool:
    """disco#items on the class's pubsub service: another student's nodes are not listed to a student."""
    asker = query.asker
    owner = (query.node or "").partition(".")[0] if "." in (query.node or "") else None
    return owner is not None and asker is not None and owner != _class_owner(asker, query.jid) and \
        not COMMANDS.of(query.server).is_admin(asker)


requires = ("adhoc", "admin")
PAIRING: Slot[Pairing] = Slot("class pairing")


def setup(server):
    """Offer ``#practice`` and ``#pair`` to the class's accounts."""
    pairing = PAIRING.put(server, Pairing(server))
    server.hook("session-closed", pairing.gone)
    for kind in ("message", "presence", "iq"):
        server.hook(f"pre-{kind}/component", guard_rooms, 50)
        server.hook(f"remote-{kind}/component", guard_rooms, 50)
    for to in ("self", "host"):
        server.hook(f"iq-set/{to}/{NS_REGISTER}:query", keep_class_accounts, 50)  # before the register module
    server.hook("pubsub-iq", guard_feeds)
    server.hook("pubsub-node-hidden", hide_feeds)
    server.hook("adhoc-commands", lambda server: [
        Command(f"{NS_CLASS}#practice", "A practice account", practice, allowed=is_class_account),
        Command(f"{NS_CLASS}#pair", "Find a partner", pairing.pair, allowed=is_class_account)])
