"""The Lab: loopback XMPP servers and recording clients in the notebook's own event loop.

In a Jupyter cell (top-level ``await``; no nest_asyncio, no thread)::

    from xmpplab.lab import Lab
    lab = await Lab.start()                                   # example.com and example.net on 127.0.0.1
    juliet = await lab.connect("juliet@example.com/balcony")  # the account is created on demand
    romeo = await lab.connect("romeo@example.net/orchard")
    await juliet.send_message("romeo@example.net", "Art thou not Romeo?")
    msg = await romeo.next("message")
    lab.view(juliet, romeo)                                   # what this cell did, both streams, in order
    lab.events                                                # every byte of every stream, both sides
    await lab.stop()

:meth:`Lab.view` shows what happened since the current cell began (the Lab
marks each cell's start in a Jupyter kernel; :meth:`Lab.mark` elsewhere), so
a notebook needs no ``since = time.time()``; ``since="start"`` shows it all.

Running the cell again (or Run All twice) is safe: :meth:`Lab.start` first
stops the Labs started earlier in the same event loop, so no server is left
listening. In a script or a test, ``async with Lab.start() as lab:`` stops
everything on the way out. A script with no event loop of its own can use
:func:`run` (``xmpplab.lab.run(main)`` with ``async def main(lab)``) or
:class:`SyncLab`, whose methods block::

    with SyncLab() as lab:
        juliet = lab.connect("juliet@example.com/balcony")
        romeo = lab.connect("romeo@example.net/orchard")
        juliet.send_message("romeo@example.net", "hello")
        print(romeo.next("message")["body"])

Both recorders, the server's and every client's, write into one list,
:attr:`Lab.events`: a client's connection is ``client-juliet-1`` (role
"initiating"), the server's side of it ``c2s-1`` (role "receiving"), and the
client's ``local`` address is the server connection's ``peer``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import NamedTuple, Self

from .alternatives import chosen_lab
from .cells import CellMarks, select
from .client import Client
from .display import Shown
from .jid import JID
from .server import Server
from .snapshot import LabSnapshot

log = logging.getLogger("xmpplab.lab")

__all__ = ["DEFAULT_DOMAINS", "DEFAULT_PASSWORD", "Lab", "SyncClient", "SyncLab", "run", "running_labs"]

DEFAULT_DOMAINS = ("example.com", "example.net")
#: The password of accounts the Lab creates on demand (loopback only; never use it for anything real).
DEFAULT_PASSWORD = "secret"
#: Who plays the partner of an exercise that needs two people when no classmate does (:meth:`Lab.pair`).
PRACTICE_PARTNER = "benvolio"

#: Labs started and not stopped yet, in any event loop. Lab.start() stops those of its own loop
#: and forgets those whose loop is closed.
_running: list[Lab] = []


class Lab(Shown):
    """One loopback server for several domains, the clients connected to it, and the recording of it all.

    Make one with ``lab = await Lab.start(...)`` (or ``async with Lab.start(...) as lab:``);
    the arguments are the same for both:

    ``domains``
        the domains served (one :class:`~xmpplab.server.Server` serves them all).
    ``federate``
        give each domain a server of its own, federated with the others over real
        server-to-server streams on loopback (STARTTLS, then Server Dialback; with
        ``external=True`` the servers get certificates from the lab's own CA and authenticate
        each other with SASL EXTERNAL instead) (``Lab.start(["server1.com", "server2.com",
        "server3.com"], federate=True)``); connection ids then start with the domain
        (``server1.com:c2s-1``).
    ``password``
        the password of accounts created on demand by :meth:`connect`.
    ``record``
        keep every event in :attr:`events` (on by default).
    ``replace``
        (``Lab.start`` only) stop the Labs started earlier in this event loop first (default True).

    Other keyword arguments go to :class:`~xmpplab.server.Server` (``port``,
    ``db``, ``register``, ``tls``, ``require_tls``, ``modules``, ...).
    """

    def __init__(self, domains=DEFAULT_DOMAINS, *, host: str = "127.0.0.1", port: int = 0,
                 register: bool = True, password: str = DEFAULT_PASSWORD, record: bool = True,
                 federate: bool = False, external: bool = False, **server_options):
        self.events: list[dict] = []
        self.clients: list[Client] = []
        self.partner: JID | None = None  # found by pair(), for the exercises that need two people
        self.practice_partner: Client | None = None  # the practice account that plays the partner, if one does
        self.password = password
        self.record = record
        self.replaced: list[str] = []
        self._passwords: dict[str, str] = {}
        self._conn_numbers: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = False
        self._transcript = None
        self._transcript_failed = False
        self.cells = CellMarks(lambda: len(self.events))
        recorder = self._record if record else None
        if isinstance(domains, str):
            domains = [domains]
        if federate:
            if port:
                raise ValueError("a federated Lab picks a free port for each server; leave port at 0")
            if external and not server_options.get("tls_ca"):  # the lab's CA: servers authenticate each other
                from .server.tls import lab_ca
                server_options["tls_ca"] = str(lab_ca())
            self._servers = [Server([d], host=host, port=0, register=register, recorder=recorder, s2s_port=0,
                                    conn_prefix=f"{d}:", **server_options) for d in domains]
        else:
            self._servers = [Server(domains, host=host, port=port, register=register, recorder=recorder,
                                    **server_options)]
        self.server = self._servers[0]
        self.federated = federate

    # ------------------------------------------------------------------ life cycle
    @classmethod
    def start(cls, domains=DEFAULT_DOMAINS, *, replace: bool = True, private: bool = False,
              **options) -> _Starting:
        """Start a Lab: ``lab = await Lab.start()``, or ``async with Lab.start() as lab:``.

        With ``replace`` (the default) the Labs started earlier in this event
        loop are stopped first, so re-running a notebook cell leaves one Lab.
        When the kernel works in a class (``XMPPLAB_SERVER`` and ``XMPPLAB_ACCOUNT``,
        or :func:`xmpplab.classroom.use_class`), the Lab uses the class server instead
        of a private one (:class:`xmpplab.classroom.remote.ClassLab`), unless ``private``
        or the options need a server of its own (``federate``, ``db``, ...).
        """
        if cls is Lab:
            lab = chosen_lab(domains, options, private)  # the class server's, when this kernel works in a class
            if lab is not None:
                return _Starting(lab, replace)
        return _Starting(cls(domains, **options), replace)

    async def _start(self, replace: bool = True) -> Lab:
        loop = asyncio.get_running_loop()
        if self._stopped:
            raise RuntimeError("this Lab was stopped; start a new one with `lab = await Lab.start()`")
        if self._loop is not None:
            return self
        for old in list(_running):  # noqa: PERF101 (stop() removes from _running)
            if old._loop is None or old._loop.is_closed():
                old._abandon()
            elif replace and old._loop is loop and old is not self:
                log.info("stopping the Lab started earlier in this event loop: %r", old)
                self.replaced.append(repr(old))
                await old.stop()
        self._loop = loop
        await self._start_servers()
        _running.append(self)
        self.cells.follow()  # in a Jupyter kernel, each cell start is a mark for view()
        log.info("started %r", self)
        return self

    async def _start_servers(self) -> None:
        for server in self._servers:
            await server.start()
        for server in self._servers:  # a static host map: every server knows where the others listen
            for other in self._servers:
                if other is not server:
                    for domain in other.hosts:
                        server.s2s.add_peer(domain, other.address[0], other.s2s_port)

    async def stop(self) -> None:
        """Disconnect every client, stop the server; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self.cells.unfollow()
        try:
            await asyncio.gather(*(client.disconnect(timeout=2) for client in self.clients),
                                 return_exceptions=True)
            for server in self._servers:
                await server.stop()
        finally:
            if self in _running:
                _running.remove(self)

    def _abandon(self) -> None:
        """Forget a Lab whose event loop is closed (nothing can be awaited there any more)."""
        self._stopped = True
        self.cells.unfollow()
        if self in _running:
            _running.remove(self)
        for listener in [li for server in self._servers for li in getattr(server, "_listeners", [])]:
            for sock in listener.sockets:
                raw = getattr(sock, "_sock", None)   # the socket under asyncio's TransportSocket
                if raw is not None:
                    raw.close()
        log.info("forgot %r: its event loop is closed", self)

    async def __aenter__(self) -> Self:
        return await self._start(replace=False)

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    @property
    def running(self) -> bool:
        """True while every server of the Lab runs and the Lab was not stopped."""
        return all(server.running for server in self._servers) and not self._stopped

    # ------------------------------------------------------------------ what it holds
    @property
    def servers(self) -> list[Server]:
        """The servers of this Lab: one serving every domain, or one per domain when federated."""
        return list(self._servers)

    def snapshot(self) -> LabSnapshot:
        """What the Lab's servers hold now, as plain immutable data (what the graph, the board and the card draw)."""
        return LabSnapshot(tuple(server.snapshot() for server in self._servers), running=self.running,
                           federated=bool(self.federated))

    @property
    def domains(self) -> list[str]:
        """The domains the Lab's servers host."""
        return [host for server in self._servers for host in server.hosts]

    def server_for(self, domain: str) -> Server:
        """The server that hosts ``domain``."""
        domain = JID(str(domain)).domain
        for server in self._servers:
            if domain in server.hosts:
                return server
        raise ValueError(f"this Lab serves {', '.join(self.domains)}, not {domain}")

    @property
    def transcript(self):
        """Every connection's recording as an :class:`xmpplab.transcript.Transcript`, kept up to date."""
        if self._transcript is None:
            try:
                from .transcript import Transcript
            except ImportError:
                raise RuntimeError("xmpplab.transcript is not available in this install; "
                                   "the raw events are in lab.events") from None
            self._transcript = Transcript.from_events(list(self.events), recorded_by="xmpplab Lab")
            self._transcript_failed = False
        return self._transcript

    def view(self, *who, since: str | float = "cell", **criteria):
        """What happened in this cell, as a stream view: ``lab.view(juliet, romeo)``.

        ``who``: the clients (or JIDs, ``"juliet@example.com"`` for all her resources, or connection
        ids) whose streams to show; none: every client's stream and every server-to-server stream.
        Several streams are shown in the order things happened, each line labelled with its stream.
        ``since``: ``"cell"`` (the default) shows only what was recorded since the current cell began
        (in Jupyter the Lab marks each cell's start; elsewhere call :meth:`mark`); ``"start"`` shows
        everything. Other keywords narrow it as :meth:`Transcript.filter
        <xmpplab.transcript.Transcript.filter>` does: ``lab.view(romeo, kind="message")``.
        The result is a :class:`~xmpplab.transcript.Selection`: keep it in a variable to look at the
        same exchange again in a later cell (``sequence_chart(exchange)``).
        """
        if not self.record:
            raise RuntimeError("this Lab records nothing (record=False), so there is nothing to view")
        return select(self.transcript, self.cells.start, who, since, **criteria)

    def mark(self) -> int:
        """A new "cell" begins now: :meth:`view` shows only what is recorded after this call.

        A Jupyter kernel does this by itself at the start of every cell; a script or a test calls
        it where its "cell" begins. Returns the position in :attr:`events`.
        """
        return self.cells.mark()

    def _record(self, event: dict) -> None:
        self.events.append(event)
        if self._transcript is not None and not self._transcript_failed:
            try:
                self._transcript.add(event)
            except Exception:
                log.exception("the transcript could not take an event; lab.events still has everything")
                self._transcript_failed = True
                self._transcript = None

    def __repr__(self) -> str:
        state = ("on " + ", ".join(f"{s.address[0]}:{s.port}" for s in self._servers)) if self.running \
            else "stopped"
        online = sum(1 for c in self.clients if c.connected)
        text = (f"<xmpplab Lab {', '.join(self.domains)} {state}: {online} client{'s' if online != 1 else ''} "
                f"connected, {len(self.events)} events")
        if self.replaced:
            text += f"; stopped {len(self.replaced)} earlier Lab{'s' if len(self.replaced) != 1 else ''} first"
        return text + ">"

    # ------------------------------------------------------------------ accounts and clients
    def add_account(self, jid, password: str | None = None) -> JID:
        """Create ``juliet@example.com`` (or reset its password); return its bare JID."""
        bare = self._account_jid(jid)
        password = password or self.password
        self.server_for(bare.domain).accounts.add(bare, password)
        self._passwords[str(bare)] = password
        return bare

    def _account_jid(self, jid) -> JID:
        j = JID(str(jid))
        if j.local is None:
            raise ValueError(f"{jid!r} has no user part: an account looks like juliet@example.com")
        if j.domain not in self.domains:
            raise ValueError(f"this Lab serves {', '.join(self.domains)}, not {j.domain}; "
                             "connect to another server with xmpplab.client.Client.connect(..., host=, port=)")
        return j.bare

    async def connect(self, jid, password: str | None = None, *, create: bool = True, timeout: float = 15.0,
                      **client_options) -> Client:
        """Log in as ``jid`` (``"juliet@example.com/balcony"``) and return the :class:`~xmpplab.client.Client`.

        A missing account is created with ``password`` (default
        :attr:`password`) unless ``create=False``. For an existing account,
        ``password`` is what the client sends, so a wrong one shows a failed
        login. Without a resource the server picks one. Other keywords go to
        :meth:`Client.connect <xmpplab.client.Client.connect>` (``presence``,
        ``sasl_mechanism``, ``starttls``, ``auto_approve``, ...).
        """
        if not self.running:
            raise RuntimeError("this Lab is not running; start one with `lab = await Lab.start()`")
        bare = self._account_jid(jid)
        key = str(bare)
        server = self.server_for(bare.domain)
        if not server.accounts.exists(bare):
            if not create:
                raise ValueError(f"{bare} has no account here (create=False)")
            self.add_account(bare, password)
        if password is None:
            password = self._passwords.get(key, self.password)
        client = await Client.connect(
            str(JID(str(jid))), password, host=server.address[0], port=server.port,
            verify_tls=False, recorder=self._record if self.record else None,
            conn_id=lambda: self._conn_id(bare.local), timeout=timeout, **client_options)
        self.clients.append(client)
        return client

    async def login_for(self, jid, mentions=()) -> Login:
        """Where and as whom a hand-made client logs in for ``jid`` (a re-drive): the account is made on demand.

        ``mentions`` are other addresses the client will write; :attr:`Login.addresses` maps those that
        this Lab serves under another name (none on a Lab's own servers; a class Lab's practice accounts).
        """
        bare = self._account_jid(jid)
        server = self.server_for(bare.domain)
        if not server.accounts.exists(bare):
            self.add_account(bare)
        return Login(server.address[0], server.port, str(JID(str(jid))),
                     self._passwords.get(str(bare), self.password), {})

    async def pair(self, chapter: str = "", *, timeout: float | None = None) -> JID:
        """A partner for ``chapter``'s exercise that needs two people (03, 06); on a server of one's own, a practice
        account plays them (on a class server, a classmate: :meth:`ClassLab.pair
        <xmpplab.classroom.remote.ClassLab.pair>`, which waits at most ``timeout`` s for one). Kept as
        :attr:`partner`; the practice client as :attr:`practice_partner`."""
        return await self._practice_partner("On a server of your own")

    async def _practice_partner(self, why: str) -> JID:
        """Log in the practice account that plays the partner (``benvolio``), say so in one line, return its address."""
        address = JID(f"{PRACTICE_PARTNER}@{self.domains[-1]}")
        client = self.practice_partner
        if client is None or not client.connected:
            client = await self.connect(f"{address}/street")
        self.partner, self.practice_partner = address, client
        print(f"{why}: {PRACTICE_PARTNER.capitalize()} ({client.jid.bare}), a practice account, plays your partner.")
        return address

    def _conn_id(self, name: str) -> str:
        number = self._conn_numbers.get(name, 0) + 1
        self._conn_numbers[name] = number
        return f"client-{name}-{number}"


class Login(NamedTuple):
    """What :meth:`Lab.login_for` gives: the server's host and port, the JID and password, the address map."""

    host: str
    port: int
    jid: str
    password: str
    addresses: dict


class _Starting:
    """What ``Lab.start(...)`` returns: await it for the Lab, or use it with ``async with``."""

    def __init__(self, lab: Lab, replace: bool):
        self._lab = lab
        self._replace = replace

    def __await__(self):
        return self._lab._start(self._replace).__await__()

    async def __aenter__(self) -> Lab:
        return await self._lab._start(self._replace)

    async def __aexit__(self, *exc) -> None:
        await self._lab.stop()

    def __repr__(self) -> str:
        return "<Lab.start(...), not started yet: write `lab = await Lab.start(...)`>"


# ---------------------------------------------------------------------- without an event loop
def _refuse_inside_loop(what: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        f"{what} runs its own event loop, so it cannot be used where one is already running "
        "(a Jupyter notebook, an async function). There, use the async API: "
        "`lab = await xmpplab.lab.Lab.start()`, then `juliet = await lab.connect(...)`.")


def run(main, /, *args, **lab_options):
    """Run ``async def main(lab, *args)`` with a fresh Lab, from a script with no event loop; return its result.

    Everything the Lab started is stopped when ``main`` returns or fails.
    Inside a running event loop this refuses: use ``await Lab.start()`` there.
    """
    _refuse_inside_loop("xmpplab.lab.run()")

    async def with_lab():
        async with Lab.start(replace=False, **lab_options) as lab:
            return await main(lab, *args)

    return asyncio.run(with_lab())


class SyncLab(Shown):
    """A :class:`Lab` whose methods block, for scripts that are not inside an event loop.

    ``SyncLab(...)`` starts at once (same arguments as :meth:`Lab.start`);
    every coroutine method of the Lab and of its clients becomes a plain
    call that runs the event loop until it is done. Between calls the loop
    is paused: stanzas wait in the sockets until the next call. Use it with
    ``with SyncLab() as lab:`` or call :meth:`stop`. The asynchronous Lab is
    :attr:`lab`.
    """

    def __init__(self, domains=DEFAULT_DOMAINS, **options):
        _refuse_inside_loop("SyncLab")
        self._runner = asyncio.Runner()
        try:
            self.lab: Lab = self._runner.run(Lab(domains, **options)._start(replace=False))
        except BaseException:
            self._runner.close()
            raise

    def _run(self, coro):
        if self._runner is None:
            coro.close()
            raise RuntimeError("this SyncLab was stopped")
        try:
            _refuse_inside_loop("SyncLab")
        except RuntimeError:
            coro.close()
            raise
        return _blocking(self, self._runner.run(coro))

    def stop(self) -> None:
        """Stop the Lab and close its event loop; safe to call twice."""
        if self._runner is None:
            return
        try:
            self._runner.run(self.lab.stop())
        finally:
            self._runner.close()
            self._runner = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __getattr__(self, name):
        return _blocking(self, getattr(self.lab, name))

    def __repr__(self) -> str:
        return repr(self.lab).replace("<xmpplab Lab", "<xmpplab SyncLab", 1)


class SyncClient(Shown):
    """A :class:`~xmpplab.client.Client` whose coroutine methods block (made by :class:`SyncLab`)."""

    def __init__(self, owner: SyncLab, client: Client):
        self._owner = owner
        self.client = client

    def __getattr__(self, name):
        return _blocking(self._owner, getattr(self.client, name))

    def __repr__(self) -> str:
        return repr(self.client).replace("<xmpplab Client", "<xmpplab SyncClient", 1)


def _blocking(owner: SyncLab, value):
    """Turn a coroutine method into a blocking call and a Client into a SyncClient."""
    if isinstance(value, Client):
        return SyncClient(owner, value)
    if inspect.iscoroutinefunction(value):
        def call(*args, **kwargs):
            return owner._run(value(*args, **kwargs))
        call.__name__ = value.__name__
        call.__doc__ = value.__doc__
        return call
    return value


def running_labs() -> list[Lab]:
    """The Labs started and not stopped yet (in any event loop)."""
    return list(_running)
