"""A chapter's Lab on the class server: the same notebook, the same views, the class's server.

When a kernel works in a class (``XMPPLAB_SERVER=host:port`` and ``XMPPLAB_ACCOUNT=jid`` in the
environment, or :func:`xmpplab.classroom.use_class` called once), ``await xmpplab.Lab.start()``
returns a :class:`ClassLab` instead of starting a private server:

* it logs in the student's own account (the password is asked once, never echoed; see
  :mod:`.student`), and from then on every exercise ``check()`` reaches the teacher;
* ``lab.connect("romeo@example.net/orchard")`` logs in the practice account
  ``student07.romeo@class.example/orchard``, created on demand in the student's own namespace
  (``urn:xmpplab:class:0#practice``); the client maps the chapter's addresses the code writes
  (``to='romeo@example.net'``) onto the practice accounts, and everything it shows carries the
  real addresses (:mod:`.names`);
* the practice clients reach the class server through a recording proxy in the kernel
  (:class:`xmpplab.proxy.RecordingProxy` on 127.0.0.1): it records each stream as the server sees
  it, so ``lab.transcript``, ``stanza_path``, ``sequence_chart`` and the checks that read "the
  server's side" work as with a private server, and ``lab.server.port`` is a loopback port that a
  hand-made :class:`~xmpplab.rawclient.RawClient` can use too;
* ``lab.server`` answers what a student may know of a server they do not run: where it is, the
  rosters and rooms as the Lab's clients saw them (``roster_item``, ``muc``) and a snapshot for the
  routing graph; anything inside the server (its storage, its hooks) raises :class:`ClassModeError`
  with one sentence; the pubsub nodes the Lab's streams made and used (``student07.greenhouse``, :mod:`.feeds`)
  are in its snapshot too. What needs the inside of a server (13's sign-ups: docs/classroom.md says why) or
  servers of their own (09, ``federate=True``) runs on a private server, as does
  ``Lab.start(private=True)``; progress still reaches the teacher. A private Lab started beside the
  chapter's (``replace=False``: 00's federation, 10's stored keys, 11's scansion scripts, 13's sign-up)
  says that only that part is private, and the chapter's Lab keeps reporting;
* ``lab.login_for(jid)`` gives a hand-made client (a re-drive of a recording: ``redrive(..., lab=lab)``)
  the practice account behind a chapter address, and the map of the recording's other addresses.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time

from ..client import Client, ClientError, ConnectError
from ..course.core import add_lens, remove_lens
from ..jid import JID, InvalidJID
from ..lab import Lab, Login, running_labs
from ..ns import NS_REGISTER
from ..snapshot import Account, LabSnapshot, Occupant, Resource, Room, ServerSnapshot
from .accounts import ClassroomError
from .feeds import feeds_seen
from .names import PracticeNames
from .partners import find_classmate, partner_wait
from .rosters import room_seen, roster_seen
from .student import NS_CLASS, _where, class_settings, join_class
from .teacher import Teacher
from .trust import ClassCertificate

log = logging.getLogger("xmpplab.classroom")

#: Lab.start options only a server of one's own can honour: with any of them the Lab stays private.
#: (``http_port`` is not one: the class server's own HTTP port serves files, when its teacher gave --http-port.)
PRIVATE_OPTIONS = ("federate", "external", "db", "modules", "tls", "tls_ca", "require_tls", "port", "limits",
                   "register", "s2s_port")


PRIVATE_NOTE = "this chapter runs on a private server in this kernel (your checks still reach the teacher)."
#: what a private Lab says when the chapter's Lab on the class server runs beside it (``replace=False``)
PART_NOTE = "this part runs on a private server in this kernel; the chapter's Lab stays on the class server."


class ClassModeError(AttributeError):
    """What a Lab on a class server cannot show: the inside of a server the student does not run."""


def class_lab(domains, options: dict, *, private: bool = False) -> Lab | None:
    """The Lab for ``Lab.start(domains, **options)`` in a class kernel (a ClassLab, or a private ReportingLab);
    None outside a class."""
    settings = class_settings()
    if settings is None:
        return None
    needs = ["private=True"] if private else [f"{name}=..." for name in PRIVATE_OPTIONS if options.get(name)]
    if needs:
        return ReportingLab(domains, needs=needs, **options)
    return ClassLab(domains, *settings, **options)


def _reporting_beside(lab: Lab) -> Lab | None:
    """A Lab of this event loop, other than ``lab``, whose connection to the class reports the checks."""
    loop = asyncio.get_running_loop()
    for other in running_labs():
        me = getattr(other, "me", None)
        if other is not lab and other._loop is loop and other.running and me is not None and me.connected:
            return other
    return None


class ReportingLab(Lab):
    """A private Lab in a kernel that works in a class: the student's account logs in too, so checks are reported.

    Started beside the chapter's Lab on the class server (``Lab.start(..., replace=False)``), it leaves the
    reporting to that Lab's connection and says that only this part is private."""

    me: Client | None = None

    def __init__(self, domains, *, needs=(), **options):
        super().__init__(domains, **options)
        self._asked = f"Lab.start({', '.join(needs)})"

    async def _start_servers(self) -> None:
        await super()._start_servers()
        settings = class_settings()
        if settings is None:
            return
        if _reporting_beside(self) is not None:
            print(f"Working in the class on {settings[0]}: {self._asked} asks for a server of its own, so "
                  f"{PART_NOTE}")
            return
        print(f"Working in the class on {settings[0]}, but {self._asked} asks for a server of its own: "
              f"{PRIVATE_NOTE}")
        try:
            self.me = await join_class(*settings)
        except (ClientError, ClassroomError, OSError) as exc:  # the chapter still runs, unreported
            print(f"Could not log in to the class on {settings[0]} ({exc}): this chapter's checks are not "
                  "reported to the teacher.")

    async def stop(self) -> None:
        """Stop the private Lab and the student's connection to the class (when it made one)."""
        await super().stop()
        if self.me is not None:
            await self.me.disconnect(timeout=2)


class ClassClient(Client):
    """A Client on the class server whose chapter addresses (``romeo@example.net``) reach the practice accounts."""

    names: PracticeNames | None = None
    #: told the bare JID when the server accepted this account's own ``<remove/>`` (XEP-0077 §3.2)
    removed = None

    def _real(self, address):
        return self.names.real(address) if (self.names is not None and address is not None) else address

    async def send_message(self, to, body, type="chat", *, subject=None):
        """As :meth:`Client.send_message`, to the practice account behind a chapter address."""
        return await super().send_message(self._real(to), body, type, subject=subject)

    async def send_presence(self, to=None, **kwargs):
        """As :meth:`Client.send_presence`, to the practice account behind a chapter address."""
        return await super().send_presence(self._real(to), **kwargs)

    async def send_raw(self, xml) -> None:
        """As :meth:`Client.send_raw`, with the chapter's addresses in to/from/jid mapped."""
        if isinstance(xml, str) and self.names is not None:
            xml = self.names.rewrite(xml)
        await super().send_raw(xml)

    def _as_iq(self, request):
        iq = super()._as_iq(request)
        if self.names is not None:
            self.names.rewrite_element(iq.xml)
            self.names.rewrite_nodes(iq.xml)
        return iq

    async def iq(self, request, *, timeout: float = 10.0):
        """As :meth:`Client.iq`; once the server accepted this account's ``<remove/>`` (XEP-0077 §3.2), the Lab
        has that practice account no more, as a private server would not."""
        iq = self._as_iq(request)
        answer = await super().iq(iq, timeout=timeout)
        if self.removed is not None and iq.xml.find(f"{{{NS_REGISTER}}}query/{{{NS_REGISTER}}}remove") is not None:
            self.removed(self.jid.bare)
        return answer

    async def next(self, kind=None, *, timeout=5.0, predicate=None, from_=None):
        """As :meth:`Client.next`; ``from_`` may be a chapter address."""
        return await super().next(kind, timeout=timeout, predicate=predicate, from_=self._real(from_))

    async def history(self, with_=None, **options):
        """As :meth:`Client.history`; ``with_`` may be a chapter address."""
        return await super().history(self._real(with_), **options)


class _PracticeAccounts:
    """``lab.server.accounts`` on a class server: the practice accounts this Lab made."""

    def __init__(self, server: ClassServer):
        self._server = server

    def exists(self, jid) -> bool:
        """Whether this Lab made (or is making) the practice account behind a chapter address (or a real one)."""
        return str(JID(self._server.names.real(JID(str(jid)).bare))) in self._server._making

    def add(self, jid, password: str) -> None:
        """Make (or give a new password to) the practice account behind ``jid``; the Lab waits for it at connect."""
        self._server.want(jid, password)


class _Rooms:
    """``lab.server.muc[service][room]``: a room as the Lab's streams saw it (its occupants' presence)."""

    def __init__(self, server: ClassServer, service: str | None = None):
        self._server, self._service = server, service

    def __getitem__(self, key):
        if self._service is None:
            return _Rooms(self._server, str(key))
        real = JID(self._server.names.real(JID(str(key)).bare))
        occupants = room_seen(self._server.lab.transcript, str(real))
        return Room(str(real), occupants=tuple(Occupant(nick, role, jids) for nick, (role, jids) in occupants.items()))


class ClassServer:
    """``lab.server`` of a :class:`ClassLab`: the class server as a student sees it, through the Lab's proxy."""

    def __init__(self, lab: ClassLab, where: str, account: str, domains, password: str | None = None):
        self.lab, self.where, self.account, self._password = lab, where, account, password
        self.hosts = list(domains)  # the chapter's domains: what the notebook's code writes
        self.upstream = _where(where)
        self.me: Client | None = None
        self.names: PracticeNames | None = None
        self.proxy = None
        self.made: dict[str, str] = {}  # practice bare JID -> password (this kernel only)
        self._making: dict[str, asyncio.Task] = {}
        self.certificate = ClassCertificate(where)  # each proxy leg to the class server is pinned (see .trust)
        self.accounts = _PracticeAccounts(self)
        self.muc = _Rooms(self)

    async def start(self) -> None:
        """Log in the student (progress goes to the teacher from now on), check it is a class server, open the proxy."""
        from ..proxy import RecordingProxy

        self.me = await join_class(self.where, self.account, self._password)
        self.names = PracticeNames(self.me.jid, self.hosts)
        info = await self.me.iq(f"<iq type='get' to='{self.names.domain}'>"
                                "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        if f"var='{NS_CLASS}'" not in str(info) and f'var="{NS_CLASS}"' not in str(info):
            await self.me.disconnect()
            raise ClassroomError(f"{self.where} is not an xmpplab class server (no {NS_CLASS} in its disco#info)")
        self.proxy = await RecordingProxy("127.0.0.1", 0, *self.upstream, recorder=self.lab._record if
                                          self.lab.record else None, conn_prefix="c2s", notify=log.debug,
                                          upstream_fingerprint=self.certificate).start()
        print(f"Working in the class on {self.where} as {self.me.jid.bare}: this chapter's people are practice "
              f"accounts {self.names.owner}.NAME@{self.names.domain} (lab.server.names shows them).")

    async def stop(self) -> None:
        """Close the proxy and the student's own connection."""
        for task in self._making.values():
            task.cancel()
        if self.proxy is not None:
            await self.proxy.stop()
        if self.me is not None:
            await self.me.disconnect(timeout=2)

    @property
    def running(self) -> bool:
        """Whether the student's connection and the proxy are up."""
        return self.me is not None and self.me.connected and self.proxy is not None and self.proxy.port is not None

    @property
    def address(self) -> tuple[str, int | None]:
        """Where the Lab's clients connect: the recording proxy on loopback, which forwards to the class server."""
        return ("127.0.0.1", self.proxy.port if self.proxy is not None else None)

    @property
    def port(self) -> int | None:
        """The proxy's port (see :attr:`address`)."""
        return self.address[1]

    # practice accounts -------------------------------------------------------------------
    def want(self, jid, password: str) -> None:
        """Start making the practice account behind ``jid`` with ``password``."""
        real = str(JID(self.names.real(JID(str(jid)).bare)))
        old = self._making.get(real)
        if old is not None and not old.done():
            old.cancel()
        self.made.pop(real, None)
        self._making[real] = asyncio.get_running_loop().create_task(self._make(real, password))

    async def _make(self, real: str, password: str) -> None:
        name = JID(real).local.partition(".")[2]
        result = await Teacher(self.me, self.names.domain).command(f"{NS_CLASS}#practice",
                                                                   {"name": name, "password": password})
        if result.status != "completed":
            raise ClassroomError(f"the class server did not make {real}: {result.note or result.status}")
        self.made[real] = password

    def forget(self, real) -> None:
        """The practice account ``real`` (a bare JID on the class server) was cancelled: this Lab has it no more."""
        self._making.pop(str(real), None)
        self.made.pop(str(real), None)

    async def ready(self, jid) -> str:
        """Wait until the practice account behind ``jid`` exists; return its real bare JID."""
        real = str(JID(self.names.real(JID(str(jid)).bare)))
        task = self._making.get(real)
        if task is not None:
            try:
                await asyncio.shield(task)
            except BaseException:
                if task.done():
                    self._making.pop(real, None)  # failed: the next connect tries again
                raise
        return real

    # what the Lab's streams saw -------------------------------------------------------------
    def roster_item(self, owner, contact):
        """``owner``'s roster item for ``contact`` as ``owner``'s streams show it (pushes, subscriptions), or None."""
        roster = roster_seen(self.lab.transcript, self.names.real(JID(str(owner)).bare))
        return roster.get(self.names.real(JID(str(contact)).bare))

    def snapshot(self) -> ServerSnapshot:
        """The class server as this Lab knows it: its practice accounts, their resources, rosters and rooms seen."""
        accounts = []
        transcript = self.lab.transcript if self.lab.events else None
        for real in sorted(self.made):
            resources = tuple(
                Resource(str(c.jid), c.jid.resource or "", available=True, conn=c.conn, secure=True)
                for c in self.lab.clients if c.connected and str(c.jid.bare) == real)
            roster = ()
            if transcript is not None:
                from ..snapshot import RosterEntry
                roster = tuple(RosterEntry(item.contact, item.subscription, pending_out=item.ask)
                               for item in roster_seen(transcript, real).values())
            accounts.append(Account(real, resources, roster))
        domain = self.names.domain if self.names else self.where
        return ServerSnapshot(f"class server {domain}", (domain,), self.upstream, self.running, time.time(),
                              accounts=tuple(accounts), pubsub=feeds_seen(transcript) if transcript is not None else ())

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise ClassModeError(f"lab.server.{name} looks inside the server, and this Lab works on the class server, "
                             "which its students do not run; this part needs a private server: "
                             "Lab.start(private=True)")

    def __repr__(self) -> str:
        return (f"<class server {self.where} as {self.account}, through the Lab's proxy on "
                f"{self.address[0]}:{self.port}>")


class ClassLab(Lab):
    """A :class:`~xmpplab.lab.Lab` whose people are the student's practice accounts on the class server."""

    def __init__(self, domains, where: str, account: str, *, record: bool = True, password: str | None = None,
                 account_password: str | None = None, host: str = "127.0.0.1", **ignored):
        if isinstance(domains, str):
            domains = [domains]
        try:
            JID(account)
        except InvalidJID as exc:
            raise ClassroomError(f"XMPPLAB_ACCOUNT is not an address: {exc}") from None
        super().__init__(domains, record=record, password=password or secrets.token_urlsafe(12))
        # the class server replaces the private server (made by Lab.__init__, never started)
        self._servers = [ClassServer(self, where, account, domains, account_password)]
        self.server = self._servers[0]
        self._files = ignored.get("http_port") is not None  # asked for file upload (XEP-0363): the class's HTTP port

    async def _start_servers(self) -> None:
        await super()._start_servers()
        add_lens(self._as_chapter, self.settle)
        if self._files and await self.me._upload_service() is None:
            print(f"The class server {self.server.where} shares no files (XEP-0363): its teacher starts it with "
                  "--http-port; until then the cells that upload a file fail.")

    async def stop(self) -> None:
        """Disconnect the practice clients, close the proxy and the student's own connection; safe to call twice."""
        remove_lens(self._as_chapter)
        await super().stop()

    async def settle(self, timeout: float = 2.0) -> None:
        """Wait (at most ``timeout`` s) until the proxy has recorded all the Lab's clients sent: a check reads it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._caught_up() and loop.time() < deadline:
            await asyncio.sleep(0.02)

    def _caught_up(self) -> bool:
        client_local, proxy_peer, sent, got, closed = {}, {}, {}, {}, set()
        for e in self.events:
            conn, kind = e["conn"], e["type"]
            if kind == "open" and e.get("role") == "initiating":
                client_local[conn] = e.get("local")  # the client's address is the proxy connection's peer
            elif kind == "open":
                proxy_peer[conn] = e.get("peer")
            elif kind == "data" and conn in client_local and e.get("dir") == "out":
                sent[client_local[conn]] = sent.get(client_local[conn], 0) + len(e.get("data", ""))
            elif kind == "data" and conn in proxy_peer and e.get("dir") == "in":
                got[proxy_peer[conn]] = got.get(proxy_peer[conn], 0) + len(e.get("data", ""))
            elif kind == "close" and conn in client_local:
                closed.add(client_local[conn])
        return all(got.get(address, 0) >= n for address, n in sent.items() if address not in closed)

    def _as_chapter(self, answer, context: dict):
        """How a check sees this Lab and an answer: with the chapter's addresses, not the practice accounts'."""
        names = self.server.names
        if names is None:
            return answer, context
        answer = chapter_answer(answer, names)
        if context.get("lab") is self:
            context = {**context, "lab": ChapterLab(self)}
        return answer, context

    def view(self, *who, since: str | float = "cell", **criteria):
        """:meth:`Lab.view <xmpplab.lab.Lab.view>`, where a chapter's address (``"user1@server1.com"``) names
        the practice account that plays that person on the class server."""
        names = self.server.names
        if names is not None:
            who = tuple(names.real(w) if isinstance(w, str) and "@" in w else w for w in who)
        return super().view(*who, since=since, **criteria)

    def snapshot(self) -> LabSnapshot:
        """What the Lab knows of the class server (see :meth:`ClassServer.snapshot`)."""
        return LabSnapshot((self.server.snapshot(),), running=self.running)

    @property
    def me(self) -> Client | None:
        """The student's own class account, logged in (the one that reports checks and finds partners)."""
        return self.server.me

    async def connect(self, jid, password: str | None = None, *, create: bool = True, timeout: float = 15.0,
                      **client_options) -> Client:
        """Log in the practice account behind a chapter address (``romeo@example.net/orchard``); see :class:`Lab`."""
        if not self.running:
            raise RuntimeError("this Lab is not running; start one with `lab = await Lab.start()`")
        bare = self._account_jid(jid)
        if not self.server.accounts.exists(bare):
            if not create:
                raise ValueError(f"{bare} has no practice account in this Lab (create=False)")
            self.add_account(bare, password)
        await self.server.ready(bare)
        if password is None:
            password = self._passwords.get(str(bare), self.password)
        try:
            client = await ClassClient.connect(
                self.server.names.real(JID(str(jid))), password, host=self.server.address[0],
                port=self.server.port, verify_tls=False, recorder=self._record if self.record else None,
                conn_id=lambda: self._conn_id(bare.local), timeout=timeout, **client_options)
        except ConnectError:
            if self.server.certificate.refused:  # the proxy's leg to the class server was refused: say why
                raise ConnectError(self.server.certificate.refused) from None
            raise
        client.names, client.removed = self.server.names, self.server.forget
        client.https_pin = (self.server.upstream[0], self.server.certificate)  # its files: the class server's HTTPS
        self.clients.append(client)
        return client

    async def login_for(self, jid, mentions=()) -> Login:
        """Log in for a chapter address as its practice account, through the Lab's proxy (a re-drive of a recording).

        :attr:`Login.addresses` maps each chapter address among ``mentions`` (bare JIDs and domains) onto
        the class server's, so a recording made with ``romeo@example.net`` reaches ``student07.romeo``."""
        if not self.running:
            raise RuntimeError("this Lab is not running; start one with `lab = await Lab.start()`")
        bare = self._account_jid(jid)
        if not self.server.accounts.exists(bare):
            self.add_account(bare)
        await self.server.ready(bare)
        names = self.server.names
        addresses = {}
        for address in mentions:
            try:
                j = JID(str(address))
            except InvalidJID:
                continue
            if names.chapter_domain(j.domain):
                addresses[str(j.bare)] = names.real(str(j.bare))
                addresses[j.domain] = names.real(j.domain)
        return Login(self.server.address[0], self.server.port, names.real(str(JID(str(jid)))),
                     self._passwords.get(str(bare), self.password), addresses)

    async def pair(self, chapter: str = "", *, timeout: float | None = None) -> JID:
        """A classmate for ``chapter``'s partner exercise, found through the class room (:mod:`.partners`); when
        nobody else asks within ``timeout`` s (60, or ``XMPPLAB_PARTNER_WAIT``), a practice account plays them.

        The partner is kept as :attr:`partner`, where the partner exercises' checks find it."""
        wait = partner_wait(timeout)
        classmate = await find_classmate(self.me, chapter, wait)
        if classmate is None:
            return await self._practice_partner(f"No classmate asked for chapter {chapter} within {wait:g} s")
        self.partner, self.practice_partner = classmate, None
        return classmate

    def __repr__(self) -> str:
        return super().__repr__().replace("<xmpplab Lab", "<xmpplab Lab in the class", 1)


def chapter_answer(answer, names: PracticeNames):
    """An answer (XML text, a stanza, a transcript item) as the chapter writes it: practice addresses mapped back."""
    if isinstance(answer, (list, tuple, dict, bool, int, float)) or answer is None:
        return answer
    if isinstance(answer, str):
        text = answer
    elif hasattr(answer, "element") and getattr(answer, "element", None) is not None:  # a transcript Item
        from lxml import etree
        text = etree.tostring(answer.element, encoding="unicode")
    elif hasattr(answer, "xml"):  # a slixmpp stanza
        text = str(answer)
    else:
        return answer
    return names.unrewrite(text) if names.domain in text else answer


def _chapter_event(event: dict, names: PracticeNames) -> dict:
    if "data" not in event and "jid" not in event:
        return event
    event = dict(event)
    if isinstance(event.get("data"), str) and names.domain in event["data"]:
        event["data"] = names.unrewrite(event["data"])
    if event.get("jid"):
        event["jid"] = names.chapter(event["jid"])
    return event


class ChapterLab:
    """A :class:`ClassLab` as the chapter's checks expect it: its transcript written with the chapter's addresses."""

    def __init__(self, lab: ClassLab):
        self._lab = lab
        self._transcript = None

    @property
    def transcript(self):
        """The Lab's recording with every practice address shown as the chapter's (built once per check)."""
        if self._transcript is None:
            from ..transcript import Transcript
            names = self._lab.server.names
            self._transcript = Transcript.from_events([_chapter_event(e, names) for e in self._lab.events],
                                                      recorded_by="xmpplab Lab, as the chapter names it")
        return self._transcript

    def __getattr__(self, name):
        return getattr(self._lab, name)
