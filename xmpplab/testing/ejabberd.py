"""Start a real ejabberd on loopback, for tests (a second reference server next to Prosody).

ejabberd is an XMPP server written in Erlang; Debian packages it as
``ejabberd``. Like :mod:`xmpplab.testing.prosody`, the launcher never touches
the system service: it writes its own config, spool (Mnesia database) and
log into a temporary folder, generates a self-signed certificate, starts the
Erlang VM as a child process and waits until the client port accepts
connections::

    from xmpplab.testing.ejabberd import EjabberdServer, ejabberd_path

    if ejabberd_path() is None:
        ...  # skip: ejabberd is not installed

    async with EjabberdServer(domains=["example.com"]) as ejabberd:
        await ejabberd.aregister("alice", "example.com", "secret")
        connect_to(ejabberd.host, ejabberd.port)

Facts about the Debian package (23.01) that shape this module:

* ``ejabberdctl`` starts a *distributed* Erlang node, which needs ``epmd``
  (a daemon listening on port 4369 of every interface, outliving the node),
  and goes through ``su``, which resets the open-files limit to 1024. The
  launcher runs ``erl -s ejabberd`` itself instead, as a non-distributed node
  (``nonode@nohost``): no epmd, no Erlang distribution port, nothing listening
  but the client port. ejabberd and Mnesia work fine that way; only
  ``ejabberdctl``, which talks to the node over distribution, cannot reach it.
* Accounts are therefore created by in-band registration (XEP-0077):
  ``mod_register`` on, and ``registration_timeout: infinity``, because by
  default ejabberd allows one registration per IP address every 600 seconds.
* As root the VM runs as the ``ejabberd`` user (as ``ejabberdctl`` would);
  that user owns the temporary folder.
* The listen backlog defaults to 5; the launcher sets 1024.
* ``certfiles`` wants the certificate and the key (PEM); a self-signed one only
  draws a warning in the log.
* Start-up takes about 1.5 s (the VM, then Mnesia creating its tables).
* ejabberd answers a client's ``</stream:stream>`` only after about 100 ms.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Self

from .prosody import (
    RegistrationError,
    _port_is_free,
    _write_self_signed_cert,
    free_port,
    register_in_band,
)

__all__ = [
    "EjabberdError",
    "EjabberdServer",
    "RegistrationError",
    "ejabberd_path",
    "ejabberd_version",
]

#: Modules every launched ejabberd loads.
BASE_MODULES = ("mod_roster", "mod_disco", "mod_ping", "mod_version")
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


class EjabberdError(RuntimeError):
    """ejabberd could not be started, or misbehaved."""


def ejabberd_path() -> str | None:
    """Return the path of ``ejabberdctl`` (it marks an installed ejabberd), or None."""
    return shutil.which("ejabberdctl", path=_SEARCH_PATH)


def _ctl_setting(name: str) -> str | None:
    """Read ``NAME='value'`` or ``NAME="value"`` from the ejabberdctl script (where Debian keeps its paths)."""
    ctl = ejabberd_path()
    if ctl is None:
        return None
    try:
        text = Path(ctl).read_text(errors="replace")
    except OSError:
        return None
    match = re.search(rf"^{name}=['\"]([^'\"]+)['\"]", text, re.MULTILINE)
    return match.group(1) if match else None


def erl_path() -> str | None:
    """The ``erl`` that ejabberdctl would use."""
    erl = _ctl_setting("ERL")
    if erl and os.access(erl, os.X_OK):
        return erl
    return shutil.which("erl")


def erl_libs() -> str | None:
    """The folder holding ejabberd's Erlang applications (``ERL_LIBS``)."""
    libs = _ctl_setting("ERL_LIBS")
    if libs and os.path.isdir(libs):
        return libs
    for app in sorted(glob.glob("/usr/lib/*/ejabberd-*/ebin/ejabberd.app") + glob.glob("/usr/lib/ejabberd-*/ebin/ejabberd.app")):
        return str(Path(app).parents[2])
    return None


def ejabberd_version() -> str | None:
    """Return ejabberd's version (e.g. ``"23.01-1"``) from its application file, or None."""
    libs = erl_libs()
    if libs is None:
        return None
    for app in sorted(glob.glob(os.path.join(libs, "ejabberd-*", "ebin", "ejabberd.app"))):
        try:
            match = re.search(r'\{vsn,\s*"([^"]+)"\}', Path(app).read_text(errors="replace"))
        except OSError:
            continue
        if match:
            return match.group(1)
    return None


def _yaml(value) -> str:
    """A YAML scalar: JSON's quoting is valid YAML."""
    return json.dumps(value)


class EjabberdServer:
    """An ejabberd of our own, listening on loopback only.

    Parameters
    ----------
    domains:
        Virtual hosts to serve; the first one is the default for helpers.
    c2s_port:
        Client port; None picks a free one (read it back from :attr:`port`).
    tls:
        Generate a self-signed certificate and offer STARTTLS.
    require_encryption:
        ``starttls_required``: clients must use TLS before anything else.
        In-band registration then needs TLS too, which :meth:`register` does
        not do, so accounts cannot be created; leave it off for tests that
        need accounts.
    allow_registration:
        Enable in-band registration (XEP-0077), which :meth:`register` uses.
    extra_modules:
        Further modules, e.g. ``("mod_offline", "mod_carboncopy")``.
    extra_config:
        Raw YAML appended to the config (top-level keys).
    log_level:
        ejabberd's ``loglevel`` ("info", "debug" shows stanzas).
    host:
        The loopback address to listen on.
    workdir:
        Where to put config, spool, certificate and log; default a new
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
        tls: bool = True,
        allow_registration: bool = True,
        extra_modules: Sequence[str] = (),
        *,
        require_encryption: bool = False,
        extra_config: str = "",
        log_level: str = "info",
        host: str = "127.0.0.1",
        workdir: str | os.PathLike | None = None,
        keep_workdir: bool = False,
        start_attempts: int = 2,
        start_timeout: float = 30.0,
    ):
        if not domains:
            raise ValueError("EjabberdServer needs at least one domain")
        self.domains = list(domains)
        self.host = host
        self.port = c2s_port
        self.tls = tls
        self.require_encryption = require_encryption
        self.allow_registration = allow_registration
        self.extra_modules = tuple(extra_modules)
        self.extra_config = extra_config
        self.log_level = log_level
        self.start_attempts = start_attempts
        self.start_timeout = start_timeout
        self.keep_workdir = keep_workdir
        self._own_workdir = workdir is None
        self._workdir_arg = workdir
        self.workdir: Path | None = None
        self.config_file: Path | None = None
        self.spool_dir: Path | None = None
        self.log_file: Path | None = None
        self.cert_file: Path | None = None
        self.key_file: Path | None = None
        self.process: subprocess.Popen | None = None

    # ------------------------------------------------------------------ info

    @property
    def pid(self) -> int | None:
        """Process id of the Erlang VM (``beam.smp``) that serves."""
        return self.process.pid if self.process is not None else None

    @property
    def domain(self) -> str:
        """The first (default) domain."""
        return self.domains[0]

    @property
    def running(self) -> bool:
        """True while the ejabberd process is alive."""
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        """Return ejabberd's log so far, with the VM's own output (empty if there is none yet)."""
        parts = []
        for path in (self.log_file, self.workdir / "erl.out" if self.workdir else None):
            try:
                if path is not None and path.exists():
                    parts.append(path.read_text(errors="replace"))
            except OSError:
                pass
        return "\n".join(parts)

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.running else "stopped"
        return f"<EjabberdServer {self.host}:{self.port} {self.domains} {state}>"

    # ------------------------------------------------------------- lifecycle

    def start(self) -> EjabberdServer:
        """Write the config, start ejabberd and wait until it listens.

        Raises :class:`EjabberdError` with the end of the log when no attempt
        manages to listen.
        """
        erl, libs = erl_path(), erl_libs()
        if ejabberd_path() is None or erl is None or libs is None:
            raise EjabberdError("ejabberd is not installed (apt-get install ejabberd)")
        if self.running:
            return self
        self._prepare_workdir()
        if not _port_is_free(self.host, self.port):
            self._cleanup_workdir()
            raise EjabberdError(f"{self.host}:{self.port} is already in use")
        last_error = ""
        for _attempt in range(self.start_attempts):
            self.process = self._spawn(erl, libs)
            ok, last_error = self._wait_listening(self.start_timeout)
            if ok:
                return self
            self._terminate(timeout=5)
        tail = "\n".join(self.log_text().splitlines()[-30:])
        self._cleanup_workdir()
        raise EjabberdError(
            f"ejabberd did not listen on {self.host}:{self.port} after "
            f"{self.start_attempts} attempts ({last_error}). Log tail:\n{tail}")

    def stop(self, timeout: float = 15.0) -> int | None:
        """Stop ejabberd (SIGTERM: a clean Erlang shutdown; SIGKILL after ``timeout``) and remove the folder.

        Returns the exit code, or None if it was not running.
        """
        code = self._terminate(timeout)
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

    def register(self, user: str, domain: str | None = None, password: str = "password",
                 *, exist_ok: bool = False, timeout: float = 10.0) -> None:
        """Create ``user@domain`` by in-band registration (blocking; not from inside a running loop)."""
        asyncio.run(self.aregister(user, domain, password, exist_ok=exist_ok, timeout=timeout))

    async def aregister(self, user: str, domain: str | None = None, password: str = "password",
                        *, exist_ok: bool = False, timeout: float = 10.0) -> None:
        """Create ``user@domain`` by in-band registration (XEP-0077) without blocking the loop.

        With ``exist_ok`` an existing account is not an error (its password is left as it was).
        """
        domain = domain or self.domain
        if not (self.allow_registration and self.running):
            raise RegistrationError("in-band registration is off, or ejabberd is not running")
        if self.require_encryption:
            raise RegistrationError("require_encryption is on: ejabberd refuses registration before TLS, "
                                    "and this helper registers over a plain stream")
        try:
            await asyncio.wait_for(register_in_band(self.host, self.port, domain, user, password), timeout)
        except RegistrationError as exc:
            if not (exist_ok and exc.condition == "conflict"):
                raise

    async def aregister_many(self, accounts: Iterable[tuple[str, str, str]], concurrency: int = 16,
                             exist_ok: bool = False) -> None:
        """Create many ``(user, domain, password)`` accounts concurrently."""
        semaphore = asyncio.Semaphore(concurrency)

        async def one(user: str, domain: str, password: str) -> None:
            async with semaphore:
                await self.aregister(user, domain, password, exist_ok=exist_ok)

        await asyncio.gather(*(one(*account) for account in accounts))

    # ------------------------------------------------------------- internals

    def _prepare_workdir(self) -> None:
        """Create the folder, certificate and config (once per object)."""
        if self.workdir is not None and self.config_file and self.config_file.exists():
            return
        if self._own_workdir:
            self.workdir = Path(tempfile.mkdtemp(prefix="xmpplab-ejabberd-"))
        else:
            self.workdir = Path(self._workdir_arg)
            self.workdir.mkdir(parents=True, exist_ok=True)
        self.spool_dir = self.workdir / "spool"
        self.spool_dir.mkdir(exist_ok=True)
        self.log_file = self.workdir / "ejabberd.log"
        self.config_file = self.workdir / "ejabberd.yml"
        if self.port is None:
            self.port = free_port(self.host)
        if self.tls:
            self.key_file = self.workdir / "key.pem"
            self.cert_file = self.workdir / "cert.pem"
            _write_self_signed_cert(self.domains, self.key_file, self.cert_file)
            # ejabberd's certfiles take certificate and key together.
            (self.workdir / "cert-and-key.pem").write_bytes(
                self.cert_file.read_bytes() + self.key_file.read_bytes())
        self.config_file.write_text(self.render_config())
        self._chown_for_ejabberd(self.workdir)

    def render_config(self) -> str:
        """Return the YAML config this server runs with."""
        modules = list(BASE_MODULES)
        if self.allow_registration:
            modules.append("mod_register")
        modules += [m for m in self.extra_modules if m not in modules]
        listener = [
            f"    port: {int(self.port)}",
            f"    ip: {_yaml(self.host)}",
            "    module: ejabberd_c2s",
            "    max_stanza_size: 262144",
            "    backlog: 1024",
        ]
        if self.tls:
            listener.append("    starttls: true")
            if self.require_encryption:
                listener.append("    starttls_required: true")
        lines = [
            "# Written by xmpplab.testing.ejabberd; loopback only.",
            f"loglevel: {self.log_level}",
            "log_rotate_count: 0",
            "hosts:",
            *(f"  - {_yaml(d)}" for d in self.domains),
        ]
        if self.tls:
            lines += ["certfiles:", f"  - {_yaml(str(self.workdir / 'cert-and-key.pem'))}"]
        lines += [
            "listen:",
            "  -",
            *listener,
            "auth_method: internal",
            "auth_password_format: scram",
            # By default one in-band registration per IP address every 600 s.
            "registration_timeout: infinity",
            "acl:",
            "  loopback:",
            "    ip:",
            "      - 127.0.0.0/8",
            "      - ::1/128",
            "access_rules:",
            "  register:",
            "    allow: all",
            "  c2s:",
            "    allow: all",
            "shaper_rules:",
            "  max_user_sessions: 100",
            "modules:",
        ]
        for module in modules:
            if module == "mod_register":
                lines += ["  mod_register:", "    access: register", "    ip_access: all"]
            elif module == "mod_version":
                lines += ["  mod_version:", "    show_os: false"]
            else:
                lines.append(f"  {module}: {{}}")
        if self.extra_config:
            lines.append(self.extra_config)
        return "\n".join(lines) + "\n"

    def _ejabberd_user(self) -> pwd.struct_passwd | None:
        """The account ejabberd runs as when we are root (None otherwise)."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam("ejabberd")
        except KeyError:
            return None

    def _chown_for_ejabberd(self, root: Path) -> None:
        user = self._ejabberd_user()
        if user is None:
            return
        for dirpath, _dirnames, filenames in os.walk(root):
            os.chown(dirpath, user.pw_uid, user.pw_gid)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), user.pw_uid, user.pw_gid)

    def _spawn(self, erl: str, libs: str) -> subprocess.Popen:
        """Start ``erl -noinput -mnesia dir ... -s ejabberd`` (a non-distributed node)."""
        kwargs: dict = {}
        env = dict(os.environ)
        user = self._ejabberd_user()
        if user is not None:
            kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
            env.update(USER=user.pw_name, LOGNAME=user.pw_name)
        env.update(
            HOME=str(self.workdir),
            EJABBERD_CONFIG_PATH=str(self.config_file),
            EJABBERD_LOG_PATH=str(self.log_file),
            ERL_LIBS=libs,
            ERL_CRASH_DUMP=str(self.workdir / "erl_crash.dump"),
            ERL_CRASH_DUMP_BYTES="0",
        )
        with open(self.workdir / "erl.out", "ab") as out:   # the child keeps its own copy of the file
            return subprocess.Popen(
                [erl, "-noinput", "+K", "true", "-mnesia", "dir", f'"{self.spool_dir}"', "-s", "ejabberd"],
                cwd=self.workdir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, **kwargs)

    def _wait_listening(self, timeout: float) -> tuple[bool, str]:
        """Poll the client port until it accepts, the process dies or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                return False, f"ejabberd exited with code {code}"
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return True, ""
            except OSError:
                time.sleep(0.05)
        return False, f"not listening after {timeout:.0f} s"

    def _terminate(self, timeout: float) -> int | None:
        """SIGTERM (Erlang shuts down cleanly), wait up to ``timeout``, then SIGKILL the process group."""
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            try:
                process.send_signal(signal.SIGTERM)
                return process.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)   # not reaped yet: the group is still ours
                except ProcessLookupError:
                    pass
            except ProcessLookupError:
                pass
        # erl_child_setup, the VM's helper in the same process group, exits with the VM.
        return process.wait()

    def _cleanup_workdir(self) -> None:
        if self._own_workdir and not self.keep_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
            self.config_file = None
