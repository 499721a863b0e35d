"""The classroom benchmark on xmpplab: ``xmpplab classroom`` as a process, its class list, the teacher's dashboard.

:class:`Classroom` is the soak (:mod:`soak`) with the class's accounts and room; :class:`Teacher`
refreshes the dashboard as ``xmpplab.widgets.Dashboard`` does, with ad-hoc commands (XEP-0050):
the online list (XEP-0133 section 4.21), then the class commands (progress, routing).
"""

from __future__ import annotations

import asyncio
import csv
import sys
import time
from pathlib import Path

import leanclient
import soak

NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_ADMIN = "http://jabber.org/protocol/admin"
NS_CLASS = "urn:xmpplab:class:0"
NS_DATA = "jabber:x:data"
#: XEP-0133 section 4.21: the online list, every user (the dashboard's own request).
ONLINE_LIST = (f"{NS_ADMIN}#get-online-users-list",
               f"<field var='FORM_TYPE' type='hidden'><value>{NS_ADMIN}</value></field>"
               "<field var='max_items'><value>none</value></field>")


class Teacher(soak.SoakClient):
    """The teacher's dashboard: logs in like a student, then only runs commands."""

    @property
    def jid(self) -> str:
        """The dashboard's full JID."""
        return f"teacher@{self.soak.domain}/dashboard"

    async def login(self) -> None:
        """Log in over STARTTLS with the class list's password (no presence: the dashboard only asks)."""
        self.conn = await leanclient.login(self.soak.opts.host, self.soak.port, self.soak.domain, "teacher",
                                           self.soak.teacher_password, "dashboard", timeout=60,
                                           tls=self.soak.tls_context)
        self.alive = True

    async def command(self, node: str, fields: str | None = None) -> None:
        """Execute a command (XEP-0050 section 3); when it answers with a form, submit ``fields`` in its session."""
        n = self.sent = self.sent + 1
        answer = await self.iq(f"<command xmlns='{NS_COMMANDS}' node='{node}' action='execute'/>",
                               self.soak.domain, f"c{n}")
        cmd = answer.find(f"{{{NS_COMMANDS}}}command")
        if cmd is not None and cmd.get("status") == "executing":
            await self.iq(f"<command xmlns='{NS_COMMANDS}' node='{node}' sessionid='{cmd.get('sessionid')}' "
                          f"action='complete'><x xmlns='{NS_DATA}' type='submit'>{fields or ''}</x></command>",
                          self.soak.domain, f"c{n}b")

    async def poll(self, stop_at: float, every: float, times: list[float], online_times: list[float]) -> None:
        """Refresh the dashboard every ``every`` seconds until ``stop_at``; record each refresh's time
        and, apart, the time of its first command (the online list)."""
        next_at = time.monotonic()
        while self.alive and time.monotonic() < stop_at:
            start = time.perf_counter()
            for k, (node, fields) in enumerate(self.soak.dashboard_commands):
                await self.command(node, fields)
                if k == 0:
                    online_times.append(time.perf_counter() - start)
            times.append(time.perf_counter() - start)
            next_at += every
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))  # the dashboard's own clock


class Classroom(soak.Soak):
    """The soak's students and checks, against ``xmpplab classroom`` and its class list."""

    label = "xmpplab"
    ready_text = "press Ctrl-C"
    create_room = False
    #: One refresh of the dashboard: the online list, the progress grid, the routing table.
    dashboard_commands = (ONLINE_LIST, (f"{NS_CLASS}#progress", None), (f"{NS_CLASS}#routing", None))
    refresh_text = "online list, progress grid, routing: four command round trips"

    def __init__(self, opts) -> None:
        super().__init__(opts)
        self.room = f"class@conference.{opts.domain}"
        self.accounts = self.workdir / "class.csv"
        self.passwords: dict[str, str] = {}
        self.teacher_password = ""
        self.dashboard: list[float] = []
        self.online: list[float] = []
        self.teacher: Teacher | None = None

    def server_command(self) -> list[str]:
        """``xmpplab classroom`` for the class, its list written into the work folder."""
        opts = self.opts
        cmd = [sys.executable, "-m", "xmpplab", "classroom", "--students", str(opts.clients), "--host", opts.host,
               "--port", str(self.port), "--domain", self.domain, "--db", str(self.workdir / "class.sqlite"),
               "--accounts", str(self.accounts)]
        return cmd + ([] if opts.no_limits else ["--limit-loopback"]) + opts.server_arg

    def start_server(self) -> None:
        """Start the class server, then read the class list it wrote."""
        super().start_server()
        self.read_class_list(self.accounts)

    def read_class_list(self, path: Path) -> None:
        """The passwords of the class list (columns jid, password, role), the teacher's apart."""
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                self.passwords[row["jid"].partition("@")[0]] = row["password"]
        self.teacher_password = self.passwords.pop("teacher")

    def name(self, index: int) -> str:
        """``student01`` … as the class list names them."""
        width = max(2, len(str(self.opts.clients)))
        return f"student{index + 1:0{width}d}"

    def password(self, index: int) -> str:
        """The student's password from the class list."""
        return self.passwords[self.name(index)]

    def extra(self, started: float, stop_at: float) -> list:
        """The teacher's dashboard, polling while the students send."""
        async def dashboard() -> None:
            self.teacher = Teacher(-1, self)
            await self.teacher.login()
            reader = asyncio.create_task(self.teacher.read())
            try:
                await self.teacher.poll(stop_at, self.opts.poll, self.dashboard, self.online)
            finally:
                self.teacher.alive = False
                self.teacher.conn.close()
                reader.cancel()
        return [dashboard()]


