"""How the Lab and its clients look in a notebook: cards (registered by type with :mod:`xmpplab.display`).

* a **Client**: who, where, how secured, what is waiting, and the last page of
  its XML streams;
* the **Lab**: its domains, its servers' addresses (from :meth:`Lab.snapshot
  <xmpplab.lab.Lab.snapshot>`, never the live server), clients and
  connections, and the last page of the server's streams.

``SyncLab`` and ``SyncClient`` show the card of the Lab or Client they wrap.
The package root imports this module the first time a Lab or a Client is
displayed, so showing a JID does not load the server.
"""

from __future__ import annotations

import html

from .. import display
from ..client import Client
from ..jid import JID
from ..lab import Lab, SyncClient, SyncLab
from .objects import jid_html
from .palette import BLACK, BORDER, FONT, MONO, MUTED
from .stream_view import StreamView, connection_header_text

CARD = (f"{FONT};font-size:13px;line-height:1.45;color:{BLACK};background:#ffffff;border:1px solid {BORDER};"
        "border-radius:6px;padding:6px 10px;text-align:left;max-width:100%")


# ------------------------------------------------------------------------------------- Client
#: A client card shows its streams unfolded while they hold at most this many items (a login is about 20).
OPEN_UP_TO = 40


def client_html(client) -> str:
    """The Client's card: who, where, how secured, what is waiting, and its latest XML streams."""
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
            # a short recording (a fresh login) is shown open; a long one folded, under its one-line label
            streams = _collapsed(f"its XML streams ({view.total} items)", view.html(),
                                 opened=view.total <= OPEN_UP_TO)
        except Exception as exc:  # noqa: BLE001 - a card must show, with the failure in words
            streams = f'<div style="color:{MUTED}">streams unavailable: {html.escape(str(exc))}</div>'
    return (f'<div style="{CARD}"><div style="font-weight:700;margin-bottom:2px">xmpplab Client</div>'
            f"{body}{streams}</div>")


def client_text(client) -> str:
    """The Client's repr."""
    return repr(client)


# ------------------------------------------------------------------------------------- Lab
def lab_html(lab) -> str:
    """The Lab's card: domains, servers (from its snapshot), clients, and the latest page of the server's streams."""
    snap = lab.snapshot()
    servers = snap.servers
    if snap.running:
        address = ", ".join(f"{' '.join(s.hosts)} on {s.address[0]}:{s.port}" for s in servers)
    else:
        address = "stopped"
    if snap.federated:
        address += " (federated: one server per domain, server-to-server streams on loopback)"
    domains = " ".join(jid_html(JID(d), legend=False) for d in snap.hosts)
    clients = []
    for c in lab.clients:
        try:
            chip = jid_html(JID(str(c.xmpp.boundjid.full)), legend=False)
        except Exception:  # noqa: BLE001 - an unbound client shows its raw address
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
        except Exception as exc:  # noqa: BLE001 - a card must show, with the failure in words
            streams = f'<div style="color:{MUTED}">streams unavailable: {html.escape(str(exc))}</div>'
    return (f'<div style="{CARD}"><div style="font-weight:700;margin-bottom:2px">xmpplab Lab</div>'
            f"{body}{streams}</div>")


def lab_text(lab) -> str:
    """The Lab's repr and each client's."""
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


def _collapsed(label: str, inner: str, opened: bool = False) -> str:
    tag = "details open" if opened else "details"
    return (f'<{tag} style="margin-top:4px"><summary style="cursor:pointer;color:{BLACK};font-weight:600">'
            f"{html.escape(label)}</summary>{inner}</details>")


display.register(Client, client_text, client_html)
display.register(Lab, lab_text, lab_html)
display.register(SyncLab, repr, lambda sync: lab_html(sync.lab))
display.register(SyncClient, repr, lambda sync: client_html(sync.client))
