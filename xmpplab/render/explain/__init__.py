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
bind), blocking (XEP-0191), vCards (XEP-0054), carbons (XEP-0280), the message
archive with its pages and stanza ids (XEP-0313, XEP-0059, XEP-0359), stream
management and client state nonzas (XEP-0198, XEP-0352), and any namespace a
XEP defines (named, with the XEP), stanza errors and stream errors (each
condition with its own section), and text the stream parser refused.

One module per area: :mod:`.stream` (headers, restarts, close, stream errors,
refused input), :mod:`.negotiation` (features, STARTTLS, SASL, dialback, other
nonzas, with :mod:`.sm` for stream management and client state), :mod:`.message`,
:mod:`.presence` (with MUC presence), :mod:`.iq` (with :mod:`.roster`, :mod:`.disco`,
:mod:`.account` and :mod:`.archive`), :mod:`.errors` (stanza errors). They
name what they explain by topic; :mod:`.facts` is the one table that says
which RFC or XEP sections each topic cites and what protocol values mean
(section titles and numbers from :mod:`xmpplab.render.specs`). Around them:
:mod:`.subject` (what is explained, and who sent it), :mod:`.context` (what is
known of its connection), :mod:`.words` (names, pronouns, lists) and
:mod:`.result` (the :class:`Explanation`).
"""

from __future__ import annotations

from ...transcript.model import Item, ItemKind
from ..specs import Citation
from .context import ExplainContext
from .errors import _stanza_error
from .facts import SECTIONS
from .iq import _iq
from .message import _message
from .negotiation import _nonza
from .presence import _presence
from .result import Explanation, citation_links, explanation_html
from .stream import _problem, _stream_close, _stream_error, _stream_open
from .subject import _Subject, _subject

__all__ = ["Citation", "ExplainContext", "Explanation", "citation_links", "explain", "explain_exchange",
           "explanation_html"]


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
                           "result or error.", asked.citations + SECTIONS["iq"], asked.topic)
    got = explain(answer, ctx)
    ok = (answer.type if isinstance(answer, Item) else None) != "error"
    link = "The answer: " if ok else "It fails: "
    cites = list(asked.citations)
    cites += [c for c in got.citations if c not in cites]
    cites += [c for c in SECTIONS["iq"] if c not in cites]
    return Explanation(f"{asked.text} {link}{got.text}", tuple(cites), f"{asked.topic} → {got.topic}")


def _stanza(s: _Subject):
    name = s.name
    if s.get("type") == "error":
        return _stanza_error(s)
    if name == "message":
        return _message(s)
    if name == "presence":
        return _presence(s)
    return _iq(s)


_HANDLERS = {
    ItemKind.STREAM_OPEN: _stream_open,
    ItemKind.STREAM_CLOSE: _stream_close,
    ItemKind.STREAM_ERROR: _stream_error,
    ItemKind.STANZA: _stanza,
    ItemKind.NONZA: _nonza,
    ItemKind.VIOLATION: _problem,
    ItemKind.NON_XML: _problem,
}
