"""Personal eventing (XEP-0163): every account is a pubsub service at its bare JID, fed to its contacts.

Juliet publishes to her own JID (3: no ``to``; the node is created on the
way, ``auto-create``); the service sends the item to her own resources and to
each contact who shares presence with her (2.3, access model ``presence``)
and whose client said it wants that node: ``<node>+notify`` among the
features its XEP-0115 ``<c/>`` stands for (4.2, "filtered notifications")::

    C: <iq type='set' id='pub1'><pubsub xmlns='http://jabber.org/protocol/pubsub'>
         <publish node='http://jabber.org/protocol/nick'><item id='current'>
           <nick xmlns='http://jabber.org/protocol/nick'>Jules</nick></item></publish></pubsub></iq>
    S: <message from='juliet@example.com' to='romeo@example.net/orchard' type='headline' id='…'>     (4.3.1)
         <event xmlns='http://jabber.org/protocol/pubsub#event'>
           <items node='http://jabber.org/protocol/nick'><item id='current'>
             <nick xmlns='http://jabber.org/protocol/nick'>Jules</nick></item></items></event></message>

:class:`PepService` is :class:`~.service.PubSubService` with the account as
owner and :meth:`~PepService.recipients` widened to the interested resources;
:class:`Interest` remembers which resource showed which caps to which account
and what each ``ver`` means (learnt by asking the client, :mod:`.caps`).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace

from ...jid import JID
from ...xml import NS_DISCO_INFO, element, sub
from .caps import Caps, features_of, verified
from .model import NodeConfig
from .service import PubSubService

log = logging.getLogger("xmpplab.server.pubsub")

NOTIFY = "+notify"  # XEP-0163 4.2 with XEP-0060 9.2: '<node>+notify' in a client's features
#: How many verified ``ver`` the server remembers, and how many questions may wait for an answer: made-up
#: ``ver`` values cannot fill its memory (XEP-0115 9.3, caps poisoning). The oldest is forgotten first.
CAPS_KEPT = 1000


def pep_defaults() -> NodeConfig:
    """XEP-0163 5 (Recommended Defaults): presence access, payloads delivered, last item on presence; one item
    kept, as the profile nodes (nick, avatar) need only the current one."""
    return NodeConfig(access_model="presence", max_items=1, send_last_published_item="on_sub_and_presence")


class PepService(PubSubService):
    """The personal pubsub service of one account (XEP-0163 2.1: every account a pubsub service)."""

    def __init__(self, server, owner: str, interest: Interest, blocked=None):
        self.interest = interest
        self.blocked = blocked or (lambda jid: False)  # XEP-0163 4.3.3: none to whom the owner blocks (XEP-0191)
        super().__init__(server, owner, name="Personal eventing", owner=str(JID(owner).bare),
                         default_config=pep_defaults(), auto_create=True)

    @property
    def limits(self):
        """The server's limits, with ``pep_item_bytes`` for the largest item (an avatar is big, XEP-0084)."""
        limits = self.server.limits
        return replace(limits, pubsub_item_bytes=limits.pep_item_bytes)

    def changed(self, name: str) -> None:
        """Fire ``pep-changed`` with ``(owner, node name)``: a module that derives something from an account's
        node (the avatar hash of XEP-0398 4) follows it."""
        self.server.hooks.fire("pep-changed", (self.jid, name))

    def interested(self, node) -> list[str]:
        """The full JIDs that get ``node``'s events implicitly: the owner's resources and contacts allowed by the
        access model (4: cases 2 and 3) whose caps say ``<node>+notify`` (4.2), one each (4.3.2)."""
        found = []
        for full in self.interest.interested(self.jid, node.name):
            jid = JID(full)
            if str(jid.bare) == self.jid or node.may_access(jid, self.sees_presence):
                found.append(full)
        return found

    def recipients(self, node) -> list[str]:
        """Who gets a notification (XEP-0163 4): explicit subscribers (XEP-0060 6.1) and the interested resources
        (:meth:`interested`); a resource whose bare JID subscribed already is not sent a second copy; none to an
        address the owner blocks (4.3.3), nor to a subscriber who may no longer read the node (7.1)."""
        explicit = [j for j in super().recipients(node)
                    if not self.blocked(JID(j)) and node.may_access(JID(j), self.sees_presence)]
        covered = set(explicit)
        return explicit + [f for f in self.interested(node) if f not in covered and str(JID(f).bare) not in covered
                           and not self.blocked(JID(f))]

    def _notify(self, node, fill) -> None:
        """Before notifying: a subscriber who may no longer read the node (its presence subscription ended)
        loses its subscription (7.1: access is calculated again)."""
        for lost in [j for j in super().recipients(node) if not node.may_access(JID(j), self.sees_presence)]:
            self._unsubscribe(node, lost)
        super()._notify(node, fill)

    def send_last(self, full: str, names) -> int:
        """4.3.4: the newest item of each node in ``names`` that ``full`` may read, to ``full``; how many went."""
        sent = 0
        for name in sorted(names):
            node = self.nodes.get(name)
            if node is None or not node.items or node.config.send_last_published_item != "on_sub_and_presence":
                continue
            jid = JID(full)
            if str(jid.bare) != self.jid and not node.may_access(jid, self.sees_presence) or self.blocked(jid):
                continue
            item = next(reversed(node.items.values()))
            self._send(node, full, self._items_event(node, [item]))
            sent += 1
        return sent


class Interest:
    """Which resources want which nodes of which account: their ``<c/>`` and what each ``ver`` means.

    ``seen[owner][full]`` is the caps a resource last showed ``owner`` (its own account's resources, and
    contacts whose presence reached ``owner``'s bare JID); ``known[(hash, ver)]`` the features of a verified
    ``ver`` (XEP-0115 8.2, shared by everyone); ``unverified[full]`` an answer that did not hash right, for
    that resource only. ``on_interest(owner, full, nodes)`` is called when a resource starts to want nodes.
    """

    def __init__(self, server, on_interest):
        self.server = server
        self.on_interest = on_interest
        self.seen: dict[str, dict[str, Caps | None]] = {}
        self.known: dict[tuple[str, str], frozenset[str]] = {}
        self.unverified: dict[str, tuple[Caps, frozenset[str]]] = {}
        self.asking: dict[tuple, list[tuple[str, str]]] = {}  # caps asked about -> (owner, full) waiting

    @staticmethod
    def _key(caps: Caps, full: str) -> tuple:
        """What one question is about: a hashed ``ver`` is the same for everyone; a legacy ``<c/>`` (no hash)
        is asked of each resource."""
        return (caps.hash, caps.ver, None if caps.hash else full)

    def features(self, full: str, caps: Caps | None) -> frozenset[str] | None:
        """What ``caps`` stands for, or None when not known yet."""
        if caps is None:
            return frozenset()
        found = self.known.get((caps.hash or "", caps.ver))
        if found is None and full in self.unverified and self.unverified[full][0] == caps:
            found = self.unverified[full][1]
        return found

    def wanted(self, full: str, caps: Caps | None) -> set[str]:
        """The nodes a resource wants notifications of (``<node>+notify``)."""
        features = self.features(full, caps) or ()
        return {f.removesuffix(NOTIFY) for f in features if f.endswith(NOTIFY)}

    def interested(self, owner: str, node: str) -> list[str]:
        """The full JIDs that showed ``owner`` caps meaning ``node+notify``."""
        return [full for full, caps in self.seen.get(owner, {}).items() if node in self.wanted(full, caps)]

    def available(self, owner: str, full: str, caps: Caps | None) -> None:
        """A resource is available to ``owner`` with ``caps``: note it, learn the caps, report new interest."""
        resources = self.seen.setdefault(owner, {})
        before = self.wanted(full, resources[full]) if full in resources else set()
        resources[full] = caps
        if caps is not None and self.features(full, caps) is None:
            self.ask(owner, full, caps)
            return
        new = self.wanted(full, caps) - before
        if new:
            self.on_interest(owner, full, new)

    def gone(self, full: str, owner: str | None = None) -> None:
        """A resource went unavailable (to ``owner``, or to everyone when None)."""
        owners = [owner] if owner is not None else list(self.seen)
        for o in owners:
            resources = self.seen.get(o)
            if resources is not None:
                resources.pop(full, None)
                if not resources:
                    del self.seen[o]
        if not any(full in r for r in self.seen.values()):
            self.unverified.pop(full, None)

    def ask(self, owner: str, full: str, caps: Caps) -> None:
        """XEP-0115 6.2: disco#info to the resource about ``node#ver``, once per ``ver`` at a time."""
        key = self._key(caps, full)
        waiting = self.asking.get(key)
        if waiting is not None:
            waiting.append((owner, full))
            return
        if len(self.asking) >= CAPS_KEPT:
            log.warning("caps: %d questions wait for an answer already; %s is not asked about %s", len(self.asking),
                        full, caps.disco_node)
            return
        self.asking[key] = [(owner, full)]
        iq = element("iq", {"type": "get", "id": f"caps-{secrets.token_hex(6)}", "to": full,
                            "from": JID(owner).domain})
        sub(iq, "query", {"node": caps.disco_node}, ns=NS_DISCO_INFO)
        self.server.send_iq(iq, lambda event: self.answered(caps, full, event))

    def answered(self, caps: Caps, full: str, event) -> None:
        """The disco#info answer: cache it (verified, 5.4) or keep it for that resource; tell who waits."""
        waiting = self.asking.pop(self._key(caps, full), [])
        query = event.stanza.find(f"{{{NS_DISCO_INFO}}}query")
        if event.stanza.get("type") != "result" or query is None:
            log.info("caps: %s did not say what %s means", full, caps.disco_node)
            return
        features = features_of(query)
        if verified(caps, query):
            self.known[(caps.hash, caps.ver)] = features
            while len(self.known) > CAPS_KEPT:
                del self.known[next(iter(self.known))]
        else:
            log.info("caps: the features %s sent do not hash to %s; used for it alone", full, caps.ver)
            self.unverified[full] = (caps, features)
        for owner, who in waiting:
            current = self.seen.get(owner, {})
            if who in current and current[who] == caps:
                if self.features(who, caps) is None:  # another resource's unverified answer: ask this one
                    self.ask(owner, who, caps)
                    continue
                new = self.wanted(who, caps)
                if new:
                    self.on_interest(owner, who, new)


__all__ = ["Interest", "NOTIFY", "PepService", "pep_defaults"]
