"""Plain-language explanations of what crossed the wire, each with the RFC or XEP section it comes from.

>>> from xmpplab.render import explain
>>> e = explain("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
>>> e.citation
'RFC 6121 §2.1.3'
>>> e.url
'https://www.rfc-editor.org/rfc/rfc6121.html#section-2.1.3'

``explain(x)`` takes a transcript :class:`~xmpplab.transcript.Item` (the best:
it knows the direction and, with ``context=transcript``, who is logged in on
the connection and what came before), an lxml element, a slixmpp stanza or
XML text. It uses the people's names from their JIDs: "juliet asks her server
for her contact list (her roster): an iq of type get in the jabber:iq:roster
namespace." :func:`explain_exchange` explains an iq request and its answer
together.

Covered: stream headers (and restarts), features, STARTTLS, SASL (auth,
challenge, response, success, failure with each condition), resource binding,
the legacy session, messages of every type (and to bare or full JIDs, delayed
offline delivery, chat states, receipts), presence (available, unavailable,
show, status, priority, directed, probes, the four subscription types), iqs
(roster get/result/set/push, disco#info/items, ping, version, registration,
bind) and any namespace a XEP defines (named, with the XEP), stanza errors and
stream errors (each condition with its own section), and text the stream
parser refused. Section numbers come from :mod:`xmpplab.render.specs`.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from dataclasses import dataclass

from ..transcript.model import Direction, Item, ItemKind, classify
from ..xml import (
    NS_BIND,
    NS_DELAY,
    NS_DISCO_INFO,
    NS_DISCO_ITEMS,
    NS_PING,
    NS_REGISTER,
    NS_ROSTER,
    NS_SASL,
    NS_SESSION,
    NS_STANZAS,
    NS_STREAM,
    NS_STREAMS,
    NS_TLS,
    NS_VERSION,
    XMLInputError,
    parse_fragment,
    split_qname,
)
from . import specs
from .display import Displayable
from .specs import RFC3921_SESSION, Citation, rfc6120, rfc6121, xep

__all__ = ["Citation", "ExplainContext", "Explanation", "explain", "explain_exchange"]

C2S, S2C = Direction.C2S, Direction.S2C
MASK = "[masked]"
NS_SASL2 = "urn:xmpp:sasl:2"
NS_SM = "urn:xmpp:sm:3"
NS_COMPRESS = "http://jabber.org/protocol/compress"
NS_CHATSTATES = "http://jabber.org/protocol/chatstates"
NS_RECEIPTS = "urn:xmpp:receipts"
NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
NS_CARBONS = "urn:xmpp:carbons:2"
NS_ROSTERVER = "urn:xmpp:features:rosterver"
NS_PREAPPROVAL = "urn:xmpp:features:pre-approval"


# ----------------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class Explanation(Displayable):
    """A sentence (or two) saying what something is and does, and where it is defined.

    ``citations`` come most relevant first: :attr:`citation` and :attr:`url` are the
    first one's. ``topic`` is a few words ("roster get"); ``step`` names a stream
    negotiation step ("stream header", "STARTTLS", "SASL auth", ...), or is None for
    ordinary stanzas; ``notes`` are extra lines (a decoded SASL payload...).
    """

    text: str
    citations: tuple[Citation, ...] = ()
    topic: str = ""
    notes: tuple[str, ...] = ()
    step: str | None = None
    problem: bool = False

    @property
    def citation(self) -> str:
        """``RFC 6121 §2.1.3``: the most relevant section ('' when there is none)."""
        return self.citations[0].label if self.citations else ""

    @property
    def url(self) -> str | None:
        return self.citations[0].url if self.citations else None

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.citations]

    def __str__(self) -> str:
        cites = "; ".join(c.label for c in self.citations)
        return f"{self.text} ({cites})" if cites else self.text

    def __repr__(self) -> str:
        text = self.text if len(self.text) <= 70 else self.text[:67] + "..."
        return f"Explanation({text!r}, {self.citation or 'no citation'})"

    def _display_text(self) -> str:
        lines = [self.text, *self.notes]
        lines += [f"  {c.label} ({c.title}): {c.url}" for c in self.citations]
        return "\n".join(lines)

    def _display_html(self) -> str:
        return (f'<div style="background:#f6f8fa;color:#1f2328;padding:6px 10px;border-radius:4px;'
                f'font:13px/1.5 system-ui,-apple-system,\'Segoe UI\',sans-serif;text-align:left">'
                f"{explanation_html(self)}</div>")


def citation_links(citations, limit: int | None = None) -> str:
    """``<a href=...>RFC 6121 §2.1.3</a>, ...`` (escaped)."""
    cites = list(citations)[:limit] if limit else list(citations)
    return ", ".join(
        f'<a href="{html.escape(c.url)}" target="_blank" title="{html.escape(c.title)}" '
        f'style="color:#0550ae">{html.escape(c.label)}</a>' for c in cites)


def explanation_html(e: Explanation) -> str:
    """The sentence, its notes and its linked citations, as an HTML fragment (escaped)."""
    parts = [html.escape(e.text)]
    if e.citations:
        parts.append(f' <span style="white-space:nowrap">({citation_links(e.citations)})</span>')
    for note in e.notes:
        parts.append(f'<br><span style="color:#57606a">{html.escape(note)}</span>')
    return "".join(parts)


# ----------------------------------------------------------------------------------- context
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
        return context if isinstance(context, ExplainContext) else cls(context)

    def connection(self, conn_id: str):
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
                if self.jid is None and name == "iq" and it.direction is S2C and it.type == "result":
                    bound = it.element.findtext(f"{{{NS_BIND}}}bind/{{{NS_BIND}}}jid")
                    self.jid = bound.strip() if bound else None
                if self.guessed is None and self.kind != "s2s":
                    # RFC examples bind nothing: the client is who its stanzas come from or go to
                    self.guessed = it.from_ if it.direction is C2S else it.to
        if self.jid is None and self.guessed and "@" in self.guessed:
            self.jid = self.guessed


# ----------------------------------------------------------------------------------- people
_SHE = {"juliet", "nurse", "rosaline", "alice", "carol", "eve", "lady", "ladycapulet", "ladymontague",
        "hermia", "helena", "ophelia", "portia", "viola", "olivia", "miranda"}
_HE = {"romeo", "benvolio", "mercutio", "tybalt", "paris", "balthasar", "friar", "laurence", "lawrence",
       "montague", "capulet", "peter", "sampson", "gregory", "abraham", "escalus", "bob", "hamlet", "horatio"}


def _local(jid: str | None) -> str | None:
    if not jid:
        return None
    bare = jid.split("/", 1)[0]
    return bare.split("@", 1)[0] if "@" in bare else None


def _domain(jid: str | None) -> str | None:
    if not jid:
        return None
    return jid.split("/", 1)[0].rpartition("@")[2] or None


def _name(jid: str | None, default: str) -> str:
    """``juliet`` for juliet@example.com/balcony; the domain for a server JID; else the default."""
    if not jid:
        return default
    return _local(jid) or jid.split("/", 1)[0]


def _their(name: str) -> str:
    key = name.lower().replace(" ", "").replace("_", "")
    if key in _SHE:
        return "her"
    if key in _HE:
        return "his"
    return "their"


def _they(name: str) -> str:
    return {"her": "she", "his": "he"}.get(_their(name), "they")


def _self(name: str) -> str:
    return {"her": "herself", "his": "himself"}.get(_their(name), "themselves")


def _is_bare_user(jid: str | None) -> bool:
    return bool(jid) and "/" not in jid and "@" in jid


def _is_full(jid: str | None) -> bool:
    return bool(jid) and "/" in jid


def _quote(text: str | None, limit: int = 70) -> str:
    text = " ".join((text or "").split())
    return f"“{text if len(text) <= limit else text[:limit - 1] + '…'}”"


# ----------------------------------------------------------------------------------- the subject
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


# ----------------------------------------------------------------------------------- entry points
def explain(obj, context=None, *, direction=None) -> Explanation:
    """Explain one item, element or piece of XML text (see the module docstring).

    ``context`` (a Transcript, Connection or Selection) lets the explanation use
    the connection's bound JID and what happened before; ``direction`` ("C→S" or
    "S→C") says who sent an element or text that is not a transcript item.
    """
    if isinstance(obj, Explanation):
        return obj
    ctx = ExplainContext.of(context)
    s = _subject(obj, ctx, direction)
    handler = _HANDLERS.get(s.kind)
    result = handler(s)
    if isinstance(result, Explanation):
        return result
    text, citations, topic, *rest = result
    notes = rest[0] if rest else ()
    step = rest[1] if len(rest) > 1 else None
    return Explanation(text, tuple(c for c in citations if c is not None), topic, tuple(notes), step,
                       problem=s.kind in (ItemKind.VIOLATION, ItemKind.NON_XML))


def explain_exchange(request, answer=None, context=None) -> Explanation:
    """An iq request and its answer in one sentence (the answer is looked up when not given)."""
    ctx = ExplainContext.of(context)
    if answer is None and isinstance(request, Item):
        facts = ctx.facts(ctx.connection(request.conn))
        answer = facts.answer_of.get(request.index) if facts else None
        if answer is None and ctx.source is not None and hasattr(ctx.source, "answer_to"):
            answer = ctx.source.answer_to(request)
    asked = explain(request, ctx)
    if answer is None:
        return Explanation(f"{asked.text} No answer was recorded: every iq get or set must get exactly one "
                           "result or error.", asked.citations + (rfc6120("8.2.3"),), asked.topic)
    got = explain(answer, ctx)
    ok = (answer.type if isinstance(answer, Item) else None) != "error"
    link = "The answer: " if ok else "It fails: "
    cites = list(asked.citations)
    cites += [c for c in got.citations if c not in cites]
    if rfc6120("8.2.3") not in cites:
        cites.append(rfc6120("8.2.3"))
    return Explanation(f"{asked.text} {link}{got.text}", tuple(cites), f"{asked.topic} → {got.topic}")


# ----------------------------------------------------------------------------------- streams
def _stream_open(s: _Subject):
    version = s.get("version")
    cause = s.facts.restart.get(s.item.index) if (s.facts and s.item) else None
    if s.direction is S2C:
        sid = s.get("id")
        who = s.get("from") or "The server"
        if cause:
            text = (f"{who} answers the restart with a fresh stream header"
                    f"{f' and a new stream id ({sid})' if sid else ''}, then sends the features available now.")
            return text, [rfc6120("4.3.3"), rfc6120("4.2")], "stream header (restart)", (), "stream header"
        text = (f"{who} answers with its own stream header{f' (stream id {sid})' if sid else ''}: "
                "the server's XML document, flowing the other way, starts here"
                f"{'; version 1.0 means stream features come next' if version == '1.0' else ''}.")
        return text, [rfc6120("4.2"), rfc6120("4.7")], "stream header", (), "stream header"
    to = s.get("to")
    if s.s2s:
        who, its = "The initiating server", "its"
    elif s.client == "the client":
        who, its = "The client", "its"
    else:
        who, its = s.client, _their(s.client)
    to_words = f" to {to}" if to else ""
    if cause:
        why = {"tls": "Over the new TLS layer", "sasl": "Now authenticated",
               "compression": "Now compressed"}.get(cause, "After a restart")
        cite = {"tls": rfc6120("5.4.3.3"), "sasl": rfc6120("6.4.6")}.get(cause)
        subject = who[0].lower() + who[1:] if who.startswith("The ") else who
        text = (f"{why}, {subject} opens a fresh stream{to_words}: after STARTTLS and after SASL success both "
                "sides restart their streams, forgetting what was negotiated before.")
        return text, [rfc6120("4.3.3"), cite], "stream header (restart)", (), "stream header"
    text = (f"{who} opens an XML stream{to_words}: this header starts the XML document {its} side sends for the "
            f"whole session{'; version 1.0 asks for stream features' if version == '1.0' else ''}.")
    return text, [rfc6120("4.2"), rfc6120("4.7")], "stream header", (), "stream header"


def _stream_close(s: _Subject):
    who = "The server" if s.direction is S2C else ("The client" if s.client == "the client" else s.client)
    return ((f"{who} closes {'its' if who.startswith('The') else _their(who)} stream: </stream:stream> ends "
            "the XML document; once both sides have closed, the TCP connection ends."),
            [rfc6120("4.4")], "stream close", (), "stream close")


def _stream_error(s: _Subject):
    cond = None
    text_el = None
    for c in s.children():
        ns, name = split_qname(c.tag)
        if ns == NS_STREAMS and name == "text":
            text_el = c.text
        elif ns == NS_STREAMS and cond is None:
            cond = name
    who = "The client" if s.direction is C2S else "The server"
    what = specs.STREAM_ERRORS.get(cond, "an application-specific problem")
    text = (f"{who} ends the stream with a stream error, {cond or 'without a condition'}: {what}. "
            "A stream error is fatal: the stream closes right after it.")
    notes = (f"Its text: {_quote(text_el, 120)}",) if text_el else ()
    return text, [specs.stream_error(cond) if cond else None, rfc6120("4.9")], f"stream error {cond or ''}".strip(), \
        notes, "stream error"


def _problem(s: _Subject):
    cond = s.condition or "not-well-formed"
    if s.kind is ItemKind.NON_XML:
        text = ("This is not XML at all (binary data): typically a client starting TLS directly on a port that "
                "expects a plaintext XML stream (STARTTLS), or the wrong protocol. A server answers with the "
                f"stream error {cond} and closes the connection.")
        return text, [specs.stream_error(cond), rfc6120("5")], "not XML", ((s.problem,) if s.problem else ()), \
            "problem"
    cites = [specs.stream_error(cond)]
    if cond == "restricted-xml":
        cites.append(rfc6120("11.1"))
    text = (f"The stream parser refused this text ({s.problem or 'it is not acceptable XML'}); a server answers "
            f"with the stream error {cond} and closes the stream.")
    return text, cites, f"problem: {cond}", (), "problem"


# ----------------------------------------------------------------------------------- nonzas
_FEATURE_WORDS = {
    (NS_TLS, "starttls"): ("STARTTLS (encrypt the connection)", rfc6120("5.4.1")),
    (NS_BIND, "bind"): ("resource binding (choose the resource of the full JID)", rfc6120("7.4")),
    (NS_SESSION, "session"): ("session establishment (an old RFC 3921 step)", RFC3921_SESSION),
    (NS_ROSTERVER, "ver"): ("roster versioning", rfc6121("2.6")),
    (NS_PREAPPROVAL, "sub"): ("subscription pre-approval", rfc6121("3.4")),
}


def _features(s: _Subject):
    parts, cites = [], [rfc6120("4.3.2")]
    for c in s.children():
        ns, name = split_qname(c.tag)
        required = any(split_qname(g.tag)[1] == "required" for g in c if isinstance(g.tag, str))
        if ns == NS_SASL and name == "mechanisms":
            mechs = [m.text.strip() for m in c if isinstance(m.tag, str) and m.text]
            parts.append("SASL authentication with " + _or(mechs) if mechs else "SASL authentication")
            cites.append(rfc6120("6.4.1"))
        elif (ns, name) in _FEATURE_WORDS:
            words, cite = _FEATURE_WORDS[(ns, name)]
            if name == "session" and any(split_qname(g.tag)[1] == "optional" for g in c if isinstance(g.tag, str)):
                words = "session establishment (optional: an old RFC 3921 step, nothing to do)"
            parts.append(words + (" (required)" if required else ""))
            cites.append(cite)
        else:
            known = specs.namespace_xep(ns)
            if known:
                parts.append(f"{known[1]} ({known[0].label})")
                cites.append(known[0])
            else:
                parts.append(f"{name} ({ns})")
    if not parts:
        return ("The server offers no more features: stream negotiation is complete and stanzas may flow.",
                [rfc6120("4.3.5"), rfc6120("4.3.2")], "stream features (none left)", (), "stream features")
    text = f"The server lists the stream features that can be negotiated now: {_and(parts)}."
    return text, _unique(cites), "stream features", (), "stream features"


def _tls(s: _Subject):
    name = s.name
    if name == "starttls":
        return ((f"{_cap(s.client)} asks to upgrade this TCP connection to TLS (STARTTLS), so what follows is "
                "encrypted."), [rfc6120("5.4.2.1"), rfc6120("5")], "STARTTLS", (), "STARTTLS")
    if name == "proceed":
        return (("The server agrees: both sides now run the TLS handshake on the same TCP connection (not shown: "
                "the transcript records the plaintext above TLS), then the client opens a new stream."),
                [rfc6120("5.4.2.3"), rfc6120("5.4.3.3")], "TLS proceed", (), "TLS proceed")
    if name == "failure":
        return ("The server refuses STARTTLS: it closes the stream and the TCP connection.",
                [rfc6120("5.4.2.2")], "TLS failure", (), "TLS failure")
    return (f"A <{name}/> element of the STARTTLS namespace.", [rfc6120("5")], f"TLS {name}", (), "STARTTLS")


def _sasl(s: _Subject):
    name = s.name
    decoded = _sasl_note(s.element)
    notes = (decoded,) if decoded else ()
    if name == "auth":
        mech = s.get("mechanism") or "?"
        if mech == "PLAIN":
            how = ("PLAIN sends the user name and the password, only base64-encoded, so it needs TLS "
                   "(masked here)")
        elif mech.startswith("SCRAM"):
            how = "SCRAM sends the user name and a random nonce; the password itself never crosses the wire"
        elif mech == "ANONYMOUS":
            how = "ANONYMOUS asks for a temporary account, no credentials"
        elif mech == "EXTERNAL":
            how = "EXTERNAL uses the credentials of the TLS layer (a client certificate)"
        else:
            how = "the initial response follows the mechanism's own rules"
        return (f"{_cap(s.client)} starts SASL authentication with the {mech} mechanism: {how}.",
                [rfc6120("6.4.2"), rfc6120("6")], f"SASL auth ({mech})", notes, "SASL auth")
    if name == "challenge":
        return (("The server sends a SASL challenge: the next step of the mechanism (for SCRAM: the combined "
                "nonce, the salt and the iteration count)."), [rfc6120("6.4.3")], "SASL challenge", notes,
                "SASL challenge")
    if name == "response":
        return ((f"{_cap(s.client)} answers the challenge (for SCRAM: proof of knowing the password, masked here, "
                "without sending it)."), [rfc6120("6.4.3")], "SASL response", notes, "SASL response")
    if name == "success":
        signed = " (with the server's SCRAM signature, proving it knows the password too)" if decoded else ""
        return ((f"Authentication succeeded{signed}. Both sides now restart their streams; binding a resource comes "
                "next."),
                [rfc6120("6.4.6")], "SASL success", notes, "SASL success")
    if name == "abort":
        return (f"{_cap(s.client)} aborts the SASL handshake.", [rfc6120("6.4.4")], "SASL abort", (), "SASL abort")
    if name == "failure":
        cond = next((split_qname(c.tag)[1] for c in s.children() if split_qname(c.tag)[1] != "text"), None)
        what = specs.SASL_ERRORS.get(cond, "the server gives no reason")
        return (f"Authentication failed: {cond or 'no condition'}: {what}. The client may try again.",
                [specs.sasl_error(cond) if cond else None, rfc6120("6.4.5")], f"SASL failure {cond or ''}".strip(),
                (), "SASL failure")
    if name == "mechanisms":
        return _features(s)
    return (f"A <{name}/> element of the SASL namespace.", [rfc6120("6")], f"SASL {name}", notes, "SASL")


NS_DIALBACK = "jabber:server:dialback"
NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
MUC_STATUS = {"100": "real JIDs are visible to everyone", "110": "this presence is about you",
              "170": "the room is logged", "201": "a new room was created", "210": "the room changed your nick",
              "303": "the occupant changes nickname", "307": "kicked", "301": "banned", "321": "removed: "
              "affiliation changed", "322": "removed: the room became members-only", "332": "removed: the service "
              "shuts down", "333": "removed: technical problem", "104": "the room configuration changed",
              "172": "the room is now non-anonymous", "173": "the room is now semi-anonymous"}


def _dialback(s: _Subject):
    """XEP-0220: how one server proves to another that it really is the domain it claims."""
    frm, to, kind = s.get("from") or "?", s.get("to") or "?", s.get("type")
    if s.name == "result" and kind is None:
        return ((f"{frm} asks {to} to accept this stream as coming from {frm}: it sends a dialback key that only "
                 f"{frm}'s own server can confirm. {to} will check it by asking {frm}'s server on a connection of its "
                 "own."), [xep(220)], "dialback key", (), "dialback")
    if s.name == "result":
        verdict = "accepts" if kind == "valid" else "refuses"
        return (f"{frm} {verdict} the stream: {to} {'has' if kind == 'valid' else 'has not'} proved it is {to}"
                f"{'; stanzas from ' + to + ' may now flow on it' if kind == 'valid' else ''}.",
                [xep(220)], f"dialback {kind}", (), "dialback")
    if kind is None:
        return ((f"{frm} asks {to}, the authoritative server for {to}, whether this dialback key (for stream id "
                 f"{s.get('id') or '?'}) is really one it issued."), [xep(220)], "dialback verify", (), "dialback")
    return (f"{frm} answers: the key is {'its own (valid)' if kind == 'valid' else 'not one it issued (invalid)'}.",
            [xep(220)], f"dialback verify {kind}", (), "dialback")


def _muc_presence(s: _Subject):
    """XEP-0045 presence: joining a room, or the room telling who is in it."""
    join = s.element.find(f"{{{NS_MUC}}}x")
    user = s.element.find(f"{{{NS_MUC_USER}}}x")
    frm, to = s.get("from") or "", s.get("to") or ""
    if join is not None and user is None:
        room, _, nick = to.partition("/")
        if s.get("type") == "unavailable":
            return None
        return ((f"{_cap(_sender(s))} enters the room {room} with the nickname {nick!r}: presence to room/nick, "
                 "with an <x/> in the MUC namespace."), [xep(45)], "MUC join")
    if user is None:
        return None
    room, _, nick = frm.partition("/")
    item = user.find(f"{{{NS_MUC_USER}}}item")
    codes = [c.get("code") for c in user.findall(f"{{{NS_MUC_USER}}}status")]
    role = item.get("role") if item is not None else None
    affiliation = item.get("affiliation") if item is not None else None
    gone = s.get("type") == "unavailable"
    text = (f"The room {room} tells {s.client} that {nick!r} " + ("has left" if gone else "is in the room")
            + (f" (role {role}, affiliation {affiliation})" if role or affiliation else "") + ".")
    meanings = [f"{c}: {MUC_STATUS[c]}" for c in codes if c in MUC_STATUS]
    if meanings:
        text += " Status " + "; ".join(meanings) + "."
    return text, [xep(45)], "MUC occupant presence"


def _nonza(s: _Subject):
    ns, name = s.ns, s.name
    if ns == NS_STREAM and name == "features":
        return _features(s)
    if ns == NS_DIALBACK:
        return _dialback(s)
    if ns == NS_TLS:
        return _tls(s)
    if ns == NS_SASL:
        return _sasl(s)
    if ns == NS_SASL2:
        return ((f"SASL2 <{name}/>: authentication with the Extensible SASL Profile, which can bind and resume in "
                "the same round trips."), [xep(388)], f"SASL2 {name}", (), "SASL2")
    if ns == NS_SM:
        words = {"enable": "asks to enable stream management (acknowledgements, resumption)",
                 "enabled": "confirms stream management is on", "r": "asks how many stanzas were received",
                 "a": "acknowledges the stanzas received so far (h = their count)",
                 "resume": "asks to resume an interrupted session", "resumed": "confirms the session resumed",
                 "failed": "reports that stream management failed"}.get(name, f"sends <{name}/>")
        if s.direction is None:
            who = "The client" if name in ("enable", "resume") else "The server" if name in (
                "enabled", "resumed", "failed") else "One side"
        else:
            who = _cap(s.client) if s.direction is C2S else "The server"
        return f"{who} {words}.", [xep(198)], f"stream management {name}", (), "stream management"
    known = specs.namespace_xep(ns)
    if known:
        return (f"<{name}/> in {ns}: {known[1]}, outside the three stanza kinds (a 'nonza').",
                [known[0], xep(360)], known[1], (), None)
    return ((f"A <{name}/> element in {ns or 'no namespace'}: a first-level element that is not a stanza (a "
            "'nonza')."), [xep(360)], name, (), None)


# ----------------------------------------------------------------------------------- stanzas
def _stanza(s: _Subject):
    name = s.name
    if s.get("type") == "error":
        return _stanza_error(s)
    if name == "message":
        return _message(s)
    if name == "presence":
        return _presence(s)
    return _iq(s)


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


_MESSAGE_TYPES = {
    "chat": "chat message (one-to-one conversation)",
    "normal": "normal message (a standalone message, like an e-mail; the default type)",
    "headline": "headline (an alert or notice: no reply expected, not stored for later)",
    "groupchat": "groupchat message (to a multi-user chat room)",
}


def _message(s: _Subject):
    mtype = s.get("type") or "normal"
    body = s.element.findtext(f"{{{s.ns}}}body") if s.element is not None else None
    subject = s.element.findtext(f"{{{s.ns}}}subject") if s.element is not None else None
    kind_words = _MESSAGE_TYPES.get(mtype, f"message of type {mtype}")
    sender, to = _sender(s), s.get("to")
    cites: list = []
    notes: list[str] = []
    said = f": {_quote(body)}" if body else ""
    if subject:
        said += f" (subject {_quote(subject, 40)})"
    frm = s.get("from")
    if s.direction is S2C and not s.s2s:
        client = s.client
        if frm and _local(frm) == _local(s.client_jid) and _domain(frm) == _domain(s.client_jid):
            text = f"{_cap(client)}'s own {mtype} message comes back to {_their(client)} session{said}."
        elif frm:
            text = f"The server delivers {sender}'s {kind_words} to {client}{said}."
        else:
            text = f"The server sends {client} a {kind_words}{said}."
    elif mtype == "groupchat":
        room = to.split("/", 1)[0] if to else "the room"
        text = f"{_cap(sender)} sends a {kind_words} to the room {room}{said}."
    else:
        target = _recipient(s, "the server")
        if to and _local(to) == _local(s.client_jid) and _domain(to) == _domain(s.client_jid) and not s.s2s:
            target = _self(sender)
        text = f"{_s2s_prefix(s)}{_cap(sender)} sends {target} a {kind_words}{said}."
    # what is inside
    extras = []
    for c in s.children():
        ns, name = split_qname(c.tag)
        if ns == NS_CHATSTATES:
            if body:
                extras.append(f"the chat state '{name}'")
            cites.append(xep(85))
        elif ns == NS_RECEIPTS:
            extras.append("a request for a delivery receipt" if name == "request" else "a delivery receipt")
            cites.append(xep(184))
        elif ns == NS_DELAY:
            stamp = c.get("stamp")
            extras.append(f"a delay stamp: it was stored while the recipient was offline and sent on later"
                          f"{f' (stamped {stamp})' if stamp else ''}")
            cites += [xep(203, "2"), xep(160)]
        elif ns == NS_MUC_USER:
            extras.append("multi-user chat details")
            cites.append(xep(45))
        elif ns == NS_CARBONS:
            extras.append("a message carbon (a copy of a message sent or received by another of the user's "
                          "sessions)")
            cites.append(xep(280))
        elif ns in (s.ns,) and name in ("body", "subject", "thread"):
            continue
        else:
            known = specs.namespace_xep(ns)
            if known:
                extras.append(known[1])
                cites.append(known[0])
    state = s.child(NS_CHATSTATES)
    if not body and state is not None:
        name = split_qname(state.tag)[1]
        doing = _CHAT_STATES.get(name, f"is in the chat state '{name}'")
        listener = _recipient(s, "the other side") if s.direction is not S2C else s.client
        text = (f"{_cap(sender)} tells {listener} that {_they(sender)} {_verb(sender, doing)} (a chat state "
                f"notification '{name}', no body).")
    if extras:
        text += f" It carries {_and(extras)}."
    # where it goes: bare or full JID (RFC 6121 section 8.5)
    if mtype == "groupchat":
        cites = [rfc6121("5.2.2"), xep(45)] + cites
    elif mtype in ("chat", "normal", "headline") and s.direction is not S2C and _is_bare_user(to):
        owner = _local(to)
        text += (f" It is addressed to the bare JID {to}, so {owner}'s server chooses which of {_their(owner)} "
                 "sessions get it (the one with the highest priority, or all with a non-negative priority).")
        cites = [rfc6121("8.5.2.1.1"), rfc6121("5.2.2")] + cites
    elif mtype in ("chat", "normal", "headline") and s.direction is not S2C and _is_full(to):
        text += (f" It is addressed to the full JID {to}: that one session gets it (if it is gone, a chat or normal "
                 "message is treated as if sent to the bare JID).")
        cites = [rfc6121("8.5.3"), rfc6121("5.2.2")] + cites
    else:
        cites = [rfc6121("5.2.2")] + cites
    if mtype == "chat":
        cites.append(rfc6121("5.1"))
    return text, _unique(cites), mtype + " message", notes


_CHAT_STATES = {"composing": "is typing", "paused": "has stopped typing", "active": "is paying attention to "
                "the conversation", "inactive": "is not paying attention", "gone": "has left the conversation"}


def _verb(name: str, phrase: str) -> str:
    """'is typing' -> 'are typing' for 'they'."""
    if _they(name) != "they":
        return phrase
    return phrase.replace("is ", "are ", 1).replace("has ", "have ", 1)


_SHOW = {"away": "away for a short while", "chat": "free to chat", "dnd": "busy (do not disturb)",
         "xa": "away for a long while (extended away)"}


def _presence(s: _Subject):
    muc = _muc_presence(s)
    if muc is not None:
        return muc
    ptype = s.get("type")
    sender, to = _sender(s), s.get("to")
    ns = s.ns
    show = s.element.findtext(f"{{{ns}}}show")
    status = s.element.findtext(f"{{{ns}}}status")
    priority = s.element.findtext(f"{{{ns}}}priority")
    details, cites = [], []
    if show:
        details.append(f"show '{show.strip()}' ({_SHOW.get(show.strip(), 'an unknown value')})")
        cites.append(rfc6121("4.7.2.1"))
    if status:
        details.append(f"status {_quote(status, 50)}")
        cites.append(rfc6121("4.7.2.2"))
    if priority:
        p = priority.strip()
        extra = ("; negative: this session never gets messages sent to the bare JID"
                 if p.startswith("-") else "")
        details.append(f"priority {p}{extra}")
        cites.append(rfc6121("4.7.2.3"))
    detail = f" ({'; '.join(details)})" if details else ""
    prefix = _s2s_prefix(s)
    outbound = s.direction is not S2C
    me = s.client
    if ptype in ("subscribe", "subscribed", "unsubscribe", "unsubscribed"):
        other = _name(to, "the contact") if outbound else sender
        if outbound:
            text = {
                "subscribe": f"{_cap(sender)} asks to see {other}'s presence: a subscription request. {other} "
                             "may approve (subscribed) or refuse (unsubscribed).",
                "subscribed": f"{_cap(sender)} approves {other}'s request: {other} will now see {sender}'s "
                              "presence.",
                "unsubscribe": f"{_cap(sender)} stops watching {other}'s presence (unsubscribes).",
                "unsubscribed": f"{_cap(sender)} refuses or cancels {other}'s subscription: {other} no longer "
                                f"sees {sender}'s presence.",
            }[ptype]
        else:
            text = {
                "subscribe": f"{_cap(other)} asks to see {me}'s presence; {me} may approve (subscribed) or "
                             "refuse (unsubscribed).",
                "subscribed": f"{_cap(other)} approved: {me} now receives {other}'s presence.",
                "unsubscribe": f"{_cap(other)} no longer wants {me}'s presence.",
                "unsubscribed": f"{_cap(other)} cancelled or refused {me}'s subscription to {_their(other)} "
                                "presence.",
            }[ptype]
        section = {"subscribe": "3.1", "subscribed": "3.1", "unsubscribe": "3.3", "unsubscribed": "3.2"}[ptype]
        return prefix + text, [rfc6121(section)] + cites, f"presence {ptype}"
    if ptype == "probe":
        return ((f"{prefix}{_cap(sender)}'s server asks for {_name(to, 'the contact')}'s current presence (a presence "
                "probe, sent by servers on a user's behalf)."), [rfc6121("4.3")], "presence probe")
    if ptype == "unavailable":
        if outbound and not to:
            text = (f"{_cap(sender)} goes offline (unavailable presence){detail}; the server tells {_their(sender)} "
                    "contacts.")
            return prefix + text, [rfc6121("4.5")] + cites, "unavailable presence"
        if outbound:
            return ((f"{prefix}{_cap(sender)} tells {_name(to, 'someone')} directly that {_their(sender)} session "
                    f"ends (directed unavailable presence){detail}."), [rfc6121("4.6"), rfc6121("4.5")] + cites,
                    "directed unavailable presence")
        return ((f"{_cap(sender)} is not available (unavailable presence){detail}: a session ended, or, from a bare "
                "JID, the answer to a presence probe when no session is online."), [rfc6121("4.5")] + cites,
                "unavailable presence")
    if ptype is not None:
        return (f"A presence of type '{ptype}', which RFC 6121 does not define.", [rfc6121("4")],
                f"presence {ptype}")
    # available
    if outbound and to:
        muc = s.child(NS_MUC)
        if muc is not None:
            room, _, nick = to.partition("/")
            return ((f"{_cap(sender)} joins the room {room} as '{nick}' (presence to the room with the "
                    f"multi-user chat element){detail}."), [xep(45), rfc6121("4.6")] + cites, "joining a room")
        return ((f"{prefix}{_cap(sender)} sends presence straight to {_name(to, 'someone')} (directed presence), "
                f"outside {_their(sender)} subscriptions{detail}."), [rfc6121("4.6")] + cites, "directed presence")
    if outbound:
        first = s.facts is None or s.item is None or s.facts.first_presence in (None, s.item.index)
        if first:
            text = (f"{_cap(sender)} tells {_their(sender)} server {_they(sender)} "
                    f"{'are' if _they(sender) == 'they' else 'is'} available{detail}: this initial "
                    f"presence goes to every contact subscribed to {_their(sender)} presence, and the server "
                    "probes the contacts for theirs.")
            return text, [rfc6121("4.2")] + cites, "initial presence"
        return ((f"{_cap(sender)} updates {_their(sender)} presence{detail}; the server broadcasts it to "
                f"{_their(sender)} subscribers."), [rfc6121("4.4")] + cites, "presence update")
    if s.get("from") and _local(s.get("from")) == _local(s.client_jid) and \
            _domain(s.get("from")) == _domain(s.client_jid):
        return ((f"The server sends {me}'s own presence back to {_their(me)} session{detail}: a user is "
                "subscribed to their own presence, so every session learns about the others."),
                [rfc6121("4.2.2")] + cites, "own presence")
    return ((f"{_cap(sender)} is available{detail}: presence from {_domain(s.get('from')) and s.get('from') or sender}"
            f" reaches {me}."), [rfc6121("4")] + cites, "presence")


def _iq(s: _Subject):
    itype = s.get("type") or "?"
    payload = s.children()[0] if s.children() else None
    pns, pname = split_qname(payload.tag) if payload is not None else (None, None)
    sender, me = _sender(s), s.client
    to = s.get("to")
    target = _name(to, f"{_their(sender)} server") if s.direction is not S2C else _name(to, me)
    if s.direction is not S2C and to and _domain(to) and not _local(to) and _domain(to) == _domain(s.client_jid):
        target = f"{_their(sender)} server"
    iq_words = f"an iq of type {itype} in the {pns} namespace" if pns else f"an iq of type {itype}"
    # answers without a payload: say what they answer
    if payload is None:
        req = s.facts.request_of.get(s.item.index) if (s.facts and s.item) else None
        if itype == "result" and req is not None:
            rns = req.payload_ns
            if rns == NS_PING:
                return (f"{_cap(sender)} answers the ping: an empty result (a 'pong'): the connection works.",
                        [xep(199), rfc6120("8.2.3")], "pong")
            if rns == NS_ROSTER:
                if req.type == "set" and req.direction is not S2C:
                    return (f"The server accepts {me}'s roster set with an empty result; it then pushes the change "
                            "to every session that asked for the roster.", [rfc6121("2.1.5")], "roster set accepted")
                if req.type == "set":
                    return (f"{_cap(sender)} acknowledges the roster push with an empty result.",
                            [rfc6121("2.1.6")], "roster push acknowledged")
                return ((f"The server answers {me}'s roster get with an empty result: with roster versioning, nothing "
                         "changed since the version the client has."), [rfc6121("2.6.3")], "roster unchanged")
            if rns == NS_SESSION:
                return ("The server confirms the session.", [RFC3921_SESSION], "session established", (),
                        "session")
            return (f"{_cap(sender)} answers the {req.type} request {req.id!r} with an empty result: it worked.",
                    [rfc6120("8.2.3")], "empty result")
        if itype == "result":
            return (("An empty iq result: the request with this id succeeded (every get or set gets exactly one "
                    "result or error)."), [rfc6120("8.2.3")], "empty result")
        return (f"An iq of type {itype} without a payload.", [rfc6120("8.2.3")], f"iq {itype}")
    if pns == NS_BIND:
        if itype == "set":
            resource = payload.findtext(f"{{{NS_BIND}}}resource")
            if resource:
                return ((f"{_cap(me)} asks to bind the resource {resource!r}: {_their(me)} session's name, the part "
                        "after the '/' of the full JID."), [rfc6120("7"), rfc6120("7.7")], "resource binding", (),
                        "resource binding")
            return ((f"{_cap(me)} asks the server to pick a resource for this session (the part after the '/' of "
                    "the full JID)."), [rfc6120("7"), rfc6120("7.6")], "resource binding", (), "resource binding")
        jid = payload.findtext(f"{{{NS_BIND}}}jid")
        return (f"The server binds the session: {_name(jid, me)}'s full JID is {jid or '?'}; stanzas can flow now.",
                [rfc6120("7")], "resource bound", (), "resource binding")
    if pns == NS_SESSION:
        return ((f"{_cap(me)} asks to establish a session, a step from RFC 3921 that RFC 6121 removed; servers still "
                "accept it for older clients."), [RFC3921_SESSION], "session", (), "session")
    if pns == NS_ROSTER:
        return _roster(s, itype, payload, sender, me)
    if pns in (NS_DISCO_INFO, NS_DISCO_ITEMS):
        info = pns == NS_DISCO_INFO
        cite = xep(30, "3" if info else "4")
        node = payload.get("node")
        on = f" (node {node!r})" if node else ""
        if itype == "get":
            what = ("what it is and which features it supports (its identities and features)" if info
                    else "which items it offers (rooms, services, other entities)")
            return (f"{_cap(sender)} asks {target}{on} {what}: service discovery, {iq_words}.", [cite],
                    "disco#info" if info else "disco#items")
        if info:
            ids = [f"{i.get('category')}/{i.get('type')}" for i in payload if split_qname(i.tag)[1] == "identity"]
            feats = [f.get("var") for f in payload if split_qname(f.tag)[1] == "feature"]
            return ((f"{_cap(sender)} describes itself: {_and(ids) or 'no identity'}, {len(feats)} feature"
                    f"{'s' if len(feats) != 1 else ''}{' (' + _and(feats[:4]) + (', …' if len(feats) > 4 else '') + ')' if feats else ''}."),
                    [cite], "disco#info result")
        items = [i.get("jid") for i in payload if split_qname(i.tag)[1] == "item"]
        return ((f"{_cap(sender)} lists {len(items)} item{'s' if len(items) != 1 else ''}"
                f"{': ' + _and(items[:5]) + (', …' if len(items) > 5 else '') if items else ''}."), [cite],
                "disco#items result")
    if pns == NS_PING:
        if s.direction is S2C and not _local(s.get("from")):
            cite = xep(199, "4.1")
        elif s.direction is C2S and not _local(to):
            cite = xep(199, "4.2")
        else:
            cite = xep(199)
        return ((f"{_cap(sender)} pings {target}: is the other side still there? The answer is an empty result "
                "(or an error if pings are not supported)."), [cite, rfc6120("8.2.3")], "ping")
    if pns == NS_VERSION:
        if itype == "get":
            return (f"{_cap(sender)} asks {target} which software it runs.", [xep(92)], "software version")
        name = payload.findtext(f"{{{NS_VERSION}}}name")
        version = payload.findtext(f"{{{NS_VERSION}}}version")
        os_ = payload.findtext(f"{{{NS_VERSION}}}os")
        return (f"{_cap(sender)} runs {name or '?'} {version or ''}{f' on {os_}' if os_ else ''}.".replace(" .", "."),
                [xep(92)], "software version result")
    if pns == NS_REGISTER:
        if payload.find(f"{{{NS_REGISTER}}}remove") is not None:
            return (f"{_cap(sender)} asks to delete {_their(sender)} account (in-band registration).", [xep(77)],
                    "account removal")
        if itype == "get":
            return (f"{_cap(sender)} asks which fields registering an account needs (in-band registration).",
                    [xep(77, "3.1")], "registration form")
        if itype == "set":
            user = payload.findtext(f"{{{NS_REGISTER}}}username")
            return (f"{_cap(sender)} registers{f' the account {user!r}' if user else ''} (in-band registration).",
                    [xep(77, "3.1")], "registration")
        return (f"{_cap(sender)} sends the registration form: the fields to fill in.", [xep(77, "3.1")],
                "registration form")
    known = specs.namespace_xep(pns)
    if known:
        verb = {"get": "asks", "set": "sets", "result": "answers"}.get(itype, itype)
        return (f"{_cap(sender)} {verb} {'' if itype == 'result' else target + ' '}about {known[1]}: {iq_words}.",
                [known[0], rfc6120("8.2.3")], known[1])
    if itype in ("get", "set"):
        return ((f"{_cap(sender)} sends {target} {iq_words}. The receiver must answer with exactly one result or "
                "error: service-unavailable if nobody handles this namespace."),
                [rfc6120("8.2.3"), specs.stanza_error("service-unavailable")], f"iq {itype} ({pname})")
    return (f"{_cap(sender)} answers with {iq_words}.", [rfc6120("8.2.3")], f"iq {itype}")


def _roster(s: _Subject, itype: str, payload, sender: str, me: str):
    items = [i for i in payload if isinstance(i.tag, str) and split_qname(i.tag)[1] == "item"]
    ver = payload.get("ver")
    if itype == "get":
        text = (f"{_cap(me)} asks {_their(me)} server for {_their(me)} contact list (the roster): an iq of type get "
                "in the jabber:iq:roster namespace.")
        cites = [rfc6121("2.1.3"), rfc6121("2.2")]
        if ver is not None:
            text += f" With ver={ver!r} (roster versioning) the server may send only what changed."
            cites.append(rfc6121("2.6"))
        return text, cites, "roster get"
    if itype == "result" and s.direction is not S2C:
        return (f"{_cap(me)} acknowledges the server's roster push (its result repeats the empty query, which "
                "servers ignore).", [rfc6121("2.1.6")], "roster push acknowledged")
    if itype == "result":
        listed = [f"{i.get('jid')} ({i.get('subscription') or 'none'}"
                  f"{', asked' if i.get('ask') else ''})" for i in items]
        text = (f"The server sends {me} {_their(me)} roster: {len(items)} contact{'s' if len(items) != 1 else ''}"
                f"{': ' + _and(listed[:5]) + (', …' if len(listed) > 5 else '') if listed else ''}.")
        return text, [rfc6121("2.1.4")], "roster result"
    if itype == "set":
        item = items[0] if items else None
        jid = item.get("jid") if item is not None else "?"
        sub = item.get("subscription") if item is not None else None
        if s.direction is S2C:
            state = f"subscription={sub or 'none'}" + (f", ask={item.get('ask')}" if item is not None and
                                                        item.get("ask") else "")
            text = (f"The server pushes a roster change to {me}: {jid} is now {'removed' if sub == 'remove' else state}"
                    f". Every session of {me} gets this push and acknowledges it.")
            return text, [rfc6121("2.1.6")], "roster push"
        if sub == "remove":
            return (f"{_cap(me)} deletes {jid} from {_their(me)} roster (this also cancels subscriptions both ways).",
                    [rfc6121("2.5"), rfc6121("2.1.5")], "roster remove")
        name = item.get("name") if item is not None else None
        return ((f"{_cap(me)} adds or updates {jid}{f' (named {name!r})' if name else ''} in {_their(me)} roster: "
                "a roster set; the server answers and pushes the change to every session."),
                [rfc6121("2.1.5"), rfc6121("2.3")], "roster set")
    return f"A roster iq of type {itype}.", [rfc6121("2")], "roster"


def _stanza_error(s: _Subject):
    err = s.child(s.ns, "error")
    cond, text_el, etype = None, None, None
    if err is not None:
        etype = err.get("type")
        for c in err:
            if not isinstance(c.tag, str):
                continue
            ns, name = split_qname(c.tag)
            if ns == NS_STANZAS and name == "text":
                text_el = c.text
            elif ns == NS_STANZAS and cond is None:
                cond = name
    sender = _sender(s)
    what = specs.STANZA_ERRORS.get(cond, "an application-specific problem")
    kind = s.name
    about = ""
    if s.facts and s.item and kind == "iq":
        req = s.facts.request_of.get(s.item.index)
        if req is not None:
            about = f" to the {req.type} request {req.id!r}" + (f" ({req.payload_ns})" if req.payload_ns else "")
    if s.direction is S2C and not s.s2s:
        frm = s.get("from")
        text = (f"An error comes back{f' from {frm}' if frm else ''}{about}: {cond or 'no condition'} — {what}.")
    else:
        text = (f"{_cap(sender)} answers with {'an' if kind == 'iq' else 'a'} {kind} error{about}: "
                f"{cond or 'no condition'} — {what}.")
    if etype:
        text += f" Its type, {etype}, means: {specs.STANZA_ERROR_TYPES.get(etype, 'an unknown type')}."
    notes = (f"Its text: {_quote(text_el, 120)}",) if text_el else ()
    cites = [specs.stanza_error(cond) if cond else None, rfc6120("8.3.2"), rfc6120("8.3")]
    return text, cites, f"{kind} error {cond or ''}".strip(), notes


# ----------------------------------------------------------------------------------- helpers
def _sasl_note(el) -> str | None:
    """What a SASL payload decodes to (base64), so the masked parts can be seen."""
    payload = "".join((el.text or "").split()) if el is not None else ""
    if not payload:
        return None
    if payload == "=":
        return "Payload '=': an empty response."
    if payload == MASK:
        return "Payload: [masked] (the credentials are hidden; reveal_credentials=True shows them)."
    try:
        raw = base64.b64decode(payload, validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if not text.isprintable():
        text = text.replace("\0", "\\0")
        if not text.isprintable():
            return None
    what = ""
    if text.startswith(("n,", "y,", "p=")) and ",n=" in text:
        user = re.search(r",n=([^,]*)", text)
        what = f" (SCRAM client-first: user {user.group(1) if user else '?'} and a client nonce)"
    elif re.match(r"^(?:m=[^,]*,)?r=[^,]+,s=[^,]+,i=\d+", text):
        iterations = re.search(r",i=(\d+)", text)
        what = f" (SCRAM server-first: the combined nonce, the salt, {iterations.group(1)} iterations)"
    elif text.startswith("c=") and ",p=" in text:
        what = " (SCRAM client-final: channel binding, the nonce and the client proof)"
    elif text.startswith("v="):
        what = " (SCRAM server-final: the server signature)"
    shown = text if len(text) <= 160 else text[:157] + "..."
    return f"Base64 payload decodes to: {shown}{what}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text.startswith(("the ", "a ")) else text


def _and(items) -> str:
    items = [str(i) for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _or(items) -> str:
    items = [str(i) for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def _unique(cites) -> list:
    out = []
    for c in cites:
        if c is not None and c not in out:
            out.append(c)
    return out


_HANDLERS = {
    ItemKind.STREAM_OPEN: _stream_open,
    ItemKind.STREAM_CLOSE: _stream_close,
    ItemKind.STREAM_ERROR: _stream_error,
    ItemKind.STANZA: _stanza,
    ItemKind.NONZA: _nonza,
    ItemKind.VIOLATION: _problem,
    ItemKind.NON_XML: _problem,
}
