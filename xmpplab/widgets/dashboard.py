"""The teacher's dashboard: who is online, the class's progress, its routing, a transcript, and actions.

It speaks XMPP only (:class:`~xmpplab.classroom.teacher.Teacher`: ad-hoc commands), so it runs from
the teacher's laptop against the class server::

    from xmpplab.classroom import Teacher
    from xmpplab.widgets import Dashboard
    me = await xmpplab.Client.connect("teacher@class.example", getpass(), host="192.168.1.20",
                                      fingerprint="sha256:D5:56:…")   # the one xmpplab classroom printed
    Dashboard(Teacher(me))          # refreshes every 2 s while on screen; progress arrives live

Sections: online (account, resource, and the client and transport each uses), progress (a grid of
students × exercises: ✓ passed, ✗ not yet, with the number of attempts; updated as each check is
reported), routing (a graph of who wrote to whom lately, drawn with graphviz, or a table when no
renderer is found), a student's transcript (pick one, press the button), an announcement to
everyone online, and a password reset. The same facts from Python: ``dash.online``,
``dash.clients``, ``dash.progress``, ``dash.routes`` after ``await dash.refresh()``.
"""

from __future__ import annotations

import asyncio
import contextlib

from ..classroom.teacher import progress_of
from ..render.palette import BORDER, FONT, GREEN, MONO, MUTED, RED
from ._base import LiveWidget, W, box, esc, heading

__all__ = ["Dashboard"]


def client_label(row: dict | None) -> str:
    """How a connection is shown: its client (the XEP-0115 node without its scheme) and transport, e.g.
    ``conversejs.org, WebSocket``; ``""`` when the server did not say."""
    if not row:
        return ""
    client = row["client"].split("://", 1)[-1].rstrip("/") or "client unnamed"
    transport = {"websocket": "WebSocket", "direct-tls": "direct TLS", "tcp": "TCP"}.get(row["transport"],
                                                                                         row["transport"])
    return f"{client}, {transport}{'' if row['secure'] else ', not encrypted'}"


class Dashboard(LiveWidget):
    """A live view of a class for its teacher (see the module's docstring)."""

    def __init__(self, teacher, *, interval: float = 2.0, loop=None):
        super().__init__()
        self.teacher, self.interval = teacher, interval
        self.online: list[str] = []
        self.clients: dict[str, dict] = {}  # full JID -> client, transport, secure (the class's #online)
        self.progress: dict[tuple[str, str], dict] = {}  # (student, exercise) -> result
        self.routes: list[dict] = []
        self.online_html, self.progress_html, self.routing_html = W.HTML(), W.HTML(), W.HTML()
        self.student = W.Dropdown(description="Student", options=[])
        self.show_transcript = W.Button(description="Show transcript")
        self.transcript_html = W.HTML()
        self.announcement = W.Textarea(placeholder="A message to everyone online", layout=W.Layout(width="60%"))
        self.announce_button = W.Button(description="Announce")
        self.new_password = W.Text(placeholder="new password", description="Password")
        self.reset_button = W.Button(description="Reset password")
        self.status = W.HTML()
        self.show_transcript.on_click(lambda _: self._bg.spawn(self.load_transcript()))
        self.announce_button.on_click(lambda _: self._bg.spawn(self.announce()))
        self.reset_button.on_click(lambda _: self._bg.spawn(self.reset_password()))
        self.children = [
            W.HTML(heading(f"Class of {teacher.domain}", f"as {teacher.client.jid}")),
            self.online_html, self.progress_html, self.routing_html,
            W.HBox([self.student, self.show_transcript]), self.transcript_html,
            W.HBox([self.announcement, self.announce_button]),
            W.HBox([self.new_password, self.reset_button]), self.status]
        self._start_background(loop)
        teacher.client.xmpp.add_filter("in", self._live)  # as it arrives, before anyone takes it
        self._bg.spawn(self._poll())

    # data ------------------------------------------------------------------------------
    async def refresh(self) -> None:
        """Ask the server again (online list, progress, routing) and redraw."""
        self.online = await self.teacher.online()
        self.clients = {row["jid"]: row for row in await self.teacher.clients()}
        for row in await self.teacher.progress():
            self.progress[(row["student"], row["exercise"])] = row
        self.routes = await self.teacher.routing()
        students = sorted({j.partition("/")[0] for j in self.online} | {s for s, _ in self.progress})
        students = [s for s in students if s != str(self.teacher.client.jid.bare)]
        if list(self.student.options) != students:
            self.student.options = students
        self.redraw()

    async def _poll(self) -> None:
        while not self.closed:
            try:
                await self.refresh()
            except Exception as exc:  # the server went away, a command failed: say so and try again later
                self.status.value = box(f"<span style='color:{RED}'>{esc(exc)}</span>")
            await asyncio.sleep(self.interval)  # the dashboard polls on purpose: that is its clock

    def _live(self, stanza):
        result = progress_of(stanza) if stanza.name == "message" else None
        if result is not None and not self.closed:
            self.progress[(result["student"], result["exercise"])] = result
            self.progress_html.value = self._progress_html()
        return stanza

    # actions -----------------------------------------------------------------------------
    async def load_transcript(self) -> None:
        """Show the chosen student's recent streams (both directions, explained)."""
        if not self.student.value:
            self.status.value = box("Pick a student first.")
            return
        from ..render import stream_view

        transcript = await self.teacher.transcript(self.student.value)
        self.transcript_html.value = stream_view(transcript)._repr_html_()

    async def announce(self) -> None:
        """Send the announcement typed in the box to every online student (XEP-0133 announce)."""
        text = self.announcement.value.strip()
        if not text:
            self.status.value = box("Write the announcement first.")
            return
        done = await self.teacher.announce(text)
        self.announcement.value = ""
        self.status.value = box(esc(done.note or "sent"))

    async def reset_password(self) -> None:
        """Give the chosen student the new password typed in the box (XEP-0133 change-user-password)."""
        if not self.student.value or not self.new_password.value:
            self.status.value = box("Pick a student and type the new password first.")
            return
        done = await self.teacher.reset_password(self.student.value, self.new_password.value)
        self.new_password.value = ""
        self.status.value = box(esc(done.note or "changed"))

    # drawing ---------------------------------------------------------------------------------
    def redraw(self) -> None:
        """Draw the online, progress and routing panels again."""
        self.online_html.value = self._online_html()
        self.progress_html.value = self._progress_html()
        self.routing_html.value = self._routing_html()

    def _online_html(self) -> str:
        rows = "".join(f"<tr><td style='{MONO}'>{esc(j.partition('/')[0])}</td>"
                       f"<td style='{MONO};color:{MUTED}'>{esc(j.partition('/')[2])}</td>"
                       f"<td style='color:{MUTED}'>{esc(client_label(self.clients.get(j)))}</td></tr>"
                       for j in self.online)
        return box(f"<div style='{FONT}'><b>Online</b> ({len(self.online)})<table>{rows}</table></div>")

    def _progress_html(self) -> str:
        students = sorted({s for s, _ in self.progress})
        exercises = sorted({e for _, e in self.progress})
        if not students:
            return box(f"<div style='{FONT}'><b>Progress</b>: no exercise checked yet</div>")
        head = "".join(f"<th style='{MONO};padding:0 .4em'>{esc(e)}</th>" for e in exercises)
        body = []
        for s in students:
            cells = []
            for e in exercises:
                r = self.progress.get((s, e))
                if r is None:
                    cells.append("<td></td>")
                else:
                    mark, colour = ("✓", GREEN) if r["passed"] else ("✗", RED)
                    cells.append(f"<td style='color:{colour};text-align:center' title='{r['attempts']} attempt(s)'>"
                                 f"{mark}<sub>{r['attempts']}</sub></td>")
            body.append(f"<tr><td style='{MONO}'>{esc(s.partition('@')[0])}</td>{''.join(cells)}</tr>")
        return box(f"<div style='{FONT}'><b>Progress</b><table style='border-collapse:collapse'>"
                   f"<tr><th></th>{head}</tr>{''.join(body)}</table></div>")

    def _routing_html(self) -> str:
        if not self.routes:
            return box(f"<div style='{FONT}'><b>Routing</b>: nothing sent yet</div>")
        from ..render.graphviz_backend import dot_attrs, q, render_svg

        lines = ["digraph class {", "rankdir=LR; node [shape=box, fontname=Helvetica, fontsize=10];"]
        for r in self.routes:
            if r["kind"] == "iq":
                continue
            label = f"{r['kind']} ×{r['count']}"
            lines.append(f"{q(r['from'])} -> {q(r['to'])}{dot_attrs(label=label, fontsize=9)};")
        lines.append("}")
        svg = render_svg("\n".join(lines))
        if svg is None:
            rows = "".join(f"<tr><td>{esc(r['from'])}</td><td>→ {esc(r['to'])}</td><td>{esc(r['kind'])}</td>"
                           f"<td>{r['count']}</td></tr>" for r in self.routes)
            return box(f"<div style='{FONT}'><b>Routing</b><table>{rows}</table></div>")
        return box(f"<div style='{FONT}'><b>Routing</b></div>{svg}", border=BORDER)

    def _cleanup(self) -> None:
        with contextlib.suppress(Exception):  # the client is already gone
            self.teacher.client.xmpp.del_filter("in", self._live)
