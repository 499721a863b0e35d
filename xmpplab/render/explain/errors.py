"""Explaining stanza errors (RFC 6120 §8.3): the condition, its type, and the request it answers."""

from __future__ import annotations

from ...ns import NS_BLOCKING_ERRORS, NS_STANZAS
from ...transcript.model import Direction
from ...xml import split_qname
from .. import specs
from .facts import cite
from .subject import _sender, _Subject
from .upload import NS_UPLOAD, upload_error_section
from .words import _cap, _quote

C2S, S2C = Direction.C2S, Direction.S2C


def _stanza_error(s: _Subject):
    err = s.child(s.ns, "error")
    cond, text_el, etype, app = None, None, None, None
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
            elif ns != NS_STANZAS and app is None:
                app = (ns, name)  # RFC 6120 8.3.2: an application-specific condition beside the defined one
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
    known = specs.namespace_xep(app[0]) if app else None
    blocked = app == (NS_BLOCKING_ERRORS, "blocked")
    if blocked:
        text += (" It adds <blocked/> (blocking command): the server did not send it on, because the sender has "
                 "blocked its recipient; unblocking lets it through again.")
        known = None
    elif app and app[0] == NS_UPLOAD:  # XEP-0363 §6: the service says how large a file may be, or when to retry
        known = (upload_error_section(), known[1])
        limit = err.findtext(f"{{{NS_UPLOAD}}}file-too-large/{{{NS_UPLOAD}}}max-file-size")
        retry = err.find(f"{{{NS_UPLOAD}}}retry")
        if limit:
            text += f" The file is too large: the upload service takes at most {limit} bytes."
        elif retry is not None:
            text += f" The account's upload quota is used up; it may try again at {retry.get('stamp')}."
    if app and not blocked:
        text += f" It adds <{app[1]}/>, " + (f"{known[1]}." if known else f"a condition of {app[0]}.")
    notes = (f"Its text: {_quote(text_el, 120)}",) if text_el else ()
    cites = [*(cite("blocked error") if blocked else ()), specs.stanza_error(cond) if cond else None,
             *cite("stanza error"), known[0] if known else None]
    return text, cites, f"{kind} error {cond or ''}".strip(), notes
