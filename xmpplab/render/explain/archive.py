"""Explaining the message archive (XEP-0313 §3.5, §4), its pages (XEP-0059 §2) and stanza ids (XEP-0359 §2).

    C: <iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2' queryid='f27'>
         <set xmlns='http://jabber.org/protocol/rsm'><max>10</max><before/></set></query></iq>     §4, RSM §2.5
    S: <message><result xmlns='urn:xmpp:mam:2' queryid='f27' id='28482'><forwarded>…</forwarded></result></message>
    S: <iq type='result' id='q1'><fin xmlns='urn:xmpp:mam:2' complete='true'><set>…</set></fin></iq>   §4.2, §4.3

A room's archive is queried at the room's address (§3.3.2) and answers from there; each result is a groupchat
message from the occupant who said it, with the real JID only for those who may see it (§6.1.2).
"""

from __future__ import annotations

from ...ns import NS_DELAY, NS_FORWARD, NS_MAM, NS_MUC_USER, NS_RSM, NS_SID
from ...xml import split_qname
from .facts import cite
from .words import _cap, _local, _quote, _their, is_room

#: Data form fields of an archive query (XEP-0313 §4.1) -> how a sentence says them.
_FILTERS = {"with": "with {}", "start": "since {}", "end": "until {}", "before-id": "before the message {}",
            "after-id": "after the message {}", "ids": "with the ids {}"}


def rsm_words(set_el) -> tuple[str, list]:
    """What a XEP-0059 request asks for (``at most 10, the last page``) and its sections; ('', []) for none."""
    if set_el is None:
        return "", []
    words, cites = [], []
    limit = set_el.findtext(f"{{{NS_RSM}}}max")
    if limit is not None:
        words.append(f"at most {limit.strip()} per page")
        cites += cite("RSM limit")
    after = set_el.find(f"{{{NS_RSM}}}after")
    before = set_el.find(f"{{{NS_RSM}}}before")
    if after is not None:
        words.append(f"the page after {(after.text or '').strip() or '?'}")
        cites += cite("RSM after")
    elif before is not None and (before.text or "").strip():
        words.append(f"the page before {before.text.strip()}")
        cites += cite("RSM before")
    elif before is not None:
        words.append("the last page (the newest)")
        cites += cite("RSM last page")
    return ", ".join(words), cites


def _form_filters(query) -> list[str]:
    out = []
    for field in query.iter("{jabber:x:data}field"):
        var = field.get("var")
        values = [(v.text or "").strip() for v in field.findall("{jabber:x:data}value")]
        if var in _FILTERS and values:
            out.append(_FILTERS[var].format(", ".join(values)))
    return out


def archive_iq(itype: str, payload, sender: str, to: str | None = None, frm: str | None = None):
    """An archive query (§4, filters §4.1, pages §4.3) or the ``<fin/>`` that ends its results (§4.2); a room's
    archive (§3.3.2, §6.1.2) when the query goes to a room or the answer comes from one."""
    name = split_qname(payload.tag)[1]
    room = (to or "").split("/")[0] if is_room(to) and name == "query" else \
        (frm or "").split("/")[0] if is_room(frm) else None
    rooms = cite("room archive") if room else []
    if name == "query" and itype == "set":
        filters = _form_filters(payload)
        page, page_cites = rsm_words(payload.find(f"{{{NS_RSM}}}set"))
        which = f"the messages {', '.join(filters)}" if filters else "its messages"
        qid = payload.get("queryid")
        tagged = f" tagged with the query id {qid!r}" if qid else ""
        if room:
            which = f"the messages {', '.join(filters)}" if filters else "everything"
            text = (f"{_cap(sender)} asks the room {room} for its archive, {which}{f' ({page})' if page else ''}: "
                    f"the room sends each match as a message of its own{tagged}, "
                    "then the iq result ends the list. Only who may enter the room may read it: in a members-only room "
                    "anyone else gets forbidden.")
        else:
            text = (f"{_cap(sender)} asks {_their(sender)} server's message archive for {which}"
                    f"{f' ({page})' if page else ''}: each match comes back as a message of its own{tagged}, "
                    "then the iq result ends the list.")
        return text, cite("archive query") + page_cites + rooms, "room archive query" if room else "archive query"
    if name == "query":
        where = f"the archive of the room {room}" if room else "the archive"
        return (f"{_cap(sender)} asks which filter fields {where} accepts (a data form).",
                cite("archive query") + rooms, "archive form")
    if name == "fin":
        rsm = payload.find(f"{{{NS_RSM}}}set")
        count = rsm.findtext(f"{{{NS_RSM}}}count") if rsm is not None else None
        first = rsm.findtext(f"{{{NS_RSM}}}first") if rsm is not None else None
        last = rsm.findtext(f"{{{NS_RSM}}}last") if rsm is not None else None
        complete = payload.get("complete") in ("true", "1")
        span = f" from {first} to {last}" if first and last else " (none matched)" if rsm is not None else ""
        total = f" of {count} in all" if count else ""
        more = ("; nothing more matches" if complete else
                f"; more match: the page after {last or 'the last id'} or before {first or 'the first id'} comes next")
        who = f"The room {room}" if room else _cap(sender)
        return (f"{who} ends the archive results: the messages sent were{span}{total}{more}.",
                cite("archive fin") + (cite("RSM page") if rsm is not None else []) + rooms, "archive fin")
    return None


def archive_result(result, recipient: str, frm: str | None = None):
    """A ``<message><result xmlns='urn:xmpp:mam:2'/></message>``: one archived message (§4.2), of a room's
    archive when it comes from a room (§6.1.2)."""
    forwarded = result.find(f"{{{NS_FORWARD}}}forwarded")
    inner = next((c for c in forwarded if isinstance(c.tag, str) and split_qname(c.tag)[1] == "message"), None) \
        if forwarded is not None else None
    stamp = forwarded.find(f"{{{NS_DELAY}}}delay") if forwarded is not None else None
    when = f" on {stamp.get('stamp')}" if stamp is not None and stamp.get("stamp") else ""
    if inner is None:
        return (f"The server sends {recipient} a result of an archive query.", cite("archive result"),
                "archive result")
    ns = split_qname(inner.tag)[0]
    body = inner.findtext(f"{{{ns}}}body")
    said = f": {_quote(body)}" if body else ""
    ids = f"its archive id {result.get('id')!r}, for the query {result.get('queryid')!r}"
    if is_room(frm) or inner.get("type") == "groupchat":
        room = (frm or inner.get("from") or "the room").split("/")[0]
        nick = (inner.get("from") or "").partition("/")[2] or "someone"
        item = inner.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}item")
        real = item.get("jid") if item is not None else None
        who = (f" The room shows {nick}'s real JID, {real}, as {recipient} may see it (a non-anonymous room, or a "
               "moderator)." if real else f" It shows only the nickname: {recipient} may not see who {nick} is.")
        return (f"The room {room} sends {recipient} one message from its archive ({ids}): {nick} wrote in the room"
                f"{when}{said}. It comes from {nick}'s occupant JID and has no 'to', as the room archived it once for "
                f"everyone.{who}", cite("archive result", "room archive result"), "room archive result")
    frm_inner, to = inner.get("from") or "someone", inner.get("to") or "someone"
    return (f"The server sends {recipient} one message from the archive ({ids}): {_local(frm_inner) or frm_inner} "
            f"wrote to {_local(to) or to}{when}{said}. "
            "It is wrapped, so the client knows it is history and not a new message.",
            cite("archive result"), "archive result")


def stanza_id(el) -> tuple[str, list]:
    """The words and sections for a XEP-0359 ``<stanza-id/>`` or ``<origin-id/>`` inside a message."""
    name = split_qname(el.tag)[1]
    if name == "stanza-id":
        by = el.get("by") or "?"
        return (f"a stanza id: the archive of {'the room ' if is_room(by) else ''}{by} keeps this message under the id "
                f"{el.get('id')!r}, which the client can use to page from", cite("stanza id"))
    if name == "origin-id":
        return f"an origin id set by the sending client ({el.get('id')!r})", cite("origin id")
    return f"a stanza id element <{name}/>", cite("stanza id")


def is_stanza_id(ns: str | None) -> bool:
    """Whether a payload is in XEP-0359's namespace."""
    return ns == NS_SID


def is_archive(ns: str | None) -> bool:
    """Whether a payload is in XEP-0313's namespace (urn:xmpp:mam:2)."""
    return ns == NS_MAM
