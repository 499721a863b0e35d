"""Asking a transcript questions: which items, which answer, which route.

:class:`Transcript`, :class:`Connection` and :class:`Selection` share one
query interface (:class:`Query`)::

    t.items(conn="c2s-1", direction="C→S")            # everything the client sent
    t.stanzas(kind="iq", namespace="jabber:iq:roster") # roster requests, results and pushes
    t.items(kind="nonza", name="auth")                 # SASL <auth/> (masked)
    t.items(jid="juliet@example.com", since=t0)        # all of juliet's connections, from t0 on
    t.filter(kind="message")                           # a Selection, queried the same way
    t.answer_to(request)                               # the iq result or error for an iq get/set

Criteria combine with AND. ``kind`` takes item kinds (``stanza``, ``nonza``,
``stream-open``, ``stream-close``, ``stream-error``, ``violation``,
``non-xml``) and stanza kinds (``message``, ``presence``, ``iq``), one or a
list. ``namespace`` matches the element's namespace or that of one of its
children (``jabber:iq:roster`` finds ``<iq><query xmlns='jabber:iq:roster'/></iq>``).
``jid`` selects connections by the JID bound on them (a bare JID matches every
resource). ``since`` is inclusive and ``until`` exclusive (unix time or datetime).
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ..display import Shown
from ..xml import STANZA_KINDS, split_qname
from .model import Direction, Item, ItemKind, TranscriptError

_ITEM_KINDS = {k.value: k for k in ItemKind}


def _as_set(value) -> frozenset | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(value)


def _as_time(value) -> float | None:
    if value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    raise TranscriptError(f"since/until take unix time (a float) or a datetime, not {value!r}")


def _norm_jid(jid) -> tuple[str, str | None]:
    bare, _, resource = str(jid).strip().partition("/")  # text or a JID (a client's .jid)
    return bare.lower(), resource or None


def jid_matches(pattern: str, jid: str | None) -> bool:
    """A bare pattern matches the JID and all its resources; a full pattern matches that resource only."""
    if not jid:
        return False
    p_bare, p_res = _norm_jid(pattern)
    bare, res = _norm_jid(jid)
    return p_bare == bare and (p_res is None or p_res == res)


def _same_address(a: str | None, b: str | None) -> bool:
    """Do two addresses name the same entity? (a bare JID matches its full JIDs)."""
    if not a or not b:
        return True
    return jid_matches(a, b) or jid_matches(b, a)


@dataclass(frozen=True)
class Criteria:
    """What :meth:`Query.items` keeps (see the module docstring)."""

    conns: frozenset | None = None
    jid: str | None = None
    direction: Direction | None = None
    kinds: frozenset | None = None
    stanza_kinds: frozenset | None = None
    namespace: str | None = None
    name: str | None = None
    type: frozenset | None = None
    id: str | None = None
    since: float | None = None
    until: float | None = None
    where: Callable | None = None

    @classmethod
    def make(cls, conn=None, jid=None, direction=None, kind=None, namespace=None, name=None, type=None,
             id=None, since=None, until=None, where=None) -> Criteria:
        """Criteria from the arguments of :meth:`Transcript.items`, checked (TranscriptError for an unknown kind)."""
        kinds = stanza_kinds = None
        if kind is not None:
            wanted = _as_set(kind)
            unknown = {k for k in wanted if k not in _ITEM_KINDS and k not in STANZA_KINDS}
            if unknown:
                raise TranscriptError(
                    f"unknown kind {', '.join(sorted(map(str, unknown)))}: use one of "
                    f"{', '.join(_ITEM_KINDS)} or a stanza kind ({', '.join(STANZA_KINDS)})")
            item_kinds = {_ITEM_KINDS[k] for k in wanted if k in _ITEM_KINDS}
            stanza = {k for k in wanted if k in STANZA_KINDS}
            if stanza:
                item_kinds.add(ItemKind.STANZA)
                stanza_kinds = frozenset(stanza) if not (wanted & {"stanza"}) else None
            kinds = frozenset(item_kinds)
        if isinstance(conn, Iterable) and not isinstance(conn, str):
            conn = [getattr(c, "id", c) for c in conn]
        elif conn is not None:
            conn = getattr(conn, "id", conn)
        return cls(conns=_as_set(conn), jid=jid, direction=Direction.parse(direction) if direction else None,
                   kinds=kinds, stanza_kinds=stanza_kinds, namespace=namespace, name=name, type=_as_set(type), id=id,
                   since=_as_time(since), until=_as_time(until), where=where)

    def wants_connection(self, connection) -> bool:
        """True if items of this connection may match (its id and JID)."""
        if self.conns is not None and connection.id not in self.conns:
            return False
        return self.jid is None or jid_matches(self.jid, connection.jid)

    def matches(self, item: Item) -> bool:
        """True if the item meets every criterion."""
        if self.conns is not None and item.conn not in self.conns:
            return False
        if self.direction is not None and item.direction is not self.direction:
            return False
        if self.kinds is not None and item.kind not in self.kinds:
            return False
        if self.stanza_kinds is not None and item.kind is ItemKind.STANZA and item.name not in self.stanza_kinds:
            return False
        if self.since is not None and item.t < self.since:
            return False
        if self.until is not None and item.t >= self.until:
            return False
        if self.name is not None and item.name != self.name:
            return False
        if self.type is not None and item.type not in self.type:
            return False
        if self.id is not None and item.id != self.id:
            return False
        if self.namespace is not None and not _has_namespace(item, self.namespace):
            return False
        return self.where is None or bool(self.where(item))


def _has_namespace(item: Item, namespace: str) -> bool:
    if item.ns == namespace:
        return True
    if item.element is None:
        return False
    return any(isinstance(c.tag, str) and split_qname(c.tag)[0] == namespace for c in item.element)


def describe(items: list[Item]) -> str:
    """``5 C→S, 7 S→C; 10 stanzas (4 iq, 6 message), 2 nonzas``."""
    if not items:
        return "no items"
    by_dir = Counter(i.direction for i in items)
    by_kind = Counter(i.kind for i in items)
    stanzas = Counter(i.name for i in items if i.kind is ItemKind.STANZA)
    parts = [", ".join(f"{by_dir[d]} {d}" for d in Direction if by_dir[d])]
    kinds = []
    for kind in ItemKind:
        n = by_kind.get(kind)
        if not n:
            continue
        text = f"{n} {kind.value}{'s' if n != 1 and kind is not ItemKind.NON_XML else ''}"
        if kind is ItemKind.STANZA:
            text += " (" + ", ".join(f"{stanzas[k]} {k}" for k in STANZA_KINDS if stanzas[k]) + ")"
        kinds.append(text)
    return parts[0] + "; " + ", ".join(kinds)


class Query(Shown):
    """The query interface shared by Transcript, Connection and Selection."""

    def _iter_items(self, criteria: Criteria) -> Iterator[Item]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _scope(self):
        """Where answers are looked for: the transcript when there is one."""
        return self

    def items(self, conn=None, jid=None, direction=None, kind=None, namespace=None, name=None, type=None,
              id=None, since=None, until=None, where=None) -> Iterator[Item]:
        """Iterate the items of the parsed view in the order they happened (see the module docstring)."""
        return self._iter_items(Criteria.make(conn, jid, direction, kind, namespace, name, type, id, since,
                                              until, where))

    def stanzas(self, conn=None, jid=None, direction=None, kind=None, namespace=None, name=None, type=None,
                id=None, since=None, until=None, where=None) -> Iterator[Item]:
        """Only the stanzas: ``<message/>``, ``<presence/>`` and ``<iq/>`` (``kind`` narrows to one of them)."""
        for item in self.items(conn, jid, direction, kind, namespace, name, type, id, since, until, where):
            if item.kind is ItemKind.STANZA:
                yield item

    def filter(self, conn=None, jid=None, direction=None, kind=None, namespace=None, name=None, type=None,
               id=None, since=None, until=None, where=None) -> Selection:
        """The matching items as a :class:`Selection`, which answers the same questions."""
        items = list(self.items(conn, jid, direction, kind, namespace, name, type, id, since, until, where))
        return Selection(items, self._scope())

    def first(self, **criteria) -> Item | None:
        """The first matching item, or None."""
        return next(self.items(**criteria), None)

    def problems(self) -> list[Item]:
        """Violations and non-XML text: what the stream parser refused."""
        return list(self.items(kind=[ItemKind.VIOLATION.value, ItemKind.NON_XML.value]))

    def __iter__(self) -> Iterator[Item]:
        return self.items()

    def __len__(self) -> int:
        """The number of items (this parses everything once)."""
        return sum(1 for _ in self.items())

    def __bool__(self) -> bool:
        return True  # a transcript or connection with nothing parsed yet is still there

    # --- answers ----------------------------------------------------------
    def answer_to(self, request: Item) -> Item | None:
        """The iq ``result`` or ``error`` answering an iq ``get`` or ``set`` (RFC 6120 section 8.2.3).

        First on the same connection in the opposite direction (what the requester got back);
        otherwise, where the recorder is the server and the request was routed to another
        client, on another connection: same id, ``from`` and ``to`` swapped.
        """
        if request.stanza_kind != "iq" or request.type not in ("get", "set"):
            raise TranscriptError(f"answer_to() takes an iq of type get or set, not {request!r}")
        scope = self._scope()
        for item in scope.items(conn=request.conn, direction=request.direction.opposite, kind="iq",
                                id=request.id):
            if (item.seq, item.index) > (request.seq, request.index) and item.type in ("result", "error"):
                return item
        requester = request.from_ or (_connection_jid(scope, request.conn) if request.direction is Direction.C2S
                                      else None)
        for item in scope.items(kind="iq", id=request.id, since=request.t):
            if item.conn == request.conn or item.type not in ("result", "error") or \
                    (item.seq, item.index) <= (request.seq, request.index):
                continue
            if _same_address(item.from_, request.to) and _same_address(item.to, requester):
                return item
        return None

    def request_for(self, answer: Item) -> Item | None:
        """The iq ``get`` or ``set`` that an iq ``result`` or ``error`` answers (the inverse of answer_to)."""
        if answer.stanza_kind != "iq" or answer.type not in ("result", "error"):
            raise TranscriptError(f"request_for() takes an iq of type result or error, not {answer!r}")
        scope = self._scope()
        candidates = [i for i in scope.items(kind="iq", id=answer.id, until=answer.t + 1e-9)
                      if i.type in ("get", "set") and (i.seq, i.index) < (answer.seq, answer.index)]
        for item in reversed(candidates):
            if item.conn == answer.conn and item.direction is answer.direction.opposite:
                return item
        for item in reversed(candidates):
            if item.conn != answer.conn and scope.answer_to(item) is answer:
                return item
        return None

    def route(self, stanza: Item) -> list[Item]:
        """The same stanza on every stream it crossed, in order: ``[sent by juliet, delivered to romeo]``.

        Matches stanzas of the same kind, type and id whose ``to`` names the same entity, from
        this one on, the first on each connection (the stanza needs an ``id``).
        """
        if stanza.kind is not ItemKind.STANZA or not stanza.id:
            return [stanza]
        found, seen = [stanza], {stanza.conn}
        for item in self._scope().items(kind=stanza.name, id=stanza.id, since=stanza.t):
            if item.conn in seen or (item.seq, item.index) <= (stanza.seq, stanza.index):
                continue
            if item.type == stanza.type and _same_address(item.to, stanza.to):
                found.append(item)
                seen.add(item.conn)
        return found


def _connection_jid(scope, conn_id: str) -> str | None:
    connections = getattr(scope, "connections", None)
    if connections is not None and conn_id in connections:
        return connections[conn_id].jid
    return getattr(scope, "jid", None)


class Selection(Query):
    """Items chosen from a transcript (by :meth:`Query.filter`); queried like the transcript itself.

    Answers (:meth:`answer_to`) are still looked for in the whole transcript. ``title`` is what
    its stream view is headed with (``Lab.view`` says which cell and whose streams).
    """

    def __init__(self, items: list[Item], source=None, title: str | None = None):
        self._items = items
        self.source = source
        self.title = title

    def _iter_items(self, criteria: Criteria) -> Iterator[Item]:
        return (i for i in self._items if criteria.matches(i))

    def _scope(self):
        return self.source if self.source is not None else self

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index):
        return self._items[index]

    def __bool__(self) -> bool:
        return bool(self._items)

    def to_rfc_text(self, **options) -> str:
        """These items in RFC example notation (see :mod:`xmpplab.transcript.rfc`)."""
        from .rfc import to_rfc_text
        return to_rfc_text(self, **options)

    def __repr__(self) -> str:
        return f"<Selection of {len(self._items)} items: {describe(self._items)}>"
