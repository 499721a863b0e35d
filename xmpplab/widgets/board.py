"""The roster and presence board: every account, its contacts, the subscription states and who is online, live.

In a notebook cell::

    from xmpplab.widgets import RosterBoard
    board = RosterBoard(lab)
    board                                   # redraws by itself as subscriptions and presence change
    await romeo.subscribe("juliet@example.com")   # romeo's row for juliet turns "none + pending out"

For each account of the Lab's servers the board shows its connected
resources and their presence (available, or its ``<show/>``: chat, away,
xa, dnd; the status text; the priority) and a table of its roster: each
contact, the subscription state as RFC 6121 Appendix A names it (``none``,
``to``, ``from``, ``both``, each with ``+ pending out`` when the account
asked and has no answer yet, ``+ pending in`` when the contact asked), what
that state means in words (who sees whose presence), and the contact's
current presence when the account may see it.

The same facts from Python::

    board.rows()        # [{"account": "romeo@example.net", "contact": "juliet@example.com",
                        #   "subscription": "none", "pending_out": True, "pending_in": False,
                        #   "state": "none + pending out", "sees": False, "seen_by": False, ...}]
    board.presence()    # {"juliet@example.com/balcony": "available", "romeo@example.net": "offline"}

The board takes a snapshot of the servers (``Server.snapshot()``: plain
immutable data, never the live server) a few times a second (``interval``)
while it is on screen, in the Lab's event loop, and redraws only when
something changed; it stops when the Lab stops or the board is closed
(``board.close()``). Given a snapshot instead of a Lab, it shows that moment.
"""

from __future__ import annotations

import asyncio
import datetime

from ..jid import JID, InvalidJID
from ..render.palette import AMBER_TEXT, BLACK, BORDER, FONT, GREEN, MONO, MUTED, RED
from ..snapshot import LabSnapshot, ServerSnapshot, snapshots_of
from ._base import LiveWidget, W, box, esc

__all__ = ["RosterBoard", "state_name"]

SHOW_WORDS = {"chat": "free to chat", "away": "away", "xa": "extended away", "dnd": "do not disturb"}
SHOW_COLOURS = {None: GREEN, "chat": GREEN, "away": "#bf8700", "xa": "#9a6700", "dnd": RED}


def state_name(subscription: str, pending_out: bool, pending_in: bool) -> str:
    """RFC 6121 Appendix A's name of a subscription state: ``none + pending out``, ``to + pending in``..."""
    parts = [subscription or "none"]
    if pending_out and subscription in (None, "none", "from"):
        parts.append("pending out")
    if pending_in and subscription in (None, "none", "to"):
        parts.append("pending in")
    return " + ".join(parts)


def _short(jid: str) -> str:
    return jid.partition("@")[0] if "@" in jid else jid


def meaning(account: str, contact: str, subscription: str, pending_out: bool, pending_in: bool) -> str:
    """What a state means, in words: ``juliet sees romeo's presence; romeo asked to see juliet's``."""
    a, c = _short(account), _short(contact)
    sees = {"to": f"{a} sees {c}'s presence", "from": f"{c} sees {a}'s presence",
            "both": f"{a} and {c} see each other's presence"}.get(subscription, "neither sees the other's presence")
    extra = []
    if pending_out and subscription in ("none", "from"):
        extra.append(f"{a} asked to see {c}'s presence, no answer yet")
    if pending_in and subscription in ("none", "to"):
        extra.append(f"{c} asked to see {a}'s presence, {a} has not answered")
    return "; ".join([sees, *extra])


class RosterBoard(LiveWidget):
    """Every account of a Lab (or Server, or their snapshot), its roster with subscription states, and presence.

    ``accounts``: only these bare JIDs (default: every account, and anyone
    online); ``interval``: seconds between two looks at the servers. See the
    module docstring for an example.
    """

    def __init__(self, source, *, accounts=None, interval: float = 0.25):
        super().__init__()
        self.source = source
        self.interval = interval
        self.only = None if accounts is None else {str(JID(str(a)).bare) for a in accounts}
        self.changes = 0
        self._snapshot = None
        self._start_background(getattr(source, "_loop", None))
        self.status_w = W.HTML()
        self.view_w = W.HTML()
        self.view_w.add_class("xmpplab-board-view")
        self.add_class("xmpplab-board")
        self.children = [
            W.HBox([W.HTML(f'<b style="{FONT};font-size:14px">Rosters and presence</b>'), self.status_w],
                   layout=W.Layout(align_items="center", justify_content="space-between")),
            self.view_w,
        ]
        self.refresh()
        sources = source if isinstance(source, (list, tuple)) else [source]
        self.live = not all(isinstance(s, (ServerSnapshot, LabSnapshot)) for s in sources)  # a snapshot stays still
        if self.live:
            self._bg.spawn(self._poll())

    # ------------------------------------------------------------------ the facts
    def look(self) -> tuple[tuple[ServerSnapshot, ...], bool]:
        """The servers' snapshots now and whether they are running (a Lab or Server is snapshotted)."""
        src = self.source
        snap = src.snapshot() if callable(getattr(src, "snapshot", None)) else src
        if isinstance(snap, LabSnapshot):
            return snap.servers, snap.running
        servers = snapshots_of(snap)
        return servers, all(s.running for s in servers)

    @property
    def servers(self) -> tuple[ServerSnapshot, ...]:
        """The snapshots of the servers shown, taken now."""
        return self.look()[0]

    @property
    def running(self) -> bool:
        """Whether the Lab (or every server) is still running."""
        return self.look()[1]

    def _snaps(self, servers) -> tuple[ServerSnapshot, ...]:
        return self.look()[0] if servers is None else servers

    def accounts(self, servers=None) -> list[str]:
        """The bare JIDs shown: every account of every server, and whoever is online."""
        found = dict.fromkeys(a.jid for snap in self._snaps(servers) for a in snap.accounts)
        return [a for a in found if self.only is None or a in self.only]

    def resources(self, account: str, servers=None) -> list[dict]:
        """The connected resources of an account with their presence."""
        try:
            bare = str(JID(account).bare)
        except InvalidJID:
            return []
        snap = next((s for s in self._snaps(servers) if s.serves(bare.rpartition("@")[2])), None)
        found = snap.account(bare) if snap is not None else None
        if found is None:
            return []
        return [{"jid": r.jid, "resource": r.resource, "available": r.available, "show": r.show,
                 "status": r.status, "priority": r.priority} for r in found.resources]

    def presence_text(self, account: str, servers=None) -> str:
        """``offline``, ``available``, ``away: In the garden`` (per resource when there are several)."""
        res = self.resources(account, servers)
        if not res:
            return "offline"
        texts = [_presence_words(r) for r in res]
        if len(res) == 1:
            return texts[0]
        return "; ".join(f"{r['resource']}: {t}" for r, t in zip(res, texts, strict=True))

    def presence(self, servers=None) -> dict[str, str]:
        """``{full JID: presence in words}`` for each connected resource, ``{bare JID: "offline"}`` otherwise."""
        servers = self._snaps(servers)
        out = {}
        for account in self.accounts(servers):
            res = self.resources(account, servers)
            if not res:
                out[account] = "offline"
            for r in res:
                out[r["jid"]] = _presence_words(r)
        return out

    def rows(self, servers=None) -> list[dict]:
        """One dict per (account, contact) pair of every roster, from the servers' snapshots."""
        servers = self._snaps(servers)
        out = []
        for account in self.accounts(servers):
            snap = next((s for s in servers if s.serves(account.partition("@")[2])), None)
            found = snap.account(account) if snap is not None else None
            if found is None:
                continue
            for item in found.roster:
                if not (item.in_roster or item.pending_in or item.pending_out):
                    continue
                sub, contact = item.subscription, item.contact
                local = any(s.serves(contact.partition("@")[2]) for s in servers)
                out.append({
                    "account": account, "contact": contact, "name": item.name, "groups": list(item.groups),
                    "subscription": sub, "pending_out": item.pending_out, "pending_in": item.pending_in,
                    "state": state_name(sub, item.pending_out, item.pending_in),
                    "sees": sub in ("to", "both"), "seen_by": sub in ("from", "both"),
                    "in_roster": item.in_roster,
                    "meaning": meaning(account, contact, sub, item.pending_out, item.pending_in),
                    "contact_presence": self.presence_text(contact, servers) if local else "(on another server)",
                })
        return out

    def snapshot(self, servers=None) -> tuple:
        """Everything the board shows, as a comparable value (changes mean a redraw)."""
        servers = self._snaps(servers)
        return (tuple((a, self.presence_text(a, servers)) for a in self.accounts(servers)),
                tuple(tuple(sorted((k, str(v)) for k, v in r.items())) for r in self.rows(servers)))

    # ------------------------------------------------------------------ live
    async def _poll(self) -> None:
        while not self.closed:
            await asyncio.sleep(self.interval)
            if self.closed:
                return
            if not self.on_screen:
                continue
            try:
                self.refresh(force=False)
            except Exception:
                if self.running:
                    raise
            if not self.running:
                self.refresh(force=True)
                return

    def _shown(self) -> None:
        self.refresh(force=False)

    def refresh(self, force: bool = True) -> bool:
        """Snapshot the servers and redraw if anything changed (always with ``force``); True when redrawn."""
        if self.closed:
            return False
        servers, running = self.look()
        if not running:
            if self._snapshot != "stopped":
                self._snapshot = "stopped"
                self.view_w.value = box(f'<span style="color:{MUTED}">The Lab has stopped: no accounts to show. '
                                        "Start one with <code>lab = await xmpplab.Lab.start()</code>.</span>")
                self.status_w.value = ""
                self.changes += 1
                return True
            return False
        snap = self.snapshot(servers)
        if not force and snap == self._snapshot:
            return False
        self._snapshot = snap
        self.view_w.value = self._render(servers)
        stamp = datetime.datetime.now().strftime("%H:%M:%S")
        self.status_w.value = (f'<span style="{FONT};font-size:12px;color:{MUTED}">live · last change {stamp}'
                               "</span>")
        self.changes += 1
        return True

    @property
    def html(self) -> str:
        """The board's current HTML."""
        return self.view_w.value

    # ------------------------------------------------------------------ drawing
    def _render(self, servers) -> str:
        accounts = self.accounts(servers)
        if not accounts:
            return box(f'<span style="color:{MUTED}">No accounts yet: '
                       "<code>await lab.connect('juliet@example.com/balcony')</code> creates one.</span>")
        rows_by = {}
        for r in self.rows(servers):
            rows_by.setdefault(r["account"], []).append(r)
        cards = [self._card(a, rows_by.get(a, []), servers) for a in accounts]
        legend = (f'<div style="color:{MUTED};font-size:12px;margin-top:4px">States as in RFC 6121 Appendix A: '
                  "<b>to</b>: the account sees the contact's presence; <b>from</b>: the contact sees the "
                  "account's; <b>both</b>; <b>none</b>. <b>pending out</b>: the account asked and has no answer "
                  "yet; <b>pending in</b>: the contact asked.</div>")
        return (f'<div style="{FONT};font-size:13px;display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start">'
                f'{"".join(cards)}</div>{legend}')

    def _card(self, account: str, rows: list[dict], servers) -> str:
        res = self.resources(account, servers)
        badges = " ".join(_badge(r) for r in res) if res else f'<span style="color:{MUTED}">○ offline</span>'
        head = (f'<div style="font-weight:700;{MONO};font-size:13px">{esc(account)}</div>'
                f'<div style="font-size:12px;margin:2px 0 4px">{badges}</div>')
        if not rows:
            table = f'<div style="color:{MUTED};font-size:12px">no contacts yet</div>'
        else:
            th = (f'style="text-align:left;padding:2px 6px;border-bottom:1px solid {BORDER};'
                  f'font-size:11px;color:{MUTED}"')
            body = []
            for r in rows:
                colour = {"both": GREEN, "to": "#0550ae", "from": "#8250df"}.get(r["subscription"], MUTED)
                pending = r["pending_out"] or r["pending_in"]
                state = (f'<span style="color:{colour};font-weight:600">{esc(r["subscription"])}</span>'
                         + (f' <span style="color:{AMBER_TEXT}">{esc(r["state"][len(r["subscription"]):])}</span>'
                            if pending and r["state"] != r["subscription"] else ""))
                seen = r["contact_presence"] if r["sees"] else \
                    f"(hidden: {_short(account)} is not subscribed to {_short(r['contact'])}'s presence)"
                body.append(f'<tr class="xmpplab-board-row"><td style="padding:2px 6px;{MONO};font-size:12px">'
                            f'{esc(r["contact"])}</td><td style="padding:2px 6px">{state}</td>'
                            f'<td style="padding:2px 6px;font-size:12px">{esc(r["meaning"])}</td>'
                            f'<td style="padding:2px 6px;font-size:12px;color:{BLACK if r["sees"] else MUTED}">'
                            f"{esc(seen)}</td></tr>")
            table = (f'<table style="border-collapse:collapse;width:100%"><tr><th {th}>contact</th>'
                     f"<th {th}>subscription</th><th {th}>what it means</th><th {th}>their presence</th></tr>"
                     f'{"".join(body)}</table>')
        return box(head + table, extra="flex:1 1 26em;min-width:20em")

    def __repr__(self) -> str:
        servers = self.look()[0]
        return f"<RosterBoard {len(self.accounts(servers))} accounts, {len(self.rows(servers))} roster items>"


def _presence_words(r: dict) -> str:
    if not r["available"]:
        return "connected, no presence sent yet (not available)"
    text = SHOW_WORDS.get(r["show"], r["show"]) if r["show"] else "available"
    if r["status"]:
        text += f": “{r['status']}”"
    if r["priority"]:
        text += f" (priority {r['priority']})"
    return text


def _badge(r: dict) -> str:
    colour = SHOW_COLOURS.get(r["show"], GREEN) if r["available"] else MUTED
    dot = "●" if r["available"] else "◐"
    return (f'<span style="white-space:nowrap;margin-right:8px"><span style="color:{colour}">{dot}</span> '
            f'<b>{esc(r["resource"])}</b> {esc(_presence_words(r))}</span>')
