"""Checking a stanza a person typed, in plain words with the RFC section (the composer's preview).

:func:`check_stanza` parses the XML with the stream's own restrictions (RFC
6120 §11.1) and returns what stops it from being sent (*problems*) and what
the server will refuse or what surprises (*warnings*): a malformed address
(RFC 7622), an unknown type (RFC 6121 §5.2.2, §4.7.1; RFC 6120 §8.2.3), a
``<show/>`` or ``<priority/>`` out of range (RFC 6121 §4.7.2), an iq without
exactly one payload or without an id.
"""

from __future__ import annotations

import re

from ..jid import JID, InvalidJID
from ..ns import NS_CLIENT
from ..presence_values import PRIORITY_MAX, PRIORITY_MIN, SHOW_VALUES
from ..xml import STANZA_KINDS, XMLInputError, parse_fragment, split_qname

__all__ = ["IQ_TYPES", "MESSAGE_TYPES", "PRESENCE_TYPES", "check_stanza", "xml_problem"]

MESSAGE_TYPES = ("chat", "normal", "groupchat", "headline", "error")
PRESENCE_TYPES = ("unavailable", "subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe", "error")
IQ_TYPES = ("get", "set", "result", "error")


def check_stanza(text: str, own_jid=None) -> tuple[object, list[str], list[str]]:
    """(element or None, problems, warnings) for XML a person typed, in plain words.

    *Problems* stop the composer from sending: the XML cannot be read, or it is
    not a stanza. *Warnings* name what the server will refuse or what
    surprises, with the RFC section; such a stanza is still sent.
    """
    try:
        el = parse_fragment(text)
    except XMLInputError as exc:
        return None, [xml_problem(str(exc))], []
    ns, name = split_qname(el.tag)
    if ns != NS_CLIENT or name not in STANZA_KINDS:
        shown = f"<{name}/>" + (f" in namespace {ns}" if ns and ns != NS_CLIENT else "")
        return el, [(f"This is {shown}, not a stanza. A client sends <message/>, <presence/> or <iq/> "
                    "(RFC 6120 §8); anything else would end the stream with an unsupported-stanza-type "
                    "error.")], []
    warnings: list[str] = []
    for attr in ("to", "from"):
        value = el.get(attr)
        if value is None:
            continue
        try:
            JID(value)
        except InvalidJID as exc:
            warnings.append(f"'{attr}' is not a valid address: {exc.reason} (RFC 7622). The server will "
                            "answer with a jid-malformed error." if attr == "to" else
                            f"'from' is not a valid address: {exc.reason} (RFC 7622).")
    frm = el.get("from")
    if frm is not None and own_jid is not None:
        try:
            same = JID(frm) in (JID(str(own_jid)), JID(str(own_jid)).bare)
        except InvalidJID:
            same = False
        if not same:
            warnings.append(f"'from' says {frm}, but this stream belongs to {own_jid}: the server closes the "
                            "stream with an invalid-from error (RFC 6120 §4.9.3.9) and the client is "
                            "disconnected. Leave 'from' out: the server adds it (RFC 6120 §8.1.2.1).")
    stype = el.get("type")
    children = [c for c in el if isinstance(c.tag, str)]
    if name == "message":
        if stype is not None and stype not in MESSAGE_TYPES:
            warnings.append(f"'{stype}' is not a message type; RFC 6121 §5.2.2 allows chat, error, groupchat, "
                            "headline and normal (the server treats an unknown type as normal).")
        if el.get("to") is None:
            warnings.append("The message has no 'to': your server handles it as sent to your own account "
                            "(RFC 6120 §10.3.1).")
        if not any(split_qname(c.tag)[1] == "body" for c in children):
            warnings.append("There is no <body/>: a chat client shows nothing to the person it reaches.")
    elif name == "presence":
        if stype is not None and stype not in PRESENCE_TYPES:
            warnings.append(f"'{stype}' is not a presence type; RFC 6121 §4.7.1 allows error, probe, subscribe, "
                            "subscribed, unavailable, unsubscribe and unsubscribed (no type: available).")
        for c in children:
            cname = split_qname(c.tag)[1]
            if cname == "show" and (c.text or "").strip() not in SHOW_VALUES:
                warnings.append(f"<show/> is '{(c.text or '').strip()}', but RFC 6121 §4.7.2.1 allows only "
                                "chat, away, xa or dnd.")
            if cname == "priority":
                problem = _priority_problem((c.text or "").strip())
                if problem:
                    warnings.append(problem)
    else:
        if stype not in IQ_TYPES:
            warnings.append("An iq needs a type: get or set to ask, result or error to answer (RFC 6120 §8.2.3); "
                            f"this one has {repr(stype) if stype else 'none'}, so the server answers bad-request.")
        elif stype in ("get", "set") and len(children) != 1:
            warnings.append(f"An iq {stype} carries exactly one payload element (RFC 6120 §8.2.3); this one has "
                            f"{len(children)}, so the server answers bad-request.")
        elif stype in ("result", "error"):
            warnings.append(f"An iq {stype} answers a request someone sent you (RFC 6120 §8.2.3); "
                            "nobody asked, so nothing comes back.")
        if not el.get("id"):
            warnings.append("An iq needs an 'id' to match its answer (RFC 6120 §8.2.3); without one the server "
                            "answers bad-request.")
    return el, [], warnings


_XML_HINTS = [
    (re.compile(r"tag mismatch: (\S+) line \d+ and wrapper"),
     lambda m: f"<{m[1]}> is opened but never closed: end it with </{m[1]}>, or write <{m[1]}/>."),
    (re.compile(r"tag mismatch: (\S+) line \d+ and (\S+)"),
     lambda m: f"<{m[1]}> is still open when </{m[2]}> comes: close </{m[1]}> first (elements nest like "
               "brackets)."),
    (re.compile(r"AttValue: \" or ' expected"),
     lambda m: "An attribute value must be in quotes: to='romeo@example.net'."),
    (re.compile(r"Entity '([^']+)' not defined"),
     lambda m: f"&{m[1]}; is not an XML entity: XMPP knows only &lt; &gt; &amp; &quot; &apos; "
               "(RFC 6120 §11.1); type the character itself."),
    (re.compile(r"error parsing attribute name|attributes construct error|Couldn't find end of Start Tag"),
     lambda m: "A start tag is broken: an attribute is malformed or the tag does not end with >."),
    (re.compile(r"expected '>'"), lambda m: "A tag does not end with >."),
    (re.compile(r"expected exactly one XML element"),
     lambda m: "Type exactly one stanza: one outer element such as <message>…</message>."),
    (re.compile(r"the XML is empty"), lambda m: "There is no XML yet: type a stanza."),
]


def xml_problem(message: str) -> str:
    """Plain words for what the XML parser said, with its own words after them."""
    for pattern, hint in _XML_HINTS:
        m = pattern.search(message)
        if m:
            said = message.replace(" line 1 and wrapper", " line 1 and the end of the text")
            return f"{hint(m)} (The parser says: {said}.)"
    return _cap(message) + "."


def _priority_problem(value: str) -> str | None:
    if value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        return f"The priority '{value}' is not a whole number; RFC 6121 §4.7.2.3 wants one from -128 to 127."
    if not PRIORITY_MIN <= number <= PRIORITY_MAX:
        return f"The priority {number} is out of range; RFC 6121 §4.7.2.3 allows {PRIORITY_MIN} to {PRIORITY_MAX}."
    return None


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
