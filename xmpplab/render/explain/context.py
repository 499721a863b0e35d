"""What an explanation may know beyond one item: its connection, who is bound on it, what came before."""

from __future__ import annotations

from ...ns import NS_BIND, NS_COMPRESS, NS_SASL, NS_TLS
from ...transcript.model import Direction, Item, ItemKind

__all__ = ["ExplainContext"]

C2S, S2C = Direction.C2S, Direction.S2C


class ExplainContext:
    """What :func:`explain` may know beyond one item: its connection and the items around it.

    Built from a Transcript, a Connection or a Selection; facts about each
    connection (who is bound on it, which stream headers are restarts, which
    iq answers which request) are worked out once, in one pass, and
    refreshed when the connection has grown.
    """

    def __init__(self, source=None):
        self.source = source
        self._facts: dict[str, _Facts] = {}

    @classmethod
    def of(cls, context) -> ExplainContext:
        """`context` if it is an ExplainContext, else a new one over it (a Transcript, Connection or Selection)."""
        return context if isinstance(context, ExplainContext) else cls(context)

    def connection(self, conn_id: str):
        """The connection with this id, found through the source (None when it cannot be reached)."""
        src = self.source
        while src is not None:
            if getattr(src, "id", None) == conn_id and hasattr(src, "parsed"):
                return src
            connections = getattr(src, "connections", None)
            if isinstance(connections, dict):
                return connections.get(conn_id)
            nxt = getattr(src, "source", None) or getattr(src, "transcript", None)
            if nxt is src:
                break
            src = nxt
        return None

    def facts(self, conn) -> _Facts | None:
        """What one pass over the connection found (restarts, first presence, iq pairs), kept until it grows."""
        if conn is None:
            return None
        facts = self._facts.get(conn.id)
        items = conn.parsed
        if facts is None or facts.count != len(items):
            facts = self._facts[conn.id] = _Facts(conn, items)
        return facts


_RESTART_CAUSE = {f"{{{NS_TLS}}}proceed": "tls", f"{{{NS_SASL}}}success": "sasl",
                  f"{{{NS_COMPRESS}}}compressed": "compression"}


class _Facts:
    """One pass over a connection's items: restarts, the first presence, iq requests and answers."""

    def last_sent_to(self, index: int, bare: str) -> str | None:
        """The type of the last subscription stanza the client sent to ``bare`` before item ``index``."""
        found = None
        for i, contact, ptype in self.subscription_sent:
            if i < index and contact == bare:
                found = ptype
        return found

    def acknowledges_subscribe(self, index: int, bare: str) -> bool:
        """True if item ``index``, presence from ``bare``, is the first since the client's last subscription
        stanza to ``bare``, and that stanza was a ``subscribe``: the server's receipt for the request."""
        last = max((i for i, contact, _ in self.subscription_sent if i < index and contact == bare), default=None)
        if last is None or self.last_sent_to(index, bare) != "subscribe":
            return False
        return not any(last < i < index for i, sender in self.presence_received if sender == bare)

    def __init__(self, conn, items):
        self.count = len(items)
        self.jid = conn.jid
        self.kind = conn.kind
        self.domain: str | None = None
        self.restart: dict[int, str] = {}
        self.first_presence: int | None = None
        self.request_of: dict[int, Item] = {}   # answer index -> request
        self.answer_of: dict[int, Item] = {}    # request index -> answer
        self.guessed: str | None = None
        self.subscription_sent: list[tuple[int, str, str]] = []  # (index, contact's bare JID, type) sent by the client
        self.presence_received: list[tuple[int, str]] = []  # (index, sender's bare JID) of presence to the client
        opened = {C2S: False, S2C: False}
        cause = {C2S: None, S2C: None}
        pending: dict[tuple, Item] = {}
        for it in items:
            kind = it.kind
            if kind is ItemKind.STREAM_OPEN:
                if opened[it.direction]:
                    self.restart[it.index] = cause[it.direction] or "restart"
                opened[it.direction] = True
                cause[it.direction] = None
                attrs = it.attrs or {}
                self.domain = self.domain or (attrs.get("to") if it.direction is C2S else attrs.get("from"))
            elif kind is ItemKind.NONZA:
                why = _RESTART_CAUSE.get(it.element.tag) if it.direction is S2C else None
                if why:
                    cause = {C2S: why, S2C: why}
            elif kind is ItemKind.STANZA:
                name = it.name
                if name == "iq":
                    t = it.type
                    if t in ("get", "set"):
                        pending[(it.direction, it.id)] = it
                    elif t in ("result", "error"):
                        req = pending.pop((it.direction.opposite, it.id), None)
                        if req is not None:
                            self.request_of[it.index] = req
                            self.answer_of[req.index] = it
                elif name == "presence" and self.first_presence is None and it.direction is C2S \
                        and it.type is None and it.to is None:
                    self.first_presence = it.index
                elif name == "presence" and it.direction is C2S and it.to and \
                        it.type in ("subscribe", "subscribed", "unsubscribe", "unsubscribed"):
                    self.subscription_sent.append((it.index, it.to.split("/", 1)[0], it.type))
                elif name == "presence" and it.direction is S2C and it.from_:
                    self.presence_received.append((it.index, it.from_.split("/", 1)[0]))
                if self.jid is None and name == "iq" and it.direction is S2C and it.type == "result":
                    bound = it.element.findtext(f"{{{NS_BIND}}}bind/{{{NS_BIND}}}jid")
                    self.jid = bound.strip() if bound else None
                if self.guessed is None and self.kind != "s2s":
                    # RFC examples bind nothing: the client is who its stanzas come from or go to
                    self.guessed = it.from_ if it.direction is C2S else it.to
        if self.jid is None and self.guessed and "@" in self.guessed:
            self.jid = self.guessed
