"""What came back after the composer sent a stanza: the answer, what each client received, explained.

An iq get or set has exactly one result or error (RFC 6120 §8.2.3); a message
or a presence has no answer, only deliveries (RFC 6121 §4, §5) or an error
bounced back to the sender.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..render.palette import BLACK, BORDER, MUTED
from ..xml import split_qname
from ._base import box, esc, messages_html

__all__ = ["Answer", "Received", "find_reply", "mentions"]

@dataclass
class Received:
    """One stanza a client received after the send: who received it, the item, and its transcript."""

    jid: str
    item: object
    transcript: object

    @property
    def text(self) -> str:
        """The stanza's XML as it was received."""
        return self.item.text


@dataclass
class Answer:
    """What happened after :meth:`Composer.send`.

    ``sent`` is the XML written on ``sender``'s stream; ``received`` every stanza
    any watched client read afterwards (within the wait); ``reply`` the answer on
    the sender's own stream (the iq result or error, or an error bounced back
    for a message or presence), or None.
    """

    sent: str
    sender: str
    kind: str
    id: str | None
    stype: str | None
    received: list[Received] = field(default_factory=list)
    reply: object = None
    request: object = None  # the sent stanza as recorded on the sender's stream
    waited: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True if the stanza was sent and no error came back."""
        return self.error is None and (self.reply is None or self.reply.type != "error")

    def summary(self) -> str:
        """One line: ``iq result from example.com`` / ``delivered to romeo@example.net/orchard``."""
        if self.error:
            return f"not sent: {self.error}"
        if self.reply is not None:
            what = f"{self.reply.name} {self.reply.type}"
            condition = _error_condition(self.reply)
            return f"{what}{' (' + condition + ')' if condition else ''} from {self.reply.from_ or 'the server'}"
        others = sorted({r.jid for r in self.received if r.jid != self.sender})
        if others:
            return "received by " + ", ".join(others)
        return f"nothing came back within {self.waited:.1f} s"

    def html(self) -> str:
        """The answer as HTML: what was sent, what came back, each explained with its spec section."""
        from ..render.explain import citation_links, explain, explain_exchange
        from ..render.xmlview import xml_html

        if self.error:
            return box(messages_html([self.error]))
        parts = [(f'<div style="color:{MUTED};font-size:12px">Sent by {esc(self.sender)} '
                 f'(C→S), waited {self.waited:.2f} s.</div>')]
        if self.kind == "iq" and self.stype in ("get", "set"):
            if self.reply is None:
                parts.append(f"<div>No answer within {self.waited:.1f} s. Every iq get or set must get exactly "
                             "one result or error (RFC 6120 §8.2.3): the other side has not answered yet.</div>")
            else:
                e = explain_exchange(self.request, self.reply, self.reply_context) if self.request is not None \
                    else explain(self.reply, self.reply_context)
                parts.append(_sentence(e, citation_links))
        elif not self.received:
            if self.kind == "message":
                parts.append("<div>Nothing came back, and no client of the lab received it. A message is "
                             "fire-and-forget (RFC 6121 §5): only an error would come back.</div>")
            else:
                parts.append("<div>Nothing came back, and no client of the lab received anything. Presence goes "
                             "to those who subscribed to it (RFC 6121 §4); no answer is expected.</div>")
        for r in self.received:
            mine = r.jid == self.sender
            label = "the answer" if r.item is self.reply else ("back to the sender" if mine else "delivered")
            e = explain(r.item, r.transcript)
            parts.append(
                f'<div style="margin-top:6px;border-left:4px solid {BLACK};background:#f6f8fa;border-radius:3px;'
                f'padding:2px 8px"><div style="font-weight:600">{esc(r.jid)} received ({esc(label)}, S→C)</div>'
                f'{xml_html(r.item.text, direction="S→C")}'
                f'<div style="border-top:1px dotted {BORDER};font-size:12px">{esc(e.text)}'
                f'{" (" + citation_links(e.citations) + ")" if e.citations else ""}</div></div>')
        return box("".join(parts))

    @property
    def reply_context(self):
        """The transcript the reply was read from (for explaining it), or None."""
        for r in self.received:
            if r.item is self.reply:
                return r.transcript
        return None


def _sentence(e, citation_links) -> str:
    cites = f" ({citation_links(e.citations)})" if e.citations else ""
    return f'<div style="font-weight:600;margin:2px 0">{esc(e.text)}{cites}</div>'


def _error_condition(item) -> str | None:
    if item is None or item.type != "error" or item.element is None:
        return None
    for child in item.element:
        if isinstance(child.tag, str) and split_qname(child.tag)[1] == "error":
            for cond in child:
                if isinstance(cond.tag, str) and split_qname(cond.tag)[1] != "text":
                    return split_qname(cond.tag)[1]
    return None


def mentions(events, sid: str) -> bool:
    """Did any chunk read since the send mention the id (a cheap test before parsing the transcript)?"""
    return any(e.get("type") == "data" and sid in e.get("data", "") for e in events)


def find_reply(client, mark: int, kind: str, sid: str):
    """The S→C result or error with this id on the client's stream since ``mark``, or None."""
    for item in client.transcript.stanzas(kind=kind, id=sid):
        if item.seq >= mark and str(item.direction) == "S→C" and item.type in ("result", "error"):
            return item
    return None
