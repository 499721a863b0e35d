"""A recorded session cut into exchanges, and the mappings a replay needs (ids, JIDs).

Re-driving a recording against a live server and playing it back as a fake
server both look at the same thing: what the client sent once its resource
was bound, and what the server sent back. An :class:`Exchange` is one
client stanza with the server stanzas it caused::

    exchange 1  C→S <presence id='p1'/>
                S→C <presence id='p1' from='juliet@example.com/balcony' to='juliet@example.com/balcony'/>
    exchange 2  C→S <iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>
                S→C <iq type='result' id='r1' ...><query xmlns='jabber:iq:roster'/></iq>

A server stanza belongs to the client stanza whose ``id`` it carries (an iq
result or error answers its get or set, RFC 6120 section 8.2.3; servers
reflect presence and bounce errors with the same id), else to the latest
client stanza before it. What the server sent after binding and before the
client's first stanza is exchange 0, whose request is None.

Ids and JIDs must change when a recording is played again: a live server
binds another resource, a client picks its own ids. :class:`IdMap` and
:class:`JidMap` keep the correspondences, both ways.
"""

from __future__ import annotations

import copy
import difflib
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from ..transcript import Direction, Item, ItemKind, Transcript, TranscriptError
from ..xml import NS_BIND, NS_CLIENT, qname, serialize, split_qname

#: Attributes whose values may change from one run to the next and are not compared:
#: ``delay@stamp`` (XEP-0203 timestamps), ``x@stamp`` (legacy XEP-0091 delay).
#: Values that differ between runs and servers by design: delay stamps, and the roster version,
#: an opaque string each server makes up (RFC 6121 section 2.6).
DEFAULT_IGNORE = frozenset({"delay@stamp", "x@stamp", "query@ver"})
#: Elements a server adds about itself, present or not depending on its modules and never the same twice:
#: XEP-0359 ``<stanza-id/>`` (where an archiving server, XEP-0313, keeps the message). Left out of both sides.
SERVER_NOTES = frozenset({"{urn:xmpp:sid:0}stanza-id"})
JID_ATTRIBUTES = ("to", "from", "jid")


# --- picking the session of a connection ---------------------------------------------------------
def pick_connection(source, conn=None):
    """The connection to replay: ``conn`` (an id or a Connection), or the only client session there is."""
    if hasattr(source, "parsed") and not hasattr(source, "connections"):
        return source  # a Connection already
    if conn is not None:
        conn_id = getattr(conn, "id", conn)
        if conn_id not in source.connections:
            raise TranscriptError(f"there is no connection {conn_id!r} in this transcript; there are: "
                                  f"{', '.join(source.connections) or 'none'}")
        return source.connections[conn_id]
    sessions = [c for c in source.connections.values()
                if c.kind == "c2s" and any(True for _ in c.stanzas(direction=Direction.C2S))]
    if len(sessions) == 1:
        return sessions[0]
    if not sessions:
        raise TranscriptError("this transcript has no client connection that sent a stanza")
    names = ", ".join(f"{c.id} ({c.jid})" if c.jid else c.id for c in sessions)
    raise TranscriptError(f"this transcript has {len(sessions)} client connections: say which one (conn=...; "
                          f"there are {names})")


def _bind_result(connection) -> Item | None:
    for item in connection.stanzas(direction=Direction.S2C, kind="iq", type="result"):
        if item.element is not None and item.element.find(qname(NS_BIND, "bind")) is not None:
            return item
    return None


def session_items(connection) -> list[Item]:
    """The stanzas of the connection once its resource was bound (all of them when no bind was recorded)."""
    bound = _bind_result(connection)
    after = (bound.seq, bound.index) if bound is not None else (-1, -1)
    return [i for i in connection.stanzas() if (i.seq, i.index) > after]


def recorded_jid(connection) -> str | None:
    """The full JID the recorded client had: the bound one, else the first address that looks like it."""
    if connection.jid:
        return connection.jid
    bound = _bind_result(connection)
    if bound is not None:
        text = bound.element.findtext(f"{qname(NS_BIND, 'bind')}/{qname(NS_BIND, 'jid')}")
        if text:
            return text.strip()
    for item in connection.stanzas():
        value = item.from_ if item.direction is Direction.C2S else item.to
        if value and "@" in value:
            return value
    return None


def load_source(source) -> Transcript:
    """A Transcript from a Transcript, a Connection's transcript, or a file path (any format xmpplab reads)."""
    if isinstance(source, Transcript) or hasattr(source, "connections") or hasattr(source, "parsed"):
        return source
    from .files import load_transcript
    return load_transcript(source)


# --- exchanges ----------------------------------------------------------------------------------
@dataclass
class Exchange:
    """One client stanza (``request``; None for what the server sent on its own first) and its answers."""

    number: int
    request: Item | None
    answers: list[Item] = field(default_factory=list)

    def __repr__(self) -> str:
        what = describe_item(self.request) if self.request is not None else "(server, unprompted)"
        answers = ", ".join(describe_item(a) for a in self.answers) or "nothing"
        return f"<Exchange {self.number}: {what} → {answers}>"


def split_exchanges(items: Iterable[Item]) -> list[Exchange]:
    """Cut stanzas (in order) into exchanges (see the module docstring). Exchange 0 is kept only if not empty."""
    exchanges = [Exchange(0, None)]
    by_id: dict[tuple[str, str], int] = {}
    for item in items:
        if item.kind is not ItemKind.STANZA:
            continue
        if item.direction is Direction.C2S:
            exchanges.append(Exchange(len(exchanges), item))
            if item.id:
                by_id[(item.name, item.id)] = len(exchanges) - 1
            continue
        target = by_id.get((item.name, item.id)) if item.id else None
        exchanges[target if target is not None else -1].answers.append(item)
    return exchanges if exchanges[0].answers else exchanges[1:]


def shape(el) -> tuple:
    """What makes two stanzas "the same kind of request": name, type, and for an iq its payload's name.

    A message or a presence is known by its name and type only: clients add chat states,
    capabilities and the like that say nothing about what was asked.
    """
    name = split_qname(el.tag)[1]
    payload = next((c for c in el if isinstance(c.tag, str)), None) if name == "iq" else None
    return name, el.get("type"), payload.tag if payload is not None else None


def describe_item(item) -> str:
    """``C→S iq get jabber:iq:roster`` (an Item) or ``iq result jabber:iq:roster`` (an element)."""
    el = item.element if isinstance(item, Item) else item
    if el is None:
        return f"{item.direction} {item.kind}" if isinstance(item, Item) else "?"
    name = split_qname(el.tag)[1]
    parts = [name]
    if el.get("type"):
        parts.append(el.get("type"))
    payload = next((c for c in el if isinstance(c.tag, str)), None)
    if payload is not None:
        ns, local = split_qname(payload.tag)
        if name == "message":
            body = el.findtext(qname(NS_CLIENT, "body"))
            if body is not None:
                parts.append(repr(body if len(body) <= 30 else body[:27] + "..."))
        elif ns and ns != split_qname(el.tag)[0]:
            parts.append(ns)
        else:
            parts.append(f"<{local}/>")
    text = " ".join(parts)
    return f"{item.direction} {text}" if isinstance(item, Item) else text


# --- mappings -----------------------------------------------------------------------------------
def _split_jid(value: str) -> tuple[str | None, str, str | None]:
    bare, slash, resource = value.partition("/")
    local, at, domain = bare.rpartition("@")
    return (local if at else None), domain, (resource if slash else None)


class JidMap:
    """Rewrite addresses from a recording to the live session: full JIDs, bare JIDs and domains.

    >>> m = JidMap.for_session("juliet@example.com/balcony", "nurse@localhost/abc")
    >>> m("juliet@example.com/balcony"), m("juliet@example.com"), m("juliet@example.com/phone"), m("example.com")
    ('nurse@localhost/abc', 'nurse@localhost', 'nurse@localhost/phone', 'localhost')
    >>> m("romeo@example.com/orchard")
    'romeo@localhost/orchard'
    """

    def __init__(self, pairs: dict[str, str] | None = None):
        self.pairs = {k.lower(): v for k, v in (pairs or {}).items()}

    @classmethod
    def for_session(cls, recorded: str | None, live: str | None, extra: dict | None = None) -> JidMap:
        """The map from a recorded session's JID to the live one: domain, bare JID and full JID (and `extra` pairs)."""
        pairs: dict[str, str] = {}
        if recorded and live:
            r_local, r_domain, r_res = _split_jid(recorded)
            l_local, l_domain, l_res = _split_jid(live)
            if r_domain.lower() != l_domain.lower():
                pairs[r_domain] = l_domain
            if r_local is not None and l_local is not None:
                pairs[f"{r_local}@{r_domain}"] = f"{l_local}@{l_domain}"
            if r_res is not None and l_res is not None:
                pairs[recorded] = live
        pairs.update(extra or {})
        return cls(pairs)

    def __call__(self, value: str | None) -> str | None:
        if not value:
            return value
        hit = self.pairs.get(value.lower())
        if hit is not None:
            return hit
        local, domain, resource = _split_jid(value)
        if local is not None:
            bare = self.pairs.get(f"{local}@{domain}".lower())
            if bare is not None:
                return bare + (f"/{resource}" if resource is not None else "")
        new_domain = self.pairs.get(domain.lower())
        if new_domain is not None:
            return (f"{local}@" if local is not None else "") + new_domain + \
                (f"/{resource}" if resource is not None else "")
        return value

    def inverse(self) -> JidMap:
        """The map the other way, live to recorded."""
        return JidMap({v: k for k, v in self.pairs.items()})

    def apply(self, el):
        """A copy of the element with ``to``, ``from``, ``jid`` attributes and ``<jid/>`` texts rewritten."""
        el = copy.deepcopy(el)
        if not self.pairs:
            return el
        for node in el.iter():
            if not isinstance(node.tag, str):
                continue
            for attr in JID_ATTRIBUTES:
                if node.get(attr):
                    node.set(attr, self(node.get(attr)))
            if split_qname(node.tag)[1] == "jid" and node.text and node.text.strip():
                node.text = self(node.text.strip())
        return el

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def __repr__(self) -> str:
        return "<JidMap " + (", ".join(f"{k} → {v}" for k, v in self.pairs.items()) or "identity") + ">"


class IdMap:
    """Recorded stanza ids and the ids used live, both ways: ``ids.live["r1"] == "replay-2"``."""

    def __init__(self, prefix: str = "replay"):
        self.prefix = prefix
        self.live: dict[str, str] = {}      # recorded id -> live id
        self.recorded: dict[str, str] = {}  # live id -> recorded id
        self._numbers = itertools.count(1)

    def new(self, recorded_id: str) -> str:
        """A fresh unique live id for a recorded id (the same one when asked again)."""
        if recorded_id not in self.live:
            self.pair(recorded_id, f"{self.prefix}-{next(self._numbers)}")
        return self.live[recorded_id]

    def pair(self, recorded_id: str, live_id: str) -> None:
        """Remember that recorded id `recorded_id` is `live_id` live, both ways."""
        self.live[recorded_id] = live_id
        self.recorded[live_id] = recorded_id

    def __len__(self) -> int:
        return len(self.live)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k} → {v}" for k, v in list(self.live.items())[:5])
        return f"<IdMap {len(self.live)} ids{': ' + shown if shown else ''}{' …' if len(self.live) > 5 else ''}>"


# --- comparing stanzas --------------------------------------------------------------------------
IGNORED = "{ignored}"
ANY_ID = "{server's id}"


def _ignored(node, attr: str, ignore: frozenset) -> bool:
    return attr in ignore or f"{split_qname(node.tag)[1]}@{attr}" in ignore


def normalize(expected, got, ids: IdMap | None, jids: JidMap | None, ignore=DEFAULT_IGNORE):
    """Copies of a recorded stanza and a live one, made comparable.

    The recorded one gets the live ids and JIDs; an id the client did not choose (the server
    made it up) and the ``ignore`` attributes (``name`` or ``element@name``) are replaced by
    placeholders in both when both have them; whitespace-only text is dropped, and so are the
    notes a server adds about itself (:data:`SERVER_NOTES`: an archive's XEP-0359 stanza id).
    """
    ignore = frozenset(ignore)
    e = jids.apply(expected) if jids else copy.deepcopy(expected)
    g = copy.deepcopy(got)
    if ids is not None and e.get("id") is not None:
        if e.get("id") in ids.live:
            e.set("id", ids.live[e.get("id")])
        elif g.get("id") is not None and g.get("id") not in ids.recorded:
            e.set("id", ANY_ID)
            g.set("id", ANY_ID)
    for root in (e, g):
        for note in [n for n in root.iter() if n is not root and n.tag in SERVER_NOTES]:
            note.getparent().remove(note)
        for node in root.iter():
            if not isinstance(node.tag, str):
                continue
            if node.text is not None and not node.text.strip():
                node.text = None
            if node.tail is not None and not node.tail.strip():
                node.tail = None
    for root in (e, g):
        for node in root.iter():
            if not isinstance(node.tag, str):
                continue
            for attr in list(node.attrib):
                if _ignored(node, attr, ignore):
                    node.set(attr, IGNORED)
    return e, g


def canonical(el) -> str:
    """A string equal for elements that are equal up to attribute order and child order."""
    if not isinstance(el.tag, str):
        return ""
    attrs = ",".join(f"{k}={v}" for k, v in sorted(el.attrib.items()))
    children = sorted(canonical(c) for c in el if isinstance(c.tag, str))
    return f"<{el.tag} {attrs}>{(el.text or '').strip()}[{'|'.join(children)}]"


def differences(expected, got, path: str | None = None, limit: int = 6) -> list[str]:
    """What differs between two (normalized) elements, in words, at most ``limit`` sentences."""
    out: list[str] = []
    _diff(expected, got, path or _label(expected), out)
    return out[:limit] + ([f"... and {len(out) - limit} more differences"] if len(out) > limit else [])


def _label(el, parent=None) -> str:
    ns, name = split_qname(el.tag)
    if parent is not None and split_qname(parent.tag)[0] == ns or ns in ("", NS_CLIENT):
        return name
    return f"{name}[{ns}]"


def _diff(e, g, path: str, out: list[str]) -> None:
    if e.tag != g.tag:
        out.append(f"{path}: expected <{_label(e)}>, got <{_label(g)}>")
        return
    for key in sorted(set(e.attrib) | set(g.attrib)):
        ev, gv = e.get(key), g.get(key)
        name = split_qname(key)[1] if key.startswith("{") else key
        if ev == gv:
            continue
        if ev is None:
            out.append(f"{path}: an extra attribute {name}='{gv}'")
        elif gv is None:
            out.append(f"{path}: the attribute {name}='{ev}' is missing")
        else:
            out.append(f"{path}: {name} is '{gv}', expected '{ev}'")
    et, gt = (e.text or "").strip(), (g.text or "").strip()
    if et != gt:
        out.append(f"{path}: the text is {_quote(gt)}, expected {_quote(et)}")
    e_kids = [c for c in e if isinstance(c.tag, str)]
    g_kids = [c for c in g if isinstance(c.tag, str)]
    g_left = list(g_kids)
    e_left = []
    for child in e_kids:  # equal children first, in any order
        key = canonical(child)
        twin = next((c for c in g_left if canonical(c) == key), None)
        if twin is None:
            e_left.append(child)
        else:
            g_left.remove(twin)
    for child in e_left:  # then the same element with different content
        twin = next((c for c in g_left if c.tag == child.tag), None)
        if twin is None:
            out.append(f"{path}: <{_label(child, e)}/> is missing")
        else:
            g_left.remove(twin)
            _diff(child, twin, f"{path}/{_label(child, e)}", out)
    for child in g_left:
        out.append(f"{path}: an extra <{_label(child, g)}/>")


def _quote(text: str) -> str:
    if not text:
        return "empty"
    return repr(text if len(text) <= 40 else text[:37] + "...")


def pretty(el) -> str:
    """Indented XML with attributes sorted, as a stanza looks inside a client stream."""
    el = copy.deepcopy(el)
    for node in el.iter():
        if isinstance(node.tag, str) and len(node.attrib) > 1:
            items = sorted(node.attrib.items())
            node.attrib.clear()
            for k, v in items:
                node.set(k, v)
    etree.indent(el, space="  ")
    return serialize(el, NS_CLIENT)


def xml_diff(expected, got, labels=("recorded", "live")) -> str:
    """A unified diff of two elements, pretty-printed."""
    a, b = pretty(expected).splitlines(), pretty(got).splitlines()
    return "\n".join(difflib.unified_diff(a, b, labels[0], labels[1], lineterm="", n=2))
