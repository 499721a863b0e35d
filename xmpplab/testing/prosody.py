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
import datetime
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

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


class RegistrationError(RuntimeError):
    """An account could not be created (the server's error is in the text)."""

    def __init__(self, message: str, condition: str | None = None):
        super().__init__(message)
        #: The XMPP error condition, e.g. ``"conflict"`` for an existing user.
        self.condition = condition


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


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _port_is_free(host: str, port: int) -> bool:
    """True if nothing listens on ``host:port`` (so a connect reaches us)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _lua_string(value: str) -> str:
    """Quote a Python string as a Lua string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _lua_list(values: Iterable[str]) -> str:
    """Render strings as a Lua table literal: ``{ "a"; "b" }``."""
    return "{ " + "; ".join(_lua_string(v) for v in values) + " }"


def _write_self_signed_cert(domains: Sequence[str], key_file: Path, cert_file: Path) -> None:
    """Write a self-signed certificate for ``domains`` (and their subdomains)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domains[0])])
    alt_names: list[x509.GeneralName] = []
    for domain in domains:
        alt_names.append(x509.DNSName(domain))
        alt_names.append(x509.DNSName("*." + domain))
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


class ProsodyServer:
    """A Prosody process of our own, listening on loopback only.

    Parameters
    ----------
    domains:
        Virtual hosts to serve; the first one is the default for helpers.
    c2s_port:
        Client port; None picks a free one (read it back from :attr:`port`).
    s2s_port:
        Server-to-server port; None (the default) disables s2s altogether.
    tls:
        Generate a self-signed certificate and offer STARTTLS.
    require_encryption:
        Make clients use TLS before authenticating (``c2s_require_encryption``).
        Off by default so plaintext SCRAM works on loopback; when on, in-band
        registration is refused by Prosody and :meth:`register` falls back to
        ``prosodyctl``.
    allow_registration:
        Enable in-band registration (XEP-0077) on every virtual host.
    extra_modules:
        Further modules to enable, e.g. ``("carbons", "smacks")``.
    disabled_modules:
        Modules to disable, even autoloaded ones; ``mod_limits`` by default
        because it throttles loopback load.
    muc_component:
        A host name such as ``"conference.example.com"`` to add a MUC
        component, or None.
    c2s_timeout:
        Seconds an unauthenticated client may take to log in (Prosody's
        default is 300).  Prosody 0.12.3 never cancels this timer, so every
        connection's session stays in memory that long; a login benchmark
        sets it low (see benchmarks/NOTES.md).
    extra_config:
        Raw Lua appended to the global section (before the hosts).
    log_level:
        Minimum level written to :attr:`log_file` ("debug" shows stanzas).
    host:
        The loopback address to listen on.
    workdir:
        Where to put config, data, certificate and log; default a new
        temporary folder that :meth:`stop` removes.
    keep_workdir:
        Keep the folder after :meth:`stop` (to read the log afterwards).
    start_attempts, start_timeout:
        How often to try starting, and how long each try may take to listen.

    The object is a context manager, synchronous (``with``) and asynchronous
    (``async with``); or call :meth:`start` and :meth:`stop` yourself.
    """

    def __init__(
        self,
        domains: Sequence[str] = ("example.com",),
        c2s_port: int | None = None,
        s2s_port: int | None = None,
        tls: bool = True,
        allow_registration: bool = True,
        extra_modules: Sequence[str] = (),
        disabled_modules: Sequence[str] = ("limits",),
        muc_component: str | None = None,
        *,
        require_encryption: bool = False,
        c2s_timeout: float | None = None,
        extra_config: str = "",
        log_level: str = "info",
        host: str = "127.0.0.1",
        workdir: str | os.PathLike | None = None,
        keep_workdir: bool = False,
        start_attempts: int = 3,
        start_timeout: float = 15.0,
        s2s_host: str | None = None,
        hosts: dict[str, str] | None = None,
    ):
        if not domains:
            raise ValueError("ProsodyServer needs at least one domain")
        self.domains = list(domains)
        self.host = host
        self.port = c2s_port
        self.s2s_port = s2s_port
        self.s2s_host = s2s_host or host
        self.hosts = dict(hosts or {})
        self.tls = tls
        self.require_encryption = require_encryption
        self.c2s_timeout = c2s_timeout
        self.allow_registration = allow_registration
        self.extra_modules = tuple(extra_modules)
        self.disabled_modules = tuple(disabled_modules)
        self.muc_component = muc_component
        self.extra_config = extra_config
        self.log_level = log_level
        self.start_attempts = start_attempts
        self.start_timeout = start_timeout
        self.keep_workdir = keep_workdir
        self._own_workdir = workdir is None
        self._workdir_arg = workdir
        self.workdir: Path | None = None
        self.config_file: Path | None = None
        self.data_dir: Path | None = None
        self.log_file: Path | None = None
        self.cert_file: Path | None = None
        self.key_file: Path | None = None
        self.process: subprocess.Popen | None = None

    # ------------------------------------------------------------------ info

    @property
    def pid(self) -> int | None:
        """Process id of the running Prosody (the process that serves)."""
        return self.process.pid if self.process is not None else None

    @property
    def domain(self) -> str:
        """The first (default) domain."""
        return self.domains[0]

    @property
    def running(self) -> bool:
        """True while the Prosody process is alive."""
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        """Return Prosody's log so far (empty if there is none yet)."""
        try:
            return self.log_file.read_text(errors="replace") if self.log_file else ""
        except OSError:
            return ""

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.running else "stopped"
        return f"<ProsodyServer {self.host}:{self.port} {self.domains} {state}>"

    # ------------------------------------------------------------- lifecycle

    def start(self) -> "ProsodyServer":
        """Write the config, start Prosody and wait until it listens.

        Raises :class:`ProsodyError` with the end of Prosody's log when no
        attempt manages to listen.
        """
        binary = prosody_path()
        if binary is None:
            raise ProsodyError("prosody is not installed (apt-get install prosody)")
        if self.running:
            return self
        self._prepare_workdir()
        if not _port_is_free(self.host, self.port):
            self._cleanup_workdir()
            raise ProsodyError(f"{self.host}:{self.port} is already in use")
        last_error = ""
        for _attempt in range(self.start_attempts):
            self.process = self._spawn(binary)
            ok, last_error = self._wait_listening(self.start_timeout)
            if ok:
                return self
            self._terminate(timeout=3)
        tail = "\n".join(self.log_text().splitlines()[-30:])
        self._cleanup_workdir()
        raise ProsodyError(
            f"Prosody did not listen on {self.host}:{self.port} after "
            f"{self.start_attempts} attempts ({last_error}). Log tail:\n{tail}"
        )

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop Prosody (SIGTERM, wait, then SIGKILL) and remove the folder.

        Returns the exit code, or None if it was not running.
        """
        code = self._terminate(timeout)
        self._cleanup_workdir()
        return code

    def __enter__(self) -> "ProsodyServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    async def __aenter__(self) -> "ProsodyServer":
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, *exc_info) -> None:
        await asyncio.to_thread(self.stop)

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
        try:
            await asyncio.wait_for(
                register_in_band(self.host, self.port, domain, user, password), timeout)
        except RegistrationError as exc:
            if not (exist_ok and exc.condition == "conflict"):
                raise

    async def aregister_many(self, accounts: Iterable[tuple[str, str, str]],
                             concurrency: int = 16, exist_ok: bool = False) -> None:
        """Create many ``(user, domain, password)`` accounts concurrently."""
        semaphore = asyncio.Semaphore(concurrency)

        async def one(user: str, domain: str, password: str) -> None:
            async with semaphore:
                await self.aregister(user, domain, password, exist_ok=exist_ok)

        await asyncio.gather(*(one(*account) for account in accounts))

    def register_many(self, accounts: Iterable[tuple[str, str, str]],
                      concurrency: int = 16, exist_ok: bool = False) -> None:
        """Blocking :meth:`aregister_many` (not from inside a running loop)."""
        asyncio.run(self.aregister_many(list(accounts), concurrency, exist_ok))

    def register_with_prosodyctl(self, user: str, domain: str, password: str,
                                 timeout: float = 60.0) -> None:
        """Create an account with ``prosodyctl register`` (works while running)."""
        ctl = prosodyctl_path()
        if ctl is None or self.config_file is None:
            raise RegistrationError("prosodyctl is missing or the server was never started")
        result = subprocess.run(
            [ctl, "--config", str(self.config_file), "register", user, domain, password],
            capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise RegistrationError(
                f"prosodyctl register {user}@{domain} failed ({result.returncode}): "
                f"{result.stdout.strip()} {result.stderr.strip()}")

    def _can_register_in_band(self) -> bool:
        return self.allow_registration and not self.require_encryption and self.running

    # ------------------------------------------------------------- internals

    def _prepare_workdir(self) -> None:
        """Create the folder, certificate and config (once per object)."""
        if self.workdir is not None and self.config_file and self.config_file.exists():
            return
        if self._own_workdir:
            self.workdir = Path(tempfile.mkdtemp(prefix="xmpplab-prosody-"))
        else:
            self.workdir = Path(self._workdir_arg)
            self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.workdir / "data"
        self.data_dir.mkdir(exist_ok=True)
        (self.workdir / "certs").mkdir(exist_ok=True)   # Prosody indexes it at start
        self.log_file = self.workdir / "prosody.log"
        self.config_file = self.workdir / "prosody.cfg.lua"
        if self.port is None:
            self.port = free_port(self.host)
        if self.tls:
            self.key_file = self.workdir / "key.pem"
            self.cert_file = self.workdir / "cert.pem"
            _write_self_signed_cert(self.domains + ([self.muc_component] if self.muc_component else []),
                                    self.key_file, self.cert_file)
        self.config_file.write_text(self.render_config())
        self._chown_for_prosody(self.workdir)

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

    def _prosody_user(self) -> pwd.struct_passwd | None:
        """The account Prosody runs as when we are root (None otherwise)."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam("prosody")
        except KeyError:
            return None

    def _chown_for_prosody(self, root: Path) -> None:
        """Give the folder to the prosody user, who must write its data there."""
        user = self._prosody_user()
        if user is None:
            return
        for dirpath, dirnames, filenames in os.walk(root):
            os.chown(dirpath, user.pw_uid, user.pw_gid)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), user.pw_uid, user.pw_gid)

    def _spawn(self, binary: str) -> subprocess.Popen:
        """Start ``prosody --config FILE -F``, as the prosody user if root."""
        kwargs: dict = {}
        user = self._prosody_user()
        env = dict(os.environ)
        if user is not None:
            # mod_posix refuses uid 0, and the prosody binary (unlike
            # prosodyctl) does not switch user itself: do it for it.
            kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
            env.update(HOME=user.pw_dir, USER=user.pw_name, LOGNAME=user.pw_name)
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

    def _wait_listening(self, timeout: float) -> tuple[bool, str]:
        """Poll the client port until it accepts, the process dies or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                return False, f"prosody exited with code {code}"
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    pass
            except OSError:
                time.sleep(0.05)
                continue
            # Listening; make sure it did not die right after (seen with 0.12).
            time.sleep(0.1)
            if self.process.poll() is None:
                return True, ""
        return False, f"not listening after {timeout:.0f} s"

    def _terminate(self, timeout: float) -> int | None:
        """SIGTERM, wait up to ``timeout``, then SIGKILL; returns the exit code."""
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            try:
                process.send_signal(signal.SIGTERM)
                return process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
            except ProcessLookupError:
                pass
        return process.wait()

    def _cleanup_workdir(self) -> None:
        if self._own_workdir and not self.keep_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
            self.config_file = None


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
        try:
            await writer.wait_closed()
        except OSError:
            pass


def _xml_escape(text: str) -> str:
    """Escape text for XML character data or a quoted attribute."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&apos;").replace('"', "&quot;"))
