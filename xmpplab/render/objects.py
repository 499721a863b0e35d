"""How xmpplab's own objects look in a notebook: JIDs, items, transcripts, connections, clients, the Lab.

Each kind has a text renderer (``text/plain``: what a terminal IPython and
nbconvert's text output show) and an HTML renderer, found by
:func:`renderers_for`; the classes' ``_repr_mimebundle_`` calls
:func:`xmpplab.render.display.mimebundle`, which calls these only for the
formats asked for.

* a **JID**: its parts in three colours (local, domain, resource), each with a
  tooltip, and the whole with one explaining bare versus full JIDs;
* an **Item** (a stanza, a nonza, a stream header...): the summary line,
  highlighted XML and the explanation with its RFC or XEP section;
* a **Transcript**, **Connection** or **Selection**: the two-column stream view
  (first page);
* a **Client**: who, where, how secured, what is waiting, and the last page of
  its XML streams;
* the **Lab**: its domains, address, clients and connections, and the last
  page of the server's streams.
"""

from __future__ import annotations

import html
import logging

from .stream_view import BLACK, BLACK_TINT, BORDER, FONT, MONO, MUTED, StreamView, connection_header_text, render_cell

log = logging.getLogger("xmpplab.render")
CARD = (f"{FONT};font-size:13px;line-height:1.45;color:{BLACK};background:#ffffff;border:1px solid {BORDER};"
        "border-radius:6px;padding:6px 10px;text-align:left;max-width:100%")
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
    return repr(jid)


# ------------------------------------------------------------------------------------- items
def item_html(item) -> str:
    view = StreamView([item], page_size=1, max_bytes=None)
    cell = render_cell(view, item)
    return f'<div style="{FONT};font-size:13px;color:{BLACK};background:#ffffff;text-align:left">{cell}</div>'


def item_text(item) -> str:
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
    return StreamView(obj).html()


def query_text(obj) -> str:
    view = StreamView(obj)
    text = repr(obj)
    if hasattr(obj, "summary") and hasattr(obj, "connections"):
        text += "\n" + obj.summary()
    return text + "\n" + view._display_text()


# ------------------------------------------------------------------------------------- Client
def client_html(client) -> str:
    from ..jid import JID

    xmpp = client.xmpp
    try:
        jid = JID(str(xmpp.boundjid.full))
        chip = jid_html(jid, legend=False)
    except Exception:  # noqa: BLE001 - not bound yet
        chip = html.escape(str(getattr(xmpp, "boundjid", "?")))
    where = f"{client.host}:{client.port}" if client.host else "(found by DNS)"
    connected = client.connected
    state = (f'<span style="color:#1a7f37;font-weight:600">● connected</span> to {html.escape(where)}' if connected
             else f'<span style="color:{MUTED};font-weight:600">○ disconnected</span> from {html.escape(where)}')
    facts = [f for f in (getattr(xmpp, "tls_version", None), getattr(xmpp, "mechanism", None)) if f]
    waiting = len(client.pending)
    rows = [
        ("who", chip),
        ("state", state + (f" · {html.escape(', '.join(facts))}" if facts else "")),
        ("recording", html.escape(f"{client.conn or '-'}: {len(client.events)} events")),
        ("waiting", html.escape(f"{waiting} received stanza{'s' if waiting != 1 else ''} not taken yet "
                                "(await client.next())")),
    ]
    body = _table(rows)
    streams = ""
    if client.events:
        try:
            view = StreamView(client, page=-1, page_size=50, max_bytes=400_000,
                              title=f"XML streams of {client.conn or 'this client'} (latest page)")
            streams = _collapsed(f"its XML streams ({view.total} items)", view.html())
        except Exception as exc:  # noqa: BLE001
            streams = f'<div style="color:{MUTED}">streams unavailable: {html.escape(str(exc))}</div>'
    return (f'<div style="{CARD}"><div style="font-weight:700;margin-bottom:2px">xmpplab Client</div>'
            f"{body}{streams}</div>")


def client_text(client) -> str:
    return repr(client)


# ------------------------------------------------------------------------------------- Lab
def lab_html(lab) -> str:
    from ..jid import JID

    servers = list(getattr(lab, "servers", None) or [lab.server])
    running = lab.running
    if running:
        address = ", ".join(f"{' '.join(s.hosts)} on {s.address[0]}:{s.port}" for s in servers)
    else:
        address = "stopped"
    if getattr(lab, "federated", False):
        address += " (federated: one server per domain, server-to-server streams on loopback)"
    domains = " ".join(jid_html(JID(d), legend=False) for d in lab.domains)
    clients = []
    for c in lab.clients:
        try:
            chip = jid_html(JID(str(c.xmpp.boundjid.full)), legend=False)
        except Exception:  # noqa: BLE001
            chip = html.escape(str(c.xmpp.boundjid))
        dot = '<span style="color:#1a7f37">●</span>' if c.connected else f'<span style="color:{MUTED}">○</span>'
        clients.append(f"{dot} {chip} <span style=\"color:{MUTED}\">{html.escape(c.conn or '')}</span>")
    rows = [
        ("domains", domains),
        ("servers" if len(servers) > 1 else "server",
         html.escape(address) + (" · recording" if lab.record else " · not recording")),
        ("clients", "<br>".join(clients) if clients else f'<span style="color:{MUTED}">none yet: '
                                                         "await lab.connect('juliet@example.com/balcony')</span>"),
        ("events", html.escape(f"{len(lab.events):,} recorded (lab.events; lab.transcript for the parsed view)")),
    ]
    body = _table(rows)
    streams = ""
    if lab.events:
        try:
            transcript = lab.transcript
            conns = [c for c in transcript.connections.values()]
            listing = "".join(f'<div style="{MONO};font-size:12px">{html.escape(connection_header_text(c))}</div>'
                              for c in conns[:30])
            if len(conns) > 30:
                listing += f'<div style="color:{MUTED}">… {len(conns) - 30} more</div>'
            view = StreamView(lab, page=-1, page_size=50, max_bytes=600_000,
                              title="The server's XML streams (latest page)")
            streams = _collapsed(f"connections ({len(conns)})", listing) + \
                _collapsed(f"XML streams ({view.total:,} items)", view.html())
        except Exception as exc:  # noqa: BLE001
            streams = f'<div style="color:{MUTED}">streams unavailable: {html.escape(str(exc))}</div>'
    return (f'<div style="{CARD}"><div style="font-weight:700;margin-bottom:2px">xmpplab Lab</div>'
            f"{body}{streams}</div>")


def lab_text(lab) -> str:
    text = repr(lab)
    for c in lab.clients:
        text += f"\n  {c!r}"
    return text


# ------------------------------------------------------------------------------------- helpers
def _table(rows) -> str:
    cells = "".join(
        f'<tr><td style="text-align:left;vertical-align:top;padding:1px 10px 1px 0;color:{MUTED};'
        f'border:none;background:transparent">{html.escape(k)}</td>'
        f'<td style="text-align:left;vertical-align:top;padding:1px 0;border:none;background:transparent">{v}</td>'
        f"</tr>" for k, v in rows)
    return f'<table style="border-collapse:collapse;margin:0;border:none;background:transparent">{cells}</table>'


def _collapsed(label: str, inner: str) -> str:
    return (f'<details style="margin-top:4px"><summary style="cursor:pointer;color:{BLACK};font-weight:600">'
            f"{html.escape(label)}</summary>{inner}</details>")


def renderers_for(obj):
    """(text renderer, HTML renderer) for one of xmpplab's objects; TypeError for anything else."""
    # SyncLab and SyncClient forward to the Lab and Client they wrap
    inner = getattr(obj, "__dict__", {}).get("lab") or getattr(obj, "__dict__", {}).get("client")
    if inner is not None and type(obj).__name__ in ("SyncLab", "SyncClient"):
        _, html_fn = renderers_for(inner)
        return (lambda o: repr(o)), (lambda _o: html_fn(inner))
    for cls in type(obj).__mro__:
        found = _BY_CLASS.get(cls.__name__)
        if found is not None:
            return found
    raise TypeError(f"xmpplab.render has no view of {type(obj).__name__}")


_BY_CLASS = {
    "JID": (jid_text, jid_html),
    "Item": (item_text, item_html),
    "Transcript": (query_text, query_html),
    "Connection": (query_text, query_html),
    "Selection": (query_text, query_html),
    "Client": (client_text, client_html),
    "Lab": (lab_text, lab_html),
}
