"""The loopback XMPP server: listener, sessions, hooks, features and storage.

In a notebook or a test (inside a running event loop)::

    server = await Server(["example.com"]).start()       # an ephemeral port on 127.0.0.1
    server.accounts.add("juliet@example.com", "secret")
    ...
    await server.stop()

or ``async with Server(["example.com"]) as server: ...``. From a shell:
``xmpplab serve --domain example.com``.
"""

from __future__ import annotations

import asyncio
import logging
import time

from .._version import __version__
from ..delegate import delegated
from ..jid import JID, InvalidJID, account_jid
from ..lifecycle import StartStop
from .addresses import only_loopback
from .auth import check_password, make_credentials
from .c2s import C2SSession, State
from .events import Hooks
from .limits import Limits
from .modules import load as load_modules
from .router import Router
from .snapshot import take_snapshot
from .storage import Storage
from .tasks import Tasks
from .throttle import Throttle

log = logging.getLogger("xmpplab.server")

#: Feature modules loaded by default; each is ``xmpplab.server.modules.<name>`` with ``setup(server)``
#: and, when it needs others, ``requires``; in any order.
DEFAULT_MODULES = ("session", "roster", "presence", "disco", "ping", "version", "register", "offline", "muc",
                   "pubsub", "adhoc", "admin", "carbons", "blocking", "csi", "mam", "muc_mam", "vcard", "sm",
                   "upload", "pep", "private", "avatars", "push")


def _component_secrets(components, hosts) -> dict[str, str]:
    """``{"bot.example.com": "secret"}`` checked: each a domain of its own (not one the server serves), a secret."""
    out: dict[str, str] = {}
    for name, secret in (components or {}).items():
        domain = _domain(name, "component name", f"a component serves a domain such as bot.example.com, not {name!r}")
        if domain in hosts:
            raise ValueError(f"{domain} is served by the server itself; give the component a subdomain")
        if not secret:
            raise ValueError(f"the component {domain} needs a shared secret")
        out[domain] = secret
    return out


def _domain(text, what: str, not_a_domain: str) -> str:
    """``text`` as a domain (RFC 7622 3.2); a ValueError of one sentence when it is not a valid address (calling it
    ``what``), or ``not_a_domain`` when it has a user part or a resource."""
    try:
        j = JID(text)
    except InvalidJID as exc:
        raise ValueError(f"bad {what} {text!r}: {exc.reason}") from None
    if j.local is not None or j.resource is not None:
        raise ValueError(not_a_domain)
    return j.domain


class Accounts:
    """Create, remove, list and check user accounts (``server.accounts``)."""

    def __init__(self, server):
        self._server = server

    def _split(self, jid, domain=None) -> tuple[str, str]:
        j = account_jid(jid, domain)  # InvalidJID and a missing user part are ValueErrors of one sentence
        if j.domain not in self._server.hosts:
            served = ", ".join(self._server.hosts)
            raise ValueError(f"this server does not serve {j.domain} (it serves {served})")
        return j.local, j.domain

    def add(self, jid, password: str, domain: str | None = None, *, replace: bool = True,
            credentials=None) -> JID:
        """Create (or with ``replace``, reset the password of) ``juliet@example.com``.

        ``credentials``: the password's keys already made by ``auth.make_credentials`` (off the event loop).
        """
        local, host = self._split(jid, domain)
        if not isinstance(password, str) or not password:
            raise ValueError("the password must be a non-empty string")
        storage = self._server.storage
        if not replace and storage.account_exists(host, local):
            raise ValueError(f"{local}@{host} already exists")
        storage.put_account(host, local, credentials or make_credentials(password, self._server.scram_iterations))
        return JID(local=local, domain=host)

    def remove(self, jid, domain: str | None = None) -> bool:
        """Delete an account with its roster and offline messages; close its sessions."""
        local, host = self._split(jid, domain)
        bare = JID(local=local, domain=host)
        for session in list(self._server.resources(bare)):
            session.close("not-authorized", "this account was removed")
        self._server.hooks.fire("pre-account-removed", bare)
        removed = self._server.storage.delete_account(host, local)
        self._server.hooks.fire("account-removed", bare)
        return removed

    def exists(self, jid, domain: str | None = None) -> bool:
        """Whether the account exists (``jid`` is ``user@domain``, or a local part with ``domain``)."""
        local, host = self._split(jid, domain)
        return self._server.storage.account_exists(host, local)

    def check(self, jid, password: str, domain: str | None = None) -> bool:
        """Whether ``password`` is the account's password (checked against the stored SCRAM keys)."""
        local, host = self._split(jid, domain)
        creds = self._server.storage.get_account(host, local)
        return creds is not None and check_password(creds, password)

    def list(self, domain: str | None = None) -> list[str]:
        """The accounts' bare JIDs as strings, of one domain or of all."""
        return self._server.storage.list_accounts(domain)

    def __iter__(self):
        return iter(self.list())

    def __len__(self) -> int:
        return len(self.list())

    def __contains__(self, jid) -> bool:
        try:
            return self.exists(jid)
        except ValueError:
            return False

    def __repr__(self) -> str:
        names = self.list()
        return f"<Accounts {len(names)}: {', '.join(names[:10])}{' …' if len(names) > 10 else ''}>"


class Server(StartStop):
    """An XMPP server (RFC 6120, RFC 6121) for one or more domains, on loopback by default.

    ``recorder`` is called with one dict per event (connection opened, bytes
    in or out as plaintext above TLS, TLS up, authenticated, bound, closed),
    each with a timestamp ``t`` and the connection id ``conn``.

    ``limits`` (:class:`~xmpplab.server.limits.Limits`) bounds what each peer
    may cost the server and says which peers are local (loopback by default);
    ``max_stanza_bytes`` and ``negotiation_timeout`` override its fields.

    Peers that are not local get TLS first (only STARTTLS is offered before it); ``require_tls`` asks the
    same of local peers. ``tls=False`` is allowed only when every ``host`` is loopback.

    ``components`` (``{"bot.example.com": "secret"}``) may connect on ``component_port``, on loopback only,
    and serve their domains (XEP-0114, :mod:`~xmpplab.server.component`).

    ``direct_tls_port`` serves clients that start TLS at once, without STARTTLS (XEP-0368, ALPN
    ``xmpp-client``).

    ``http_port`` also serves XMPP over WebSocket (RFC 7395) and XEP-0156 discovery for browser
    clients (:mod:`~xmpplab.server.websocket`): ``wss://`` while TLS is on, ``ws://`` without it.
    """

    def __init__(self, domains=("example.com",), *, host: str | list[str] = "127.0.0.1", port: int = 0,
                 db: str | None = None, register: bool = False, recorder=None, tls: bool = True,
                 require_tls: bool = False, max_stanza_bytes: int | None = None, modules=DEFAULT_MODULES,
                 scram_iterations: int = 4096, name: str = "xmpplab", version: str = __version__,
                 tls_cert: str | None = None, tls_key: str | None = None, negotiation_timeout: float | None = None,
                 s2s_port: int | None = None, peers: dict | None = None, conn_prefix: str = "",
                 tls_ca: str | None = None, limits: Limits | None = None, http_port: int | None = None,
                 direct_tls_port: int | None = None, components: dict[str, str] | None = None,
                 component_port: int | None = None):
        if isinstance(domains, str):
            domains = [domains]
        hosts = []
        for d in domains:
            domain = _domain(d, "domain", f"{d!r} is not a domain: give example.com, not a user's address")
            if domain not in hosts:
                hosts.append(domain)
        if not hosts:
            raise ValueError("give at least one domain to serve, e.g. example.com")
        for what, value in (("port", port), ("s2s port", s2s_port), ("HTTP port", http_port),
                            ("direct TLS port", direct_tls_port), ("component port", component_port)):
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 65535):
                raise ValueError(f"the {what} must be a number from 0 to 65535, not {value!r}")
        if not tls and not only_loopback(host):
            raise ValueError(f"TLS can be switched off only when the server listens on loopback alone (not on "
                             f"{host or 'every interface'!r}), or passwords would cross the network in clear")
        if direct_tls_port is not None and not tls:
            raise ValueError("a direct TLS port (--direct-tls-port) needs TLS: leave out tls=False (--no-tls)")
        if require_tls and not tls:
            raise ValueError("require_tls (--require-tls) cannot go with tls=False (--no-tls): it asks for TLS first")
        limits = limits if limits is not None else Limits()
        if not isinstance(limits, Limits):
            raise ValueError(f"limits must be a Limits(...), not {limits!r}")
        overrides = {k: v for k, v in (("max_stanza_bytes", max_stanza_bytes),
                                       ("negotiation_timeout", negotiation_timeout)) if v is not None}
        self.limits: Limits = limits.replace(**overrides) if overrides else limits
        self.throttle = Throttle(self.limits)  # per-address counters (failed logins, registrations, connections)
        self.hosts: list[str] = hosts
        self.default_domain = hosts[0]
        self.bind_host = host
        self.requested_port = port
        self.port: int | None = None
        self.db_path = db
        self.allow_registration = register
        self.recorder = recorder
        self.use_tls = tls
        self.tls_cert, self.tls_key = tls_cert, tls_key
        self.tls_ca = tls_ca  # a CA (PEM with key) signing our certificate; peers it signed may use SASL EXTERNAL
        self.require_tls = require_tls
        self.scram_iterations = scram_iterations
        self.name = name
        self.version = version
        self.tls_context = None
        self.storage = Storage(db, writable=True)  # StorageUnavailable: one sentence, before anything starts
        self.accounts = Accounts(self)
        self.hooks = Hooks()
        self.tasks = Tasks(f"server {hosts[0]}")  # every background task, the sessions' too (server/tasks.py)
        self.slots: dict = {}  # the modules' state on this server (server/slots.py)
        self.provided: dict[str, object] = {}  # what modules show notebooks: server.muc, server.roster_item
        self.router = Router(self)
        self.components: dict[str, object] = {}  # domain -> handler(event), e.g. the MUC service
        self.connections: set = set()
        self._conn_seq: dict[str, int] = {}
        self.conn_prefix = conn_prefix  # e.g. "server1.com:" when several servers share one recorder
        self.sessions: dict[JID, dict[str, C2SSession]] = {}
        self._pending_iqs: dict[str, object] = {}
        self._listeners: list[asyncio.base_events.Server] = []
        self.requested_s2s_port = s2s_port
        self.s2s_port: int | None = None
        self.requested_http_port = http_port  # XMPP over WebSocket (RFC 7395), see server/websocket.py
        self.http_port: int | None = None
        self.component_secrets: dict[str, str] = _component_secrets(components, hosts)  # XEP-0114, server/component.py
        if component_port is not None and not self.component_secrets:
            raise ValueError("a component port (--component-port) needs components to serve: name them with "
                             "components={'bot.example.com': 'secret'} (--component bot.example.com=secret)")
        self.requested_component_port = component_port
        self.component_port: int | None = None
        if self.component_secrets:  # connected external components are services of this server (XEP-0030)
            self.hooks.add("disco-items/host", lambda query: [(d, None) for d in self.component_secrets
                                                              if d in self.components])
        self.requested_direct_tls_port = direct_tls_port  # XEP-0368: TLS from the first byte, see c2s.DirectTLS
        self.direct_tls_port: int | None = None
        from .s2s import S2SManager
        self.s2s = S2SManager(self, peers)
        self.started_at: float | None = None
        self.module_names = load_modules(self, modules)  # MissingModule: one sentence, before anything starts

    # life cycle -------------------------------------------------------------
    async def start(self) -> Server:
        """Listen (on an ephemeral port when ``port=0``); return self once connections are accepted."""
        if self._listeners:
            return self
        if self.use_tls and self.tls_context is None:
            from .tls import server_context
            self.tls_context = await asyncio.get_running_loop().run_in_executor(
                None, server_context, self.hosts, self.tls_cert, self.tls_key, self.tls_ca)
        loop = asyncio.get_running_loop()
        self.port = await self._listen(lambda: C2SSession(self), self.bind_host, self.requested_port, "",
                                       backlog=1024)
        if self.requested_s2s_port is not None:
            from .s2s import S2SIncoming
            self.s2s_port = await self._listen(lambda: S2SIncoming(self), self.bind_host, self.requested_s2s_port,
                                               " for servers", backlog=1024)
        if self.requested_direct_tls_port is not None:
            from .c2s import DirectTLSSession, direct_tls_context
            from .tls import server_context
            ctx = direct_tls_context(await loop.run_in_executor(None, server_context, self.hosts, self.tls_cert,
                                                                self.tls_key, self.tls_ca))
            self.direct_tls_port = await self._listen(
                lambda: DirectTLSSession(self), self.bind_host, self.requested_direct_tls_port, " for direct TLS",
                ssl=ctx, backlog=1024, ssl_handshake_timeout=10)
        if self.requested_component_port is not None:
            from .component import COMPONENT_HOST, ComponentConnection
            self.component_port = await self._listen(lambda: ComponentConnection(self), COMPONENT_HOST,
                                                     self.requested_component_port, " for components")
        if self.requested_http_port is not None:
            from .websocket import listen
            try:
                web = await listen(self, self.bind_host, self.requested_http_port)
            except OSError:
                for other in self._listeners:
                    other.close()
                self._listeners.clear()
                raise
            self._listeners.append(web)
            self.http_port = web.port
        self.started_at = time.time()
        self.hooks.fire("server-started", self)
        return self

    async def _listen(self, factory, host, port: int, what: str, **options) -> int:
        """Listen on ``host:port`` for ``factory``'s connections; return the port. When it cannot, the listeners
        opened so far are closed and the error says which port, in one sentence."""
        try:
            listener = await asyncio.get_running_loop().create_server(factory, host, port, reuse_address=True,
                                                                      **options)
        except OSError as exc:
            for other in self._listeners:
                other.close()
            self._listeners.clear()
            raise OSError(exc.errno, f"cannot listen{what} on {host} port {port}: {exc.strerror}") from None
        self._listeners.append(listener)
        return listener.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close every connection (``system-shutdown``), stop listening and close storage."""
        for listener in self._listeners:
            listener.close()
        self.s2s.close_all()
        for session in list(self.connections):
            session.close("system-shutdown", "the server is stopping")
        for listener in self._listeners:
            try:
                await asyncio.wait_for(listener.wait_closed(), 2)
            except TimeoutError:
                log.warning("%s: connections were still open 2 s after the server closed them", self.tasks.owner)
        self._listeners.clear()
        await self.tasks.stop()  # the sessions' tasks and the server's own: none left pending
        self.hooks.fire("server-stopped", self)
        self.storage.close()

    max_stanza_bytes = delegated("limits.max_stanza_bytes",
                                 "The largest stanza a peer may send (``limits.max_stanza_bytes``).")
    negotiation_timeout = delegated("limits.negotiation_timeout", "Seconds from connecting to a bound resource.")

    def is_local(self, addr) -> bool:
        """Whether a peer counts as local (``limits.local_networks``; the loopback addresses by default)."""
        return self.limits.is_local(addr)

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return bool(self._listeners)

    @property
    def address(self) -> tuple[str, int | None]:
        """The first listening address and the port, as ``(host, port)``."""
        return (self.bind_host if isinstance(self.bind_host, str) else self.bind_host[0], self.port)

    def snapshot(self):
        """What this server holds now, as plain immutable data (:class:`xmpplab.snapshot.ServerSnapshot`)."""
        return take_snapshot(self)

    # extension API --------------------------------------------------------
    def hook(self, name: str, handler, priority: int = 0) -> None:
        """Call ``handler(event)`` for the event ``name``; return True from it to claim the stanza."""
        self.hooks.add(name, handler, priority)

    def hook_iq(self, payload: str, **handlers) -> None:
        """Hook the iq handlers of one payload (``namespace:element``) by type and addressee: ``get_self=own``
        handles the event ``iq-get/self/<payload>`` (names in :mod:`.events`)."""
        for key, handler in handlers.items():
            kind, _, to = key.partition("_")
            if kind not in ("get", "set") or to not in ("self", "bare", "full", "host"):
                raise ValueError(f"hook_iq takes get_self, set_bare... (iq type, then addressee), not {key}")
            self.hooks.add(f"iq-{kind}/{to}/{payload}", handler)

    def add_component(self, domain: str, handler) -> None:
        """Serve ``domain`` (e.g. ``conference.example.com``) with ``handler(event)`` for every stanza to it."""
        self.components[JID(domain).domain] = handler

    def add_feature(self, var: str, host: str = "*") -> None:
        """Advertise a disco#info feature (XEP-0030) on the server's JID: a ``disco-features/host`` handler."""
        self.hooks.add("disco-features/host", lambda query: (var,) if host in ("*", query.host) else ())

    def provide(self, name: str, value) -> None:
        """Show a module's state to notebooks and tests as ``server.<name>`` (modules read slots instead)."""
        if name in self.provided or name in self.__dict__ or hasattr(type(self), name):
            raise ValueError(f"server.{name} is taken: two modules cannot provide the same name")
        self.provided[name] = value

    def __getattr__(self, name: str):
        provided = self.__dict__.get("provided")
        if provided is not None and name in provided:
            return provided[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def record(self, conn: str, type_: str, **fields) -> None:
        """Pass one event to the ``recorder`` with its time and connection id; a failing recorder is switched off."""
        fields["t"] = time.time()
        fields["conn"] = conn
        fields["type"] = type_
        try:
            self.recorder(fields)
        except Exception:
            log.exception("the recorder failed; recording is switched off")
            self.recorder = None

    # sessions ---------------------------------------------------------------
    def next_conn_id(self, kind: str) -> str:
        """Connection ids, numbered per server: c2s-1, c2s-2, …"""
        self._conn_seq[kind] = self._conn_seq.get(kind, 0) + 1
        return f"{self.conn_prefix}{kind}-{self._conn_seq[kind]}"

    def bind(self, session, jid: JID) -> JID | None:
        """Register a bound resource; an older session with the same resource is closed (RFC 6120 7.7.2.2)."""
        old = self.sessions.get(jid.bare, {}).get(jid.resource)
        if old is not None and old is not session:
            old.close("conflict", "replaced by a new connection with the same resource")
        # after the close: the account's table went with its last session, so take it (or a new one) now
        self.sessions.setdefault(jid.bare, {})[jid.resource] = session
        session.jid_str = str(jid)
        return jid

    def session_closed(self, session) -> None:
        """Forget a bound resource when its session ends and fire ``session-closed`` (once per session)."""
        jid = session.jid
        if jid is None or getattr(session, "_unregistered", False):
            return
        session._unregistered = True
        resources = self.sessions.get(jid.bare)
        if resources and resources.get(jid.resource) is session:
            del resources[jid.resource]
            if not resources:
                del self.sessions[jid.bare]
        self.hooks.fire("session-closed", session)

    def session_for(self, jid: JID):
        """The connected session of a full JID, or None."""
        resources = self.sessions.get(jid.bare)
        if resources:
            return resources.get(jid.resource)
        return None

    def resources(self, bare: JID) -> list:
        """The connected sessions of an account."""
        resources = self.sessions.get(bare)
        return list(resources.values()) if resources else []

    def user_exists(self, jid: JID) -> bool:
        """Whether the bare JID is an account of a local host, or has a session right now."""
        bare = jid.bare
        if bare in self.sessions:
            return True
        return bare.domain in self.hosts and bare.local is not None and \
            self.storage.account_exists(bare.domain, bare.local)

    # sending ------------------------------------------------------------------
    def route(self, stanza) -> None:
        """Send a stanza the server made to wherever its ``to`` points."""
        self.router.route(stanza)

    def send_back(self, reply, event) -> None:
        """Send a reply to the event's sender: on its own stream when it is a ready client, else through the router."""
        origin = event.origin
        if origin is not None and getattr(origin, "state", None) is State.READY and \
                reply.get("to") in (None, origin.jid_str, str(origin.jid.bare)):
            # An answer to the sender, also when its stanza was stamped with the bare JID
            # (subscription presence, RFC 6121 3.1.2): it goes back on the sender's own stream.
            origin.send(reply)
        else:
            self.router.route(reply)

    def send_iq(self, iq, callback) -> None:
        """Send an iq from the server and call ``callback(event)`` with its result or error."""
        self._pending_iqs[iq.get("id")] = callback
        self.route(iq)

    def iq_response(self, event) -> None:
        """Hand a result or error to the callback :meth:`send_iq` left for its id."""
        callback = self._pending_iqs.pop(event.stanza.get("id"), None)
        if callback is not None:
            callback(event)

    def __repr__(self) -> str:
        where = f"{self.address[0]}:{self.port}" if self.running else "stopped"
        online = sum(len(r) for r in self.sessions.values())
        return f"<xmpplab Server {', '.join(self.hosts)} on {where}, {online} online>"
