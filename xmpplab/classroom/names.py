"""A chapter's people, places and rooms mapped onto one student's practice namespace on the class server.

The chapters speak of ``juliet@example.com``, ``romeo@example.net`` and ``user1@server1.com``; on a
class server student07 owns ``student07.juliet@class.example``, ``student07.romeo@class.example``
... (``urn:xmpplab:class:0#practice``). :class:`PracticeNames` turns one into the other::

    names = PracticeNames("student07@class.example", ["example.com", "example.net"])
    names.real("romeo@example.net/orchard")       # 'student07.romeo@class.example/orchard'
    names.real("example.com")                     # 'class.example' (the server itself)
    names.real("garden@conference.example.com/juliet")
    # 'student07.garden@conference.class.example/juliet' (a room of the student's own)
    names.rewrite("<message to='romeo@example.net'/>")   # "<message to='student07.romeo@class.example'/>"
    names.real("pubsub.example.com")              # 'pubsub.class.example' (the class's pubsub service)
    names.node("greenhouse")                      # 'student07.greenhouse' (a node of the student's own)

Addresses that are not the chapter's (the class room, a classmate) stay as they are. Two people of
the same name on two chapter domains (juliet@example.com, juliet@example.net) get two practice
accounts: the second is ``student07.juliet-example-net``.
"""

from __future__ import annotations

import re

from ..jid import JID, InvalidJID
from ..server.modules.classmates import NODE_NAMESPACES

MUC_PREFIX = "conference."
PUBSUB_PREFIX = "pubsub."
#: the services of a chapter's domain that the class server has too: chat rooms (XEP-0045), pubsub (XEP-0060)
SERVICE_PREFIXES = (MUC_PREFIX, PUBSUB_PREFIX)
_ATTRIBUTE = re.compile(r"""(\s(?:to|from|jid)\s*=\s*)(["'])([^"'<>]*)\2""")
_NAME_CHARS = re.compile(r"[^a-z0-9_-]+")


def _parts(address) -> tuple[str, JID | None, str]:
    """The address as text, as a JID (None when it is not one), and its ``/resource`` tail."""
    text = str(address)
    try:
        j = JID(text)
    except InvalidJID:
        return text, None, ""
    return text, j, (f"/{j.resource}" if j.resource is not None else "")


class PracticeNames:
    """The address map of one student (``owner``, their class account) for a chapter's ``domains``."""

    def __init__(self, owner, domains):
        owner = JID(str(owner)).bare
        self.owner, self.domain = owner.local, owner.domain
        self.domains = tuple(str(d) for d in domains)
        self._people: dict[tuple[str, str], str] = {}  # (chapter local, chapter domain) -> practice name
        self._services: dict[str, str] = {}  # the chapter's chat service for the class's (the last one used)

    def person(self, local: str, domain: str) -> str:
        """The practice name (``romeo``) of a chapter's person (``romeo``, ``example.net``)."""
        key = (local, domain)
        if key not in self._people:
            name = _NAME_CHARS.sub("-", local.lower()).strip("-")[:20] or "someone"
            if name in self._people.values():
                name = f"{name}-{_NAME_CHARS.sub('-', domain.lower())}"[:32]
            self._people[key] = name
        return self._people[key]

    def chapter_domain(self, domain: str) -> bool:
        """Whether ``domain`` is one of the chapter's (or its chat service ``conference.``, its pubsub ``pubsub.``)."""
        return domain in self.domains or self._service_prefix(domain) is not None

    def _service_prefix(self, domain: str) -> str | None:
        """``conference.`` or ``pubsub.`` when ``domain`` is that service of a chapter domain, else None."""
        return next((p for p in SERVICE_PREFIXES if domain.startswith(p) and domain[len(p):] in self.domains), None)

    def real(self, address) -> str:
        """The class server's address for a chapter's address; any other address unchanged."""
        text, j, tail = _parts(address)
        if j is None:
            return text
        if j.domain in self.domains:
            if j.local is None:
                return self.domain + tail
            return f"{self.owner}.{self.person(j.local, j.domain)}@{self.domain}{tail}"
        prefix = self._service_prefix(j.domain)
        if prefix is not None:
            service = prefix + self.domain
            self._services[service] = j.domain
            if j.local is None:
                return service + tail
            return f"{self.owner}.{j.local}@{service}{tail}"
        return text

    def rewrite(self, xml: str) -> str:
        """XML text with every ``to``, ``from`` and ``jid`` attribute holding a chapter address mapped."""
        return _ATTRIBUTE.sub(lambda m: m.group(1) + m.group(2) + self.real(m.group(3)) + m.group(2), xml)

    def rewrite_element(self, el) -> None:
        """The same, in place, for an element tree (lxml or ElementTree)."""
        for node in el.iter():
            for attr in ("to", "from", "jid"):
                value = node.get(attr)
                if value:
                    node.set(attr, self.real(value))

    def chapter(self, address) -> str:
        """The chapter's address for a practice address (the inverse of :meth:`real`); any other unchanged."""
        text, j, tail = _parts(address)
        if j is None:
            return text
        prefix = f"{self.owner}."
        if j.domain == self.domain:
            if j.local is None:
                return (self.domains[0] if self.domains else self.domain) + tail
            for (local, domain), name in self._people.items():
                if j.local == prefix + name:
                    return f"{local}@{domain}{tail}"
        elif j.domain[:-len(self.domain)] in SERVICE_PREFIXES and j.domain.endswith(self.domain) and \
                (j.local is None or j.local.startswith(prefix)):
            kind = j.domain[:-len(self.domain)]
            service = self._services.get(j.domain) or (kind + self.domains[0] if self.domains else j.domain)
            room = f"{j.local[len(prefix):]}@" if j.local is not None else ""
            return f"{room}{service}{tail}"
        return text

    def node(self, name: str) -> str:
        """The class's name of a chapter's pubsub node (``greenhouse`` -> ``student07.greenhouse``): on the class
        server a student's nodes are named after them, as their rooms are."""
        return name if name.startswith(f"{self.owner}.") else f"{self.owner}.{name}"

    def rewrite_nodes(self, el) -> None:
        """In place: an iq to the class's pubsub service names the student's nodes (the ``node`` attribute of its
        pubsub and disco elements; an item's payload is left alone)."""
        if el.get("to") != PUBSUB_PREFIX + self.domain:
            return
        for node in el.iter():
            if node.get("node") and isinstance(node.tag, str) and node.tag[1:].partition("}")[0] in NODE_NAMESPACES:
                node.set("node", self.node(node.get("node")))

    def unrewrite(self, xml: str) -> str:
        """XML text with each ``to``, ``from`` and ``jid`` holding a practice address written as the chapter's."""
        return _ATTRIBUTE.sub(lambda m: m.group(1) + m.group(2) + self.chapter(m.group(3)) + m.group(2), xml)

    def table(self) -> list[tuple[str, str]]:
        """(chapter address, practice account) of everyone mapped so far."""
        return [(f"{local}@{domain}", f"{self.owner}.{name}@{self.domain}")
                for (local, domain), name in self._people.items()]

    def __repr__(self) -> str:
        shown = ", ".join(f"{a} → {b}" for a, b in self.table()) or "nobody yet"
        return f"<PracticeNames of {self.owner}@{self.domain}: {shown}>"
