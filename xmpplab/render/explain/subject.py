"""The thing being explained, whatever it came as (a transcript item, an element, XML text), and who sent it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...ns import NS_STREAM
from ...transcript.model import Direction, Item, ItemKind, classify
from ...xml import XMLInputError, parse_fragment, split_qname
from .context import ExplainContext, _Facts
from .words import _domain, _name

C2S, S2C = Direction.C2S, Direction.S2C


@dataclass
class _Subject:
    kind: ItemKind
    element: object
    attrs: dict
    direction: Direction | None
    item: Item | None
    text: str
    conn: object = None
    facts: _Facts | None = None
    problem: str | None = None
    condition: str | None = None

    @property
    def ns(self) -> str:
        return split_qname(self.element.tag)[0] if self.element is not None else NS_STREAM

    @property
    def name(self) -> str:
        return split_qname(self.element.tag)[1] if self.element is not None else "stream"

    def get(self, key, default=None):
        if self.element is not None:
            return self.element.get(key, default)
        return (self.attrs or {}).get(key, default)

    def children(self):
        return [c for c in self.element if isinstance(c.tag, str)] if self.element is not None else []

    def child(self, ns: str, name: str | None = None):
        for c in self.children():
            cns, cname = split_qname(c.tag)
            if cns == ns and (name is None or cname == name):
                return c
        return None

    @property
    def client_jid(self) -> str | None:
        """The JID of the client on this connection (bound, or the 'from' it sent)."""
        if self.facts and self.facts.jid:
            return self.facts.jid
        if self.conn is not None and getattr(self.conn, "jid", None):
            return self.conn.jid
        if self.direction is C2S:
            return self.get("from")
        if self.direction is S2C:
            return self.get("to")
        return None

    @property
    def s2s(self) -> bool:
        return bool(self.facts and self.facts.kind == "s2s") or \
            (self.conn is not None and getattr(self.conn, "kind", None) == "s2s")

    @property
    def client(self) -> str:
        return _name(self.client_jid, "the client")

    @property
    def server(self) -> str:
        domain = (self.facts.domain if self.facts else None) or _domain(self.client_jid)
        return f"the server ({domain})" if domain else "the server"


_HEADER = re.compile(r"^\s*(?:<\?xml[^>]*\?>\s*)?<(?:[\w.-]+:)?stream[\s>]")
_HEADER_ATTR = re.compile(r"""([^\s=<>/]+)\s*=\s*(?:'([^']*)'|"([^"]*)")""")


def _subject(obj, ctx: ExplainContext, direction) -> _Subject:
    direction = Direction.parse(direction) if direction is not None else None
    if isinstance(obj, Item):
        conn = ctx.connection(obj.conn)
        return _Subject(obj.kind, obj.element, dict(obj.attrs or {}), obj.direction, obj, obj.text, conn,
                        ctx.facts(conn), obj.problem, obj.condition)
    if hasattr(obj, "tag") and isinstance(getattr(obj, "tag", None), str) and hasattr(obj, "iter"):
        return _guess_direction(_Subject(classify(obj), obj, {}, direction, None, ""))
    if hasattr(obj, "xml") and not isinstance(obj, (str, bytes)):  # a slixmpp stanza object
        obj = str(obj)
    if isinstance(obj, bytes):
        obj = obj.decode("utf-8", "replace")
    if not isinstance(obj, str):
        raise TypeError(f"explain() takes a transcript Item, an XML element or XML text, not {type(obj).__name__}")
    text = obj.strip()
    if _HEADER.match(text):
        attrs = {}
        tag = text[text.index("<stream") if "<stream" in text else 0:]
        for m in _HEADER_ATTR.finditer(tag.split(">", 1)[0]):
            key = m.group(1)
            if key != "xmlns" and not key.startswith("xmlns:"):
                attrs[key] = m.group(2) if m.group(2) is not None else m.group(3)
        if direction is None:
            direction = S2C if "id" in attrs or ("from" in attrs and "to" not in attrs) else C2S
        return _Subject(ItemKind.STREAM_OPEN, None, attrs, direction, None, text)
    if re.match(r"^</(?:[\w.-]+:)?stream\s*>$", text):
        return _Subject(ItemKind.STREAM_CLOSE, None, {}, direction, None, text)
    source = text
    if re.match(r"^<stream:", source) and "xmlns:stream" not in source.split(">", 1)[0]:
        source = re.sub(r"^<(stream:[\w-]+)", rf"<\1 xmlns:stream='{NS_STREAM}'", source, count=1)
    try:
        element = parse_fragment(source)
    except XMLInputError as exc:
        return _Subject(ItemKind.VIOLATION, None, {}, direction, None, text, problem=str(exc),
                        condition="restricted-xml" if "forbids" in str(exc) else "not-well-formed")
    return _guess_direction(_Subject(classify(element), element, {}, direction, None, text))


def _guess_direction(s: _Subject) -> _Subject:
    """A stanza typed without a direction and without 'from' is what a client sends (its server adds 'from')."""
    if s.direction is None and s.kind is ItemKind.STANZA and s.get("from") is None:
        s.direction = C2S
    return s


def _sender(s: _Subject) -> str:
    frm = s.get("from")
    if s.direction is C2S and not s.s2s:
        return s.client
    if frm:
        return _name(frm, "the server")
    return "the server" if s.direction is S2C else "the sender"


def _recipient(s: _Subject, default: str = "the server") -> str:
    to = s.get("to")
    if to:
        return _name(to, default)
    if s.direction is S2C and not s.s2s:
        return s.client
    return default


def _s2s_prefix(s: _Subject) -> str:
    if not s.s2s:
        return ""
    frm, to = _domain(s.get("from")), _domain(s.get("to"))
    return f"Server to server ({frm or '?'} → {to or '?'}): "
