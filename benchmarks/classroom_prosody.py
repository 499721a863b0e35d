"""The classroom benchmark's load on Prosody: the same class list, a members-only room, the dashboard's XEP-0133 part.

Prosody (Debian's package) runs through :class:`xmpplab.testing.prosody.ProsodyServer` on loopback
with TLS (a self-signed certificate; the students use STARTTLS), ``mod_admin_adhoc`` (XEP-0133
over XEP-0050) with the teacher as its admin, a MUC component ``conference.DOMAIN``, and
``mod_limits`` on as Debian's default configuration has it (10 kB/s per client connection; Prosody
has no per-address connection limits like xmpplab's ``--limit-loopback``).

What differs from ``xmpplab classroom``, because Prosody has no class command: the accounts of the
class list are created in-band (XEP-0077) before the students log in; the teacher makes the room
over XMPP (XEP-0045 section 10.1.3: a reserved room, then its form: persistent, public, members
only; section 9.5: every student a member) and leaves it; the dashboard asks only the online list
(Prosody has no progress or routing command).
"""

from __future__ import annotations

from classroom_xmpplab import ONLINE_LIST, Classroom
from leanclient import XmppError, login, xml_escape
from servers import ProsodyServer, prosody_path

from xmpplab.classroom.accounts import new_class, write_csv

MUC_NS = "http://jabber.org/protocol/muc"
MUC_USER_NS = "http://jabber.org/protocol/muc#user"
MUC_OWNER_NS = "http://jabber.org/protocol/muc#owner"
MUC_ADMIN_NS = "http://jabber.org/protocol/muc#admin"
ROOM_CONFIG = {"FORM_TYPE": "http://jabber.org/protocol/muc#roomconfig", "muc#roomconfig_roomname": "The class",
               "muc#roomconfig_persistentroom": "1", "muc#roomconfig_publicroom": "1",
               "muc#roomconfig_membersonly": "1"}
#: mod_limits as Debian's /etc/prosody/prosody.cfg.lua sets it (the burst is its default, 2 s).
LIMITS = 'limits = { c2s = { rate = "10kb/s" } }'


def prosody_missing() -> bool:
    """Whether Prosody is not installed here."""
    return prosody_path() is None


class ProsodyClassroom(Classroom):
    """The classroom's students, teacher and checks, against a Prosody serving the same class."""

    label = "prosody"
    dashboard_commands = (ONLINE_LIST,)
    refresh_text = "the online list only: two command round trips"

    def __init__(self, opts, class_list=None) -> None:
        super().__init__(opts)
        self.class_list = class_list
        self.server: ProsodyServer | None = None
        self.saved_log = ""

    def start_server(self) -> None:
        """Start Prosody for the class's domain; read the class list (a new one when none is given)."""
        if self.class_list is None:
            write_csv(self.accounts, new_class(self.domain, self.opts.clients))
            self.class_list = self.accounts
        self.read_class_list(self.class_list)
        admin = f"teacher@{self.domain}"
        self.server = ProsodyServer(
            domains=[self.domain], tls=True, allow_registration=True, host=self.opts.host,
            extra_modules=("adhoc", "admin_adhoc", "limits"), disabled_modules=(),
            muc_component=f"conference.{self.domain}", log_level="warn",
            extra_config=f'admins = {{ "{admin}" }}\n{LIMITS}')
        self.server.start()
        self.port = self.server.port

    async def prepare(self) -> None:
        """Create the class list's accounts in-band, then the teacher makes the members-only room."""
        accounts = [(self.name(i), self.domain, self.password(i)) for i in range(self.opts.clients)]
        await self.server.aregister_many([("teacher", self.domain, self.teacher_password), *accounts])
        await self.make_room()
        print(f"  {len(accounts)} students and the teacher registered; {self.room} made by the teacher",
              flush=True)

    async def make_room(self) -> None:
        """As the teacher: create the room, configure it, make every student a member, leave it."""
        conn = await login(self.opts.host, self.port, self.domain, "teacher", self.teacher_password, "setup",
                           timeout=60, tls=self.tls_context)
        me = f"{self.room}/teacher"
        try:
            conn.send(f"<presence to='{me}'><x xmlns='{MUC_NS}'/></presence>")
            while True:  # our own presence in the room (XEP-0045 section 7.2.2), or its error
                element = await conn.next_element(30)
                if element.tag == "{jabber:client}presence" and element.get("from") == me:
                    if element.get("type") == "error":
                        raise XmppError("the teacher could not create the room")
                    break
            fields = "".join(f"<field var='{var}'><value>{xml_escape(value)}</value></field>"
                             for var, value in ROOM_CONFIG.items())
            await conn.iq(f"<query xmlns='{MUC_OWNER_NS}'><x xmlns='jabber:x:data' type='submit'>{fields}</x>"
                          "</query>", "config", 30, to=self.room)
            for i in range(self.opts.clients):   # one item per request: Prosody 0.12 reads only the first
                await conn.iq(f"<query xmlns='{MUC_ADMIN_NS}'><item affiliation='member' "
                              f"jid='{self.name(i)}@{self.domain}'/></query>", f"member{i}", 30, to=self.room)
            conn.send(f"<presence to='{me}' type='unavailable'/>")
            await conn.iq("<ping xmlns='urn:xmpp:ping'/>", "left", 30, kind="get", to=self.domain)
        finally:
            conn.close()

    def server_running(self) -> bool:
        """Whether Prosody still runs."""
        return self.server is not None and self.server.running

    def server_pid(self) -> int:
        """Prosody's process id."""
        return self.server.pid

    def log_text(self) -> str:
        """What Prosody logged (kept when it stops: its folder goes with it)."""
        return self.server.log_text() if self.server_running() else self.saved_log

    def stop_server(self) -> None:
        """Stop Prosody, keeping its log."""
        if self.server_running():
            self.saved_log = self.server.log_text()
        if self.server is not None:
            self.server.stop()

