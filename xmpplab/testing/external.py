"""What every launcher of a real XMPP server (Prosody, ejabberd) does the same way.

An :class:`ExternalServer` writes its own config and data into a temporary
folder (never the system service's), generates a self-signed certificate when
TLS is wanted, starts the server as a child process in a session of its own,
waits until the client port accepts connections (retrying a start that died
early), and on stop sends SIGTERM, then SIGKILL to the process group, and
removes the folder. As root, the child runs as the server's own system user,
who is given the folder.

A subclass says what differs: how to find and spawn the binary
(:meth:`~ExternalServer._spawn`), the config it runs with
(:meth:`~ExternalServer.render_config`), the files it needs besides
(:meth:`~ExternalServer._prepare_files`) and how accounts are created.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Self

__all__ = ["ExternalServer", "RegistrationError", "free_port", "write_self_signed_cert"]


class RegistrationError(RuntimeError):
    """An account could not be created (the server's error is in the text)."""

    def __init__(self, message: str, condition: str | None = None):
        super().__init__(message)
        #: The XMPP error condition, e.g. ``"conflict"`` for an existing user.
        self.condition = condition


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(host: str, port: int) -> bool:
    """True if nothing listens on ``host:port`` (so a connect reaches us)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def write_self_signed_cert(domains: Sequence[str], key_file: Path, cert_file: Path) -> None:
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
    now = datetime.datetime.now(datetime.UTC)
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


def end_process(process: subprocess.Popen | None, timeout: float, workdir: Path | None = None) -> int | None:
    """SIGTERM a launched server, wait up to ``timeout``, then SIGKILL its process group; remove ``workdir``
    if given. Returns the exit code (None when there was no process)."""
    code = None
    if process is not None:
        if process.poll() is None:
            try:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)   # not reaped yet: the group is still ours
            except ProcessLookupError:
                pass
        code = process.wait()
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)
    return code


class ExternalServer:
    """A server process of our own, listening on loopback only (see the module docstring).

    Parameters every launcher takes
    -------------------------------
    domains:
        Virtual hosts to serve; the first one is the default for helpers.
    c2s_port:
        Client port; None picks a free one (read it back from :attr:`port`).
    tls:
        Generate a self-signed certificate and offer STARTTLS.
    allow_registration:
        Enable in-band registration (XEP-0077), which ``register`` uses.
    extra_modules:
        Further modules to load.
    require_encryption:
        Clients must use TLS before authenticating.
    extra_config:
        Raw config appended to the generated one.
    log_level:
        The server's log level ("info"; "debug" shows stanzas).
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

    #: The command's name ("prosody"): in messages, the temporary folder's and the log's name, and the
    #: system account it runs as when we are root.
    name = "server"
    #: The name a learner knows it by ("Prosody"; default: :attr:`name`).
    label = ""
    #: The exception raised when it cannot start.
    error: type[Exception] = RuntimeError
    #: Seconds :meth:`stop` waits for a clean exit, and a failed start attempt's.
    stop_timeout = 10.0
    retry_stop_timeout = 3.0
    #: After the port first accepts, wait this long and check the process is still alive.
    settle = 0.0

    def __init__(
        self,
        domains: Sequence[str],
        c2s_port: int | None,
        tls: bool,
        allow_registration: bool,
        extra_modules: Sequence[str],
        *,
        require_encryption: bool,
        extra_config: str,
        log_level: str,
        host: str,
        workdir: str | os.PathLike | None,
        keep_workdir: bool,
        start_attempts: int,
        start_timeout: float,
    ):
        if not domains:
            raise ValueError(f"{type(self).__name__} needs at least one domain")
        self.domains, self.host, self.port = list(domains), host, c2s_port
        self.tls, self.require_encryption, self.allow_registration = tls, require_encryption, allow_registration
        self.extra_modules, self.extra_config, self.log_level = tuple(extra_modules), extra_config, log_level
        self.start_attempts, self.start_timeout = start_attempts, start_timeout
        self.keep_workdir, self._own_workdir, self._workdir_arg = keep_workdir, workdir is None, workdir
        # Made by start(): the folder and its files, then the process.
        self.workdir: Path | None = None
        self.config_file = self.log_file = self.cert_file = self.key_file = None
        self.process: subprocess.Popen | None = None
        self._at_exit: weakref.finalize | None = None

    # ------------------------------------------------------------------ info

    @property
    def pid(self) -> int | None:
        """Process id of the running server (the process that serves)."""
        return self.process.pid if self.process is not None else None

    @property
    def domain(self) -> str:
        """The first (default) domain."""
        return self.domains[0]

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        """Return the server's log so far (empty if there is none yet)."""
        parts = []
        for path in self._log_files():
            try:
                if path is not None and path.exists():
                    parts.append(path.read_text(errors="replace"))
            except OSError:
                pass
        return "\n".join(parts)

    def _log_files(self) -> list[Path | None]:
        return [self.log_file]

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.running else "stopped"
        return f"<{type(self).__name__} {self.host}:{self.port} {self.domains} {state}>"

    # ------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """Write the config, start the server and wait until it listens.

        Raises the launcher's error (``ProsodyError``, ``EjabberdError``) with the
        end of the log when no attempt manages to listen.
        """
        spawn_args = self._find_binary()
        if self.running:
            return self
        self._prepare_workdir()
        if not port_is_free(self.host, self.port):
            self._cleanup_workdir()
            raise self.error(f"{self.host}:{self.port} is already in use")
        last_error = ""
        for _attempt in range(self.start_attempts):
            self.process = self._spawn(*spawn_args)
            ok, last_error = self._wait_listening(self.start_timeout)
            if ok:
                # a notebook or script that ends (or drops the launcher) without stop() leaves no server
                # running behind it: the process is in a session of its own, which the kernel's end would miss
                workdir = self.workdir if self._own_workdir and not self.keep_workdir else None
                self._at_exit = weakref.finalize(self, end_process, self.process, self.stop_timeout, workdir)
                return self
            self._terminate(timeout=self.retry_stop_timeout)
        tail = "\n".join(self.log_text().splitlines()[-30:])
        self._cleanup_workdir()
        raise self.error(
            f"{self.label or self.name} did not listen on {self.host}:{self.port} after "
            f"{self.start_attempts} attempts ({last_error}). Log tail:\n{tail}")

    def stop(self, timeout: float | None = None) -> int | None:
        """Stop the server (SIGTERM, wait, then SIGKILL) and remove the folder.

        Returns the exit code, or None if it was not running.
        """
        code = self._terminate(self.stop_timeout if timeout is None else timeout)
        self._cleanup_workdir()
        return code

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, *exc_info) -> None:
        await asyncio.to_thread(self.stop)

    # ------------------------------------------------------------ accounts

    async def aregister(self, user: str, domain: str | None = None, password: str = "password",
                        *, exist_ok: bool = False, timeout: float = 10.0) -> None:
        """Create the account ``user@domain`` without blocking the loop."""
        raise NotImplementedError

    async def aregister_many(self, accounts: Iterable[tuple[str, str, str]], concurrency: int = 16,
                             exist_ok: bool = False) -> None:
        """Create many ``(user, domain, password)`` accounts concurrently."""
        semaphore = asyncio.Semaphore(concurrency)

        async def one(user: str, domain: str, password: str) -> None:
            async with semaphore:
                await self.aregister(user, domain, password, exist_ok=exist_ok)

        await asyncio.gather(*(one(*account) for account in accounts))

    async def _register_in_band(self, register, user: str, domain: str, password: str,
                                exist_ok: bool, timeout: float) -> None:
        """Run ``register(host, port, domain, user, password)`` (XEP-0077); a conflict is fine with ``exist_ok``."""
        try:
            await asyncio.wait_for(register(self.host, self.port, domain, user, password), timeout)
        except RegistrationError as exc:
            if not (exist_ok and exc.condition == "conflict"):
                raise

    # ------------------------------------------------------------- what a launcher says

    def _find_binary(self) -> tuple:
        """The arguments of :meth:`_spawn`; raise :attr:`error` when the server is not installed."""
        raise NotImplementedError

    def _spawn(self, *args) -> subprocess.Popen:
        """Start the server process, in a session of its own (see :meth:`_child_options`)."""
        raise NotImplementedError

    def render_config(self) -> str:
        """Return the config this server runs with."""
        raise NotImplementedError

    def _prepare_files(self) -> None:
        """Create the launcher's own folders and files in :attr:`workdir` (before the config)."""

    def _certificate_domains(self) -> list[str]:
        return self.domains

    # ------------------------------------------------------------- internals

    def _prepare_workdir(self) -> None:
        """Create the folder, certificate and config (once per object)."""
        if self.workdir is not None and self.config_file and self.config_file.exists():
            return
        if self._own_workdir:
            self.workdir = Path(tempfile.mkdtemp(prefix=f"xmpplab-{self.name}-"))
        else:
            self.workdir = Path(self._workdir_arg)
            self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_file = self.workdir / f"{self.name}.log"
        self._prepare_files()
        if self.port is None:
            self.port = free_port(self.host)
        if self.tls:
            self.key_file = self.workdir / "key.pem"
            self.cert_file = self.workdir / "cert.pem"
            write_self_signed_cert(self._certificate_domains(), self.key_file, self.cert_file)
            self._certificate_written()
        self.config_file.write_text(self.render_config())
        self._chown_for_server(self.workdir)

    def _certificate_written(self) -> None:
        """Called after :attr:`cert_file` and :attr:`key_file` are written."""

    def _run_as(self) -> pwd.struct_passwd | None:
        """The account the server runs as when we are root (None otherwise)."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(self.name)
        except KeyError:
            return None

    def _chown_for_server(self, root: Path) -> None:
        """Give the folder to the server's user, who must write its data there."""
        user = self._run_as()
        if user is None:
            return
        for dirpath, _dirnames, filenames in os.walk(root):
            os.chown(dirpath, user.pw_uid, user.pw_gid)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), user.pw_uid, user.pw_gid)

    def _child_options(self) -> tuple[dict, dict, pwd.struct_passwd | None]:
        """Popen arguments and environment that run the child as the server's user when we are root."""
        kwargs: dict = {}
        env = dict(os.environ)
        user = self._run_as()
        if user is not None:
            kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
            env.update(USER=user.pw_name, LOGNAME=user.pw_name)
        return kwargs, env, user

    def _wait_listening(self, timeout: float) -> tuple[bool, str]:
        """Poll the client port until it accepts, the process dies or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                return False, f"{self.name} exited with code {code}"
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    pass
            except OSError:
                time.sleep(0.05)
                continue
            if not self.settle:
                return True, ""
            # Listening; make sure it did not die right after (seen with Prosody 0.12).
            time.sleep(self.settle)
            if self.process.poll() is None:
                return True, ""
        return False, f"not listening after {timeout:.0f} s"

    def _terminate(self, timeout: float) -> int | None:
        """SIGTERM, wait up to ``timeout``, then SIGKILL the process group; returns the exit code."""
        process, self.process = self.process, None
        if self._at_exit is not None:
            self._at_exit.detach()
            self._at_exit = None
        return end_process(process, timeout)

    def _cleanup_workdir(self) -> None:
        if self._own_workdir and not self.keep_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
            self.config_file = None
