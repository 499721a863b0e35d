"""Start a real Prosody on loopback, for tests and benchmarks.

Prosody is a mature XMPP server written in Lua; Debian packages it as
``prosody``.  xmpplab uses it as a reference peer: tests check that the
learning server and its clients interoperate with it, and the benchmarks
compare the two side by side.

The launcher never touches the system service.  It writes its own config and
data folder into a temporary directory, generates a self-signed certificate
when TLS is wanted, runs ``prosody --config FILE -F`` (foreground) as a child
process and waits until the client port accepts connections::

    from xmpplab.testing.prosody import ProsodyServer, prosody_path

    if prosody_path() is None:
        ...  # skip: Prosody is not installed

    async with ProsodyServer(domains=["example.com"], tls=False) as prosody:
        await prosody.aregister("alice", "example.com", "secret")
        connect_to(prosody.host, prosody.port)

    # or without asyncio
    with ProsodyServer() as prosody:
        prosody.register("alice", "example.com", "secret")

Facts about the Debian package (0.12) that shape this module:

* ``prosody`` refuses to run as root (mod_posix) and, unlike ``prosodyctl``,
  does not switch user by itself.  When we are root the child is started as
  the ``prosody`` user, who therefore has to own the temporary folder.
* Now and then it exits right after start; :meth:`ProsodyServer.start` waits
  for the port and retries a start that died early.
* ``mod_limits`` throttles c2s traffic (a loopback benchmark would measure the
  throttle), so it is disabled by default.
* ``prosodyctl register`` takes about a second per account; in-band
  registration (XEP-0077) over loopback takes milliseconds, so
  :meth:`ProsodyServer.register` uses it whenever the server allows it.
* ``prosody --version`` hangs; :func:`prosody_version` asks
  ``prosodyctl about`` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..escape import escape_attr as _xml_escape
from .external import ExternalServer, RegistrationError, free_port

__all__ = [
    "ProsodyError",
    "ProsodyServer",
    "RegistrationError",
    "free_port",
    "prosody_path",
    "prosody_version",
]

#: Modules every launched Prosody loads (besides Prosody's own autoloaded
#: ones: presence, message, iq, c2s, s2s, offline, posix).
BASE_MODULES = ("roster", "saslauth", "disco", "ping")

STREAM_NS = "http://etherx.jabber.org/streams"
REGISTER_NS = "jabber:iq:register"


class ProsodyError(RuntimeError):
    """Prosody could not be started, or misbehaved."""


def prosody_path() -> str | None:
    """Return the path of the ``prosody`` binary, or None when not installed."""
    return shutil.which("prosody")


def prosodyctl_path() -> str | None:
    """Return the path of ``prosodyctl``, or None when not installed."""
    return shutil.which("prosodyctl")


def prosody_version(timeout: float = 20.0) -> str | None:
    """Return Prosody's version (e.g. ``"0.12.3"``), or None if unknown.

    Uses ``prosodyctl about``, because ``prosody --version`` hangs.
    """
    ctl = prosodyctl_path()
    if ctl is None:
        return None
    try:
        out = subprocess.run(
            [ctl, "about"], capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"^Prosody (\d[\w.+~-]*)", out, re.MULTILINE)
    return match.group(1) if match else None


_LUNBOUND: bool | None = None


def _has_lunbound() -> bool:
    """Whether Prosody's Lua has lua-unbound (then its resolver can read a hosts file of ours)."""
    global _LUNBOUND
    if _LUNBOUND is None:
        lua = shutil.which("lua5.4") or shutil.which("lua")
        try:
            _LUNBOUND = lua is not None and subprocess.run(
                [lua, "-e", 'require"lunbound"'], capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.SubprocessError):
            _LUNBOUND = False
    return _LUNBOUND


def _lua_string(value: str) -> str:
    """Quote a Python string as a Lua string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _lua_list(values: Iterable[str]) -> str:
    """Render strings as a Lua table literal: ``{ "a"; "b" }``."""
    return "{ " + "; ".join(_lua_string(v) for v in values) + " }"


class ProsodyServer(ExternalServer):
    """A Prosody process of our own, listening on loopback only.

    Besides the parameters of :class:`~xmpplab.testing.external.ExternalServer`:
    ``s2s_port`` is the server-to-server port (None, the default, disables s2s
    altogether), with ``s2s_host`` its address and ``hosts`` the addresses of
    peer domains (``{"server2.com": "127.0.0.2"}``, seen only by this Prosody);
    ``disabled_modules`` are disabled even when autoloaded (``mod_limits`` by
    default, because it throttles loopback load); ``muc_component`` is a host
    name such as ``"conference.example.com"`` for a MUC component.

    ``require_encryption`` is ``c2s_require_encryption``: off by default so
    plaintext SCRAM works on loopback; when on, Prosody refuses in-band
    registration and :meth:`register` falls back to ``prosodyctl``.
    ``extra_modules`` are Prosody module names (``("carbons", "smacks")``),
    ``extra_config`` raw Lua for the global section (before the hosts).
    ``c2s_timeout`` is how long an unauthenticated client may take to log in
    (Prosody's default is 300 s); Prosody 0.12.3 never cancels this timer, so
    every connection's session stays in memory that long, and a login
    benchmark sets it low (see benchmarks/NOTES.md).
    """

    name = "prosody"
    label = "Prosody"
    error = ProsodyError
    settle = 0.1   # now and then 0.12 exits right after it starts listening

    def __init__(self, domains: Sequence[str] = ("example.com",), c2s_port: int | None = None,
                 s2s_port: int | None = None, tls: bool = True, allow_registration: bool = True,
                 extra_modules: Sequence[str] = (), disabled_modules: Sequence[str] = ("limits",),
                 muc_component: str | None = None, *, require_encryption: bool = False,
                 c2s_timeout: float | None = None, extra_config: str = "", log_level: str = "info",
                 host: str = "127.0.0.1", workdir: str | os.PathLike | None = None, keep_workdir: bool = False,
                 start_attempts: int = 3, start_timeout: float = 15.0, s2s_host: str | None = None,
                 hosts: dict[str, str] | None = None):
        super().__init__(domains, c2s_port, tls, allow_registration, extra_modules,
                         require_encryption=require_encryption, extra_config=extra_config,
                         log_level=log_level, host=host, workdir=workdir, keep_workdir=keep_workdir,
                         start_attempts=start_attempts, start_timeout=start_timeout)
        self.s2s_port = s2s_port
        self.s2s_host = s2s_host or host
        self.hosts = dict(hosts or {})
        self.c2s_timeout = c2s_timeout
        self.disabled_modules = tuple(disabled_modules)
        self.muc_component = muc_component
        self.data_dir: Path | None = None

    # ------------------------------------------------------------ accounts

    def register(self, user: str, domain: str | None = None, password: str = "password",
                 *, exist_ok: bool = False, timeout: float = 10.0) -> None:
        """Create the account ``user@domain`` (blocking).

        Uses in-band registration when the server allows it (milliseconds),
        otherwise ``prosodyctl register`` with the same config (about a
        second).  With ``exist_ok`` an existing account is not an error (its
        password is then left as it was when registering in-band).
        """
        domain = domain or self.domain
        try:
            asyncio.get_running_loop()
            in_loop = True
        except RuntimeError:
            in_loop = False
        if self._can_register_in_band() and not in_loop:
            asyncio.run(self.aregister(user, domain, password, exist_ok=exist_ok,
                                       timeout=timeout))
        else:
            # No in-band registration, or called from inside a running loop
            # (where asyncio.run is impossible): use prosodyctl.
            try:
                self.register_with_prosodyctl(user, domain, password)
            except RegistrationError:
                if not exist_ok:
                    raise

    async def aregister(self, user: str, domain: str | None = None,
                        password: str = "password", *, exist_ok: bool = False,
                        timeout: float = 10.0) -> None:
        """Create the account ``user@domain`` without blocking the loop."""
        domain = domain or self.domain
        if not self._can_register_in_band():
            await asyncio.to_thread(self.register_with_prosodyctl, user, domain, password)
            return
        await self._register_in_band(register_in_band, user, domain, password, exist_ok, timeout)

    def register_many(self, accounts: Iterable[tuple[str, str, str]],
                      concurrency: int = 16, exist_ok: bool = False) -> None:
        """Blocking :meth:`aregister_many` (not from inside a running loop)."""
        asyncio.run(self.aregister_many(list(accounts), concurrency, exist_ok))

    def register_with_prosodyctl(self, user: str, domain: str, password: str,
                                 timeout: float = 60.0) -> None:
        """Create an account with ``prosodyctl register`` (works while running)."""
        try:
            command = self.ctl_command("register", user, domain, password)
        except ProsodyError as exc:
            raise RegistrationError(str(exc)) from None
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise RegistrationError(
                f"prosodyctl register {user}@{domain} failed ({result.returncode}): "
                f"{result.stdout.strip()} {result.stderr.strip()}")

    def ctl_command(self, *args: str) -> list[str]:
        """The ``prosodyctl --config FILE ARGS`` command line for this server (after it was started)."""
        ctl = prosodyctl_path()
        if ctl is None or self.config_file is None:
            raise ProsodyError("prosodyctl is missing or the server was never started")
        return [ctl, "--config", str(self.config_file), *args]

    def _can_register_in_band(self) -> bool:
        return self.allow_registration and not self.require_encryption and self.running

    # ------------------------------------------------------------- internals

    def _find_binary(self) -> tuple:
        binary = prosody_path()
        if binary is None:
            raise ProsodyError("prosody is not installed (apt-get install prosody)")
        return (binary,)

    def _prepare_files(self) -> None:
        self.data_dir = self.workdir / "data"
        self.data_dir.mkdir(exist_ok=True)
        (self.workdir / "certs").mkdir(exist_ok=True)   # Prosody indexes it at start
        self.config_file = self.workdir / "prosody.cfg.lua"

    def _certificate_domains(self) -> list[str]:
        return self.domains + ([self.muc_component] if self.muc_component else [])

    def render_config(self) -> str:
        """Return the Lua config this server runs with."""
        modules = list(BASE_MODULES)
        if self.tls:
            modules.append("tls")
        if self.allow_registration:
            modules.append("register")
        if self.s2s_port is not None:
            modules.append("dialback")  # XEP-0220; without it Prosody offers no way to authenticate a peer
        modules += [m for m in self.extra_modules if m not in modules]
        disabled = list(self.disabled_modules)
        if self.s2s_port is None:
            disabled += ["s2s", "dialback", "s2s_auth_certs"]
        modules = [m for m in modules if m not in disabled]

        lines = [
            "-- Written by xmpplab.testing.prosody; loopback only.",
            f"pidfile = {_lua_string(str(self.workdir / 'prosody.pid'))}",
            f"data_path = {_lua_string(str(self.data_dir))}",
            f"certificates = {_lua_string(str(self.workdir / 'certs'))}",
            "daemonize = false",
            f"log = {{ {{ levels = {{ min = {_lua_string(self.log_level)} }}; "
            f"to = \"file\"; filename = {_lua_string(str(self.log_file))} }} }}",
            f"interfaces = {_lua_list([self.host])}",
            f"local_interfaces = {_lua_list([self.host])}",
            f"c2s_interfaces = {_lua_list([self.host])}",
            f"c2s_ports = {{ {self.port} }}",
            "c2s_direct_tls_ports = { }",
            "legacy_ssl_ports = { }",
            f"s2s_interfaces = {_lua_list([self.s2s_host])}",
            f"s2s_ports = {{ {self.s2s_port} }}" if self.s2s_port else "s2s_ports = { }",
            "s2s_direct_tls_ports = { }",
            "component_ports = { }",
            "http_ports = { }",
            "https_ports = { }",
            "proxy65_ports = { }",
            f"c2s_require_encryption = {str(self.require_encryption).lower()}",
            *([f"c2s_timeout = {self.c2s_timeout:g}"] if self.c2s_timeout is not None else []),
            "s2s_require_encryption = false",
            "s2s_secure_auth = false",
            "allow_unencrypted_plain_auth = true",
            "authentication = \"internal_hashed\"",
            "storage = \"internal\"",
            f"allow_registration = {str(self.allow_registration).lower()}",
            "min_seconds_between_registrations = 0",
            "registration_throttle_max = 1000000",
            "registration_throttle_period = 1",
            f"modules_enabled = {_lua_list(modules)}",
            f"modules_disabled = {_lua_list(disabled)}",
        ]
        if self.tls:
            lines.append(
                f"ssl = {{ key = {_lua_string(str(self.key_file))}; "
                f"certificate = {_lua_string(str(self.cert_file))} }}")
        if self.hosts and _has_lunbound():
            (self.workdir / "hosts").write_text("".join(f"{a} {n}\n" for n, a in self.hosts.items()))
            os.chmod(self.workdir / "hosts", 0o644)
            # With lua-unbound, Prosody's resolver reads a hosts file of our own (see _spawn otherwise).
            lines.append(f"unbound = {{ hoststxt = {_lua_string(str(self.workdir / 'hosts'))} }}")
        if self.extra_config:
            lines.append(self.extra_config)
        for domain in self.domains:
            lines.append(f"VirtualHost {_lua_string(domain)}")
        if self.muc_component:
            lines.append(f"Component {_lua_string(self.muc_component)} \"muc\"")
        return "\n".join(lines) + "\n"

    def _spawn(self, binary: str) -> subprocess.Popen:
        """Start ``prosody --config FILE -F``, as the prosody user if root.

        mod_posix refuses uid 0, and the prosody binary (unlike prosodyctl)
        does not switch user itself: :meth:`_child_options` does it for it.
        """
        kwargs, env, user = self._child_options()
        if user is not None:
            env.update(HOME=user.pw_dir)
        argv = [binary, "--config", str(self.config_file), "-F"]
        if self.hosts and not _has_lunbound():
            # Prosody resolves a peer's domain itself and dials port 5269 there. Give it host
            # entries in a private mount namespace, so the machine's /etc/hosts stays untouched.
            hosts_file = self.workdir / "hosts"
            lines = [Path("/etc/hosts").read_text(errors="replace")] if Path("/etc/hosts").exists() else []
            lines += [f"{address} {name}" for name, address in self.hosts.items()]
            hosts_file.write_text("\n".join(lines) + "\n")
            os.chmod(hosts_file, 0o644)
            drop = ""
            if user is not None:
                drop = f"setpriv --reuid={user.pw_uid} --regid={user.pw_gid} --clear-groups "
                kwargs.clear()  # unshare and mount need root; setpriv drops to prosody afterwards
            script = (f"mount --bind {shlex.quote(str(hosts_file))} /etc/hosts && exec {drop}"
                      + " ".join(shlex.quote(a) for a in argv))
            argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
        return subprocess.Popen(
            argv,
            cwd=self.workdir, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, **kwargs,
        )


async def register_in_band(host: str, port: int, domain: str, user: str,
                           password: str) -> None:
    """Create ``user@domain`` with XEP-0077 on a fresh, unauthenticated stream.

    Raises :class:`RegistrationError` (with ``condition``, e.g.
    ``"conflict"`` when the user exists) if the server refuses.
    """
    from ..negotiation import ClientNegotiator, Failed, Ready, Send
    from ..stream import StanzaReceived, StreamOpened, StreamParser
    from ..xml import serialize

    reader, writer = await asyncio.open_connection(host, port)
    parser = StreamParser(max_stanza_bytes=16 * 1024 * 1024)
    negotiator = ClientNegotiator(domain, tls="none")  # no credentials: it stops at the first features
    arrived: list = []

    async def next_top_level():
        """Read until the next complete child element of <stream:stream>."""
        while not arrived:
            data = await reader.read(65536)
            if not data:
                raise RegistrationError(f"{host}:{port} closed the stream")
            for event in parser.feed(data):
                if isinstance(event, StanzaReceived):
                    arrived.append(event.element)
                elif not isinstance(event, StreamOpened):  # the stream closed, or broke the XML rules
                    raise RegistrationError(f"{host}:{port} ended the stream: {event}")
        return arrived.pop(0)

    try:
        actions = negotiator.start()  # the stream header, then (on the features) Ready
        while not any(isinstance(action, Ready) for action in actions):
            for action in actions:
                if isinstance(action, Send):
                    writer.write(action.data.encode())
                elif isinstance(action, Failed):
                    raise RegistrationError(action.reason)
            actions = negotiator.element(await next_top_level())
        writer.write(
            "<iq type='set' id='reg1'><query xmlns='jabber:iq:register'>"
            f"<username>{_xml_escape(user)}</username>"
            f"<password>{_xml_escape(password)}</password>"
            "</query></iq>".encode())
        while True:
            element = await next_top_level()
            if element.tag.endswith("}iq") and element.get("id") == "reg1":
                break
            if element.tag == f"{{{STREAM_NS}}}error":
                raise RegistrationError(f"stream error: {serialize(element, None)}")
        if element.get("type") != "result":
            condition = None
            error = element.find("{jabber:client}error")
            if error is not None and len(error):
                condition = error[0].tag.rsplit("}", 1)[-1]
            raise RegistrationError(
                f"registering {user}@{domain} failed: {condition or 'unknown error'}",
                condition)
        writer.write(b"</stream:stream>")
        await writer.drain()
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

