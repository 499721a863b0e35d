"""How xmpplab's data looks in a notebook: JIDs, transcript items, transcripts, connections, selections.

Each kind has a text renderer (``text/plain``: what a terminal IPython and
nbconvert's text output show) and an HTML renderer, registered by type with
:mod:`xmpplab.display` when this module is imported; the classes'
``_repr_mimebundle_`` (:class:`xmpplab.display.Shown`) calls these only for
the formats asked for. The Client and the Lab have cards in :mod:`.cards`.

* a **JID**: its parts in three colours (local, domain, resource), each with a
  tooltip, and the whole with one explaining bare versus full JIDs;
* an **Item** (a stanza, a nonza, a stream header...): the summary line,
  highlighted XML and the explanation with its RFC or XEP section;
* a **Transcript**, **Connection** or **Selection**: the two-column stream view
  (first page);
"""

from __future__ import annotations

import html
import logging

from .. import display
from ..jid import JID
from ..transcript.model import Item
from ..transcript.query import Query
from .palette import BLACK, BLACK_TINT, BORDER, FONT, MONO, MUTED
from .stream_view import StreamView, render_cell

log = logging.getLogger("xmpplab.render")
JID_COLORS = {"local": "#0550ae", "domain": "#116329", "resource": "#8250df", "punct": MUTED}


# ------------------------------------------------------------------------------------- JID
def _parts(jid) -> list[str]:
    """The parts a JID has, in order: local (if any), domain, resource (if any) (RFC 7622 §3)."""
    return [name for name in ("local", "domain", "resource") if name == "domain" or getattr(jid, name) is not None]


def jid_tooltip(jid) -> str:
    """The JID taken apart in words, with what kind of JID it is."""
    full = str(jid)
    words = {"local": f"local part '{jid.local}' (the account)",
             "domain": f"domain part '{jid.domain}' (the server{'' if jid.local else ' or service itself'})",
             "resource": f"resource part '{jid.resource}' (one session or device)"}
    parts = [words[name] for name in _parts(jid)]
    if jid.resource is not None:
        kind = (f"Full JID: one session. Without the resource, {jid.bare} is the bare JID: the account wherever "
                "it is logged in.")
    elif jid.local is not None:
        kind = ("Bare JID: the account wherever it is logged in; its server decides which sessions get a message. "
                "A full JID adds '/resource' and names one session.")
    else:
        kind = "Domain JID: a server or a service (no local part)."
    return f"{full} = {' + '.join(parts)}. {kind} (RFC 7622 §3)"


def jid_html(jid, legend: bool = True) -> str:
    """A JID as HTML, each part in its colour; with `legend`, what each part means (RFC 7622 section 3)."""
    esc = html.escape

    def part(text, kind, title):
        return (f'<span style="color:{JID_COLORS[kind]};font-weight:600" title="{esc(title)}">'
                f"{esc(text)}</span>")

    def punct(c):
        return f'<span style="color:{MUTED}">{c}</span>'

    pieces = []
    if jid.local is not None:
        pieces += [part(jid.local, "local", "local part: the account (RFC 7622 §3.3)"), punct("@")]
    pieces.append(part(jid.domain, "domain", "domain part: the server (RFC 7622 §3.2)"))
    if jid.resource is not None:
        pieces += [punct("/"), part(jid.resource, "resource", "resource part: one session or device "
                                                              "(RFC 7622 §3.4)")]
    kind = "full JID" if jid.resource is not None else ("bare JID" if jid.local is not None else "domain JID")
    chip = (f'<span title="{esc(jid_tooltip(jid))}" style="{MONO};font-size:13px;background:{BLACK_TINT};'
            f'color:{BLACK};border:1px solid {BORDER};border-radius:4px;padding:1px 6px">{"".join(pieces)}</span>')
    if not legend:
        return chip
    names = [f'<span style="color:{JID_COLORS[name]}">{name}</span>' for name in _parts(jid)]
    return (f'<span style="{FONT};font-size:13px;color:{BLACK};background:#ffffff;padding:2px 4px;'
            f'border-radius:4px">{chip} <span style="font-size:11px;color:{MUTED}">{kind}: '
            f'{" · ".join(names)}</span></span>')


def jid_text(jid) -> str:
    """A JID as plain text: its repr."""
    return repr(jid)


# ------------------------------------------------------------------------------------- items
def item_html(item) -> str:
    """One transcript item as HTML: its cell of the stream view."""
    view = StreamView([item], page_size=1, max_bytes=None)
    cell = render_cell(view, item)
    return f'<div style="{FONT};font-size:13px;color:{BLACK};background:#ffffff;text-align:left">{cell}</div>'


def item_text(item) -> str:
    """One transcript item as plain text: its repr, its XML indented, and what it means."""
    from .explain import explain
    from .xmlview import xml_text

    lines = [repr(item), xml_text(item.text, indent="  ")]
    try:
        lines.append(f"  ↳ {explain(item)}")
    except Exception:  # the XML is still worth showing
        log.warning("no explanation for %r", item, exc_info=True)
    return "\n".join(lines)


# ------------------------------------------------------------------------------------- transcripts
def query_html(obj) -> str:
    """A transcript, connection or selection as HTML: its stream view."""
    return StreamView(obj).html()


def query_text(obj) -> str:
    """A transcript, connection or selection as plain text: its repr, summary and stream view."""
    view = StreamView(obj)
    text = repr(obj)
    if hasattr(obj, "summary") and hasattr(obj, "connections"):
        text += "\n" + obj.summary()
    return text + "\n" + view._display_text()


def renderers_for(obj):
    """(text renderer, HTML renderer) for one of xmpplab's objects; TypeError for anything else."""
    return display.renderers_for(obj)


display.register(JID, jid_text, jid_html)
display.register(Item, item_text, item_html)
display.register(Query, query_text, query_html)  # a Transcript, a Connection, a Selection
